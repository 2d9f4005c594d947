"""
The part of a reactor that is the same for every readiness-based backend.

:class:`PosixReactorBase` adds to the core the waker, the dispatch of a ready
descriptor to ``doRead``/``doWrite`` (and to ``connectionLost`` when either
reports the connection gone), and the transport factories (``listenTCP``,
``connectTCP`` ...).  A backend (select, poll, epoll) provides only the
descriptor set and the wait.
"""

from __future__ import annotations

import select
import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._interfaces_reactor import (
    IReactorMulticast,
    IReactorProcess,
    IReactorSocket,
    IReactorSSL,
    IReactorTCP,
    IReactorUDP,
    IReactorUNIX,
    IReactorUNIXDatagram,
)
from fw.internet._reactorbase import ReactorBase, _Waker
from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["PosixReactorBase"]

_log = Logger(namespace="fw.internet.reactor")


@implementer(
    IReactorFDSet,
    IReactorTCP,
    IReactorSSL,
    IReactorProcess,
    IReactorUDP,
    IReactorMulticast,
    IReactorUNIX,
    IReactorUNIXDatagram,
    IReactorSocket,
)
class PosixReactorBase(ReactorBase):
    """A reactor over a readiness API; subclasses supply the descriptor set."""

    def __init__(self) -> None:
        super().__init__()
        self._internalReaders: set[Any] = set()
        self.waker = self._makeWaker()
        if self.waker is not None:
            self._addInternalReader(self.waker)

    def _makeWaker(self) -> Any:
        """The descriptor that wakes the loop from other threads (``None``: not needed)."""
        return _Waker()

    # -- signals: their C-level handler writes to the waker, so that a signal
    # delivered to any thread wakes a loop blocked in the kernel (a Python
    # handler only runs once the main thread runs again).

    _previousWakeupFd: int | None = None

    def _installSignals(self) -> None:
        super()._installSignals()
        writeFileno = getattr(self.waker, "writeFileno", None)
        if (
            writeFileno is None
            or not self._signalsInstalled
            or self._previousWakeupFd is not None
            or threading.current_thread() is not threading.main_thread()
        ):
            return
        try:
            previous = signal.set_wakeup_fd(writeFileno(), warn_on_full_buffer=False)
        except ValueError:
            return
        if previous != -1:
            # Someone else (an asyncio loop in this thread, say) already
            # wakes on signals: leave theirs in place.
            signal.set_wakeup_fd(previous)
            return
        self._previousWakeupFd = previous

    def _uninstallSignals(self) -> None:
        previous, self._previousWakeupFd = self._previousWakeupFd, None
        if previous is not None:
            try:
                signal.set_wakeup_fd(previous)
            except ValueError:
                pass
        super()._uninstallSignals()

    # -- the descriptor set, which each backend implements

    def addReader(self, reader: Any) -> None:
        """Call ``reader.doRead()`` whenever its descriptor is readable."""
        raise NotImplementedError

    def addWriter(self, writer: Any) -> None:
        """Call ``writer.doWrite()`` whenever its descriptor is writable."""
        raise NotImplementedError

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader``."""
        raise NotImplementedError

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer``."""
        raise NotImplementedError

    def removeAll(self) -> list[Any]:
        """Remove every reader and writer but the reactor's own; return them."""
        raise NotImplementedError

    def getReaders(self) -> list[Any]:
        """Return the readers, the reactor's own excluded."""
        raise NotImplementedError

    def getWriters(self) -> list[Any]:
        """Return the writers."""
        raise NotImplementedError

    def _addInternalReader(self, reader: Any) -> None:
        self._internalReaders.add(reader)
        self.addReader(reader)

    def wakeUp(self) -> None:
        """Wake the loop from another thread or a signal handler."""
        self.waker.wakeUp()

    # -- dispatch

    def _disconnectSelectable(self, selectable: Any, why: BaseException, isRead: bool) -> None:
        """
        ``doRead`` or ``doWrite`` reported the connection gone (``why``): tell the
        selectable, half-closing the read side when it supports that.
        """
        failure = Failure(why)
        if isRead and isinstance(why, error.ConnectionDone):
            readLost = getattr(selectable, "readConnectionLost", None)
            if readLost is not None:
                self.removeReader(selectable)
                readLost(failure)
                return
        self.removeReader(selectable)
        self.removeWriter(selectable)
        try:
            selectable.connectionLost(failure)
        except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
            _log.failure("{selectable!r}.connectionLost raised", selectable=selectable)

    def _doReadOrWrite(self, selectable: Any, readable: bool, writable: bool) -> None:
        why: BaseException | None = None
        isRead = False
        try:
            if readable:
                isRead = True
                why = selectable.doRead()
            if why is None and writable and not selectable.disconnected:
                isRead = False
                why = selectable.doWrite()
        except Exception as e:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
            why = e
            _log.failure(
                "{prefix}: unhandled error while handling I/O; closing the connection",
                prefix=_logPrefix(selectable),
            )
        if why is not None:
            self._disconnectSelectable(selectable, why, isRead)

    def _hangUp(self, selectable: Any, isReader: bool) -> None:
        """The descriptor hung up or errored with nothing left to read."""
        why = CONNECTION_DONE if isReader else CONNECTION_LOST
        self._disconnectSelectable(selectable, why, isReader)

    def disconnectAll(self) -> None:
        """Close every connection and port (the "during shutdown" trigger)."""
        selectables = self.removeAll()
        for selectable in selectables:
            try:
                selectable.connectionLost(Failure(CONNECTION_LOST))
            except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
                _log.failure("{selectable!r}.connectionLost raised", selectable=selectable)

    def _removeAllFrom(self, readers: dict[int, Any], writers: dict[int, Any]) -> list[Any]:
        everything = {id(s): s for s in (*readers.values(), *writers.values())}
        for s in self._internalReaders:
            everything.pop(id(s), None)
        result = list(everything.values())
        for s in result:
            self.removeReader(s)
            self.removeWriter(s)
        return result

    # -- TCP

    def listenTCP(
        self,
        port: int,
        factory: Any,
        backlog: int = 50,
        interface: str = "",
        *,
        reusePort: bool = False,
    ) -> Any:
        """
        Listen for TCP connections on ``interface`` (all IPv4 ones by default);
        with ``reusePort`` (an fw extension), share the port with other
        sockets bound with ``SO_REUSEPORT`` (see ``IReactorTCP.listenTCP``).
        """
        from fw.internet.tcp import Port

        p = Port(port, factory, backlog, interface, self, reusePort=reusePort)
        p.startListening()
        return p

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Any:
        """Connect to ``host`` (a name or address) and ``port``; return the connector."""
        from fw.internet.tcp import Connector

        c = Connector(host, port, factory, timeout, bindAddress, self)
        c.connect()
        return c

    # -- TLS over TCP (the same TCP ports and connectors, with TLS wrapping the protocols)

    def listenSSL(
        self,
        port: int,
        factory: Any,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> Any:
        """
        Listen for TLS connections: :meth:`listenTCP` with each protocol
        wrapped in TLS set up by ``contextFactory`` (a server connection
        creator, or an ``IOpenSSLContextFactory`` such as
        :class:`~fw.internet.ssl.CertificateOptions`).
        """
        from fw.protocols._tls_protocol import TLSMemoryBIOFactory

        return self.listenTCP(
            port, TLSMemoryBIOFactory(contextFactory, False, factory), backlog, interface
        )

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Any:
        """
        Connect over TLS: :meth:`connectTCP` with the protocol wrapped in TLS
        set up by ``contextFactory`` (preferably
        :func:`~fw.internet.ssl.optionsForClientTLS`, which checks the
        server's name).
        """
        from fw.protocols._tls_protocol import TLSMemoryBIOFactory

        return self.connectTCP(
            host, port, TLSMemoryBIOFactory(contextFactory, True, factory), timeout, bindAddress
        )

    def adoptStreamPort(self, fileDescriptor: int, addressFamily: int, factory: Any) -> Any:
        """
        Listen on an already-listening socket (socket activation), which is
        duplicated: the caller still owns ``fileDescriptor``.  ``addressFamily``
        is ``AF_INET``, ``AF_INET6`` or ``AF_UNIX``.
        """
        if addressFamily == socket.AF_UNIX:
            from fw.internet.unix import Port as UNIXPort

            p: Any = UNIXPort._fromListeningDescriptor(
                self, fileDescriptor, addressFamily, factory
            )
        else:
            from fw.internet.tcp import Port

            p = Port._fromListeningDescriptor(self, fileDescriptor, addressFamily, factory)
        p.startListening()
        return p

    def adoptStreamConnection(self, fileDescriptor: int, addressFamily: int, factory: Any) -> None:
        """
        Run ``factory``'s protocol over an already-connected socket (duplicated),
        of family ``AF_INET``, ``AF_INET6`` or ``AF_UNIX``.
        """
        if addressFamily == socket.AF_UNIX:
            from fw.internet.unix import Server as UNIXServer

            UNIXServer._fromConnectedDescriptor(fileDescriptor, addressFamily, factory, self)
        else:
            from fw.internet.tcp import Server

            Server._fromConnectedDescriptor(fileDescriptor, addressFamily, factory, self)

    # -- UDP

    def listenUDP(
        self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192
    ) -> Any:
        """
        Bind a UDP socket for ``protocol`` (a ``DatagramProtocol``), on
        ``interface`` (every IPv4 one by default; an IPv6 literal for IPv6).

        Returns:
            The :class:`fw.internet.udp.Port`, also the protocol's transport.

        Raises:
            CannotListenError: the socket could not be bound.
        """
        from fw.internet.udp import Port

        p = Port(port, protocol, interface, maxPacketSize, self)
        p.startListening()
        return p

    def listenMulticast(
        self,
        port: int,
        protocol: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> Any:
        """
        Bind a UDP socket that can join IPv4 multicast groups.

        Args:
            listenMultiple: let other sockets bind the same port.

        Returns:
            The :class:`fw.internet.udp.MulticastPort`.

        Raises:
            CannotListenError: the socket could not be bound.
        """
        from fw.internet.udp import MulticastPort

        p = MulticastPort(port, protocol, interface, maxPacketSize, self, listenMultiple)
        p.startListening()
        return p

    def adoptDatagramPort(
        self, fileDescriptor: int, addressFamily: Any, protocol: Any, maxPacketSize: int = 8192
    ) -> Any:
        """
        Receive datagrams for ``protocol`` on an already-bound UDP socket (a
        duplicate of ``fileDescriptor``: the caller still owns it).

        Raises:
            UnsupportedAddressFamily: ``addressFamily`` is not ``AF_INET`` or
                ``AF_INET6``.
        """
        import socket

        from fw.internet.udp import Port

        if addressFamily not in (socket.AF_INET, socket.AF_INET6):
            raise error.UnsupportedAddressFamily(addressFamily)
        p = Port._fromListeningDescriptor(
            self, fileDescriptor, addressFamily, protocol, maxPacketSize=maxPacketSize
        )
        p.startListening()
        return p

    # -- UNIX

    def listenUNIX(
        self,
        address: Any,
        factory: Any,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> Any:
        """
        Listen on a UNIX stream socket at path ``address`` (a Linux abstract
        name when it starts with a NUL byte), giving the socket file ``mode``.

        Args:
            wantPID: hold the lock file ``<address>.lock`` while listening:
                refuse to start while another running process holds it, and
                replace the socket file a dead holder left behind.

        Returns:
            The :class:`fw.internet.unix.Port`.

        Raises:
            CannotListenError: the socket could not be bound, or the lock is held.
        """
        from fw.internet.unix import Port

        p = Port(address, factory, backlog, mode, self, wantPID)
        p.startListening()
        return p

    def connectUNIX(
        self, address: Any, factory: Any, timeout: float = 30, checkPID: bool = False
    ) -> Any:
        """
        Connect to the UNIX stream socket at path ``address``.

        Args:
            checkPID: fail (with ``BadFileError``) unless a running process
                holds the lock file ``<address>.lock``.

        Returns:
            The :class:`fw.internet.unix.Connector`.
        """
        from fw.internet.unix import Connector

        c = Connector(address, factory, timeout, self, checkPID)
        c.connect()
        return c

    def listenUNIXDatagram(
        self, address: Any, protocol: Any, maxPacketSize: int = 8192, mode: int = 0o666
    ) -> Any:
        """
        Bind a UNIX datagram socket at path ``address`` for ``protocol``.

        Returns:
            The :class:`fw.internet.unix.DatagramPort`.

        Raises:
            CannotListenError: the socket could not be bound.
        """
        from fw.internet.unix import DatagramPort

        p = DatagramPort(address, protocol, maxPacketSize, mode, self)
        p.startListening()
        return p

    def connectUNIXDatagram(
        self,
        address: Any,
        protocol: Any,
        maxPacketSize: int = 8192,
        mode: int = 0o666,
        bindAddress: Any = None,
    ) -> Any:
        """
        Connect a UNIX datagram socket to the one at path ``address``, for a
        ``ConnectedDatagramProtocol`` (told through ``connectionFailed`` if
        it cannot be done); bind it to ``bindAddress`` first if given, so the
        peer can answer.

        Returns:
            The :class:`fw.internet.unix.ConnectedDatagramPort`.
        """
        from fw.internet.unix import ConnectedDatagramPort

        p = ConnectedDatagramPort(address, protocol, maxPacketSize, mode, bindAddress, self)
        p.startListening()
        return p

    # -- processes

    # spawnProcess's default environment: empty, as in Twisted (None inherits ours).
    _emptyEnvironment: Mapping[str, str] = MappingProxyType({})

    def spawnProcess(
        self,
        processProtocol: Any,
        executable: bytes | str,
        args: Sequence[bytes | str] = (),
        env: Mapping[Any, Any] | None = _emptyEnvironment,
        path: bytes | str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: Any = False,
        childFDs: Mapping[int, int | str] | None = None,
    ) -> Any:
        """
        Start a child process connected to ``processProtocol``.

        Args:
            processProtocol: receives the child's output and exit (an
                ``IProcessProtocol``); may be ``None`` when ``childFDs``
                asks for no pipes.
            executable: the program: a path, or a name looked up in our
                ``PATH``.
            args: its argument vector; ``args[0]`` is the name it sees.
            env: its whole environment: nothing by default, ``None`` for a
                copy of ours.
            path: its working directory (ours by default).
            uid: the user it runs as (needs privileges).
            gid: the group it runs as (needs privileges).
            usePTY: true to give it a pseudo-terminal (a new session whose
                controlling terminal it is) instead of pipes; or a
                ``(masterFD, slaveFD, ttyName)`` tuple to use.
            childFDs: the child's descriptors: ``"r"`` for a pipe we read,
                ``"w"`` for a pipe we write, or one of our descriptors to
                give it; by default ``{0: "w", 1: "r", 2: "r"}``.

        Returns:
            The process transport (``IProcessTransport``).

        Raises:
            OSError: the child could not be started (``FileNotFoundError``
                for a missing program or directory, ``PermissionError``...);
                the protocol is not called.
            ValueError: bad arguments (``childFDs`` with ``usePTY``, an
                empty ``args``, a null byte...).
        """
        from fw.internet import _process

        if usePTY:
            if childFDs is not None:
                raise ValueError("childFDs cannot be used with usePTY")
            return _process.PTYProcess(
                self, executable, args, env, path, processProtocol, uid, gid, usePTY
            )
        return _process.Process(
            self, executable, args, env, path, processProtocol, uid, gid, childFDs
        )

    def _signalHandlers(self) -> list[tuple[int, Callable[[int, Any], None]]]:
        handlers = super()._signalHandlers()
        if hasattr(signal, "SIGCHLD"):
            from fw.internet._process_reap import pidfdUsable

            if not pidfdUsable():
                # No pidfds: children are noticed through SIGCHLD.
                handlers.append((signal.SIGCHLD, self._sigChld))
        return handlers

    def _sigChld(self, signum: int, frame: Any) -> None:
        """A child exited: collect it (and any other) from the loop, soon."""
        from fw.internet._process_reap import reapAllProcesses

        self.callFromThread(reapAllProcesses)


def _logPrefix(selectable: Any) -> str:
    try:
        return str(selectable.logPrefix())
    except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
        return repr(selectable)


def _platformDefault() -> type[PosixReactorBase]:
    if hasattr(select, "epoll"):
        from fw.internet.epollreactor import EPollReactor

        return EPollReactor
    from fw.internet.pollreactor import PollReactor

    return PollReactor
