"""Child processes on every reactor backend: pipes, exit, signals, PTYs, reaping, leaks."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import defaultdict
from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.internet import _process_reap, error
from fw.internet.address import _ProcessAddress
from fw.internet.defer import Deferred, gatherResults
from fw.internet.interfaces import IProcessTransport, IReactorProcess
from fw.internet.process import PTYProcess, reapAllProcesses, reapProcessHandlers
from fw.internet.protocol import ProcessProtocol
from fw.logger import capturedLogs

PYTHON = sys.executable


class Recorder(ProcessProtocol):
    """Records every event; writes ``stdin`` on start, then closes it (``closeStdin``)."""

    def __init__(self, stdin: bytes = b"", closeStdin: bool = True) -> None:
        self.stdin = stdin
        self.closeStdinAtStart = closeStdin
        self.events: list[Any] = []
        self.data: dict[int, bytearray] = defaultdict(bytearray)
        self.made: Deferred[Any] = Deferred()
        self.exited: Deferred[Any] = Deferred()
        self.ended: Deferred[Recorder] = Deferred()
        self.exitReason: Any = None
        self.endReason: Any = None

    def makeConnection(self, transport: Any) -> None:
        self.events.append("makeConnection")
        super().makeConnection(transport)

    def connectionMade(self) -> None:
        self.events.append("connectionMade")
        if self.stdin:
            self.transport.write(self.stdin)
        if self.closeStdinAtStart:
            self.transport.closeStdin()
        self.made.callback(self.transport)

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        if not self.data[childFD]:
            self.events.append(("data", childFD))
        self.data[childFD] += data

    def childConnectionLost(self, childFD: int) -> None:
        self.events.append(("lost", childFD))

    def processExited(self, reason: Any) -> None:
        self.events.append("exited")
        self.exitReason = reason
        self.exited.callback(None)

    def processEnded(self, reason: Any) -> None:
        self.events.append("ended")
        self.endReason = reason
        self.ended.callback(self)


@pytest.fixture(params=["posix_spawn", "fork"])
def spawnMode(request: pytest.FixtureRequest) -> str:
    """Both ways of starting a child: posix_spawn (the default) and fork+exec."""
    return str(request.param)


def useMode(reactor: Any, mode: str) -> None:
    reactor._neverUseSpawn = mode == "fork"


def fdCount() -> int:
    return len(os.listdir("/proc/self/fd"))


def zombieChildren() -> list[int]:
    """Our children that exited and were not collected."""
    me = str(os.getpid())
    zombies = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me and fields[0] == "Z":
            zombies.append(int(entry))
    return zombies


def test_providesIReactorProcess(reactor: Any) -> None:
    assert verifyObject(IReactorProcess, reactor)


def test_echoThroughCat(reactor: Any, runReactor: Any, spawnMode: str) -> None:
    useMode(reactor, spawnMode)
    payload = b"hello, process\n" * 100

    def go() -> Deferred[Recorder]:
        p = Recorder(payload)
        reactor.spawnProcess(p, "cat", ["cat"])
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == payload
    assert 2 not in p.data
    assert p.events[:2] == ["makeConnection", "connectionMade"]
    assert p.events[-1] == "ended"
    assert p.events.count("exited") == 1
    assert p.events.index("exited") < p.events.index("ended")
    assert {e for e in p.events if isinstance(e, tuple) and e[0] == "lost"} == {
        ("lost", 0),
        ("lost", 1),
        ("lost", 2),
    }
    p.endReason.trap(error.ProcessDone)
    assert p.endReason.value.exitCode == 0
    assert p.endReason.value.signal is None
    p.exitReason.trap(error.ProcessDone)


def test_namedCallbacksInOrder(reactor: Any, runReactor: Any) -> None:
    """ProcessProtocol's outReceived/errReceived/xConnectionLost, as Twisted's howto uses them."""
    events: list[Any] = []
    done: Deferred[None] = Deferred()

    class Named(ProcessProtocol):
        def connectionMade(self) -> None:
            events.append("connectionMade")
            self.transport.write(b"in")
            self.transport.closeStdin()

        def outReceived(self, data: bytes) -> None:
            events.append(("out", data))

        def errReceived(self, data: bytes) -> None:
            events.append(("err", data))

        def inConnectionLost(self) -> None:
            events.append("inConnectionLost")

        def outConnectionLost(self) -> None:
            events.append("outConnectionLost")

        def errConnectionLost(self) -> None:
            events.append("errConnectionLost")

        def processExited(self, reason: Any) -> None:
            events.append(("processExited", type(reason.value)))

        def processEnded(self, reason: Any) -> None:
            events.append(("processEnded", type(reason.value)))
            done.callback(None)

    script = (
        "import sys; sys.stdout.write(sys.stdin.read()); sys.stdout.flush(); sys.stderr.write('e')"
    )

    def go() -> Deferred[None]:
        reactor.spawnProcess(Named(), PYTHON, [PYTHON, "-c", script], env=None)
        return done

    runReactor(reactor, go)
    assert events[0] == "connectionMade"
    assert ("out", b"in") in events
    assert ("err", b"e") in events
    for name in ("inConnectionLost", "outConnectionLost", "errConnectionLost"):
        assert events.count(name) == 1
    # processExited may come before the last pipe closes; processEnded is last.
    assert ("processExited", error.ProcessDone) in events
    assert events[-1] == ("processEnded", error.ProcessDone)


def test_stdoutAndStderrAreSeparate(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, "/bin/sh", ["sh", "-c", "printf out; printf err >&2"])
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == b"out"
    assert bytes(p.data[2]) == b"err"


@pytest.mark.parametrize("code", [1, 42, 255])
def test_exitCode(reactor: Any, runReactor: Any, code: int) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, "/bin/sh", ["sh", "-c", f"exit {code}"])
        return p.ended

    p = runReactor(reactor, go)
    reason = p.endReason.trap(error.ProcessTerminated)
    assert reason is error.ProcessTerminated
    assert p.endReason.value.exitCode == code
    assert p.endReason.value.signal is None
    assert os.waitstatus_to_exitcode(p.endReason.value.status) == code
    assert p.exitReason.value.exitCode == code


@pytest.mark.parametrize(
    ("signalID", "number"),
    [("TERM", signal.SIGTERM), ("KILL", signal.SIGKILL), ("INT", signal.SIGINT),
     ("SIGHUP", signal.SIGHUP), (int(signal.SIGUSR1), signal.SIGUSR1)],
)  # fmt: skip
def test_signalProcess(reactor: Any, runReactor: Any, signalID: str | int, number: int) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        transport = reactor.spawnProcess(p, "sleep", ["sleep", "30"])
        transport.signalProcess(signalID)
        return p.ended

    p = runReactor(reactor, go)
    p.endReason.trap(error.ProcessTerminated)
    assert p.endReason.value.signal == number
    assert p.endReason.value.exitCode is None


def test_signalAfterExit(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        p = Recorder()
        transport = reactor.spawnProcess(p, "true", ["true"])
        assert isinstance(transport.pid, int)
        return p.ended.addCallback(lambda _: transport)

    transport = runReactor(reactor, go)
    assert transport.pid is None
    with pytest.raises(error.ProcessExitedAlready):
        transport.signalProcess("TERM")
    with pytest.raises(error.ProcessExitedAlready):
        transport.signalProcess(signal.SIGKILL)


def test_unknownSignalName(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        p = Recorder()
        transport = reactor.spawnProcess(p, "true", ["true"])
        with pytest.raises(ValueError, match="NOSUCH"):
            transport.signalProcess("NOSUCH")
        return p.ended

    runReactor(reactor, go)


def test_closeStdinMakesCatExit(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        p = Recorder(closeStdin=False)

        def wrote(transport: Any) -> None:
            transport.write(b"partial")
            transport.closeStdin()

        p.made.addCallback(wrote)
        reactor.spawnProcess(p, "cat", ["cat"])
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == b"partial"
    p.endReason.trap(error.ProcessDone)
    assert p.events.index(("lost", 0)) < p.events.index("exited")


def test_tenMebibytesBothWays(reactor: Any, runReactor: Any) -> None:
    """10 MiB through cat: buffered writes to the child, every byte back, in order."""
    block = bytes(range(256)) * 4096  # 1 MiB
    payload = b"".join(i.to_bytes(1, "big") + block[1:] for i in range(10))

    def go() -> Deferred[Recorder]:
        p = Recorder(payload)
        reactor.spawnProcess(p, "cat", ["cat"])
        return p.ended

    p = runReactor(reactor, go)
    assert len(p.data[1]) == len(payload)
    assert p.data[1] == payload
    p.endReason.trap(error.ProcessDone)


def test_tenMebibytesOfOutput(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, "head", ["head", "-c", str(10 * 1024 * 1024), "/dev/zero"])
        return p.ended

    p = runReactor(reactor, go)
    assert len(p.data[1]) == 10 * 1024 * 1024
    assert p.data[1].count(0) == len(p.data[1])


def test_extraChildDescriptors(reactor: Any, runReactor: Any, spawnMode: str) -> None:
    """childFDs: extra pipes both ways, and one of our descriptors passed through."""
    useMode(reactor, spawnMode)
    ourRead, ourWrite = os.pipe()
    script = "echo three >&3; read x <&4; echo got $x >&3; echo five >&5"

    def go() -> Any:
        p = Recorder(closeStdin=False)
        p.made.addCallback(lambda t: (t.writeToChild(4, b"four\n"), t.closeChildFD(4)))
        reactor.spawnProcess(
            p,
            "/bin/sh",
            ["sh", "-c", script],
            childFDs={0: "w", 1: "r", 2: "r", 3: "r", 4: "w", 5: ourWrite},
        )
        os.close(ourWrite)
        p.made.addCallback(lambda t: t.closeStdin())
        return p.ended

    try:
        p = runReactor(reactor, go)
        assert bytes(p.data[3]) == b"three\ngot four\n"
        assert ("lost", 3) in p.events
        assert ("lost", 4) in p.events
        assert os.read(ourRead, 100) == b"five\n"
        # Nobody else holds the write end: the child's copy is gone.
        assert os.read(ourRead, 100) == b""
    finally:
        os.close(ourRead)


def test_childFDsWithoutStandardPipes(reactor: Any, runReactor: Any) -> None:
    """Only fd 1 is a pipe: the child's 0 and 2 are not open at all."""

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        reactor.spawnProcess(p, "ls", ["ls", "/proc/self/fd"], childFDs={1: "r"})
        return p.ended

    p = runReactor(reactor, go)
    # ls sees its stdout, and the directory it lists, opened as the lowest
    # free descriptor: 0.
    assert bytes(p.data[1]).split() == [b"0", b"1"]


def test_badChildFDs(reactor: Any) -> None:
    before = fdCount()
    with pytest.raises(ValueError, match="childFDs"):
        reactor.spawnProcess(Recorder(), "true", ["true"], childFDs={0: "x"})
    with pytest.raises(ValueError, match="descriptor"):
        reactor.spawnProcess(Recorder(), "true", ["true"], childFDs={-1: "r"})
    with pytest.raises(ValueError, match="protocol"):
        reactor.spawnProcess(None, "true", ["true"], childFDs={1: "r"})
    with pytest.raises(ValueError, match="usePTY"):
        reactor.spawnProcess(Recorder(), "true", ["true"], usePTY=True, childFDs={0: "w"})
    assert fdCount() == before


def test_noProtocol(reactor: Any, runReactor: Any) -> None:
    """With no protocol and no pipes, the child runs and is collected all the same."""
    ourRead, ourWrite = os.pipe()

    def go() -> Any:
        transport = reactor.spawnProcess(
            None, "/bin/sh", ["sh", "-c", "echo hi"], childFDs={1: ourWrite}
        )
        os.close(ourWrite)
        pid = transport.pid
        assert reapProcessHandlers[pid] is transport
        d: Deferred[None] = Deferred()

        def check() -> None:
            if transport.pid is None:
                d.callback(None)
            else:
                reactor.callLater(0.01, check)

        check()
        return d

    try:
        runReactor(reactor, go)
        assert os.read(ourRead, 10) == b"hi\n"
    finally:
        os.close(ourRead)


def test_environmentExactlyAsGiven(reactor: Any, runReactor: Any, spawnMode: str) -> None:
    useMode(reactor, spawnMode)

    def go() -> Any:
        given = Recorder()
        reactor.spawnProcess(given, "env", ["env"], env={"FW_A": "1", b"FW_B": b"two words"})
        default = Recorder()
        reactor.spawnProcess(default, "env", ["env"])
        return gatherResults([given.ended, default.ended])

    given, default = runReactor(reactor, go)
    assert sorted(bytes(given.data[1]).splitlines()) == [b"FW_A=1", b"FW_B=two words"]
    # Twisted's default: an empty environment.
    assert bytes(default.data[1]) == b""


def test_environmentNoneInherits(
    reactor: Any, runReactor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FW_TEST_INHERITED", "yes")

    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, "env", ["env"], env=None)
        return p.ended

    p = runReactor(reactor, go)
    assert b"FW_TEST_INHERITED=yes" in bytes(p.data[1]).splitlines()


def test_badEnvironment(reactor: Any) -> None:
    with pytest.raises(ValueError, match="environment"):
        reactor.spawnProcess(Recorder(), "true", ["true"], env={"A=B": "x"})
    with pytest.raises(ValueError, match="null"):
        reactor.spawnProcess(Recorder(), "true", ["true"], env={"A": "x\0y"})
    with pytest.raises(TypeError):
        reactor.spawnProcess(Recorder(), "true", ["true"], env={"A": 1})


def test_badArguments(reactor: Any) -> None:
    with pytest.raises(ValueError, match="empty"):
        reactor.spawnProcess(Recorder(), "true", [])
    with pytest.raises(ValueError, match="null"):
        reactor.spawnProcess(Recorder(), "true", ["true", "a\0b"])
    with pytest.raises(TypeError):
        reactor.spawnProcess(Recorder(), "true", ["true", 1])
    with pytest.raises(TypeError):
        reactor.spawnProcess(Recorder(), "true", "true")


def test_workingDirectory(reactor: Any, runReactor: Any, tmp_path: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, "pwd", ["pwd"], path=str(tmp_path))
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]).strip() == os.fsencode(os.path.realpath(tmp_path))


def test_bytesArguments(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, b"/bin/sh", [b"sh", b"-c", b"printf '%s' \"$0\"", b"\xffname"])
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == b"\xffname"


@pytest.mark.parametrize("where", ["here", "elsewhere"])
def test_missingExecutable(
    reactor: Any, runReactor: Any, spawnMode: str, where: str, tmp_path: Any
) -> None:
    """Like Twisted (posix_spawnp): the error is raised, the protocol never called."""
    useMode(reactor, spawnMode)
    path = None if where == "here" else str(tmp_path)
    before = fdCount()
    p = Recorder()
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(p, "/nonexistent/program", ["program"], path=path)
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(p, "no-such-program-anywhere", ["program"], path=path)
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(p, "/nonexistent/program", ["program"], path=path, usePTY=True)
    assert p.events == []
    assert fdCount() == before
    assert zombieChildren() == []


def test_missingWorkingDirectory(reactor: Any) -> None:
    before = fdCount()
    with pytest.raises(FileNotFoundError) as info:
        reactor.spawnProcess(Recorder(), "true", ["true"], path="/nonexistent/directory")
    assert info.value.filename == "/nonexistent/directory"
    assert fdCount() == before
    assert zombieChildren() == []


def test_notExecutable(reactor: Any, spawnMode: str, tmp_path: Any) -> None:
    useMode(reactor, spawnMode)
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError):
        reactor.spawnProcess(Recorder(), str(script), ["script"])


def test_noDescriptorLeaksIntoChild(reactor: Any, runReactor: Any, spawnMode: str) -> None:
    """Even our inheritable descriptors stay out of the child."""
    useMode(reactor, spawnMode)
    leaky, other = os.pipe()
    os.set_inheritable(leaky, True)
    os.set_inheritable(other, True)

    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(p, "ls", ["ls", "/proc/self/fd"])
        return p.ended

    try:
        p = runReactor(reactor, go)
    finally:
        os.close(leaky)
        os.close(other)
    assert bytes(p.data[1]).split() == [b"0", b"1", b"2", b"3"]


def test_childSignalsAreDefault(reactor: Any, runReactor: Any, spawnMode: str) -> None:
    """Python ignores SIGPIPE; its children must not inherit that, nor a blocked mask."""
    useMode(reactor, spawnMode)
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN

    def go() -> Deferred[Recorder]:
        p = Recorder()
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        try:
            reactor.spawnProcess(p, "cat", ["cat", "/proc/self/status"])
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return p.ended

    p = runReactor(reactor, go)
    fields = dict(
        line.split(b":\t", 1) for line in bytes(p.data[1]).splitlines() if b":\t" in line
    )
    ignored = int(fields[b"SigIgn"], 16)
    # glibc's posix_spawn leaves its two internal signals (32, 33) ignored;
    # no program can use those.  Every real signal is back to its default.
    assert [s for s in signal.valid_signals() if ignored >> (s - 1) & 1] == []
    assert int(fields[b"SigBlk"], 16) == 0


def test_pty(reactor: Any, runReactor: Any, spawnMode: str) -> None:
    """A terminal: echo, ONLCR, ^D as end of input, and a controlling terminal."""
    useMode(reactor, spawnMode)

    class Cat(Recorder):
        def childDataReceived(self, childFD: int, data: bytes) -> None:
            super().childDataReceived(childFD, data)
            if self.data[1] == b"hello\r\nhello\r\n":
                self.transport.write(b"\x04")

    script = (
        "import os\n"
        "print(os.isatty(0), os.isatty(1), os.isatty(2))\n"
        "os.close(os.open('/dev/tty', os.O_RDWR))\n"
        "print(os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpid())\n"
    )

    def go() -> Any:
        cat = Cat(b"hello\n", closeStdin=False)
        catTransport = reactor.spawnProcess(cat, "cat", ["cat"], usePTY=True)
        assert isinstance(catTransport, PTYProcess)
        tty = Recorder(closeStdin=False)
        reactor.spawnProcess(tty, PYTHON, [PYTHON, "-c", script], env=None, usePTY=True)
        return gatherResults([cat.ended, tty.ended])

    cat, tty = runReactor(reactor, go)
    # The terminal echoed the line (ONLCR: \r\n), cat wrote it; ^D is not echoed.
    assert bytes(cat.data[1]) == b"hello\r\nhello\r\n"
    cat.endReason.trap(error.ProcessDone)
    assert bytes(tty.data[1]) == b"True True True\r\nTrue True\r\n"
    tty.endReason.trap(error.ProcessDone)


def test_ptyLoseConnectionHangsUp(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        p.made.addCallback(lambda t: t.loseConnection())
        reactor.spawnProcess(p, "cat", ["cat"], usePTY=True)
        return p.ended

    p = runReactor(reactor, go)
    p.endReason.trap(error.ProcessTerminated)
    assert p.endReason.value.signal == signal.SIGHUP


def test_ptyGivenDescriptors(reactor: Any, runReactor: Any) -> None:
    master, slave = os.openpty()

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        reactor.spawnProcess(
            p, "/bin/sh", ["sh", "-c", "echo hi"], usePTY=(master, slave, os.ttyname(slave))
        )
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == b"hi\r\n"
    # The transport owned them from then on.
    for fd in (master, slave):
        with pytest.raises(OSError):
            os.fstat(fd)


def test_manySpawnsNoZombiesNoLeaks(reactor: Any, runReactor: Any) -> None:
    """200 children (20 at a time): every one collected, no descriptor left open."""
    total, parallel = 200, 20
    before = fdCount()

    def go() -> Deferred[None]:
        done: Deferred[None] = Deferred()
        state = {"started": 0, "ended": 0}

        class One(ProcessProtocol):
            def processEnded(self, reason: Any) -> None:
                reason.trap(error.ProcessDone)
                state["ended"] += 1
                if state["ended"] == total:
                    done.callback(None)
                elif state["started"] < total:
                    start()

        def start() -> None:
            state["started"] += 1
            reactor.spawnProcess(One(), "true", ["true"])

        for _ in range(parallel):
            start()
        return done

    runReactor(reactor, go)
    assert zombieChildren() == []
    assert fdCount() == before
    assert not reapProcessHandlers


def test_forkPathManySpawns(reactor: Any, runReactor: Any) -> None:
    reactor._neverUseSpawn = True
    total = 40
    before = fdCount()

    def go() -> Any:
        recorders = [Recorder() for _ in range(total)]
        for r in recorders:
            reactor.spawnProcess(r, "true", ["true"])
        return gatherResults([r.ended for r in recorders])

    runReactor(reactor, go)
    assert zombieChildren() == []
    assert fdCount() == before


def test_processExitedBeforePipesClose(reactor: Any, runReactor: Any) -> None:
    """A grandchild keeps stdout open: processExited first, processEnded after it closes."""
    script = 'exec 3<&0; { read x <&3; echo "$x"; } & exit 0'

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)

        def exited(_: object) -> None:
            p.events.append("writing")
            p.transport.write(b"after\n")
            p.transport.closeStdin()

        p.exited.addCallback(exited)
        reactor.spawnProcess(p, "/bin/sh", ["sh", "-c", script])
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == b"after\n"
    assert p.events.index("exited") < p.events.index(("data", 1)) < p.events.index("ended")
    assert p.events.index(("lost", 1)) < p.events.index("ended")


def test_loseConnectionClosesEveryPipe(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        p.made.addCallback(lambda t: t.loseConnection())
        reactor.spawnProcess(p, "cat", ["cat"])
        return p.ended

    p = runReactor(reactor, go)
    assert {("lost", 0), ("lost", 1), ("lost", 2)} <= set(p.events)
    assert p.events[-1] == "ended"


def test_closeStdoutAndStderr(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)

        def closeOutputs(transport: Any) -> None:
            transport.closeStdout()
            transport.closeStderr()
            transport.closeChildFD(99)  # not a pipe: nothing happens

        p.made.addCallback(closeOutputs)
        p.made.addCallback(lambda _: reactor.callLater(0, p.transport.closeStdin))
        reactor.spawnProcess(p, "cat", ["cat"])
        return p.ended

    p = runReactor(reactor, go)
    assert p.events.index(("lost", 1)) < p.events.index(("lost", 0))
    assert p.events.index(("lost", 2)) < p.events.index(("lost", 0))


def test_writeToChildErrors(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        transport = reactor.spawnProcess(p, "true", ["true"])
        with pytest.raises(KeyError):
            transport.writeToChild(7, b"x")
        with pytest.raises(ValueError, match="read"):
            transport.writeToChild(1, b"x")
        return p.ended

    runReactor(reactor, go)


def test_transportInterface(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Recorder]:
        p = Recorder()
        transport = reactor.spawnProcess(p, "true", ["true"])
        assert verifyObject(IProcessTransport, transport)
        assert isinstance(transport.getHost(), _ProcessAddress)
        assert isinstance(transport.getPeer(), _ProcessAddress)
        assert f"pid={transport.pid}" in repr(transport)
        return p.ended

    runReactor(reactor, go)


def test_errorInOutReceivedClosesOnlyThatPipe(reactor: Any, runReactor: Any) -> None:
    class Failing(Recorder):
        def childDataReceived(self, childFD: int, data: bytes) -> None:
            super().childDataReceived(childFD, data)
            if childFD == 1:
                raise RuntimeError("protocol bug")

    def go() -> Deferred[Recorder]:
        p = Failing()
        reactor.spawnProcess(p, "/bin/sh", ["sh", "-c", "echo out; echo err >&2"])
        return p.ended

    with capturedLogs() as events:
        p = runReactor(reactor, go)
    assert bytes(p.data[2]) == b"err\n"
    assert any(
        e.get("log_failure") is not None and e["log_failure"].check(RuntimeError) for e in events
    )
    assert p.events[-1] == "ended"
    assert runReactor.flushLoggedErrors(RuntimeError)


def test_errorsInProcessCallbacksAreLogged(reactor: Any, runReactor: Any) -> None:
    ended: Deferred[None] = Deferred()

    class Failing(ProcessProtocol):
        def connectionMade(self) -> None:
            raise RuntimeError("in connectionMade")

        def childConnectionLost(self, childFD: int) -> None:
            raise RuntimeError("in childConnectionLost")

        def processExited(self, reason: Any) -> None:
            raise RuntimeError("in processExited")

        def processEnded(self, reason: Any) -> None:
            reactor.callLater(0, ended.callback, None)
            raise RuntimeError("in processEnded")

    def go() -> Deferred[None]:
        reactor.spawnProcess(Failing(), "true", ["true"])
        return ended

    with capturedLogs() as events:
        runReactor(reactor, go)
    messages = {str(e["log_failure"].value) for e in events if e.get("log_failure")}
    assert {
        "in connectionMade",
        "in childConnectionLost",
        "in processExited",
        "in processEnded",
    } <= messages
    logged = [e for e in events if e.get("log_failure")]
    assert len(runReactor.flushLoggedErrors(RuntimeError)) == len(logged)


def test_pullProducerOnStdin(reactor: Any, runReactor: Any) -> None:
    chunks = [b"a" * 1000, b"b" * 1000, b"c"]

    class Pull:
        def __init__(self, transport: Any) -> None:
            self.transport = transport

        def resumeProducing(self) -> None:
            if chunks:
                self.transport.write(chunks.pop(0))
            else:
                self.transport.unregisterProducer()
                self.transport.closeStdin()

        def stopProducing(self) -> None:
            pass

    class Echoed(Recorder):
        def childDataReceived(self, childFD: int, data: bytes) -> None:
            first = not self.data[1]
            super().childDataReceived(childFD, data)
            if first:
                # The pipe to cat was writable before cat could echo anything:
                # once this batch of events is handled, the producer must have
                # been asked for its second chunk.
                reactor.callLater(0, check)

    stalled: list[bool] = []
    checked: Deferred[None] = Deferred()
    p = Echoed(closeStdin=False)

    def check() -> None:
        checked.callback(None)
        stalled.append(len(chunks) == 2)
        if stalled[0]:
            # Let cat end either way, so that nothing is left behind.
            p.transport.unregisterProducer()
            p.transport.closeStdin()

    def go() -> Deferred[Any]:
        p.made.addCallback(lambda t: t.registerProducer(Pull(t), False))
        reactor.spawnProcess(p, "cat", ["cat"])
        return gatherResults([p.ended, checked])

    runReactor(reactor, go)
    assert stalled == [False], "the pull producer was never asked for more"
    assert bytes(p.data[1]) == b"a" * 1000 + b"b" * 1000 + b"c"


def test_pushProducerOnStdin(reactor: Any, runReactor: Any) -> None:
    """A streaming producer is paused while the pipe to the child is full."""
    chunk = b"x" * 65536
    total = 64

    class Push:
        def __init__(self, transport: Any) -> None:
            self.transport = transport
            self.sent = 0
            self.paused = 0
            self.running = False

        def start(self) -> None:
            self.running = True
            while self.running and self.sent < total:
                self.sent += 1
                self.transport.write(chunk)
            if self.sent == total:
                self.transport.unregisterProducer()
                self.transport.closeStdin()

        def pauseProducing(self) -> None:
            self.paused += 1
            self.running = False

        def resumeProducing(self) -> None:
            reactor.callLater(0, self.start)

        def stopProducing(self) -> None:
            self.running = False

    producers: list[Push] = []

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)

        def made(transport: Any) -> None:
            producer = Push(transport)
            producers.append(producer)
            transport.registerProducer(producer, True)
            producer.start()

        p.made.addCallback(made)
        reactor.spawnProcess(p, "cat", ["cat"])
        return p.ended

    p = runReactor(reactor, go)
    assert len(p.data[1]) == len(chunk) * total
    assert producers[0].paused >= 1


def test_producerWithoutStdinIsStopped(reactor: Any, runReactor: Any) -> None:
    stopped: list[bool] = []

    class Producer:
        def stopProducing(self) -> None:
            stopped.append(True)

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        transport = reactor.spawnProcess(p, "true", ["true"], childFDs={1: "r"})
        transport.registerProducer(Producer(), True)
        transport.unregisterProducer()
        return p.ended

    runReactor(reactor, go)
    assert stopped == [True]


def test_pauseAndResumeReading(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        p = Recorder(b"data", closeStdin=False)
        transport = reactor.spawnProcess(p, "cat", ["cat"])
        transport.pauseProducing()
        assert reactor.getReaders().count(transport.pipes[1]) == 0
        transport.resumeProducing()
        assert transport.pipes[1] in reactor.getReaders()
        transport.closeStdin()
        return p.ended

    p = runReactor(reactor, go)
    assert bytes(p.data[1]) == b"data"


def test_spawnBeforeRunning(reactor: Any, runReactor: Any) -> None:
    p = Recorder(b"early")
    reactor.spawnProcess(p, "cat", ["cat"])
    assert runReactor(reactor, lambda: p.ended) is p
    assert bytes(p.data[1]) == b"early"


def test_uidAndGid(reactor: Any, runReactor: Any) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing user needs root (CI runs as root)")

    def go() -> Deferred[Recorder]:
        p = Recorder()
        reactor.spawnProcess(
            p, "/bin/sh", ["sh", "-c", "id -u; id -g; id -G"], uid=65534, gid=65533
        )
        return p.ended

    p = runReactor(reactor, go)
    uid, gid, groups = bytes(p.data[1]).splitlines()
    assert (uid, gid) == (b"65534", b"65533")
    assert b"0" not in groups.split()


def test_uidDeniedIsRaised(reactor: Any) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may change user")
    with pytest.raises(PermissionError):
        reactor.spawnProcess(Recorder(), "true", ["true"], uid=0)


# -- reaping without pidfd --------------------------------------------------------


@pytest.fixture
def noPidfd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Watch children the way systems without pidfd do."""
    monkeypatch.setattr(_process_reap, "_usePidfd", False)


def test_usesPidfdWhereAvailable(reactor: Any, runReactor: Any) -> None:
    if not hasattr(os, "pidfd_open"):
        pytest.skip("no pidfd on this system")

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        transport = reactor.spawnProcess(p, "cat", ["cat"])
        assert transport._watch in reactor.getReaders()
        assert _process_reap._pollers.get(reactor) is None
        transport.closeStdin()
        return p.ended

    runReactor(reactor, go)


def test_pollingWithoutPidfdOrSignals(reactor: Any, runReactor: Any, noPidfd: None) -> None:
    """No pipes, no pidfd, no SIGCHLD handler: the reactor polls, then stops polling."""

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        transport = reactor.spawnProcess(p, "true", ["true"], childFDs={})
        assert transport._watch not in reactor.getReaders()
        return p.ended

    p = runReactor(reactor, go)
    p.endReason.trap(error.ProcessDone)


def test_sigchldWithoutPidfd(reactor: Any, noPidfd: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pidfd: a reactor run with signal handlers collects children on SIGCHLD."""
    monkeypatch.setattr(_process_reap._ReapPoller, "interval", 3600)
    previous = signal.getsignal(signal.SIGCHLD)
    seen: list[Any] = []
    p = Recorder(closeStdin=False)

    def start() -> None:
        seen.append(signal.getsignal(signal.SIGCHLD))
        reactor.spawnProcess(p, "true", ["true"], childFDs={})

    p.ended.addCallback(lambda _: reactor.stop())
    reactor.callWhenRunning(start)
    guard = reactor.callLater(10, reactor.stop)
    reactor.run(installSignalHandlers=True)
    assert guard.active(), "the child was never collected"
    guard.cancel()
    # Some handler of the reactor's (the asyncio backend installs it through its loop).
    assert seen[0] not in (signal.SIG_DFL, signal.SIG_IGN, None)
    assert signal.getsignal(signal.SIGCHLD) == previous
    p.endReason.trap(error.ProcessDone)


def test_sigchldDeliveredToAnotherThread(
    reactor: Any, noPidfd: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    SIGCHLD handled by another thread's C-level handler still wakes a loop
    blocked in the kernel: the reactor makes its waker the signal wake-up
    descriptor (or lets its asyncio loop do so).
    """
    monkeypatch.setattr(_process_reap._ReapPoller, "interval", 3600)
    release = threading.Event()
    # A thread that accepts SIGCHLD; the main thread blocks it below, so the
    # kernel delivers the child's SIGCHLD to this thread.
    other = threading.Thread(target=release.wait, args=(30,), daemon=True)
    other.start()
    previousMask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    p = Recorder(closeStdin=False)
    try:
        reactor.callWhenRunning(
            lambda: reactor.spawnProcess(p, "/bin/sh", ["sh", "-c", "sleep 0.2"], childFDs={})
        )
        p.ended.addCallback(lambda _: reactor.stop())
        guard = reactor.callLater(10, reactor.stop)
        # Unblock in the main thread only once the loop is blocked waiting,
        # and only after the child is gone: SIGCHLD then stays the other
        # thread's.  (A pending SIGCHLD on unblocking would be fine too.)
        reactor.run(installSignalHandlers=True)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previousMask)
        release.set()
        other.join(5)
    assert guard.active(), "the loop slept through a SIGCHLD handled by another thread"
    guard.cancel()
    p.endReason.trap(error.ProcessDone)


def test_noSigchldHandlerWithPidfd(reactor: Any) -> None:
    if not _process_reap.pidfdUsable():
        pytest.skip("no pidfd on this system")
    assert signal.SIGCHLD not in [s for s, _ in reactor._signalHandlers()]


def test_reapAllProcesses(reactor: Any, noPidfd: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """reapAllProcesses collects an exited child at once, outside the loop."""
    monkeypatch.setattr(_process_reap._ReapPoller, "interval", 3600)
    ourRead, ourWrite = os.pipe()
    p = Recorder(closeStdin=False)
    transport = reactor.spawnProcess(p, "/bin/sh", ["sh", "-c", "exit 3"], childFDs={1: ourWrite})
    os.close(ourWrite)
    os.close(ourRead)
    # Wait until it has exited, leaving it to be collected.
    os.waitid(os.P_PID, transport.pid, os.WEXITED | os.WNOWAIT)
    assert p.events == ["makeConnection", "connectionMade"]
    reapAllProcesses()
    assert p.events[-2:] == ["exited", "ended"]
    assert p.endReason.value.exitCode == 3
    assert transport.pid is None
    assert not reactor.getDelayedCalls()
    assert zombieChildren() == []


def test_collectedElsewhere(reactor: Any, runReactor: Any) -> None:
    """A child someone else reaped ends with an unknown status instead of hanging."""

    def go() -> Deferred[Recorder]:
        p = Recorder(closeStdin=False)
        transport = reactor.spawnProcess(p, "true", ["true"], childFDs={})
        os.waitpid(transport.pid, 0)
        return p.ended

    with capturedLogs() as events:
        p = runReactor(reactor, go)
    p.endReason.trap(error.ProcessTerminated)
    assert p.endReason.value.exitCode is None
    assert p.endReason.value.signal is None
    assert any("collected elsewhere" in e.get("log_format", "") for e in events)


def test_registerReapProcessHandler() -> None:
    """The Twisted-compatible registry: an already-exited child is collected at once."""
    statuses: list[int] = []

    class Handler:
        def reapProcess(self) -> None:
            raise AssertionError("not expected")

        def processEnded(self, status: int) -> None:
            statuses.append(status)

    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 7"], {})
    # Wait for it to exit, leaving it to be collected.
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    handler = Handler()
    _process_reap.registerReapProcessHandler(pid, handler)
    assert len(statuses) == 1
    assert os.waitstatus_to_exitcode(statuses[0]) == 7
    assert pid not in reapProcessHandlers
    with pytest.raises(RuntimeError):
        _process_reap.unregisterReapProcessHandler(pid, handler)
