"""
Issuing a request with Agent, after the first example of Twisted's "Using
the Agent" howto: the Deferred fires with the response as soon as its
headers arrive.

The howto requests http://example.com/; here the program first starts
Python's own http.server on a free port of 127.0.0.1, so that it runs
anywhere and stops.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet import reactor
from fw.web.client import Agent
from fw.web.http_headers import Headers


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"hello from http.server\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = b"http://127.0.0.1:%d/" % server.server_address[1]

agent = Agent(reactor)
d = agent.request(b"GET", url, Headers({"User-Agent": ["fw Web Client Example"]}), None)


def cbResponse(response):
    print("Response received")
    print("Response code:", response.code, response.phrase.decode())
    print("Content-Type:", response.headers.getRawHeaders("content-type"))
    print("Response length:", response.length)


d.addCallback(cbResponse)


def cbShutdown(ignored):
    server.shutdown()
    reactor.stop()


d.addBoth(cbShutdown)
reactor.run()
