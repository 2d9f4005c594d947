"""
Trial's interfaces: :class:`IReporter`, the reporter plugins found in the
``fw.trial.reporters`` entry-point group, and :class:`ITestResultReporter`,
what a reporter object does while tests run.
"""

from typing import Any

from zope.interface import Attribute, Interface

from fw.plugin import declarePluginGroup

__all__ = ["IReporter", "ITestCase", "ITestResultReporter"]


@declarePluginGroup("fw.trial.reporters")
class IReporter(Interface):
    """
    A reporter plugin: the ``trial --reporter=NAME`` choices.

    A distribution adds one with an entry point in the ``fw.trial.reporters``
    group naming an object with these attributes (see
    :class:`fw.trial.reporter.ReporterPlugin`).
    """

    description: str = Attribute("A one-line description, for ``--help-reporters``.")
    longOpt: str = Attribute("The name given to ``--reporter``.")
    shortOpt: str | None = Attribute("An unused short option, kept from Twisted.")
    module: str = Attribute("The module that defines the reporter class.")
    klass: str = Attribute("The reporter class's name in that module.")


class ITestResultReporter(Interface):
    """
    What a reporter object does while tests run: it hears of each test's
    start, outcome and end.  Its constructor takes ``stream``,
    ``tbformat``, ``realtime`` and ``publisher`` arguments.
    """

    shouldStop: bool = Attribute("True when the run should stop after this test.")
    testsRun: int = Attribute("How many tests have run.")

    def startTest(test: Any) -> None:
        """``test`` is starting."""

    def stopTest(test: Any) -> None:
        """``test`` has finished."""

    def addSuccess(test: Any) -> None:
        """``test`` passed."""

    def addError(test: Any, error: Any) -> None:
        """``test`` erred with ``error`` (a Failure or an ``exc_info`` tuple)."""

    def addFailure(test: Any, failure: Any) -> None:
        """``test`` failed with ``failure`` (a Failure or an ``exc_info`` tuple)."""

    def addSkip(test: Any, reason: str) -> None:
        """``test`` was skipped, for ``reason``."""

    def addExpectedFailure(test: Any, failure: Any, todo: Any = None) -> None:
        """``test`` failed as its todo expected."""

    def addUnexpectedSuccess(test: Any, todo: Any = None) -> None:
        """``test`` passed although its todo expected it to fail."""

    def wasSuccessful() -> bool:
        """Whether no test failed or erred."""

    def done() -> None:
        """Every test has run: print the summary."""


class ITestCase(Interface):
    """A test: runs itself, reporting to a result."""

    def id() -> str:
        """The test's dotted name."""

    def run(result: Any) -> None:
        """Run the test, reporting to ``result``."""
