"""
A line protocol that logs its users in through a portal: the arrangement of
Twisted's cred howto, written for fw (a Twisted version differs only in its
imports).  The client half logs in twice, once with a wrong password.
"""

import sys

from zope.interface import Interface, implementer

from fw.cred import checkers, credentials, error, portal
from fw.internet import protocol, reactor
from fw.protocols import basic


class IProtocolAvatar(Interface):
    def logout():
        """Clean up per-login resources allocated to this avatar."""


@implementer(IProtocolAvatar)
class EchoAvatar:
    def __init__(self, name):
        self.name = name

    def answer(self, line):
        return b"%s says: %s" % (self.name, line)

    def logout(self):
        print(f"server: {self.name.decode()} logged out")


@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if IProtocolAvatar in interfaces:
            avatar = EchoAvatar(avatarId)
            return IProtocolAvatar, avatar, avatar.logout
        raise NotImplementedError("This realm only supports the IProtocolAvatar interface.")


class LoginProtocol(basic.LineReceiver):
    avatar = None
    logout = None

    def lineReceived(self, line):
        if self.avatar is not None:
            self.sendLine(self.avatar.answer(line))
            return
        username, _, password = line.partition(b" ")
        d = self.factory.portal.login(
            credentials.UsernamePassword(username, password), None, IProtocolAvatar
        )
        d.addCallbacks(self._loggedIn, self._refused)

    def _loggedIn(self, result):
        _interface, self.avatar, self.logout = result
        self.sendLine(b"welcome")

    def _refused(self, reason):
        reason.trap(error.UnauthorizedLogin)
        self.sendLine(b"login refused")
        self.transport.loseConnection()

    def connectionLost(self, reason):
        if self.logout is not None:
            self.logout()
            self.logout = None


class LoginFactory(protocol.ServerFactory):
    protocol = LoginProtocol

    def __init__(self, portal):
        self.portal = portal


class Client(basic.LineReceiver):
    def connectionMade(self):
        self.sendLine(self.factory.login)

    def lineReceived(self, line):
        print("client:", line.decode())
        if line == b"welcome":
            self.sendLine(b"hello")
        else:
            self.transport.loseConnection()


class ClientFactory(protocol.ClientFactory):
    protocol = Client

    def __init__(self, login, done):
        self.login = login
        self.done = done

    def clientConnectionLost(self, connector, reason):
        self.done()


def main():
    checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(user=b"pass")
    port = reactor.listenTCP(
        0, LoginFactory(portal.Portal(Realm(), [checker])), interface="127.0.0.1"
    )
    logins = [b"user wrong", b"user pass"]

    def next():
        if not logins:
            reactor.callLater(0.1, reactor.stop)
            return
        factory = ClientFactory(logins.pop(0), next)
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)

    next()
    reactor.run()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
