"""
Reading a whole body with ``readBody``, after the howto's ``readBody``
example; here as a coroutine run by ``task.react``.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet.task import react
from fw.web.client import Agent, readBody


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = f"you asked for {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = b"http://127.0.0.1:%d/some/page?x=1" % server.server_address[1]
    try:
        response = await Agent(reactor).request(b"GET", url)
        body = await readBody(response)
        print("Response code:", response.code)
        print("Body:", body.decode(), end="")
    finally:
        server.shutdown()


react(main)
