"""
Receiving a response's body with a protocol, after the "Receiving Responses"
example of Twisted's "Using the Agent" howto: ``deliverBody`` feeds the body
to ``dataReceived`` as it arrives, and ``connectionLost`` says how it ended
(``ResponseDone`` when all of it came).

A local http.server on a free port stands in for the howto's example.com.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fw.internet import reactor
from fw.internet.defer import Deferred
from fw.internet.protocol import Protocol
from fw.web.client import Agent, ResponseDone


class Poem(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"Tyger Tyger, burning bright,\nIn the forests of the night;\n" * 20
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class BeginningPrinter(Protocol):
    def __init__(self, finished):
        self.finished = finished
        self.beginning = b""
        self.received = 0

    def dataReceived(self, bytes):
        # The body may come in pieces of any size: print its first 60 bytes
        # once they are all here.
        self.received += len(bytes)
        if len(self.beginning) < 60:
            self.beginning += bytes[: 60 - len(self.beginning)]
            if len(self.beginning) == 60:
                print("Some data received:")
                print(self.beginning.decode())

    def connectionLost(self, reason):
        print("Finished receiving body:", reason.check(ResponseDone).__name__)
        print("Bytes received:", self.received)
        self.finished.callback(None)


server = ThreadingHTTPServer(("127.0.0.1", 0), Poem)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = b"http://127.0.0.1:%d/" % server.server_address[1]

agent = Agent(reactor)
d = agent.request(b"GET", url)


def cbRequest(response):
    print("Response version:", response.version)
    print("Response code:", response.code)
    print("Response phrase:", response.phrase)
    print("Response length:", response.length)
    finished = Deferred()
    response.deliverBody(BeginningPrinter(finished))
    return finished


d.addCallback(cbRequest)


def cbShutdown(ignored):
    server.shutdown()
    reactor.stop()


d.addBoth(cbShutdown)
reactor.run()
