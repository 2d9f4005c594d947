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
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._interfaces_reactor import IReactorTCP
from fw.internet._reactorbase import ReactorBase, _Waker
from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["PosixReactorBase"]

_log = Logger(namespace="fw.internet.reactor")


@implementer(IReactorFDSet, IReactorTCP)
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

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
        """Listen for TCP connections on ``interface`` (all IPv4 ones by default)."""
        from fw.internet.tcp import Port

        p = Port(port, factory, backlog, interface, self)
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

    def adoptStreamPort(self, fileDescriptor: int, addressFamily: int, factory: Any) -> Any:
        """Listen on an already-listening socket (socket activation), which is duplicated."""
        from fw.internet.tcp import Port

        p = Port._fromListeningDescriptor(self, fileDescriptor, addressFamily, factory)
        p.startListening()
        return p

    def adoptStreamConnection(self, fileDescriptor: int, addressFamily: int, factory: Any) -> None:
        """Run ``factory``'s protocol over an already-connected socket (duplicated)."""
        from fw.internet.tcp import Server

        Server._fromConnectedDescriptor(fileDescriptor, addressFamily, factory, self)


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
