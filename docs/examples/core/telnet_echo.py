"""
A telnet echo server and a client for it, in one program.

The server's application protocol sees plain bytes: ``TelnetTransport``
decodes telnet under it, and escapes what it writes.
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, ServerFactory
from fw.protocols.telnet import TelnetProtocol, TelnetTransport


class Echo(TelnetProtocol):
    def dataReceived(self, data):
        print("server: got", data)
        self.transport.write(data)


class Client(TelnetProtocol):
    def connectionMade(self):
        self.received = b""
        # The 255 byte goes out as IAC IAC, the newline as CR LF.
        self.transport.write(b"hello \xff world\n")

    def dataReceived(self, data):
        self.received += data
        if self.received.endswith(b"\n"):
            print("client: got", self.received)
            self.transport.loseConnection()

    def connectionLost(self, reason):
        reactor.stop()


serverFactory = ServerFactory()
serverFactory.protocol = lambda: TelnetTransport(Echo)
port = reactor.listenTCP(0, serverFactory, interface="127.0.0.1")

clientFactory = ClientFactory()
clientFactory.protocol = lambda: TelnetTransport(Client)
reactor.connectTCP("127.0.0.1", port.getHost().port, clientFactory)
reactor.run()
