"""fw.internet.utils (process output as Deferreds, suppressing warnings) and fw.internet.fdesc."""

from __future__ import annotations

import os
import signal
import sys
import warnings
from typing import Any

import pytest

from fw.internet import error, fdesc, utils
from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST
from fw.internet.defer import Deferred, gatherResults, succeed

PYTHON = sys.executable


def settle(d: Deferred[Any]) -> Deferred[Any]:
    """Turn a failure into a one-tuple result, so runReactor hands it back."""
    return d.addCallbacks(lambda r: ("ok", r), lambda f: ("failed", f))


# -- getProcessOutput ---------------------------------------------------------------


def test_getProcessOutput(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        return utils.getProcessOutput("/bin/sh", ["-c", "printf 'a b'; exit 3"], reactor=reactor)

    assert runReactor(reactor, go) == b"a b"


def test_getProcessOutputEnvironmentAndPath(reactor: Any, runReactor: Any, tmp_path: Any) -> None:
    def go() -> Any:
        default = utils.getProcessOutput("env", reactor=reactor)
        given = utils.getProcessOutput("env", env={"ONLY": "this"}, reactor=reactor)
        where = utils.getProcessOutput("pwd", path=str(tmp_path), reactor=reactor)
        return gatherResults([default, given, where])

    default, given, where = runReactor(reactor, go)
    assert default == b""
    assert given == b"ONLY=this\n"
    assert where.strip() == os.fsencode(os.path.realpath(tmp_path))


def test_getProcessOutputErrorToo(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        return utils.getProcessOutput(
            "/bin/sh", ["-c", "printf out; printf err >&2"], reactor=reactor, errortoo=True
        )

    assert sorted(runReactor(reactor, go)) == sorted(b"outerr")


def test_getProcessOutputStderrFails(reactor: Any, runReactor: Any) -> None:
    """Without errortoo, standard error fails the result; processEnded says when it ended."""
    ended: list[Any] = []

    def go() -> Any:
        d = utils.getProcessOutput("/bin/sh", ["-c", "printf err >&2; exit 4"], reactor=reactor)

        def failed(f: Any) -> Any:
            f.trap(IOError)
            assert "err" in str(f.value)
            # That Deferred fails with the exit's reason.
            return f.value.processEnded.addErrback(ended.append)

        return d.addCallbacks(lambda r: pytest.fail(f"succeeded with {r!r}"), failed)

    runReactor(reactor, go)
    assert len(ended) == 1
    ended[0].trap(error.ProcessTerminated)
    # The transport's pipes were closed at the first byte of stderr: either the
    # shell exits with 4, or a write kills it with SIGPIPE.
    value = ended[0].value
    assert value.exitCode == 4 or value.signal == signal.SIGPIPE


def test_getProcessOutputMissingProgram(reactor: Any, runReactor: Any) -> None:
    """A program that cannot start fails the Deferred (Twisted raises from the call)."""

    def go() -> Any:
        return settle(utils.getProcessOutput("/nonexistent/program", reactor=reactor))

    status, f = runReactor(reactor, go)
    assert status == "failed"
    f.trap(FileNotFoundError)


# -- getProcessValue ----------------------------------------------------------------


def test_getProcessValue(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        return gatherResults(
            [
                utils.getProcessValue("true", reactor=reactor),
                utils.getProcessValue("false", reactor=reactor),
                utils.getProcessValue("/bin/sh", ["-c", "exit 9"], reactor=reactor),
                utils.getProcessValue("/bin/sh", ["-c", "kill -9 $$"], reactor=reactor),
            ]
        )

    assert runReactor(reactor, go) == [0, 1, 9, None]


def test_getProcessValueMissingProgram(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        return settle(utils.getProcessValue("no-such-program-anywhere", reactor=reactor))

    status, f = runReactor(reactor, go)
    assert status == "failed"
    f.trap(FileNotFoundError)


# -- getProcessOutputAndValue -------------------------------------------------------


def test_getProcessOutputAndValue(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        return utils.getProcessOutputAndValue(
            "/bin/sh", ["-c", "printf out; printf err >&2; exit 2"], reactor=reactor
        )

    assert runReactor(reactor, go) == (b"out", b"err", 2)


def test_getProcessOutputAndValueStdin(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        return utils.getProcessOutputAndValue("cat", reactor=reactor, stdinBytes=b"fed in")

    assert runReactor(reactor, go) == (b"fed in", b"", 0)


def test_getProcessOutputAndValueSignal(reactor: Any, runReactor: Any) -> None:
    """Killed by a signal: fails with (out, err, signal), unpackable like Twisted's tuple."""

    def go() -> Any:
        return settle(
            utils.getProcessOutputAndValue(
                "/bin/sh", ["-c", "printf o; printf e >&2; kill -TERM $$"], reactor=reactor
            )
        )

    status, f = runReactor(reactor, go)
    assert status == "failed"
    f.trap(utils.ProcessSignalled)
    out, err, signum = f.value
    assert (out, err, signum) == (b"o", b"e", signal.SIGTERM)
    assert f.value[2] == signal.SIGTERM
    assert len(f.value) == 3
    assert f.value.signal == signal.SIGTERM


def test_utilsUsePython(reactor: Any, runReactor: Any) -> None:
    """Arguments and environment reach the program (env=None: ours)."""

    def go() -> Any:
        return utils.getProcessOutput(
            PYTHON,
            ["-c", "import sys; print(sys.argv[1:])", "x", "y z"],
            env=None,
            reactor=reactor,
        )

    assert runReactor(reactor, go) == b"['x', 'y z']\n"


# -- runWithWarningsSuppressed / suppressWarnings -------------------------------------


IGNORE_DEPRECATION = (("ignore",), {"category": DeprecationWarning})


def warn(message: str = "old") -> str:
    warnings.warn(message, DeprecationWarning, stacklevel=2)
    return "result"


def test_runWithWarningsSuppressed() -> None:
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], warn, "hidden")
        assert result == "result"
        assert caught == []
        warn("shown")
    assert [str(w.message) for w in caught] == ["shown"]
    assert warnings.filters == before


def test_runWithWarningsSuppressedRestoresOnError() -> None:
    before = list(warnings.filters)

    def boom() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], boom)
    assert warnings.filters == before


def test_runWithWarningsSuppressedUntilDeferredFires() -> None:
    d: Deferred[str] = Deferred()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        result = utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], lambda: d)
        assert result is d
        warn("while waiting")
        assert caught == []
        d.callback("done")
        assert warnings.filters == before
        warn("after")
    assert [str(w.message) for w in caught] == ["after"]
    assert d.result == "done"


def test_runWithWarningsSuppressedCoroutine() -> None:
    gate: Deferred[None] = Deferred()

    async def work() -> str:
        await gate
        return warn("inside the coroutine")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        result = utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], work)
        assert isinstance(result, Deferred)
        gate.callback(None)
        assert warnings.filters == before
    assert caught == []
    assert result.result == "result"


def test_suppressWarnings() -> None:
    wrapped = utils.suppressWarnings(warn, IGNORE_DEPRECATION)
    assert wrapped.__name__ == "warn"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert wrapped("hidden") == "result"
        warn("shown")
    assert [str(w.message) for w in caught] == ["shown"]


def test_suppressedWarningNotCachedAsIgnored() -> None:
    """A warning ignored while suppressed is shown again afterwards, from the same line."""

    def fromOneLine() -> None:
        warnings.warn("same place", UserWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        utils.runWithWarningsSuppressed([(("ignore",), {"category": UserWarning})], fromOneLine)
        fromOneLine()
    assert [str(w.message) for w in caught] == ["same place"]


def test_displacedFilterIsRestored() -> None:
    """filterwarnings moves an identical filter to the front; it is put back."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("error", category=RuntimeWarning)
        before = list(warnings.filters)
        utils.runWithWarningsSuppressed([(("ignore",), {"category": UserWarning})], dict)
        assert warnings.filters == before


def test_runWithWarningsSuppressedSucceededDeferred() -> None:
    result = utils.runWithWarningsSuppressed([IGNORE_DEPRECATION], succeed, 5)
    assert result.result == 5


# -- the public surface ----------------------------------------------------------


@pytest.mark.parametrize("module", ["process", "stdio", "utils", "fdesc"])
def test_publicNames(module: str) -> None:
    """Every exported name exists and is documented."""
    imported = __import__(f"fw.internet.{module}", fromlist=["__all__"])
    assert imported.__doc__
    for name in imported.__all__:
        value = getattr(imported, name)
        if callable(value):
            assert value.__doc__, f"fw.internet.{module}.{name} has no docstring"


# -- fdesc ---------------------------------------------------------------------------


def test_setBlockingAndNonBlocking() -> None:
    r, w = os.pipe()
    try:
        fdesc.setNonBlocking(r)
        assert not os.get_blocking(r)
        fdesc.setNonBlocking(r)
        assert not os.get_blocking(r)
        fdesc.setBlocking(r)
        assert os.get_blocking(r)
        assert os.get_blocking(w)
    finally:
        os.close(r)
        os.close(w)


def test_readFromFD() -> None:
    r, w = os.pipe()
    got: list[bytes] = []
    try:
        fdesc.setNonBlocking(r)
        assert fdesc.readFromFD(r, got.append) is None
        assert got == []
        os.write(w, b"data")
        assert fdesc.readFromFD(r, got.append) is None
        assert got == [b"data"]
        os.close(w)
        w = -1
        assert fdesc.readFromFD(r, got.append) is CONNECTION_DONE
    finally:
        os.close(r)
        if w != -1:
            os.close(w)
    # A closed descriptor.
    assert fdesc.readFromFD(r, got.append) is CONNECTION_LOST


def test_writeToFD() -> None:
    r, w = os.pipe()
    try:
        fdesc.setNonBlocking(w)
        assert fdesc.writeToFD(w, b"abc") == 3
        assert os.read(r, 3) == b"abc"
        big = b"x" * (1024 * 1024)
        written = fdesc.writeToFD(w, big)
        assert isinstance(written, int)
        assert 0 < written < len(big)
        assert fdesc.writeToFD(w, big) == 0
        os.close(r)
        r = -1
        assert fdesc.writeToFD(w, b"more") is CONNECTION_LOST
    finally:
        os.close(w)
        if r != -1:
            os.close(r)


def test_closeOnExecHelpers() -> None:
    r, w = os.pipe()
    try:
        fdesc._unsetCloseOnExec(r)
        assert os.get_inheritable(r)
        fdesc._setCloseOnExec(r)
        assert not os.get_inheritable(r)
    finally:
        os.close(r)
        os.close(w)
