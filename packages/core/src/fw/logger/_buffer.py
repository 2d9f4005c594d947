"""An observer that remembers the most recent events."""

from __future__ import annotations

from collections import deque
from typing import Final

from zope.interface import implementer

from fw.logger._interfaces import ILogObserver, LogEvent, ObserverCallable

__all__ = ["LimitedHistoryLogObserver"]

#: How many events a :class:`LimitedHistoryLogObserver` keeps by default.
DEFAULT_HISTORY_SIZE: Final = 2**16


@implementer(ILogObserver)
class LimitedHistoryLogObserver:
    """Keeps the last ``size`` events, to replay them to another observer later.

    Args:
        size: how many events to keep; older ones are forgotten.
    """

    def __init__(self, size: int = DEFAULT_HISTORY_SIZE) -> None:
        self._buffer: deque[LogEvent] = deque(maxlen=size)

    def __call__(self, event: LogEvent) -> None:
        """Remember ``event``, forgetting the oldest one if full."""
        self._buffer.append(event)

    def replayTo(self, otherObserver: ObserverCallable) -> None:
        """Pass each remembered event, oldest first, to ``otherObserver``."""
        for event in list(self._buffer):
            otherObserver(event)
