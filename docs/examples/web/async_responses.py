"""
Asynchronous responses, as Twisted's "Asynchronous Responses" howto shows:
``render_GET`` returns ``NOT_DONE_YET`` and finishes the request later, and
``notifyFinish`` says whether the client stayed for the answer.

Beyond Twisted, a render method may also return a Deferred or be a
coroutine: what it eventually returns is the body.
"""

import http.client

from fw.internet import task, threads
from fw.web.resource import Resource
from fw.web.server import NOT_DONE_YET, Site


class DelayedResource(Resource):
    isLeaf = True

    def __init__(self, reactor):
        super().__init__()
        self.reactor = reactor

    def _delayedRender(self, request):
        request.write(b"<html><body>Sorry to keep you waiting.</body></html>")
        request.finish()

    def render_GET(self, request):
        call = self.reactor.callLater(0.1, self._delayedRender, request)
        request.notifyFinish().addErrback(lambda reason: call.cancel())
        return NOT_DONE_YET


class CoroutineResource(Resource):
    isLeaf = True

    def __init__(self, reactor):
        super().__init__()
        self.reactor = reactor

    async def render_GET(self, request):
        await task.deferLater(self.reactor, 0.1)
        request.setHeader(b"content-type", b"text/plain")
        return b"computed after a pause, by a coroutine"


def fetch(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for path in ("/delayed", "/coroutine"):
        conn.request("GET", path)
        response = conn.getresponse()
        print(path, response.status, response.getheader("Content-Type"), response.read().decode())
    conn.close()


async def main(reactor):
    root = Resource()
    root.putChild(b"delayed", DelayedResource(reactor))
    root.putChild(b"coroutine", CoroutineResource(reactor))
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(fetch, port.getHost().port)
    await port.stopListening()


task.react(main)
