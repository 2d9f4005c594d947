"""
A TCP port forwarder: every connection accepted by a :class:`ProxyFactory`
is relayed to a fixed host and port.

Each accepted connection (a :class:`ProxyServer`) opens a connection to the
destination (a :class:`ProxyClient`) and the two relay each other's bytes.
Flow control works both ways: each transport is registered as the other's
streaming producer, so when one side reads slower than the other writes,
the fast side stops being read until the slow side's buffer drains, and the
forwarder's memory stays bounded.  Nothing is read from the accepted
connection before the destination connection is up.  Half-closes are
passed through: when one peer finishes sending, the other side's write
direction is shut, and the pair is closed once both directions are done.

::

    from fw.internet import reactor
    from fw.protocols.portforward import ProxyFactory

    reactor.listenTCP(8080, ProxyFactory("www.example.com", 80))
    reactor.run()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zope.interface import implementer

from fw.internet._interfaces_protocol import IHalfCloseableProtocol
from fw.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from fw.logger import Logger
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress
    from fw.internet._interfaces_transport import IConnector

__all__ = ["Proxy", "ProxyClient", "ProxyClientFactory", "ProxyFactory", "ProxyServer"]

_log = Logger(namespace="fw.protocols.portforward")


@implementer(IHalfCloseableProtocol)
class Proxy(Protocol):
    """
    One side of a relayed pair: what it receives is written to its peer.

    Attributes:
        peer: the other side, or ``None`` (not yet connected, or gone).
        noisy: log a failure to reach the destination.
    """

    noisy: bool = True
    peer: Proxy | None = None
    transport: Any = None
    # The peer finished sending to this side (its read direction is done).
    _readDone = False

    def setPeer(self, peer: Proxy) -> None:
        """Pair with ``peer``."""
        self.peer = peer

    def dataReceived(self, data: bytes) -> None:
        """Relay ``data`` to the peer."""
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)

    def readConnectionLost(self) -> None:
        """
        The remote end finished sending: finish sending to the peer's
        remote end too, and close both once both directions are done.
        """
        self._readDone = True
        peer = self.peer
        if peer is None or peer.transport is None:
            self.transport.loseConnection()
            return
        if peer._readDone:
            peer.transport.loseConnection()
            self.transport.loseConnection()
            return
        shut = getattr(peer.transport, "loseWriteConnection", None)
        if shut is None:
            peer.transport.loseConnection()
        else:
            shut()

    def writeConnectionLost(self) -> None:
        """This side's write direction is shut; reading goes on."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Close the peer too (once what it has buffered is written)."""
        peer, self.peer = self.peer, None
        if peer is not None:
            if peer.transport is not None:
                peer.transport.loseConnection()
        elif self.noisy:
            _log.info("Unable to connect to peer: {reason}", reason=reason.getErrorMessage())


class ProxyClient(Proxy):
    """The side connected to the destination; built by :class:`ProxyClientFactory`."""

    def connectionMade(self) -> None:
        """Pair with the server side, wire up flow control, and start reading it."""
        peer = self.peer
        if peer is None or peer.transport is None:
            self.transport.loseConnection()
            return
        peer.setPeer(self)
        # Each transport is the other's producer: a side whose write buffer
        # fills up pauses reading on the other, so a slow reader bounds the
        # memory a fast writer can make the forwarder use.
        self.transport.registerProducer(peer.transport, True)
        peer.transport.registerProducer(self.transport, True)
        # Reading from the accepting side was paused until now.
        peer.transport.resumeProducing()


class ProxyClientFactory(ClientFactory):
    """Connects one :class:`ProxyServer` to the destination."""

    protocol: Any = ProxyClient
    noisy = False
    server: ProxyServer | None = None

    def setServer(self, server: ProxyServer) -> None:
        """Set the server side the connection is for."""
        self.server = server

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """Build a :class:`ProxyClient` paired with the server side."""
        p = super().buildProtocol(addr)
        if p is not None and self.server is not None:
            assert isinstance(p, Proxy)
            p.setPeer(self.server)
        return p

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """The destination cannot be reached: close the accepted connection."""
        if self.server is not None and self.server.transport is not None:
            self.server.transport.loseConnection()


class ProxyServer(Proxy):
    """
    The accepted side: on connection, connects to the factory's host and
    port (through :attr:`reactor`) and reads nothing until that succeeds.

    Attributes:
        reactor: the reactor to connect with; the factory's ``reactor``, else
            the global reactor, when ``None``.
    """

    #: The client factory class for the destination.
    clientProtocolFactory: Any = ProxyClientFactory
    reactor: Any = None
    factory: Any

    def connectionMade(self) -> None:
        """Stop reading, and connect to the destination."""
        self.transport.pauseProducing()
        client = self.clientProtocolFactory()
        client.setServer(self)
        reactor = self.reactor
        if reactor is None:
            reactor = getattr(self.factory, "reactor", None)
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        reactor.connectTCP(self.factory.host, self.factory.port, client)


class ProxyFactory(Factory):
    """
    Builds a :class:`ProxyServer` per accepted connection, relaying it to
    ``host``:``port``.

    Args:
        host: the destination host.
        port: the destination port.
        reactor: the reactor to connect with (the global one when ``None``).
    """

    protocol: Any = ProxyServer

    def __init__(self, host: str, port: int, reactor: Any = None) -> None:
        self.host = host
        self.port = port
        self.reactor = reactor
