"""Hello, world: a resource tree on a Site, fetched once with http.client."""

import http.client

from fw.internet import task, threads
from fw.web.resource import Resource
from fw.web.server import Site


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request):
        name = request.args.get(b"name", [b"world"])[0]
        return b"Hello, " + name + b"!\n"


def fetch(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/?name=fw")
    response = conn.getresponse()
    print(response.status, response.read().decode(), end="")


async def main(reactor):
    port = reactor.listenTCP(0, Site(Hello()), interface="127.0.0.1")
    await threads.deferToThread(fetch, port.getHost().port)
    await port.stopListening()


task.react(main)
