"""Bridges to the standard library's :mod:`logging`, both ways.

:class:`STDLibLogObserver` sends fw events to a stdlib logger;
:class:`STDLibLogHandler` sends stdlib records to fw observers.  Both can be
installed at once: records made from fw events carry an ``fw_event``
attribute and the handler ignores them, and events made from stdlib records
carry ``log_stdlib_record`` and the observer ignores them, so nothing loops
and nothing is logged twice.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from types import FrameType, MappingProxyType
from typing import Final

from zope.interface import implementer

from fw.logger._format import StringifiableFromEvent
from fw.logger._interfaces import ILogObserver, LogEvent, ObserverCallable
from fw.logger._levels import LogLevel
from fw.logger._observer import globalLogPublisher
from fw.python.failure import Failure

__all__ = [
    "STDLibLogHandler",
    "STDLibLogObserver",
    "fromStdlibLogLevel",
    "fromStdlibLogLevelMapping",
    "toStdlibLogLevelMapping",
]

#: The stdlib level of each fw level.
toStdlibLogLevelMapping: Final[Mapping[LogLevel, int]] = MappingProxyType(
    {
        LogLevel.debug: logging.DEBUG,
        LogLevel.info: logging.INFO,
        LogLevel.warn: logging.WARNING,
        LogLevel.error: logging.ERROR,
        LogLevel.critical: logging.CRITICAL,
    }
)

#: The fw level of each standard stdlib level.
fromStdlibLogLevelMapping: Final[Mapping[int, LogLevel]] = MappingProxyType(
    {value: key for key, value in toStdlibLogLevelMapping.items()}
)


def fromStdlibLogLevel(levelno: int) -> LogLevel:
    """Return the fw level of any stdlib level number (custom ones round down)."""
    if levelno >= logging.CRITICAL:
        return LogLevel.critical
    if levelno >= logging.ERROR:
        return LogLevel.error
    if levelno >= logging.WARNING:
        return LogLevel.warn
    if levelno >= logging.INFO:
        return LogLevel.info
    return LogLevel.debug


# Frames of these modules are the logging machinery, not the code that logged.
_MACHINERY: Final = ("fw.logger.", "fw.python.log", "fw.python._log", "contextlib")


def _findCaller() -> tuple[str, int, str | None]:
    """The file, line and function of the innermost frame outside the logging machinery."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not (isinstance(name, str) and name.startswith(_MACHINERY)):
            code = frame.f_code
            return code.co_filename, frame.f_lineno, code.co_name
        frame = frame.f_back
    return "(unknown file)", 0, None


@implementer(ILogObserver)
class STDLibLogObserver:
    """Sends fw log events to a :mod:`logging` logger.

    Each event becomes a record at the matching level (see
    :data:`toStdlibLogLevelMapping`) whose message is the event's rendered
    format, rendered only if a handler formats the record; the record's time
    is the event's, its file and line those of the code that logged, its
    ``exc_info`` the event's ``log_failure``, and its ``fw_event`` attribute
    the event.  Events that came from stdlib logging (through
    :class:`STDLibLogHandler`) are skipped.

    Args:
        name: the stdlib logger's name.
        stackDepth: accepted for compatibility and ignored: the caller is
            found by skipping the logging machinery's frames.
    """

    defaultStackDepth: Final = 4

    def __init__(self, name: str = "fw", stackDepth: int = defaultStackDepth) -> None:
        self.logger = logging.getLogger(name)
        self.stackDepth = stackDepth

    def __call__(self, event: LogEvent) -> None:
        """Hand ``event`` to the stdlib logger."""
        if "log_stdlib_record" in event:
            return
        level = event.get("log_level", LogLevel.info)
        stdlibLevel = toStdlibLogLevelMapping.get(level, logging.INFO)
        logger = self.logger
        if not logger.isEnabledFor(stdlibLevel):
            return
        failure = event.get("log_failure")
        excInfo = None
        if isinstance(failure, Failure):
            excInfo = (failure.type, failure.value, failure.getTracebackObject())
        filename, lineno, function = _findCaller()
        record = logger.makeRecord(
            logger.name,
            stdlibLevel,
            filename,
            lineno,
            StringifiableFromEvent(event),
            (),
            excInfo,
            function,
            {"fw_event": event},
        )
        when = event.get("log_time")
        if isinstance(when, (int, float)):
            record.created = when
            record.msecs = (when - int(when)) * 1000
        logger.handle(record)


class STDLibLogHandler(logging.Handler):
    """A :mod:`logging` handler that sends stdlib records to fw observers.

    Add it to a stdlib logger (the root logger, usually) to see the records
    of libraries that use stdlib logging in fw's log::

        logging.getLogger().addHandler(STDLibLogHandler())

    Each record becomes an event with ``log_namespace`` the stdlib logger's
    name, ``log_level`` from :func:`fromStdlibLogLevel`, ``log_time`` the
    record's time, the record's message as ``log_text`` (format
    ``"{log_text}"``; a stack given with ``stack_info`` follows it),
    ``log_failure`` from its ``exc_info``, and the record as
    ``log_stdlib_record``.  Records that came from fw (through
    :class:`STDLibLogObserver`) are skipped.

    Args:
        observer: where events go; by default
            :data:`~fw.logger.globalLogPublisher`, looked up at each record.
        level: the handler's stdlib level.
    """

    def __init__(self, observer: ObserverCallable | None = None, level: int = logging.NOTSET):
        super().__init__(level)
        self.observer = observer

    def emit(self, record: logging.LogRecord) -> None:
        """Send ``record`` to the observer."""
        if hasattr(record, "fw_event"):
            return
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - stdlib's way: report through handleError
            self.handleError(record)
            return
        if record.stack_info:
            text = f"{text}\n{record.stack_info}"
        event: LogEvent = {
            "log_level": fromStdlibLogLevel(record.levelno),
            "log_namespace": record.name,
            "log_source": None,
            "log_format": "{log_text}",
            "log_text": text,
            "log_time": record.created,
            "log_stdlib_record": record,
        }
        excInfo = record.exc_info
        if excInfo and excInfo[1] is not None:
            event["log_failure"] = Failure(excInfo[1], excInfo[0], excInfo[2])
        observer = self.observer
        if observer is None:
            observer = globalLogPublisher
        observer(event)
