"""The loader, the reporters and the runner, in this process."""

from __future__ import annotations

import io
import os
import sys
import textwrap
import unittest as pyunit
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from fw.plugin import getPlugins
from fw.trial import reporter, runner, unittest
from fw.trial.itrial import IReporter

SELFSUITE = Path(__file__).parent / "selfsuite"


class _Sample(unittest.SynchronousTestCase):
    __test__ = False

    def test_b(self) -> None:
        pass

    def test_a(self) -> None:
        self.fail("a fails")

    def test_c(self) -> None:
        raise unittest.SkipTest("c skipped")


def ids(suite: Any) -> list[str]:
    return [t.id() for t in runner.iterateTests(suite)]


@pytest.fixture
def sampleModule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "fwtrialsample"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    body = textwrap.dedent(
        """
        from fw.trial import unittest

        class Zed(unittest.SynchronousTestCase):
            def test_second(self):
                pass

            def test_first(self):
                pass

        class Alpha(unittest.SynchronousTestCase):
            def test_only(self):
                pass
        """
    )
    (package / "test_one.py").write_text(body)
    (package / "sub" / "test_two.py").write_text(body)
    (package / "helper.py").write_text("raise RuntimeError('not a test module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in list(sys.modules):
        if name.startswith("fwtrialsample"):
            del sys.modules[name]


def test_loadByNames(sampleModule: Path) -> None:
    loader = runner.TestLoader()
    assert ids(loader.loadByName("fwtrialsample.test_one")) == [
        "fwtrialsample.test_one.Alpha.test_only",
        "fwtrialsample.test_one.Zed.test_first",
        "fwtrialsample.test_one.Zed.test_second",
    ]
    assert ids(loader.loadByName("fwtrialsample.test_one.Zed.test_first")) == [
        "fwtrialsample.test_one.Zed.test_first"
    ]
    assert len(ids(loader.loadByName("fwtrialsample.test_one.Zed"))) == 2
    assert len(ids(loader.loadByName("fwtrialsample", recurse=True))) == 6
    assert len(ids(loader.loadByName("fwtrialsample", recurse=False))) == 3
    assert len(ids(loader.loadByName(str(sampleModule / "sub" / "test_two.py")))) == 3
    assert len(ids(loader.loadByName(str(sampleModule)))) == 6


def test_toptobottomOrder(sampleModule: Path) -> None:
    loader = runner.TestLoader(order="toptobottom")
    assert ids(loader.loadByName("fwtrialsample.test_one")) == [
        "fwtrialsample.test_one.Zed.test_second",
        "fwtrialsample.test_one.Zed.test_first",
        "fwtrialsample.test_one.Alpha.test_only",
    ]


def test_badNamesBecomeErrors() -> None:
    loader = runner.TestLoader()
    for name in ("no_such_module_xyz", "fw.trial.unittest.NoSuchClass", "/no/such/file.py"):
        test = loader.loadByName(name)
        assert isinstance(test, runner.ErrorHolder), name
        result = reporter.TestResult()
        test.run(result)
        assert len(result.errors) == 1


def test_shuffledIsDeterministic(sampleModule: Path) -> None:
    loader = runner.TestLoader()
    first = ids(runner.shuffled(loader.loadByName("fwtrialsample", True), 7))
    second = ids(runner.shuffled(loader.loadByName("fwtrialsample", True), 7))
    assert first == second
    assert sorted(first) == sorted(ids(loader.loadByName("fwtrialsample", True)))


def runWith(reporterClass: Any, **kw: Any) -> str:
    stream = io.StringIO()
    result = reporterClass(stream, **kw)
    pyunit.TestSuite([_Sample("test_a"), _Sample("test_b"), _Sample("test_c")]).run(result)
    result.done()
    return stream.getvalue()


def test_treeReporter() -> None:
    out = runWith(reporter.TreeReporter)
    lines = out.splitlines()
    assert lines[0] == _Sample.__module__
    assert lines[1] == "  _Sample"
    assert lines[2].startswith("    test_a ... ")
    assert lines[2].endswith("[FAIL]")
    assert len(lines[2]) == 79
    assert lines[3].endswith("[OK]")
    assert lines[4].endswith("[SKIPPED]")
    assert "[FAIL]\nTraceback (most recent call last):" in out
    assert "a fails" in out
    assert "Ran 3 tests in " in out
    assert out.rstrip().endswith("FAILED (skips=1, failures=1, successes=1)")
    assert "\x1b[" not in out


def test_treeReporterColours() -> None:
    class TTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = TTY()
    result = reporter.TreeReporter(stream)
    _Sample("test_b").run(result)
    result.done()
    assert "\x1b[1;32m[OK]\x1b[0m" in stream.getvalue()


def test_verboseTextSummaryTiming() -> None:
    verbose = runWith(reporter.VerboseTextReporter)
    assert f"{_Sample.__module__}._Sample.test_a ... [FAIL]" in verbose
    assert f"{_Sample.__module__}._Sample.test_c ... [SKIPPED]" in verbose
    assert runWith(reporter.TextReporter).startswith("F.S")
    summary = runWith(reporter.MinimalReporter).split()
    assert summary[0] == "3"
    assert summary[2:] == ["0", "1", "1"]
    assert "[OK] (0.0" in runWith(reporter.TimingTextReporter)


def test_junitReporter() -> None:
    document = ElementTree.fromstring(runWith(reporter.JUnitXMLReporter))
    suite = document.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "3"
    assert suite.get("failures") == "1"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["test_a", "test_b", "test_c"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert "a fails" in (failure.get("message") or "")
    assert cases[2].find("skipped") is not None


def test_subunitReporter() -> None:
    try:
        import subunit  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="python-subunit"):
            reporter.SubunitReporter(io.StringIO())
        return
    stream = io.BytesIO()
    wrapper = io.TextIOWrapper(stream)
    result = reporter.SubunitReporter(wrapper)
    pyunit.TestSuite([_Sample("test_a"), _Sample("test_b")]).run(result)
    assert b"test_a" in stream.getvalue()


def test_reporterPlugins() -> None:
    names = {p.longOpt: p for p in getPlugins(IReporter)}
    assert {"tree", "verbose", "text", "summary", "timing", "subunit", "junit"} <= set(names)
    assert names["tree"].load() is reporter.TreeReporter


def test_trialRunnerTempDirectoryAndExitFirst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "_trial_temp").mkdir()
    (tmp_path / "_trial_temp" / "stale").write_text("old")
    stream = io.StringIO()
    trialRunner = runner.TrialRunner(reporter.VerboseTextReporter, stream=stream, exitFirst=True)
    result = trialRunner.run(pyunit.TestSuite([_Sample("test_a"), _Sample("test_b")]))
    assert result.testsRun == 1
    assert os.getcwd() == str(tmp_path)
    assert not (tmp_path / "_trial_temp" / "stale").exists()
    assert (tmp_path / "_trial_temp" / "test.log").exists()


def test_dryRun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    stream = io.StringIO()
    trialRunner = runner.TrialRunner(
        reporter.VerboseTextReporter, mode=runner.TrialRunner.DRY_RUN, stream=stream
    )
    result = trialRunner.run(pyunit.TestSuite([_Sample("test_a")]))
    assert result.wasSuccessful()
    assert "test_a ... [OK]" in stream.getvalue()
