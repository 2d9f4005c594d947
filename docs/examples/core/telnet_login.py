"""
A login prompt: AuthenticatingTelnetProtocol asks for a user name, turns the
client's echo off (WILL ECHO) for the password, and checks both through a
portal.  Any object with ``login(credentials, mind, *interfaces)`` will do;
this one knows a single user.  The avatar it gives is the protocol the user
talks to once logged in.

The client here plays a person at a terminal: it answers each prompt.
"""

from zope.interface import implementer

from fw.internet import reactor
from fw.internet.defer import fail, succeed
from fw.internet.protocol import ClientFactory, ServerFactory
from fw.protocols.telnet import (
    ECHO,
    AuthenticatingTelnetProtocol,
    ITelnetProtocol,
    TelnetProtocol,
    TelnetTransport,
)


@implementer(ITelnetProtocol)
class Shell(TelnetProtocol):
    def connectionMade(self):
        self.transport.write(b"\nWelcome!\n")

    def dataReceived(self, data):
        self.transport.write(b"you typed " + data.strip() + b"\nbye\n")
        self.transport.loseConnection()


class OneUserPortal:
    def login(self, credentials, mind, *interfaces):
        if credentials.username == b"alice" and credentials.checkPassword(b"wonderland"):
            return succeed((ITelnetProtocol, Shell(), lambda: print("server: alice logged out")))
        return fail(PermissionError("wrong password"))


class Person(TelnetProtocol):
    def connectionMade(self):
        self.screen = b""
        self.passwords = [b"guess", b"wonderland"]

    def enableRemote(self, option):
        if option == ECHO:
            print("client: the server will echo, so the password is not shown")
        return option == ECHO

    def disableRemote(self, option):
        print("client: local echo is back")

    def dataReceived(self, data):
        self.screen += data
        if self.screen.endswith(b"Username: "):
            self.type(b"alice")
        elif self.screen.endswith(b"Password: "):
            self.type(self.passwords.pop(0))
        elif self.screen.endswith(b"bye\n"):
            self.show()
        elif self.screen.endswith(b"Welcome!\n"):
            self.type(b"ls")

    def type(self, line):
        self.show()
        self.transport.write(line + b"\n")

    def show(self):
        for line in self.screen.splitlines():
            print("screen:", line.decode())
        self.screen = b""

    def connectionLost(self, reason):
        reactor.stop()


serverFactory = ServerFactory()
serverFactory.protocol = lambda: TelnetTransport(AuthenticatingTelnetProtocol, OneUserPortal())
port = reactor.listenTCP(0, serverFactory, interface="127.0.0.1")
clientFactory = ClientFactory()
clientFactory.protocol = lambda: TelnetTransport(Person)
reactor.connectTCP("127.0.0.1", port.getHost().port, clientFactory)
reactor.run()
