"""
The ``trial`` command: ``trial [options] NAME...`` runs the tests named by
dotted names (``package``, ``package.module``, ``module.Class.test``) or
by paths, and exits with status 0 only when every test passed.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import Any, ClassVar, NoReturn

from fw.python import usage

__all__ = ["Options", "main", "run"]


def _reporterEntries() -> list[Any]:
    from fw.plugin import getPlugins
    from fw.trial.itrial import IReporter

    return sorted(getPlugins(IReporter), key=lambda p: p.longOpt)


class Options(usage.Options):
    """``trial [options] [[file|package|module|TestCase|testmethod]...]``

    Runs the tests named, by dotted name or by path; a package runs its
    test_* modules, recursively.
    """

    synopsis = "trial [options] [[file|package|module|TestCase|testmethod]...]"

    optFlags: ClassVar[list[list[Any]]] = [
        ["help-reporters", None, "List the reporters (--reporter choices) and exit."],
        ["rterrors", "e", "Print errors as soon as they happen, as well as at the end."],
        ["debug", "b", "Run the tests under the Python debugger (pdb)."],
        ["no-recurse", "N", "Do not look for test modules in sub-packages."],
        ["dry-run", "n", "List the tests that would run, without running them."],
        ["force-gc", None, "Collect garbage before and after each test."],
        ["until-failure", "u", "Repeat the run until a test fails."],
        ["exitfirst", "x", "Stop after the first failing or erring test."],
        [
            "coverage",
            None,
            "Measure coverage with coverage.py; data and report in the temp directory.",
        ],
    ]

    optParameters: ClassVar[list[list[Any]]] = [
        ["reporter", None, "tree", "The reporter (see --help-reporters)."],
        ["tbformat", None, "default", "Traceback format: default, brief or verbose."],
        [
            "random",
            "z",
            None,
            "Run the tests in a random order, shuffled with this seed (an integer).",
        ],
        ["order", "o", None, "Test order: alphabetical (default) or toptobottom."],
        ["temp-directory", None, "_trial_temp", "The directory tests run in (emptied first)."],
        ["logfile", "l", "test.log", "The log file, in the temp directory."],
        ["recursionlimit", None, None, "Set Python's recursion limit."],
        ["reactor", "r", None, "The reactor to install (epoll, poll, select, asyncio, ...)."],
        ["jobs", "j", None, "Run the tests in N worker processes (N or 'auto')."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["tests"] = []
        self["without-module"] = []

    def opt_without_module(self, names: str) -> None:
        """Pretend the modules named (comma-separated) are not installed."""
        for name in names.split(","):
            name = name.strip()
            if name:
                self["without-module"].append(name)

    def parseArgs(self, *tests: str) -> None:
        self["tests"] = list(tests)

    def postOptions(self) -> None:
        if self["tbformat"] not in ("default", "brief", "verbose"):
            raise usage.UsageError(
                f"--tbformat must be default, brief or verbose, not {self['tbformat']!r}"
            )
        if self["order"] is not None and self["order"] not in ("alphabetical", "toptobottom"):
            raise usage.UsageError(
                f"--order must be alphabetical or toptobottom, not {self['order']!r}"
            )
        if self["random"] is not None:
            try:
                self["random"] = int(self["random"])
            except ValueError:
                raise usage.UsageError("--random needs an integer seed") from None
            if self["order"] is not None:
                raise usage.UsageError("--random and --order cannot be used together")
        if self["recursionlimit"] is not None:
            try:
                self["recursionlimit"] = int(self["recursionlimit"])
            except ValueError:
                raise usage.UsageError("--recursionlimit needs an integer") from None
        jobs = self["jobs"]
        if jobs is not None:
            if jobs == "auto":
                self["jobs"] = os.cpu_count() or 1
            else:
                try:
                    self["jobs"] = int(jobs)
                except ValueError:
                    raise usage.UsageError("--jobs needs a number or 'auto'") from None
                if self["jobs"] < 1:
                    raise usage.UsageError("--jobs needs a positive number")
            for flag in ("debug", "coverage"):
                if self[flag]:
                    raise usage.UsageError(f"--{flag} cannot be used with --jobs")


def _reporterClass(name: str) -> Any:
    from fw.plugin import PluginError, getPlugin
    from fw.trial.itrial import IReporter

    try:
        plugin = getPlugin(IReporter, name)
    except PluginError as e:
        raise usage.UsageError(f"unknown reporter {name!r}: {e}") from None
    return plugin.load()


def _applyProcessOptions(config: Options) -> None:
    """Settings that change the whole process, applied before tests are imported."""
    for name in config["without-module"]:
        sys.modules[name] = None  # type: ignore[assignment]
    if config["recursionlimit"] is not None:
        sys.setrecursionlimit(config["recursionlimit"])
    if config["reactor"] is not None:
        from fw.application.reactors import NoSuchReactor, installReactor

        try:
            installReactor(config["reactor"])
        except NoSuchReactor as e:
            raise usage.UsageError(str(e)) from None
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())


def _loadSuite(config: Options) -> Any:
    from fw.trial.runner import TestLoader, shuffled

    loader = TestLoader(order=config["order"] or "alphabetical")
    suite = loader.loadByNames(config["tests"], recurse=not config["no-recurse"])
    if config["random"] is not None:
        suite = shuffled(suite, config["random"])
    return suite


def _makeRunner(config: Options, stream: Any) -> Any:
    from fw.trial.runner import TrialRunner

    mode = None
    if config["dry-run"]:
        mode = TrialRunner.DRY_RUN
    elif config["debug"]:
        mode = TrialRunner.DEBUG
    return TrialRunner(
        _reporterClass(config["reporter"]),
        mode=mode,
        logfile=config["logfile"],
        stream=stream,
        tracebackFormat=config["tbformat"],
        realTimeErrors=config["rterrors"],
        workingDirectory=config["temp-directory"],
        forceGarbageCollection=config["force-gc"],
        exitFirst=config["exitfirst"],
    )


def _startCoverage() -> Any:
    try:
        import coverage  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise usage.UsageError("--coverage needs coverage.py: pip install coverage") from None
    cov = coverage.Coverage(data_file=None)
    cov.start()
    return cov


def _finishCoverage(cov: Any, directory: str, stream: Any) -> None:
    cov.stop()
    os.makedirs(directory, exist_ok=True)
    reportPath = os.path.join(directory, "coverage.txt")
    with open(reportPath, "w", encoding="utf-8") as report:
        try:
            cov.report(file=report)
        except Exception as e:  # noqa: BLE001 - "no data" is a report too
            report.write(f"no coverage report: {e}\n")
    stream.write(f"Coverage report written to {reportPath}\n")


def main(argv: Sequence[str] | None = None, stream: Any = None) -> int:
    """
    Run ``trial`` with the arguments ``argv`` (``sys.argv[1:]`` by default);
    return the exit status.
    """
    stream = stream if stream is not None else sys.stdout
    config = Options()
    try:
        config.parseOptions(list(argv) if argv is not None else None)
        if config["help-reporters"]:
            stream.write("Trial's reporters (--reporter=NAME):\n")
            for plugin in _reporterEntries():
                stream.write(f"    {plugin.longOpt:<12}{plugin.description}\n")
            return 0
        if not config["tests"]:
            raise usage.UsageError(
                "name the tests to run (a package, module, class, method or path)"
            )
        _applyProcessOptions(config)
        cov = _startCoverage() if config["coverage"] else None
        runner = _makeRunner(config, stream)
    except usage.UsageError as e:
        sys.stderr.write(f"{config.getUsage()}\ntrial: {e}\n")
        return 2
    if config["random"] is not None:
        stream.write(f"Running tests shuffled with seed {config['random']}\n\n")
    if config["jobs"] is not None and not config["dry-run"]:
        from fw.trial._dist import DistTrialRunner

        distRunner = DistTrialRunner(runner, config["jobs"], _workerArguments(config))
        if config["until-failure"]:
            result = distRunner.runUntilFailure(lambda: _loadSuite(config))
        else:
            result = distRunner.run(_loadSuite(config))
    elif config["until-failure"]:
        result = runner.runUntilFailure(lambda: _loadSuite(config))
    else:
        result = runner.run(_loadSuite(config))
    if cov is not None:
        _finishCoverage(cov, os.path.abspath(config["temp-directory"]), stream)
    if config["force-gc"]:
        gc.collect()
    return 0 if result.wasSuccessful() else 1


def _workerArguments(config: Options) -> list[str]:
    """The options a ``-j`` worker needs to load and run the tests as this process does."""
    args: list[str] = []
    if config["reactor"] is not None:
        args += ["--reactor", config["reactor"]]
    if config["recursionlimit"] is not None:
        args += ["--recursionlimit", str(config["recursionlimit"])]
    if config["without-module"]:
        args += ["--without-module", ",".join(config["without-module"])]
    if config["force-gc"]:
        args.append("--force-gc")
    if config["order"] is not None:
        args += ["--order", config["order"]]
    if config["no-recurse"]:
        args.append("--no-recurse")
    args += ["--tbformat", config["tbformat"]]
    return [*args, "--", *config["tests"]]


def run() -> NoReturn:
    """The ``trial`` console script."""
    from fw.logger import globalLogBeginner

    # Log only to the run's test.log (added per run), not to standard error.
    globalLogBeginner.beginLoggingTo([], redirectStandardIO=False)
    sys.exit(main())
