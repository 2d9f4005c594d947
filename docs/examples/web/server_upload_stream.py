"""
Streaming a request body while it arrives (beyond Twisted): a resource with
``streamingRequestBody = True`` is rendered as soon as the request head is in,
and ``request.deliverBody(protocol)`` feeds it the body piece by piece, with
flow control, instead of spooling it all to ``request.content`` first.
"""

import hashlib
import http.client

from fw.internet import task, threads
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Protocol
from fw.web.resource import Resource
from fw.web.server import NOT_DONE_YET, Site


class Digest(Protocol):
    def __init__(self, request):
        self.request = request
        self.hash = hashlib.sha256()
        self.size = 0

    def dataReceived(self, data):
        self.hash.update(data)
        self.size += len(data)

    def connectionLost(self, reason):
        if reason.check(ConnectionDone):
            self.request.write(
                b"%d bytes, sha256 %s\n" % (self.size, self.hash.hexdigest()[:16].encode())
            )
            self.request.finish()


class Upload(Resource):
    isLeaf = True
    streamingRequestBody = True

    def render_PUT(self, request):
        request.deliverBody(Digest(request))
        return NOT_DONE_YET


def upload(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    chunks = (bytes([i % 256]) * 65536 for i in range(64))  # 4 MiB, sent chunked
    conn.request("PUT", "/upload", body=chunks, encode_chunked=True)
    print(conn.getresponse().read().decode(), end="")
    conn.close()


async def main(reactor):
    port = reactor.listenTCP(0, Site(Upload()), interface="127.0.0.1")
    await threads.deferToThread(upload, port.getHost().port)
    await port.stopListening()


task.react(main)
