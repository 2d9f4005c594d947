"""
Distributed web serving over Perspective Broker, Twisted's ``distrib``: a
process publishes its site with ``ResourcePublisher``; the front server
mounts it with ``ResourceSubscription`` and forwards requests there.

Both ends run in this one process for the example; in real use the
publisher is another program (another user's, for ``UserDirectory``), on
a TCP port or a UNIX socket.
"""

import http.client

from fw.internet import task, threads
from fw.spread import pb
from fw.web.distrib import ResourcePublisher, ResourceSubscription
from fw.web.resource import Resource
from fw.web.server import Site
from fw.web.static import Data


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        name = request.args.get(b"name", [b"world"])[0]
        return b"published site says hello to " + name + b" (path " + request.uri + b")"


def client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for path in ["/", "/remote/hello?name=fw", "/remote/static"]:
        conn.request("GET", path)
        response = conn.getresponse()
        print(path, "->", response.status, response.read().decode())
    conn.close()


async def main(reactor):
    published = Resource()
    published.putChild(b"hello", Hello())
    published.putChild(b"static", Data(b"a static page of the published site", "text/plain"))
    pbPort = reactor.listenTCP(
        0, pb.PBServerFactory(ResourcePublisher(Site(published))), interface="127.0.0.1"
    )

    front = Resource()
    front.putChild(b"", Data(b"the front server", "text/plain"))
    front.putChild(b"remote", ResourceSubscription("127.0.0.1", pbPort.getHost().port))
    webPort = reactor.listenTCP(0, Site(front), interface="127.0.0.1")
    await threads.deferToThread(client, webPort.getHost().port)
    await webPort.stopListening()
    await pbPort.stopListening()


task.react(main)
