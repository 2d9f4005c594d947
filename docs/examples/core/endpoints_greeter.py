"""
A client written against an endpoint, after the Greeter example of Twisted's
"Writing Clients" howto: ``connectProtocol`` connects a protocol instance
(no factory needed) and gives it back once connected; the client then sends
a message at once, another a moment later, and hangs up.

The howto's client talks to a server on localhost:1234; here a small server
in the same program prints what it receives, and the delays are short.
"""

from fw.internet import reactor
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from fw.internet.protocol import Factory, Protocol


class Greeter(Protocol):
    def sendMessage(self, message):
        self.transport.write(f"MESSAGE {message}\n".encode())


def gotProtocol(greeter):
    greeter.sendMessage("Hello")
    reactor.callLater(0.05, greeter.sendMessage, "This is sent a moment later")
    reactor.callLater(0.1, greeter.transport.loseConnection)


class Printer(Protocol):
    """The server side: print each line; stop the program when the client leaves."""

    def connectionMade(self):
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            print("server received:", line.decode())

    def connectionLost(self, reason):
        print("server: the greeter hung up")
        reactor.stop()


port = reactor.listenTCP(0, Factory.forProtocol(Printer), interface="127.0.0.1")
point = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
d = connectProtocol(point, Greeter())
d.addCallback(gotProtocol)
reactor.run()
