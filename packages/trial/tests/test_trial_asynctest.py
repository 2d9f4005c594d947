# ruff: noqa: PT009 - trial's unittest-style assertions are the subject here
"""TestCase: Deferreds and coroutines on the global reactor, timeouts, the janitor."""

from __future__ import annotations

import threading
import time
from typing import Any

from fw.internet import defer, protocol, task
from fw.python import log
from fw.trial import unittest
from fw.trial.reporter import TestResult as _Result
from fw.trial.util import DEFAULT_TIMEOUT_DURATION, DirtyReactorAggregateError


def globalReactor() -> Any:
    from fw.internet import reactor

    return reactor


def runTest(case: Any) -> _Result:
    result = _Result()
    case.run(result)
    return result


def kinds(result: _Result) -> list[str]:
    return [o.kind for o in result.outcomes]


def later(value: object = None, delay: float = 0.0) -> defer.Deferred[Any]:
    return task.deferLater(globalReactor(), delay, lambda: value)


def assertClean() -> None:
    reactor = globalReactor()
    assert reactor.getDelayedCalls() == []
    assert reactor.getReaders() == []
    assert reactor.getWriters() == []
    assert not reactor.running


def test_deferredAndCoroutineSteps() -> None:
    calls: list[str] = []

    class Case(unittest.TestCase):
        def setUp(self) -> defer.Deferred[Any]:
            return later().addCallback(lambda _: calls.append("setUp"))

        async def tearDown(self) -> None:
            await later()
            calls.append("tearDown")

        async def test_x(self) -> None:
            await later(delay=0.001)
            self.addCleanup(lambda: later().addCallback(lambda _: calls.append("cleanup")))
            calls.append("test")

    assert kinds(runTest(Case("test_x"))) == ["success"]
    assert calls == ["setUp", "test", "tearDown", "cleanup"]
    assertClean()


def test_deferredFailureIsFailure() -> None:
    class Case(unittest.TestCase):
        def test_fails(self) -> defer.Deferred[Any]:
            return later().addCallback(lambda _: self.fail("later"))

        async def test_errs(self) -> None:
            await later()
            raise KeyError("k")

    assert kinds(runTest(Case("test_fails"))) == ["failure"]
    assert kinds(runTest(Case("test_errs"))) == ["error"]
    assertClean()


def test_timeoutOnMethodClassAndDefault() -> None:
    class Case(unittest.TestCase):
        timeout = 0.05

        def test_class(self) -> defer.Deferred[None]:
            return defer.Deferred()

        def test_method(self) -> defer.Deferred[None]:
            return defer.Deferred()

        test_method.timeout = 0.02  # type: ignore[attr-defined]

    assert Case("test_method").getTimeout() == 0.02
    assert Case("test_class").getTimeout() == 0.05
    start = time.monotonic()
    result = runTest(Case("test_method"))
    assert time.monotonic() - start < 2
    assert kinds(result) == ["error"]
    assert result.errors[0][1].check(defer.TimeoutError)
    assert "0.02 secs" in result.errors[0][1].getErrorMessage()
    assert kinds(runTest(Case("test_class"))) == ["error"]

    class Default(unittest.TestCase):
        def test_x(self) -> None:
            pass

    assert Default("test_x").getTimeout() == DEFAULT_TIMEOUT_DURATION == 120.0
    assertClean()


def test_timeoutCancelsTheDeferred() -> None:
    cancelled: list[bool] = []

    class Case(unittest.TestCase):
        timeout = 0.02

        def test_x(self) -> defer.Deferred[None]:
            return defer.Deferred(lambda d: cancelled.append(True))

    runTest(Case("test_x"))
    assert cancelled == [True]


def test_dirtyDelayedCall() -> None:
    class Case(unittest.TestCase):
        def test_x(self) -> None:
            globalReactor().callLater(100, lambda: None)

    result = runTest(Case("test_x"))
    assert kinds(result) == ["error"]
    error = result.errors[0][1].value
    assert isinstance(error, DirtyReactorAggregateError)
    assert len(error.delayedCalls) == 1
    assert "DelayedCalls" in str(error)
    assertClean()


def test_dueCallsAreNotDirty() -> None:
    ran: list[bool] = []

    class Case(unittest.TestCase):
        def test_x(self) -> None:
            globalReactor().callLater(0, ran.append, True)

    assert kinds(runTest(Case("test_x"))) == ["success"]
    assert ran == [True]


def test_dirtySelectableIsClosed() -> None:
    ports: list[Any] = []

    class Case(unittest.TestCase):
        def test_x(self) -> None:
            ports.append(globalReactor().listenTCP(0, protocol.Factory(), interface="127.0.0.1"))

    result = runTest(Case("test_x"))
    assert kinds(result) == ["error"]
    assert len(result.errors[0][1].value.selectables) == 1
    assert ports[0].socket is None or ports[0].connected is False
    assertClean()


def test_busyThreadPool() -> None:
    release = threading.Event()

    class Case(unittest.TestCase):
        def test_x(self) -> None:
            reactor = globalReactor()
            reactor.callInThread(release.wait, 5)
            reactor.getThreadPool().start()
            # Let the worker pick the call up before the test ends.
            time.sleep(0.05)
            threading.Timer(0.1, release.set).start()

    result = runTest(Case("test_x"))
    assert kinds(result) == ["error"]
    assert result.errors[0][1].value.threads
    assert globalReactor().threadpool is None


def test_loggedErrorFailsUnlessFlushed() -> None:
    class Case(unittest.TestCase):
        async def test_logged(self) -> None:
            await later()
            log.err(ZeroDivisionError("z"))

        async def test_flushed(self) -> None:
            await later()
            log.err(ZeroDivisionError("z"))
            self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    result = runTest(Case("test_logged"))
    assert kinds(result) == ["error"]
    assert result.errors[0][1].check(ZeroDivisionError)
    assert kinds(runTest(Case("test_flushed"))) == ["success"]


def test_unhandledDeferredErrorWithForceGC() -> None:
    from fw.trial import _synctest

    class Case(unittest.TestCase):
        def test_x(self) -> None:
            defer.fail(ValueError("nobody handles me"))

    _synctest.config.forceGarbageCollection = True
    try:
        result = runTest(Case("test_x"))
    finally:
        _synctest.config.forceGarbageCollection = False
    assert kinds(result) == ["error"]
    assert result.errors[0][1].check(ValueError)


def test_reactorStopOnlyEndsTheWait() -> None:
    class Case(unittest.TestCase):
        def test_x(self) -> defer.Deferred[Any]:
            d = later(delay=0.001)
            d.addCallback(lambda _: globalReactor().stop())
            return d

    assert kinds(runTest(Case("test_x"))) == ["success"]
    # The reactor still runs for the next test.
    assert kinds(runTest(Case("test_x"))) == ["success"]
    assertClean()


def test_todoTimeout() -> None:
    class Case(unittest.TestCase):
        timeout = 0.02
        todo = "hangs"

        def test_x(self) -> defer.Deferred[None]:
            return defer.Deferred()

    assert kinds(runTest(Case("test_x"))) == ["expectedFailure"]


def test_manyTestsReuseTheReactor() -> None:
    class Case(unittest.TestCase):
        async def test_x(self) -> None:
            await later(delay=0.001)

    for _ in range(20):
        assert kinds(runTest(Case("test_x"))) == ["success"]
    assertClean()
