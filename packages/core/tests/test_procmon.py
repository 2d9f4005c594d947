"""fw.application.procmon: ProcessMonitor restarts children with back-off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from fw.application.procmon import LoggingProtocol, ProcessMonitor
from fw.internet.defer import Deferred
from fw.internet.error import ProcessDone, ProcessExitedAlready, ProcessTerminated
from fw.internet.task import Clock
from fw.logger import capturedLogs
from fw.python.failure import Failure


class FakeProcessTransport:
    def __init__(self, protocol: LoggingProtocol) -> None:
        self.protocol = protocol
        self.signals: list[str] = []
        self.exited = False

    def signalProcess(self, signal: str) -> None:
        if self.exited:
            raise ProcessExitedAlready()
        self.signals.append(signal)

    def exit(self, code: int = 0) -> None:
        self.exited = True
        reason = ProcessDone(0) if code == 0 else ProcessTerminated(code)
        self.protocol.processEnded(Failure(reason))


class FakeReactor(Clock):
    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[tuple[LoggingProtocol, str, tuple[str, ...], dict[str, Any]]] = []
        self.transports: list[FakeProcessTransport] = []
        self.failSpawn = False

    def spawnProcess(self, protocol: Any, executable: str, args: Any, **kw: Any) -> Any:
        if self.failSpawn:
            raise OSError("no such program")
        transport = FakeProcessTransport(protocol)
        protocol.makeConnection(transport)
        self.spawned.append((protocol, executable, tuple(args), kw))
        self.transports.append(transport)
        return transport


def makeMonitor() -> tuple[ProcessMonitor, FakeReactor]:
    reactor = FakeReactor()
    monitor = ProcessMonitor(reactor=reactor)
    return monitor, reactor


def test_addProcessStartsWhenRunning() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a", "-x"], uid=1, gid=2, env={"K": "V"}, cwd="/tmp")
    assert reactor.spawned == []
    monitor.startService()
    protocol, executable, args, kw = reactor.spawned[0]
    assert (executable, args) == ("/bin/a", ("/bin/a", "-x"))
    assert kw == {"env": {"K": "V"}, "path": "/tmp", "uid": 1, "gid": 2}
    assert monitor.protocols["a"] is protocol
    monitor.addProcess("b", ["/bin/b"])
    assert len(reactor.spawned) == 2
    with pytest.raises(KeyError):
        monitor.addProcess("a", ["/bin/a"])
    assert monitor.processes["a"].toTuple() == (("/bin/a", "-x"), 1, 2, {"K": "V"})
    assert "'a'" in repr(monitor)


def test_restartImmediatelyAfterLongRun() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a"])
    monitor.startService()
    reactor.advance(10)  # ran longer than threshold
    reactor.transports[0].exit()
    assert len(reactor.spawned) == 1
    reactor.advance(0)
    assert len(reactor.spawned) == 2
    assert monitor.delay["a"] == monitor.minRestartDelay


def test_quickExitsBackOff() -> None:
    monitor, reactor = makeMonitor()
    monitor.minRestartDelay = 1
    monitor.maxRestartDelay = 5
    monitor.addProcess("a", ["/bin/a"])
    monitor.startService()
    delays = []
    for _ in range(5):
        reactor.transports[-1].exit(1)
        count = len(reactor.spawned)
        start = reactor.seconds()
        while len(reactor.spawned) == count:
            reactor.advance(0.5)
        delays.append(reactor.seconds() - start)
    assert delays == [1, 2, 4, 5, 5]
    # A long run resets the delay.
    reactor.advance(10)
    reactor.transports[-1].exit()
    assert monitor.delay["a"] == 1


def test_stopProcessTermThenKill() -> None:
    monitor, reactor = makeMonitor()
    monitor.killTime = 3
    monitor.addProcess("a", ["/bin/a"])
    monitor.startService()
    transport = reactor.transports[0]
    monitor.stopProcess("a")
    assert transport.signals == ["TERM"]
    reactor.advance(3)
    assert transport.signals == ["TERM", "KILL"]
    with pytest.raises(KeyError):
        monitor.stopProcess("nope")


def test_exitCancelsKill() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a"])
    monitor.startService()
    reactor.advance(10)
    monitor.stopProcess("a")
    reactor.transports[0].exit()
    assert "a" not in monitor.murder
    reactor.advance(0)
    # Restarted (the monitor runs), and no stray KILL.
    assert len(reactor.spawned) == 2
    reactor.advance(10)
    assert reactor.transports[0].signals == ["TERM"]


def test_stopServiceStopsAllAndWaits() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a"])
    monitor.addProcess("b", ["/bin/b"])
    monitor.startService()
    d = monitor.stopService()
    assert not d.called
    for t in reactor.transports:
        assert t.signals == ["TERM"]
        t.exit()
    assert d.called
    reactor.advance(100)
    assert len(reactor.spawned) == 2
    assert reactor.getDelayedCalls() == []


def test_stopServiceCancelsPendingRestarts() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a"])
    monitor.startService()
    reactor.transports[0].exit(1)
    assert monitor.restart
    d = monitor.stopService()
    assert d.called
    assert reactor.getDelayedCalls() == []


def test_removeProcess() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a"])
    monitor.startService()
    monitor.removeProcess("a")
    assert reactor.transports[0].signals == ["TERM"]
    reactor.transports[0].exit()
    reactor.advance(10)
    assert len(reactor.spawned) == 1
    with pytest.raises(KeyError):
        monitor.removeProcess("a")


def test_restartAll() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("a", ["/bin/a"])
    monitor.addProcess("b", ["/bin/b"])
    monitor.startService()
    monitor.restartAll()
    assert [t.signals for t in reactor.transports] == [["TERM"], ["TERM"]]


def test_spawnFailureIsRetriedWithBackoff() -> None:
    monitor, reactor = makeMonitor()
    reactor.failSpawn = True
    monitor.addProcess("a", ["/bin/missing"])
    with capturedLogs() as events:
        monitor.startService()
    assert any(e.get("log_failure") is not None for e in events)
    reactor.failSpawn = False
    reactor.advance(1)
    assert len(reactor.spawned) == 1


def test_outputIsLoggedByLine() -> None:
    monitor, reactor = makeMonitor()
    monitor.addProcess("worker", ["/bin/w"])
    monitor.startService()
    protocol = reactor.spawned[0][0]
    with capturedLogs() as events:
        protocol.childDataReceived(1, b"hel")
        protocol.childDataReceived(1, b"lo\nwor")
        protocol.childDataReceived(2, b"oops\r\n")
        protocol.childDataReceived(1, b"x" * 40000)
        reactor.advance(10)
        reactor.transports[0].exit()
    lines = [(e["line"], e["stream"]) for e in events if "line" in e]
    assert lines[:2] == [("hello", "stdout"), ("oops", "stderr")]
    # Bounded: a line without newline is logged in pieces.
    assert all(len(line) <= 16 * 1024 for line, _ in lines)
    assert "".join(line for line, s in lines[2:] if s == "stdout") == "wor" + "x" * 40000


def test_realChildrenRestartAndStop(reactor: Any, runReactor: Any, tmp_path: Path) -> None:
    """Real processes: a quickly exiting child is restarted; stopping kills a sleeper."""
    counter = tmp_path / "count"
    monitor = ProcessMonitor(reactor=reactor)
    monitor.minRestartDelay = 0.01
    monitor.threshold = 0.001
    monitor.killTime = 2
    script = f"open({str(counter)!r}, 'a').write('x')"
    monitor.addProcess("quick", [sys.executable, "-c", script])
    monitor.addProcess(
        "sleeper", [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    )

    async def scenario() -> None:
        from fw.internet.task import deferLater

        monitor.startService()
        while not counter.exists() or len(counter.read_text()) < 3:
            await deferLater(reactor, 0.02, lambda: None)
        started = reactor.seconds()
        await monitor.stopService()
        assert reactor.seconds() - started < 2  # SIGTERM was enough
        assert monitor.protocols == {}

    runReactor(reactor, scenario, timeout=20)


def test_loggingProtocolFlushesPartialLineAtEnd() -> None:
    ended: list[str] = []

    class Service:
        def connectionLost(self, name: str) -> None:
            ended.append(name)

    protocol = LoggingProtocol()
    protocol.service = Service()  # type: ignore[assignment]
    protocol.name = "n"
    with capturedLogs() as events:
        protocol.childDataReceived(1, b"no newline")
        protocol.processEnded(Failure(ProcessDone(0)))
    assert [e["line"] for e in events if "line" in e] == ["no newline"]
    assert ended == ["n"]


def test_stopServiceWithNothingRunning() -> None:
    monitor, _ = makeMonitor()
    monitor.startService()
    d = monitor.stopService()
    assert isinstance(d, Deferred)
    assert d.called
