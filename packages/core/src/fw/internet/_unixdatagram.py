"""
UNIX datagram ports; the public names are in :mod:`fw.internet.unix`.

A :class:`DatagramPort` is bound to a path and exchanges datagrams with any
socket: ``datagramReceived(datagram, address)`` gets the sender's path (a
``str``; ``bytes`` for an abstract name; ``None`` for an unbound sender, which
cannot be answered), and ``write(datagram, path)`` sends.  A
:class:`ConnectedDatagramPort` talks to one peer: ``write(datagram)``,
``datagramReceived(datagram)``, and ``connectionRefused()`` once the peer's
socket is gone.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._datagram import DatagramPortBase
from fw.internet._interfaces_transport import (
    IUNIXDatagramConnectedTransport,
    IUNIXDatagramTransport,
)
from fw.internet._unixpath import Path, bindFile, fsPath, removeSocketFile, unixAddress
from fw.internet.address import UNIXAddress
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["ConnectedDatagramPort", "DatagramPort"]

_log = Logger(namespace="fw.internet.unix")

_READ_AGAIN = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR})
# The receiver's queue is full: the datagram is dropped, as UDP's would be.
_WRITE_DROPPED = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS})


class _UNIXDatagramBase(DatagramPortBase):
    """A UNIX datagram socket, bound to a path or not."""

    _kind = "UNIX datagram"

    def __init__(
        self, addr: Path | None, proto: Any, maxPacketSize: int, mode: int, reactor: Any
    ) -> None:
        super().__init__(proto, maxPacketSize, reactor)
        #: The path bound to, as bytes (``None``: unbound).
        self.port = None if addr is None else fsPath(addr)
        self.mode = mode
        self._boundFile: tuple[int, int] | None = None
        self._recv: Any = None
        self._recvfrom: Any = None

    def _openSocket(self) -> socket.socket:
        skt = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if self.port:
            try:
                self._boundFile = bindFile(skt, self.port, self.mode)
            except (OSError, ValueError) as e:
                skt.close()
                raise error.CannotListenError(None, os.fsdecode(self.port), e) from e
        return skt

    def _setSocket(self, skt: socket.socket) -> None:
        self._recv = skt.recv
        self._recvfrom = skt.recvfrom
        super()._setSocket(skt)

    def _closeSocket(self, skt: socket.socket) -> None:
        if self.port is not None:
            bound, self._boundFile = self._boundFile, None
            removeSocketFile(self.port, bound)
        skt.close()

    def _where(self) -> object:
        return "an unbound socket" if self.port is None else repr(os.fsdecode(self.port))

    def getHost(self) -> UNIXAddress:
        """
        The address the socket is bound to (``UNIXAddress(None)``: unbound).

        Raises:
            NotListeningError: the port is not listening.
        """
        return unixAddress(self.getHandle().getsockname())


@implementer(IUNIXDatagramTransport)
class DatagramPort(_UNIXDatagramBase):
    """
    A UNIX datagram socket bound to a path, and the transport of its protocol.

    Attributes:
        port: the path, as bytes.
        mode: the permissions given to the socket file.
    """

    def __init__(
        self,
        addr: Path | None,
        proto: Any,
        maxPacketSize: int = 8192,
        mode: int = 0o666,
        reactor: Any = None,
    ) -> None:
        super().__init__(addr, proto, maxPacketSize, mode, reactor)

    def doRead(self) -> BaseException | None:
        """Read the waiting datagrams, giving each (and its sender) to the protocol."""
        recvfrom = self._recvfrom
        size = self.maxPacketSize
        received = self.protocol.datagramReceived
        budget = self.maxThroughput
        for _ in range(self.maxDatagramsPerRead):
            try:
                data, addr = recvfrom(size)
            except OSError as e:
                if e.errno in _READ_AGAIN or e.errno == errno.ECONNREFUSED:
                    return None
                raise
            try:
                received(data, addr)
            except Exception:  # noqa: BLE001 - a protocol's error costs only its datagram
                _log.failure(
                    "{prefix}: unhandled error in datagramReceived", prefix=self._logPrefix
                )
            budget -= len(data)
            if budget <= 0 or not self._reading:
                break
        return None

    def write(self, datagram: bytes, address: str | bytes) -> None:
        """
        Send one datagram to the socket at ``address``.

        When the receiver's queue is full the datagram is dropped, as a UDP
        datagram would be.

        Raises:
            MessageLengthError: the datagram is too long to send.
            OSError: nothing can receive at ``address`` (``FileNotFoundError``,
                ``ConnectionRefusedError``...), or another system error.
        """
        try:
            self.getHandle().sendto(datagram, address)
        except OSError as e:
            if e.errno == errno.EMSGSIZE:
                raise error.MessageLengthError("message too long") from e
            if e.errno in _WRITE_DROPPED:
                return
            raise


@implementer(IUNIXDatagramConnectedTransport)
class ConnectedDatagramPort(_UNIXDatagramBase):
    """
    A UNIX datagram socket connected to one peer, and the transport of its
    :class:`~fw.internet.protocol.ConnectedDatagramProtocol`.

    When the socket cannot be bound or connected, the protocol's
    ``connectionFailed`` is called (and it is never started).

    Attributes:
        remoteaddr: the peer's path, as bytes.
        port: the local path bound to, as bytes, or ``None``.
    """

    def __init__(
        self,
        addr: Path,
        proto: Any,
        maxPacketSize: int = 8192,
        mode: int = 0o666,
        bindAddress: Path | None = None,
        reactor: Any = None,
    ) -> None:
        super().__init__(bindAddress, proto, maxPacketSize, mode, reactor)
        self.remoteaddr = fsPath(addr)

    def startListening(self) -> None:
        """Bind (if asked), connect and start the protocol; or tell it why not."""
        try:
            skt = self._openSocket()
        except error.CannotListenError as e:
            self.connectionFailed(Failure(e))
            return
        try:
            skt.connect(self.remoteaddr)
        except (OSError, ValueError) as e:
            self._closeSocket(skt)
            reason = error.getConnectError(e) if isinstance(e, OSError) else e
            self.connectionFailed(Failure(reason))
            return
        self._setSocket(skt)
        self._connectToProtocol()

    def connectionFailed(self, reason: Failure) -> None:
        """The socket could not be bound or connected: tell the protocol."""
        self.disconnected = True
        self.protocol.connectionFailed(reason)

    def doRead(self) -> BaseException | None:
        """Read the waiting datagrams, giving each to the protocol."""
        recv = self._recv
        size = self.maxPacketSize
        received = self.protocol.datagramReceived
        budget = self.maxThroughput
        for _ in range(self.maxDatagramsPerRead):
            try:
                data = recv(size)
            except OSError as e:
                if e.errno in _READ_AGAIN:
                    return None
                if e.errno == errno.ECONNREFUSED:
                    self.protocol.connectionRefused()
                    return None
                if e.errno == errno.ECONNRESET:
                    # The peer went away with our datagrams unread: they are lost.
                    return None
                raise
            try:
                received(data)
            except Exception:  # noqa: BLE001 - a protocol's error costs only its datagram
                _log.failure(
                    "{prefix}: unhandled error in datagramReceived", prefix=self._logPrefix
                )
            budget -= len(data)
            if budget <= 0 or not self._reading:
                break
        return None

    def write(self, data: bytes) -> None:
        """
        Send one datagram to the peer.

        When the peer's queue is full the datagram is dropped; when the
        peer's socket is gone, the protocol's ``connectionRefused`` is called.

        Raises:
            MessageLengthError: the datagram is too long to send.
        """
        try:
            self.getHandle().send(data)
        except OSError as e:
            if e.errno == errno.EMSGSIZE:
                raise error.MessageLengthError("message too long") from e
            if e.errno == errno.ECONNREFUSED:
                self.protocol.connectionRefused()
                return
            if e.errno in _WRITE_DROPPED:
                return
            raise

    def getPeer(self) -> UNIXAddress:
        """The peer's address."""
        return UNIXAddress(self.remoteaddr)
