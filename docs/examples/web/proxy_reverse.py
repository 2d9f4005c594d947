"""
A reverse proxy, as Twisted's howto "Twisted Web Development: proxies"
shows with ``ReverseProxyResource``: requests below ``/app`` are forwarded
to another HTTP server, and its responses streamed back.

The howto proxies a public web site; here the upstream is a second fw.web
site on a free port of 127.0.0.1.
"""

import http.client

from fw.internet import task, threads
from fw.web.proxy import ReverseProxyResource
from fw.web.resource import Resource
from fw.web.server import Site


class Upstream(Resource):
    isLeaf = True

    def render_GET(self, request):
        host = request.getHeader(b"host").split(b":")[0]
        return b"upstream saw " + request.uri + b" for host " + host + b"\n"


def client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for path in ["/app/index.html", "/app/a/b?x=1"]:
        conn.request("GET", path)
        response = conn.getresponse()
        print(path, "->", response.status, response.read().decode(), end="")
    conn.close()


async def main(reactor):
    upstream = reactor.listenTCP(0, Site(Upstream()), interface="127.0.0.1")
    root = Resource()
    root.putChild(b"app", ReverseProxyResource("127.0.0.1", upstream.getHost().port, b"/backend"))
    front = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(client, front.getHost().port)
    await front.stopListening()
    await upstream.stopListening()


task.react(main)
