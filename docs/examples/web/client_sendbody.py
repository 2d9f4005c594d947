"""
Sending a request body, after the "Providing a Request Body" example of
Twisted's "Using the Agent" howto: a body is an IBodyProducer.  The howto's
``BytesProducer`` writes bytes it already holds; ``FileBodyProducer`` reads a
file a piece at a time.  A body whose ``length`` is ``UNKNOWN_LENGTH`` is
sent with chunked transfer coding.
"""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zope.interface import implementer

from fw.internet.defer import succeed
from fw.internet.task import react
from fw.web.client import UNKNOWN_LENGTH, Agent, FileBodyProducer, readBody
from fw.web.http_headers import Headers
from fw.web.iweb import IBodyProducer


@implementer(IBodyProducer)
class BytesProducer:
    def __init__(self, body):
        self.body = body
        self.length = len(body)

    def startProducing(self, consumer):
        consumer.write(self.body)
        return succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class Pipe(io.BytesIO):
    """A file that cannot seek, so its length is not known in advance."""

    def seek(self, *args):
        raise OSError("not seekable")


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        if self.headers["Transfer-Encoding"] == "chunked":
            framing, received = "chunked", b""
            while size := int(self.rfile.readline(), 16):
                received += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            framing = "Content-Length " + self.headers["Content-Length"]
            received = self.rfile.read(int(self.headers["Content-Length"]))
        body = f"{framing}: {received.decode()!r}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


async def main(reactor):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = b"http://127.0.0.1:%d/" % server.server_address[1]
    agent = Agent(reactor)
    headers = Headers({"Content-Type": ["text/plain"]})
    try:
        for producer in [
            BytesProducer(b"hello, world"),
            FileBodyProducer(io.BytesIO(b"from a file")),
            FileBodyProducer(Pipe(b"from a pipe")),
        ]:
            unknown = producer.length is UNKNOWN_LENGTH
            response = await agent.request(b"POST", url, headers, producer)
            print("length known:", not unknown, "->", (await readBody(response)).decode(), end="")
    finally:
        server.shutdown()


react(main)
