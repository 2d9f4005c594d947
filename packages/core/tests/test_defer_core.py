"""Tests for Deferred itself: chains, chaining, pausing, cancelling, timeouts, debugging."""

from __future__ import annotations

import gc
import itertools
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from fw.internet import defer
from fw.internet.defer import (
    AlreadyCalledError,
    CancelledError,
    Deferred,
    TimeoutError,
    fail,
    getDebugging,
    logError,
    passthru,
    setDebugging,
    succeed,
)
from fw.internet.task import Clock
from fw.logger import capturedLogs
from fw.python.failure import Failure, NoCurrentExceptionError

_T = TypeVar("_T")


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, f"{d!r} has no result"
    if isinstance(results[0], Failure):
        raise AssertionError(f"{d!r} failed: {results[0].getTraceback()}")
    return results[0]


def failureResultOf(d: Deferred[Any], *errorTypes: type[BaseException]) -> Failure:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, f"{d!r} has no result"
    assert isinstance(results[0], Failure), f"{d!r} succeeded with {results[0]!r}"
    if errorTypes:
        assert results[0].check(*errorTypes), results[0].getTraceback()
    return results[0]


def assertNoResult(d: Deferred[Any]) -> None:
    results: list[Any] = []

    def record(result: object) -> object:
        results.append(result)
        return result

    d.addBoth(record)
    assert not results, f"{d!r} has a result"


def tap(seen: list[Any], tag: str) -> Callable[[_T], _T]:
    """A callback that records ``tag`` and passes its result on."""

    def record(result: _T) -> _T:
        seen.append(tag)
        return result

    return record


def called(d: Deferred[Any]) -> bool:
    """Whether ``d`` fired (a function, so that mypy does not narrow ``d.called``)."""
    return d.called


def returning(value: _T) -> Callable[[object], _T]:
    """A callback that ignores its result and returns ``value``."""
    return lambda _: value


@pytest.fixture
def debugging() -> Iterator[None]:
    setDebugging(True)
    try:
        yield
    finally:
        setDebugging(False)


# -- basic chains -------------------------------------------------------------


def test_callbackRunsChainInOrder() -> None:
    d: Deferred[int] = Deferred()
    seen: list[object] = []

    def a(r: int) -> int:
        seen.append(("a", r))
        return r + 1

    def b(r: int) -> int:
        seen.append(("b", r))
        return r * 10

    d.addCallback(a).addCallback(b)
    assert not d.called
    d.callback(1)
    assert called(d)
    assert seen == [("a", 1), ("b", 2)]
    assert d.result == 20


def test_noResultAttributeBeforeFiring() -> None:
    d: Deferred[int] = Deferred()
    assert not hasattr(d, "result")
    d.callback(3)
    assert d.result == 3


def test_callbackArguments() -> None:
    d: Deferred[int] = Deferred()
    seen: list[object] = []

    def cb(result: int, a: int, b: str = "default", *, c: int = 0) -> int:
        seen.append((result, a, b, c))
        return result

    d.addCallback(cb, 1)
    d.addCallback(cb, 2, "two")
    d.addCallback(cb, 3, c=3)
    d.addCallback(cb, 4, b="four", c=4)
    d.callback(0)
    assert seen == [
        (0, 1, "default", 0),
        (0, 2, "two", 0),
        (0, 3, "default", 3),
        (0, 4, "four", 4),
    ]


def test_errbackArguments() -> None:
    seen: list[object] = []

    def eb(failure: Failure, a: int, *, b: int) -> None:
        seen.append((failure.type, a, b))

    d = fail(ValueError())
    d.addErrback(eb, 1, b=2)
    assert seen == [(ValueError, 1, 2)]
    assert d.result is None


def test_addBothArguments() -> None:
    seen: list[object] = []
    d = succeed(1)
    d.addBoth(lambda r, x: seen.append((r, x)), "x")
    d2 = fail(KeyError())

    def both(r: object, x: str, y: int = 0) -> None:
        seen.append((type(r), x, y))

    d2.addBoth(both, "x2", y=5)
    assert seen == [(1, "x"), (Failure, "x2", 5)]


def test_addCallbacksWithArguments() -> None:
    seen: list[object] = []
    d = succeed(1)
    d.addCallbacks(
        lambda r, a, k=None: seen.append(("cb", r, a, k)),
        lambda f, a, k=None: seen.append(("eb", a, k)),
        callbackArgs=(1,),
        callbackKeywords={"k": "cbk"},
        errbackArgs=(2,),
        errbackKeywords={"k": "ebk"},
    )
    d2 = fail(ValueError())
    d2.addCallbacks(
        lambda r, a, k=None: seen.append(("cb", r, a, k)),
        lambda f, a, k=None: seen.append(("eb", a, k)),
        callbackArgs=(1,),
        callbackKeywords={"k": "cbk"},
        errbackArgs=(2,),
        errbackKeywords={"k": "ebk"},
    )
    d3 = succeed(3)
    d3.addCallbacks(lambda r, k: seen.append(("kw only", r, k)), callbackKeywords={"k": 1})
    assert seen == [("cb", 1, 1, "cbk"), ("eb", 2, "ebk"), ("kw only", 3, 1)]


def test_addCallbacksNoErrbackPassesFailure() -> None:
    d = fail(ValueError("v"))
    d.addCallbacks(lambda r: pytest.fail("callback ran"))
    failureResultOf(d, ValueError)


def test_addCallbacksOnlyOneOfThePairRuns() -> None:
    seen: list[str] = []

    def cb(r: object) -> None:
        seen.append("cb")
        raise ValueError()

    d = succeed(1)
    d.addCallbacks(cb, lambda f: seen.append("eb"))
    assert seen == ["cb"]
    failureResultOf(d, ValueError)


def test_returnsSelf() -> None:
    d: Deferred[int] = Deferred()
    assert d.addCallback(passthru) is d
    assert d.addErrback(passthru) is d
    assert d.addBoth(passthru) is d
    assert d.addCallbacks(passthru, passthru) is d


def test_raisingCallbackSwitchesToErrbacks() -> None:
    seen: list[object] = []

    def boom(r: object) -> object:
        raise ZeroDivisionError("boom")

    d = succeed(1)
    d.addCallback(boom)
    d.addCallback(lambda r: seen.append("skipped"))

    def recover(f: Failure) -> str:
        seen.append(f.type)
        return "recovered"

    d.addErrback(recover)
    d.addCallback(lambda r: seen.append(r))
    assert seen == [ZeroDivisionError, "recovered"]


def test_returningFailureSwitchesToErrbacks() -> None:
    d = succeed(1)
    d.addCallback(lambda r: Failure(KeyError("k")))
    f = failureResultOf(d, KeyError)
    assert f.getErrorMessage() == "'k'"


def test_errbackReturningFailurePassesItOn() -> None:
    original = Failure(ValueError())
    d = fail(original)
    d.addErrback(lambda f: f)
    d.addErrback(lambda f: Failure(KeyError()))
    failureResultOf(d, KeyError)


def test_trapInErrback() -> None:
    d = fail(KeyError())
    d.addErrback(lambda f: f.trap(ValueError))
    f = failureResultOf(d, KeyError)
    d2 = fail(KeyError())
    d2.addErrback(lambda f: f.trap(KeyError))
    assert successResultOf(d2) is KeyError
    assert f.type is KeyError


def test_callbackFailureStartsErrbacks() -> None:
    d: Deferred[int] = Deferred()
    d.callback(Failure(ValueError()))
    failureResultOf(d, ValueError)


def test_callbacksAddedAfterFiringRunAtOnce() -> None:
    d = succeed(5)
    seen: list[int] = []
    d.addCallback(seen.append)
    assert seen == [5]
    assert d.result is None


def test_callbacksAddedDuringCallbacksRun() -> None:
    d: Deferred[int] = Deferred()
    seen: list[str] = []

    def first(r: int) -> int:
        d.addCallback(tap(seen, "added"))
        seen.append("first")
        return r

    d.addCallback(first)
    d.addCallback(tap(seen, "second"))
    d.callback(1)
    assert seen == ["first", "second", "added"]


def test_callbackKeepsFailureTracebackFromCallback() -> None:
    def failing(r: object) -> None:
        raise ValueError("in callback")

    d = succeed(1)
    d.addCallback(failing)
    f = failureResultOf(d, ValueError)
    names = [frame[0] for frame in f.frames]
    assert names == ["failing"]
    assert "_runCallbacks" not in f.getTraceback()


# -- firing errors ------------------------------------------------------------


def test_alreadyCalled() -> None:
    d: Deferred[int] = Deferred()
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.callback(2)
    with pytest.raises(AlreadyCalledError):
        d.errback(ValueError())
    e = fail(ValueError())
    with pytest.raises(AlreadyCalledError):
        e.callback(1)
    e.addErrback(lambda f: None)


def test_errbackForms() -> None:
    exc = ValueError("x")
    d: Deferred[int] = Deferred()
    d.errback(exc)
    assert failureResultOf(d).value is exc
    f = Failure(KeyError())
    d2: Deferred[int] = Deferred()
    d2.errback(f)
    assert failureResultOf(d2) is f
    d3: Deferred[int] = Deferred()
    try:
        raise OSError("current")
    except OSError:
        d3.errback()
    assert failureResultOf(d3, OSError).getErrorMessage() == "current"


def test_errbackWithNoCurrentException() -> None:
    d: Deferred[int] = Deferred()
    with pytest.raises(NoCurrentExceptionError):
        d.errback()
    assert not d.called


def test_succeedAndFail() -> None:
    d = succeed("x")
    assert d.called
    assert d.result == "x"
    assert d.paused == 0
    e = fail(ValueError("y"))
    assert e.called
    assert failureResultOf(e, ValueError).getErrorMessage() == "y"
    with pytest.raises(NoCurrentExceptionError):
        fail()
    try:
        raise KeyError("z")
    except KeyError:
        g = fail()
    failureResultOf(g, KeyError)


# -- chaining -----------------------------------------------------------------


def test_callbackReturningUnfiredDeferredWaits() -> None:
    inner: Deferred[str] = Deferred()
    outer = succeed(1)
    seen: list[object] = []
    outer.addCallback(lambda _: inner)

    def after(r: object) -> str:
        seen.append(r)
        return "after"

    outer.addCallback(after)
    assert seen == []
    assert outer.paused == 1
    waitingFor: object = outer.result
    assert waitingFor is inner
    assert "waiting on Deferred" in repr(outer)
    inner.callback("inner result")
    assert seen == ["inner result"]
    assert outer.result == "after"
    assert outer.paused == 0
    assert inner.result is None


def test_callbackReturningFiredDeferredContinues() -> None:
    outer = succeed(1)
    outer.addCallback(lambda _: succeed(2))
    assert outer.result == 2
    failed = succeed(1)
    inner = fail(KeyError())
    failed.addCallback(lambda _: inner)
    failureResultOf(failed, KeyError)
    assert inner.result is None


def test_chainedFailurePropagates() -> None:
    inner: Deferred[int] = Deferred()
    outer = succeed(0)
    outer.addCallback(lambda _: inner)
    inner.errback(ValueError("inner failed"))
    failureResultOf(outer, ValueError)
    # The inner Deferred handed its failure over: nothing is unhandled there.
    assert inner.result is None


def test_callbacksOnInnerAfterHandOverSeeNone() -> None:
    inner: Deferred[int] = Deferred()
    outer = succeed(0)
    outer.addCallback(lambda _: inner)
    inner.callback(3)
    seen: list[object] = []
    inner.addCallback(seen.append)
    assert seen == [None]
    assert outer.result == 3


def test_handOverOrderMatchesTwisted() -> None:
    # The waiting chain runs first, then what was added to the inner
    # Deferred after the waiting began (it sees None).  Twisted's order.
    order: list[tuple[str, object]] = []

    def record(tag: str, then: object) -> Callable[[object], object]:
        def cb(r: object) -> object:
            order.append((tag, r))
            return then

        return cb

    inner: Deferred[int] = Deferred()
    outer = succeed(0).addCallback(returning(inner))
    outer.addCallback(record("outer", "outer-done"))
    inner.addCallback(record("inner-later", "inner-done"))
    middle: Deferred[int] = Deferred()
    outer2 = succeed(0).addCallback(returning(middle))
    outer2.addCallback(record("outer2", None))
    middle.addCallback(record("middle-later", inner))
    middle.callback(1)
    inner.callback(5)
    assert order == [("outer2", 1), ("middle-later", None), ("outer", 5), ("inner-later", None)]
    assert outer.result == "outer-done"
    assert inner.result is None
    assert middle.result == "inner-done"
    assert outer2.result is None


def test_callbacksAddedToInnerBeforeChainingRunFirst() -> None:
    inner: Deferred[int] = Deferred()
    inner.addCallback(lambda r: r * 2)
    outer = succeed(0)
    outer.addCallback(lambda _: inner)
    inner.callback(21)
    assert outer.result == 42


def test_pausedInnerDeferredIsWaitedFor() -> None:
    inner = succeed(5)
    inner.pause()
    outer = succeed(0)
    outer.addCallback(lambda _: inner)
    assert outer.paused == 1
    inner.unpause()
    assert outer.result == 5


def test_callbackReturningItsOwnDeferred() -> None:
    d: Deferred[Any] = Deferred()
    d.addCallback(lambda _: d)
    d.callback(1)
    f = failureResultOf(d, TypeError)
    assert "cannot wait for itself" in f.getErrorMessage()


def test_longChainOfWaitingDeferreds() -> None:
    # Each Deferred's callback returns the next one: 100,000 deep, fired at the end.
    count = 100_000
    deferreds: list[Deferred[int]] = [Deferred() for _ in range(count)]
    for current, following in itertools.pairwise(deferreds):
        current.addCallback(returning(following))
    for d in deferreds[:-1]:
        d.callback(0)
    deferreds[0].addCallback(lambda r: r + 1)
    deferreds[-1].callback(41)
    assert deferreds[0].result == 42
    assert all(d.result is None for d in deferreds[1:])


def test_longChainFiredFromTheStart() -> None:
    # Build the nesting first, fire from the innermost at the end.
    count = 100_000
    innermost: Deferred[int] = Deferred()
    outer: Deferred[Any] = innermost
    for _ in range(count):
        waiting: Deferred[None] = Deferred()
        waiting.addCallback(returning(outer))
        waiting.callback(None)
        outer = waiting
    innermost.callback(7)
    assert outer.result == 7


def test_longFailingChain() -> None:
    count = 100_000
    deferreds: list[Deferred[int]] = [Deferred() for _ in range(count)]
    for current, following in itertools.pairwise(deferreds):
        current.addCallback(returning(following))
    for d in reversed(deferreds[:-1]):
        d.callback(0)
    deferreds[-1].errback(KeyError("deep"))
    failureResultOf(deferreds[0], KeyError)


def test_manyCallbacksOnOneDeferred() -> None:
    d: Deferred[int] = Deferred()
    for _ in range(100_000):
        d.addCallback(lambda r: r + 1)
    d.callback(0)
    assert d.result == 100_000


def test_chainDeferred() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    seen: list[int] = []
    b.addCallback(seen.append)
    chained: object = a.chainDeferred(b)
    assert chained is a
    a.callback(5)
    assert seen == [5]
    assert a.result is None
    c: Deferred[int] = Deferred()
    e: Deferred[int] = Deferred()
    c.chainDeferred(e)
    c.errback(ValueError())
    failureResultOf(e, ValueError)


# -- pausing ------------------------------------------------------------------


def test_pauseAndUnpause() -> None:
    d: Deferred[int] = Deferred()
    seen: list[int] = []
    d.pause()
    d.addCallback(seen.append)
    d.callback(1)
    assert seen == []
    assert d.result == 1
    d.pause()
    d.unpause()
    assert seen == []
    d.unpause()
    assert seen == [1]
    assert d.paused == 0


def test_pauseBeforeFiringThenUnpause() -> None:
    d: Deferred[int] = Deferred()
    d.pause()
    d.unpause()
    assert not d.called
    d.addCallback(lambda r: r + 1)
    d.callback(1)
    assert d.result == 2


def test_pauseInsideCallbackDoesNotStopTheRun() -> None:
    # Twisted's behaviour: pausing takes effect at the next run.
    d: Deferred[int] = Deferred()
    seen: list[str] = []

    def pausing(r: int) -> int:
        d.pause()
        seen.append("pausing")
        return r

    d.addCallback(pausing)
    d.addCallback(tap(seen, "next"))
    d.callback(1)
    assert seen == ["pausing", "next"]
    d.addCallback(tap(seen, "later"))
    assert seen == ["pausing", "next"]
    d.unpause()
    assert seen == ["pausing", "next", "later"]


# -- cancelling -----------------------------------------------------------------


def test_cancelWithoutCanceller() -> None:
    d: Deferred[int] = Deferred()
    d.cancel()
    failureResultOf(d, CancelledError)
    # The operation's own late result is ignored, once.
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.callback(2)


def test_cancelWithCanceller() -> None:
    cancelled: list[Deferred[Any]] = []
    d: Deferred[int] = Deferred(cancelled.append)
    d.cancel()
    assert cancelled == [d]
    failureResultOf(d, CancelledError)
    # With a canceller, a later result is an error.
    with pytest.raises(AlreadyCalledError):
        d.callback(1)


def test_cancellerThatFires() -> None:
    d: Deferred[str] = Deferred(lambda d: d.callback("stopped"))
    d.cancel()
    assert successResultOf(d) == "stopped"
    e: Deferred[str] = Deferred(lambda d: d.errback(KeyError()))
    e.cancel()
    failureResultOf(e, KeyError)


def test_cancelAfterFiringDoesNothing() -> None:
    calls: list[object] = []
    d: Deferred[int] = Deferred(calls.append)
    d.callback(1)
    d.cancel()
    assert calls == []
    assert d.result == 1


def test_cancelWaitingDeferredCancelsInner() -> None:
    inner: Deferred[int] = Deferred()
    outer = succeed(0)
    outer.addCallback(lambda _: inner)
    outer.cancel()
    assert inner.called
    # The inner Deferred's failure went on to the outer one.
    assert inner.result is None
    failureResultOf(outer, CancelledError)


def test_cancelDeepChainIsIterativeEnough() -> None:
    inner: Deferred[int] = Deferred()
    outer = succeed(0).addCallback(lambda _: inner)
    outermost = succeed(0).addCallback(lambda _: outer)
    outermost.cancel()
    failureResultOf(outermost, CancelledError)


def test_cancellerIsDroppedOnceFired() -> None:
    d: Deferred[int] = Deferred(lambda _: None)
    d.callback(1)
    assert d._canceller is None


# -- timeouts -----------------------------------------------------------------


def test_addTimeoutTimesOut() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    assert d.addTimeout(10, clock) is d
    clock.advance(9)
    assertNoResult(d)
    clock.advance(1)
    f = failureResultOf(d, TimeoutError)
    assert f.value.args == (10, "Deferred")
    assert isinstance(f.value, defer.TimeoutError)


def test_addTimeoutFiresInTime() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(10, clock)
    d.callback(5)
    assert clock.getDelayedCalls() == []
    clock.advance(20)
    assert successResultOf(d) == 5


def test_addTimeoutCustomTranslation() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    seen: list[object] = []

    def onTimeout(result: object, timeout: float) -> str:
        seen.append((type(result), timeout))
        return "timed out"

    d.addTimeout(2, clock, onTimeoutCancel=onTimeout)
    clock.advance(2)
    assert successResultOf(d) == "timed out"
    assert seen == [(Failure, 2)]


def test_addTimeoutWithCanceller() -> None:
    clock = Clock()
    d: Deferred[str] = Deferred(lambda d: d.callback("cancelled nicely"))
    d.addTimeout(1, clock)
    clock.advance(1)
    assert successResultOf(d) == "cancelled nicely"


def test_addTimeoutOtherFailurePassesThrough() -> None:
    clock = Clock()
    d: Deferred[str] = Deferred(lambda d: d.errback(KeyError()))
    d.addTimeout(1, clock)
    clock.advance(1)
    failureResultOf(d, KeyError)


def test_addTimeoutCancelledOtherwise() -> None:
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(1, clock)
    d.cancel()
    failureResultOf(d, CancelledError)
    assert clock.getDelayedCalls() == []


# -- unhandled failures ---------------------------------------------------------


def test_unhandledFailureIsLogged() -> None:
    with capturedLogs() as events:
        d = fail(ValueError("nobody handles me"))
        del d
        gc.collect()
    unhandled = [e for e in events if e.get("log_namespace") == "fw.internet.defer"]
    assert len(unhandled) == 1
    event = unhandled[0]
    assert event["log_format"] == "Unhandled error in Deferred:"
    assert event["log_failure"].check(ValueError)
    assert event["log_level"].name == "critical"


def test_unhandledFailureFromCallbackIsLogged() -> None:
    def bad(_: object) -> None:
        raise KeyError("from callback")

    with capturedLogs() as events:
        d: Deferred[int] = Deferred()
        d.addCallback(bad)
        d.callback(1)
        del d
        gc.collect()
    [event] = [e for e in events if e.get("log_namespace") == "fw.internet.defer"]
    assert event["log_failure"].check(KeyError)


def test_handledFailureIsNotLogged() -> None:
    with capturedLogs() as events:
        d = fail(ValueError())
        d.addErrback(lambda f: None)
        inner = fail(KeyError())
        outer = succeed(1).addCallback(returning(inner))
        outer.addErrback(lambda f: None)
        del d, inner, outer
        gc.collect()
    assert [e for e in events if e.get("log_namespace") == "fw.internet.defer"] == []


def test_failureHandedToWaitingDeferredIsLoggedOnce() -> None:
    with capturedLogs() as events:
        inner: Deferred[int] = Deferred()
        outer = succeed(1).addCallback(returning(inner))
        inner.errback(ValueError())
        del inner, outer
        gc.collect()
    assert len([e for e in events if e.get("log_namespace") == "fw.internet.defer"]) == 1


def test_logError() -> None:
    with capturedLogs() as events:
        f = Failure(ValueError("logged"))
        assert logError(f) is f
    [event] = events
    assert event["log_failure"] is f


# -- debugging ------------------------------------------------------------------


def test_debuggingSwitch() -> None:
    assert getDebugging() is False
    setDebugging(True)
    try:
        assert getDebugging() is True
        assert Deferred.debug is True
    finally:
        setDebugging(False)
    assert getDebugging() is False


def _makeDeferred() -> Deferred[int]:
    return Deferred()


def _fireDeferred(d: Deferred[int]) -> None:
    d.callback(1)


def test_debugInfoInAlreadyCalledError(debugging: None) -> None:
    d = _makeDeferred()
    _fireDeferred(d)
    with pytest.raises(AlreadyCalledError) as info:
        d.callback(2)
    message = str(info.value)
    assert " C: Deferred was created:" in message
    assert "_makeDeferred" in message
    assert " I: First Invoker was:" in message
    assert "_fireDeferred" in message
    assert "in callback" not in message.split("_fireDeferred")[1]


def test_debugInfoInRepr(debugging: None) -> None:
    d = _makeDeferred()
    text = repr(d)
    assert "Deferred was created" in text
    assert "_makeDeferred" in text


def test_debugInfoInUnhandledLog(debugging: None) -> None:
    with capturedLogs() as events:
        d = _makeDeferred()
        d.errback(ValueError())
        del d
        gc.collect()
    [event] = [e for e in events if e.get("log_namespace") == "fw.internet.defer"]
    assert "_makeDeferred" in event["debugInfo"]
    assert event["log_format"] == "Unhandled error in Deferred: (debug: {debugInfo})"


def test_debugCapturesVariables(debugging: None) -> None:
    def bad(r: int) -> None:
        local = "captured"  # noqa: F841
        raise ValueError()

    d = succeed(1).addCallback(bad)
    f = failureResultOf(d, ValueError)
    assert ("local", "captured") in f.frames[-1][3]


# -- display ------------------------------------------------------------------


def test_repr() -> None:
    d: Deferred[int] = Deferred()
    assert repr(d) == f"<Deferred at 0x{id(d):x}>"
    d.callback(1)
    assert repr(d) == f"<Deferred at 0x{id(d):x} current result: 1>"
    assert str(d) == repr(d)


def test_genericAlias() -> None:
    alias = Deferred[int]
    d = alias()
    assert isinstance(d, Deferred)


def test_publicNamesAreExported() -> None:
    for name in defer.__all__:
        if name == "DeferredFilesystemLock":
            continue
        obj = getattr(defer, name)
        assert obj is not None
        if callable(obj):
            assert obj.__doc__, name
            module = getattr(obj, "__module__", "")
            assert module.startswith("fw.internet"), (name, module)


def test_publicClassesNameThePublicModule() -> None:
    for cls in (Deferred, CancelledError, AlreadyCalledError, TimeoutError, defer.FirstError):
        assert cls.__module__ == "fw.internet.defer"
    assert Failure(CancelledError()).check("fw.internet.defer.CancelledError")


def test_unknownAttribute() -> None:
    with pytest.raises(AttributeError):
        defer.NoSuchThing  # noqa: B018


def test_noWarningsOnPlainUse() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = succeed(1)
        d.addCallback(lambda r: r)
        assert d.result == 1


def test_tracebackModuleCanFormatFailureFromCallback() -> None:
    def bad(_: object) -> None:
        raise ValueError("tb")

    f = failureResultOf(succeed(1).addCallback(bad), ValueError)
    text = "".join(traceback.format_tb(f.getTracebackObject()))
    assert "in bad" in text
