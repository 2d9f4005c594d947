"""
The shared implementation of the poll(2)-style backends (epoll and poll).

Both register a descriptor with a readiness mask and wait for a list of
``(fd, events)``; they differ in their constants and timeout units only.
"""

from __future__ import annotations

from typing import Any

from fw.internet._posixbase import PosixReactorBase, _log, _logPrefix

__all__ = ["PollingReactorBase"]


class PollingReactorBase(PosixReactorBase):
    """A reactor over an object with ``register``/``modify``/``unregister``/``poll``."""

    _IN: int
    _OUT: int
    #: Events that mean the descriptor hung up or failed.
    _ERR: int

    def __init__(self) -> None:
        self._poller = self._makePoller()
        self._selectables: dict[int, Any] = {}
        self._reads: dict[int, Any] = {}
        self._writes: dict[int, Any] = {}
        # The descriptor each reader and each writer is registered under, by
        # identity: removing one finds it at once, even once it has closed
        # (its fileno() is -1 then), and removing one that is not there
        # costs one lookup.
        self._readerFds: dict[int, int] = {}
        self._writerFds: dict[int, int] = {}
        super().__init__()

    def _makePoller(self) -> Any:
        raise NotImplementedError

    def _pollWait(self, timeout: float | None) -> list[tuple[int, int]]:
        raise NotImplementedError

    def _update(self, fd: int, selectable: Any) -> None:
        mask = (self._IN if fd in self._reads else 0) | (self._OUT if fd in self._writes else 0)
        registered = fd in self._selectables
        if mask:
            if registered:
                self._poller.modify(fd, mask)
            else:
                self._poller.register(fd, mask)
            self._selectables[fd] = selectable
        elif registered:
            del self._selectables[fd]
            try:
                self._poller.unregister(fd)
            except (OSError, KeyError, ValueError):
                # Closed before it was removed: the kernel dropped it already.
                pass

    def addReader(self, reader: Any) -> None:
        """Call ``reader.doRead()`` whenever its descriptor is readable."""
        fd = reader.fileno()
        if self._reads.get(fd) is reader:
            return
        self._reads[fd] = reader
        self._readerFds[id(reader)] = fd
        self._update(fd, reader)

    def addWriter(self, writer: Any) -> None:
        """Call ``writer.doWrite()`` whenever its descriptor is writable."""
        fd = writer.fileno()
        if self._writes.get(fd) is writer:
            return
        self._writes[fd] = writer
        self._writerFds[id(writer)] = fd
        self._update(fd, writer)

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader`` for readability."""
        fd = self._readerFds.pop(id(reader), None)
        if fd is not None and self._reads.get(fd) is reader:
            del self._reads[fd]
            self._update(fd, reader)

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer`` for writability."""
        fd = self._writerFds.pop(id(writer), None)
        if fd is not None and self._writes.get(fd) is writer:
            del self._writes[fd]
            self._update(fd, writer)

    def removeAll(self) -> list[Any]:
        """Remove every reader and writer but the reactor's own; return them."""
        return self._removeAllFrom(self._reads, self._writes)

    def getReaders(self) -> list[Any]:
        """Return the readers, the reactor's own excluded."""
        return [r for r in self._reads.values() if r not in self._internalReaders]

    def getWriters(self) -> list[Any]:
        """Return the writers."""
        return list(self._writes.values())

    def doIteration(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds for readiness, then dispatch each ready descriptor."""
        events = self._pollWait(timeout)
        selectables = self._selectables
        reads = self._reads
        writes = self._writes
        IN, OUT, ERR = self._IN, self._OUT, self._ERR
        for fd, event in events:
            selectable: Any = selectables.get(fd)
            if selectable is None:
                continue
            if event & ERR and not event & IN:
                if fd in writes:
                    # Let the writer find out what happened (a connect's error).
                    self._doReadOrWrite(selectable, False, True)
                else:
                    self._hangUp(selectable, fd in reads)
                continue
            # _doReadOrWrite, inlined: this loop runs once per ready descriptor.
            why = None
            isRead = False
            try:
                if event & IN and fd in reads:
                    isRead = True
                    why = selectable.doRead()
                if why is None and event & OUT and fd in writes and not selectable.disconnected:
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
