"""
The base of every descriptor-backed transport: write buffering, producers, closing.

:class:`FileDescriptor` turns ``write`` calls into non-blocking writes.  When
nothing is buffered it writes at once (saving a trip through the reactor for
the common small write); what the kernel does not take is buffered and
written when the descriptor is writable.  A registered streaming producer is
paused when the buffer grows past :attr:`FileDescriptor.highWaterMark` and
resumed when it drains below :attr:`FileDescriptor.lowWaterMark`, so a fast
writer to a slow reader does not grow memory without bound.

Subclasses provide ``fileno``, ``doRead``, ``writeSomeData`` and, for
half-close, ``_closeWriteConnection``.
"""

from __future__ import annotations

import socket
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import (
    IConsumer,
    IHalfCloseableDescriptor,
    IProducer,
    IPushProducer,
    IReadWriteDescriptor,
)
from fw.internet._interfaces_transport import ITransport
from fw.python.failure import Failure

__all__ = ["FileDescriptor", "isIPAddress", "isIPv6Address"]

#: What ``doRead``/``doWrite`` return when the other side closed cleanly.
CONNECTION_DONE = error.ConnectionDone()
#: What they return when the connection broke.
CONNECTION_LOST = error.ConnectionLost()


def isIPAddress(addr: str, family: int = socket.AF_INET) -> bool:
    """Return whether ``addr`` is a literal address of ``family`` (IPv4 by default)."""
    if "%" in addr and family == socket.AF_INET:
        return False
    if family == socket.AF_INET6:
        addr = addr.split("%", 1)[0]
    elif family == socket.AF_INET and addr.count(".") != 3:
        return False
    try:
        socket.inet_pton(family, addr)
    except (OSError, ValueError, UnicodeError):
        return False
    return True


def isIPv6Address(addr: str) -> bool:
    """Return whether ``addr`` is a literal IPv6 address (a ``%scope`` suffix allowed)."""
    return isIPAddress(addr, socket.AF_INET6)


@implementer(IPushProducer, IReadWriteDescriptor, IConsumer, ITransport, IHalfCloseableDescriptor)
class FileDescriptor:
    """
    A transport over a non-blocking file descriptor, driven by a reactor.

    Attributes:
        connected: true while the connection is open.
        disconnecting: true once ``loseConnection`` was called and the buffer
            is draining.
        disconnected: true once the connection is closed.
        producer: the registered producer, or ``None``.
        streamingProducer: whether it is a push producer.
        highWaterMark: buffered bytes above which a push producer is paused.
        lowWaterMark: buffered bytes below which it is resumed.
        bufferSize: the most bytes one read asks for.
    """

    connected = False
    disconnected = False
    disconnecting = False
    _writeDisconnecting = False
    _writeDisconnected = False
    producer: Any = None
    streamingProducer = False
    producerPaused = False
    # 64 KiB: a socket's default send buffer on Linux is about this size, so a
    # larger backlog means the peer is not keeping up.
    highWaterMark = 65536
    lowWaterMark = 16384
    bufferSize = 65536
    _reading = False
    _writing = False
    _pendingError: BaseException | None = None

    def __init__(self, reactor: Any = None) -> None:
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        self.reactor = reactor
        self._buffer = bytearray()

    # -- what subclasses provide

    def fileno(self) -> int:
        """Return the descriptor, or -1 once closed."""
        return -1

    def doRead(self) -> BaseException | None:
        """Read what is ready (called by the reactor); return why the connection is gone."""
        raise NotImplementedError(f"{type(self).__name__} must implement doRead")

    def getHost(self) -> Any:
        """This end's address."""
        raise NotImplementedError(f"{type(self).__name__} must implement getHost")

    def getPeer(self) -> Any:
        """The other end's address."""
        raise NotImplementedError(f"{type(self).__name__} must implement getPeer")

    def writeSomeData(self, data: bytearray | bytes) -> int | BaseException:
        """Write what the descriptor takes of ``data``; return the count or an error."""
        raise NotImplementedError

    def _closeWriteConnection(self) -> None:
        """Half-close: no more writes (the subclass shuts its write side down)."""

    def logPrefix(self) -> str:
        """The name of this transport in log messages."""
        return "-"

    # -- reading and writing registration

    def startReading(self) -> None:
        """Ask the reactor to call ``doRead`` when there is data."""
        if not self._reading:
            self._reading = True
            self.reactor.addReader(self)

    def stopReading(self) -> None:
        """Stop reading."""
        if self._reading:
            self._reading = False
            self.reactor.removeReader(self)

    def startWriting(self) -> None:
        """Ask the reactor to call ``doWrite`` when the descriptor is writable."""
        if not self._writing:
            self._writing = True
            self.reactor.addWriter(self)

    def stopWriting(self) -> None:
        """Stop watching for writability."""
        if self._writing:
            self._writing = False
            self.reactor.removeWriter(self)

    # -- ITransport / IConsumer

    def write(self, data: bytes) -> None:
        """
        Send ``data``, in order, without blocking.

        Writes after the connection is closed (or its write side is shut) are
        dropped.
        """
        if not self.connected or self._writeDisconnected or not data:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"data must be bytes, not {type(data).__name__}")
            return
        buffer = self._buffer
        if not buffer and not self._writing:
            # Nothing queued: let the kernel take what it can now.
            result = self.writeSomeData(data)
            if isinstance(result, int):
                if result == len(data):
                    if self.producer is not None and not self.streamingProducer:
                        # A pull producer is asked for more from doWrite, so
                        # the descriptor must be watched for writability even
                        # though nothing is buffered.
                        self.startWriting()
                    return
                data = data[result:]
            elif isinstance(result, BaseException):
                # Report it from doWrite, in the reactor's dispatch, not from
                # inside the protocol's own call to write().
                self._pendingError = result
            else:
                raise TypeError(f"writeSomeData returned {result!r}")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        buffer += data
        self.startWriting()
        if (
            self.producer is not None
            and self.streamingProducer
            and not self.producerPaused
            and len(buffer) > self.highWaterMark
        ):
            self.producerPaused = True
            self.producer.pauseProducing()

    def writeSequence(self, iovec: Any) -> None:
        """Write each item of ``iovec`` in turn (as one write)."""
        data = b"".join(iovec)
        if data or not (self.connected and not self._writeDisconnected):
            self.write(data)

    def doWrite(self) -> BaseException | None:
        """Write buffered data now that the descriptor is writable (called by the reactor)."""
        if self._pendingError is not None:
            err, self._pendingError = self._pendingError, None
            return err
        buffer = self._buffer
        if buffer:
            result = self.writeSomeData(buffer)
            if isinstance(result, BaseException):
                return result
            if result:
                del buffer[:result]
        if buffer:
            if (
                self.producerPaused
                and self.streamingProducer
                and len(buffer) < self.lowWaterMark
                and not self.disconnecting
            ):
                self.producerPaused = False
                self.producer.resumeProducing()
            return None
        # Drained.
        self.stopWriting()
        if self.producer is not None and (not self.streamingProducer or self.producerPaused):
            self.producerPaused = False
            self.producer.resumeProducing()
            if self._buffer:
                return None
        if self.disconnecting:
            return self._postLoseConnection()
        if self._writeDisconnecting:
            self._writeDisconnected = True
            self._closeWriteConnection()
        return None

    def _postLoseConnection(self) -> BaseException | None:
        """The buffer has drained after ``loseConnection``: close."""
        return CONNECTION_DONE

    def loseConnection(self, _connDone: Failure | None = None) -> None:
        """Close once every buffered byte is written; stop reading now."""
        if self.connected and not self.disconnecting:
            if self._writeDisconnected:
                # Nothing more can be written: close straight away.
                self.stopReading()
                self.stopWriting()
                self.connectionLost(_connDone or Failure(CONNECTION_DONE))
                return
            self.stopReading()
            self.startWriting()
            self.disconnecting = True

    def loseWriteConnection(self) -> None:
        """Shut the write side once the buffer drains (half-close)."""
        self._writeDisconnecting = True
        self.startWriting()

    def abortConnection(self) -> None:
        """Close now, discarding buffered data."""
        if self.disconnected or not self.connected:
            return
        self._buffer.clear()
        self.stopReading()
        self.stopWriting()
        self.disconnecting = True
        self.reactor.callLater(0, self._abort)

    def _abort(self) -> None:
        if not self.disconnected:
            self.connectionLost(Failure(error.ConnectionAborted()))

    def readConnectionLost(self, reason: Failure) -> None:
        """The read side closed; by default the whole connection is lost."""
        self.connectionLost(reason)

    def writeConnectionLost(self, reason: Failure) -> None:
        """The write side closed; by default the whole connection is lost."""
        self.connectionLost(reason)

    def connectionLost(self, reason: Failure) -> None:
        """The connection is gone: stop everything (subclasses close and notify)."""
        self.disconnected = True
        self.connected = False
        self.stopReading()
        self.stopWriting()
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stopProducing()

    # -- producers

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """
        Register a producer of data for this transport.

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
        self.producerPaused = False
        if not streaming:
            producer.resumeProducing()  # type: ignore[attr-defined]

    def unregisterProducer(self) -> None:
        """Forget the registered producer."""
        self.producer = None
        self.producerPaused = False

    def stopConsuming(self) -> None:
        """Unregister the producer and close once the buffer drains."""
        self.unregisterProducer()
        self.loseConnection()

    # -- this transport as a producer (of the data it reads)

    def pauseProducing(self) -> None:
        """Stop reading until :meth:`resumeProducing`."""
        self.stopReading()

    def resumeProducing(self) -> None:
        """Read again."""
        if self.connected and not self.disconnecting:
            self.startReading()

    def stopProducing(self) -> None:
        """Close the connection."""
        self.loseConnection()
