"""
Persistent connections, after the "HTTP Persistent Connection" section of
Twisted's "Using the Agent" howto: an ``HTTPConnectionPool`` keeps
connections open between requests (here three requests share one
connection), and ``closeCachedConnections`` closes them at the end.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet.task import react
from fw.web.client import Agent, HTTPConnectionPool, readBody


class Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    clients = set()

    def do_GET(self):
        Counting.clients.add(self.client_address)
        body = f"request for {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = b"http://127.0.0.1:%d" % server.server_address[1]
    pool = HTTPConnectionPool(reactor)
    agent = Agent(reactor, pool=pool)
    try:
        for path in [b"/a", b"/b", b"/c"]:
            response = await agent.request(b"GET", base + path)
            print((await readBody(response)).decode(), end="")
        print("connections used:", len(Counting.clients))
        await pool.closeCachedConnections()
    finally:
        server.shutdown()


react(main)
