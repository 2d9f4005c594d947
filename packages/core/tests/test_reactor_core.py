"""The reactor core, on every backend: time, system events, threads, running and stopping."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from fw.internet import error
from fw.internet.defer import Deferred, succeed
from fw.internet.interfaces import IReactorCore, IReactorFDSet, IReactorThreads, IReactorTime
from fw.internet.threads import blockingCallFromThread, deferToThreadPool
from fw.logger import capturedLogs


def test_providesCoreInterfaces(reactor: Any) -> None:
    from zope.interface.verify import verifyObject

    for interface in (IReactorCore, IReactorTime, IReactorFDSet, IReactorThreads):
        assert verifyObject(interface, reactor)


def test_callLaterOrder(reactor: Any, runReactor: Any) -> None:
    order: list[Any] = []
    done: Deferred[None] = Deferred()

    def go() -> Deferred[None]:
        reactor.callLater(0.02, order.append, "late")
        reactor.callLater(0, order.append, "first")
        reactor.callLater(0, order.append, "second")
        reactor.callLater(0.01, order.append, "middle")
        reactor.callLater(0.03, done.callback, None)
        return done

    runReactor(reactor, go)
    assert order == ["first", "second", "middle", "late"]


def test_callLaterArgumentsArePositionalOnly(reactor: Any, runReactor: Any) -> None:
    seen: list[Any] = []

    def record(*args: Any, **kw: Any) -> None:
        seen.append((args, kw))

    def go() -> Deferred[None]:
        d: Deferred[None] = Deferred()
        # "delay" and "callable" are the user's keywords here, not ours.
        reactor.callLater(0, record, 1, delay=2, callable=3)
        reactor.callLater(0, d.callback, None)
        return d

    runReactor(reactor, go)
    assert seen == [((1,), {"delay": 2, "callable": 3})]


def test_negativeDelayRefused(reactor: Any) -> None:
    with pytest.raises(ValueError, match="negative"):
        reactor.callLater(-1, lambda: None)


def test_cancelResetDelay(reactor: Any, runReactor: Any) -> None:
    fired: list[str] = []

    def go() -> Deferred[None]:
        cancelled = reactor.callLater(0.01, fired.append, "cancelled")
        moved = reactor.callLater(10, fired.append, "moved")
        delayed = reactor.callLater(0.005, fired.append, "delayed")
        cancelled.cancel()
        assert not cancelled.active()
        with pytest.raises(error.AlreadyCancelled):
            cancelled.cancel()
        moved.reset(0.01)
        delayed.delay(0.01)
        assert moved.getTime() < delayed.getTime()
        d: Deferred[None] = Deferred()
        reactor.callLater(0.05, d.callback, None)
        return d

    runReactor(reactor, go)
    assert fired == ["moved", "delayed"]


def test_manyTimersWithCancellations(reactor: Any, runReactor: Any) -> None:
    count = 20000
    fired = [0]

    def tick() -> None:
        fired[0] += 1

    def go() -> Deferred[None]:
        already = len(reactor.getDelayedCalls())
        calls = [reactor.callLater(0.001 * (i % 10), tick) for i in range(count)]
        for call in calls[::4]:
            call.cancel()
        assert len(reactor.getDelayedCalls()) == already + count - count // 4
        d: Deferred[None] = Deferred()
        reactor.callLater(0.05, d.callback, None)
        return d

    runReactor(reactor, go)
    assert fired[0] == count - count // 4


def test_timerErrorIsLoggedAndLoopContinues(reactor: Any, runReactor: Any) -> None:
    def boom() -> None:
        raise ZeroDivisionError("in a timer")

    def go() -> Deferred[None]:
        d: Deferred[None] = Deferred()
        reactor.callLater(0, boom)
        reactor.callLater(0.01, d.callback, "survived")
        return d

    with capturedLogs() as events:
        assert runReactor(reactor, go) == "survived"
    failures = [e for e in events if e.get("log_failure") is not None]
    assert [f["log_failure"].type for f in failures] == [ZeroDivisionError]
    assert len(runReactor.flushLoggedErrors(ZeroDivisionError)) == 1


def test_secondsIsMonotonic(reactor: Any) -> None:
    a = reactor.seconds()
    b = reactor.seconds()
    assert b >= a
    assert abs(a - time.monotonic()) < 1


def test_runningAndCallWhenRunning(reactor: Any, runReactor: Any) -> None:
    seen: list[Any] = []
    reactor.callWhenRunning(lambda: seen.append(reactor.running))
    assert not reactor.running

    def go() -> Any:
        # While running, callWhenRunning calls at once.
        reactor.callWhenRunning(seen.append, "now")
        return succeed(None)

    runReactor(reactor, go)
    assert seen == [True, "now"]
    assert not reactor.running


def test_stopWhenNotRunning(reactor: Any) -> None:
    with pytest.raises(error.ReactorNotRunning):
        reactor.stop()


def test_notRestartable(reactor: Any, runReactor: Any) -> None:
    runReactor(reactor, lambda: succeed(None))
    with pytest.raises(error.ReactorNotRestartable):
        reactor.run(installSignalHandlers=False)


def test_shutdownTriggersWaitForBeforeDeferreds(reactor: Any, runReactor: Any) -> None:
    events: list[str] = []

    def before() -> Deferred[None]:
        events.append("before")
        d: Deferred[None] = Deferred()
        reactor.callLater(0.01, lambda: (events.append("before done"), d.callback(None)))
        return d

    reactor.addSystemEventTrigger("before", "shutdown", before)
    reactor.addSystemEventTrigger("during", "shutdown", events.append, "during")
    reactor.addSystemEventTrigger("after", "shutdown", events.append, "after")
    removed = reactor.addSystemEventTrigger("after", "shutdown", events.append, "removed")
    reactor.removeSystemEventTrigger(removed)
    with pytest.raises(ValueError):
        reactor.removeSystemEventTrigger(removed)
    runReactor(reactor, lambda: succeed(None))
    assert events == ["before", "before done", "during", "after"]


def test_failingTriggerIsLogged(reactor: Any, runReactor: Any) -> None:
    ran: list[str] = []

    def bad() -> None:
        raise RuntimeError("trigger broke")

    reactor.addSystemEventTrigger("during", "shutdown", bad)
    reactor.addSystemEventTrigger("after", "shutdown", ran.append, "after")
    with capturedLogs() as events:
        runReactor(reactor, lambda: succeed(None))
    assert ran == ["after"]
    assert any(e.get("log_failure") is not None for e in events)
    assert len(runReactor.flushLoggedErrors(RuntimeError)) == 1


def test_unknownPhaseRefused(reactor: Any) -> None:
    with pytest.raises(KeyError):
        reactor.addSystemEventTrigger("sometime", "shutdown", lambda: None)


def test_iterate(reactor: Any) -> None:
    fired: list[int] = []
    reactor.callLater(0, fired.append, 1)
    reactor.iterate()
    assert fired == [1]


def test_crashLeavesLoopWithoutShutdown(reactor: Any) -> None:
    events: list[str] = []
    reactor.addSystemEventTrigger("during", "shutdown", events.append, "shutdown")
    reactor.callWhenRunning(reactor.crash)
    reactor.run(installSignalHandlers=False)
    assert events == []
    assert not reactor.running


def test_callFromThreadWakesTheLoop(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[str]:
        d: Deferred[str] = Deferred()

        def other() -> None:
            time.sleep(0.05)
            reactor.callFromThread(d.callback, threading.current_thread().name)

        threading.Thread(target=other, name="helper").start()
        return d

    # Nothing else is scheduled, so only the waker can end the wait.
    assert runReactor(reactor, go) == "helper"


def test_deferToThreadPoolAndBack(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Any]:
        pool = reactor.getThreadPool()
        ok = deferToThreadPool(reactor, pool, lambda: threading.current_thread().name)
        bad = deferToThreadPool(reactor, pool, lambda: 1 / 0)
        results: dict[str, Any] = {}
        ok.addCallback(lambda name: results.setdefault("name", name))
        bad.addErrback(lambda f: results.setdefault("error", f.type))
        # The two may finish in either order.
        return ok.addCallback(lambda _: bad).addCallback(
            lambda _: (results["name"], results["error"])
        )

    name, errorType = runReactor(reactor, go)
    assert name.startswith("PoolThread-")
    assert errorType is ZeroDivisionError


def test_blockingCallFromThread(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Any]:
        def inThread() -> Any:
            plain = blockingCallFromThread(reactor, lambda x: x * 2, 21)
            later = blockingCallFromThread(reactor, lambda: deferLaterValue("deferred"))
            try:
                blockingCallFromThread(reactor, lambda: 1 / 0)
            except ZeroDivisionError:
                raised = True
            return plain, later, raised

        def deferLaterValue(value: str) -> Deferred[str]:
            d: Deferred[str] = Deferred()
            reactor.callLater(0.01, d.callback, value)
            return d

        return deferToThreadPool(reactor, reactor.getThreadPool(), inThread)

    assert runReactor(reactor, go) == (42, "deferred", True)


def test_sigtermStopsTheReactor(reactor: Any) -> None:
    events: list[str] = []
    reactor.addSystemEventTrigger("after", "shutdown", events.append, "stopped")
    reactor.callWhenRunning(os.kill, os.getpid(), signal.SIGTERM)
    guard = reactor.callLater(5, reactor.stop)
    previous = signal.getsignal(signal.SIGTERM)
    reactor.run(installSignalHandlers=True)
    assert events == ["stopped"]
    assert guard.active(), "stopped by the guard, not by the signal"
    guard.cancel()
    assert signal.getsignal(signal.SIGTERM) == previous
