"""
TimeoutMixin in a protocol of your own: a connection idle for 0.2 seconds
is closed, and every byte received starts the idle period again.
(TimeoutFactory does the same for any factory, without changing it.)
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.protocols.policies import TimeoutMixin


class Impatient(TimeoutMixin, Protocol):
    def connectionMade(self):
        self.setTimeout(0.2)

    def dataReceived(self, data):
        self.resetTimeout()
        print("server: got", data)

    def timeoutConnection(self):
        print("server: idle too long, hanging up")
        super().timeoutConnection()

    def connectionLost(self, reason):
        self.setTimeout(None)


class Slow(Protocol):
    def connectionMade(self):
        for i, delay in enumerate([0.0, 0.1, 0.2]):
            reactor.callLater(delay, self.transport.write, b"ping %d" % i)

    def connectionLost(self, reason):
        print("client: the server closed the connection")
        reactor.stop()


port = reactor.listenTCP(0, Factory.forProtocol(Impatient), interface="127.0.0.1")
reactor.connectTCP("127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Slow))
reactor.run()
