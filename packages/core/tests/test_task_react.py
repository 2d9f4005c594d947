"""fw.internet.task.react, run in child processes: exit statuses, SystemExit, printed failures."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    from fw.internet import task
    from fw.internet.defer import Deferred

    mode, backend = sys.argv[1], sys.argv[2]

    def makeReactor():
        if backend == "global":
            return None
        if backend == "select":
            from fw.internet.selectreactor import SelectReactor
            return SelectReactor()
        from fw.internet.asyncioreactor import AsyncioSelectorReactor
        return AsyncioSelectorReactor()

    async def succeeds(reactor, *args):
        print("main", args, flush=True)

    def deferredLater(reactor):
        d = Deferred()
        reactor.callLater(0.01, d.callback, "done")
        d.addCallback(lambda result: print("fired", result, flush=True))
        return d

    async def raises(reactor):
        raise ValueError("the main function broke")

    def raisesAtOnce(reactor):
        raise KeyError("synchronously")

    def exitsLater(reactor):
        d = Deferred()
        reactor.callLater(0, d.errback, SystemExit(3))
        return d

    async def exitsWithMessage(reactor):
        sys.exit("a message for the user")

    def stopsTheReactor(reactor):
        reactor.callLater(0, reactor.stop)
        return Deferred()

    def plainValue(reactor):
        return 42

    def failsDuringShutdown(reactor):
        d = Deferred()
        reactor.addSystemEventTrigger(
            "before", "shutdown", lambda: d.errback(RuntimeError("cut short")))
        reactor.callLater(0, reactor.stop)
        return d

    main = {
        "succeeds": succeeds,
        "deferredLater": deferredLater,
        "raises": raises,
        "raisesAtOnce": raisesAtOnce,
        "exitsLater": exitsLater,
        "exitsWithMessage": exitsWithMessage,
        "stopsTheReactor": stopsTheReactor,
        "plainValue": plainValue,
        "failsDuringShutdown": failsDuringShutdown,
    }[mode]
    try:
        task.react(main, ["a", "b"] if mode == "succeeds" else [], _reactor=makeReactor())
    except SystemExit:
        # react installs nothing when given a reactor.
        print("global reactor installed:", "fw.internet.reactor" in sys.modules, flush=True)
        raise
    print("react returned", flush=True)
    """
)


def react(mode: str, backend: str = "global") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, backend],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("backend", ["global", "select", "asyncio"])
def test_success(backend: str) -> None:
    result = react("succeeds", backend)
    assert result.returncode == 0, result.stderr
    installed = backend == "global"
    assert result.stdout == f"main ('a', 'b')\nglobal reactor installed: {installed}\n"
    assert result.stderr == ""


def test_deferredResult() -> None:
    result = react("deferredLater")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("fired done\n")


def test_plainValue() -> None:
    assert react("plainValue").returncode == 0


@pytest.mark.parametrize(
    ("mode", "exception"), [("raises", "ValueError"), ("raisesAtOnce", "KeyError")]
)
def test_failureIsPrintedAndExitsWith1(mode: str, exception: str) -> None:
    result = react(mode, "select")
    assert result.returncode == 1
    assert "main function encountered error" in result.stderr
    assert "Traceback" in result.stderr
    assert exception in result.stderr


def test_systemExitCodeIsKept() -> None:
    result = react("exitsLater")
    assert result.returncode == 3
    assert result.stderr == ""


def test_systemExitMessage() -> None:
    result = react("exitsWithMessage")
    assert result.returncode == 1
    assert result.stderr == "a message for the user\n"


def test_reactorStoppedByOtherMeans() -> None:
    result = react("stopsTheReactor")
    assert result.returncode == 0, result.stderr


def test_failureDuringShutdown() -> None:
    result = react("failsDuringShutdown")
    assert result.returncode == 1
    assert "cut short" in result.stderr
