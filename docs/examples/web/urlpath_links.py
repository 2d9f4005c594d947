"""
Building links with ``URLPath``: alone, and from ``request.URLPath()`` in a
resource.  The script fetches ``/docs/intro`` with Python's http.client (in a
thread, since it blocks) and prints the links the page made.  The listening
port changes from run to run, so it is printed as PORT.
"""

import http.client

from fw.internet import task, threads
from fw.python.urlpath import URLPath
from fw.web.resource import Resource
from fw.web.server import Site

url = URLPath.fromString("http://example.com/docs/intro?lang=en#top")
print(url.child(b"part1"))
print(url.sibling(b"install", keepQuery=True))
print(url.here())
print(url.parent())
print(url.click(b"../api/index.html"))


class Page(Resource):
    isLeaf = True

    def render_GET(self, request):
        here = request.URLPath()
        links = [here, here.sibling(b"install"), here.parent(), here.click(b"/search?q=fw")]
        request.setHeader(b"content-type", b"text/plain")
        return b"\n".join(bytes(link) for link in links)


def fetch(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/docs/intro", headers={"Host": "example.com"})
    body = conn.getresponse().read().decode()
    conn.close()
    print(body.replace(str(port), "PORT"))


async def main(reactor):
    docs = Resource()
    docs.putChild(b"intro", Page())
    root = Resource()
    root.putChild(b"docs", docs)
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(fetch, port.getHost().port)
    await port.stopListening()


task.react(main)
