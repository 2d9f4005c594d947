"""
Dynamic pages and dynamic URL dispatch, as Twisted's web howtos ("Generating
a Page Dynamically", "Dynamic URL Dispatch", "Handling POSTs") show.

``/calendar/2026`` is found by ``Calendar.getChild``; ``/form`` answers GET
with a form and POST with what was sent.  The script fetches a few pages with
Python's http.client (in a thread, since it blocks) and prints them.
"""

import html
import http.client

from fw.internet import task, threads
from fw.web.resource import Resource
from fw.web.server import Site


class YearPage(Resource):
    isLeaf = True

    def __init__(self, year):
        super().__init__()
        self.year = year

    def render_GET(self, request):
        return f"<html><body>Calendar for {self.year}</body></html>".encode()


class Calendar(Resource):
    def getChild(self, name, request):
        return YearPage(int(name))


class FormPage(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b'<html><body><form method="POST"><input name="the-field"></form></body></html>'

    def render_POST(self, request):
        value = request.args[b"the-field"][0].decode()
        return f"<html><body>You submitted: {html.escape(value)}</body></html>".encode()


def fetch(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for method, path, body in [
        ("GET", "/calendar/2026", None),
        ("POST", "/form", "the-field=%3Cb%3Ehi%3C%2Fb%3E"),
        ("GET", "/nowhere", None),
    ]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        print(method, path, "->", response.status, " ".join(response.read().decode().split())[:60])
    conn.close()


async def main(reactor):
    root = Resource()
    root.putChild(b"calendar", Calendar())
    root.putChild(b"form", FormPage())
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(fetch, port.getHost().port)
    await port.stopListening()


task.react(main)
