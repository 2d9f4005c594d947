"""
Cookies, after the "Handling HTTP cookies" section of Twisted's "Using the
Agent" howto: ``CookieAgent`` keeps the cookies servers set in a standard
``http.cookiejar.CookieJar`` and sends them back.
"""

import threading
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet.task import react
from fw.web.client import Agent, CookieAgent, readBody


class Cookies(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = f"cookie header: {self.headers.get('Cookie')}\n".encode()
        self.send_response(200)
        if self.path == "/login":
            self.send_header("Set-Cookie", "session=s3cr3t; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Cookies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = b"http://127.0.0.1:%d" % server.server_address[1]
    cookieJar = CookieJar()
    agent = CookieAgent(Agent(reactor), cookieJar)
    try:
        for path in [b"/login", b"/account"]:
            response = await agent.request(b"GET", base + path)
            print(path.decode(), "->", (await readBody(response)).decode(), end="")
        for cookie in cookieJar:
            print("in the jar:", cookie.name, "=", cookie.value)
    finally:
        server.shutdown()


react(main)
