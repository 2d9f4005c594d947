"""
Twisted's PB howto's login example (pb6server.py and pb6client1.py) in one
program: the server serves a cred Portal; the client logs in with a user
name and password (PB's challenge and response: the password never
crosses the wire) and calls its avatar's ``perspective_*`` methods.  A
wrong password is refused.
"""

from zope.interface import implementer

from fw.cred import checkers, portal
from fw.cred.credentials import UsernamePassword
from fw.cred.error import UnauthorizedLogin
from fw.internet import reactor
from fw.internet.defer import ensureDeferred
from fw.spread import pb


class MyPerspective(pb.Avatar):
    def __init__(self, name):
        self.name = name

    def perspective_foo(self, arg):
        print(f"I am {self.name}, perspective_foo({arg}) called on {type(self).__name__}")
        return arg.upper()


@implementer(portal.IRealm)
class MyRealm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if pb.IPerspective not in interfaces:
            raise NotImplementedError
        name = avatarId.decode()
        return pb.IPerspective, MyPerspective(name), lambda: print(f"{name} logged out")


def makePortal():
    checker = checkers.InMemoryUsernamePasswordDatabaseDontUse()
    checker.addUser(b"user1", b"pass1")
    checker.addUser(b"user2", b"pass2")
    return portal.Portal(MyRealm(), [checker])


async def main(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    perspective = await factory.login(UsernamePassword(b"user1", b"pass1"))
    print("got perspective1 ref:", type(perspective).__name__)
    print("asking it to foo(13):", await perspective.callRemote("foo", "thirteen"))
    refused = factory.login(UsernamePassword(b"user2", b"wrong"))
    refused.addErrback(lambda failure: failure.check(UnauthorizedLogin))
    print("user2 with a wrong password:", (await refused).__name__)
    factory.disconnect()


def run():
    port = reactor.listenTCP(0, pb.PBServerFactory(makePortal()), interface="127.0.0.1")
    d = ensureDeferred(main(port))
    d.addErrback(lambda failure: print(failure.getTraceback()))
    d.addBoth(lambda _: reactor.callLater(0.1, reactor.stop))


reactor.callWhenRunning(run)
reactor.run()
