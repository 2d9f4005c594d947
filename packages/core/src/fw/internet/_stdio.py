"""
This process's standard input and output as a transport (POSIX).

``StandardIO(protocol)`` reads standard input without blocking and hands it
to ``protocol.dataReceived``; ``transport.write`` writes standard output
without blocking.  The protocol hears::

    makeConnection -> connectionMade -> dataReceived*
        -> [readConnectionLost] [writeConnectionLost] -> connectionLost

End of input closes the connection (once output has drained), unless the
protocol provides ``IHalfCloseableProtocol``: then it hears
``readConnectionLost`` and may keep writing.

The descriptors are borrowed, not owned: they are put in non-blocking mode
while in use, given back in their original mode, and never closed.
Standard input that cannot be watched for readiness (a regular file, or
``/dev/null``) is read in turns of the loop instead.
"""

from __future__ import annotations

import errno
import os
import select
import stat
from collections.abc import Iterable
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import (
    IAddress,
    IConsumer,
    IHalfCloseableDescriptor,
    IProducer,
    IPushProducer,
)
from fw.internet._interfaces_protocol import IHalfCloseableProtocol
from fw.internet._interfaces_transport import ITransport
from fw.internet._process import ProcessReader, ProcessWriter
from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["PipeAddress", "StandardIO"]

_log = Logger(namespace="fw.internet.stdio")


@implementer(IAddress)
class PipeAddress:
    """The address of either end of standard input or output (there is nothing to say)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PipeAddress)

    def __hash__(self) -> int:
        return hash(PipeAddress)

    def __repr__(self) -> str:
        return "PipeAddress()"


def _pollable(fd: int) -> bool:
    """Whether readiness can be watched on ``fd`` (not a regular file or /dev/null)."""
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return False
    if hasattr(select, "epoll"):
        poller = select.epoll()
        try:
            poller.register(fd, select.EPOLLIN)
        except OSError as e:
            return e.errno != errno.EPERM
        finally:
            poller.close()
    return True


class _FileReader(ProcessReader):
    """
    Reads a descriptor that is always "ready" (a regular file, ``/dev/null``)
    one chunk per turn of the loop, without the reactor's readiness API.
    """

    _pending: Any = None

    def startReading(self) -> None:
        """Read a chunk in the next turn of the loop, and so on."""
        if not self._reading:
            self._reading = True
            self._schedule()

    def stopReading(self) -> None:
        """Stop reading."""
        self._reading = False
        pending, self._pending = self._pending, None
        if pending is not None and pending.active():
            pending.cancel()

    def _schedule(self) -> None:
        if self._pending is None:
            self._pending = self.reactor.callLater(0, self._readChunk)

    def _readChunk(self) -> None:
        self._pending = None
        if not self._reading or self.disconnected:
            return
        try:
            why = self.doRead()
        except Exception:  # noqa: BLE001 - like a reactor: log it, close this descriptor
            _log.failure("error reading {fd}", fd=self.fd)
            why = CONNECTION_LOST
        if why is not None:
            self._reading = False
            self.connectionLost(Failure(why))
        elif self._reading:
            self._schedule()

    def doRead(self) -> BaseException | None:
        """Read a chunk: such a descriptor never blocks."""
        try:
            data = os.read(self.fd, self.bufferSize)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return CONNECTION_LOST
        if not data:
            return CONNECTION_DONE
        self.proc.childDataReceived(self.name, data)
        return None


class _FileWriter(ProcessWriter):
    """
    Writes a descriptor that is always "ready" (a regular file,
    ``/dev/null``): writes go through at once, and the rest of a short write
    in the next turn of the loop.
    """

    _pending: Any = None

    def startWriting(self) -> None:
        """Write in the next turn of the loop."""
        if not self._writing:
            self._writing = True
            self._pending = self.reactor.callLater(0, self._writeNow)

    def stopWriting(self) -> None:
        """Stop writing."""
        self._writing = False
        pending, self._pending = self._pending, None
        if pending is not None and pending.active():
            pending.cancel()

    def _writeNow(self) -> None:
        self._pending = None
        self._writing = False
        if self.disconnected:
            return
        try:
            why = self.doWrite()
        except Exception:  # noqa: BLE001 - like a reactor: log it, close this descriptor
            _log.failure("error writing {fd}", fd=self.fd)
            why = CONNECTION_LOST
        if why is not None:
            self.connectionLost(Failure(why))
        elif self._buffer and not self._writing:
            self.startWriting()


@implementer(ITransport, IProducer, IPushProducer, IConsumer, IHalfCloseableDescriptor)
class StandardIO:
    """
    Connect ``proto`` to this process's standard input and output.

    Args:
        proto: the protocol (an ``IProtocol``).
        stdin: the descriptor to read (0).
        stdout: the descriptor to write (1).
        reactor: the reactor; the global one by default.

    Attributes:
        protocol: the protocol; ``None`` once the connection is lost.
        disconnecting: :meth:`loseConnection` was called.
        disconnected: the connection is lost.
    """

    disconnecting = False
    disconnected = False

    def __init__(self, proto: Any, stdin: int = 0, stdout: int = 1, reactor: Any = None) -> None:
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        self.protocol: Any = proto
        writerFactory = ProcessWriter if _pollable(stdout) else _FileWriter
        readerFactory = ProcessReader if _pollable(stdin) else _FileReader
        self._writer: ProcessWriter | None = writerFactory(
            reactor, self, "write", stdout, closeOnLost=False
        )
        try:
            self._reader: ProcessReader | None = readerFactory(
                reactor, self, "read", stdin, closeOnLost=False
            )
        except BaseException:
            self._writer.connectionLost(Failure(CONNECTION_LOST))
            raise
        proto.makeConnection(self)

    # -- ITransport

    def write(self, data: bytes) -> None:
        """Write ``data`` to standard output."""
        if self._writer is not None:
            self._writer.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write each of ``data`` to standard output."""
        if self._writer is not None:
            self._writer.writeSequence(data)

    def loseConnection(self) -> None:
        """Stop reading; close once what was written is out."""
        self.disconnecting = True
        if self._writer is not None:
            self._writer.loseConnection()
        if self._reader is not None:
            # Only stop: closing standard input could make the writer of the
            # pipe die of SIGPIPE.
            self._reader.stopReading()

    def loseWriteConnection(self) -> None:
        """Stop writing once what was written is out; keep reading."""
        if self._writer is not None:
            self._writer.loseConnection()

    def getPeer(self) -> PipeAddress:
        """A placeholder address."""
        return PipeAddress()

    def getHost(self) -> PipeAddress:
        """A placeholder address."""
        return PipeAddress()

    # -- from the reader and the writer

    def childDataReceived(self, fd: str, data: bytes) -> None:
        """Standard input delivered ``data``."""
        self.protocol.dataReceived(data)

    def childConnectionLost(self, fd: str, reason: Failure) -> None:
        """Standard input (``"read"``) or output (``"write"``) closed."""
        if self.disconnected:
            return
        if fd == "read":
            self._readConnectionLost(reason)
        else:
            self._writeConnectionLost(reason)

    def _readConnectionLost(self, reason: Failure) -> None:
        self._reader = None
        if IHalfCloseableProtocol.providedBy(self.protocol):
            try:
                self.protocol.readConnectionLost()
            except Exception:  # noqa: BLE001 - the protocol's error closes only this transport
                _log.failure("{protocol!r}.readConnectionLost raised", protocol=self.protocol)
                self.connectionLost(Failure())
                return
            if self._writer is None:
                # Both directions are gone now.
                self.connectionLost(reason)
        else:
            self.connectionLost(reason)

    def _writeConnectionLost(self, reason: Failure) -> None:
        self._writer = None
        if self.disconnecting:
            self.connectionLost(reason)
            return
        if IHalfCloseableProtocol.providedBy(self.protocol):
            try:
                self.protocol.writeConnectionLost()
            except Exception:  # noqa: BLE001 - the protocol's error closes only this transport
                _log.failure("{protocol!r}.writeConnectionLost raised", protocol=self.protocol)
                self.connectionLost(Failure())
                return
        if self._reader is None and not self.disconnected:
            # Both directions are gone now.
            self.connectionLost(reason)

    def connectionLost(self, reason: Failure) -> None:
        """Both directions are done: release the descriptors and tell the protocol."""
        if self.disconnected:
            return
        self.disconnected = True
        reader, writer, protocol = self._reader, self._writer, self.protocol
        self._reader = self._writer = None
        self.protocol = None
        if writer is not None and not writer.disconnected:
            writer.connectionLost(reason)
        if reader is not None and not reader.disconnected:
            reader.connectionLost(reason)
        try:
            protocol.connectionLost(reason)
        except Exception:  # noqa: BLE001 - a protocol's error is logged
            _log.failure("{protocol!r}.connectionLost raised", protocol=protocol)

    def readConnectionLost(self, reason: Failure) -> None:
        """Not used: standard input reports its end through :meth:`childConnectionLost`."""
        self.childConnectionLost("read", reason)

    def writeConnectionLost(self, reason: Failure) -> None:
        """Not used: standard output reports its end through :meth:`childConnectionLost`."""
        self.childConnectionLost("write", reason)

    # -- IConsumer

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Let ``producer`` write to standard output (it is stopped if that is closed)."""
        if self._writer is None:
            producer.stopProducing()
        else:
            self._writer.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        if self._writer is not None:
            self._writer.unregisterProducer()

    # -- IPushProducer: standard input

    def stopProducing(self) -> None:
        """Close the connection."""
        self.loseConnection()

    def pauseProducing(self) -> None:
        """Stop reading standard input until :meth:`resumeProducing`."""
        if self._reader is not None:
            self._reader.pauseProducing()

    def resumeProducing(self) -> None:
        """Read standard input again."""
        if self._reader is not None:
            self._reader.resumeProducing()

    def stopReading(self) -> None:
        """The same as :meth:`pauseProducing` (kept for old code)."""
        self.pauseProducing()

    def startReading(self) -> None:
        """The same as :meth:`resumeProducing` (kept for old code)."""
        self.resumeProducing()
