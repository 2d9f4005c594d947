"""Tests for fw.internet.task.Clock and the DelayedCall objects it returns."""

from __future__ import annotations

import random

import pytest
from zope.interface.verify import verifyClass, verifyObject

from fw.internet._task_clock import Clock as PrivateClock
from fw.internet._task_clock import DelayedCall
from fw.internet.error import AlreadyCalled, AlreadyCancelled
from fw.internet.interfaces import IDelayedCall, IReactorTime
from fw.internet.task import Clock


def test_public_clock_is_the_private_one() -> None:
    assert Clock is PrivateClock


def test_provides_interfaces() -> None:
    assert verifyClass(IReactorTime, Clock)
    clock = Clock()
    assert verifyObject(IReactorTime, clock)
    assert verifyObject(IDelayedCall, clock.callLater(1, lambda: None))


def test_time_starts_at_zero_and_advances() -> None:
    clock = Clock()
    assert clock.seconds() == 0.0
    clock.advance(1.5)
    clock.advance(2)
    assert clock.seconds() == 3.5
    assert clock.rightNow == 3.5


def test_call_later_runs_when_due_with_arguments() -> None:
    clock = Clock()
    calls: list[tuple[object, ...]] = []
    call = clock.callLater(2, lambda *a, **k: calls.append((a, k)), 1, 2, key="v")
    assert call.getTime() == 2
    clock.advance(1.999)
    assert calls == []
    assert (call.active(), call.called) == (True, False)
    clock.advance(0.001)
    assert calls == [((1, 2), {"key": "v"})]
    assert (call.active(), call.called) == (False, True)


def test_keywords_named_like_parameters_pass_through() -> None:
    clock = Clock()
    seen: list[dict[str, object]] = []
    clock.callLater(0, lambda **k: seen.append(k), delay=1, callable=2)
    clock.advance(0)
    assert seen == [{"delay": 1, "callable": 2}]


def test_order_by_time_then_scheduling() -> None:
    clock = Clock()
    order: list[str] = []
    clock.callLater(2, order.append, "c")
    clock.callLater(1, order.append, "a")
    clock.callLater(1, order.append, "b")
    clock.callLater(3, order.append, "d")
    clock.advance(10)
    assert order == ["a", "b", "c", "d"]


def test_calls_scheduled_during_advance() -> None:
    clock = Clock()
    order: list[str] = []

    def first() -> None:
        order.append("first")
        clock.callLater(0, order.append, "zero")
        clock.callLater(-1, order.append, "past")
        clock.callLater(1, order.append, "not-yet")

    clock.callLater(1, first)
    clock.advance(5)
    # Delays count from the current time, 5: "not-yet" is due at 6.
    assert order == ["first", "past", "zero"]
    assert [c.getTime() for c in clock.getDelayedCalls()] == [6.0]


def test_zero_delay_needs_advance() -> None:
    clock = Clock()
    called: list[int] = []
    clock.callLater(0, called.append, 1)
    assert called == []
    clock.advance(0)
    assert called == [1]


def test_negative_delay_is_due_at_once() -> None:
    clock = Clock()
    called: list[int] = []
    clock.advance(5)
    call = clock.callLater(-1, called.append, 1)
    assert call.getTime() == 4
    clock.advance(0)
    assert called == [1]


def test_cancel() -> None:
    clock = Clock()
    called: list[int] = []
    call = clock.callLater(1, called.append, 1)
    call.cancel()
    assert call.cancelled
    assert not call.active()
    assert clock.getDelayedCalls() == []
    clock.advance(2)
    assert called == []
    with pytest.raises(AlreadyCancelled):
        call.cancel()
    with pytest.raises(AlreadyCancelled):
        call.reset(1)
    with pytest.raises(AlreadyCancelled):
        call.delay(1)


def test_cancel_drops_references() -> None:
    clock = Clock()
    payload = object()
    call = clock.callLater(1, print, payload)
    call.cancel()
    assert call.func is None
    assert call.args == ()
    assert call.kw == {}


def test_already_called_errors() -> None:
    clock = Clock()
    call = clock.callLater(1, lambda: None)
    clock.advance(1)
    with pytest.raises(AlreadyCalled):
        call.cancel()
    with pytest.raises(AlreadyCalled):
        call.reset(1)
    with pytest.raises(AlreadyCalled):
        call.delay(1)


def test_cancel_from_inside_own_call() -> None:
    clock = Clock()
    holder: list[DelayedCall] = []
    errors: list[Exception] = []

    def f() -> None:
        try:
            holder[0].cancel()
        except AlreadyCalled as e:
            errors.append(e)

    holder.append(clock.callLater(1, f))
    clock.advance(1)
    assert len(errors) == 1


def test_reset_later_and_earlier() -> None:
    clock = Clock()
    order: list[str] = []
    a = clock.callLater(1, order.append, "a")
    b = clock.callLater(2, order.append, "b")
    a.reset(3)  # later: due at 3
    assert a.getTime() == 3
    b.reset(0.5)  # earlier: due at 0.5
    assert b.getTime() == 0.5
    clock.advance(1)
    assert order == ["b"]
    clock.advance(1.5)
    assert order == ["b"]
    clock.advance(0.5)
    assert order == ["b", "a"]


def test_reset_is_relative_to_now() -> None:
    clock = Clock()
    called: list[int] = []
    call = clock.callLater(10, called.append, 1)
    clock.advance(5)
    call.reset(10)
    assert call.getTime() == 15
    clock.advance(9)
    assert called == []
    clock.advance(1)
    assert called == [1]


def test_delay() -> None:
    clock = Clock()
    called: list[str] = []
    call = clock.callLater(2, called.append, "x")
    call.delay(3)
    assert call.getTime() == 5
    clock.advance(4)
    assert called == []
    call.delay(-2)  # moves it earlier than the queued time: due at 3, already past
    assert call.getTime() == 3
    clock.advance(0)
    assert called == ["x"]


def test_repeated_postponement() -> None:
    clock = Clock()
    called: list[float] = []
    call = clock.callLater(1, lambda: called.append(clock.seconds()))
    for _ in range(10):
        clock.advance(0.5)
        call.reset(1)
    clock.advance(1)
    assert called == [6.0]


def test_get_delayed_calls_earliest_first() -> None:
    clock = Clock()
    c = clock.callLater(3, lambda: None)
    a = clock.callLater(1, lambda: None)
    b = clock.callLater(2, lambda: None)
    assert clock.getDelayedCalls() == [a, b, c]
    assert clock.calls == [a, b, c]
    a.reset(5)
    b.cancel()
    assert clock.getDelayedCalls() == [c, a]
    clock.advance(3)
    assert clock.getDelayedCalls() == [a]


def test_exception_propagates_and_rest_stay_queued() -> None:
    clock = Clock()
    called: list[int] = []

    def boom() -> None:
        raise ZeroDivisionError

    clock.callLater(1, boom)
    clock.callLater(1, called.append, 2)
    with pytest.raises(ZeroDivisionError):
        clock.advance(1)
    assert called == []
    clock.advance(0)
    assert called == [2]


def test_pump() -> None:
    clock = Clock()
    seen: list[float] = []
    for t in (1, 2, 3):
        clock.callLater(t, lambda: seen.append(clock.seconds()))
    clock.pump([0.5, 1, 1, 1])
    assert seen == [1.5, 2.5, 3.5]
    assert clock.seconds() == 3.5


def test_many_timers_with_a_quarter_cancelled() -> None:
    clock = Clock()
    rng = random.Random(1234)
    fired: list[int] = []
    calls = [clock.callLater(rng.uniform(0, 1000), fired.append, i) for i in range(100_000)]
    cancelled = set(rng.sample(range(100_000), 25_000))
    for i in cancelled:
        calls[i].cancel()
    assert len(clock.getDelayedCalls()) == 75_000
    clock.advance(500)
    clock.advance(500)
    assert len(fired) == 75_000
    assert set(fired) == set(range(100_000)) - cancelled
    times = [calls[i].getTime() for i in fired]
    assert times == sorted(times)
    assert clock.getDelayedCalls() == []


def test_cancelling_and_rescheduling_many() -> None:
    clock = Clock()
    fired: list[int] = []
    calls = [clock.callLater(i, fired.append, i) for i in range(1000)]
    for c in calls[::2]:
        c.cancel()
    for c in calls[1::4]:
        c.reset(0.5)
    clock.advance(0.5)
    assert fired == list(range(1, 1000, 4))
    clock.advance(1000)
    assert sorted(fired) == list(range(1, 1000, 2))


def test_repr() -> None:
    clock = Clock()

    def target(a: int, b: int = 0) -> None:
        pass

    call = clock.callLater(2, target, 1, b=2)
    text = repr(call)
    assert text.startswith("<DelayedCall 0x")
    assert "[2s] pending" in text
    assert "target(1, b=2)" in text
    clock.advance(2)
    assert "called" in repr(call)
    other = clock.callLater(1, target, 3)
    other.cancel()
    assert "cancelled" in repr(other)


def test_debug_mode_remembers_creator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DelayedCall, "debug", True)
    clock = Clock()
    call = clock.callLater(1, lambda: None)
    assert call.creator is not None
    assert "created at:" in repr(call)
    assert "test_debug_mode_remembers_creator" in repr(call)
    call.cancel()
    assert "created at:" in repr(call)


def test_delayed_call_standalone() -> None:
    now = [10.0]
    cancelled: list[DelayedCall] = []
    resets: list[DelayedCall] = []
    call = DelayedCall(15.0, lambda: None, (), {}, cancelled.append, resets.append, lambda: now[0])
    assert call.getTime() == 15.0
    call.reset(10)  # later: no requeue needed
    assert resets == []
    assert call.delayed_time == 5.0
    assert call.getTime() == 20.0
    call.activate_delay()
    assert (call.time, call.delayed_time) == (20.0, 0.0)
    call.reset(1)  # earlier: requeue
    assert resets == [call]
    assert call.time == 11.0
    call.delay(-5)
    assert resets == [call, call]
    assert call.time == 6.0
    other = DelayedCall(7.0, lambda: None, (), {}, cancelled.append, resets.append)
    assert call < other
    assert call <= other
    assert not other < call
    call.cancel()
    assert cancelled == [call]
