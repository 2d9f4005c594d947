"""Tests for DeferredList, gatherResults, race, and the lock, semaphore and queue."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from fw.internet.defer import (
    FAILURE,
    SUCCESS,
    CancelledError,
    Deferred,
    DeferredList,
    DeferredLock,
    DeferredQueue,
    DeferredSemaphore,
    FailureGroup,
    FirstError,
    QueueOverflow,
    QueueUnderflow,
    ensureDeferred,
    fail,
    gatherResults,
    race,
    succeed,
)
from fw.logger import capturedLogs
from fw.python.failure import Failure


def result(d: Deferred[Any]) -> Any:
    assert d.called, f"{d!r} has not fired"
    value = d.result
    if isinstance(value, Failure):
        d.addErrback(lambda _: None)
    return value


# -- DeferredList ----------------------------------------------------------------


def test_deferredListWaitsForAll() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    c: Deferred[int] = Deferred()
    dl = DeferredList([a, b, c])
    b.callback(2)
    a.errback(KeyError("a"))
    assert not dl.called
    c.callback(3)
    results = result(dl)
    assert results[0][0] is FAILURE
    assert results[0][1].check(KeyError)
    assert results[1:] == [(SUCCESS, 2), (SUCCESS, 3)]
    # Without consumeErrors the failure goes on down a's chain.
    assert isinstance(a.result, Failure)
    a.addErrback(lambda _: None)
    assert b.result == 2


def test_deferredListEmpty() -> None:
    assert result(DeferredList([])) == []
    assert not DeferredList([], fireOnOneCallback=True).called


def test_deferredListAlreadyFired() -> None:
    dl = DeferredList([succeed(1), succeed(2)])
    assert result(dl) == [(True, 1), (True, 2)]


def test_deferredListConsumeErrors() -> None:
    a = fail(ValueError())
    dl = DeferredList([a], consumeErrors=True)
    assert result(dl)[0][0] is False
    assert a.result is None
    with capturedLogs() as events:
        del a
        gc.collect()
    assert [e for e in events if e.get("log_namespace") == "fw.internet.defer"] == []


def test_deferredListFireOnOneCallback() -> None:
    a: Deferred[str] = Deferred()
    b: Deferred[str] = Deferred()
    dl = DeferredList([a, b], fireOnOneCallback=True)
    a.errback(ValueError())
    assert not dl.called
    b.callback("b")
    assert result(dl) == ("b", 1)
    a.addErrback(lambda _: None)


def test_deferredListFireOnOneErrback() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    dl = DeferredList([a, b], fireOnOneErrback=True, consumeErrors=True)
    b.errback(KeyError("b"))
    f = result(dl)
    assert f.check(FirstError)
    assert f.value.index == 1
    assert f.value.subFailure.check(KeyError)
    a.callback(1)  # later results are ignored
    assert dl.result is None


def test_deferredListFiresOnceWithBothFlags() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    dl = DeferredList([a, b], fireOnOneCallback=True, fireOnOneErrback=True)
    a.callback(1)
    b.errback(ValueError())
    assert result(dl) == (1, 0)
    b.addErrback(lambda _: None)


def test_deferredListCallbacksAddedBeforeSeeOriginal() -> None:
    a: Deferred[int] = Deferred()
    a.addCallback(lambda r: r * 10)
    dl = DeferredList([a])
    after: list[int] = []
    a.addCallback(after.append)
    a.callback(1)
    assert result(dl) == [(True, 10)]
    assert after == [10]


def test_deferredListCancel() -> None:
    cancelled: list[int] = []
    a: Deferred[int] = Deferred(lambda _: cancelled.append(1))
    b: Deferred[int] = Deferred(lambda _: cancelled.append(2))
    dl = DeferredList([a, b], consumeErrors=True)
    dl.cancel()
    assert cancelled == [1, 2]
    outcome = result(dl)
    assert [ok for ok, _ in outcome] == [False, False]
    assert outcome[0][1].check(CancelledError)


def test_deferredListCancelAfterFiring() -> None:
    cancelled: list[int] = []
    a: Deferred[int] = Deferred(lambda _: cancelled.append(1))
    b = succeed(2)
    dl = DeferredList([a, b], fireOnOneCallback=True)
    dl.cancel()
    assert cancelled == []


def test_deferredListCancellerRaisingIsLogged() -> None:
    def badCanceller(d: Deferred[Any]) -> None:
        raise RuntimeError("bad canceller")

    a: Deferred[int] = Deferred(badCanceller)
    b: Deferred[int] = Deferred()
    dl = DeferredList([a, b], consumeErrors=True)
    with capturedLogs() as events:
        dl.cancel()
    [event] = events
    assert event["log_failure"].check(RuntimeError)
    assert event["log_format"] == "Exception raised from user supplied canceller"
    # b was still cancelled; a, whose canceller failed, has not fired.
    assert b.called
    assert not dl.called
    a.callback(1)
    assert result(dl)[1][1].check(CancelledError)


def test_firstError() -> None:
    f = Failure(ValueError("x"))
    e = FirstError(f, 3)
    assert e.subFailure is f
    assert e.index == 3
    assert repr(e) == "FirstError[#3, ValueError('x')]"
    assert str(e).startswith("FirstError[#3, [Failure instance:")
    assert e == FirstError(f, 3)
    assert e != FirstError(f, 2)
    assert e != FirstError(Failure(ValueError("x")), 3)
    assert e != "other"
    assert hash(e) == hash(FirstError(f, 3))


# -- gatherResults ----------------------------------------------------------------


def test_gatherResults() -> None:
    a: Deferred[int] = Deferred()
    d = gatherResults([a, succeed(2)])
    assert not d.called
    a.callback(1)
    assert result(d) == [1, 2]
    assert result(gatherResults([])) == []


def test_gatherResultsFailure() -> None:
    a: Deferred[int] = Deferred()
    d = gatherResults([a, fail(KeyError())], consumeErrors=True)
    f = result(d)
    assert f.check(FirstError)
    assert f.value.subFailure.check(KeyError)
    assert f.value.index == 1


def test_gatherResultsCancel() -> None:
    a: Deferred[int] = Deferred()
    d = gatherResults([a], consumeErrors=True)
    d.cancel()
    assert result(d).value.subFailure.check(CancelledError)


# -- race ----------------------------------------------------------------------------


def test_raceFirstSuccessWins() -> None:
    cancelled: list[int] = []
    a: Deferred[str] = Deferred(lambda _: cancelled.append(0))
    b: Deferred[str] = Deferred(lambda _: cancelled.append(1))
    c: Deferred[str] = Deferred(lambda _: cancelled.append(2))
    d = race([a, b, c])
    a.errback(ValueError())
    assert not d.called
    b.callback("b")
    assert result(d) == (1, "b")
    assert cancelled == [2]


def test_raceAllFail() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    d = race([a, b])
    b.errback(KeyError())
    a.errback(ValueError())
    f = result(d)
    assert f.check(FailureGroup)
    assert [each.type for each in f.value.failures] == [ValueError, KeyError]


def test_raceCancel() -> None:
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    d = race([a, b])
    d.cancel()
    assert a.called
    assert b.called
    f = result(d)
    assert f.check(FailureGroup)


def test_raceCancellerSucceeding() -> None:
    # A loser whose canceller fires it with a result does not win a second time.
    a: Deferred[object] = Deferred()
    b: Deferred[object] = Deferred(lambda d: d.callback("late"))
    d = race([a, b])
    a.callback(1)
    assert result(d) == (0, 1)


# -- DeferredLock ----------------------------------------------------------------


def test_lock() -> None:
    lock = DeferredLock()
    first = lock.acquire()
    assert result(first) is lock
    assert lock.locked
    second = lock.acquire()
    assert not second.called
    lock.release()
    assert result(second) is lock
    assert lock.locked
    lock.release()
    assert not lock.locked
    with pytest.raises(RuntimeError):
        lock.release()


def test_lockCancelWaiting() -> None:
    lock = DeferredLock()
    lock.acquire()
    waiting = lock.acquire()
    waiting.cancel()
    assert result(waiting).check(CancelledError)
    assert lock.waiting == []
    lock.release()
    assert not lock.locked


def test_lockRun() -> None:
    lock = DeferredLock()
    inner: Deferred[str] = Deferred()
    seen: list[str] = []

    def locked(tag: str) -> Deferred[str]:
        seen.append(tag)
        return inner

    first = lock.run(locked, "first")

    def secondTask() -> str:
        seen.append("second")
        return "ok"

    second = lock.run(secondTask)
    assert seen == ["first"]
    inner.callback("inner")
    assert result(first) == "inner"
    assert seen == ["first", "second"]
    assert result(second) == "ok"
    assert not lock.locked


def test_lockRunReleasesOnFailure() -> None:
    lock = DeferredLock()

    def failing() -> None:
        raise ValueError()

    assert result(lock.run(failing)).check(ValueError)
    assert not lock.locked


def test_lockRunCoroutine() -> None:
    lock = DeferredLock()

    async def task(x: int) -> int:
        return await succeed(x + 1)

    assert result(lock.run(task, 1)) == 2
    assert not lock.locked


def test_lockAsyncWith() -> None:
    lock = DeferredLock()
    seen: list[bool] = []

    async def task() -> None:
        async with lock:
            seen.append(lock.locked)

    result(ensureDeferred(task()))
    assert seen == [True]
    assert not lock.locked


# -- DeferredSemaphore ----------------------------------------------------------------


def test_semaphore() -> None:
    sem = DeferredSemaphore(2)
    assert sem.limit == 2
    assert sem.tokens == 2
    a = sem.acquire()
    b = sem.acquire()
    assert a.called
    assert b.called
    assert sem.tokens == 0
    c = sem.acquire()
    assert not c.called
    sem.release()
    assert result(c) is sem
    assert sem.tokens == 0
    sem.release()
    sem.release()
    assert sem.tokens == 2
    with pytest.raises(RuntimeError):
        sem.release()


def test_semaphoreBadTokens() -> None:
    with pytest.raises(ValueError):
        DeferredSemaphore(0)


def test_semaphoreCancelWaiting() -> None:
    sem = DeferredSemaphore(1)
    sem.acquire()
    waiting = sem.acquire()
    waiting.cancel()
    assert result(waiting).check(CancelledError)
    assert sem.waiting == []


def test_semaphoreRunLimitsConcurrency() -> None:
    sem = DeferredSemaphore(2)
    gates: list[Deferred[None]] = [Deferred() for _ in range(4)]
    running: list[int] = []
    peak = 0

    def work(i: int) -> Deferred[None]:
        nonlocal peak
        running.append(i)
        peak = max(peak, len(running))

        def done(_: object) -> None:
            running.remove(i)

        return gates[i].addCallback(done)

    results = [sem.run(work, i) for i in range(4)]
    assert running == [0, 1]
    gates[1].callback(None)
    assert running == [0, 2]
    for gate in (gates[0], gates[2], gates[3]):
        gate.callback(None)
    assert peak == 2
    assert all(d.called for d in results)
    assert sem.tokens == 2


def test_semaphoreAsyncWith() -> None:
    sem = DeferredSemaphore(1)

    async def task() -> int:
        async with sem:
            return sem.tokens

    assert result(ensureDeferred(task())) == 0
    assert sem.tokens == 1


# -- DeferredQueue ----------------------------------------------------------------


def test_queuePutThenGet() -> None:
    q: DeferredQueue[int] = DeferredQueue()
    q.put(1)
    q.put(2)
    assert q.pending == [1, 2]
    assert result(q.get()) == 1
    assert result(q.get()) == 2


def test_queueGetThenPut() -> None:
    q: DeferredQueue[str] = DeferredQueue()
    a = q.get()
    b = q.get()
    assert not a.called
    q.put("x")
    assert result(a) == "x"
    assert not b.called
    q.put("y")
    assert result(b) == "y"
    assert q.pending == []
    assert q.waiting == []


def test_queueLimits() -> None:
    q: DeferredQueue[int] = DeferredQueue(size=1, backlog=1)
    q.put(1)
    with pytest.raises(QueueOverflow):
        q.put(2)
    assert result(q.get()) == 1
    q.get()
    with pytest.raises(QueueUnderflow):
        q.get()


def test_queueCancelGet() -> None:
    q: DeferredQueue[int] = DeferredQueue()
    d = q.get()
    d.cancel()
    assert result(d).check(CancelledError)
    assert q.waiting == []
    q.put(1)
    assert q.pending == [1]
