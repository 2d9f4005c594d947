"""
HTTP authentication, as Twisted's howto "HTTP Authentication" shows:
``HTTPAuthSessionWrapper`` asks a cred ``Portal`` for the resource of the
user named by the ``Authorization`` header, with Basic and Digest offered.

The realm gives each user a resource of their own; a request without
credentials, or with wrong ones, gets ``401`` and the challenges.
"""

import base64
import http.client

from zope.interface import implementer

from fw.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from fw.cred.portal import IRealm, Portal
from fw.internet import task, threads
from fw.web.guard import BasicCredentialFactory, DigestCredentialFactory, HTTPAuthSessionWrapper
from fw.web.resource import IResource
from fw.web.server import Site
from fw.web.static import Data


@implementer(IRealm)
class PublicHTMLRealm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if IResource in interfaces:
            page = Data(b"Welcome, " + avatarId + b"!", "text/plain")
            return IResource, page, lambda: None
        raise NotImplementedError()


def client(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/")
    response = conn.getresponse()
    response.read()
    print(response.status, [c.split()[0] for c in response.headers.get_all("WWW-Authenticate")])
    for password in ["wrong", "secret"]:
        credentials = base64.b64encode(b"alice:" + password.encode()).decode()
        conn.request("GET", "/", headers={"Authorization": "Basic " + credentials})
        response = conn.getresponse()
        print(password, "->", response.status, response.read().decode())
    conn.close()


async def main(reactor):
    checker = InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret")
    portal = Portal(PublicHTMLRealm(), [checker])
    factories = [
        BasicCredentialFactory("example.com"),
        DigestCredentialFactory("md5", "example.com"),
    ]
    resource = HTTPAuthSessionWrapper(portal, factories)
    port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
    await threads.deferToThread(client, port.getHost().port)
    await port.stopListening()


task.react(main)
