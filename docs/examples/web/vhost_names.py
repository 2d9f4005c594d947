"""
Name-based virtual hosting, as Twisted's ``vhost.NameVirtualHost`` does:
one server, one port, a different site for each ``Host`` header, and a
default for the rest.  ``VHostMonsterResource`` lets a front-end proxy say
which scheme, host and port the client really used: here the proxy in
front of ``www.example.com`` forwards the shop's HTTPS traffic, and the
request is served by the shop as if it had arrived as
``https://shop.example/where``.
"""

import http.client

from fw.internet import task, threads
from fw.web.resource import Resource
from fw.web.server import Site
from fw.web.static import Data
from fw.web.vhost import NameVirtualHost, VHostMonsterResource


class WhereAmI(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"this page is " + request.prePathURL()


def client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for host, path in [
        ("www.example.com", "/"),
        ("blog.example.com:8080", "/"),
        ("unknown.example", "/"),
        ("www.example.com", "/vhost/https/shop.example:443/where"),
    ]:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        print(f"{host}{path} -> {conn.getresponse().read().decode()}")
    conn.close()


async def main(reactor):
    www = Resource()
    www.putChild(b"", Data(b"the main site", "text/plain"))
    www.putChild(b"vhost", VHostMonsterResource())
    shop = Resource()
    shop.putChild(b"where", WhereAmI())
    root = NameVirtualHost()
    root.addHost(b"www.example.com", www)
    root.addHost(b"blog.example.com", Data(b"the blog", "text/plain"))
    root.addHost(b"shop.example", shop)
    root.default = Data(b"no such site here", "text/plain")
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(client, port.getHost().port)
    await port.stopListening()


task.react(main)
