# ruff: noqa: PT009 - trial's unittest-style assertions are the subject here
"""
:class:`SynchronousTestCase`: trial's test case for code that needs no
running reactor, and the machinery :class:`~fw.trial.unittest.TestCase`
builds on (skips, todos, cleanups, logged errors, warnings).

A test runs as::

    startTest -> [skip] | setUp -> [test method -> tearDown] -> cleanups*
              -> post-test checks -> logged errors -> [success] -> stopTest
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile
import unittest as pyunit
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from fw.internet.defer import Deferred
from fw.logger import LogEvent, globalLogPublisher
from fw.python.deprecate import getDeprecationWarningString
from fw.python.failure import Failure
from fw.trial._assertions import FailTest, _Assertions, _functionRange, _matchesAny
from fw.trial.util import acquireAttribute

__all__ = ["SkipTest", "SynchronousTestCase", "Todo", "makeTodo"]

_T = TypeVar("_T")

#: Raise it (or call ``self.skipTest``) to skip a test.
SkipTest = pyunit.SkipTest


class _Config:
    """Process-wide settings the ``trial`` command changes."""

    #: Collect garbage before and after each test (``--force-gc``), so that
    #: an unhandled error in a Deferred is reported by the test that made it.
    forceGarbageCollection = False
    #: Where :meth:`SynchronousTestCase.mktemp` makes directories; the
    #: current directory when ``None`` (``trial`` runs in ``_trial_temp``).
    tempRoot: str | None = None


config = _Config()


@dataclass(frozen=True)
class Todo:
    """
    A test expected to fail: ``todo = "reason"`` on a method, class or
    module, or ``makeTodo((ValueError, "reason"))`` for specific errors.

    Args:
        reason: why the test is expected to fail.
        errors: the exception types expected; any failure when ``None``.
    """

    reason: str
    errors: tuple[type[BaseException], ...] | None = None

    def expected(self, failure: Failure) -> bool:
        """Whether ``failure`` is the failure expected."""
        if self.errors is None:
            return True
        return failure.check(*self.errors) is not None

    def __repr__(self) -> str:
        return f"<Todo reason={self.reason!r} errors={self.errors!r}>"


def makeTodo(value: str | tuple[Any, str] | Todo) -> Todo:
    """
    Make a :class:`Todo` from a ``todo`` attribute: a reason, or a pair of
    an exception type (or a tuple of them) and a reason.
    """
    if isinstance(value, Todo):
        return value
    if isinstance(value, str):
        return Todo(reason=value)
    if isinstance(value, tuple):
        errors, reason = value
        if isinstance(errors, type):
            errors = (errors,)
        return Todo(reason=reason, errors=tuple(errors))
    raise TypeError(f"a todo is a reason or an (errors, reason) pair, not {value!r}")


class _LogObserver:
    """Collects the failures logged (``log.err``, ``Logger.failure``) during a test."""

    def __init__(self) -> None:
        self._errors: list[Failure] = []

    def __call__(self, event: LogEvent) -> None:
        failure = event.get("log_failure")
        if isinstance(failure, Failure):
            self._errors.append(failure)

    def install(self) -> None:
        globalLogPublisher.addObserver(self)

    def remove(self) -> None:
        globalLogPublisher.removeObserver(self)

    def flushErrors(self, *errorTypes: type[BaseException]) -> list[Failure]:
        """Remove and return the failures of ``errorTypes`` (all, if none given)."""
        if not errorTypes:
            everything, self._errors = self._errors, []
            return everything
        flushed: list[Failure] = []
        kept: list[Failure] = []
        for f in self._errors:
            (flushed if f.check(*errorTypes) else kept).append(f)
        self._errors = kept
        return flushed


@dataclass
class _Warning:
    message: str
    category: type[Warning]
    filename: str
    lineno: int
    warning: Warning | str


class _MonkeyPatcher:
    """Attribute patches, applied by :meth:`patch` and undone by :meth:`restore`."""

    def __init__(self, *patches: tuple[object, str, object]) -> None:
        self._patches = list(patches)
        self._originals: list[tuple[object, str, object]] = []

    def addPatch(self, obj: object, name: str, value: object) -> None:
        """Add a patch (applied by the next :meth:`patch`)."""
        self._patches.append((obj, name, value))

    def patch(self) -> None:
        """Apply the patches, remembering what they replace."""
        for obj, name, value in self._patches:
            self._originals.append((obj, name, getattr(obj, name, _MISSING)))
            setattr(obj, name, value)

    def restore(self) -> None:
        """Undo the patches, newest first."""
        while self._originals:
            obj, name, value = self._originals.pop()
            if value is _MISSING:
                delattr(obj, name)
            else:
                setattr(obj, name, value)


_MISSING: Any = object()

#: The longest directory name :meth:`SynchronousTestCase.mktemp` uses per part.
_MAX_NAME = 32


class SynchronousTestCase(_Assertions):
    """
    A test case for code that needs no running reactor.

    Beyond :class:`unittest.TestCase`: Twisted's assertions and their
    aliases, the Deferred inspectors (:meth:`successResultOf`,
    :meth:`failureResultOf`, :meth:`assertNoResult`), :meth:`patch`,
    :meth:`mktemp`, :meth:`flushWarnings`, :meth:`flushLoggedErrors`,
    :meth:`callDeprecated`; ``skip``, ``todo`` and ``suppress`` attributes
    on the test method, its class or its module.  An error logged during
    the test fails it unless flushed.
    """

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self._passed = False
        self._observer: _LogObserver | None = None
        self._warnings: list[_Warning] = []
        self._cleanups: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]]
        method = getattr(self, methodName, None)
        self._parents: list[object] = [method, self, sys.modules.get(type(self).__module__)]

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    # -- test attributes

    def getSkip(self) -> str | None:
        """The reason to skip this test (its ``skip`` attribute), or ``None``."""
        skip = acquireAttribute(self._parents, "skip", None)
        if skip is None or skip is False:
            return None
        return str(skip)

    def getTodo(self) -> Todo | None:
        """This test's :class:`Todo` (from its ``todo`` attribute), or ``None``."""
        todo = acquireAttribute(self._parents, "todo", None)
        if todo is None:
            return None
        return makeTodo(todo)

    def getSuppress(self) -> Sequence[Any]:
        """The warning filters (``suppress`` attribute) applied while the test runs."""
        return list(acquireAttribute(self._parents, "suppress", []))

    # -- running

    def run(self, result: Any = None) -> Any:
        """Run the test, reporting its outcome to ``result``."""
        if result is None:
            result = self.defaultTestResult()
        result = _adaptResult(result)
        result.startTest(self)
        try:
            skip = self.getSkip()
            if skip is not None:
                result.addSkip(self, skip)
                return result
            self._passed = False
            self._warnings = []
            self._observer = _LogObserver()
            self._observer.install()
            try:
                self._runCollectingWarnings(result)
            finally:
                self._observer.remove()
            self._reemitWarnings()
            if self._passed:
                result.addSuccess(self)
        finally:
            result.stopTest(self)
        return result

    def __call__(self, result: Any = None) -> Any:
        return self.run(result)

    def _runCollectingWarnings(self, result: Any) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            for s in self.getSuppress():
                warnings.filterwarnings(s.action, **s.kwargs)
            warnings.showwarning = self._showWarning
            self._runFixturesAndTest(result)

    def _showWarning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        self._warnings.append(_Warning(str(message), category, filename, lineno, message))

    def _reemitWarnings(self) -> None:
        for w in self._warnings:
            warnings.warn_explicit(w.warning, w.category, w.filename, w.lineno)
        self._warnings = []

    def _runStep(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Failure | None:
        """Run one step (set-up, test, tear-down, cleanup); return its failure, if any."""
        try:
            result = f(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - reported to the result
            return Failure()
        if inspect.iscoroutine(result):
            result.close()
            return Failure(
                TypeError(
                    f"{f!r} is a coroutine function: a SynchronousTestCase cannot run it "
                    "(use fw.trial.unittest.TestCase)"
                )
            )
        if isinstance(result, Deferred):
            outcome: list[Any] = []
            result.addBoth(outcome.append)
            if not outcome:
                return Failure(
                    TypeError(
                        f"{f!r} returned an unfired Deferred: a SynchronousTestCase "
                        "cannot wait for it (use fw.trial.unittest.TestCase)"
                    )
                )
            if isinstance(outcome[0], Failure):
                return outcome[0]
        return None

    def _runFixturesAndTest(self, result: Any) -> None:
        forceGC = config.forceGarbageCollection
        if forceGC:
            _collectGarbage()
        setUpFailure = self._runStep(self.setUp)
        if setUpFailure is not None:
            self._reportSetUpFailure(result, setUpFailure)
        else:
            method = getattr(self, self._testMethodName)
            testFailure = self._runStep(method)
            self._reportTestOutcome(result, testFailure)
            tearDownFailure = self._runStep(self.tearDown)
            if tearDownFailure is not None:
                self._addError(result, tearDownFailure)
        self._runCleanups(result)
        self._postTestChecks(result)
        if forceGC:
            _collectGarbage()
        assert self._observer is not None
        for error in self._observer.flushErrors():
            self._addError(result, error)

    def _postTestChecks(self, result: Any) -> None:
        """Checks after the test and its cleanups; :class:`TestCase` checks the reactor."""

    def _runCleanups(self, result: Any) -> None:
        while self._cleanups:
            f, args, kwargs = self._cleanups.pop()
            failure = self._runStep(f, *args, **kwargs)
            if failure is not None:
                self._addError(result, failure)

    def _addError(self, result: Any, failure: Failure) -> None:
        self._passed = False
        result.addError(self, failure)
        if failure.check(KeyboardInterrupt):
            result.stop()

    def _reportSetUpFailure(self, result: Any, failure: Failure) -> None:
        if failure.check(SkipTest):
            result.addSkip(self, _skipReason(failure))
            return
        self._addError(result, failure)

    def _reportTestOutcome(self, result: Any, failure: Failure | None) -> None:
        todo = self.getTodo()
        if failure is None:
            if todo is not None:
                result.addUnexpectedSuccess(self, todo)
            else:
                self._passed = True
            return
        if failure.check(SkipTest):
            result.addSkip(self, _skipReason(failure))
        elif todo is not None and todo.expected(failure):
            result.addExpectedFailure(self, failure, todo)
        elif failure.check(self.failureException, FailTest, AssertionError):
            result.addFailure(self, failure)
        else:
            self._addError(result, failure)

    # -- helpers for tests

    def addCleanup(self, function: Callable[..., object], /, *args: Any, **kwargs: Any) -> None:
        """
        Call ``function(*args, **kwargs)`` after the test, last added first.
        In a :class:`~fw.trial.unittest.TestCase` it may return a Deferred
        or be a coroutine function.
        """
        self._cleanups.append((function, args, kwargs))

    def patch(self, obj: object, attribute: str, value: object) -> _MonkeyPatcher:
        """
        Set ``obj.attribute`` to ``value`` for the rest of the test (restored
        by a cleanup).

        Returns:
            The patcher, whose ``restore()`` undoes it sooner.
        """
        patcher = _MonkeyPatcher((obj, attribute, value))
        patcher.patch()
        self.addCleanup(patcher.restore)
        return patcher

    def mktemp(self) -> str:
        """
        Return a new path, unique to this call, for the test to create a file
        or directory at; its parent directory exists.  Under ``trial`` it is in
        ``_trial_temp``; under pytest, in pytest's temporary directory.
        """
        root = config.tempRoot if config.tempRoot is not None else os.getcwd()
        parts = [
            type(self).__module__[:_MAX_NAME],
            type(self).__name__[:_MAX_NAME],
            self._testMethodName[:_MAX_NAME],
        ]
        base = os.path.join(root, *parts)
        os.makedirs(base, exist_ok=True)
        return os.path.join(tempfile.mkdtemp("", "", base), "temp")

    def flushLoggedErrors(self, *errorTypes: type[BaseException]) -> list[Failure]:
        """
        Remove and return the errors logged so far in this test (only those
        of ``errorTypes``, when given), so they no longer fail it.
        """
        if self._observer is None:
            return []
        return self._observer.flushErrors(*errorTypes)

    def flushWarnings(
        self, offendingFunctions: Sequence[Callable[..., object]] | None = None
    ) -> list[dict[str, Any]]:
        """
        Remove and return the warnings emitted so far in this test (only those
        attributed to one of ``offendingFunctions``, when given), each as a
        dict with ``message``, ``category``, ``filename`` and ``lineno``.
        Warnings not flushed are re-emitted after the test.
        """
        if offendingFunctions is None:
            flushed, self._warnings = self._warnings, []
        else:
            ranges = [_functionRange(f) for f in offendingFunctions]
            if any(r is None for r in ranges):
                raise ValueError("offendingFunctions must be functions or methods")
            flushed = []
            kept: list[_Warning] = []
            for w in self._warnings:
                target = flushed if _matchesAny(w.filename, w.lineno, ranges) else kept
                target.append(w)
            self._warnings = kept
        return [
            {
                "message": w.message,
                "category": w.category,
                "filename": w.filename,
                "lineno": w.lineno,
            }
            for w in flushed
        ]

    def callDeprecated(self, version: Any, f: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """
        Call ``f(*args, **kwargs)`` and fail unless it emits the deprecation
        warning for ``version``; return its result.  ``version`` may also be
        a ``(version, replacement)`` pair.
        """
        replacement = None
        if isinstance(version, tuple) and len(version) == 2 and not isinstance(version[1], int):
            version, replacement = version
        result = f(*args, **kwargs)
        shown = self.flushWarnings([self.callDeprecated])
        if not shown:
            self.fail(f"{f!r} is not deprecated.")
        expected = getDeprecationWarningString(f, version, replacement=replacement)
        self.assertEqual(expected, shown[0]["message"])
        return result

    def getDeprecatedModuleAttribute(self, moduleName: str, name: str, version: Any) -> Any:
        """Return ``moduleName.name``, failing unless that warns it is deprecated."""
        module = sys.modules.get(moduleName) or __import__(moduleName, fromlist=["_"])
        value = getattr(module, name)
        if not self.flushWarnings():
            self.fail(f"{moduleName}.{name} is not deprecated")
        return value

    def runTest(self) -> None:
        """The test run for a test case made without a method name."""


def _skipReason(failure: Failure) -> str:
    value = failure.value
    if value.args:
        return str(value.args[0])
    return str(value)


def _collectGarbage() -> None:
    import gc

    gc.collect()


class _PyUnitResultAdapter:
    """
    Passes trial's richer outcomes to a :mod:`unittest` result: failures as
    ``exc_info`` tuples, and todos as unittest's expected failures.
    """

    def __init__(self, original: Any) -> None:
        self.original = original

    @staticmethod
    def _excInfo(error: Any) -> Any:
        if isinstance(error, Failure):
            return (error.type, error.value, error.getTracebackObject())
        return error

    def startTest(self, test: Any) -> None:
        self.original.startTest(test)

    def stopTest(self, test: Any) -> None:
        self.original.stopTest(test)

    def addSuccess(self, test: Any) -> None:
        self.original.addSuccess(test)

    def addError(self, test: Any, error: Any) -> None:
        self.original.addError(test, self._excInfo(error))

    def addFailure(self, test: Any, error: Any) -> None:
        self.original.addFailure(test, self._excInfo(error))

    def addSkip(self, test: Any, reason: str) -> None:
        addSkip = getattr(self.original, "addSkip", None)
        if addSkip is None:
            self.original.addSuccess(test)
        else:
            addSkip(test, reason)

    def addExpectedFailure(self, test: Any, failure: Any, todo: Any = None) -> None:
        add = getattr(self.original, "addExpectedFailure", None)
        if add is None:
            self.original.addSuccess(test)
        else:
            add(test, self._excInfo(failure))

    def addUnexpectedSuccess(self, test: Any, todo: Any = None) -> None:
        add = getattr(self.original, "addUnexpectedSuccess", None)
        if add is None:
            self.original.addFailure(test, (AssertionError, AssertionError(str(todo)), None))
        else:
            add(test)

    def stop(self) -> None:
        self.original.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def _adaptResult(result: Any) -> Any:
    """``result`` itself if it understands trial's outcomes, else an adapter."""
    if getattr(result, "_fwTrialResult", False) or isinstance(result, _PyUnitResultAdapter):
        return result
    return _PyUnitResultAdapter(result)


def _moduleOf(test: object) -> ModuleType | None:
    return sys.modules.get(type(test).__module__)
