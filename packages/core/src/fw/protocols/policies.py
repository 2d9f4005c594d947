"""
Policies that wrap a protocol factory without changing its protocols.

A :class:`WrappingFactory` builds each protocol of the factory it wraps and
puts a :class:`ProtocolWrapper` between it and the transport: the wrapper is
the transport's protocol and the wrapped protocol's transport, so it sees
every byte both ways and can count, log, delay or refuse.  The policies here
are all built that way:

- :class:`ThrottlingFactory`: bandwidth limits (bytes per second read and
  written, shared by all connections), a connection count limit and a
  connection rate limit.
- :class:`LimitConnectionsByPeer`: at most so many connections per peer host.
- :class:`LimitTotalConnectionsFactory`: at most so many connections, the
  others refused or given an overflow protocol.
- :class:`TimeoutMixin` (for your own protocols) and :class:`TimeoutFactory`
  (for any factory): close connections idle for too long.
- :class:`TrafficLoggingFactory` and :class:`SpewingFactory`: log traffic.

Wrapping is transparent: the wrapper provides every interface its transport
provides (``ITCPTransport``, ``ISSLTransport``...), passes producers,
half-closes, addresses and log prefixes through, and forwards any other
attribute to the transport, so a wrapped protocol behaves as it would
unwrapped.
"""

from __future__ import annotations

import sys
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any

from zope.interface import directlyProvides, implementer, providedBy
from zope.interface.declarations import Declaration

from fw.internet import error
from fw.internet._interfaces_core import (
    ILoggingContext,
    IProducer,
    IPushProducer,
    IReactorTime,
)
from fw.internet._interfaces_protocol import (
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IProtocol,
    IProtocolFactory,
)
from fw.internet._interfaces_transport import ITransport
from fw.internet.protocol import ClientFactory, Protocol, ServerFactory, connectionDone
from fw.logger import Logger
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress, IDelayedCall
    from fw.internet._interfaces_transport import IConnector

__all__ = [
    "LimitConnectionsByPeer",
    "LimitTotalConnectionsFactory",
    "ProtocolWrapper",
    "SpewingFactory",
    "SpewingProtocol",
    "ThrottlingFactory",
    "ThrottlingProtocol",
    "TimeoutFactory",
    "TimeoutMixin",
    "TimeoutProtocol",
    "TrafficLoggingFactory",
    "TrafficLoggingProtocol",
    "WrappingFactory",
]

# The optional interfaces a transport looks for on its protocol: a wrapper
# provides each one exactly when the protocol it wraps does, so the transport
# treats the pair as it would treat the wrapped protocol alone (a protocol
# that is not half-closeable has its connection closed at end of input...).
_PROTOCOL_SIDE = (IHalfCloseableProtocol, IFileDescriptorReceiver, IHandshakeListener)

_log = Logger(namespace="fw.protocols.policies")
_spewLog = Logger(namespace="fw.protocols.policies.spew")


def _globalReactorTime() -> IReactorTime:
    # Looked up when used: nothing may import the global reactor at import time.
    from fw.internet import reactor

    clock: IReactorTime = reactor  # type: ignore[assignment]
    return clock


def _cancelQuietly(call: IDelayedCall | None) -> None:
    if call is not None and call.active():
        call.cancel()


# -- wrapping ----------------------------------------------------------------


@implementer(ITransport)
class ProtocolWrapper(Protocol):
    """
    Stands between a transport and a protocol: the transport's protocol, and
    the wrapped protocol's transport.

    Every call is passed on unchanged; subclasses override the ones they
    police.  Once connected the wrapper provides all the interfaces its
    transport provides, plus ``IHalfCloseableProtocol``,
    ``IFileDescriptorReceiver`` and ``IHandshakeListener`` when the wrapped
    protocol provides them.  Attributes it does not define (``setTcpNoDelay``,
    ``getPeerCertificate``...) are looked up on the transport.

    Events reach the wrapped protocol in the usual order::

        makeConnection -> dataReceived* [-> readConnectionLost]
            [-> writeConnectionLost] -> connectionLost

    Args:
        factory: the :class:`WrappingFactory` that built this wrapper.
        wrappedProtocol: the protocol to wrap.

    Attributes:
        wrappedProtocol: the wrapped protocol.
        disconnecting: true once the wrapped protocol called
            :meth:`loseConnection`.
    """

    disconnecting: bool = False
    # The wrapper forwards every interface of whatever transport it is given,
    # so the transport is typed as that: anything.
    transport: Any = None
    factory: Any

    def __init__(self, factory: WrappingFactory, wrappedProtocol: IProtocol) -> None:
        self.factory = factory
        self.wrappedProtocol = wrappedProtocol
        self._provideInterfaces()

    def _provideInterfaces(self) -> None:
        """Provide what the transport provides, and the wrapped protocol's optional interfaces."""
        transportSide: list[Any] = []
        if self.transport is not None:
            transportSide = [
                i
                for i in providedBy(self.transport).flattened()
                if i not in _PROTOCOL_SIDE and i is not IProtocol
            ]
        wrapped: object = self.__dict__.get("wrappedProtocol")
        protocolSide = [i for i in _PROTOCOL_SIDE if wrapped is not None and i.providedBy(wrapped)]
        directlyProvides(self, Declaration(*transportSide, *protocolSide))

    def logPrefix(self) -> str:
        """The wrapped protocol's log prefix, or its class name."""
        wrapped = self.wrappedProtocol
        if ILoggingContext.providedBy(wrapped):
            return str(wrapped.logPrefix())
        return wrapped.__class__.__name__

    def makeConnection(self, transport: Any) -> None:
        """Attach to ``transport``, register with the factory, connect the wrapped protocol."""
        self.connected = True
        self.transport = transport
        self._provideInterfaces()
        self.connectionMade()
        self.factory.registerProtocol(self)
        self.wrappedProtocol.makeConnection(self)

    # -- what the wrapped protocol calls: passed to the transport

    def write(self, data: bytes) -> None:
        """Write ``data`` to the transport."""
        self.transport.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write each of ``data``'s items to the transport."""
        self.transport.writeSequence(data)

    def loseConnection(self) -> None:
        """Close the transport once its buffer is written."""
        self.disconnecting = True
        self.transport.loseConnection()

    def abortConnection(self) -> None:
        """Close the transport now, dropping buffered data."""
        self.disconnecting = True
        self.transport.abortConnection()

    def loseWriteConnection(self) -> None:
        """Shut the transport's write side once its buffer is written (half-close)."""
        self.transport.loseWriteConnection()

    def getPeer(self) -> IAddress:
        """The transport's peer address."""
        peer: IAddress = self.transport.getPeer()
        return peer

    def getHost(self) -> IAddress:
        """The transport's own address."""
        host: IAddress = self.transport.getHost()
        return host

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register ``producer`` with the transport."""
        self.transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """Unregister the transport's producer."""
        self.transport.unregisterProducer()

    def stopConsuming(self) -> None:
        """Unregister the producer and close the transport."""
        self.transport.stopConsuming()

    def pauseProducing(self) -> None:
        """Stop the transport reading."""
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        """Let the transport read again."""
        self.transport.resumeProducing()

    def stopProducing(self) -> None:
        """Stop the transport for good (it closes)."""
        self.transport.stopProducing()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the wrapper lacks; special names are never
        # forwarded (adaptation, copying and pickling must see the wrapper).
        if name.startswith("__") or name in ("transport", "wrappedProtocol"):
            raise AttributeError(name)
        transport = self.__dict__.get("transport")
        if transport is None:
            raise AttributeError(
                f"{type(self).__name__!r} has no attribute {name!r} (no transport)"
            )
        return getattr(transport, name)

    # -- what the transport calls: passed to the wrapped protocol

    def dataReceived(self, data: bytes) -> None:
        """Pass ``data`` to the wrapped protocol."""
        self.wrappedProtocol.dataReceived(data)

    def readConnectionLost(self) -> None:
        """The peer finished sending: tell a half-closeable wrapped protocol, else close."""
        wrapped: Any = self.wrappedProtocol
        if IHalfCloseableProtocol.providedBy(wrapped):
            wrapped.readConnectionLost()
        else:
            self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        """This side's write direction is shut: tell a half-closeable wrapped protocol."""
        wrapped: Any = self.wrappedProtocol
        if IHalfCloseableProtocol.providedBy(wrapped):
            wrapped.writeConnectionLost()

    def fileDescriptorReceived(self, descriptor: int) -> None:
        """Pass a descriptor received over a UNIX socket on."""
        wrapped: Any = self.wrappedProtocol
        wrapped.fileDescriptorReceived(descriptor)

    def handshakeCompleted(self) -> None:
        """Pass the end of a TLS handshake on."""
        wrapped: Any = self.wrappedProtocol
        wrapped.handshakeCompleted()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Unregister from the factory, then tell the wrapped protocol."""
        self.connected = False
        self.factory.unregisterProtocol(self)
        self.wrappedProtocol.connectionLost(reason)


class WrappingFactory(ClientFactory):
    """
    Wraps each protocol built by another factory in :attr:`protocol` (a
    :class:`ProtocolWrapper` subclass).  Usable on both ends: client
    connection events are passed to the wrapped factory too.

    Args:
        wrappedFactory: the factory whose protocols are wrapped.

    Attributes:
        wrappedFactory: the wrapped factory.
        protocols: the connected wrappers (as keys).
    """

    protocol: Any = ProtocolWrapper

    def __init__(self, wrappedFactory: IProtocolFactory) -> None:
        self.wrappedFactory = wrappedFactory
        self.protocols: dict[ProtocolWrapper, int] = {}

    def logPrefix(self) -> str:
        """The wrapped factory's log prefix, or its class name."""
        wrapped: Any = self.wrappedFactory
        if ILoggingContext.providedBy(wrapped):
            return str(wrapped.logPrefix())
        return str(wrapped.__class__.__name__)

    def doStart(self) -> None:
        """Start the wrapped factory, then this one."""
        self.wrappedFactory.doStart()
        super().doStart()

    def doStop(self) -> None:
        """Stop the wrapped factory, then this one."""
        self.wrappedFactory.doStop()
        super().doStop()

    def startedConnecting(self, connector: IConnector) -> None:
        """Pass the news on to a wrapped client factory."""
        wrapped: Any = self.wrappedFactory
        if hasattr(wrapped, "startedConnecting"):
            wrapped.startedConnecting(connector)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Pass the failure on to a wrapped client factory."""
        wrapped: Any = self.wrappedFactory
        if hasattr(wrapped, "clientConnectionFailed"):
            wrapped.clientConnectionFailed(connector, reason)

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """Pass the loss on to a wrapped client factory."""
        wrapped: Any = self.wrappedFactory
        if hasattr(wrapped, "clientConnectionLost"):
            wrapped.clientConnectionLost(connector, reason)

    def buildProtocol(self, addr: IAddress) -> Any:
        """
        Build the wrapped factory's protocol for ``addr`` and wrap it; refuse
        the connection (return ``None``) when the wrapped factory does.
        """
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        return self.protocol(self, wrapped)

    def registerProtocol(self, p: ProtocolWrapper) -> None:
        """A wrapper connected (called by it)."""
        self.protocols[p] = 1

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """A wrapper's connection was lost (called by it)."""
        self.protocols.pop(p, None)


# -- throttling --------------------------------------------------------------


@implementer(IPushProducer)
class _GatedProducer:
    """
    Stands between a transport and the producer registered with it, so that
    two parties can pause the producer: the transport (its buffer is full)
    and a throttle (the write budget is spent).  The producer runs only when
    neither holds it.  A pull producer's requests for more are held while
    throttled and passed on when the throttle lifts.
    """

    def __init__(self, producer: IProducer, streaming: bool) -> None:
        self.producer: Any = producer
        self.streaming = streaming
        self.consumerPaused = False
        self.throttled = False
        self._pullWanted = False

    def pauseProducing(self) -> None:
        if not self.consumerPaused:
            self.consumerPaused = True
            if not self.throttled:
                self.producer.pauseProducing()

    def resumeProducing(self) -> None:
        if not self.streaming:
            if self.throttled:
                self._pullWanted = True
            else:
                self.producer.resumeProducing()
            return
        if self.consumerPaused:
            self.consumerPaused = False
            if not self.throttled:
                self.producer.resumeProducing()

    def stopProducing(self) -> None:
        self.producer.stopProducing()

    def throttle(self) -> None:
        if self.throttled:
            return
        self.throttled = True
        if self.streaming and not self.consumerPaused:
            self.producer.pauseProducing()

    def unthrottle(self) -> None:
        if not self.throttled:
            return
        self.throttled = False
        if self.streaming:
            if not self.consumerPaused:
                self.producer.resumeProducing()
        elif self._pullWanted:
            self._pullWanted = False
            self.producer.resumeProducing()


class ThrottlingProtocol(ProtocolWrapper):
    """
    The wrapper of :class:`ThrottlingFactory`: counts the bytes each way for
    the factory, and pauses reading or the registered producer when told.

    Reading paused by the wrapped protocol itself stays paused when the
    throttle lifts, and a producer paused by the transport stays paused too.

    Attributes:
        producer: the producer the wrapped protocol registered, or ``None``.
    """

    factory: ThrottlingFactory
    producer: IProducer | None = None
    _gate: _GatedProducer | None = None
    _readThrottled = False
    _readPausedByProtocol = False

    def write(self, data: bytes) -> None:
        """Count ``data`` against the write budget, then write it."""
        self.factory.registerWritten(len(data))
        super().write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Count the items against the write budget, then write them."""
        items = list(data)
        self.factory.registerWritten(sum(len(item) for item in items))
        super().writeSequence(items)

    def dataReceived(self, data: bytes) -> None:
        """Count ``data`` against the read budget, then pass it on."""
        self.factory.registerRead(len(data))
        super().dataReceived(data)

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register ``producer`` with the transport, through a gate the throttle can close."""
        self.producer = producer
        self._gate = _GatedProducer(producer, streaming)
        if self.factory.writesThrottled:
            self._gate.throttle()
        self.transport.registerProducer(self._gate, streaming)

    def unregisterProducer(self) -> None:
        """Unregister the producer."""
        self.producer = None
        self._gate = None
        self.transport.unregisterProducer()

    def pauseProducing(self) -> None:
        """The wrapped protocol pauses reading."""
        self._readPausedByProtocol = True
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        """The wrapped protocol resumes reading (unless the throttle still holds it)."""
        self._readPausedByProtocol = False
        if not self._readThrottled:
            self.transport.resumeProducing()

    def throttleReads(self) -> None:
        """Stop reading until :meth:`unthrottleReads`."""
        if not self._readThrottled:
            self._readThrottled = True
            self.transport.pauseProducing()

    def unthrottleReads(self) -> None:
        """Read again (unless the wrapped protocol paused reading itself)."""
        if self._readThrottled:
            self._readThrottled = False
            if not self._readPausedByProtocol:
                self.transport.resumeProducing()

    def throttleWrites(self) -> None:
        """Pause the registered producer until :meth:`unthrottleWrites`."""
        if self._gate is not None:
            self._gate.throttle()

    def unthrottleWrites(self) -> None:
        """Let the registered producer run again (unless the transport holds it)."""
        if self._gate is not None:
            self._gate.unthrottle()


class ThrottlingFactory(WrappingFactory):
    """
    Limits the bandwidth and the connections of the factory it wraps.

    Bandwidth is measured over windows of :attr:`period` seconds, shared by
    all connections: when more than ``readLimit * period`` bytes were read
    in a window, every connection stops reading for as long as the excess
    would take at the limit; likewise writes, by pausing the producers the
    protocols registered (writes made without a producer cannot be held
    back, and are only counted).

    Args:
        wrappedFactory: the factory to limit.
        maxConnectionCount: the most connections at once; more are refused.
        readLimit: the most bytes per second read, or ``None``.
        writeLimit: the most bytes per second written, or ``None``.
        period: the length of a measuring window, in seconds.
        maxConnectionRate: the most new connections per second (over the
            last ``period``), or ``None``; more are refused.
        clock: the :class:`~fw.internet.interfaces.IReactorTime` that
            schedules the checks; the global reactor when ``None``.

    Attributes:
        connectionCount: the connections open now.
        readThisSecond: bytes read in the current window.
        writtenThisSecond: bytes written in the current window.
        writesThrottled: true while producers are held back.
        readsThrottled: true while reading is held back.
    """

    protocol: Any = ThrottlingProtocol

    def __init__(
        self,
        wrappedFactory: IProtocolFactory,
        maxConnectionCount: int = sys.maxsize,
        readLimit: float | None = None,
        writeLimit: float | None = None,
        *,
        period: float = 1.0,
        maxConnectionRate: float | None = None,
        clock: IReactorTime | None = None,
    ) -> None:
        super().__init__(wrappedFactory)
        if period <= 0:
            raise ValueError(f"period must be positive, not {period!r}")
        self.connectionCount = 0
        self.maxConnectionCount = maxConnectionCount
        self.readLimit = readLimit
        self.writeLimit = writeLimit
        self.period = period
        self.maxConnectionRate = maxConnectionRate
        self.clock = clock
        self.readThisSecond = 0
        self.writtenThisSecond = 0
        self.readsThrottled = False
        self.writesThrottled = False
        self.unthrottleReadID: IDelayedCall | None = None
        self.checkReadBandwidthID: IDelayedCall | None = None
        self.unthrottleWriteID: IDelayedCall | None = None
        self.checkWriteBandwidthID: IDelayedCall | None = None
        self._recentConnections: deque[float] = deque()

    def _clock(self) -> IReactorTime:
        return self.clock if self.clock is not None else _globalReactorTime()

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule ``func`` (on :attr:`clock`); overridable, as in Twisted."""
        return self._clock().callLater(period, func)

    def registerWritten(self, length: int) -> None:
        """Count ``length`` bytes written."""
        self.writtenThisSecond += length

    def registerRead(self, length: int) -> None:
        """Count ``length`` bytes read."""
        self.readThisSecond += length

    def checkReadBandwidth(self) -> None:
        """End a read window: throttle reads if it went over, then start the next."""
        if self.readLimit is not None:
            budget = self.readLimit * self.period
            if self.readThisSecond > budget:
                self.throttleReads()
                # Hold reading back as long as the excess takes at the limit.
                throttleTime = (self.readThisSecond / budget - 1.0) * self.period
                _cancelQuietly(self.unthrottleReadID)
                self.unthrottleReadID = self.callLater(throttleTime, self.unthrottleReads)
        self.readThisSecond = 0
        self.checkReadBandwidthID = self.callLater(self.period, self.checkReadBandwidth)

    def checkWriteBandwidth(self) -> None:
        """End a write window: throttle writes if it went over, then start the next."""
        if self.writeLimit is not None:
            budget = self.writeLimit * self.period
            if self.writtenThisSecond > budget:
                self.throttleWrites()
                throttleTime = (self.writtenThisSecond / budget - 1.0) * self.period
                _cancelQuietly(self.unthrottleWriteID)
                self.unthrottleWriteID = self.callLater(throttleTime, self.unthrottleWrites)
        self.writtenThisSecond = 0
        self.checkWriteBandwidthID = self.callLater(self.period, self.checkWriteBandwidth)

    def throttleReads(self) -> None:
        """Stop every connection reading."""
        self.readsThrottled = True
        for p in list(self.protocols):
            p.throttleReads()

    def unthrottleReads(self) -> None:
        """Let every connection read again."""
        self.unthrottleReadID = None
        self.readsThrottled = False
        for p in list(self.protocols):
            p.unthrottleReads()

    def throttleWrites(self) -> None:
        """Pause every connection's producer."""
        self.writesThrottled = True
        for p in list(self.protocols):
            p.throttleWrites()

    def unthrottleWrites(self) -> None:
        """Resume every connection's producer."""
        self.unthrottleWriteID = None
        self.writesThrottled = False
        for p in list(self.protocols):
            p.unthrottleWrites()

    def _rateExceeded(self) -> bool:
        if self.maxConnectionRate is None:
            return False
        now = self._clock().seconds()
        recent = self._recentConnections
        while recent and recent[0] <= now - self.period:
            recent.popleft()
        if len(recent) >= self.maxConnectionRate * self.period:
            return True
        recent.append(now)
        return False

    def buildProtocol(self, addr: IAddress) -> Any:
        """
        Wrap a new protocol, unless there are :attr:`maxConnectionCount`
        connections already or the connection rate is over its limit (the
        connection is then refused and a message logged).
        """
        if self.connectionCount >= self.maxConnectionCount:
            _log.info(
                "refusing a connection from {peer}: {count} connections is the limit",
                peer=addr,
                count=self.maxConnectionCount,
            )
            return None
        if self._rateExceeded():
            _log.info(
                "refusing a connection from {peer}: over {rate} connections per second",
                peer=addr,
                rate=self.maxConnectionRate,
            )
            return None
        p = super().buildProtocol(addr)
        if p is None:
            return None
        if self.connectionCount == 0:
            if self.readLimit is not None and self.checkReadBandwidthID is None:
                self.checkReadBandwidth()
            if self.writeLimit is not None and self.checkWriteBandwidthID is None:
                self.checkWriteBandwidth()
        self.connectionCount += 1
        return p

    def registerProtocol(self, p: ProtocolWrapper) -> None:
        """A connection started: apply the throttles in force to it."""
        super().registerProtocol(p)
        if self.readsThrottled:
            p.throttleReads()
        if self.writesThrottled:
            p.throttleWrites()

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """A connection ended; after the last, stop measuring and lift the throttles."""
        super().unregisterProtocol(p)
        self.connectionCount -= 1
        if self.connectionCount == 0:
            for name in (
                "unthrottleReadID",
                "checkReadBandwidthID",
                "unthrottleWriteID",
                "checkWriteBandwidthID",
            ):
                _cancelQuietly(getattr(self, name))
                setattr(self, name, None)
            self.readsThrottled = self.writesThrottled = False
            self.readThisSecond = self.writtenThisSecond = 0


# -- connection limits -------------------------------------------------------


class LimitConnectionsByPeer(WrappingFactory):
    """
    Refuses a connection when its peer host already has
    :attr:`maxConnectionsPerPeer` connections.  Peers are told apart by
    host (``addr.host``; UNIX peers all count as one).

    Attributes:
        maxConnectionsPerPeer: the most connections one host may have.
        peerConnections: the open connections of each host.
    """

    maxConnectionsPerPeer: int = 5

    def __init__(self, wrappedFactory: IProtocolFactory) -> None:
        super().__init__(wrappedFactory)
        self.peerConnections: dict[object, int] = {}
        self._peerOf: dict[ProtocolWrapper, object] = {}

    def startFactory(self) -> None:
        """Start counting afresh."""
        self.peerConnections = {}
        self._peerOf = {}

    @staticmethod
    def _peerKey(addr: object) -> object:
        return getattr(addr, "host", type(addr).__name__)

    def buildProtocol(self, addr: IAddress) -> Any:
        """Wrap a new protocol, unless ``addr``'s host is at its limit."""
        key = self._peerKey(addr)
        count = self.peerConnections.get(key, 0)
        if count >= self.maxConnectionsPerPeer:
            return None
        p = super().buildProtocol(addr)
        if p is None:
            return None
        self.peerConnections[key] = count + 1
        self._peerOf[p] = key
        return p

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """Count the connection's host down."""
        super().unregisterProtocol(p)
        key = self._peerOf.pop(p, None)
        if key is None or key not in self.peerConnections:
            return
        self.peerConnections[key] -= 1
        if self.peerConnections[key] <= 0:
            del self.peerConnections[key]


class LimitTotalConnectionsFactory(ServerFactory):
    """
    A server factory that serves at most :attr:`connectionLimit`
    connections at once.  Past the limit, a connection gets an
    :attr:`overflowProtocol` when one is set (to send a "too busy" message,
    say), else it is refused.  Overflow connections count too.

    Set :attr:`protocol` as with any factory; each protocol is wrapped in a
    :class:`ProtocolWrapper` that counts it down when its connection ends.

    Attributes:
        connectionCount: the connections open now.
        connectionLimit: the most connections, or ``None`` for no limit.
        overflowProtocol: the protocol (class) for connections past the
            limit, or ``None`` to refuse them.
    """

    connectionCount: int = 0
    connectionLimit: int | None = None
    overflowProtocol: Callable[[], Protocol] | None = None

    def buildProtocol(self, addr: IAddress) -> Any:
        """Build a wrapped protocol, an overflow one, or refuse (``None``)."""
        if self.connectionLimit is None or self.connectionCount < self.connectionLimit:
            if self.protocol is None:
                raise TypeError(f"{type(self).__name__}.protocol is not set")
            wrapped = self.protocol()
        elif self.overflowProtocol is None:
            return None
        else:
            wrapped = self.overflowProtocol()
        wrapped.factory = self
        protocol = ProtocolWrapper(self, wrapped)  # type: ignore[arg-type]
        self.connectionCount += 1
        return protocol

    def registerProtocol(self, p: ProtocolWrapper) -> None:
        """Nothing to do: counted when built."""

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """Count a connection down."""
        self.connectionCount -= 1


# -- timeouts ----------------------------------------------------------------


class TimeoutProtocol(ProtocolWrapper):
    """
    The wrapper of :class:`TimeoutFactory`: closes the connection after
    :attr:`timeoutPeriod` seconds without a byte read or written.

    Args:
        factory: the :class:`TimeoutFactory`.
        wrappedProtocol: the protocol to wrap.
        timeoutPeriod: the idle time allowed, in seconds, or ``None``.

    Attributes:
        timeoutPeriod: the idle time allowed, or ``None`` for none.
        timeoutCall: the pending timeout, or ``None``.
    """

    factory: TimeoutFactory

    def __init__(
        self, factory: TimeoutFactory, wrappedProtocol: IProtocol, timeoutPeriod: float | None
    ) -> None:
        super().__init__(factory, wrappedProtocol)
        self.timeoutCall: IDelayedCall | None = None
        self.timeoutPeriod: float | None = None
        self.setTimeout(timeoutPeriod)

    def setTimeout(self, timeoutPeriod: float | None = None) -> None:
        """Restart the timer with ``timeoutPeriod`` seconds, or stop it (``None``)."""
        self.cancelTimeout()
        self.timeoutPeriod = timeoutPeriod
        if timeoutPeriod is not None:
            self.timeoutCall = self.factory.callLater(timeoutPeriod, self.timeoutFunc)

    def cancelTimeout(self) -> None:
        """Stop the timer."""
        self.timeoutPeriod = None
        call, self.timeoutCall = self.timeoutCall, None
        _cancelQuietly(call)

    def resetTimeout(self) -> None:
        """Something happened: start the idle period again."""
        if self.timeoutCall is not None and self.timeoutPeriod is not None:
            self.timeoutCall.reset(self.timeoutPeriod)

    def write(self, data: bytes) -> None:
        """Write, and reset the timer."""
        self.resetTimeout()
        super().write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write, and reset the timer."""
        self.resetTimeout()
        super().writeSequence(data)

    def dataReceived(self, data: bytes) -> None:
        """Reset the timer, and pass ``data`` on."""
        self.resetTimeout()
        super().dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop the timer, and pass the loss on."""
        self.cancelTimeout()
        super().connectionLost(reason)

    def timeoutFunc(self) -> None:
        """The connection was idle too long: close it."""
        self.timeoutCall = None
        self.loseConnection()


class TimeoutFactory(WrappingFactory):
    """
    Closes the connections of the factory it wraps after ``timeoutPeriod``
    idle seconds (nothing read nor written).

    Args:
        wrappedFactory: the factory to wrap.
        timeoutPeriod: the idle time allowed, in seconds (30 minutes by
            default, as in Twisted).
        clock: the :class:`~fw.internet.interfaces.IReactorTime` for the
            timers; the global reactor when ``None``.
    """

    protocol: Any = TimeoutProtocol

    def __init__(
        self,
        wrappedFactory: IProtocolFactory,
        timeoutPeriod: float = 30 * 60,
        clock: IReactorTime | None = None,
    ) -> None:
        super().__init__(wrappedFactory)
        self.timeoutPeriod = timeoutPeriod
        self.clock = clock

    def buildProtocol(self, addr: IAddress) -> Any:
        """Wrap a new protocol with this factory's timeout."""
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        return self.protocol(self, wrapped, timeoutPeriod=self.timeoutPeriod)

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule ``func`` on :attr:`clock`; overridable."""
        clock = self.clock if self.clock is not None else _globalReactorTime()
        return clock.callLater(period, func)


class TimeoutMixin:
    """
    A timeout for your own protocol: mix it in, call :meth:`setTimeout` (in
    ``connectionMade``, say) and :meth:`resetTimeout` whenever something
    happens (in ``dataReceived``); :meth:`timeoutConnection` runs if the
    period passes first, and by default closes the transport.  Call
    ``setTimeout(None)`` in ``connectionLost``.

    Tests set :attr:`clock` to a :class:`~fw.internet.task.Clock` (or
    override :meth:`callLater`).

    Attributes:
        timeOut: the current period, in seconds, or ``None``.
        clock: the :class:`~fw.internet.interfaces.IReactorTime` for the
            timer; the global reactor when ``None``.
    """

    timeOut: float | None = None
    clock: IReactorTime | None = None
    __timeoutCall: IDelayedCall | None = None

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule ``func`` after ``period`` seconds on :attr:`clock`."""
        clock = self.clock if self.clock is not None else _globalReactorTime()
        return clock.callLater(period, func)

    def resetTimeout(self) -> None:
        """Start the current period again (nothing if there is no timeout)."""
        if self.__timeoutCall is not None and self.timeOut is not None:
            self.__timeoutCall.reset(self.timeOut)

    def setTimeout(self, period: float | None) -> float | None:
        """
        Change the timeout to ``period`` seconds from now, or stop it
        (``None``).

        Returns:
            The previous period.
        """
        previous = self.timeOut
        self.timeOut = period
        call = self.__timeoutCall
        if call is not None:
            if period is None:
                self.__timeoutCall = None
                try:
                    call.cancel()
                except (error.AlreadyCalled, error.AlreadyCancelled):
                    pass
            else:
                call.reset(period)
        elif period is not None:
            self.__timeoutCall = self.callLater(period, self.__timedOut)
        return previous

    def __timedOut(self) -> None:
        self.__timeoutCall = None
        self.timeoutConnection()

    def timeoutConnection(self) -> None:
        """The timeout passed: close the transport.  Override to do more."""
        transport: Any = getattr(self, "transport", None)
        if transport is not None:
            transport.loseConnection()


# -- logging -----------------------------------------------------------------


class TrafficLoggingProtocol(ProtocolWrapper):
    """
    The wrapper of :class:`TrafficLoggingFactory`: writes a line to
    ``logfile`` for each event.  Lines are ``*`` (connected), ``C N: data``
    (received), ``S N: data`` (sent), ``SV N: [data...]`` (a sequence sent),
    ``S N: *`` (closing) and ``C N: reason`` (lost), ``N`` being the
    connection's number.

    Args:
        factory: the :class:`TrafficLoggingFactory`.
        wrappedProtocol: the protocol to wrap.
        logfile: a text file-like object (``write`` and ``flush``).
        lengthLimit: data longer than this is cut short in the log.
        number: this connection's number.
    """

    def __init__(
        self,
        factory: WrappingFactory,
        wrappedProtocol: IProtocol,
        logfile: IO[str],
        lengthLimit: int | None = None,
        number: int = 0,
    ) -> None:
        super().__init__(factory, wrappedProtocol)
        self.logfile = logfile
        self.lengthLimit = lengthLimit
        self._number = number

    def _log(self, line: str) -> None:
        self.logfile.write(line + "\n")
        self.logfile.flush()

    def _mungeData(self, data: bytes) -> bytes:
        if self.lengthLimit and len(data) > self.lengthLimit:
            data = data[: max(0, self.lengthLimit - 12)] + b"<... elided>"
        return data

    def connectionMade(self) -> None:
        """Log the connection."""
        self._log("*")

    def dataReceived(self, data: bytes) -> None:
        """Log the received data, and pass it on."""
        self._log(f"C {self._number}: {self._mungeData(data)!r}")
        super().dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Log the loss, pass it on, and close a log file the factory opened."""
        self._log(f"C {self._number}: {reason.getErrorMessage()!r}")
        try:
            super().connectionLost(reason)
        finally:
            closer = getattr(self.factory, "_closeLog", None)
            if closer is not None:
                closer(self.logfile)

    def write(self, data: bytes) -> None:
        """Log the data sent, and send it."""
        self._log(f"S {self._number}: {self._mungeData(data)!r}")
        super().write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Log the sequence sent, and send it."""
        items = list(data)
        self._log(f"SV {self._number}: {[self._mungeData(d) for d in items]!r}")
        super().writeSequence(items)

    def loseConnection(self) -> None:
        """Log the close, and close."""
        self._log(f"S {self._number}: *")
        super().loseConnection()


class TrafficLoggingFactory(WrappingFactory):
    """
    Logs the traffic of each connection of the factory it wraps to its own
    file, ``PREFIX-N`` (N counting connections from 1).  Override
    :meth:`open` to log elsewhere: it may return any text file-like object
    (an ``io.StringIO`` in tests).  Files opened by the default
    :meth:`open` are closed when their connection ends.

    Args:
        wrappedFactory: the factory to wrap.
        logfilePrefix: the log files' path prefix.
        lengthLimit: data longer than this is cut short in the log.
    """

    protocol: Any = TrafficLoggingProtocol
    _counter = 0

    def __init__(
        self, wrappedFactory: IProtocolFactory, logfilePrefix: str, lengthLimit: int | None = None
    ) -> None:
        super().__init__(wrappedFactory)
        self.logfilePrefix = logfilePrefix
        self.lengthLimit = lengthLimit
        self._ownFiles: weakref.WeakSet[IO[str]] = weakref.WeakSet()

    def open(self, name: str) -> IO[str]:
        """Open the log file ``name`` for writing."""
        f = open(name, "w", encoding="utf-8")  # noqa: SIM115 - closed with its connection
        self._ownFiles.add(f)
        return f

    def _closeLog(self, logfile: IO[str]) -> None:
        if logfile in self._ownFiles:
            self._ownFiles.discard(logfile)
            logfile.close()

    def buildProtocol(self, addr: IAddress) -> Any:
        """Wrap a new protocol, logging to a new file."""
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        self._counter += 1
        logfile = self.open(f"{self.logfilePrefix}-{self._counter}")
        return self.protocol(self, wrapped, logfile, self.lengthLimit, self._counter)

    def resetCounter(self) -> None:
        """Number the next connection 1 again."""
        self._counter = 0


class SpewingProtocol(ProtocolWrapper):
    """The wrapper of :class:`SpewingFactory`: logs every byte received and sent."""

    def dataReceived(self, data: bytes) -> None:
        """Log ``data``, and pass it on."""
        _spewLog.info("Received: {data!r}", data=data)
        super().dataReceived(data)

    def write(self, data: bytes) -> None:
        """Log ``data``, and send it."""
        _spewLog.info("Sending: {data!r}", data=data)
        super().write(data)


class SpewingFactory(WrappingFactory):
    """Logs (at info level, namespace ``fw.protocols.policies.spew``) all traffic of a factory."""

    protocol: Any = SpewingProtocol
