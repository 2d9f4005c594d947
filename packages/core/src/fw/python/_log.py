"""Implementation of :mod:`fw.python.log`: the classic logging API, on fw.logger."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeAlias, TypeVar

from zope.interface import Interface

from fw.logger._global import LogBeginner, globalLogBeginner
from fw.logger._legacy import LegacyLogObserverWrapper, publishToNewObserver
from fw.logger._observer import LogPublisher as NewPublisher
from fw.logger._observer import globalLogPublisher
from fw.python import context
from fw.python.failure import Failure
from fw.python.reflect import safe_repr, safe_str

__all__ = [
    "EventDict",
    "ILogContext",
    "ILogObserver",
    "LogPublisher",
    "Logger",
    "callWithContext",
    "callWithLogger",
    "deferr",
    "err",
    "msg",
    "showwarning",
    "textFromEventDict",
    "theLogPublisher",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: A classic log event: ``message`` (a tuple), ``time``, ``isError``,
#: ``system``, and for errors ``failure`` and ``why``; or ``format`` and its
#: values.  Events also carry the ``log_*`` keys of :data:`fw.logger.LogEvent`.
EventDict: TypeAlias = dict[str, Any]

LegacyObserver: TypeAlias = Callable[[EventDict], object]


class ILogContext(Interface):
    """The key of the log context: the fields added to every classic event.

    ``context.get(ILogContext)`` is a dict; its ``"system"`` (``"-"`` by
    default) names the part of the program that is running, and shows in
    the classic log format as ``[system]``.  :func:`callWithContext` adds to it.
    """


context.setDefault(ILogContext, {"system": "-"})


class ILogObserver(Interface):
    """A classic observer: a callable taking a classic event dict.

    Classic events have ``message`` (a tuple of strings, possibly empty),
    ``time`` (seconds since the epoch), ``isError`` (true for errors),
    ``system`` (a string), and for errors logged with a failure, ``failure``
    and ``why``; other keys are the logger's keyword arguments.
    """

    def __call__(eventDict: EventDict) -> None:
        """Handle one event."""


def callWithContext(
    ctx: Mapping[str, object], func: Callable[_P, _T], /, *args: _P.args, **kw: _P.kwargs
) -> _T:
    """Call ``func(*args, **kw)`` with ``ctx``'s keys added to every classic event it logs.

    ``callWithContext({"system": "HTTPChannel,3,127.0.0.1"}, f)`` makes the
    events ``f`` logs with :func:`msg` and :func:`err` show that system.
    """
    newContext = dict(context.get(ILogContext) or {})
    newContext.update(ctx)
    return context.call({ILogContext: newContext}, func, *args, **kw)


class Logger:
    """The base of objects whose calls are logged under a system name of their own.

    See :func:`callWithLogger`.
    """

    def logPrefix(self) -> str:
        """Return the system name of events logged on behalf of this object."""
        return "-"


def callWithLogger(
    logger: Logger, func: Callable[_P, _T], /, *args: _P.args, **kw: _P.kwargs
) -> _T | None:
    """Call ``func(*args, **kw)`` with the system of ``logger.logPrefix()``; log its errors.

    An exception raised by ``func`` (or by ``logPrefix``) is logged with
    :func:`err` and swallowed.  Exceptions that are not :class:`Exception`
    (``KeyboardInterrupt``, ``SystemExit``) propagate.

    Returns:
        what ``func`` returns, or ``None`` if it raised.
    """
    try:
        prefix = logger.logPrefix()
    except Exception:  # noqa: BLE001 - logged; a broken prefix must not stop the call
        prefix = "(buggy logPrefix method)"
        err(system=prefix)
    try:
        return callWithContext({"system": prefix}, func, *args, **kw)
    except Exception:  # noqa: BLE001 - this function's job is to log the error and go on
        err(system=prefix)
        return None


def _safeFormat(fmtString: str, fmtDict: Mapping[str, Any]) -> str:
    """``fmtString % fmtDict``, or a description of why that failed; never raises."""
    try:
        return str(fmtString % fmtDict)
    except Exception:  # noqa: BLE001 - formatting a log message must not raise
        return (
            "Invalid format string or unformattable object in log message: "
            f"{safe_repr(fmtString)}, {safe_repr(fmtDict)}"
        )


def textFromEventDict(eventDict: EventDict) -> str | None:
    """Render a classic event's message.

    The strings of ``message`` joined with spaces; for an error event with
    no message but a ``failure``, ``why`` (or ``"Unhandled Error"``) and the
    traceback; else ``format % eventDict``.

    Returns:
        the text, or ``None`` if the event has none of these.
    """
    message = eventDict.get("message")
    if message:
        return " ".join(safe_str(m) for m in message)
    if eventDict.get("isError") and "failure" in eventDict:
        why = eventDict.get("why")
        header = safe_str(why) if why else "Unhandled Error"
        try:
            traceback = eventDict["failure"].getTraceback()
        except Exception as e:  # noqa: BLE001 - rendering a log message must not raise
            traceback = f"(unable to obtain traceback): {safe_str(e)}"
        return f"{header}\n{traceback}"
    if "format" in eventDict:
        return _safeFormat(eventDict["format"], eventDict)
    return None


class _NullFile:
    """A file that discards what is written to it."""

    softspace = 0

    def read(self) -> str:
        return ""

    def write(self, data: object) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


class LogPublisher:
    """The classic publisher: classic observers and :meth:`msg`, over fw.logger publishers.

    Args:
        observerPublisher: the fw.logger publisher classic observers are
            added to.
        publishPublisher: the fw.logger publisher :meth:`msg` publishes to.
        logBeginner: what :meth:`_startLogging` begins logging with.
        warningsModule: the :mod:`warnings` module (or a stand-in).
    """

    def __init__(
        self,
        observerPublisher: NewPublisher | None = None,
        publishPublisher: NewPublisher | None = None,
        logBeginner: LogBeginner | None = None,
        warningsModule: Any = warnings,
    ) -> None:
        if publishPublisher is None:
            publishPublisher = NewPublisher()
            if observerPublisher is None:
                observerPublisher = publishPublisher
        if observerPublisher is None:
            observerPublisher = NewPublisher()
        self._observerPublisher = observerPublisher
        self._publishPublisher = publishPublisher
        self._legacyObservers: list[LegacyLogObserverWrapper] = []
        if logBeginner is None:
            beginnerPublisher = NewPublisher()
            beginnerPublisher.addObserver(observerPublisher)
            logBeginner = LogBeginner(beginnerPublisher, _NullFile(), sys, warningsModule)
        self._logBeginner = logBeginner
        self._warningsModule = warningsModule
        self.showwarning = logBeginner.showwarning

    @property
    def observers(self) -> list[LegacyObserver]:
        """The classic observers added to this publisher."""
        return [wrapper.legacyObserver for wrapper in self._legacyObservers]

    def addObserver(self, other: LegacyObserver) -> None:
        """Add a classic observer."""
        wrapped = LegacyLogObserverWrapper(other)
        self._legacyObservers.append(wrapped)
        self._observerPublisher.addObserver(wrapped)

    def removeObserver(self, other: LegacyObserver) -> None:
        """Remove a classic observer; one that was not added is ignored."""
        for wrapped in self._legacyObservers:
            if wrapped.legacyObserver == other:
                self._legacyObservers.remove(wrapped)
                self._observerPublisher.removeObserver(wrapped)
                return

    def _startLogging(self, other: LegacyObserver, setStdout: bool) -> None:
        """Begin logging to the classic observer ``other``, with the buffered events."""
        wrapped = LegacyLogObserverWrapper(other)
        self._legacyObservers.append(wrapped)
        self._logBeginner.beginLoggingTo([wrapped], redirectStandardIO=bool(setStdout))

    def msg(self, *message: object, **kw: object) -> None:
        """Log a message: ``msg("Started", system="Foo")``.

        The event holds the current log context's fields (``system``), the
        keyword arguments, ``message`` (the positional arguments), ``time``
        and ``isError`` (``0`` unless given).
        """
        eventDict: EventDict = dict(context.get(ILogContext) or {})
        eventDict.update(kw)
        eventDict["message"] = message
        eventDict["time"] = time.time()
        if "isError" not in eventDict:
            eventDict["isError"] = 0
        publishToNewObserver(self._publishPublisher, eventDict, textFromEventDict)


#: The classic publisher of the process, over fw.logger's global publisher.
theLogPublisher = LogPublisher(
    observerPublisher=globalLogPublisher,
    publishPublisher=globalLogPublisher,
    logBeginner=globalLogBeginner,
)


def msg(*message: object, **kw: object) -> None:
    """Log a message through :data:`theLogPublisher` (see :meth:`LogPublisher.msg`)."""
    theLogPublisher.msg(*message, **kw)


def err(_stuff: object = None, _why: str | None = None, **kw: object) -> None:
    """Log an error: the exception being handled, a failure, an exception, or anything.

    The event has ``isError=1``, ``failure`` (for an exception or failure)
    and ``why``; its level is critical.

    Args:
        _stuff: a :class:`~fw.python.failure.Failure`, an exception, or an
            object whose ``repr`` is the message; by default the exception
            being handled.
        _why: what was being done when the error happened.
        kw: more fields of the event.

    Raises:
        NoCurrentExceptionError: ``_stuff`` is ``None`` outside an ``except``
            block.
    """
    if _stuff is None:
        _stuff = Failure()
    if isinstance(_stuff, Failure):
        msg(failure=_stuff, why=_why, isError=1, **kw)
    elif isinstance(_stuff, BaseException):
        msg(failure=Failure(_stuff), why=_why, isError=1, **kw)
    else:
        msg(safe_repr(_stuff), why=_why, isError=1, **kw)


#: A synonym of :func:`err`.
deferr = err


def showwarning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Log a warning (a replacement for :func:`warnings.showwarning`)."""
    theLogPublisher.showwarning(message, category, filename, lineno, file, line)
