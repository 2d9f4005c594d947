"""
A Quote of the Day server on a server endpoint, after the endpoint example of
Twisted's "Writing Servers" howto: every connection gets one quote, then is
closed.

The howto's server listens on port 8007 forever; here it listens on a free
port of 127.0.0.1, and a client in the same program reads one quote through
a client endpoint, so that the example runs on its own and stops.
"""

from fw.internet import reactor
from fw.internet.defer import Deferred
from fw.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from fw.internet.protocol import Factory, Protocol


class QuoteOfTheDay(Protocol):
    def connectionMade(self):
        self.transport.write(self.factory.quote + b"\r\n")
        self.transport.loseConnection()


class QuoteFactory(Factory):
    protocol = QuoteOfTheDay

    def __init__(self, quote):
        self.quote = quote


class QuoteReader(Protocol):
    def __init__(self):
        self.received = b""
        self.finished = Deferred()

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.finished.callback(self.received)


def listening(port):
    print("QOTD server listening")
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    d = connectProtocol(endpoint, QuoteReader())
    d.addCallback(lambda reader: reader.finished)
    d.addCallback(lambda quote: print("quote of the day:", quote.decode().strip()))
    d.addCallback(lambda _: port.stopListening())
    d.addBoth(lambda _: reactor.stop())


endpoint = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
d = endpoint.listen(QuoteFactory(b"A program that never stops listening is a server."))
d.addCallback(listening)
reactor.run()
