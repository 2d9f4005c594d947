"""Capturing the events logged during a block, for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fw.logger._interfaces import LogEvent
from fw.logger._observer import LogPublisher, globalLogPublisher

__all__ = ["capturedLogs"]


@contextmanager
def capturedLogs(publisher: LogPublisher | None = None) -> Iterator[list[LogEvent]]:
    """Collect the events published while the ``with`` block runs::

        with capturedLogs() as events:
            doSomething()
        assert events[0]["log_format"] == "did {thing}"

    Args:
        publisher: the publisher to listen to; by default
            :data:`~fw.logger.globalLogPublisher`.

    Returns:
        a context manager whose ``as`` value is the list the events are
        appended to, in order.
    """
    if publisher is None:
        publisher = globalLogPublisher
    events: list[LogEvent] = []
    observer = events.append
    publisher.addObserver(observer)
    try:
        yield events
    finally:
        publisher.removeObserver(observer)
