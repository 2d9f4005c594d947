"""Tests for fw.internet.task's Cooperator, CooperativeTask, coiterate and cooperate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fw.internet import _task_coop, task
from fw.internet.defer import Deferred
from fw.internet.task import (
    Clock,
    CooperativeTask,
    Cooperator,
    NotPaused,
    SchedulerError,
    SchedulerStopped,
    TaskDone,
    TaskFailed,
    TaskFinished,
    TaskStopped,
)
from fw.python.failure import Failure


def _outcome(d: Deferred[Any]) -> list[Any]:
    box: list[Any] = []
    d.addBoth(box.append)
    return box


def stepsPerTick(n: int) -> Callable[[], Callable[[], bool]]:
    """A termination predicate factory allowing ``n`` steps per time slice."""

    def factory() -> Callable[[], bool]:
        left = [n]

        def done() -> bool:
            left[0] -= 1
            return left[0] <= 0

        return done

    return factory


def make(clock: Clock, steps: int = 1, started: bool = True) -> Cooperator:
    return Cooperator(
        terminationPredicateFactory=stepsPerTick(steps),
        scheduler=lambda f: clock.callLater(0, f),
        started=started,
    )


def recorder(log: list[str], name: str, n: int) -> Iterator[None]:
    for i in range(n):
        log.append(f"{name}{i}")
        yield None


def test_exception_hierarchy() -> None:
    for klass in (SchedulerStopped, TaskFinished, NotPaused):
        assert issubclass(klass, SchedulerError)
    for klass in (TaskDone, TaskStopped, TaskFailed):
        assert issubclass(klass, TaskFinished)


def test_coiterate_runs_to_completion() -> None:
    clock = Clock()
    coop = make(clock, steps=2)
    log: list[str] = []
    it = recorder(log, "a", 5)
    d = coop.coiterate(it)
    assert log == []  # nothing before the scheduler runs
    box = _outcome(d)
    clock.advance(0)
    # advance(0) runs each newly scheduled tick too, until the work is done.
    assert log == ["a0", "a1", "a2", "a3", "a4"]
    assert box == [it]
    assert clock.getDelayedCalls() == []


def test_one_slice_per_tick() -> None:
    ticks: list[Callable[[], None]] = []
    coop = Cooperator(terminationPredicateFactory=stepsPerTick(2), scheduler=ticks.append)
    log: list[str] = []
    coop.coiterate(recorder(log, "a", 5))
    assert len(ticks) == 1
    ticks.pop()()
    assert log == ["a0", "a1"]
    ticks.pop()()
    assert log == ["a0", "a1", "a2", "a3"]
    ticks.pop()()  # a4, then StopIteration: a step too
    assert log == ["a0", "a1", "a2", "a3", "a4"]
    assert ticks == []


def test_round_robin() -> None:
    ticks: list[Callable[[], None]] = []
    coop = Cooperator(terminationPredicateFactory=stepsPerTick(3), scheduler=ticks.append)
    log: list[str] = []
    coop.coiterate(recorder(log, "a", 3))
    coop.coiterate(recorder(log, "b", 3))
    ticks.pop()()
    assert log == ["a0", "b0", "a1"]
    ticks.pop()()
    assert log == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_coiterate_done_deferred() -> None:
    clock = Clock()
    coop = make(clock)
    done: Deferred[Any] = Deferred()
    it = iter([1, 2])
    assert coop.coiterate(it, done) is done
    box = _outcome(done)
    clock.advance(0)
    assert box == [it]


def test_yielded_deferred_pauses_task() -> None:
    clock = Clock()
    coop = make(clock, steps=10)
    gate: Deferred[None] = Deferred()
    log: list[str] = []

    def work() -> Iterator[object]:
        log.append("before")
        yield gate
        log.append("after")

    t = coop.cooperate(work())
    box = _outcome(t.whenDone())
    clock.advance(0)
    assert log == ["before"]
    assert box == []
    assert clock.getDelayedCalls() == []  # nothing to do: no tick scheduled
    gate.callback(None)
    clock.advance(0)
    assert log == ["before", "after"]
    assert len(box) == 1


def test_yielded_coroutine_is_awaited() -> None:
    clock = Clock()
    coop = make(clock, steps=10)
    gate: Deferred[str] = Deferred()
    log: list[str] = []

    async def wait() -> None:
        log.append(await gate)

    def work() -> Iterator[object]:
        yield wait()
        log.append("after")

    d = coop.coiterate(work())
    clock.advance(0)
    assert log == []
    gate.callback("opened")
    clock.advance(0)
    assert log == ["opened", "after"]
    assert len(_outcome(d)) == 1


def test_failed_yielded_deferred_fails_task() -> None:
    clock = Clock()
    coop = make(clock)
    gate: Deferred[None] = Deferred()

    def work() -> Iterator[object]:
        yield gate
        raise AssertionError("not reached")

    t = coop.cooperate(work())
    box = _outcome(t.whenDone())
    clock.advance(0)
    gate.errback(KeyError("k"))
    assert isinstance(box[0], Failure)
    assert box[0].check(KeyError)
    with pytest.raises(TaskFailed):
        t.pause()
    with pytest.raises(TaskFailed):
        t.stop()


def test_iterator_raising_fails_task() -> None:
    clock = Clock()
    coop = make(clock)

    def work() -> Iterator[object]:
        yield 1
        raise ValueError("bad")

    t = coop.cooperate(work())
    box = _outcome(t.whenDone())
    clock.advance(0)
    assert isinstance(box[0], Failure)
    assert box[0].check(ValueError)
    with pytest.raises(TaskFailed):
        t.stop()
    later = _outcome(t.whenDone())
    assert isinstance(later[0], Failure)
    assert later[0].check(ValueError)


def test_when_done_after_completion_and_many_waiters() -> None:
    clock = Clock()
    coop = make(clock)
    it = iter([1])
    t = coop.cooperate(it)
    first, second = _outcome(t.whenDone()), _outcome(t.whenDone())
    clock.advance(0)
    assert first == second == [it]
    assert _outcome(t.whenDone()) == [it]
    with pytest.raises(TaskDone):
        t.pause()


def test_pause_and_resume() -> None:
    ticks: list[Callable[[], None]] = []
    coop = Cooperator(terminationPredicateFactory=stepsPerTick(1), scheduler=ticks.append)
    log: list[str] = []
    t = coop.cooperate(recorder(log, "a", 3))
    t.pause()
    t.pause()
    assert coop._tasks == []
    while ticks:
        ticks.pop()()
    assert log == []
    t.resume()
    assert not ticks
    t.resume()
    assert len(ticks) == 1
    ticks.pop()()
    assert log == ["a0"]
    with pytest.raises(NotPaused):
        t.resume()


def test_stop_task() -> None:
    clock = Clock()
    coop = make(clock)
    log: list[str] = []
    t = coop.cooperate(recorder(log, "a", 10))
    box = _outcome(t.whenDone())
    t.stop()
    assert isinstance(box[0], Failure)
    assert box[0].check(TaskStopped)
    clock.advance(0)
    assert log == []
    with pytest.raises(TaskStopped):
        t.stop()
    with pytest.raises(TaskStopped):
        t.pause()
    assert clock.getDelayedCalls() == []


def test_stop_paused_task() -> None:
    clock = Clock()
    coop = make(clock)
    t = coop.cooperate(iter([1, 2]))
    t.pause()
    box = _outcome(t.whenDone())
    t.stop()
    assert box[0].check(TaskStopped)
    t.resume()  # undoing the pause of a finished task does not reschedule it
    clock.advance(0)


def test_stop_cooperator_fails_every_task() -> None:
    clock = Clock()
    coop = make(clock)
    tasks = [coop.cooperate(iter(range(10))) for _ in range(5)]
    boxes = [_outcome(t.whenDone()) for t in tasks]
    coop.stop()
    for box in boxes:
        assert isinstance(box[0], Failure)
        assert box[0].check(SchedulerStopped)
    for t in tasks:
        with pytest.raises(SchedulerStopped):
            t.pause()
    assert clock.getDelayedCalls() == []
    assert not coop.running
    # Tasks added to a stopped cooperator fail at once.
    late = _outcome(coop.coiterate(iter([1])))
    assert late[0].check(SchedulerStopped)


def test_stop_cooperator_then_resume_paused_task() -> None:
    clock = Clock()
    coop = make(clock)
    t = coop.cooperate(iter([1]))
    t.pause()
    box = _outcome(t.whenDone())
    coop.stop()
    assert box == []  # a paused task is not running; it learns on resume
    t.resume()
    assert box[0].check(SchedulerStopped)


def test_callback_stopping_cooperator_is_safe() -> None:
    clock = Clock()
    coop = make(clock, steps=100)
    first = coop.cooperate(iter([]))
    other = coop.cooperate(iter(range(100)))
    first.whenDone().addCallback(lambda _: coop.stop())
    box = _outcome(other.whenDone())
    clock.advance(0)
    assert box[0].check(SchedulerStopped)


def test_not_started() -> None:
    clock = Clock()
    coop = make(clock, started=False)
    before = coop.running
    log: list[str] = []
    coop.coiterate(recorder(log, "a", 2))
    assert clock.getDelayedCalls() == []
    clock.advance(0)
    assert log == []
    coop.start()
    assert (before, coop.running) == (False, True)
    clock.advance(0)
    assert log == ["a0", "a1"]


def test_restart_after_stop() -> None:
    clock = Clock()
    coop = make(clock)
    coop.stop()
    coop.start()
    log: list[str] = []
    coop.coiterate(recorder(log, "a", 1))
    clock.advance(0)
    assert log == ["a0"]


def test_pending_tick_cancelled_when_no_work() -> None:
    clock = Clock()
    coop = make(clock)
    t = coop.cooperate(iter(range(3)))
    assert len(clock.getDelayedCalls()) == 1
    t.stop()
    assert clock.getDelayedCalls() == []


def test_default_termination_is_a_time_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(_task_coop, "time", SimpleNamespace(monotonic=lambda: now[0]))
    timer = _task_coop._Timer()
    assert not timer()
    now[0] += _task_coop._Timer.MAX_SLICE / 2
    assert not timer()
    now[0] += _task_coop._Timer.MAX_SLICE / 2
    assert timer()


def test_default_cooperator_slices_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(_task_coop, "time", SimpleNamespace(monotonic=lambda: now[0]))
    ticks: list[Callable[[], None]] = []
    coop = Cooperator(scheduler=ticks.append)
    log: list[int] = []

    def work() -> Iterator[None]:
        for i in range(10):
            log.append(i)
            now[0] += 0.004  # each step takes 4 ms of a 10 ms slice
            yield None

    coop.coiterate(work())
    ticks.pop()()
    assert log == [0, 1, 2]


def test_module_level_functions_use_global_cooperator(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(_task_coop, "_theCooperator", make(clock))
    log: list[str] = []
    d = task.coiterate(recorder(log, "a", 2))
    t = task.cooperate(recorder(log, "b", 1))
    assert isinstance(t, CooperativeTask)
    clock.advance(0)
    assert sorted(log) == ["a0", "a1", "b0"]
    assert len(_outcome(d)) == 1
