"""
Reporters: what ``trial`` prints while tests run and after.

``tree`` (the default; coloured on a terminal), ``verbose``, ``text``,
``summary``, ``timing``, ``subunit`` (needs python-subunit) and ``junit``
(JUnit XML).  Each is a plugin in the ``fw.trial.reporters`` entry-point
group: a :class:`ReporterPlugin` naming the reporter class.  Every reporter
is a :class:`TestResult`, which records each outcome.
"""

from __future__ import annotations

import sys
import time
import unittest as pyunit
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO
from xml.sax.saxutils import escape, quoteattr

from zope.interface import implementer

from fw.plugin import IPlugin
from fw.python.failure import Failure
from fw.trial._synctest import Todo
from fw.trial.itrial import IReporter, ITestResultReporter

__all__ = [
    "JUnitXMLReporter",
    "MinimalReporter",
    "Reporter",
    "ReporterPlugin",
    "SubunitReporter",
    "TestResult",
    "TextReporter",
    "TimingTextReporter",
    "TreeReporter",
    "VerboseTextReporter",
]

#: Outcome names, as counted in the summary line.
SUCCESS = "success"
FAILURE = "failure"
ERROR = "error"
SKIP = "skip"
EXPECTED_FAILURE = "expectedFailure"
UNEXPECTED_SUCCESS = "unexpectedSuccess"

_LABELS = {
    SUCCESS: "[OK]",
    FAILURE: "[FAIL]",
    ERROR: "[ERROR]",
    SKIP: "[SKIPPED]",
    EXPECTED_FAILURE: "[TODO]",
    UNEXPECTED_SUCCESS: "[SUCCESS!?!]",
}
_LETTERS = {
    SUCCESS: ".",
    FAILURE: "F",
    ERROR: "E",
    SKIP: "S",
    EXPECTED_FAILURE: "T",
    UNEXPECTED_SUCCESS: "!",
}
_WIDTH = 79
_DOUBLE_SEPARATOR = "=" * _WIDTH
_SEPARATOR = "-" * _WIDTH


class RemoteFailure:
    """
    A failure that happened elsewhere (in a ``trial -j`` worker), known by
    its exception's type name, message and formatted traceback.
    """

    def __init__(self, typeName: str, message: str, traceback: str) -> None:
        self.typeName = typeName
        self.message = message
        self.traceback = traceback

    def getTraceback(self, elideFrameworkCode: int = 0, detail: str = "default") -> str:
        """The traceback as the worker formatted it."""
        return self.traceback

    def getBriefTraceback(self) -> str:
        """The exception's type and message."""
        return f"{self.typeName}: {self.message}\n"

    def getErrorMessage(self) -> str:
        """The exception's message."""
        return self.message


def _asFailure(error: Any) -> Any:
    """A Failure from an ``exc_info`` tuple; Failures and remote failures as they are."""
    if isinstance(error, tuple):
        excType, value, tb = error
        if value is None:
            value = excType()
        return Failure(value, excType, tb)
    return error


def _typeName(failure: Any) -> str:
    if isinstance(failure, RemoteFailure):
        return failure.typeName
    t = failure.type
    return f"{t.__module__}.{t.__qualname__}"


def _formatFailure(failure: Any, tbformat: str = "default") -> str:
    if tbformat == "brief":
        return str(failure.getBriefTraceback())
    if tbformat == "verbose":
        return str(failure.getTraceback(detail="verbose"))
    return str(failure.getTraceback())


def _testID(test: Any) -> str:
    try:
        return str(test.id())
    except Exception:  # noqa: BLE001 - any object may be reported as a test
        return repr(test)


@dataclass
class Outcome:
    """One outcome of one test: its kind, the failure, the skip or todo reason."""

    test: Any
    kind: str
    failure: Any = None
    reason: str | None = None
    duration: float = 0.0


@implementer(ITestResultReporter)
class TestResult(pyunit.TestResult):
    """
    Records every outcome of a run.  Accepts trial's Failures and
    :mod:`unittest`'s ``exc_info`` tuples alike.

    Attributes:
        successes: how many tests passed.
        skips: ``(test, reason)`` pairs.
        expectedFailures: ``(test, failure, todo)`` triples.
        unexpectedSuccesses: ``(test, todo)`` pairs.
        outcomes: every :class:`Outcome`, in order.
    """

    _fwTrialResult = True

    def __init__(self) -> None:
        super().__init__()
        self.successes = 0
        self.skips: list[tuple[Any, str]] = []
        self.expectedFailures: list[tuple[Any, Any, Todo]] = []  # type: ignore[assignment]
        self.unexpectedSuccesses: list[tuple[Any, Any]] = []  # type: ignore[assignment]
        self.errors: list[tuple[Any, Any]] = []
        self.failures: list[tuple[Any, Any]] = []
        self.outcomes: list[Outcome] = []
        self._testStarted = 0.0
        self._startTime = time.monotonic()

    def _now(self) -> float:
        return time.monotonic()

    def _record(
        self, test: Any, kind: str, failure: Any = None, reason: str | None = None
    ) -> None:
        self.outcomes.append(Outcome(test, kind, failure, reason, self._now() - self._testStarted))

    def startTest(self, test: Any) -> None:
        """``test`` is starting."""
        super().startTest(test)
        self._testStarted = self._now()

    def addSuccess(self, test: Any) -> None:
        """``test`` passed."""
        self.successes += 1
        self._record(test, SUCCESS)

    def addError(self, test: Any, error: Any) -> None:
        """``test`` erred."""
        failure = _asFailure(error)
        self.errors.append((test, failure))
        self._record(test, ERROR, failure)

    def addFailure(self, test: Any, error: Any) -> None:
        """``test`` failed."""
        failure = _asFailure(error)
        self.failures.append((test, failure))
        self._record(test, FAILURE, failure)

    def addSkip(self, test: Any, reason: str) -> None:
        """``test`` was skipped."""
        self.skips.append((test, reason))
        self._record(test, SKIP, reason=str(reason))

    def addExpectedFailure(self, test: Any, error: Any, todo: Todo | None = None) -> None:
        """``test`` failed, as expected."""
        if todo is None:
            todo = Todo("Test expected to fail")
        failure = _asFailure(error)
        self.expectedFailures.append((test, failure, todo))
        self._record(test, EXPECTED_FAILURE, failure, todo.reason)

    def addUnexpectedSuccess(self, test: Any, todo: Todo | None = None) -> None:
        """``test`` passed, though expected to fail."""
        if todo is None:
            todo = Todo("Test expected to fail")
        self.unexpectedSuccesses.append((test, todo))
        self._record(test, UNEXPECTED_SUCCESS, reason=todo.reason)

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        """A :mod:`unittest` sub-test ended (``err`` is ``None`` if it passed)."""
        if err is None:
            return
        if issubclass(err[0], test.failureException):
            self.addFailure(subtest, err)
        else:
            self.addError(subtest, err)

    def wasSuccessful(self) -> bool:
        """Whether no test failed or erred (unexpected successes do not count)."""
        return not self.failures and not self.errors

    def done(self) -> None:
        """Every test has run."""

    def counts(self) -> dict[str, int]:
        """How many outcomes of each kind, by summary name."""
        return {
            "skips": len(self.skips),
            "expectedFailures": len(self.expectedFailures),
            "failures": len(self.failures),
            "errors": len(self.errors),
            "unexpectedSuccesses": len(self.unexpectedSuccesses),
            "successes": self.successes,
        }


class Reporter(TestResult):
    """
    The base of the printing reporters: errors in detail and a summary at
    the end.

    Args:
        stream: where to write.
        tbformat: ``default``, ``brief`` or ``verbose`` tracebacks.
        realtime: print each error as soon as it happens, too.
        publisher: kept for Twisted's signature; unused.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        tbformat: str = "default",
        realtime: bool = False,
        publisher: Any = None,
    ) -> None:
        super().__init__()
        self._stream: TextIO = stream if stream is not None else sys.stdout
        self.tbformat = tbformat
        self.realtime = realtime
        self._testKinds: list[str] = []
        self._elapsed: float | None = None

    @property
    def stream(self) -> TextIO:
        """Where this reporter writes."""
        return self._stream

    def _write(self, text: str) -> None:
        self._stream.write(text)

    def _writeln(self, text: str = "") -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def startTest(self, test: Any) -> None:
        """``test`` is starting."""
        super().startTest(test)
        self._testKinds = []

    def _record(
        self, test: Any, kind: str, failure: Any = None, reason: str | None = None
    ) -> None:
        super()._record(test, kind, failure, reason)
        self._testKinds.append(kind)
        if self.realtime and kind in (ERROR, FAILURE) and failure is not None:
            self._writeln()
            self._writeln(_formatFailure(failure, self.tbformat))
            self._writeln(_testID(test))

    def stopTest(self, test: Any) -> None:
        """``test`` has finished: show its outcome."""
        super().stopTest(test)
        self._showOutcome(test, self._testKinds[0] if self._testKinds else SUCCESS)

    def _showOutcome(self, test: Any, kind: str) -> None:
        """Show the outcome of ``test``; this reporter shows nothing per test."""

    def done(self) -> None:
        """Print the errors, then the summary."""
        self._elapsed = time.monotonic() - self._startTime
        self._printErrors()
        self._writeln(_SEPARATOR)
        self._writeln(f"Ran {self.testsRun} tests in {self._elapsed:.3f}s")
        self._writeln()
        self._writeln(self._statusLine())

    def _statusLine(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts().items() if v)
        status = "PASSED" if self.wasSuccessful() else "FAILED"
        return f"{status} ({counts})" if counts else status

    def _printErrors(self) -> None:
        self._writeln()
        sections: list[tuple[str, list[tuple[str, str]]]] = [
            ("[SKIPPED]", [(str(reason), _testID(t)) for t, reason in self.skips]),
            (
                "[TODO]",
                [
                    (f"Reason: {todo.reason!r}\n{_formatFailure(f, self.tbformat)}", _testID(t))
                    for t, f, todo in self.expectedFailures
                ],
            ),
            ("[FAIL]", [(_formatFailure(f, self.tbformat), _testID(t)) for t, f in self.failures]),
            ("[ERROR]", [(_formatFailure(f, self.tbformat), _testID(t)) for t, f in self.errors]),
            (
                "[SUCCESS!?!]",
                [(f"Reason: {todo.reason!r}", _testID(t)) for t, todo in self.unexpectedSuccesses],
            ),
        ]
        for label, entries in sections:
            for text, ids in _grouped(entries):
                self._writeln(_DOUBLE_SEPARATOR)
                self._writeln(label)
                self._writeln(text.rstrip("\n"))
                self._writeln()
                for testID in ids:
                    self._writeln(testID)


def _grouped(entries: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Entries with the same text, together, in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for text, testID in entries:
        groups.setdefault(text, []).append(testID)
    return list(groups.items())


class TextReporter(Reporter):
    """One character per test: ``.`` passed, ``F``, ``E``, ``S``, ``T``, ``!``."""

    def _showOutcome(self, test: Any, kind: str) -> None:
        self._write(_LETTERS[kind])
        self._stream.flush()


class VerboseTextReporter(Reporter):
    """One line per test: its full name and outcome."""

    def startTest(self, test: Any) -> None:
        """Print the test's name."""
        super().startTest(test)
        self._write(f"{_testID(test)} ... ")

    def _showOutcome(self, test: Any, kind: str) -> None:
        self._writeln(_LABELS[kind])


class TimingTextReporter(VerboseTextReporter):
    """Like ``verbose``, with each test's duration."""

    def _showOutcome(self, test: Any, kind: str) -> None:
        elapsed = self._now() - self._testStarted
        self._writeln(f"{_LABELS[kind]} ({elapsed:.03f} secs)")


class MinimalReporter(Reporter):
    """
    Only a summary line: tests run, seconds taken, errors, failures, skips.
    """

    def _printErrors(self) -> None:
        pass

    def done(self) -> None:
        """Print the summary line."""
        elapsed = time.monotonic() - self._startTime
        self._writeln(
            f"{self.testsRun} {elapsed:.3f} {len(self.errors)} "
            f"{len(self.failures)} {len(self.skips)}"
        )


_COLOURS = {
    SUCCESS: "32",
    FAILURE: "31",
    ERROR: "31",
    UNEXPECTED_SUCCESS: "31",
    SKIP: "34",
    EXPECTED_FAILURE: "34",
}


class TreeReporter(Reporter):
    """
    Tests as a tree: module, then class, then each test and its outcome,
    coloured when writing to a terminal.
    """

    indent = "  "
    columns = _WIDTH

    def __init__(
        self,
        stream: TextIO | None = None,
        tbformat: str = "default",
        realtime: bool = False,
        publisher: Any = None,
    ) -> None:
        super().__init__(stream, tbformat, realtime, publisher)
        self._lastSegments: list[str] = []
        self._currentLine = ""
        isatty = getattr(self._stream, "isatty", None)
        self.colour = bool(isatty is not None and isatty())

    @staticmethod
    def _segments(testID: str) -> list[str]:
        parts = testID.split(".")[:-1]
        if len(parts) >= 2:
            return [".".join(parts[:-1]), parts[-1]]
        return parts

    def startTest(self, test: Any) -> None:
        """Print the module and class headings when they change, then the test's name."""
        super().startTest(test)
        testID = _testID(test)
        segments = self._segments(testID)
        common = 0
        for mine, theirs in zip(segments, self._lastSegments, strict=False):
            if mine != theirs:
                break
            common += 1
        for depth, segment in enumerate(segments[common:], start=common):
            self._writeln(f"{self.indent * depth}{segment}")
        self._lastSegments = segments
        name = testID.split(".")[-1] if segments else testID
        self._currentLine = f"{self.indent * len(segments)}{name} ... "
        self._write(self._currentLine)

    def _showOutcome(self, test: Any, kind: str) -> None:
        label = _LABELS[kind]
        spaces = " " * max(1, self.columns - len(self._currentLine) - len(label))
        if self.colour:
            label = f"\x1b[1;{_COLOURS[kind]}m{label}\x1b[0m"
        self._writeln(spaces + label)

    def _statusLine(self) -> str:
        line = super()._statusLine()
        if self.colour:
            status, _, rest = line.partition(" ")
            code = "32" if self.wasSuccessful() else "31"
            return f"\x1b[1;{code}m{status}\x1b[0m" + (f" {rest}" if rest else "")
        return line


class JUnitXMLReporter(Reporter):
    """
    A JUnit XML report, written when the run ends: a ``testcase`` per test,
    with ``failure``, ``error`` or ``skipped`` (todos are skipped with their
    reason, as pytest writes expected failures).
    """

    def _printErrors(self) -> None:
        pass

    def done(self) -> None:
        """Write the XML document."""
        elapsed = time.monotonic() - self._startTime
        byTest: dict[int, list[Outcome]] = {}
        order: list[Any] = []
        for o in self.outcomes:
            if id(o.test) not in byTest:
                order.append(o.test)
            byTest.setdefault(id(o.test), []).append(o)
        lines = ['<?xml version="1.0" encoding="utf-8"?>', "<testsuites>"]
        lines.append(
            f'<testsuite name="trial" tests="{len(order)}" failures="{len(self.failures)}" '
            f'errors="{len(self.errors)}" '
            f'skipped="{len(self.skips) + len(self.expectedFailures)}" time="{elapsed:.3f}">'
        )
        for test in order:
            testID = _testID(test)
            classname, _, name = testID.rpartition(".")
            outcomes = byTest[id(test)]
            duration = max(o.duration for o in outcomes)
            lines.append(
                f"<testcase classname={quoteattr(classname)} name={quoteattr(name)} "
                f'time="{duration:.3f}">'
            )
            for o in outcomes:
                if o.kind in (FAILURE, ERROR):
                    tag = "failure" if o.kind == FAILURE else "error"
                    message = o.failure.getErrorMessage()
                    lines.append(
                        f"<{tag} type={quoteattr(_typeName(o.failure))} "
                        f"message={quoteattr(message)}>"
                        f"{escape(_formatFailure(o.failure, self.tbformat))}</{tag}>"
                    )
                elif o.kind == SKIP:
                    lines.append(f"<skipped message={quoteattr(o.reason or '')}/>")
                elif o.kind == EXPECTED_FAILURE:
                    lines.append(
                        f'<skipped type="todo" message={quoteattr("todo: " + (o.reason or ""))}/>'
                    )
            lines.append("</testcase>")
        lines.append("</testsuite>")
        lines.append("</testsuites>")
        self._writeln("\n".join(lines))


class SubunitReporter(TestResult):
    """
    Reports in the subunit (version 1) protocol, for tools such as
    ``subunit2junitxml`` and testrepository.  Needs ``python-subunit``
    (``pip install fw-trial[subunit]``).

    Raises:
        ImportError: python-subunit is not installed.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        tbformat: str = "default",
        realtime: bool = False,
        publisher: Any = None,
    ) -> None:
        super().__init__()
        try:
            import subunit  # type: ignore[import-not-found, unused-ignore]
        except ImportError as e:
            raise ImportError(
                "the subunit reporter needs python-subunit: pip install python-subunit"
            ) from e
        out: Any = stream if stream is not None else sys.stdout
        binary = getattr(out, "buffer", out)
        self._subunit = subunit.TestProtocolClient(binary)

    @staticmethod
    def _excInfo(failure: Any) -> Any:
        failure = _asFailure(failure)
        if isinstance(failure, RemoteFailure):
            return (Exception, Exception(failure.traceback), None)
        return (failure.type, failure.value, failure.getTracebackObject())

    def startTest(self, test: Any) -> None:
        """``test`` is starting."""
        super().startTest(test)
        self._subunit.startTest(test)

    def stopTest(self, test: Any) -> None:
        """``test`` has finished."""
        super().stopTest(test)
        self._subunit.stopTest(test)

    def addSuccess(self, test: Any) -> None:
        """``test`` passed."""
        super().addSuccess(test)
        self._subunit.addSuccess(test)

    def addError(self, test: Any, error: Any) -> None:
        """``test`` erred."""
        super().addError(test, error)
        self._subunit.addError(test, self._excInfo(error))

    def addFailure(self, test: Any, error: Any) -> None:
        """``test`` failed."""
        super().addFailure(test, error)
        self._subunit.addFailure(test, self._excInfo(error))

    def addSkip(self, test: Any, reason: str) -> None:
        """``test`` was skipped."""
        super().addSkip(test, reason)
        self._subunit.addSkip(test, reason)

    def addExpectedFailure(self, test: Any, error: Any, todo: Todo | None = None) -> None:
        """``test`` failed, as expected."""
        super().addExpectedFailure(test, error, todo)
        self._subunit.addExpectedFailure(test, self._excInfo(error))

    def addUnexpectedSuccess(self, test: Any, todo: Todo | None = None) -> None:
        """``test`` passed, though expected to fail."""
        super().addUnexpectedSuccess(test, todo)
        self._subunit.addUnexpectedSuccess(test)


@implementer(IReporter, IPlugin)
@dataclass(frozen=True, slots=True)
class ReporterPlugin:
    """
    A reporter plugin: the value of an entry point in the
    ``fw.trial.reporters`` group.

    Args:
        name: a display name.
        module: the module defining the reporter class.
        description: a one-line description.
        longOpt: the ``--reporter`` name.
        shortOpt: unused (Twisted's plugins have it).
        klass: the reporter class's name.
    """

    name: str
    module: str
    description: str
    longOpt: str
    shortOpt: str | None
    klass: str

    def load(self) -> type[Any]:
        """Import and return the reporter class."""
        import importlib

        return getattr(importlib.import_module(self.module), self.klass)  # type: ignore[no-any-return]


_HERE = "fw.trial.reporter"
tree = ReporterPlugin(
    "Tree Reporter",
    _HERE,
    "Tests as a tree, coloured on a terminal (the default)",
    "tree",
    None,
    "TreeReporter",
)
verbose = ReporterPlugin(
    "Verbose Reporter",
    _HERE,
    "One line per test, with its full name",
    "verbose",
    None,
    "VerboseTextReporter",
)
text = ReporterPlugin(
    "Text Reporter", _HERE, "One character per test", "text", None, "TextReporter"
)
summary = ReporterPlugin(
    "Summary Reporter", _HERE, "Only a one-line summary", "summary", None, "MinimalReporter"
)
timing = ReporterPlugin(
    "Timing Reporter",
    _HERE,
    "Like verbose, with each test's duration",
    "timing",
    None,
    "TimingTextReporter",
)
subunit = ReporterPlugin(
    "Subunit Reporter",
    _HERE,
    "The subunit v1 protocol (needs python-subunit)",
    "subunit",
    None,
    "SubunitReporter",
)
junit = ReporterPlugin(
    "JUnit XML Reporter", _HERE, "A JUnit XML document", "junit", None, "JUnitXMLReporter"
)
