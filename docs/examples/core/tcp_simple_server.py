"""
A simple server: whoever connects gets the quote of the day, then the server
hangs up.

The end of the program connects one client to it, so that it ends by itself.
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory, Protocol


class QuoteOfTheDay(Protocol):
    """The whole protocol: greet with the quote, and close."""

    def connectionMade(self):
        self.transport.write(self.factory.quote + b"\r\n")
        # The quote is sent first: loseConnection waits for the buffer to drain.
        self.transport.loseConnection()


class QuoteFactory(Factory):
    """Builds a QuoteOfTheDay for each connection; they share its quote."""

    protocol = QuoteOfTheDay

    def __init__(self, quote):
        self.quote = quote


class QuoteReader(Protocol):
    """A client: gather what arrives, print it when the server hangs up."""

    def connectionMade(self):
        self.received = b""

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        print("quote:", self.received.decode().strip())


class ReadOnce(ClientFactory):
    protocol = QuoteReader

    def clientConnectionLost(self, connector, reason):
        print("the server hung up:", reason.getErrorMessage())
        reactor.stop()

    def clientConnectionFailed(self, connector, reason):
        print("could not connect:", reason.getErrorMessage())
        reactor.stop()


factory = QuoteFactory(b"An apple a day keeps the doctor away.")
# Port 0: the system picks a free port; getHost() tells which.
port = reactor.listenTCP(0, factory, interface="127.0.0.1")
reactor.connectTCP("127.0.0.1", port.getHost().port, ReadOnce())
reactor.run()
print("reactor stopped")
