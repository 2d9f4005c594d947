"""Bridges between fw.logger events and the classic ``fw.python.log`` event dicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from fw.logger._format import StringifiableFromEvent, formatEvent
from fw.logger._interfaces import ILogObserver, LogEvent, ObserverCallable
from fw.logger._levels import LogLevel
from fw.logger._stdlib import fromStdlibLogLevel
from fw.python.reflect import safe_str

__all__ = ["LegacyLogObserverWrapper", "publishToNewObserver"]


@implementer(ILogObserver)
class LegacyLogObserverWrapper:
    """Makes a classic (``fw.python.log``) observer an fw.logger observer.

    The classic observer gets a copy of each event with the keys classic
    observers rely on added when missing: ``message`` (a tuple), ``time``,
    ``system`` (``log_system`` or ``"-"``), ``isError`` (true for events at
    error or critical level and events with a failure), ``format`` (renders
    the new-style message), and ``failure`` and ``why`` for events with a
    ``log_failure``.

    Args:
        legacyObserver: the classic observer.
    """

    def __init__(self, legacyObserver: Callable[[dict[str, Any]], object]) -> None:
        self.legacyObserver = legacyObserver

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.legacyObserver!r})"

    def __call__(self, event: LogEvent) -> None:
        """Pass a classic view of ``event`` to the classic observer."""
        event = dict(event)
        if "message" not in event:
            event["message"] = ()
        if "time" not in event:
            event["time"] = event.get("log_time")
        if "system" not in event:
            event["system"] = event.get("log_system", "-")
        if "format" not in event and event.get("log_format") is not None:
            # Rendered only if the classic observer asks for the text.
            event["format"] = "%(log_legacy)s"
            event["log_legacy"] = StringifiableFromEvent(dict(event))
            # A non-tuple "message" is a new-style field; "format" renders it.
            if not isinstance(event["message"], tuple):
                event["message"] = ()
        if "log_failure" in event:
            event.setdefault("failure", event["log_failure"])
            event.setdefault("isError", 1)
            if "why" not in event:
                event["why"] = formatEvent(event)
        elif "isError" not in event:
            isError = event.get("log_level") in (LogLevel.error, LogLevel.critical)
            event["isError"] = 1 if isError else 0
        self.legacyObserver(event)


def publishToNewObserver(
    observer: ObserverCallable,
    eventDict: dict[str, Any],
    textFromEventDict: Callable[[dict[str, Any]], str | None],
) -> None:
    """Publish a classic event to an fw.logger observer, adding the ``log_*`` keys.

    ``eventDict`` is changed in place.  It gets ``log_time`` (from ``time``),
    ``log_level`` (from ``logLevel``, a stdlib level number, rounded down to
    an fw level; or from ``isError``),
    ``log_namespace`` (``"log_legacy"``), ``log_system`` (from ``system``) and,
    unless it has a ``log_format``, its text as ``log_text`` with the format
    ``"{log_text}"``.  An error event carrying a ``failure`` and no message
    (what ``fw.python.log.err`` emits) gets the failure as ``log_failure`` and
    only ``why`` as its text, so that observers render the traceback once.

    Args:
        observer: the new-style observer.
        eventDict: the classic event.
        textFromEventDict: renders a classic event as text (or ``None``).
    """
    if "log_time" not in eventDict:
        eventDict["log_time"] = eventDict.get("time")
    if "log_format" not in eventDict:
        failure = eventDict.get("failure")
        if (
            failure is not None
            and eventDict.get("isError")
            and not eventDict.get("message")
            and "log_failure" not in eventDict
        ):
            why = eventDict.get("why")
            eventDict["log_failure"] = failure
            eventDict["log_text"] = safe_str(why) if why else "Unhandled Error"
            eventDict["log_format"] = "{log_text}"
        else:
            text = textFromEventDict(eventDict)
            if text is not None:
                eventDict["log_text"] = text
                eventDict["log_format"] = "{log_text}"
    if "log_level" not in eventDict:
        level: LogLevel | None
        if "logLevel" in eventDict:
            stdlibLevel = eventDict["logLevel"]
            level = fromStdlibLogLevel(stdlibLevel) if isinstance(stdlibLevel, int) else None
        elif eventDict.get("isError"):
            level = LogLevel.critical
        else:
            level = LogLevel.info
        if level is not None:
            eventDict["log_level"] = level
    if "log_namespace" not in eventDict:
        eventDict["log_namespace"] = "log_legacy"
    if "log_system" not in eventDict and "system" in eventDict:
        eventDict["log_system"] = eventDict["system"]
    observer(eventDict)
