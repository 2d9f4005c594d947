"""Tests for fw.internet.task.LoopingCall and deferLater, on a Clock."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest

from fw.internet.defer import CancelledError, Deferred, fail, succeed
from fw.internet.task import Clock, LoopingCall, deferLater
from fw.python.failure import Failure

_T = TypeVar("_T")


def _outcome(d: Deferred[Any]) -> list[Any]:
    box: list[Any] = []
    d.addBoth(box.append)
    return box


def successResultOf(d: Deferred[_T]) -> _T:
    box = _outcome(d)
    assert box, f"{d!r} has no result"
    assert not isinstance(box[0], Failure), box[0].getTraceback()
    result: _T = box[0]
    return result


def failureResultOf(d: Deferred[Any], *types: type[BaseException]) -> Failure:
    box = _outcome(d)
    assert box, f"{d!r} has no result"
    assert isinstance(box[0], Failure), f"{d!r} succeeded with {box[0]!r}"
    if types:
        assert box[0].check(*types), box[0].getTraceback()
    return box[0]


def assertNoResult(d: Deferred[Any]) -> None:
    box: list[Any] = []

    def record(result: Any) -> Any:
        box.append(result)
        return result

    d.addBoth(record)
    assert not box, f"{d!r} has a result: {box[0]!r}"


def looping(clock: Clock, f: Any, *a: Any, **kw: Any) -> LoopingCall:
    lc = LoopingCall(f, *a, **kw)
    lc.clock = clock
    return lc


# -- LoopingCall ----------------------------------------------------------------


def test_calls_now_then_every_interval() -> None:
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    d = lc.start(1.0)
    assert times == [0.0]
    assert lc.running
    clock.pump([1, 1, 1])
    assert times == [0.0, 1.0, 2.0, 3.0]
    assertNoResult(d)
    lc.stop()
    assert (lc.running, successResultOf(d)) == (False, lc)
    clock.advance(10)
    assert times == [0.0, 1.0, 2.0, 3.0]
    assert clock.getDelayedCalls() == []


def test_arguments_passed() -> None:
    clock = Clock()
    seen: list[tuple[Any, ...]] = []
    lc = looping(clock, lambda *a, **kw: seen.append((a, kw)), 1, 2, now="kw")
    lc.start(5)
    assert seen == [((1, 2), {"now": "kw"})]
    assert (lc.f is not None, lc.a, lc.kw) == (True, (1, 2), {"now": "kw"})


def test_not_now_waits_one_interval() -> None:
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    lc.start(2, now=False)
    assert times == []
    clock.advance(1.9)
    assert times == []
    clock.advance(0.1)
    assert times == [2.0]


def test_calls_stay_aligned_to_start() -> None:
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    lc.start(1)
    clock.advance(0.5)
    clock.advance(0.75)  # the call due at 1 runs late, at 1.25
    clock.advance(0.75)  # the next is at 2, not 2.25
    assert times == [0.0, 1.25, 2.0]
    assert lc.starttime == 0.0
    assert lc.interval == 1


def test_skipped_intervals() -> None:
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    lc.start(1)
    clock.advance(3.5)  # one late call, not three
    assert times == [0.0, 3.5]
    clock.advance(0.5)
    assert times == [0.0, 3.5, 4.0]


def test_stop_from_inside_the_function() -> None:
    clock = Clock()
    count: list[int] = []

    def f() -> None:
        count.append(1)
        if len(count) == 3:
            lc.stop()

    lc = looping(clock, f)
    d = lc.start(1)
    clock.pump([1, 1, 1, 1])
    assert len(count) == 3
    assert successResultOf(d) is lc
    assert lc.call is None


def test_function_raising_stops_loop() -> None:
    clock = Clock()
    calls: list[int] = []

    def f() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ZeroDivisionError("boom")

    lc = looping(clock, f)
    d = lc.start(1)
    clock.advance(1)
    failure = failureResultOf(d, ZeroDivisionError)
    assert str(failure.value) == "boom"
    assert not lc.running
    clock.advance(5)
    assert len(calls) == 2
    assert lc.deferred is None


def test_function_returning_failed_deferred_stops_loop() -> None:
    clock = Clock()
    lc = looping(clock, lambda: fail(ValueError("no")))
    d = lc.start(1)
    failureResultOf(d, ValueError)
    assert not lc.running


def test_deferred_result_delays_next_call() -> None:
    clock = Clock()
    pending: list[Deferred[None]] = []
    times: list[float] = []

    def f() -> Deferred[None]:
        times.append(clock.seconds())
        d: Deferred[None] = Deferred()
        pending.append(d)
        return d

    lc = looping(clock, f)
    lc.start(1)
    clock.advance(2.5)
    assert times == [0.0]  # waiting for the first call's Deferred
    pending[0].callback(None)  # at 2.5: next call at the next boundary, 3
    clock.advance(0.4)
    assert times == [0.0]
    clock.advance(0.1)
    assert times == [0.0, 3.0]


def test_stop_while_deferred_pending_fires_when_it_fires() -> None:
    clock = Clock()
    pending: Deferred[None] = Deferred()
    lc = looping(clock, lambda: pending)
    d = lc.start(1)
    lc.stop()
    assertNoResult(d)
    pending.callback(None)
    assert successResultOf(d) is lc
    assert clock.getDelayedCalls() == []


def test_pending_deferred_failing_after_stop() -> None:
    clock = Clock()
    pending: Deferred[None] = Deferred()
    lc = looping(clock, lambda: pending)
    d = lc.start(1)
    lc.stop()
    pending.errback(KeyError("k"))
    failureResultOf(d, KeyError)


def test_coroutine_function() -> None:
    clock = Clock()
    gates: list[Deferred[str]] = []
    seen: list[tuple[float, str]] = []

    async def f() -> None:
        gates.append(Deferred())
        value = await gates[-1]
        seen.append((clock.seconds(), value))

    lc = looping(clock, f)
    lc.start(1)
    clock.advance(3)
    assert seen == []
    assert len(gates) == 1  # not called again while the coroutine runs
    gates[0].callback("first")
    assert seen == [(3.0, "first")]
    clock.advance(1)
    gates[1].callback("second")
    assert seen == [(3.0, "first"), (4.0, "second")]
    lc.stop()


def test_restart_after_stop() -> None:
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    lc.start(1)
    lc.stop()
    clock.advance(10.5)
    d = lc.start(2)
    clock.advance(2)
    assert times == [0.0, 10.5, 12.5]
    lc.stop()
    assert successResultOf(d) is lc


def test_misuse() -> None:
    clock = Clock()
    lc = looping(clock, lambda: None)
    with pytest.raises(AssertionError):
        lc.stop()
    with pytest.raises(AssertionError):
        lc.reset()
    with pytest.raises(ValueError, match="interval"):
        lc.start(-1)
    assert not lc.running
    lc.start(1)
    with pytest.raises(AssertionError):
        lc.start(1)
    lc.stop()


def test_reset_restarts_interval() -> None:
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    lc.start(2)
    clock.advance(1.5)
    lc.reset()
    assert lc.starttime == 1.5
    clock.advance(1.5)
    assert times == [0.0]
    clock.advance(0.5)
    assert times == [0.0, 3.5]


def test_zero_interval_runs_as_often_as_possible() -> None:
    clock = Clock()
    count: list[int] = []

    def f() -> None:
        count.append(1)
        if len(count) == 5:
            lc.stop()

    lc = looping(clock, f)
    d = lc.start(0)
    assert len(count) == 1
    clock.advance(0)
    assert len(count) == 5
    assert successResultOf(d) is lc


def test_zero_interval_not_now() -> None:
    clock = Clock()
    count: list[int] = []

    def f() -> None:
        count.append(1)
        if len(count) == 2:
            lc.stop()

    lc = looping(clock, f)
    lc.start(0, now=False)
    assert count == []
    clock.advance(0)
    assert len(count) == 2


def test_float_precision_does_not_call_twice() -> None:
    # At t=0.5 an interval of 0.1 leaves a remainder of 2.8e-17 seconds,
    # which does not move the clock: the loop waits a whole interval.
    clock = Clock()
    times: list[float] = []
    lc = looping(clock, lambda: times.append(clock.seconds()))
    lc.start(0.1)
    clock.advance(0.5)
    assert times == [0.0, 0.5]
    assert lc.call is not None
    assert lc.call.getTime() == pytest.approx(0.6)
    lc.stop()


def test_with_count() -> None:
    clock = Clock()
    counts: list[int] = []
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(1)
    assert counts == [1]
    clock.advance(1)
    assert counts == [1, 1]
    clock.advance(3)  # two intervals skipped
    assert counts == [1, 1, 3]
    clock.advance(0.5)
    clock.advance(0.5)
    assert counts == [1, 1, 3, 1]
    lc.stop()


def test_with_count_not_now_and_slow_deferred() -> None:
    clock = Clock()
    counts: list[int] = []
    gates: list[Deferred[None]] = []

    def f(count: int) -> Deferred[None]:
        counts.append(count)
        gates.append(Deferred())
        return gates[-1]

    lc = LoopingCall.withCount(f)
    lc.clock = clock
    lc.start(1, now=False)
    clock.advance(1)
    assert counts == [1]
    clock.advance(4.5)
    gates[0].callback(None)  # at 5.5; next call at 6, 5 intervals after the last
    clock.advance(0.5)
    assert counts == [1, 5]


def test_with_count_zero_interval() -> None:
    clock = Clock()
    counts: list[int] = []

    def f(n: int) -> None:
        counts.append(n)
        if len(counts) == 3:
            lc.stop()

    lc = LoopingCall.withCount(f)
    lc.clock = clock
    lc.start(0)
    clock.advance(0)
    assert counts == [1, 1, 1]


def test_with_count_restart_and_reset() -> None:
    clock = Clock()
    counts: list[int] = []
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(1)
    lc.stop()
    clock.advance(100)
    lc.start(1)
    assert counts == [1, 1]
    clock.advance(0.5)
    lc.reset()
    clock.advance(1)
    assert counts == [1, 1, 1]
    lc.stop()


def test_repr() -> None:
    def tick(a: int, b: int = 0) -> None:
        pass

    lc = LoopingCall(tick, 1, b=2)
    assert repr(lc) == "LoopingCall<None>(test_repr.<locals>.tick, 1, b=2)"
    lc.clock = Clock()
    lc.start(3)
    assert repr(lc).startswith("LoopingCall<3>(")
    lc.stop()


def test_deferred_property() -> None:
    clock = Clock()
    lc = looping(clock, lambda: None)
    before = lc.deferred
    d = lc.start(1)
    during = lc.deferred
    lc.stop()
    assert (before, during, lc.deferred) == (None, d, None)


# -- deferLater -----------------------------------------------------------------


def test_defer_later_without_callable() -> None:
    clock = Clock()
    d = deferLater(clock, 3)
    clock.advance(2.9)
    assertNoResult(d)
    clock.advance(0.1)
    assert successResultOf(d) is None


def test_defer_later_calls_with_arguments() -> None:
    clock = Clock()

    def add(a: int, b: int = 0) -> int:
        return a + b

    d = deferLater(clock, 1, add, 1, b=2)
    clock.advance(1)
    assert successResultOf(d) == 3


def test_defer_later_keyword_named_callable() -> None:
    clock = Clock()
    d = deferLater(clock, 1, lambda **kw: kw, callable=1, delay=2, clock=3)
    clock.advance(1)
    assert successResultOf(d) == {"callable": 1, "delay": 2, "clock": 3}


def test_defer_later_error() -> None:
    clock = Clock()

    def broken() -> None:
        raise RuntimeError("x")

    d = deferLater(clock, 1, broken)
    clock.advance(1)
    failureResultOf(d, RuntimeError)


def test_defer_later_deferred_result() -> None:
    clock = Clock()
    inner: Deferred[str] = Deferred()
    d = deferLater(clock, 1, lambda: inner)
    clock.advance(1)
    assertNoResult(d)
    inner.callback("done")
    assert successResultOf(d) == "done"
    assert successResultOf(deferLater_now(clock, lambda: succeed(5))) == 5


def deferLater_now(clock: Clock, f: Any) -> Deferred[Any]:
    d = deferLater(clock, 0, f)
    clock.advance(0)
    return d


def test_defer_later_coroutine() -> None:
    clock = Clock()

    async def slow(x: int) -> int:
        await deferLater(clock, 1)
        return x * 2

    d = deferLater(clock, 1, slow, 21)
    clock.advance(1)
    assertNoResult(d)
    clock.advance(1)
    assert successResultOf(d) == 42


def test_defer_later_cancel() -> None:
    clock = Clock()
    called: list[int] = []
    d = deferLater(clock, 5, called.append, 1)
    assert len(clock.getDelayedCalls()) == 1
    d.cancel()
    failureResultOf(d, CancelledError)
    assert clock.getDelayedCalls() == []
    clock.advance(10)
    assert called == []


def test_defer_later_cancel_after_firing() -> None:
    clock = Clock()
    d = deferLater(clock, 1, lambda: "v")
    clock.advance(1)
    d.cancel()  # already fired: nothing happens
    assert successResultOf(d) == "v"
