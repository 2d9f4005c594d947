"""
Helpers for trial's test cases: looking attributes up through a test's
parents, warning suppression, and the janitor that checks and cleans the
reactor after each test.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from fw.internet.abstract import CONNECTION_LOST
from fw.python.failure import Failure

__all__ = [
    "DEFAULT_TIMEOUT_DURATION",
    "DirtyReactorAggregateError",
    "acquireAttribute",
    "suppress",
]

#: How long, in seconds, a test (and each of its set-up, tear-down and
#: cleanup steps) may run on the reactor before it fails with
#: :class:`~fw.internet.defer.TimeoutError`: Twisted's default, 120 s.
DEFAULT_TIMEOUT_DURATION: Final = 120.0

_NOT_FOUND: Any = object()

#: How long the janitor waits for the reactor's thread pool to stop before it
#: reports the threads as stuck and gives up on them.
_THREAD_JOIN_TIMEOUT: Final = 10.0


def acquireAttribute(objects: Sequence[object], attr: str, default: Any = _NOT_FOUND) -> Any:
    """
    Return ``attr`` of the first of ``objects`` that has it.

    Args:
        objects: where to look, nearest first (a test method, its test case,
            its module).
        attr: the attribute's name.
        default: what to return when none has it.

    Raises:
        AttributeError: none has it and no default was given.
    """
    for obj in objects:
        if obj is not None and hasattr(obj, attr):
            return getattr(obj, attr)
    if default is not _NOT_FOUND:
        return default
    raise AttributeError(f"attribute {attr!r} not found in {objects!r}")


@dataclass(frozen=True)
class suppress:
    """
    A warning filter applied while a test runs; list them in a test's (or
    class's, or module's) ``suppress`` attribute::

        suppress = [util.suppress(category=DeprecationWarning)]

    Args:
        action: the :func:`warnings.filterwarnings` action (``"ignore"``).
        kwargs: the other :func:`warnings.filterwarnings` arguments
            (``message``, ``category``, ``module``, ``lineno``).
    """

    action: str = "ignore"
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __init__(self, action: str = "ignore", **kwargs: Any) -> None:
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "kwargs", kwargs)


class DirtyReactorAggregateError(Exception):
    """
    A test left the reactor dirty: timers still pending, descriptors still
    watched, or threads still busy.  The janitor has cleaned them up.

    Attributes:
        delayedCalls: the pending delayed calls, as text.
        selectables: the readers and writers left, as text.
        threads: a description of the threads still at work, if any.
    """

    def __init__(
        self,
        delayedCalls: Sequence[str],
        selectables: Sequence[str] = (),
        threads: Sequence[str] = (),
    ) -> None:
        super().__init__(delayedCalls, selectables, threads)
        self.delayedCalls = list(delayedCalls)
        self.selectables = list(selectables)
        self.threads = list(threads)

    def __str__(self) -> str:
        lines = ["Reactor was unclean."]
        if self.delayedCalls:
            lines.append("DelayedCalls:")
            lines.extend(self.delayedCalls)
        if self.selectables:
            lines.append("Selectables:")
            lines.extend(self.selectables)
        if self.threads:
            lines.append("Threads:")
            lines.extend(self.threads)
        return "\n".join(lines)


def _getReactor() -> Any:
    """The global reactor, installing the platform's default on first use."""
    from fw.internet import reactor

    return reactor


class _Janitor:
    """
    Checks the global reactor after a test and cleans up what it left.

    Args:
        reactor: the reactor to look at; by default the global one.
    """

    def __init__(self, reactor: Any = None) -> None:
        self._reactor = reactor

    def _getReactor(self) -> Any:
        return self._reactor if self._reactor is not None else _getReactor()

    def postCaseCleanup(self) -> DirtyReactorAggregateError | None:
        """
        Clean the reactor; return the error describing what was left, or
        ``None`` when it was clean.
        """
        calls = self._cleanPending()
        selectables = self._cleanReactor()
        threads = self._cleanThreads()
        if calls or selectables or threads:
            return DirtyReactorAggregateError(calls, selectables, threads)
        return None

    def _cleanPending(self) -> list[str]:
        reactor = self._getReactor()
        # Timers due now (callLater(0, ...) from a callback that just ran)
        # are part of the test finishing: let them run.
        reactor.iterate(0)
        reactor.iterate(0)
        left = []
        for call in reactor.getDelayedCalls():
            if call.active():
                left.append(str(call))
                call.cancel()
        return left

    def _cleanReactor(self) -> list[str]:
        reactor = self._getReactor()
        left = []
        from fw.internet.interfaces import IProcessTransport

        for selectable in reactor.removeAll():
            left.append(repr(selectable))
            if IProcessTransport.providedBy(selectable):
                try:
                    selectable.signalProcess("KILL")
                except Exception:  # noqa: BLE001, S110 - already gone: nothing to kill
                    pass
            # Close the descriptor now rather than whenever it is collected.
            try:
                selectable.connectionLost(Failure(CONNECTION_LOST))
            except Exception:  # noqa: BLE001, S110 - cleaning up after a test: best effort
                pass
        return left

    def _cleanThreads(self) -> list[str]:
        reactor = self._getReactor()
        pool = getattr(reactor, "threadpool", None)
        if pool is None:
            return []
        left = []
        with pool._lock:
            busy = len(pool.threads) - pool._idle
            queued = pool._waiting
        if busy > 0 or queued > 0:
            left.append(f"{pool!r}: {busy} thread(s) at work, {queued} call(s) queued")
        stopper = threading.Thread(target=reactor._stopThreadPool, daemon=True)
        stopper.start()
        stopper.join(_THREAD_JOIN_TIMEOUT)
        if stopper.is_alive():
            left.append(f"{pool!r} did not stop within {_THREAD_JOIN_TIMEOUT} s")
        return left


def _fullyQualifiedModule(obj: object) -> Any:
    return sys.modules.get(getattr(obj, "__module__", "") or "")
