"""
Following redirects, after the "Handling HTTP redirects" section of
Twisted's "Using the Agent" howto.  ``RedirectAgent`` follows 301, 302, 307
and 308 for GET and HEAD and turns a 303 into a GET;
``BrowserLikeRedirectAgent`` also turns a redirected POST into a GET, as
browsers do.  Each response's ``previousResponse`` is the one it was
redirected from.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet.task import react
from fw.web.client import Agent, BrowserLikeRedirectAgent, RedirectAgent, readBody


class Redirects(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, location=None, body=b""):
        self.send_response(code)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/old":
            self.reply(301, "/moved")
        elif self.path == "/moved":
            self.reply(302, "/final")
        else:
            self.reply(200, body=f"{self.command} {self.path}\n".encode())

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply(302, "/after-post")

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirects)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = b"http://127.0.0.1:%d" % server.server_address[1]
    try:
        agent = RedirectAgent(Agent(reactor))
        response = await agent.request(b"GET", base + b"/old")
        print("final:", (await readBody(response)).decode(), end="")
        codes = []
        while response.previousResponse is not None:
            response = response.previousResponse
            codes.append(response.code)
        print("redirected by:", codes)

        agent = BrowserLikeRedirectAgent(Agent(reactor))
        response = await agent.request(b"POST", base + b"/form")
        print("after POST:", (await readBody(response)).decode(), end="")
    finally:
        server.shutdown()


react(main)
