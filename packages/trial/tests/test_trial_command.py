"""
The ``trial`` command and the pytest plugin, in subprocesses: the sample
suites in ``selfsuite/`` give the same counts under trial (serial and
``-j 2``) and under pytest.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fw.trial.pytestplugin import requireModule

SELFSUITE = Path(__file__).parent / "selfsuite"
TIMEOUT = 60


_TEMP: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _tempRoot(tmp_path_factory: pytest.TempPathFactory) -> None:
    # trial's temporary directories go here, not into the source tree.
    _TEMP[:] = [tmp_path_factory.mktemp("trialruns")]


def trial(
    *args: str, cwd: Path = SELFSUITE, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    if "--temp-directory" not in args and _TEMP:
        runs = len(list(_TEMP[0].iterdir()))
        args = ("--temp-directory", str(_TEMP[0] / f"run{runs}"), *args)
    return subprocess.run(
        [sys.executable, "-m", "fw.trial", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        input=stdin,
    )


def pytestRun(*args: str, cwd: Path = SELFSUITE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pytest.ini", "-p", "no:hypothesispytest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def trialCounts(output: str) -> dict[str, int]:
    line = output.strip().splitlines()[-1]
    assert line.startswith(("PASSED", "FAILED")), output
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def pytestCounts(output: str) -> dict[str, int]:
    line = output.strip().splitlines()[-1]
    return {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", line)}


def verboseOutcomes(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\S+) \.\.\. (\[[A-Z!?]+\])$", output, re.M))


@pytest.fixture(scope="module")
def serialRun() -> subprocess.CompletedProcess[str]:
    return trial("--reporter=verbose", "outcomes", "calculus")


def test_trialCountsMatchPytest(serialRun: subprocess.CompletedProcess[str]) -> None:
    assert serialRun.returncode == 1
    counts = trialCounts(serialRun.stdout)
    assert counts == {
        "skips": 7,
        "expectedFailures": 2,
        "failures": 4,
        "errors": 10,
        "unexpectedSuccesses": 1,
        "successes": 18,
    }
    py = pytest_ = pytestRun("-q", "outcomes", "calculus")
    assert py.returncode == 1, pytest_.stdout
    assert pytestCounts(py.stdout) == {
        "failed": counts["failures"] + counts["errors"],
        "passed": counts["successes"],
        "skipped": counts["skips"],
        "xfailed": counts["expectedFailures"],
        "xpassed": counts["unexpectedSuccesses"],
    }


def test_parallelRunMatchesSerial(serialRun: subprocess.CompletedProcess[str]) -> None:
    temp = _TEMP[0] / "parallel"
    parallel = trial(
        "--reporter=verbose", "-j", "2", "--temp-directory", str(temp), "outcomes", "calculus"
    )
    assert parallel.returncode == 1
    assert trialCounts(parallel.stdout) == trialCounts(serialRun.stdout)
    serial = verboseOutcomes(serialRun.stdout)
    assert len(serial) == 42
    assert verboseOutcomes(parallel.stdout) == serial
    assert (temp / "0" / "test.log").exists()
    assert (temp / "1" / "err.log").exists()


def test_calculusTutorial() -> None:
    run = trial("calculus")
    assert run.returncode == 0, run.stdout
    assert "calculus.test.test_base_1\n  CalculationTestCase\n    test_add ..." in run.stdout
    assert run.stdout.rstrip().endswith("PASSED (successes=8)")
    py = pytestRun("-q", "calculus")
    assert py.returncode == 0
    assert pytestCounts(py.stdout) == {"passed": 8}


def test_optionsThatChangeTheRun() -> None:
    dry = trial("-n", "--reporter=verbose", "outcomes.test_outcomes.Failing")
    assert dry.returncode == 0
    assert dry.stdout.count("[OK]") == 3
    first = trial("-x", "--reporter=verbose", "outcomes.test_outcomes.Failing")
    assert first.returncode == 1
    assert "Ran 1 tests" in first.stdout
    shuffled = trial("-z", "3", "--reporter=verbose", "calculus")
    again = trial("-z", "3", "--reporter=verbose", "calculus")
    assert "Running tests shuffled with seed 3" in shuffled.stdout
    order = re.findall(r"^(\S+) \.\.\.", shuffled.stdout, re.M)
    assert order == re.findall(r"^(\S+) \.\.\.", again.stdout, re.M)
    assert order != sorted(order)
    top = trial("--order=toptobottom", "--reporter=verbose", "calculus")
    assert re.findall(r"\.(test_\w+) \.\.\.", top.stdout)[:2] == ["test_add", "test_subtract"]


def test_untilFailure(tmp_path: Path) -> None:
    (tmp_path / "test_flaky.py").write_text(
        textwrap.dedent(
            """
            import os
            from fw.trial import unittest

            class Flaky(unittest.TestCase):
                def test_third(self):
                    path = os.path.join(os.path.dirname(os.getcwd()), "count")
                    n = int(open(path).read()) if os.path.exists(path) else 0
                    open(path, "w").write(str(n + 1))
                    self.assertLess(n, 2)
            """
        )
    )
    run = trial("-u", "test_flaky.py", cwd=tmp_path)
    assert run.returncode == 1
    assert "Test Pass 3" in run.stdout
    assert "Test Pass 4" not in run.stdout


def test_processOptions(tmp_path: Path) -> None:
    (tmp_path / "test_env.py").write_text(
        textwrap.dedent(
            """
            import sys
            from fw.trial import unittest

            class Env(unittest.TestCase):
                def test_env(self):
                    from fw.internet import reactor
                    print("reactor:", type(reactor).__name__)
                    print("limit:", sys.getrecursionlimit())
                    try:
                        import json
                    except ImportError:
                        print("json missing")
            """
        )
    )
    run = trial(
        "-r",
        "asyncio",
        "--recursionlimit",
        "5000",
        "--without-module",
        "json",
        "--force-gc",
        "test_env.py",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reactor: AsyncioSelectorReactor" in run.stdout
    assert "limit: 5000" in run.stdout
    assert "json missing" in run.stdout


def test_usageErrorsAndHelp() -> None:
    assert trial().returncode == 2
    bad = trial("-r", "no-such-reactor", "calculus")
    assert bad.returncode == 2
    assert "no-such-reactor" in bad.stderr
    assert trial("--reporter", "nope", "calculus").returncode == 2
    assert trial("-j", "0", "calculus").returncode == 2
    assert trial("-j", "2", "-b", "calculus").returncode == 2
    listing = trial("--help-reporters")
    assert listing.returncode == 0
    for name in ("tree", "verbose", "text", "summary", "timing", "subunit", "junit"):
        assert f"    {name}" in listing.stdout


def test_debugRunsUnderPdb() -> None:
    run = trial("-b", "calculus.test.test_base_1.CalculationTestCase.test_add", stdin="continue\n")
    assert run.returncode == 0
    assert "(Pdb)" in run.stdout


def test_consoleScript() -> None:
    script = Path(sys.executable).parent / "trial"
    if not script.exists():
        pytest.skip("fw-trial's console script is not installed beside this interpreter")
    run = subprocess.run(
        [str(script), "--temp-directory", str(_TEMP[0] / "script"), "calculus"],
        cwd=SELFSUITE,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0
    assert "PASSED (successes=8)" in run.stdout


# -- the pytest plugin on plain test functions


PLUGIN_SAMPLE = """
import pytest
from fw.internet import defer, task
from fw.python import log


def reactor():
    from fw.internet import reactor
    return reactor


async def test_coroutine():
    value = await task.deferLater(reactor(), 0.001, lambda: 5)
    assert value == 5


def test_returnsDeferred():
    return task.deferLater(reactor(), 0, lambda: None)


async def test_dirty():
    reactor().callLater(100, lambda: None)


async def test_loggedError():
    log.err(ValueError("logged"))


async def test_timesOut():
    await defer.Deferred()

test_timesOut.timeout = 0.05


def test_syncUntouched():
    # Plain tests are not checked: this leftover timer is not an error here.
    reactor().callLater(100, lambda: None)


def test_cleanUpAfterSync():
    for call in reactor().getDelayedCalls():
        call.cancel()


async def test_reactorName():
    with open("reactor.txt", "w") as f:
        f.write(type(reactor()).__name__)
"""


@pytest.fixture
def pluginSample(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (tmp_path / "test_plain.py").write_text(PLUGIN_SAMPLE)
    return tmp_path


def test_pluginRunsAsyncFunctions(pluginSample: Path) -> None:
    run = pytestRun("-v", cwd=pluginSample)
    results = dict(re.findall(r"::(\w+) (PASSED|FAILED)", run.stdout))
    assert results == {
        "test_coroutine": "PASSED",
        "test_returnsDeferred": "PASSED",
        "test_dirty": "FAILED",
        "test_loggedError": "FAILED",
        "test_timesOut": "FAILED",
        "test_syncUntouched": "PASSED",
        "test_cleanUpAfterSync": "PASSED",
        "test_reactorName": "PASSED",
    }, run.stdout
    assert "DirtyReactorAggregateError" in run.stdout
    assert "TimeoutError" in run.stdout
    assert (pluginSample / "reactor.txt").read_text() in ("EPollReactor", "PollReactor")


def test_pluginReactorOption(pluginSample: Path) -> None:
    run = pytestRun("--fw-reactor", "asyncio", "-k", "reactorName", cwd=pluginSample)
    assert run.returncode == 0
    assert (pluginSample / "reactor.txt").read_text() == "AsyncioSelectorReactor"
    bad = pytestRun("--fw-reactor", "nope", cwd=pluginSample)
    assert bad.returncode == 4
    assert "nope" in bad.stderr


def test_pluginCanBeDisabled(pluginSample: Path) -> None:
    run = pytestRun("-p", "no:fw_trial", "-k", "coroutine", cwd=pluginSample)
    assert run.returncode != 0
    assert "async def functions are not natively supported" in run.stdout


RUN_REACTOR_SAMPLE = """
import pytest
from fw.internet import defer, task
from fw.internet.selectreactor import SelectReactor
from fw.internet.pollreactor import PollReactor
from fw.python import log


@pytest.fixture(params=[SelectReactor, PollReactor], ids=["select", "poll"])
def reactor(request):
    return request.param()


def test_result(reactor, runReactor):
    async def go():
        return await task.deferLater(reactor, 0.001, lambda: 7)

    assert runReactor(reactor, go) == 7
    assert not reactor.running


def test_shutdownTriggersRun(reactor, runReactor):
    ran = []
    reactor.addSystemEventTrigger("before", "shutdown", ran.append, "before")
    runReactor(reactor, lambda: defer.succeed(None))
    assert ran == ["before"]


def test_failureRaised(reactor, runReactor):
    def go():
        return defer.fail(KeyError("raised"))

    with pytest.raises(KeyError):
        runReactor(reactor, go)


def test_leftTimer(reactor, runReactor):
    def go():
        reactor.callLater(100, lambda: None)
        return defer.succeed(None)

    runReactor(reactor, go)


def test_timesOut(reactor, runReactor):
    runReactor(reactor, defer.Deferred, timeout=0.05)


def test_loggedErrorUnflushed(reactor, runReactor):
    runReactor(reactor, lambda: defer.succeed(log.err(ValueError("logged"))))


def test_loggedErrorFlushed(reactor, runReactor):
    runReactor(reactor, lambda: defer.succeed(log.err(ValueError("logged"))))
    assert len(runReactor.flushLoggedErrors(ValueError)) == 1
"""


def test_runReactorFixture(tmp_path: Path) -> None:
    """``runReactor`` runs a reactor the test chose, with trial's checks."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (tmp_path / "test_run.py").write_text(RUN_REACTOR_SAMPLE)
    run = pytestRun("-v", "-p", "no:xdist", cwd=tmp_path)
    outcomes = dict(re.findall(r"::(\w+\[\w+\]) (PASSED|FAILED|ERROR)", run.stdout))
    expected = {
        "test_result": "PASSED",
        "test_shutdownTriggersRun": "PASSED",
        "test_failureRaised": "PASSED",
        "test_leftTimer": "FAILED",
        "test_timesOut": "FAILED",
        "test_loggedErrorUnflushed": "ERROR",
        "test_loggedErrorFlushed": "PASSED",
    }
    assert outcomes == {
        f"{name}[{backend}]": outcome
        for name, outcome in expected.items()
        for backend in ("select", "poll")
    }, run.stdout
    assert "the test left reactor state behind: pending delayed calls" in run.stdout
    assert "ReactorTimeout: reactor still running after 0.05s" in run.stdout
    assert "error(s) logged while the reactor ran and not flushed" in run.stdout


def test_subunitStreamReadBySubunit() -> None:
    """``--reporter=subunit`` writes a stream that python-subunit's own parser reads back."""
    requireModule("subunit")
    import io
    import unittest

    from subunit import ProtocolTestCase

    run = subprocess.run(
        [
            *(sys.executable, "-m", "fw.trial", "--temp-directory", str(_TEMP[0] / "subunit")),
            *("--reporter=subunit", "outcomes", "calculus"),
        ],
        cwd=SELFSUITE,
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 1, run.stderr
    result = unittest.TestResult()
    ProtocolTestCase(io.BytesIO(run.stdout)).run(result)
    assert result.testsRun == 42
    assert len(result.failures) + len(result.errors) == 14
    assert len(result.skipped) == 7
    assert len(result.expectedFailures) == 2
    assert len(result.unexpectedSuccesses) == 1


def test_coverageReport(tmp_path: Path) -> None:
    """``--coverage`` measures the run with coverage.py and writes its report."""
    requireModule("coverage")
    # A copy of the suite: coverage.py leaves out code inside the running
    # virtualenv, which is where nox unpacks the sdist whose tests these are.
    shutil.copytree(SELFSUITE / "calculus", tmp_path / "calculus")
    temp = _TEMP[0] / "coverage"
    run = trial("--coverage", "--temp-directory", str(temp), "calculus", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    report = (temp / "coverage.txt").read_text()
    assert f"Coverage report written to {temp / 'coverage.txt'}" in run.stdout
    # The code under test is measured, line by line: base_1 is fully covered.
    (line,) = [
        row
        for row in report.splitlines()
        if row.split()[:1] and Path(row.split()[0]).name == "base_1.py"
    ]
    assert line.split()[-1] == "100%"
    assert report.splitlines()[-1].startswith("TOTAL")


DYING_SUITE = """
import os
from fw.trial import unittest


class Tests(unittest.SynchronousTestCase):
{tests}

    def test_15_dies(self):
        os._exit(3)
"""


def test_workerDeathCostsOnlyItsTest(tmp_path: Path) -> None:
    """
    A worker that dies fails the test it was running (``WorkerDied``); the
    tests handed to it ahead go to the other worker, and every other test
    runs and passes.
    """
    tests = "\n".join(f"    def test_{i:02d}(self):\n        pass\n" for i in range(30))
    (tmp_path / "test_dying.py").write_text(DYING_SUITE.format(tests=tests))
    run = trial("-j", "2", "--reporter=verbose", "test_dying", cwd=tmp_path)
    assert run.returncode == 1, run.stdout
    assert trialCounts(run.stdout) == {"errors": 1, "successes": 30}, run.stdout
    outcomes = verboseOutcomes(run.stdout)
    assert outcomes["test_dying.Tests.test_15_dies"] == "[ERROR]"
    assert "exited (status 3) while running test_dying.Tests.test_15_dies" in run.stdout
