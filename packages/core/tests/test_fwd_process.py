"""``fwd`` end to end, as a process: foreground and daemon runs, pid files, log
files, start-up failures, signals, saved configurations, privilege dropping,
log formats and reactor choice."""

from __future__ import annotations

import io
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(60)

FWD = [sys.executable, "-m", "fw.application"]
REPO = Path(__file__).resolve().parents[3]


def waitFor(condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll ``condition`` until it returns something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


class Foreground:
    """A ``fwd -n`` process whose standard output is read as it comes."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*FWD, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.output = b""

    def read(self) -> str:
        assert self.proc.stdout is not None
        try:
            chunk = self.proc.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            self.output += chunk
        return self.output.decode("utf-8", "replace")

    def waitForText(self, text: str, timeout: float = 10.0) -> str:
        def seen() -> bool:
            if self.proc.poll() is not None:
                self.read()
                raise AssertionError(f"fwd exited ({self.proc.returncode}):\n{self.read()}")
            return text in self.read()

        waitFor(seen, timeout, f"{text!r} in fwd's output")
        return self.read()

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.read()
        return code


@pytest.fixture
def foreground() -> Iterator[Callable[..., Foreground]]:
    started: list[Foreground] = []

    def start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Foreground:
        fg = Foreground(args, cwd, env)
        started.append(fg)
        return fg

    yield start
    for fg in started:
        if fg.proc.poll() is None:
            fg.proc.kill()
            fg.proc.wait()
        if fg.proc.stdout is not None:
            fg.proc.stdout.close()


@pytest.fixture
def daemons() -> Iterator[list[int]]:
    """Pids of daemons a test started; killed at the end if still alive."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def runFwd(args: list[str], cwd: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FWD, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


# A .tac whose finger server listens on a free port of 127.0.0.1, writes the
# port to a file, and whose stop takes a while (so graceful stopping shows).
FINGER_TAC = textwrap.dedent(
    """
    import os
    from fw.application import service, strports
    from fw.internet import protocol, reactor, task
    from fw.protocols import basic

    class FingerProtocol(basic.LineReceiver):
        def lineReceived(self, user):
            self.transport.write(self.factory.users.get(user, b"No such user") + b"\\r\\n")
            self.transport.loseConnection()

    class Reporter(service.Service):
        def __init__(self, server):
            self.server = server

        def startService(self):
            super().startService()
            port = self.server.listeningPort.getHost().port
            with open("port.txt.tmp", "w") as f:
                f.write(str(port))
            os.rename("port.txt.tmp", "port.txt")
            print("listening on", port, flush=True)
            # Once the reactor runs, its signal handlers are in place: tests
            # that signal fwd wait for this line.
            from fw.internet import reactor

            reactor.callWhenRunning(print, "reactor running", flush=True)

        def stopService(self):
            super().stopService()
            def done():
                with open("stopped.txt", "w") as f:
                    f.write("stopped gracefully")
            return task.deferLater(reactor, 0.2, done)

    factory = protocol.ServerFactory.forProtocol(FingerProtocol)
    factory.users = {b"moshez": b"Happy and well"}
    application = service.Application("finger")
    server = strports.service("tcp:0:interface=127.0.0.1", factory)
    server.setServiceParent(application)
    Reporter(server).setServiceParent(application)
    """
)


def fingerQuery(port: int, user: bytes, host: str = "127.0.0.1") -> bytes:
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(user + b"\r\n")
        chunks = []
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def readPort(directory: Path) -> int:
    path = directory / "port.txt"
    return int(waitFor(lambda: path.exists() and path.read_text(), what="port.txt"))


def test_foregroundTacServesAndStopsGracefully(
    tmp_path: Path, foreground: Callable[..., Foreground]
) -> None:
    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    fg = foreground(["-n", "-y", "finger.tac"], tmp_path)
    fg.waitForText("reactor running")
    port = readPort(tmp_path)
    assert fingerQuery(port, b"moshez") == b"Happy and well\r\n"
    assert fg.stop(signal.SIGTERM) == 0
    assert (tmp_path / "stopped.txt").read_text() == "stopped gracefully"
    output = fg.read()
    assert "received SIGTERM" in output
    assert "server shut down" in output
    # No pid file in the foreground unless asked for.
    assert not (tmp_path / "fwd.pid").exists()


def test_sigintStopsGracefullyAndLogLevelFilters(
    tmp_path: Path, foreground: Callable[..., Foreground]
) -> None:
    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    fg = foreground(["-n", "--log-level", "warn", "-y", "finger.tac"], tmp_path)
    fg.waitForText("reactor running")
    assert fg.stop(signal.SIGINT) == 0
    assert (tmp_path / "stopped.txt").exists()
    # Info events (the start-up banner, "received SIGINT") are filtered out.
    assert "starting up" not in fg.read()
    assert "received SIGINT" not in fg.read()


SLOW_START_TAC = textwrap.dedent(
    """
    import os, time
    from fw.application import service

    class SlowStart(service.Service):
        def startService(self):
            super().startService()
            print("starting", flush=True)
            deadline = time.monotonic() + 10
            while not os.path.exists("go") and time.monotonic() < deadline:
                time.sleep(0.01)

        def stopService(self):
            super().stopService()
            with open("stopped.txt", "w") as f:
                f.write("stopped")

    application = service.Application("slow")
    SlowStart().setServiceParent(application)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_stopSignalWhileStartingStopsOnceRunning(
    tmp_path: Path, foreground: Callable[..., Foreground], signum: int
) -> None:
    """
    A stop signal that arrives while services start (before the reactor's
    handlers exist) is not lost, nor a ``KeyboardInterrupt`` traceback: fwd
    finishes starting, then stops gracefully.
    """
    (tmp_path / "slow.tac").write_text(SLOW_START_TAC)
    fg = foreground(["-n", "-y", "slow.tac"], tmp_path)
    fg.waitForText("starting")
    fg.proc.send_signal(signum)
    (tmp_path / "go").touch()
    assert fg.proc.wait(10) == 0
    output = fg.read()
    assert f"{signal.Signals(signum).name} received while starting: stopping" in output
    assert "Traceback" not in output
    assert (tmp_path / "stopped.txt").read_text() == "stopped"


def test_daemonPidfileLogfileAndRefusalToStartTwice(tmp_path: Path, daemons: list[int]) -> None:
    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    run = tmp_path / "run"
    run.mkdir()
    args = [
        "--pidfile",
        "app.pid",
        "-l",
        "app.log",
        "--umask",
        "027",
        "-d",
        str(run),
        "-y",
        "finger.tac",
    ]
    started = time.monotonic()
    result = runFwd(args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 15
    pid = int((tmp_path / "app.pid").read_text())
    daemons.append(pid)
    assert alive(pid)
    # Double fork: not our child, not a session leader, in a session of its own.
    assert os.getsid(pid) != os.getsid(0)
    assert os.getsid(pid) != pid
    # Its standard streams are /dev/null.
    assert os.readlink(f"/proc/{pid}/fd/0") == os.devnull
    assert os.readlink(f"/proc/{pid}/fd/1") == os.devnull
    # The log file is opened before changing to --rundir; files written
    # afterwards land in the run directory, with the umask.
    port = readPort(run)
    assert fingerQuery(port, b"moshez") == b"Happy and well\r\n"
    assert (run / "port.txt").stat().st_mode & 0o777 == 0o640
    log = waitFor(
        lambda: (
            "started;" in (tmp_path / "app.log").read_text() and (tmp_path / "app.log").read_text()
        ),
        what="the log",
    )
    # print() in a daemon goes to the log.
    assert f"listening on {port}" in log

    again = runFwd(args, tmp_path)
    assert again.returncode == 1
    assert f"another fwd is running with pid {pid}" in again.stderr
    assert alive(pid)

    os.kill(pid, signal.SIGTERM)
    waitFor(lambda: not alive(pid), what="the daemon to exit")
    assert not (tmp_path / "app.pid").exists()
    assert (run / "stopped.txt").read_text() == "stopped gracefully"
    assert "server shut down" in (tmp_path / "app.log").read_text()


def deadPid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_stalePidfileIsReplaced(tmp_path: Path, foreground: Callable[..., Foreground]) -> None:
    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    stale = deadPid()
    (tmp_path / "app.pid").write_text(f"{stale}\n")
    fg = foreground(["-n", "--pidfile", "app.pid", "-y", "finger.tac"], tmp_path)
    output = fg.waitForText("started;")
    assert f"removed the stale pid file {tmp_path / 'app.pid'} (process {stale} is gone)" in output
    assert int((tmp_path / "app.pid").read_text()) == fg.proc.pid
    assert fg.stop() == 0
    assert not (tmp_path / "app.pid").exists()


def test_garbagePidfileRefused(tmp_path: Path) -> None:
    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    (tmp_path / "app.pid").write_text("not a pid")
    result = runFwd(["-n", "--pidfile", "app.pid", "-y", "finger.tac"], tmp_path)
    assert result.returncode == 1
    assert "does not hold a process id" in result.stderr


def test_daemonStartupFailureIsReported(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        (tmp_path / "busy.tac").write_text(
            textwrap.dedent(
                f"""
                from fw.application import internet, service
                from fw.internet import protocol
                application = service.Application("busy")
                internet.TCPServer({port}, protocol.ServerFactory(), interface="127.0.0.1"
                                   ).setServiceParent(application)
                """
            )
        )
        result = runFwd(["--pidfile", "app.pid", "-l", "app.log", "-y", "busy.tac"], tmp_path)
    finally:
        busy.close()
    assert result.returncode == 1
    assert "start-up failed" in result.stderr
    assert "CannotListenError" in result.stderr
    assert str(port) in result.stderr
    assert not (tmp_path / "app.pid").exists()
    assert "start-up failed" in (tmp_path / "app.log").read_text()


def test_daemonStartServiceErrorIsReported(tmp_path: Path) -> None:
    (tmp_path / "boom.tac").write_text(
        textwrap.dedent(
            """
            from fw.application import service
            class Boom(service.Service):
                def startService(self):
                    raise RuntimeError("the database is not there")
            application = service.Application("boom")
            Boom().setServiceParent(application)
            """
        )
    )
    result = runFwd(["--pidfile", "app.pid", "-l", "app.log", "-y", "boom.tac"], tmp_path)
    assert result.returncode == 1
    assert "RuntimeError: the database is not there" in result.stderr


def test_foregroundStartupFailure(tmp_path: Path) -> None:
    (tmp_path / "bad.tac").write_text("raise ImportError('no module called nothing')\n")
    result = runFwd(["-n", "-y", "bad.tac"], tmp_path)
    assert result.returncode == 1
    assert "cannot load the application: no module called nothing" in result.stderr


def test_sighupReopensLogFile(tmp_path: Path, daemons: list[int]) -> None:
    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    result = runFwd(["--pidfile", "app.pid", "-l", "app.log", "-y", "finger.tac"], tmp_path)
    assert result.returncode == 0, result.stderr
    pid = int((tmp_path / "app.pid").read_text())
    daemons.append(pid)
    log = tmp_path / "app.log"
    waitFor(lambda: "started;" in log.read_text(), what="start")
    # What logrotate does: move the file away, then SIGHUP.
    log.rename(tmp_path / "app.log.old")
    os.kill(pid, signal.SIGHUP)
    waitFor(lambda: log.exists() and "reopened the log file" in log.read_text(), what="reopen")
    assert "reopened" not in (tmp_path / "app.log.old").read_text()
    assert alive(pid)
    os.kill(pid, signal.SIGTERM)
    waitFor(lambda: not alive(pid), what="exit")
    assert "server shut down" in log.read_text()


def test_saveConfigAndRunIt(tmp_path: Path, foreground: Callable[..., Foreground]) -> None:
    (tmp_path / "users").write_text("alice: Happy and well\n# comment\nbob: Out to lunch\n")
    sock = tmp_path / "finger.sock"
    result = runFwd(
        [
            "--save-config",
            "app.toml",
            "finger",
            "--file",
            "users",
            "--listen",
            f"unix:{sock}",
            "--list",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert not sock.exists()  # nothing ran
    saved = tomllib.loads((tmp_path / "app.toml").read_text())
    assert saved == {
        "plugin": "finger",
        "args": [],
        "options": {"file": str(tmp_path / "users"), "listen": f"unix:{sock}", "list": True},
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fg = foreground(["-n", "--config", str(tmp_path / "app.toml")], elsewhere)
    fg.waitForText("started;")

    def ask(query: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(sock))
            s.sendall(query + b"\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            return data

    assert ask(b"alice") == b"Login: alice\r\nHappy and well\r\n"
    assert ask(b"") == b"alice\r\nbob\r\n"
    assert fg.stop() == 0


def test_configErrors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text('plugin = "no-such-plugin"\n')
    code, _, err = fwdInProcess(["-n", "--config", "bad.toml"], capsys)
    assert code == 2
    assert "no plugin called 'no-such-plugin'" in err
    (tmp_path / "code.toml").write_text('plugin = "finger"\n[options]\nfile = {x = 1}\n')
    code, _, err = fwdInProcess(["-n", "--config", "code.toml"], capsys)
    assert code == 2
    assert "options.file" in err
    code, _, err = fwdInProcess(["-n", "--config", "missing.toml"], capsys)
    assert code == 2
    assert "cannot read" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root (CI runs as root)")
def test_privilegesDroppedAfterPrivilegedStart(
    tmp_path: Path, foreground: Callable[..., Foreground]
) -> None:
    nobody = pwd.getpwnam("nobody")
    lowPort = None
    for candidate in range(900, 1000):
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        finally:
            probe.close()
        lowPort = candidate
        break
    assert lowPort is not None, "no free port below 1024"
    tmp_path.chmod(0o777)
    (tmp_path / "priv.tac").write_text(
        textwrap.dedent(
            f"""
            import os
            from fw.application import internet, service
            from fw.internet import protocol

            class Echo(protocol.Protocol):
                def dataReceived(self, data):
                    self.transport.write(data)

            class Ids(service.Service):
                def privilegedStartService(self):
                    self.privileged = (os.getuid(), os.geteuid())
                def startService(self):
                    super().startService()
                    after = (os.getuid(), os.geteuid(), os.getgid())
                    with open("ids.txt", "w") as f:
                        f.write(f"{{self.privileged}} {{after}}")

            application = service.Application("priv")
            internet.TCPServer({lowPort}, protocol.ServerFactory.forProtocol(Echo),
                               interface="127.0.0.1").setServiceParent(application)
            Ids().setServiceParent(application)
            """
        )
    )
    fg = foreground(["-n", "-u", "nobody", "-g", str(nobody.pw_gid), "-y", "priv.tac"], tmp_path)
    fg.waitForText("started;")
    ids = (tmp_path / "ids.txt").read_text()
    assert ids == f"(0, 0) ({nobody.pw_uid}, {nobody.pw_uid}, {nobody.pw_gid})"
    status = Path(f"/proc/{fg.proc.pid}/status").read_text()
    uidLine = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uidLine.split()[1:] == [str(nobody.pw_uid)] * 4
    with socket.create_connection(("127.0.0.1", lowPort), timeout=5) as s:
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"
    assert fg.stop() == 0


def test_logFormatJson(tmp_path: Path, foreground: Callable[..., Foreground]) -> None:
    from fw.logger import eventsFromJSONLogFile

    (tmp_path / "finger.tac").write_text(FINGER_TAC)
    fg = foreground(
        ["-n", "-l", "-", "--log-format", "json", "--log-level", "info", "-y", "finger.tac"],
        tmp_path,
    )
    fg.waitForText("started;")
    assert fg.stop() == 0
    # Each record is RS + JSON + newline; print() from the .tac is not
    # redirected when logging to standard output, so its line is skipped.
    records = [r for r in fg.read().split("\x1e") if r.strip().startswith("{")]
    events = list(
        eventsFromJSONLogFile(
            io.BytesIO(b"".join(b"\x1e" + r.split("\n", 1)[0].encode() + b"\n" for r in records))
        )
    )
    assert len(events) == len(records) > 3
    formats = [e.get("log_format") for e in events]
    assert "fwd {version} (Python {python}) starting up" in formats
    assert any(e.get("log_namespace") == "fw.application.app" for e in events)
    assert all(json.loads(r.split("\n", 1)[0]) for r in records)


def test_reactorChosenByName(tmp_path: Path) -> None:
    (tmp_path / "which.tac").write_text(
        textwrap.dedent(
            """
            from fw.application import service
            from fw.internet import reactor
            print("reactor:", type(reactor).__name__, flush=True)
            reactor.callLater(0.1, reactor.stop)
            application = service.Application("which")
            """
        )
    )
    result = runFwd(["-n", "-r", "select", "-y", "which.tac"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reactor: SelectReactor" in result.stdout


def fwdInProcess(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run fwd's main() here, for command lines that end before the reactor runs."""
    from fw.application.fwd import main

    try:
        code = main(args)
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_unknownReactor(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = fwdInProcess(["-n", "-r", "nope", "-y", "which.tac"], capsys)
    assert code == 2
    assert "no reactor called 'nope'" in err


def test_profile(tmp_path: Path) -> None:
    (tmp_path / "quick.tac").write_text(
        "from fw.application import service\nfrom fw.internet import reactor\n"
        "reactor.callLater(0.1, reactor.stop)\napplication = service.Application('q')\n"
    )
    result = runFwd(["-n", "--profile", "prof.txt", "-y", "quick.tac"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "function calls" in (tmp_path / "prof.txt").read_text()


def test_profileSaveStats(tmp_path: Path) -> None:
    import pstats

    from fw.application.app import AppProfiler

    class Reactor:
        def run(self) -> None:
            sum(range(1000))

    output = str(tmp_path / "prof.bin")
    AppProfiler({"profile": output, "savestats": 1, "profiler": "cprofile"}).run(Reactor())
    assert pstats.Stats(output).total_calls > 0


def test_helpListsPluginsAndReactors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = fwdInProcess(["--help"], capsys)
    assert code == 0
    for name in ("finger", "portforward", "procmon", "socks"):
        assert name in out
    assert "A SOCKS 4, 4a and 5 proxy." in out
    _, out, _ = fwdInProcess(["--help-reactors"], capsys)
    assert "select" in out
    assert "epoll" in out
    _, out, _ = fwdInProcess(["finger", "--help"], capsys)
    assert "--file" in out
    code, _, err = fwdInProcess([], capsys)
    assert code == 2
    assert "nothing to run" in err


def test_helpAsProcess(tmp_path: Path) -> None:
    result = runFwd(["--help"], tmp_path)
    assert result.returncode == 0
    assert "procmon" in result.stdout
