"""
Running a WSGI application, as Twisted's howto "WSGI" shows: the
application runs in the reactor's thread pool, so it may block.

The howto's ``application`` answers "Hello, world!"; a second one here
reads the request body and streams its answer from a generator.  Any WSGI
framework's application object (Flask's ``app``, Django's
``get_wsgi_application()``) mounts the same way.
"""

import http.client

from fw.internet import task, threads
from fw.web.resource import Resource
from fw.web.server import Site
from fw.web.wsgi import WSGIResource


def application(environ, start_response):
    start_response("200 OK", [("Content-type", "text/plain")])
    return [b"Hello, world!\n"]


def shout(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    text = environ["wsgi.input"].read(size).decode()
    start_response("200 OK", [("Content-type", "text/plain")])

    def body():
        yield f"mounted at {environ['SCRIPT_NAME']}, asked for {environ['PATH_INFO']}\n".encode()
        for word in text.split():
            yield word.upper().encode() + b"\n"

    return body()


def client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/hello")
    print(conn.getresponse().read().decode(), end="")
    conn.request("POST", "/shout/some/path", body="quiet words here")
    print(conn.getresponse().read().decode(), end="")
    conn.close()


async def main(reactor):
    pool = reactor.getThreadPool()
    root = Resource()
    root.putChild(b"hello", WSGIResource(reactor, pool, application))
    root.putChild(b"shout", WSGIResource(reactor, pool, shout))
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    await threads.deferToThread(client, port.getHost().port)
    await port.stopListening()


task.react(main)
