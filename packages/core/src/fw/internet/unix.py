"""
UNIX domain sockets: stream servers and clients, passing descriptors, peer
credentials, and datagram ports.

``reactor.listenUNIX(path, factory)`` returns a :class:`Port`; each accepted
connection is a :class:`Server` transport.  ``reactor.connectUNIX(path,
factory)`` returns a :class:`Connector`, whose connection is a :class:`Client`
transport.  They are TCP's transports on another address family (they
subclass :mod:`fw.internet.tcp`'s), with :class:`~fw.internet.address.UNIXAddress`
addresses and two more abilities:

- **Passing descriptors.**  ``transport.sendFileDescriptor(fd)`` sends a copy
  of an open descriptor (``SCM_RIGHTS``) along with the next byte written; a
  protocol providing :class:`~fw.internet.interfaces.IFileDescriptorReceiver`
  gets it in ``fileDescriptorReceived(fd)`` (before the bytes it came with)
  and then owns it.  A protocol that does not provide it never sees
  descriptors: the kernel closes them.
- **Peer credentials.**  ``transport.getPeerCredentials()`` returns the
  process, user and group IDs of the peer (``SO_PEERCRED``), as they were
  when the connection was made: the way to authenticate a local client.

A path starting with a NUL byte (``"\\0name"``) is in Linux's abstract
namespace: no file is created, and the name disappears with the socket.  A
listening port's socket file is removed when it stops listening; with
``wantPID``, a ``<path>.lock`` lock file (see
:class:`~fw.python.lockfile.FilesystemLock`) keeps a second server from
taking over the path while the first runs, and lets a new server replace the
socket file a dead one left behind.

Datagram sockets: :class:`DatagramPort` (``reactor.listenUNIXDatagram``) and
:class:`ConnectedDatagramPort` (``reactor.connectUNIXDatagram``).
"""

from __future__ import annotations

import array
import errno
import os
import socket
import stat
import struct
from dataclasses import dataclass
from typing import Any

from zope.interface import implementer

from fw.internet import error, tcp
from fw.internet._interfaces_protocol import IFileDescriptorReceiver
from fw.internet._interfaces_transport import IUNIXTransport
from fw.internet._unixdatagram import ConnectedDatagramPort, DatagramPort
from fw.internet._unixpath import (
    bindFile,
    fsPath,
    inFilesystemNamespace,
    removeSocketFile,
    unixAddress,
)
from fw.internet.abstract import CONNECTION_DONE
from fw.internet.address import UNIXAddress
from fw.logger import Logger
from fw.python.failure import Failure
from fw.python.lockfile import FilesystemLock, isLocked

__all__ = [
    "Client",
    "ConnectedDatagramPort",
    "Connector",
    "DatagramPort",
    "PeerCredentials",
    "Port",
    "Server",
]

_log = Logger(namespace="fw.internet.unix")

# What one read may carry: up to the kernel's limit of descriptors in one
# message (SCM_MAX_FD, 253 on Linux); more are closed by the kernel.
_MAX_DESCRIPTORS_PER_READ = 253
_INT_SIZE = array.array("i").itemsize
_ANCILLARY_SPACE = socket.CMSG_SPACE(_MAX_DESCRIPTORS_PER_READ * _INT_SIZE)
# Received descriptors are close-on-exec from the start, where possible.
_RECV_FLAGS = getattr(socket, "MSG_CMSG_CLOEXEC", 0)
# Errors sending a descriptor that mean "not now": try again when writable.
_SEND_AGAIN = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR, errno.ENOBUFS})
# After a nonblocking connect() to a UNIX socket, EAGAIN means that the
# server's queue of pending connections is full: try again a little later.
_CONNECT_RETRY_DELAY = 0.01


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    """
    Who is at the other end of a UNIX socket, as the kernel recorded it when
    the connection was made (``SO_PEERCRED``).

    Attributes:
        pid: the peer's process ID.
        uid: its effective user ID.
        gid: its effective group ID.
    """

    pid: int
    uid: int
    gid: int


def _peerCredentials(skt: socket.socket) -> PeerCredentials:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        raise NotImplementedError("SO_PEERCRED is not available on this platform")
    # struct ucred: a pid_t, then a uid_t and a gid_t.
    layout = "iII"
    raw = skt.getsockopt(socket.SOL_SOCKET, option, struct.calcsize(layout))
    pid, uid, gid = struct.unpack(layout, raw)
    return PeerCredentials(pid, uid, gid)


@implementer(IUNIXTransport)
class _UNIXConnection(tcp.Connection):
    """What UNIX stream transports add to TCP's: descriptors and credentials."""

    #: Past this many descriptors waiting to be sent, a streaming producer is paused.
    maxQueuedDescriptors = 64
    _descriptorQueue: list[int] | None = None
    _receivesDescriptors: bool | None = None

    def sendFileDescriptor(self, descriptor: int) -> None:
        """
        Send a copy of ``descriptor`` to the peer, with the next byte written.

        The copy is taken now, so the caller may close ``descriptor`` at
        once.  Each descriptor travels with one byte of data: write at least
        as many bytes as descriptors sent, or the connection is closed with
        :class:`~fw.internet.error.FileDescriptorOverrun`.

        Raises:
            OSError: ``descriptor`` is not an open descriptor.
        """
        if not self.connected or self.disconnected:
            return
        copy = os.dup(descriptor)
        queue = self._descriptorQueue
        if queue is None:
            queue = self._descriptorQueue = []
        queue.append(copy)
        if (
            len(queue) > self.maxQueuedDescriptors
            and self.producer is not None
            and self.streamingProducer
            and not self.producerPaused
        ):
            self.producerPaused = True
            self.producer.pauseProducing()
        self.startWriting()

    def writeSomeData(self, data: bytes | bytearray) -> int | BaseException:
        """Send what the kernel takes of ``data``, each queued descriptor with one byte."""
        queue = self._descriptorQueue
        if not queue:
            return super().writeSomeData(data)
        if len(queue) > len(data):
            return error.FileDescriptorOverrun()
        sent = 0
        try:
            while sent < len(queue):
                try:
                    socket.send_fds(self.socket, [data[sent : sent + 1]], [queue[sent]])
                except OSError as e:
                    if e.errno in _SEND_AGAIN:
                        return sent
                    if e.errno in tcp._LOST_ERRNOS:
                        return error.ConnectionLost(e.strerror)
                    return e
                os.close(queue[sent])
                sent += 1
        finally:
            del queue[:sent]
        result = super().writeSomeData(data[sent:])
        if isinstance(result, int):
            return sent + result
        return result

    def _postLoseConnection(self) -> BaseException | None:
        if self._descriptorQueue:
            # Descriptors were sent without bytes to carry them.
            return error.FileDescriptorOverrun()
        return super()._postLoseConnection()

    def doRead(self) -> BaseException | None:
        """Read what arrived: bytes for the protocol, and descriptors if it takes them."""
        receives = self._receivesDescriptors
        if receives is None:
            protocol = getattr(self, "protocol", None)
            if protocol is None:
                return super().doRead()
            receives = self._receivesDescriptors = IFileDescriptorReceiver.providedBy(protocol)
        if not receives:
            return super().doRead()
        try:
            data, ancillary, flags, _ = self.socket.recvmsg(
                self.bufferSize, _ANCILLARY_SPACE, _RECV_FLAGS
            )
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            if e.errno in tcp._LOST_ERRNOS:
                return error.ConnectionLost(e.strerror)
            raise
        if ancillary:
            self._descriptorsReceived(ancillary)
        if flags & socket.MSG_CTRUNC:
            _log.warn(
                "{prefix}: more descriptors arrived at once than {limit}; "
                "the system closed the others",
                prefix=self._logPrefix,
                limit=_MAX_DESCRIPTORS_PER_READ,
            )
        if not data:
            return CONNECTION_DONE
        self.protocol.dataReceived(data)
        return None

    def _descriptorsReceived(self, ancillary: list[tuple[int, int, bytes]]) -> None:
        descriptors = array.array("i")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                descriptors.frombytes(payload[: len(payload) - len(payload) % _INT_SIZE])
        delivered = 0
        try:
            for descriptor in descriptors:
                delivered += 1
                self.protocol.fileDescriptorReceived(descriptor)
        finally:
            # Should the protocol fail, the descriptors it never saw are closed.
            for descriptor in descriptors[delivered:]:
                os.close(descriptor)

    def connectionLost(self, reason: Failure) -> None:
        """Close any descriptors still waiting to be sent, then the connection."""
        queue = self._descriptorQueue
        if queue:
            for descriptor in queue:
                os.close(descriptor)
            queue.clear()
        super().connectionLost(reason)

    def getPeerCredentials(self) -> PeerCredentials:
        """
        The peer's process, user and group IDs, recorded when the connection
        was made (``SO_PEERCRED``): what a server checks to know who a local
        client is.

        Raises:
            NotImplementedError: the platform has no ``SO_PEERCRED`` (only
                Linux and a few others do).
        """
        return _peerCredentials(self.socket)

    def getTcpNoDelay(self) -> bool:
        """Always false: a UNIX socket has no Nagle algorithm."""
        return False

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Do nothing: a UNIX socket has no Nagle algorithm."""

    def getTcpKeepAlive(self) -> bool:
        """Always false: a UNIX socket has no keepalive probes."""
        return False

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Do nothing: a UNIX socket has no keepalive probes."""

    # A UNIX transport is a TCP transport in all but its addresses, which are
    # UNIX addresses.
    def getHost(self) -> UNIXAddress:  # type: ignore[override]
        """This end's address (``UNIXAddress(None)`` for an unbound client)."""
        return unixAddress(self.socket.getsockname())

    def getPeer(self) -> UNIXAddress:  # type: ignore[override]
        """The other end's address (``UNIXAddress(None)`` for an unbound client)."""
        return self._unixPeer

    _unixPeer = UNIXAddress(None)


class Server(_UNIXConnection, tcp.Server):
    """A connection accepted by a UNIX :class:`Port`."""

    def __init__(
        self,
        skt: socket.socket,
        protocol: Any,
        client: UNIXAddress,
        server: Port | None,
        sessionno: int,
        reactor: Any,
    ) -> None:
        # tcp.Server's own __init__ reads an IP address; the rest is shared.
        tcp.Connection.__init__(self, skt, protocol, reactor)
        self.server = server
        self.sessionno = sessionno
        self._unixPeer = client
        self.hostname = os.fsdecode(client.name) if client.name else ""
        self._logPrefix = f"{tcp._protocolName(protocol)},{sessionno},{self.hostname}"
        self.connected = True

    @classmethod
    def _fromConnectedDescriptor(
        cls, fileDescriptor: int, addressFamily: int, factory: Any, reactor: Any
    ) -> Server | None:
        skt = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(fileDescriptor))
        peer = unixAddress(skt.getpeername())
        protocol = factory.buildProtocol(peer)
        if protocol is None:
            skt.close()
            return None
        transport = cls(skt, protocol, peer, None, 0, reactor)
        transport.startReading()
        protocol.makeConnection(transport)
        return transport


class Port(tcp.Port):
    """
    A listening UNIX stream socket that accepts connections for a factory.

    Attributes:
        port: the socket's path, as bytes (Twisted's name for it).
        mode: the permissions given to the socket file.
        wantPID: whether a ``<path>.lock`` lock file guards the path.
        lockFile: that lock, while held.
    """

    transport = Server
    lockFile: FilesystemLock | None = None

    def __init__(
        self,
        fileName: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        factory: Any,
        backlog: int = 50,
        mode: int = 0o666,
        reactor: Any = None,
        wantPID: bool = False,
    ) -> None:
        super().__init__(0, factory, backlog, "", reactor)
        self.port = fsPath(fileName)  # type: ignore[assignment]  # Twisted: the path
        self.addressFamily = socket.AF_UNIX
        self.mode = mode
        self.wantPID = wantPID
        self._preexistingSocket: socket.socket | None = None
        # The socket file this port made, to remove (only if still the same file).
        self._boundFile: tuple[int, int] | None = None

    @classmethod
    def _fromListeningDescriptor(
        cls, reactor: Any, fileDescriptor: int, addressFamily: int, factory: Any
    ) -> Port:
        skt = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(fileDescriptor))
        port = cls(fsPath(skt.getsockname()), factory, reactor=reactor)
        port._preexistingSocket = skt
        return port

    @property
    def _path(self) -> bytes:
        path: bytes = self.port  # type: ignore[assignment]
        return path

    def _describe(self) -> str:
        return os.fsdecode(self._path)

    def __repr__(self) -> str:
        return f"<{self._logPrefix} on {self._describe()!r}>"

    def startListening(self) -> None:
        """
        Create the socket file (with :attr:`mode`) and listen.

        Raises:
            CannotListenError: the socket could not be bound (the path is
                taken, its directory missing...), or, with ``wantPID``,
                another running process holds the lock file.
        """
        skt = self._preexistingSocket
        if skt is not None:
            self._preexistingSocket = None
        else:
            skt = self._bindAndListen()
        skt.setblocking(False)
        self.socket = skt
        self._fileno = skt.fileno()
        self._reserve()
        _log.info("{factory} starting on {path!r}", factory=self._logPrefix, path=self._describe())
        self.factory.doStart()
        self.connected = True
        self.reactor.addReader(self)

    def _bindAndListen(self) -> socket.socket:
        path = self._path
        inFilesystem = inFilesystemNamespace(path)
        if self.wantPID and inFilesystem:
            self._lock(path)
        skt = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # The mode is set before listen(): until then, nobody can connect.
            self._boundFile = bindFile(skt, path, self.mode)
            skt.listen(self.backlog)
        except (OSError, ValueError) as e:
            skt.close()
            self._removeSocketFile()
            self._unlock()
            raise error.CannotListenError(None, self._describe(), e) from e
        return skt

    def _lock(self, path: bytes) -> None:
        lockName = os.fsdecode(path) + ".lock"
        lock = FilesystemLock(lockName)
        try:
            locked = lock.lock()
        except (OSError, ValueError) as e:
            raise error.CannotListenError(None, self._describe(), e) from e
        if not locked:
            raise error.CannotListenError(
                None,
                self._describe(),
                OSError(errno.EADDRINUSE, f"{lockName} is held by a running process"),
            )
        self.lockFile = lock
        if not lock.clean:
            # The last owner died without cleaning up: its socket file is stale.
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    os.remove(path)
            except OSError:
                # bind() will say what is wrong.
                pass

    def _unlock(self) -> None:
        lock, self.lockFile = self.lockFile, None
        if lock is not None:
            try:
                lock.unlock()
            except (OSError, ValueError) as e:
                # Typically the process dropped privileges after it listened
                # and may no longer remove files in the socket's directory.
                # The lock names a dead process once this one exits, so the
                # next server takes it over as stale; nothing is lost.
                _log.warn(
                    "Could not remove the lock file {name} ({error}), probably "
                    "because privileges were dropped after listening; a server "
                    "started later with the same rights treats it as stale, or "
                    "remove it by hand.",
                    name=lock.name,
                    error=e,
                )

    def _removeSocketFile(self) -> None:
        bound, self._boundFile = self._boundFile, None
        removeSocketFile(self._path, bound)

    def connectionLost(self, reason: Failure) -> None:
        """Remove the socket file and the lock file, then close."""
        if self.disconnected:
            return
        self._removeSocketFile()
        self._unlock()
        super().connectionLost(reason)

    def _buildAddr(self, sockaddr: Any) -> UNIXAddress:
        return unixAddress(sockaddr)

    def getHost(self) -> UNIXAddress:  # type: ignore[override]
        """
        The address the port listens on.

        Raises:
            NotListeningError: the port is not listening.
        """
        if self.socket is None:
            raise error.NotListeningError()
        return unixAddress(self.socket.getsockname())


class Client(_UNIXConnection, tcp.Client):
    """A connection to a UNIX socket being made, and then made, by a :class:`Connector`."""

    _pendingCall: Any = None

    def __init__(
        self, path: bytes, connector: Connector, reactor: Any, checkPID: bool = False
    ) -> None:
        # tcp.Client's own __init__ resolves a host name; the rest is shared.
        self.connector = connector
        self._path = path
        self._unixPeer = UNIXAddress(path)
        self._bindAddress = None
        self._connecting = True
        tcp.Connection.__init__(
            self, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), None, reactor
        )
        self._logPrefix = "Uninitialized"
        if checkPID and not isLocked(os.fsdecode(path) + ".lock"):
            self._pendingCall = reactor.callLater(0, self._noLiveServer)
        else:
            self._pendingCall = reactor.callLater(0, self._connect)

    def _noLiveServer(self) -> None:
        self._pendingCall = None
        self._failIfNotConnected(
            error.BadFileError(string=f"no running process holds {self._path!r}'s lock")
        )

    def _connect(self) -> None:
        self._pendingCall = None
        if not self._connecting:
            return
        try:
            result = self.socket.connect_ex(self._path)
        except (OSError, ValueError) as e:
            self._failIfNotConnected(error.BadFileError(string=f"{self._path!r}: {e}"))
            return
        if result == 0:
            self._connectDone()
        elif result == errno.EAGAIN:
            self._pendingCall = self.reactor.callLater(_CONNECT_RETRY_DELAY, self._connect)
        elif result in (errno.EINPROGRESS, errno.EALREADY):
            self.startWriting()
        else:
            self._failIfNotConnected(error.getConnectError((result, os.strerror(result))))

    def _buildAddr(self, sockaddr: Any) -> UNIXAddress:
        return self._unixPeer

    def _failIfNotConnected(self, err: BaseException | Failure) -> None:
        pending, self._pendingCall = self._pendingCall, None
        if pending is not None and pending.active():
            pending.cancel()
        super()._failIfNotConnected(err)


class Connector(tcp.Connector):
    """
    Makes (and can make again) a connection to a UNIX socket for a client factory.

    Attributes:
        address: the path connected to, as bytes.
        checkPID: refuse to connect unless the server's lock file is held by a
            running process.
    """

    def __init__(
        self,
        address: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        factory: Any,
        timeout: float | None = 30,
        reactor: Any = None,
        checkPID: bool = False,
    ) -> None:
        path = fsPath(address)
        super().__init__(os.fsdecode(path), 0, factory, timeout, None, reactor)
        self.address = path
        self.checkPID = checkPID

    def __repr__(self) -> str:
        return f"<Connector {os.fsdecode(self.address)!r} {self.state}>"

    def _makeTransport(self) -> Client:
        return Client(self.address, self, self.reactor, self.checkPID)

    def getDestination(self) -> UNIXAddress:  # type: ignore[override]
        """The address being connected to."""
        return UNIXAddress(self.address)
