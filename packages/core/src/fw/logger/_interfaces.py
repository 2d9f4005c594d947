"""The log event type and the observer interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

from zope.interface import Interface

__all__ = ["ILogObserver", "LogEvent", "LogTrace", "ObserverCallable", "TextWriter"]

#: A log event: a dictionary of the event's fields.  The fields fw's logger
#: sets are named ``log_*``:
#:
#: - ``log_logger``: the :class:`~fw.logger.Logger` that emitted it;
#: - ``log_level``: its :class:`~fw.logger.LogLevel`;
#: - ``log_namespace``: the logger's namespace (usually a module or class name);
#: - ``log_source``: the object the logger belongs to, or ``None``;
#: - ``log_format``: a :pep:`3101` format string rendered with the event's
#:   fields, or ``None``;
#: - ``log_time``: when it was emitted, in seconds since the epoch;
#: - ``log_failure``: a :class:`~fw.python.failure.Failure` for events about an
#:   exception;
#: - ``log_system``: an optional name for the subsystem that emitted it;
#: - ``log_trace``: if present, a list to which every publisher and observer the
#:   event passes through appends itself (for debugging observer setups).
#:
#: Every other key is a field the emitter chose.
LogEvent: TypeAlias = dict[str, Any]

#: The shape of ``log_trace``: (emitter or publisher, observer) pairs.
LogTrace: TypeAlias = list[tuple[object, object]]

#: What the logging system calls with each event: any callable taking one
#: event, usually (but not necessarily) a provider of :class:`ILogObserver`.
ObserverCallable: TypeAlias = Callable[[LogEvent], object]


class ILogObserver(Interface):
    """Something that receives log events.

    An observer must not assume anything about the keys of an event beyond
    what :data:`LogEvent` documents, must not mutate the event (other
    observers see the same dictionary), and should not raise: an observer
    that raises is reported to the other observers of its publisher.
    """

    def __call__(event: LogEvent) -> None:
        """Handle one log event."""


class TextWriter(Protocol):
    """What log observers write text to: a text file, or anything with ``write(str)``.

    A ``flush()`` method, if present, is called after each event.
    """

    def write(self, text: str, /) -> object:
        """Write ``text``."""
