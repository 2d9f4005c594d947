"""
A forward HTTP proxy, as Twisted's howto "proxies" builds with
``proxy.Proxy``: clients send it absolute URLs, and ``CONNECT host:port``
opens a tunnel through it (how HTTPS goes through a proxy).

``CONNECT`` may only reach port 443 by default, so that the proxy cannot
be used to reach arbitrary services; this example widens ``connectPorts``
to its own upstream.  The client is Python's http.client, once with an
absolute URL and once through a tunnel (``set_tunnel``).
"""

import http.client

from fw.internet import task, threads
from fw.web import proxy
from fw.web.http import HTTPFactory
from fw.web.resource import Resource
from fw.web.server import Site


class Upstream(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"upstream answered " + request.uri + b"\n"


def client(proxyPort, upstreamPort):
    conn = http.client.HTTPConnection("127.0.0.1", proxyPort)
    conn.request("GET", f"http://127.0.0.1:{upstreamPort}/via/absolute-url")
    print("absolute URL:", conn.getresponse().read().decode(), end="")
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", proxyPort)
    conn.set_tunnel("127.0.0.1", upstreamPort)
    conn.request("GET", "/through/the/tunnel")
    print("CONNECT tunnel:", conn.getresponse().read().decode(), end="")
    conn.close()


async def main(reactor):
    upstream = reactor.listenTCP(0, Site(Upstream()), interface="127.0.0.1")
    upstreamPort = upstream.getHost().port

    class Request(proxy.ProxyRequest):
        connectPorts = frozenset({upstreamPort})

    class Proxy(proxy.Proxy):
        requestFactory = Request

    factory = HTTPFactory()
    factory.protocol = Proxy
    front = reactor.listenTCP(0, factory, interface="127.0.0.1")
    await threads.deferToThread(client, front.getHost().port, upstreamPort)
    await front.stopListening()
    await upstream.stopListening()


task.react(main)
