"""
An observer that collects log events, for tests.

Public names are re-exported by :mod:`fw.internet.testing`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, Self, overload

from zope.interface import implementer

from fw.logger import ILogObserver, LogEvent, LogPublisher

__all__ = ["EventLoggingObserver"]


class _HasCleanup(Protocol):
    def addCleanup(self, function: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
        """Register ``function(*args, **kwargs)`` to run when the test ends."""


@implementer(ILogObserver)
class EventLoggingObserver(Sequence[LogEvent]):
    """
    A log observer that keeps every event it is given, in order, and reads
    as a sequence of them.

    Use :meth:`createWithCleanup` to observe a publisher for the length of
    a test, or add an instance to a publisher yourself.
    """

    def __init__(self) -> None:
        self._events: list[LogEvent] = []

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> LogEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LogEvent]: ...

    def __getitem__(self, index: int | slice) -> LogEvent | Sequence[LogEvent]:
        return self._events[index]

    def __iter__(self) -> Iterator[LogEvent]:
        return iter(self._events)

    def __call__(self, event: LogEvent) -> None:
        """Keep ``event``."""
        self._events.append(event)

    @classmethod
    def createWithCleanup(cls, testInstance: _HasCleanup, publisher: LogPublisher) -> Self:
        """
        Make an observer, add it to ``publisher``, and have ``testInstance``
        remove it when the test ends.

        Args:
            testInstance: a test case with ``addCleanup`` (``unittest`` or
                trial ``TestCase``).
            publisher: the publisher to observe.
        """
        observer = cls()
        publisher.addObserver(observer)
        testInstance.addCleanup(publisher.removeObserver, observer)
        return observer
