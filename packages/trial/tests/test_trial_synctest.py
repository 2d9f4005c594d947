# ruff: noqa: PT009, PT027 - trial's unittest-style assertions are the subject here
"""SynchronousTestCase: outcomes, skips and todos, assertions, helpers."""

from __future__ import annotations

import os
import sys
import types
import warnings
from typing import Any

import pytest

from fw.internet import defer
from fw.python import log
from fw.python.deprecate import deprecated
from fw.python.failure import Failure
from fw.trial import unittest
from fw.trial.reporter import TestResult as _Result


def runTest(case: Any) -> _Result:
    result = _Result()
    case.run(result)
    return result


def kinds(result: _Result) -> list[str]:
    return [o.kind for o in result.outcomes]


class _Outcomes(unittest.SynchronousTestCase):
    __test__ = False  # run by the tests below, not collected

    def test_pass(self) -> None:
        pass

    def test_fail(self) -> None:
        self.fail("no")

    def test_error(self) -> None:
        raise RuntimeError("boom")

    def test_skipTest(self) -> None:
        raise unittest.SkipTest("because")

    def test_skipAttr(self) -> None:
        raise AssertionError("not reached")

    test_skipAttr.skip = "attr"  # type: ignore[attr-defined]

    def test_todo(self) -> None:
        raise ValueError("expected")

    test_todo.todo = "later"  # type: ignore[attr-defined]

    def test_todoPasses(self) -> None:
        pass

    test_todoPasses.todo = "later"  # type: ignore[attr-defined]

    def test_todoWrongError(self) -> None:
        raise TypeError("unexpected")

    test_todoWrongError.todo = (ValueError, "only ValueError")  # type: ignore[attr-defined]

    def test_loggedError(self) -> None:
        log.err(ValueError("logged"))

    def test_flushed(self) -> None:
        log.err(ValueError("logged"))
        assert len(self.flushLoggedErrors(ValueError)) == 1

    def test_unfiredDeferred(self) -> None:
        return defer.Deferred()  # type: ignore[return-value]

    def test_failedDeferred(self) -> None:
        return defer.fail(self.failureException("later"))  # type: ignore[return-value]

    async def test_coroutine(self) -> None:
        pass


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("test_pass", ["success"]),
        ("test_fail", ["failure"]),
        ("test_error", ["error"]),
        ("test_skipTest", ["skip"]),
        ("test_skipAttr", ["skip"]),
        ("test_todo", ["expectedFailure"]),
        ("test_todoPasses", ["unexpectedSuccess"]),
        ("test_todoWrongError", ["error"]),
        ("test_loggedError", ["error"]),
        ("test_flushed", ["success"]),
        ("test_unfiredDeferred", ["error"]),
        ("test_failedDeferred", ["failure"]),
        ("test_coroutine", ["error"]),
    ],
)
def test_outcomes(name: str, expected: list[str]) -> None:
    result = runTest(_Outcomes(name))
    assert kinds(result) == expected
    assert result.testsRun == 1


def test_skipReasons() -> None:
    result = runTest(_Outcomes("test_skipTest"))
    assert result.skips[0][1] == "because"
    result = runTest(_Outcomes("test_todo"))
    assert result.expectedFailures[0][2].reason == "later"


def test_classSkipAndTodo() -> None:
    class Skipped(unittest.SynchronousTestCase):
        skip = "class"

        def test_x(self) -> None:
            raise AssertionError()

    class Todo(unittest.SynchronousTestCase):
        todo = "class todo"

        def test_x(self) -> None:
            raise AssertionError()

    assert runTest(Skipped("test_x")).skips[0][1] == "class"
    assert kinds(runTest(Todo("test_x"))) == ["expectedFailure"]


def test_moduleSkip() -> None:
    module = types.ModuleType("fw_trial_sample_skipped")
    module.skip = "module"  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:

        class InModule(unittest.SynchronousTestCase):
            def test_x(self) -> None:
                raise AssertionError()

        InModule.__module__ = module.__name__
        assert runTest(InModule("test_x")).skips[0][1] == "module"
    finally:
        del sys.modules[module.__name__]


def test_fixturesAndCleanupsOrder() -> None:
    calls: list[str] = []

    class Case(unittest.SynchronousTestCase):
        def setUp(self) -> None:
            calls.append("setUp")
            self.addCleanup(calls.append, "cleanup1")
            self.addCleanup(calls.append, "cleanup2")

        def tearDown(self) -> None:
            calls.append("tearDown")

        def test_x(self) -> None:
            calls.append("test")

    assert kinds(runTest(Case("test_x"))) == ["success"]
    assert calls == ["setUp", "test", "tearDown", "cleanup2", "cleanup1"]


def test_setUpErrorSkipsTestButRunsCleanups() -> None:
    calls: list[str] = []

    class Case(unittest.SynchronousTestCase):
        def setUp(self) -> None:
            self.addCleanup(calls.append, "cleanup")
            raise RuntimeError("setUp")

        def tearDown(self) -> None:
            calls.append("tearDown")

        def test_x(self) -> None:
            calls.append("test")

    assert kinds(runTest(Case("test_x"))) == ["error"]
    assert calls == ["cleanup"]


def test_cleanupAndTearDownErrors() -> None:
    class Case(unittest.SynchronousTestCase):
        def tearDown(self) -> None:
            raise RuntimeError("tearDown")

        def test_x(self) -> None:
            self.addCleanup(lambda: 1 / 0)

    result = runTest(Case("test_x"))
    assert kinds(result) == ["error", "error"]
    assert result.errors[1][1].check(ZeroDivisionError)


class _Helpers(unittest.SynchronousTestCase):
    __test__ = False

    def test_x(self) -> None:
        pass


def test_successResultOf() -> None:
    case = _Helpers("test_x")
    assert case.successResultOf(defer.succeed(3)) == 3
    with pytest.raises(unittest.FailTest, match="found no result"):
        case.successResultOf(defer.Deferred())
    with pytest.raises(unittest.FailTest, match="found failure result"):
        case.successResultOf(defer.fail(ValueError("x")))

    async def coroutine() -> int:
        return 4

    assert case.successResultOf(coroutine()) == 4


def test_successResultOfKeepsResult() -> None:
    case = _Helpers("test_x")
    d = defer.succeed(5)
    case.successResultOf(d)
    seen: list[int] = []
    d.addCallback(seen.append)
    assert seen == [5]


def test_failureResultOf() -> None:
    case = _Helpers("test_x")
    f = case.failureResultOf(defer.fail(ValueError("x")), ValueError)
    assert isinstance(f, Failure)
    assert f.check(ValueError)
    with pytest.raises(unittest.FailTest, match="found success result"):
        case.failureResultOf(defer.succeed(1))
    with pytest.raises(unittest.FailTest, match="found no result"):
        case.failureResultOf(defer.Deferred())
    with pytest.raises(unittest.FailTest, match="expected"):
        case.failureResultOf(defer.fail(ValueError()), KeyError)


def test_assertNoResult() -> None:
    case = _Helpers("test_x")
    case.assertNoResult(defer.Deferred())
    with pytest.raises(unittest.FailTest):
        case.assertNoResult(defer.succeed(1))


def test_assertFailure() -> None:
    case = _Helpers("test_x")
    d = case.assertFailure(defer.fail(ValueError("v")), ValueError)
    assert isinstance(case.successResultOf(d), ValueError)
    d = case.assertFailure(defer.succeed(1), ValueError)
    case.failureResultOf(d, unittest.FailTest)
    d = case.assertFailure(defer.fail(KeyError()), ValueError)
    case.failureResultOf(d, unittest.FailTest)


def test_assertionsAndAliases() -> None:
    case = _Helpers("test_x")
    assert case.assertEqual(1, 1) == 1
    aliases = (
        "assertEquals failUnlessEqual failIfEqual assertNotEquals assertIdentical "
        "assertNotIdentical failUnlessIn failIfIn failUnless failIf assert_ "
        "failUnlessRaises assertApproximates failUnlessSubstring failIfSubstring "
        "assertSubstring assertNotSubstring failUnlessFailure assertAlmostEquals"
    )
    for name in aliases.split():
        assert callable(getattr(case, name)), name
    error = case.assertRaises(ValueError, int, "x")
    assert isinstance(error, ValueError)
    with pytest.raises(unittest.FailTest):
        case.assertRaises(ValueError, int, "1")
    with case.assertRaises(KeyError):
        {}["x"]
    with pytest.raises(unittest.FailTest):
        case.assertIn(1, [2])
    with pytest.raises(unittest.FailTest):
        case.assertApproximates(1.0, 2.0, 0.5)
    case.assertApproximates(1.0, 1.2, 0.5)
    with pytest.raises(unittest.FailTest):
        case.failIf(True)


def test_patchRestoredAtCleanup() -> None:
    target = types.SimpleNamespace(value=1)

    class Case(unittest.SynchronousTestCase):
        def test_x(self) -> None:
            self.patch(target, "value", 2)
            self.patch(target, "added", 3)
            assert target.value == 2

    assert kinds(runTest(Case("test_x"))) == ["success"]
    assert target.value == 1
    assert not hasattr(target, "added")


def test_mktemp(tmp_path: Any) -> None:
    from fw.trial import _synctest

    previous = _synctest.config.tempRoot
    _synctest.config.tempRoot = str(tmp_path)
    try:
        case = _Helpers("test_x")
        first, second = case.mktemp(), case.mktemp()
    finally:
        _synctest.config.tempRoot = previous
    assert first != second
    assert first.startswith(str(tmp_path))
    assert os.path.isdir(os.path.dirname(first))
    assert not os.path.exists(first)


def _warner() -> None:
    warnings.warn("from the warner", DeprecationWarning, stacklevel=1)


def test_flushWarnings() -> None:
    seen: list[Any] = []

    class Case(unittest.SynchronousTestCase):
        def test_x(self) -> None:
            _warner()
            warnings.warn("other", UserWarning, stacklevel=1)
            flushed = self.flushWarnings([_warner])
            seen.append(flushed)
            seen.append(self.flushWarnings())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert kinds(runTest(Case("test_x"))) == ["success"]
    assert [w["message"] for w in seen[0]] == ["from the warner"]
    assert seen[0][0]["category"] is DeprecationWarning
    assert [w["message"] for w in seen[1]] == ["other"]
    assert caught == []


def test_unflushedWarningsAreReemitted() -> None:
    class Case(unittest.SynchronousTestCase):
        def test_x(self) -> None:
            warnings.warn("left over", UserWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runTest(Case("test_x"))
    assert [str(w.message) for w in caught] == ["left over"]


def test_suppress() -> None:
    from fw.trial import util

    class Case(unittest.SynchronousTestCase):
        suppress = (util.suppress(category=UserWarning),)

        def test_x(self) -> None:
            warnings.warn("hidden", UserWarning, stacklevel=1)
            assert self.flushWarnings() == []

    assert kinds(runTest(Case("test_x"))) == ["success"]


@deprecated("fw-trial 0.1.0")
def _oldFunction(x: int) -> int:
    return x * 2


def _notDeprecated() -> int:
    return 1


def test_callDeprecated() -> None:
    class Case(unittest.SynchronousTestCase):
        def test_ok(self) -> None:
            assert self.callDeprecated("fw-trial 0.1.0", _oldFunction, 2) == 4

        def test_notDeprecated(self) -> None:
            self.callDeprecated("fw-trial 0.1.0", _notDeprecated)

    assert kinds(runTest(Case("test_ok"))) == ["success"]
    assert kinds(runTest(Case("test_notDeprecated"))) == ["failure"]


def test_pyunitResultGetsAdaptedOutcomes() -> None:
    import unittest as pyunit

    result = pyunit.TestResult()
    _Outcomes("test_todo").run(result)
    _Outcomes("test_todoPasses").run(result)
    _Outcomes("test_error").run(result)
    _Outcomes("test_skipAttr").run(result)
    assert len(result.expectedFailures) == 1
    assert len(result.unexpectedSuccesses) == 1
    assert len(result.errors) == 1
    assert len(result.skipped) == 1


def test_identityEquality() -> None:
    assert _Helpers("test_x") != _Helpers("test_x")
