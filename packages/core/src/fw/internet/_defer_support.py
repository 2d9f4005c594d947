"""What the Deferred modules share: their errors, their log, debugging records.

Kept apart from :mod:`fw.internet._defer_core` so that the Deferred class
module stays readable; nothing here knows the Deferred class.
"""

from __future__ import annotations

import sys
import traceback
import types
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._defer_core import Deferred
    from fw.internet.interfaces import IReactorTime
    from fw.logger import Logger

__all__ = [
    "AlreadyCalledError",
    "AlreadyTryingToLockError",
    "CancelledError",
    "NotACoroutineError",
    "TimeoutError",
    "logError",
    "passthru",
]

_T = TypeVar("_T")

_LOG_NAMESPACE = "fw.internet.defer"


class AlreadyCalledError(Exception):
    """:meth:`Deferred.callback` or :meth:`Deferred.errback` was called a second time."""


class CancelledError(Exception):
    """The default failure of a cancelled :class:`Deferred`."""


class TimeoutError(Exception):
    """A :class:`Deferred` timed out (see :meth:`Deferred.addTimeout`)."""


class AlreadyTryingToLockError(Exception):
    """``DeferredFilesystemLock.deferUntilLocked`` was called while already waiting."""


class NotACoroutineError(TypeError):
    """A coroutine (or a Deferred) was expected and something else was given."""


# -- the log: fw.logger is imported when first needed, so that importing
# Deferreds does not import the logging system.

_logger: Logger | None = None


def _log() -> Logger:
    """Return this module's logger."""
    global _logger
    if _logger is None:
        from fw.logger import Logger

        _logger = Logger(namespace=_LOG_NAMESPACE)
    return _logger


def _logFailure(message: str, failure: Failure, debugInfo: str | None = None) -> None:
    """Log ``failure``, critical, in the ``fw.internet.defer`` namespace."""
    try:
        if debugInfo is None:
            _log().failure(message, failure)
        else:
            _log().failure(message, failure, debugInfo=debugInfo)
    except ImportError:  # pragma: no cover - at interpreter shutdown
        sys.stderr.write(f"{message}\n{failure.getTraceback()}")


def logError(err: Failure) -> Failure:
    """An errback that logs the failure and passes it on unchanged.

    Returns:
        ``err``.
    """
    _logFailure("", err)
    return err


def passthru(arg: _T) -> _T:
    """Return ``arg``: the identity callback."""
    return arg


# -- debugging ---------------------------------------------------------------


class _DebugInfo:
    """What a Deferred knows for error reports; logs an unhandled failure when collected.

    Only failing or debugged Deferreds have one, so that a plain Deferred has
    no finaliser.  It refers to no Deferred, so it is collected with its
    Deferred, and its ``__del__`` then reports a failure nobody handled.
    """

    __slots__ = ("creator", "failResult", "invoker")

    def __init__(self) -> None:
        self.failResult: Failure | None = None
        self.creator: list[str] | None = None
        self.invoker: list[str] | None = None

    def _getDebugTracebacks(self) -> str:
        parts = []
        if self.creator is not None:
            parts.append(" C: Deferred was created:\n C:")
            parts.append("".join(self.creator).rstrip().replace("\n", "\n C:"))
            parts.append("\n")
        if self.invoker is not None:
            parts.append(" I: First Invoker was:\n I:")
            parts.append("".join(self.invoker).rstrip().replace("\n", "\n I:"))
            parts.append("\n")
        return "".join(parts)

    def __del__(self) -> None:
        failure = self.failResult
        if failure is None:
            return
        self.failResult = None
        debugInfo = self._getDebugTracebacks()
        if debugInfo:
            _logFailure(
                "Unhandled error in Deferred: (debug: {debugInfo})", failure, debugInfo=debugInfo
            )
        else:
            _logFailure("Unhandled error in Deferred:", failure)


def _stack(skip: int) -> list[str]:
    return traceback.format_stack()[: -(skip + 1)]


# -- the chain ---------------------------------------------------------------


class _Continue:
    """Marks a chain entry that hands the result to a Deferred waiting for it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<continue>"


_CONTINUE: Any = _Continue()


def _isCoroutine(obj: object) -> bool:
    kind = type(obj)
    if kind is types.CoroutineType or kind is types.GeneratorType:
        return True
    return isinstance(obj, (Coroutine, Generator))


def _cancelledToTimedOutError(value: _T, timeout: float) -> _T:
    """Turn a :class:`CancelledError` failure into a :class:`TimeoutError`."""
    if isinstance(value, Failure):
        value.trap(CancelledError)
        raise TimeoutError(timeout, "Deferred")
    return value


def _timeoutAfter(
    d: Deferred[Any],
    timeout: float,
    clock: IReactorTime,
    onTimeoutCancel: Callable[[Any, float], Any] | None,
) -> None:
    """Implement :meth:`Deferred.addTimeout`."""
    timedOut = False

    def timeItOut() -> None:
        nonlocal timedOut
        timedOut = True
        d.cancel()

    delayedCall = clock.callLater(timeout, timeItOut)

    def convertCancelled(result: object) -> object:
        if timedOut:
            translate = onTimeoutCancel or _cancelledToTimedOutError
            return translate(result, timeout)
        return result

    def cancelTimeout(result: _T) -> _T:
        if delayedCall.active():
            delayedCall.cancel()
        return result

    # onTimeoutCancel is the caller's code: it runs in the caller's context.
    d.addBoth(convertCancelled)
    d._addInternal(cancelTimeout, cancelTimeout)


def _describe(d: Deferred[Any]) -> str:
    """Implement ``repr(deferred)``."""
    if d._chainedTo is not None:
        state = f" waiting on Deferred at 0x{id(d._chainedTo):x}"
    elif d.called:
        state = f" current result: {d.result!r}"
    else:
        state = ""
    info = d._debugInfo
    debug = ""
    if info is not None and (info.creator is not None or info.invoker is not None):
        debug = "\n" + info._getDebugTracebacks()
    return f"<{d.__class__.__name__} at 0x{id(d):x}{state}>{debug}"


for _public in (
    AlreadyCalledError,
    AlreadyTryingToLockError,
    CancelledError,
    TimeoutError,
    NotACoroutineError,
):
    _public.__module__ = "fw.internet.defer"
del _public
