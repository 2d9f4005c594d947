"""
Decompressing responses, after the "Handling gzip-encoded responses"
section of Twisted's "Using the Agent" howto: ``ContentDecoderAgent`` sends
``Accept-Encoding: gzip`` and, when the server compresses the body, wraps
the response in a ``GzipDecoder`` that delivers it decompressed.
"""

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet.task import react
from fw.web.client import Agent, ContentDecoderAgent, GzipDecoder, readBody


class Compressing(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"all work and no play makes jack a dull boy\n" * 100
        self.send_response(200)
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Compressing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = b"http://127.0.0.1:%d/" % server.server_address[1]
    try:
        agent = ContentDecoderAgent(Agent(reactor), [(b"gzip", GzipDecoder)])
        response = await agent.request(b"GET", url)
        print("decoded by:", type(response).__name__)
        body = await readBody(response)
        print("decompressed length:", len(body))
        print("first line:", body.splitlines()[0].decode())
    finally:
        server.shutdown()


react(main)
