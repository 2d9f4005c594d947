"""
A SOCKS 5 proxy with username/password login, and a client that reaches a
server through it with ``SOCKS5ClientEndpoint``.

Everything runs on 127.0.0.1, so the proxy is told to allow that network:
by default it refuses loopback and private destinations.
"""

import hmac

from fw.internet import reactor
from fw.internet.defer import ensureDeferred
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from fw.internet.protocol import Factory, Protocol
from fw.protocols.socks import SOCKS5ClientEndpoint, SOCKSv5Factory, allowNetworks


class Shout(Protocol):
    """The destination: answers each message in capitals."""

    def dataReceived(self, data):
        self.transport.write(data.upper())


class Ask(Protocol):
    """The client: sends a message, prints the answer, hangs up."""

    def connectionMade(self):
        self.transport.write(b"hello through the proxy")

    def dataReceived(self, data):
        print("client received:", data.decode())
        self.transport.loseConnection()


def checkPassword(username, password):
    # Compare secrets in constant time.
    return username == b"alice" and hmac.compare_digest(password, b"s3cret")


async def main():
    target = reactor.listenTCP(0, Factory.forProtocol(Shout), interface="127.0.0.1")
    proxyFactory = SOCKSv5Factory(checkPassword, destinationPolicy=allowNetworks("127.0.0.0/8"))
    proxy = reactor.listenTCP(0, proxyFactory, interface="127.0.0.1")

    endpoint = SOCKS5ClientEndpoint(
        "127.0.0.1",
        target.getHost().port,
        TCP4ClientEndpoint(reactor, "127.0.0.1", proxy.getHost().port),
        methods={"login": (b"alice", b"s3cret")},
    )
    protocol = await connectProtocol(endpoint, Ask())
    print("connected through the proxy:", type(protocol).__name__)


def stop(_):
    reactor.callLater(0.1, reactor.stop)


ensureDeferred(main()).addBoth(stop)
reactor.run()
