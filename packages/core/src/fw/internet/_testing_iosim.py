"""
An in-memory connection between two protocols, pumped by hand.

:func:`connectedServerAndClient` builds a server and a client protocol, gives
each a :class:`FakeTransport`, and returns an :class:`IOPump` that moves the
bytes each side writes to the other side's ``dataReceived`` when told to.
Closing, aborting and half-closing reach both protocols as they would over
TCP, and producers registered with a transport are paused, resumed and
stopped as a real transport would.

Public names are re-exported by :mod:`fw.internet.testing`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast, overload

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import (
    IAddress,
    IConsumer,
    IProducer,
    IPullProducer,
    IPushProducer,
    IReactorTime,
)
from fw.internet._interfaces_protocol import (
    IHalfCloseableProtocol,
    IProtocol,
    IProtocolFactory,
)
from fw.internet._interfaces_transport import ITCPTransport
from fw.internet.address import IPv4Address
from fw.python.failure import Failure

__all__ = [
    "FakeAddress",
    "FakeTransport",
    "IOPump",
    "connect",
    "connectedServerAndClient",
    "makeFakeClient",
    "makeFakeServer",
]

#: The address of the server end of connections made by connectedServerAndClient.
SERVER_ADDRESS = IPv4Address("TCP", "127.0.0.1", 12345)
#: The address of the client end of connections made by connectedServerAndClient.
CLIENT_ADDRESS = IPv4Address("TCP", "127.0.0.1", 54321)

# How many times IOPump.flush pumps before deciding the two sides will never
# go quiet (a pull producer that never finishes, two protocols ping-ponging).
_MAX_FLUSH_ROUNDS = 1000

_serials = itertools.count()


@implementer(IAddress)
class FakeAddress:
    """An address that is no address: for fake transports that need one."""


@implementer(ITCPTransport, IConsumer, IPushProducer)
class FakeTransport:
    """
    One end of an in-memory connection, moved by an :class:`IOPump`.

    Writes are buffered until the pump moves them to the peer.  As a
    consumer, a registered pull producer is asked for more each time the
    buffer has been moved; a push producer is paused when more than
    :attr:`bufferSize` bytes wait, and resumed when they have been moved.
    As a producer, :meth:`pauseProducing` holds incoming data back from the
    protocol until :meth:`resumeProducing`.

    Args:
        protocol: the protocol this transport delivers to.
        isServer: whether this is the accepting side.
        hostAddress: what :meth:`getHost` returns (a :class:`FakeAddress` by default).
        peerAddress: what :meth:`getPeer` returns (a :class:`FakeAddress` by default).

    Attributes:
        disconnecting: the connection is closing (:meth:`loseConnection`).
        disconnected: the connection is closed; the protocol was told.
        disconnectReason: the exception this side's protocol is given when
            the connection closes cleanly.
        producer: the registered producer, or ``None``.
        streamingProducer: whether it is a push producer.
        bufferSize: bytes buffered before a push producer is paused.
    """

    bufferSize: int = 2**16

    def __init__(
        self,
        protocol: IProtocol,
        isServer: bool,
        hostAddress: IAddress | None = None,
        peerAddress: IAddress | None = None,
    ) -> None:
        self.protocol = protocol
        self.isServer = isServer
        self.serial = next(_serials)
        self.hostAddress: IAddress = FakeAddress() if hostAddress is None else hostAddress
        self.peerAddress: IAddress = FakeAddress() if peerAddress is None else peerAddress
        self.stream: list[bytes] = []
        self._buffered = 0
        self.disconnecting = False
        self.disconnected = False
        self.disconnectReason: BaseException = error.ConnectionDone("Connection done")
        self.producer: IProducer | None = None
        self.streamingProducer = False
        self._producerPaused = False
        self._readPaused = False
        self._inbox: list[bytes] = []
        self._aborting = False
        self._writeDisconnecting = False
        self._writeDisconnected = False
        self._readDisconnected = False
        self.tcpNoDelay = False
        self.tcpKeepAlive = False

    def __repr__(self) -> str:
        side = "S" if self.isServer else "C"
        return f"FakeTransport<{side},{self.serial},{self.protocol.__class__.__name__}>"

    def logPrefix(self) -> str:
        """Return ``"iosim"``."""
        return "iosim"

    # -- ITransport --

    def write(self, data: bytes) -> None:
        """
        Buffer ``data`` for the peer; discarded once the write direction is closed.

        Raises:
            TypeError: ``data`` is not ``bytes``.
        """
        if not isinstance(data, bytes):
            raise TypeError(f"Data must be bytes, not {type(data).__name__}")
        if self.disconnected or self._aborting or self._writeDisconnected:
            return
        if not data:
            return
        self.stream.append(data)
        self._buffered += len(data)
        if (
            self.producer is not None
            and self.streamingProducer
            and not self._producerPaused
            and self._buffered > self.bufferSize
        ):
            self._producerPaused = True
            cast(IPushProducer, self.producer).pauseProducing()

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Buffer each element of ``data`` in turn."""
        for chunk in data:
            self.write(chunk)

    def loseConnection(self) -> None:
        """
        Close the connection once buffered data has been moved and any pull
        producer has unregistered.
        """
        self.disconnecting = True

    def abortConnection(self) -> None:
        """
        Close the connection at the next pump, dropping buffered data: this
        side's protocol gets ``ConnectionAborted``, the peer's ``ConnectionLost``.
        """
        if self.disconnected:
            return
        self._aborting = True
        self.disconnecting = True
        self.stream = []
        self._buffered = 0

    # Typed Any: ITCPTransport promises IP addresses, but a FakeTransport
    # returns whatever address it was given (a FakeAddress by default).
    def getPeer(self) -> Any:
        """Return the peer's address."""
        return self.peerAddress

    def getHost(self) -> Any:
        """Return this side's address."""
        return self.hostAddress

    # -- ITCPTransport --

    def loseWriteConnection(self) -> None:
        """
        Half-close: once buffered data has been moved, the peer sees the end
        of the stream (``readConnectionLost`` if it is an
        ``IHalfCloseableProtocol``, else the whole connection closes).
        """
        self._writeDisconnecting = True

    def getTcpNoDelay(self) -> bool:
        """Return the recorded ``TCP_NODELAY`` setting."""
        return self.tcpNoDelay

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Record the ``TCP_NODELAY`` setting."""
        self.tcpNoDelay = enabled

    def getTcpKeepAlive(self) -> bool:
        """Return the recorded ``SO_KEEPALIVE`` setting."""
        return self.tcpKeepAlive

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Record the ``SO_KEEPALIVE`` setting."""
        self.tcpKeepAlive = enabled

    # -- IConsumer --

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """
        Register the producer feeding this transport.  A pull producer is asked
        for data at once; on a closed connection the producer is stopped.

        Raises:
            RuntimeError: a producer is already registered.
        """
        if self.producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer!r}, because producer "
                f"{self.producer!r} was never unregistered."
            )
        if self.disconnected:
            producer.stopProducing()
            return
        self.producer = producer
        self.streamingProducer = streaming
        self._producerPaused = False
        if not streaming:
            cast(IPullProducer, producer).resumeProducing()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None
        self._producerPaused = False

    def stopConsuming(self) -> None:
        """Unregister the producer and close the connection."""
        self.unregisterProducer()
        self.loseConnection()

    # -- IPushProducer: the protocol throttling its own input --

    def pauseProducing(self) -> None:
        """Hold incoming data back from the protocol."""
        self._readPaused = True

    def resumeProducing(self) -> None:
        """Deliver incoming data again (from the next pump on)."""
        self._readPaused = False

    def stopProducing(self) -> None:
        """Close the connection."""
        self.loseConnection()

    # -- used by IOPump --

    def getOutBuffer(self) -> bytes | None:
        """Take and return everything buffered for the peer, or ``None`` if nothing is."""
        if not self.stream:
            return None
        data = b"".join(self.stream)
        self.stream = []
        self._buffered = 0
        return data

    def bufferReceived(self, buf: bytes) -> None:
        """Deliver ``buf`` to the protocol, or hold it while reading is paused."""
        self._inbox.append(buf)
        self._deliver()

    def _deliver(self) -> bool:
        delivered = False
        while self._inbox and not self._readPaused and not self.disconnected:
            data = b"".join(self._inbox)
            self._inbox = []
            delivered = True
            self.protocol.dataReceived(data)
        return delivered

    def _checkProducer(self) -> None:
        """Ask a pull producer for more, or resume a paused push producer, once drained."""
        producer = self.producer
        if producer is None or self.stream or self.disconnected:
            return
        if not self.streamingProducer:
            cast(IPullProducer, producer).resumeProducing()
        elif self._producerPaused:
            self._producerPaused = False
            cast(IPullProducer, producer).resumeProducing()

    def _readyToClose(self) -> bool:
        if self.disconnected or not self.disconnecting:
            return False
        if self._aborting:
            return True
        return not self.stream and (self.producer is None or self.streamingProducer)

    def _connectionLost(self, reason: BaseException) -> None:
        self.disconnected = True
        self.disconnecting = True
        self._inbox = []
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stopProducing()
        self.protocol.connectionLost(Failure(reason))

    def reportDisconnect(self) -> None:
        """Tell the protocol the connection closed, with :attr:`disconnectReason`."""
        if not self.disconnected:
            self._connectionLost(self.disconnectReason)


def makeFakeClient(clientProtocol: IProtocol) -> FakeTransport:
    """Return a client-side :class:`FakeTransport` for ``clientProtocol``."""
    return FakeTransport(
        clientProtocol, isServer=False, hostAddress=CLIENT_ADDRESS, peerAddress=SERVER_ADDRESS
    )


def makeFakeServer(serverProtocol: IProtocol) -> FakeTransport:
    """Return a server-side :class:`FakeTransport` for ``serverProtocol``."""
    return FakeTransport(
        serverProtocol, isServer=True, hostAddress=SERVER_ADDRESS, peerAddress=CLIENT_ADDRESS
    )


class IOPump:
    """
    Moves bytes between the two ends of an in-memory connection.

    Args:
        client: the client protocol.
        server: the server protocol.
        clientIO: the client's transport.
        serverIO: the server's transport.
        debug: print what is moved.
        clock: advanced by 0 at each pump, running calls due now; a
            :class:`MemoryReactorClock` by default.
    """

    def __init__(
        self,
        client: IProtocol,
        server: IProtocol,
        clientIO: FakeTransport,
        serverIO: FakeTransport,
        debug: bool = False,
        clock: IReactorTime | None = None,
    ) -> None:
        self.client = client
        self.server = server
        self.clientIO = clientIO
        self.serverIO = serverIO
        self.debug = debug
        if clock is None:
            from fw.internet._testing_reactor import MemoryReactorClock

            clock = MemoryReactorClock()
        self.clock = clock

    def flush(self, debug: bool = False, advanceClock: bool = True) -> bool:
        """
        Pump until nothing more moves.

        Returns:
            Whether anything moved.

        Raises:
            RuntimeError: the connection was still busy after 1000 pumps.
        """
        moved = False
        for _ in range(_MAX_FLUSH_ROUNDS):
            if not self.pump(debug, advanceClock):
                return moved
            moved = True
        raise RuntimeError(f"IOPump.flush: still busy after {_MAX_FLUSH_ROUNDS} pumps")

    def pump(self, debug: bool = False, advanceClock: bool = True) -> bool:
        """
        Move each side's buffered bytes to the other once, then run any
        closing that is due.

        Args:
            debug: print what is moved.
            advanceClock: first run the clock's calls that are due now
                (``advance(0)``), if the clock can advance.

        Returns:
            Whether anything happened.
        """
        debug = debug or self.debug
        if advanceClock:
            advance: Callable[[float], object] | None = getattr(self.clock, "advance", None)
            if advance is not None:
                advance(0)
        client, server = self.clientIO, self.serverIO
        serverData = server.getOutBuffer()
        clientData = client.getOutBuffer()
        client._checkProducer()
        server._checkProducer()
        if debug:
            print("-- GLUG --")
            if clientData:
                print(f"C: {clientData!r}")
            if serverData:
                print(f"S: {serverData!r}")
        if clientData:
            server.bufferReceived(clientData)
        if serverData:
            client.bufferReceived(serverData)
        delivered = client._deliver() | server._deliver()
        if clientData or serverData or delivered:
            return True
        return self._closeIfDue(client, server, debug) or self._closeIfDue(server, client, debug)

    def _closeIfDue(self, side: FakeTransport, peer: FakeTransport, debug: bool) -> bool:
        if side._readyToClose():
            if debug:
                print(f"* {'S' if side.isServer else 'C'} closes")
            if side._aborting:
                side._connectionLost(error.ConnectionAborted())
                peer._connectionLost(error.ConnectionLost("Connection reset by peer"))
            else:
                side._connectionLost(side.disconnectReason)
                peer._connectionLost(peer.disconnectReason)
            return True
        if side._writeDisconnecting and not side._writeDisconnected and not side.stream:
            if debug:
                print(f"* {'S' if side.isServer else 'C'} half-closes")
            side._writeDisconnected = True
            if not IHalfCloseableProtocol.providedBy(peer.protocol):
                # As over TCP: a peer that cannot half-close takes the end of
                # the stream as the end of the connection.
                side._connectionLost(side.disconnectReason)
                peer._connectionLost(peer.disconnectReason)
                return True
            peer._readDisconnected = True
            peer.protocol.readConnectionLost()
            if IHalfCloseableProtocol.providedBy(side.protocol):
                side.protocol.writeConnectionLost()
            return True
        return False


def connect(
    serverProtocol: IProtocol,
    serverTransport: FakeTransport,
    clientProtocol: IProtocol,
    clientTransport: FakeTransport,
    debug: bool = False,
    greet: bool = True,
    clock: IReactorTime | None = None,
) -> IOPump:
    """
    Connect two protocols through their transports and return the pump.

    The server protocol is connected first, then the client.

    Args:
        greet: flush once before returning, so that greetings sent from
            ``connectionMade`` have been delivered.
        clock: see :class:`IOPump`.
    """
    serverProtocol.makeConnection(serverTransport)
    clientProtocol.makeConnection(clientTransport)
    pump = IOPump(clientProtocol, serverProtocol, clientTransport, serverTransport, debug, clock)
    if greet:
        pump.flush()
    return pump


_S = TypeVar("_S")
_C = TypeVar("_C")


def _build(maker: Any, peerAddress: IAddress) -> Any:
    if IProtocolFactory.providedBy(maker):
        protocol = maker.buildProtocol(peerAddress)
        if protocol is None:
            raise error.ConnectionRefusedError(string=f"{maker!r} refused the connection")
        return protocol
    return maker()


@overload
def connectedServerAndClient(
    ServerClass: Callable[[], _S],
    ClientClass: Callable[[], _C],
    clientTransportFactory: Callable[[Any], FakeTransport] = ...,
    serverTransportFactory: Callable[[Any], FakeTransport] = ...,
    debug: bool = ...,
    greet: bool = ...,
    clock: IReactorTime | None = ...,
) -> tuple[_C, _S, IOPump]: ...


@overload
def connectedServerAndClient(
    ServerClass: IProtocolFactory | Callable[[], IProtocol],
    ClientClass: IProtocolFactory | Callable[[], IProtocol],
    clientTransportFactory: Callable[[Any], FakeTransport] = ...,
    serverTransportFactory: Callable[[Any], FakeTransport] = ...,
    debug: bool = ...,
    greet: bool = ...,
    clock: IReactorTime | None = ...,
) -> tuple[Any, Any, IOPump]: ...


def connectedServerAndClient(
    ServerClass: Any,
    ClientClass: Any,
    clientTransportFactory: Callable[[Any], FakeTransport] = makeFakeClient,
    serverTransportFactory: Callable[[Any], FakeTransport] = makeFakeServer,
    debug: bool = False,
    greet: bool = True,
    clock: IReactorTime | None = None,
) -> tuple[Any, Any, IOPump]:
    """
    Make a server and a client protocol connected in memory.

    Args:
        ServerClass: a protocol factory (``IProtocolFactory``, whose
            ``buildProtocol`` is given the client's address) or a callable
            with no arguments returning the server protocol.
        ClientClass: the same, for the client.
        clientTransportFactory: makes the client's transport from its protocol.
        serverTransportFactory: makes the server's transport from its protocol.
        debug: print the traffic.
        greet: flush once before returning.
        clock: see :class:`IOPump`.

    Returns:
        ``(client, server, pump)``.

    Raises:
        ConnectionRefusedError: a factory's ``buildProtocol`` returned ``None``.
    """
    server = _build(ServerClass, CLIENT_ADDRESS)
    client = _build(ClientClass, SERVER_ADDRESS)
    clientIO = clientTransportFactory(client)
    serverIO = serverTransportFactory(server)
    return client, server, connect(server, serverIO, client, clientIO, debug, greet, clock)
