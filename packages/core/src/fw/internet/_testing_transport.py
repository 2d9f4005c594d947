"""
In-memory transports and simple protocols and producers for tests.

Public names are re-exported by :mod:`fw.internet.testing`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import (
    IAddress,
    IConsumer,
    IProducer,
    IPullProducer,
    IPushProducer,
)
from fw.internet._interfaces_protocol import IProtocol
from fw.internet._interfaces_transport import ITransport
from fw.internet.address import IPv4Address
from fw.internet.protocol import Protocol
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet.defer import Deferred

__all__ = [
    "AccumulatingProtocol",
    "NonStreamingProducer",
    "StringTransport",
    "StringTransportWithDisconnection",
]

ProducerState = Literal["producing", "paused", "stopped"]


def _mustBeBytes(data: object) -> None:
    if not isinstance(data, bytes):
        raise TypeError(f"Data must be bytes, not {type(data).__name__}")


@implementer(ITransport, IConsumer, IPushProducer)
class StringTransport:
    """
    A transport that keeps what is written to it, for protocol tests.

    It never delivers anything to a protocol and never closes by itself:
    the test inspects :meth:`value` and the flags below, and drives the
    protocol by calling its methods.

    As a consumer it records the registered producer; as a push producer
    (the transport pausing the protocol's reading) it records
    :attr:`producerState`.

    Args:
        hostAddress: what :meth:`getHost` returns; by default
            ``IPv4Address("TCP", "10.0.0.1", 12345)``.
        peerAddress: what :meth:`getPeer` returns; by default
            ``IPv4Address("TCP", "192.168.1.1", 54321)``.
        lenient: allow pausing and resuming after :meth:`loseConnection`.

    Attributes:
        disconnecting: set by :meth:`loseConnection`.
        disconnected: set by :meth:`abortConnection`.
        connected: true until a subclass says otherwise.
        producer: the registered producer, or ``None``.
        streaming: whether it is a push (``True``) or pull (``False``)
            producer; ``None`` when there is none.
        producerState: ``"producing"``, ``"paused"`` or ``"stopped"``, as set
            by :meth:`resumeProducing`, :meth:`pauseProducing` and
            :meth:`stopProducing`.
        hostAddr: the address given as ``hostAddress``, or ``None``.
        peerAddr: the address given as ``peerAddress``, or ``None``.
    """

    disconnecting: bool = False
    disconnected: bool = False
    producer: IProducer | None = None
    streaming: bool | None = None
    hostAddr: IAddress | None = None
    peerAddr: IAddress | None = None
    producerState: ProducerState = "producing"

    def __init__(
        self,
        hostAddress: IAddress | None = None,
        peerAddress: IAddress | None = None,
        lenient: bool = False,
    ) -> None:
        self._buffer: list[bytes] = []
        if hostAddress is not None:
            self.hostAddr = hostAddress
        if peerAddress is not None:
            self.peerAddr = peerAddress
        self.connected = True
        self._lenient = lenient

    # -- inspection, for tests --

    def clear(self) -> None:
        """Forget everything written so far (a test helper, not a transport method)."""
        self._buffer = []

    def value(self) -> bytes:
        """Return everything written since creation or the last :meth:`clear`."""
        if len(self._buffer) > 1:
            self._buffer = [b"".join(self._buffer)]
        return self._buffer[0] if self._buffer else b""

    # -- ITransport --

    def write(self, data: bytes) -> None:
        """
        Keep ``data``.

        Raises:
            TypeError: ``data`` is not ``bytes``.
        """
        _mustBeBytes(data)
        self._buffer.append(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """
        Keep each of ``data``'s elements in turn.

        Raises:
            TypeError: an element is not ``bytes``.
        """
        for chunk in data:
            self.write(chunk)

    def loseConnection(self) -> None:
        """Set :attr:`disconnecting`; nothing else happens."""
        self.disconnecting = True

    def abortConnection(self) -> None:
        """Set :attr:`disconnected` and :attr:`disconnecting`."""
        self.disconnected = True
        self.loseConnection()

    def getPeer(self) -> IAddress:
        """Return the peer address given, or ``192.168.1.1:54321`` over TCP."""
        if self.peerAddr is None:
            return IPv4Address("TCP", "192.168.1.1", 54321)
        return self.peerAddr

    def getHost(self) -> IAddress:
        """Return the host address given, or ``10.0.0.1:12345`` over TCP."""
        if self.hostAddr is None:
            return IPv4Address("TCP", "10.0.0.1", 12345)
        return self.hostAddr

    # -- IConsumer --

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """
        Record the producer.

        Raises:
            RuntimeError: a producer is already registered.
        """
        if self.producer is not None:
            raise RuntimeError("Cannot register two producers")
        self.producer = producer
        self.streaming = streaming

    def unregisterProducer(self) -> None:
        """
        Forget the producer.

        Raises:
            RuntimeError: no producer is registered.
        """
        if self.producer is None:
            raise RuntimeError("Cannot unregister a producer unless one is registered")
        self.producer = None
        self.streaming = None

    # -- IPushProducer --

    def _checkState(self) -> None:
        if self.disconnecting and not self._lenient:
            raise RuntimeError("Cannot resume producing after loseConnection")
        if self.producerState == "stopped":
            raise RuntimeError("Cannot resume a stopped producer")

    def pauseProducing(self) -> None:
        """
        Set :attr:`producerState` to ``"paused"``.

        Raises:
            RuntimeError: the producer was stopped, or the connection is
                closing (unless ``lenient``).
        """
        self._checkState()
        self.producerState = "paused"

    def stopProducing(self) -> None:
        """Set :attr:`producerState` to ``"stopped"``."""
        self.producerState = "stopped"

    def resumeProducing(self) -> None:
        """
        Set :attr:`producerState` to ``"producing"``.

        Raises:
            RuntimeError: the producer was stopped, or the connection is
                closing (unless ``lenient``).
        """
        self._checkState()
        self.producerState = "producing"


class StringTransportWithDisconnection(StringTransport):
    """
    A :class:`StringTransport` whose :meth:`loseConnection` tells the protocol.

    Set :attr:`protocol` before closing; the first :meth:`loseConnection`
    calls its ``connectionLost`` with a ``ConnectionDone`` failure.

    Attributes:
        protocol: the protocol to tell.
    """

    protocol: IProtocol

    def loseConnection(self) -> None:
        """Mark the transport closed and call the protocol's ``connectionLost`` once."""
        if self.connected:
            self.connected = False
            self.disconnecting = True
            self.protocol.connectionLost(Failure(error.ConnectionDone("Bye.")))


class AccumulatingProtocol(Protocol):
    """
    A protocol that records what happens to it.

    If its factory has a ``protocolConnectionMade`` Deferred, it is fired
    with the protocol (and cleared) on connection; :attr:`closedDeferred`,
    if set, is fired with ``None`` on disconnection.

    Attributes:
        made: true once connected.
        closed: true once disconnected.
        closedReason: the reason given to ``connectionLost``.
        closedDeferred: fired when the connection is lost.
        data: every byte received.
    """

    made: bool = False
    closed: bool = False
    closedReason: Failure | None = None
    closedDeferred: Deferred[None] | None = None
    data: bytes = b""

    def connectionMade(self) -> None:
        """Record the connection; fire the factory's ``protocolConnectionMade``."""
        self.made = True
        factory = self.factory
        waiting: Deferred[AccumulatingProtocol] | None = getattr(
            factory, "protocolConnectionMade", None
        )
        if waiting is not None:
            factory.protocolConnectionMade = None  # type: ignore[union-attr]
            waiting.callback(self)

    def dataReceived(self, data: bytes) -> None:
        """Append ``data`` to :attr:`data`."""
        self.data += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Record the disconnection; fire :attr:`closedDeferred`."""
        self.closed = True
        self.closedReason = reason
        if self.closedDeferred is not None:
            d, self.closedDeferred = self.closedDeferred, None
            d.callback(None)


@implementer(IPullProducer)
class NonStreamingProducer:
    """
    A pull producer that writes ``b"0"`` to ``b"9"``, one per
    ``resumeProducing``, then unregisters itself.

    Attributes:
        consumer: the consumer written to; ``None`` once done.
        counter: how many writes so far.
        stopped: true once :meth:`stopProducing` was called.
        result: a Deferred fired with ``None`` when done or stopped.
    """

    counter: int = 0
    stopped: bool = False

    def __init__(self, consumer: IConsumer) -> None:
        from fw.internet.defer import Deferred

        self.consumer: IConsumer | None = consumer
        self.result: Deferred[None] = Deferred()
        self._finished = False

    def resumeProducing(self) -> None:
        """
        Write the next number.

        Raises:
            RuntimeError: called after the tenth write or after stopping.
        """
        if self.consumer is None or self.counter >= 10:
            raise RuntimeError("BUG: resume after unregister/stop.")
        self.consumer.write(b"%d" % (self.counter,))
        self.counter += 1
        if self.counter == 10:
            self.consumer.unregisterProducer()
            self._done()

    def pauseProducing(self) -> None:
        """
        Raises:
            RuntimeError: always; a pull producer is never paused.
        """
        raise RuntimeError("BUG: pause should never be called.")

    def _done(self) -> None:
        self.consumer = None
        if not self._finished:
            self._finished = True
            self.result.callback(None)

    def stopProducing(self) -> None:
        """Stop for good and fire :attr:`result`."""
        self.stopped = True
        self._done()
