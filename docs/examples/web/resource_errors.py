"""
Error handling, as Twisted's "Error Handling" howto shows: ``NoResource`` and
``ErrorPage`` for 4xx pages, an exception in ``render`` becomes a 500 page
(tracebacks only with ``displayTracebacks``), an unsupported method a 405
with ``Allow``.
"""

import http.client

from fw.internet import task, threads
from fw.web.resource import ErrorPage, NoResource, Resource
from fw.web.server import Site


class Greeter(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"hello"


class Broken(Resource):
    isLeaf = True

    def render_GET(self, request):
        raise RuntimeError("the database is on fire")


class Root(Resource):
    def getChild(self, name, request):
        if name == b"gone":
            return ErrorPage(410, "Gone", "This page has moved on.")
        return NoResource("Nothing called that here.")


def fetch(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for method, path in [
        ("GET", "/greeter"),
        ("DELETE", "/greeter"),
        ("GET", "/gone"),
        ("GET", "/x"),
        ("GET", "/broken"),
    ]:
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read()
        allow = response.getheader("Allow")
        extra = f" Allow: {allow}" if allow else ""
        print(
            method,
            path,
            response.status,
            response.reason + extra,
            "| traceback shown:",
            b"on fire" in body,
        )
    conn.close()


async def main(reactor):
    root = Root()
    root.putChild(b"greeter", Greeter())
    root.putChild(b"broken", Broken())
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(fetch, port.getHost().port)
    await port.stopListening()


task.react(main)
