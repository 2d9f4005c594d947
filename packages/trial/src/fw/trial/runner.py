"""
Finding tests and running them: :class:`TestLoader` turns names (dotted
names or paths) into test suites; :class:`TrialRunner` runs a suite in a
clean temporary directory, reporting to a reporter.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import random
import shutil
import sys
import unittest as pyunit
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any, TextIO

from fw.python.failure import Failure
from fw.trial import _synctest
from fw.trial.reporter import TreeReporter

__all__ = [
    "DryRunVisitor",
    "ErrorHolder",
    "TestHolder",
    "TestLoader",
    "TrialRunner",
    "filenameToModule",
    "isTestCase",
]


def isTestCase(obj: object) -> bool:
    """Whether ``obj`` is a test case class (any :class:`unittest.TestCase`)."""
    return isinstance(obj, type) and issubclass(obj, pyunit.TestCase)


class TestHolder:
    """A placeholder test with a description; runs as a success."""

    def __init__(self, description: str) -> None:
        self.description = description

    def id(self) -> str:
        """The description."""
        return self.description

    def shortDescription(self) -> str:
        """The description."""
        return self.description

    def countTestCases(self) -> int:
        """One."""
        return 1

    def __call__(self, result: Any) -> Any:
        return self.run(result)

    def run(self, result: Any) -> Any:
        """Report a success."""
        result.startTest(self)
        result.addSuccess(self)
        result.stopTest(self)
        return result


class ErrorHolder(TestHolder):
    """
    Stands for a test that could not be loaded (a module that failed to
    import, a name that does not exist): running it reports the error.
    """

    def __init__(self, description: str, error: Failure) -> None:
        super().__init__(description)
        self.error = error

    def run(self, result: Any) -> Any:
        """Report the error."""
        result.startTest(self)
        result.addError(self, self.error)
        result.stopTest(self)
        return result

    def __repr__(self) -> str:
        error = self.error.getErrorMessage()
        return f"<ErrorHolder description={self.description!r} error={error!r}>"


def filenameToModule(fn: str) -> ModuleType:
    """
    Import the Python file (or package directory) at path ``fn``.

    A file inside packages (directories with ``__init__.py``) is imported by
    its full dotted name, with the directory above the top package put on
    :data:`sys.path`; a lone file is imported by its own name from its
    directory.

    Raises:
        ValueError: ``fn`` does not exist or is not a Python file.
    """
    path = os.path.abspath(fn)
    if not os.path.exists(path):
        raise ValueError(f"{fn!r} doesn't exist")
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "__init__.py")):
            raise ValueError(f"{fn!r} is not a package")
        directory, name = os.path.split(path)
    else:
        if not path.endswith(".py"):
            raise ValueError(f"{fn!r} is not a Python file")
        directory, base = os.path.split(path)
        name = base[:-3]
    parts = [name]
    while os.path.exists(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    dotted = ".".join(parts)
    module = importlib.import_module(dotted)
    return module


def _sourceLine(obj: Any) -> int:
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return 0


class TestLoader:
    """
    Finds tests: test case classes in modules, ``test*`` methods in classes,
    ``test_*`` modules in packages.

    Attributes:
        methodPrefix: the prefix of test method names.
        modulePrefix: the prefix of test module names in packages.
        sorter: the order of tests: ``"alphabetical"`` (by name) or
            ``"toptobottom"`` (as defined in the source).
    """

    methodPrefix = "test"
    modulePrefix = "test_"
    suiteFactory: Callable[..., pyunit.TestSuite] = pyunit.TestSuite

    def __init__(self, order: str = "alphabetical") -> None:
        if order not in ("alphabetical", "toptobottom"):
            raise ValueError(f"unknown order {order!r} (alphabetical, toptobottom)")
        self.sorter = order

    def _sortMembers(self, items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        if self.sorter == "toptobottom":
            return sorted(items, key=lambda item: (_sourceLine(item[1]), item[0]))
        return sorted(items, key=lambda item: item[0])

    def getTestCaseNames(self, klass: type) -> list[str]:
        """The names of ``klass``'s test methods, in the loader's order."""
        members = []
        for name in dir(klass):
            if not name.startswith(self.methodPrefix):
                continue
            value = getattr(klass, name, None)
            if callable(value):
                members.append((name, value))
        return [name for name, _ in self._sortMembers(members)]

    def loadClass(self, klass: type) -> pyunit.TestSuite:
        """A suite of ``klass``'s tests."""
        if not isTestCase(klass):
            raise TypeError(f"{klass!r} is not a test case class")
        names = self.getTestCaseNames(klass)
        if not names and hasattr(klass, "runTest"):
            names = ["runTest"] if klass.__dict__.get("runTest") else []
        return self.suiteFactory([klass(name) for name in names])

    def loadMethod(self, method: Any) -> Any:
        """The test of one bound or unbound test method."""
        klass = getattr(method, "__self__", None)
        klass = type(klass) if klass is not None and not isinstance(klass, type) else klass
        if klass is None:
            qualname = method.__qualname__.split(".")
            klass = getattr(sys.modules[method.__module__], qualname[-2])
        return klass(method.__name__)

    def findTestClasses(self, module: ModuleType) -> list[type]:
        """The test case classes in ``module``'s namespace, in the loader's order."""
        found = []
        for name, value in vars(module).items():
            if isTestCase(value) and getattr(value, "__test__", True):
                found.append((name, value))
        return [klass for _, klass in self._sortMembers(found)]

    def loadModule(self, module: ModuleType) -> pyunit.TestSuite:
        """A suite of every test in ``module``."""
        if not isinstance(module, ModuleType):
            raise TypeError(f"{module!r} is not a module")
        if hasattr(module, "testSuite"):
            return module.testSuite()  # type: ignore[no-any-return]
        return self.suiteFactory([self.loadClass(k) for k in self.findTestClasses(module)])

    def _testModuleNames(self, package: ModuleType, recurse: bool) -> list[str]:
        paths = list(getattr(package, "__path__", []))
        prefix = package.__name__ + "."
        walker = (
            pkgutil.walk_packages(paths, prefix)
            if recurse
            else pkgutil.iter_modules(paths, prefix)
        )
        names = [
            info.name
            for info in walker
            if info.name.rpartition(".")[2].startswith(self.modulePrefix) and not info.ispkg
        ]
        return sorted(names)

    def loadPackage(self, package: ModuleType, recurse: bool = False) -> pyunit.TestSuite:
        """A suite of the ``test_*`` modules of ``package`` (and its sub-packages)."""
        suite = self.suiteFactory()
        for name in self._testModuleNames(package, recurse):
            suite.addTest(self._loadModuleByName(name))
        return suite

    def _loadModuleByName(self, name: str) -> Any:
        try:
            module = importlib.import_module(name)
        except BaseException:
            if sys.exc_info()[0] is KeyboardInterrupt:
                raise
            return ErrorHolder(name, Failure())
        return self.loadModule(module)

    def loadAnything(self, thing: Any, recurse: bool = False) -> Any:
        """A suite or test for a module, package, class or method."""
        if isinstance(thing, ModuleType):
            if hasattr(thing, "__path__"):
                return self.loadPackage(thing, recurse)
            return self.loadModule(thing)
        if isTestCase(thing):
            return self.loadClass(thing)
        if callable(thing):
            return self.loadMethod(thing)
        raise TypeError(f"no idea how to load {thing!r}")

    def loadByName(self, name: str, recurse: bool = False) -> Any:
        """
        Load the test named by a dotted name (``package.module.Class.test``)
        or a path; a name that cannot be loaded becomes an :class:`ErrorHolder`.
        """
        try:
            if os.sep in name or name.endswith(".py") or os.path.exists(name):
                return self.loadAnything(filenameToModule(name), recurse=True)
            return self.loadAnything(_resolveName(name), recurse)
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - a broken name is reported as an error
            return ErrorHolder(name, Failure())

    def loadByNames(self, names: Iterable[str], recurse: bool = False) -> pyunit.TestSuite:
        """A suite of every named test, each loaded once."""
        seen: set[str] = set()
        tests = []
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            tests.append(self.loadByName(name, recurse))
        return self.suiteFactory(tests)


def _resolveName(name: str) -> Any:
    """Import the longest module prefix of ``name`` and look the rest up in it."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        moduleName = ".".join(parts[:i])
        try:
            obj: Any = importlib.import_module(moduleName)
        except ModuleNotFoundError as e:
            if e.name is not None and (
                moduleName == e.name or moduleName.startswith(e.name + ".")
            ):
                continue
            raise
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(f"no module named {parts[0]!r}", name=parts[0])


def iterateTests(test: Any) -> Iterator[Any]:
    """Every test in a (possibly nested) suite, in order."""
    if isinstance(test, pyunit.TestSuite):
        for t in test:
            yield from iterateTests(t)
    else:
        yield test


class DryRunVisitor:
    """Reports every test in a suite as a success, without running it."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def visit(self, suite: Any) -> None:
        """Report each test of ``suite``."""
        for test in iterateTests(suite):
            self.result.startTest(test)
            self.result.addSuccess(test)
            self.result.stopTest(test)


def shuffled(suite: Any, seed: int) -> pyunit.TestSuite:
    """The tests of ``suite`` in a random order that depends only on ``seed``."""
    tests = list(iterateTests(suite))
    random.Random(seed).shuffle(tests)  # noqa: S311 - an order, not a secret
    return pyunit.TestSuite(tests)


class _WorkingDirectory:
    """The run's temporary directory: locked, emptied, entered."""

    def __init__(self, path: str) -> None:
        from fw.python.lockfile import FilesystemLock

        base = os.path.abspath(path)
        candidate = base
        n = 0
        while True:
            lock = FilesystemLock(candidate + ".lock")
            if lock.lock():
                break
            n += 1
            candidate = f"{base}-{n}"
        self.path = candidate
        self._lock = lock
        self._previous = os.getcwd()

    def __enter__(self) -> str:
        if os.path.exists(self.path):
            shutil.rmtree(self.path)
        os.makedirs(self.path)
        os.chdir(self.path)
        return self.path

    def __exit__(self, *exc: object) -> None:
        os.chdir(self._previous)
        self._lock.unlock()


class TrialRunner:
    """
    Runs a suite in a fresh temporary directory, logging to a file in it,
    and reports to a new reporter.

    Args:
        reporterFactory: the reporter class; called with ``stream``,
            ``tbformat``, ``realtime``.
        mode: ``"debug"`` to run under pdb.
        logfile: the log file's name, in the temporary directory.
        stream: where the reporter writes.
        tracebackFormat: ``default``, ``brief`` or ``verbose``.
        realTimeErrors: print errors as they happen.
        workingDirectory: the temporary directory (``_trial_temp``).
        forceGarbageCollection: collect garbage around each test.
        exitFirst: stop after the first failure or error.
        dryRun: report the tests without running them.
    """

    DEBUG = "debug"
    DRY_RUN = "dry-run"

    def __init__(
        self,
        reporterFactory: Callable[..., Any] = TreeReporter,
        mode: str | None = None,
        logfile: str = "test.log",
        stream: TextIO | None = None,
        tracebackFormat: str = "default",
        realTimeErrors: bool = False,
        workingDirectory: str | None = None,
        forceGarbageCollection: bool = False,
        exitFirst: bool = False,
        debugger: Any = None,
    ) -> None:
        self.reporterFactory = reporterFactory
        self.mode = mode
        self.logfile = logfile
        self.stream: TextIO = stream if stream is not None else sys.stdout
        self.tbformat = tracebackFormat
        self.realTimeErrors = realTimeErrors
        self.workingDirectory = workingDirectory or "_trial_temp"
        self.forceGarbageCollection = forceGarbageCollection
        self.exitFirst = exitFirst
        self.debugger = debugger

    def _makeResult(self) -> Any:
        result = self.reporterFactory(self.stream, self.tbformat, self.realTimeErrors)
        if self.exitFirst:
            _stopOnFirstFailure(result)
        return result

    def run(self, test: Any) -> Any:
        """Run ``test`` (a suite or a test); return the reporter."""
        result = self._makeResult()
        with _RunEnvironment(self):
            self._runSuite(test, result)
        result.done()
        return result

    def _runSuite(self, test: Any, result: Any) -> None:
        if self.mode == self.DRY_RUN:
            DryRunVisitor(result).visit(test)
        elif self.mode == self.DEBUG:
            debugger = self.debugger
            if debugger is None:
                import pdb

                debugger = pdb.Pdb()
            debugger.runcall(test.run, result)
        else:
            test.run(result)

    def runUntilFailure(self, makeTest: Callable[[], Any]) -> Any:
        """Run the suite ``makeTest()`` returns again and again until a run fails."""
        count = 0
        while True:
            count += 1
            self.stream.write(f"Test Pass {count}\n")
            result = self.run(makeTest())
            if not result.wasSuccessful():
                return result


def _stopOnFirstFailure(result: Any) -> None:
    """Make ``result`` ask the run to stop once a test has failed or erred."""
    originalStop = result.stopTest

    def stopTest(test: Any) -> None:
        originalStop(test)
        if not result.wasSuccessful():
            result.shouldStop = True

    result.stopTest = stopTest


class _RunEnvironment:
    """The temporary directory, the log file and the settings of one run."""

    def __init__(self, runner: TrialRunner) -> None:
        self.runner = runner
        self._directory = _WorkingDirectory(runner.workingDirectory)
        self._logFile: Any = None
        self._observer: Any = None

    def __enter__(self) -> None:
        from fw.logger import globalLogPublisher, textFileLogObserver

        path = self._directory.__enter__()
        self._logFile = open(self.runner.logfile, "w", encoding="utf-8")
        self._observer = textFileLogObserver(self._logFile)
        globalLogPublisher.addObserver(self._observer)
        self._previous = (_synctest.config.tempRoot, _synctest.config.forceGarbageCollection)
        _synctest.config.tempRoot = path
        _synctest.config.forceGarbageCollection = self.runner.forceGarbageCollection

    def __exit__(self, *exc: object) -> None:
        from fw.logger import globalLogPublisher

        _synctest.config.tempRoot, _synctest.config.forceGarbageCollection = self._previous
        globalLogPublisher.removeObserver(self._observer)
        self._logFile.close()
        self._directory.__exit__(*exc)
