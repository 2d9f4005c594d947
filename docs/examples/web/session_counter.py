"""
Storing objects in the session, as Twisted's "Storing Objects in the Session"
howto shows: a component registered for the ``Session`` class keeps a
per-visitor counter; the session cookie ties requests to it.
"""

import http.client

from zope.interface import Attribute, Interface, implementer

from fw.internet import task, threads
from fw.python.components import registerAdapter
from fw.web.resource import Resource
from fw.web.server import Session, Site


class ICounter(Interface):
    value = Attribute("An int value which counts up once per page view.")


@implementer(ICounter)
class Counter:
    def __init__(self, session):
        self.value = 0


registerAdapter(Counter, Session, ICounter)


class CounterResource(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        counter = ICounter(session)
        counter.value += 1
        return b"Visit #%d for you!" % (counter.value,)


def visit(port, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/", headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    body = response.read().decode()
    setCookie = response.getheader("Set-Cookie")
    conn.close()
    return body, setCookie


def browse(port):
    body, setCookie = visit(port)
    print(body, "- cookie set:", setCookie.split("=")[0], "with", setCookie.split("; ", 1)[1])
    cookie = setCookie.split(";")[0]
    print(visit(port, cookie)[0])
    print(visit(port, cookie)[0])
    print(visit(port)[0], "(a new visitor)")


async def main(reactor):
    site = Site(CounterResource())
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    await threads.deferToThread(browse, port.getHost().port)
    print(len(site.sessions), "sessions")
    for session in list(site.sessions.values()):
        session.expire()
    await port.stopListening()


task.react(main)
