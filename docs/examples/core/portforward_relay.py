"""
ProxyFactory forwards every connection it accepts to a fixed host and port.
Here a client reaches an echo server through the forwarder; it writes half
a megabyte at once, and flow control keeps the forwarder's buffers small
while it all goes through.
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.protocols.portforward import ProxyFactory

SIZE = 512 * 1024


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(Protocol):
    received = 0

    def connectionMade(self):
        print("client: connected to", type(self.transport.getPeer()).__name__, "of the forwarder")
        self.transport.write(b"x" * SIZE)

    def dataReceived(self, data):
        self.received += len(data)
        if self.received == SIZE:
            print("client: all", SIZE, "bytes came back through the forwarder")
            self.transport.loseConnection()

    def connectionLost(self, reason):
        reactor.callLater(0.05, reactor.stop)


echo = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
forwarder = reactor.listenTCP(
    0, ProxyFactory("127.0.0.1", echo.getHost().port), interface="127.0.0.1"
)
reactor.connectTCP("127.0.0.1", forwarder.getHost().port, ClientFactory.forProtocol(Client))
reactor.run()
