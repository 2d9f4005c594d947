"""
The select(2) reactor: portable, and limited to descriptors below FD_SETSIZE.

``fw.internet.selectreactor.install()`` makes it the global reactor.
"""

from __future__ import annotations

import errno
import select
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._posixbase import PosixReactorBase
from fw.internet.abstract import CONNECTION_LOST

__all__ = ["SelectReactor", "install"]


@implementer(IReactorFDSet)
class SelectReactor(PosixReactorBase):
    """A reactor waiting with select(2)."""

    def __init__(self) -> None:
        self._reads: dict[Any, None] = {}
        self._writes: dict[Any, None] = {}
        super().__init__()

    def addReader(self, reader: Any) -> None:
        """Call ``reader.doRead()`` whenever it is readable."""
        self._reads[reader] = None

    def addWriter(self, writer: Any) -> None:
        """Call ``writer.doWrite()`` whenever it is writable."""
        self._writes[writer] = None

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader``."""
        self._reads.pop(reader, None)

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer``."""
        self._writes.pop(writer, None)

    def removeAll(self) -> list[Any]:
        """Remove every reader and writer but the reactor's own; return them."""
        return self._removeAllFrom(
            {id(r): r for r in self._reads}, {id(w): w for w in self._writes}
        )

    def getReaders(self) -> list[Any]:
        """Return the readers, the reactor's own excluded."""
        return [r for r in self._reads if r not in self._internalReaders]

    def getWriters(self) -> list[Any]:
        """Return the writers."""
        return list(self._writes)

    def _dropBadDescriptors(self) -> None:
        # One of them was closed without being removed: find it the slow way.
        for selectable in [*self._reads, *self._writes]:
            try:
                fd = selectable.fileno()
                if fd < 0:
                    raise ValueError(fd)
                select.select([fd], [fd], [fd], 0)
            except (OSError, ValueError):
                self._disconnectSelectable(selectable, CONNECTION_LOST, False)

    def doIteration(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds with select(2), then dispatch."""
        try:
            r, w, _ = select.select(list(self._reads), list(self._writes), [], timeout)
        except ValueError:
            self._dropBadDescriptors()
            return
        except OSError as e:
            if e.errno == errno.EBADF:
                self._dropBadDescriptors()
                return
            raise
        writable = set(w)
        for selectable in r:
            if selectable in self._reads:
                self._doReadOrWrite(selectable, True, selectable in writable)
                writable.discard(selectable)
        for selectable in w:
            if selectable in writable and selectable in self._writes:
                self._doReadOrWrite(selectable, False, True)


def install() -> SelectReactor:
    """Install a select reactor as the global reactor and return it."""
    from fw.internet.main import installReactor

    reactor = SelectReactor()
    installReactor(reactor)
    return reactor
