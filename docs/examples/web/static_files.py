"""
Serving static files, as Twisted's howto "Serving Static Content From a
Directory" shows, with what a browser or a download manager asks of it:
a directory listing, a byte range, a conditional request, and an attempt
to climb out of the served directory.

The howto serves /tmp on port 8080 forever; here a temporary directory is
served on a free port of 127.0.0.1 and fetched with Python's http.client
(in a thread, since it blocks) before the script stops.
"""

import http.client
import pathlib
import re
import tempfile

from fw.internet import task, threads
from fw.web.server import Site
from fw.web.static import File


def fetch(port, path, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def client(port):
    response, body = fetch(port, "/hello.txt")
    print(response.status, response.getheader("Content-Type"), body)
    response, body = fetch(port, "/hello.txt", Range="bytes=0-4")
    print(response.status, response.getheader("Content-Range"), body)
    etag = response.getheader("ETag")
    response, body = fetch(port, "/hello.txt", **{"If-None-Match": etag})
    print(response.status, "(not modified)", body)
    response, body = fetch(port, "/docs")
    print(response.status, "->", response.getheader("Location"))
    response, body = fetch(port, "/docs/")
    print(response.status, body)
    response, body = fetch(port, "/")
    print(response.status, "listing links:", re.findall(r'href="([^"]*)"', body.decode()))
    response, body = fetch(port, "/%2e%2e/etc/passwd")
    print(response.status, "for an escape attempt")


async def main(reactor):
    with tempfile.TemporaryDirectory() as directory:
        root = pathlib.Path(directory)
        (root / "hello.txt").write_text("Hello, world!\n")
        (root / "docs").mkdir()
        (root / "docs" / "index.html").write_text("<h1>Docs</h1>")
        port = reactor.listenTCP(0, Site(File(directory)), interface="127.0.0.1")
        await threads.deferToThread(client, port.getHost().port)
        await port.stopListening()


task.react(main)
