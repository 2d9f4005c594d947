"""
fw-trial's pytest plugin (the ``pytest11`` entry point ``fw_trial``).

- Trial test cases (:class:`~fw.trial.unittest.TestCase` and
  :class:`~fw.trial.unittest.SynchronousTestCase` subclasses) run with
  trial's semantics: Deferreds and coroutines on the reactor, timeouts,
  the dirty-reactor and logged-error checks; ``skip`` is a pytest skip,
  ``todo`` an expected failure (xfail), an unexpected success an xpass.
- Plain test functions that are ``async def``, or that return a Deferred,
  run on the global fw reactor until they finish, with the same checks and
  a ``timeout`` attribute (120 s by default).

- The ``runReactor`` fixture (:class:`ReactorRunner`) runs a reactor of the
  test's own choosing until a Deferred finishes, with the same checks: fw's
  own suites use it to run each test on every reactor backend.
- Tests against real peers: :func:`requirePeer` (a program) and
  :func:`requireModule` (a library), also as fixtures, and
  :func:`missingPeer` skip a test whose peer is missing, or fail it when the
  environment says peers are required (``FW_REQUIRE_PEERS=1``, as in fw's CI,
  so that a missing peer cannot pass as a skip).

``--fw-reactor NAME`` installs the reactor called ``NAME`` (as ``trial -r``
does) when pytest starts; without it, the platform's default reactor (epoll
on Linux) is installed the first time a test needs one.  Other tests are
left alone; ``-p no:fw_trial`` turns the plugin off.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import sys
import unittest
from collections.abc import Callable, Generator, Iterator
from types import ModuleType
from typing import Any, NoReturn

import _pytest
import pluggy
import pytest

import fw.python.failure
import fw.trial.util

__all__ = [
    "REQUIRE_PEERS",
    "ReactorRunner",
    "ReactorTimeout",
    "TrialTestCaseCollector",
    "TrialTestItem",
    "missingPeer",
    "peersRequired",
    "requireModule",
    "requirePeer",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fw-trial", "fw-trial: asynchronous tests on the fw reactor")
    group.addoption(
        "--fw-reactor",
        action="store",
        default=None,
        metavar="NAME",
        help="install this fw reactor (epoll, poll, select, asyncio, uvloop, glib...) "
        "for trial test cases and async tests; default: the platform's default reactor",
    )


def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("fw_reactor", None)
    if name:
        from fw.application.reactors import NoSuchReactor, installReactor

        if "fw.internet.reactor" in sys.modules:
            raise pytest.UsageError(f"--fw-reactor {name}: a reactor is already installed")
        try:
            installReactor(name)
        except NoSuchReactor as e:
            raise pytest.UsageError(f"--fw-reactor: {e}") from None


def _isTrialTestCase(obj: object) -> bool:
    if not isinstance(obj, type):
        return False
    from fw.trial._synctest import SynchronousTestCase

    return issubclass(obj, SynchronousTestCase)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> Any:
    if _isTrialTestCase(obj) and getattr(obj, "__test__", True):
        return TrialTestCaseCollector.from_parent(collector, name=name)
    return None


class TrialTestCaseCollector(pytest.Class):
    """A trial test case class: one :class:`TrialTestItem` per test method."""

    def collect(self) -> Iterator[pytest.Item]:
        from fw.trial.runner import TestLoader

        cls = self.obj
        for name in TestLoader().getTestCaseNames(cls):
            if getattr(getattr(cls, name), "__test__", True):
                yield TrialTestItem.from_parent(self, name=name)

    def setup(self) -> None:
        setUpClass = getattr(self.obj, "setUpClass", None)
        if setUpClass is not None:
            setUpClass()

    def teardown(self) -> None:
        tearDownClass = getattr(self.obj, "tearDownClass", None)
        try:
            if tearDownClass is not None:
                tearDownClass()
        finally:
            doClassCleanups = getattr(self.obj, "doClassCleanups", None)
            if doClassCleanups is not None:
                doClassCleanups()


class TrialTestItem(pytest.Item):
    """One test method of a trial test case, run by trial's rules."""

    _unexpectedSuccess: str | None = None

    def runtest(self) -> None:
        """Run the trial test with trial's semantics, and report its outcome to pytest."""
        from fw.trial.reporter import TestResult

        _ensureTempRoot(self.config)
        test = self.parent.obj(self.name)  # type: ignore[union-attr]
        result = TestResult()
        test.run(result)
        _raiseOutcome(result, self)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        """The test method's file, line and ``Class.method`` name, for reports."""
        cls = self.parent.obj  # type: ignore[union-attr]
        method = getattr(cls, self.name)
        try:
            lineno: int | None = inspect.getsourcelines(method)[1] - 1
        except (OSError, TypeError):
            lineno = None
        return self.path, lineno, f"{cls.__qualname__}.{self.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """pytest's failure report, without fw-trial's and pytest's own frames."""
        filtered = excinfo.traceback.filter(_userFrame)
        if len(filtered):
            excinfo.traceback = filtered
        return super().repr_failure(excinfo, style)


#: Directories whose frames are machinery, not the test: left out of reports.
_MACHINERY = tuple(
    os.path.dirname(m.__file__ or "") + os.sep for m in (pluggy, _pytest, fw.trial.util, unittest)
)


def _userFrame(entry: Any) -> bool:
    path = str(entry.path)
    if path.startswith(_MACHINERY):
        return False
    # fw.python.failure re-raising: not the test's frame either.
    return not path.endswith(os.path.join("fw", "python", "_failure.py"))


def _raiseOutcome(result: Any, item: Any) -> None:
    """Turn a trial result into pytest's outcome for ``item``."""
    problems = [f for _, f in result.failures] + [f for _, f in result.errors]
    if problems:
        if len(problems) == 1:
            problems[0].raiseException()
        raise BaseExceptionGroup(
            f"{len(problems)} errors in {item.name}",
            [p.value for p in problems],
        )
    if result.skips:
        raise pytest.skip.Exception(str(result.skips[0][1]), _use_item_location=True)
    if result.expectedFailures:
        _, _, todo = result.expectedFailures[0]
        pytest.xfail(todo.reason)
    if result.unexpectedSuccesses:
        _, todo = result.unexpectedSuccesses[0]
        item._unexpectedSuccess = todo.reason


def _ensureTempRoot(config: pytest.Config) -> None:
    from fw.trial import _synctest

    if _synctest.config.tempRoot is not None:
        return
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        root = str(factory.mktemp("_trial_temp", numbered=True))
    else:
        import tempfile

        root = tempfile.mkdtemp(prefix="_trial_temp")
    _synctest.config.tempRoot = root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[Any, Any, None]:
    outcome = yield
    reason = getattr(item, "_unexpectedSuccess", None)
    if reason is not None and call.when == "call":
        report = outcome.get_result()
        if report.passed:
            report.wasxfail = reason


# -- plain async test functions


def _isAsyncTest(function: Any) -> bool:
    return inspect.iscoroutinefunction(function)


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, None]:
    if any(pyfuncitem.get_closest_marker(m) for m in ("asyncio", "anyio", "trio")):
        yield
        return
    original = pyfuncitem.obj
    if inspect.isasyncgenfunction(original):
        yield
        return
    pyfuncitem.obj = _ReactorRunner(original, pyfuncitem.nodeid)
    try:
        yield
    finally:
        pyfuncitem.obj = original


class _ReactorRunner:
    """
    Calls a test function; a coroutine or Deferred it returns runs on the
    global reactor until it finishes, then the reactor is checked.
    """

    def __init__(self, function: Any, description: str) -> None:
        self.function = function
        self.description = description

    def __call__(self, **kwargs: Any) -> Any:
        from fw.internet.defer import Deferred

        function = self.function
        if _isAsyncTest(function):
            return _runOnReactor(function, kwargs, self.description)
        result = function(**kwargs)
        if isinstance(result, Deferred):
            return _runOnReactor(lambda **_: result, {}, self.description, timeoutOf=function)
        return result


def _runOnReactor(
    function: Any, kwargs: dict[str, Any], description: str, timeoutOf: Any = None
) -> None:
    from fw.internet.defer import maybeDeferred
    from fw.python.failure import Failure
    from fw.trial._asynctest import _TimedOut, _waitForDeferred
    from fw.trial._synctest import _LogObserver
    from fw.trial.util import DEFAULT_TIMEOUT_DURATION, _Janitor

    timeout = float(getattr(timeoutOf or function, "timeout", DEFAULT_TIMEOUT_DURATION))
    observer = _LogObserver()
    observer.install()
    try:
        outcome = _waitForDeferred(maybeDeferred(function, **kwargs), timeout, description)
    finally:
        observer.remove()
    problems: list[Failure] = []
    if isinstance(outcome, _TimedOut):
        problems.append(outcome.failure)
    elif isinstance(outcome, Failure):
        problems.append(outcome)
    dirty = _Janitor().postCaseCleanup()
    if dirty is not None:
        problems.append(Failure(dirty))
    problems.extend(observer.flushErrors())
    if len(problems) == 1:
        problems[0].raiseException()
    if problems:
        raise BaseExceptionGroup(
            f"{len(problems)} errors in {description}", [p.value for p in problems]
        )


# -- running a reactor of the test's choosing: the runReactor fixture


class ReactorTimeout(AssertionError):
    """:class:`ReactorRunner`: the reactor ran past the time limit."""


class ReactorRunner:
    """
    What the ``runReactor`` fixture gives a test: run a reactor of the
    test's choosing (not the global one: a new reactor of each backend, say)
    until a Deferred finishes.

    ``runReactor(reactor, f, timeout=10)`` runs ``reactor``, which must not
    be running, calls ``f()`` once it runs, waits until the Deferred or
    coroutine that ``f`` returns finishes, stops the reactor (its shutdown
    triggers run), and returns the result or raises the failure.  It fails
    the test when:

    - ``f`` has not finished after ``timeout`` seconds
      (:class:`ReactorTimeout`);
    - the reactor is left with delayed calls, readers or writers that the
      test made (they are reported before shutdown closes them);
    - an error was logged (``log.err``, ``Logger.failure``) while the
      reactor ran and the test did not take it with
      :meth:`flushLoggedErrors`: checked when the test ends, as trial
      does.
    """

    def __init__(self) -> None:
        from fw.trial._synctest import _LogObserver

        self._observer = _LogObserver()

    def __call__(self, reactor: Any, f: Any, timeout: float = 10.0) -> Any:
        from fw.internet.defer import ensureDeferred, maybeDeferred
        from fw.internet.error import ReactorNotRunning
        from fw.python.failure import Failure

        outcome: list[Any] = []
        leftovers: list[str] = []

        def finish(result: Any) -> None:
            outcome.append(result)
            # What the test left behind, before shutdown closes it all.
            calls = [c for c in reactor.getDelayedCalls() if c is not guard]
            if calls:
                leftovers.append(f"pending delayed calls: {calls}")
            if reactor.getReaders():
                leftovers.append(f"readers: {reactor.getReaders()}")
            if reactor.getWriters():
                leftovers.append(f"writers: {reactor.getWriters()}")
            try:
                reactor.stop()
            except ReactorNotRunning:
                pass  # the test stopped it itself

        def timedOut() -> None:
            outcome.append(ReactorTimeout(f"reactor still running after {timeout}s"))
            reactor.stop()

        def awaited(result: Any) -> Any:
            return ensureDeferred(result) if inspect.iscoroutine(result) else result

        def start() -> None:
            maybeDeferred(f).addCallback(awaited).addBoth(finish)

        guard = reactor.callLater(timeout, timedOut)
        reactor.callWhenRunning(start)
        self._observer.install()
        try:
            reactor.run(installSignalHandlers=False)
        finally:
            self._observer.remove()
        if guard.active():
            guard.cancel()
        if not outcome:
            raise AssertionError("the reactor stopped before the test finished")
        result = outcome[0]
        if isinstance(result, Failure):  # before BaseException: a Failure is one too
            result.raiseException()
        if isinstance(result, BaseException):
            raise result
        if leftovers:
            raise AssertionError("the test left reactor state behind: " + "; ".join(leftovers))
        return result

    def flushLoggedErrors(self, *errorTypes: type[BaseException]) -> list[Any]:
        """
        Take the errors of ``errorTypes`` (all, with none given) logged while
        the reactor ran, so that they do not fail the test; return them as
        :class:`~fw.python.failure.Failure` objects.
        """
        return self._observer.flushErrors(*errorTypes)

    def _checkLoggedErrors(self) -> None:
        left = self._observer.flushErrors()
        if left:
            described = "\n".join(f.getTraceback() for f in left)
            raise AssertionError(
                f"{len(left)} error(s) logged while the reactor ran and not flushed "
                f"(runReactor.flushLoggedErrors):\n{described}"
            )


@pytest.fixture
def runReactor() -> Iterator[ReactorRunner]:
    """A :class:`ReactorRunner`: ``runReactor(reactor, f, timeout=10)``."""
    runner = ReactorRunner()
    yield runner
    runner._checkLoggedErrors()


# -- tests against real peers


#: The environment variable that, set to ``1``, makes a missing peer fail
#: the test instead of skipping it.
REQUIRE_PEERS = "FW_REQUIRE_PEERS"


def peersRequired() -> bool:
    """Whether a missing peer fails tests rather than skipping them (``FW_REQUIRE_PEERS=1``)."""
    return os.environ.get(REQUIRE_PEERS) == "1"


def missingPeer(message: str) -> NoReturn:
    """
    The test cannot run: a peer it tests against (a program, a library, a
    service) is missing, as ``message`` says.  Skip it, or fail it when
    :func:`peersRequired`.  At module level the whole module is skipped (or
    fails to collect).
    """
    __tracebackhide__ = True  # report the test's line, not this one
    if peersRequired():
        pytest.fail(f"{message} ({REQUIRE_PEERS}=1)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def requirePeer(program: str) -> str:
    """Return the path of the peer program ``program``, or :func:`missingPeer`."""
    __tracebackhide__ = True  # report the test's line, not this one
    path = shutil.which(program)
    if path is None:
        missingPeer(f"peer program {program!r} is not installed")
    return path


def requireModule(name: str) -> ModuleType:
    """Import and return the peer library ``name``, or :func:`missingPeer`."""
    __tracebackhide__ = True  # report the test's line, not this one
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missingPeer(f"peer library {name!r} cannot be imported: {e}")


@pytest.fixture(name="requirePeer")
def requirePeerFixture() -> Callable[[str], str]:
    """:func:`requirePeer`, as a fixture: ``path = requirePeer("curl")``."""
    return requirePeer


@pytest.fixture(name="requireModule")
def requireModuleFixture() -> Callable[[str], ModuleType]:
    """:func:`requireModule`, as a fixture: ``h2 = requireModule("h2")``."""
    return requireModule
