"""
:class:`TestCase`: a test case whose set-up, test, tear-down and cleanups
may return Deferreds or be coroutine functions, run on the global reactor.

Each step that does not finish at once runs the global reactor until it
does (or until the step's timeout), then crashes the reactor, so the next
step can run it again: the reactor is never run re-entrantly and never
stopped.  After the test the janitor fails it if the reactor was left
dirty, and cleans it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fw.internet.defer import Deferred, TimeoutError, maybeDeferred
from fw.python.failure import Failure
from fw.trial._synctest import SynchronousTestCase
from fw.trial.util import DEFAULT_TIMEOUT_DURATION, _getReactor, _Janitor, acquireAttribute

__all__ = ["TestCase"]


class TestCase(SynchronousTestCase):
    """
    A test case for asynchronous code.

    ``setUp``, the test method, ``tearDown`` and cleanups may return a
    Deferred, or be ``async def``: the global reactor runs until it fires.
    Each step has ``timeout`` seconds (an attribute of the method, the
    class or the module; :data:`~fw.trial.util.DEFAULT_TIMEOUT_DURATION` by
    default) before it fails with :class:`~fw.internet.defer.TimeoutError`.
    A test that leaves delayed calls, readers, writers or busy threads in
    the reactor fails with
    :class:`~fw.trial.util.DirtyReactorAggregateError`.
    """

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self._timedOut = False

    def getTimeout(self) -> float:
        """This test's timeout in seconds (its ``timeout`` attribute)."""
        timeout = acquireAttribute(self._parents, "timeout", DEFAULT_TIMEOUT_DURATION)
        try:
            return float(timeout)
        except (ValueError, TypeError):
            return DEFAULT_TIMEOUT_DURATION

    def _runStep(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Failure | None:
        d = maybeDeferred(f, *args, **kwargs)
        description = f"{self!r} ({getattr(f, '__name__', f)!r})"
        result = _waitForDeferred(d, self.getTimeout(), description)
        if isinstance(result, _TimedOut):
            self._timedOut = True
            return result.failure
        return result if isinstance(result, Failure) else None

    def _postTestChecks(self, result: Any) -> None:
        error = _Janitor().postCaseCleanup()
        if error is not None:
            self._addError(result, Failure(error))


class _TimedOut:
    """The outcome of a step that ran past its timeout."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def _waitForDeferred(d: Deferred[Any], timeout: float, description: str) -> Any:
    """
    Return what ``d`` fires with (a value or a :class:`Failure`), running the
    global reactor until it does; a :class:`_TimedOut` after ``timeout``
    seconds, when ``d`` is cancelled.
    """
    outcome: list[Any] = []
    d.addBoth(outcome.append)
    if outcome:
        return outcome[0]
    reactor = _getReactor()
    finished: Deferred[Any] = Deferred()
    timedOut: list[_TimedOut] = []

    def fired(_: object) -> None:
        if not finished.called:
            finished.callback(outcome[0])

    def onTimeout() -> None:
        error = TimeoutError(f"{description} still running at {timeout} secs")
        timedOut.append(_TimedOut(Failure(error)))
        finished.callback(None)
        # Let what the test waits on clean up after itself.
        d.cancel()

    d.addBoth(fired)
    call = reactor.callLater(timeout, onTimeout)
    try:
        result = _wait(reactor, finished)
    finally:
        if call.active():
            call.cancel()
    if timedOut:
        return timedOut[0]
    return result


def _wait(reactor: Any, d: Deferred[Any]) -> Any:
    """Run ``reactor`` until ``d`` fires; return what it fired with."""
    results: list[Any] = []
    d.addBoth(results.append)
    if results:
        return results[0]
    if reactor.running:
        raise RuntimeError("trial cannot wait for a Deferred inside a running reactor")

    def crash(_: object) -> None:
        if getattr(reactor, "_started", True):
            reactor.crash()

    d.addBoth(crash)

    def stop() -> None:
        # Code under test stopping the reactor only ends this wait.
        reactor.crash()

    reactor.stop = stop
    try:
        reactor.run()
    finally:
        del reactor.stop
    if results:
        return results[0]
    # The reactor ended without the step finishing: the user interrupted.
    raise KeyboardInterrupt()
