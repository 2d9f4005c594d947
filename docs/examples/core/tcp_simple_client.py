"""
A simple client: connect, ask, print the answer, hang up.

It first tries a port where nobody listens, to show a failed connection, then
talks to a small server that answers in capitals (started in the same program,
so that the example needs nothing else).
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory, Protocol


class Ask(Protocol):
    """Send the factory's question once connected; print the answer; close."""

    def connectionMade(self):
        print("connected; asking:", self.factory.question.decode())
        self.transport.write(self.factory.question)

    def dataReceived(self, data):
        print("answer:", data.decode())
        self.transport.loseConnection()


class AskFactory(ClientFactory):
    protocol = Ask

    def __init__(self, question, then):
        self.question = question
        self.then = then

    def clientConnectionFailed(self, connector, reason):
        print("connection failed:", reason.getErrorMessage())
        self.then()

    def clientConnectionLost(self, connector, reason):
        print("connection closed:", reason.getErrorMessage())
        self.then()


class Capitals(Protocol):
    """The server's side: answer each message in capitals."""

    def dataReceived(self, data):
        self.transport.write(data.upper())


def askTheServer():
    server = reactor.listenTCP(0, Factory.forProtocol(Capitals), interface="127.0.0.1")
    factory = AskFactory(b"is anybody there?", reactor.stop)
    reactor.connectTCP("127.0.0.1", server.getHost().port, factory)


def askNobody(closedPort):
    # The port was free a moment ago: connecting to it is refused.
    factory = AskFactory(b"hello?", askTheServer)
    reactor.connectTCP("127.0.0.1", closedPort, factory)


# Find a port nobody listens on: listen on a free one, then stop listening.
unused = reactor.listenTCP(0, Factory.forProtocol(Capitals), interface="127.0.0.1")
unusedPort = unused.getHost().port
unused.stopListening().addCallback(lambda _: askNobody(unusedPort))
reactor.run()
