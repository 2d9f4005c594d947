"""
A SOCKS 4 server with Twisted's ``authorize`` hook, and a SOCKS 4a client
that names its destination by host name for the proxy to resolve.
"""

from fw.internet import reactor
from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from fw.internet.protocol import Factory, Protocol
from fw.protocols.socks import (
    SOCKS4ClientEndpoint,
    SOCKS4RequestRejected,
    SOCKSv4,
    SOCKSv4Factory,
    allowNetworks,
)


class UsersOnly(SOCKSv4):
    def authorize(self, code, server, port, user):
        print(f"request {code} to {server} from user {user.decode()!r}")
        return user == b"alice"


class Hello(Protocol):
    def connectionMade(self):
        self.transport.write(b"hello from the destination\n")
        self.transport.loseConnection()


class Print(Protocol):
    def __init__(self):
        self.done = Deferred()

    def dataReceived(self, data):
        print("client received:", data.decode().strip())

    def connectionLost(self, reason):
        self.done.callback(None)


async def main():
    target = reactor.listenTCP(0, Factory.forProtocol(Hello), interface="127.0.0.1")
    factory = SOCKSv4Factory(destinationPolicy=allowNetworks("127.0.0.0/8"))
    factory.protocol = UsersOnly
    proxy = reactor.listenTCP(0, factory, interface="127.0.0.1")
    proxyEndpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", proxy.getHost().port)

    for user in (b"alice", b"mallory"):
        endpoint = SOCKS4ClientEndpoint("localhost", target.getHost().port, proxyEndpoint, user)
        try:
            protocol = await connectProtocol(endpoint, Print())
            await protocol.done
        except SOCKS4RequestRejected as e:
            print(f"rejected with code {e.code}")


def stop(_):
    reactor.callLater(0.1, reactor.stop)


ensureDeferred(main()).addBoth(stop)
reactor.run()
