"""
Option negotiation: the server offers to echo and asks for the client's
window size (NAWS) and terminal type (TTYPE); the client agrees, then
answers the subnegotiations.  Each request's Deferred fires with True once
the peer agreed, or fails with OptionRefused.
"""

import struct

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, ServerFactory
from fw.protocols.telnet import (
    ECHO,
    NAWS,
    SGA,
    TTYPE,
    TTYPE_SEND,
    OptionRefused,
    TelnetProtocol,
    TelnetTransport,
)

results = {}


class Server(TelnetProtocol):
    def connectionMade(self):
        for name, d in [
            ("WILL ECHO", self.transport.will(ECHO)),
            ("DO NAWS", self.transport.do(NAWS)),
            ("DO TTYPE", self.transport.do(TTYPE)),
            ("DO SGA", self.transport.do(SGA)),
        ]:
            d.addCallbacks(self.agreed, self.refused, (name,), None, (name,))

    def agreed(self, result, name):
        results[name] = "agreed"
        if name == "DO TTYPE":
            self.transport.requestNegotiation(TTYPE, TTYPE_SEND)

    def refused(self, failure, name):
        failure.trap(OptionRefused)
        results[name] = "refused"

    def windowSizeReceived(self, width, height):
        results["window"] = f"{width}x{height}"

    def terminalTypeReceived(self, terminalType):
        results["terminal"] = terminalType
        self.transport.loseConnection()


class Client(TelnetProtocol):
    def enableRemote(self, option):
        return option == ECHO  # let the server echo

    def enableLocal(self, option):
        return option in (NAWS, TTYPE)  # SGA is refused

    def terminalTypeRequested(self):
        return b"VT100"

    def connectionLost(self, reason):
        reactor.stop()


class ClientTransport(TelnetTransport):
    def enableLocal(self, option):
        agreed = super().enableLocal(option)
        if option == NAWS and agreed:
            # RFC 1073: the size follows the WILL NAWS.
            reactor.callLater(0, self.requestNegotiation, NAWS, struct.pack("!HH", 80, 24))
        return agreed


serverFactory = ServerFactory()
serverFactory.protocol = lambda: TelnetTransport(Server)
port = reactor.listenTCP(0, serverFactory, interface="127.0.0.1")
clientFactory = ClientFactory()
clientFactory.protocol = lambda: ClientTransport(Client)
reactor.connectTCP("127.0.0.1", port.getHost().port, clientFactory)
reactor.run()

for name in sorted(results):
    print(f"{name}: {results[name]}")
