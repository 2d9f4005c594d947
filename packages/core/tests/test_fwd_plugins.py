"""``fwd``'s options, saved configurations, syslog, the core plugins, and the
finger tutorial's .tac steps run under ``fwd``."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.application import _fwd_posix as posix
from fw.application._fwd_config import (
    ConfigError,
    SavedConfig,
    configFromCommandLine,
    dumpTOML,
    readConfig,
    writeConfig,
)
from fw.application.app import AppLogger, ServerOptions, SyslogObserver
from fw.application.service import IService, IServiceMaker
from fw.logger import LogLevel
from fw.plugin import getPlugin, iterPluginEntries
from fw.python import usage

pytestmark = pytest.mark.timeout(60)

FWD = [sys.executable, "-m", "fw.application"]
TACS = Path(__file__).resolve().parent / "fwd_tacs"


# -- options


def parse(*args: str) -> ServerOptions:
    config = ServerOptions()
    config.parseOptions(list(args))
    return config


def test_optionsDefaults(tmp_path: Path) -> None:
    config = parse("-y", "app.tac")
    assert config["python"] == "app.tac"
    assert config["pidfile"] == os.path.abspath("fwd.pid")
    assert config["log-format"] == "text"
    foreground = parse("-n", "-y", "app.tac")
    assert foreground["pidfile"] == ""


def test_debugImpliesNodaemon() -> None:
    assert parse("-b", "-y", "x.tac")["nodaemon"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to run"),
        (("-y", "a.tac", "finger", "--file", __file__), "not both"),
        (("-n", "--log-format", "xml", "-y", "a"), "text or json"),
        (("-n", "--log-level", "loud", "-y", "a"), "--log-level"),
        (("-l", "-", "-y", "a"), "needs --nodaemon"),
        (("--save-config", "x.toml", "-y", "a"), "needs a plugin"),
        (("-u", "no-such-user-here", "-y", "a"), "no such user"),
        (("--umask", "9", "-y", "a"), "octal"),
        (("-n", "--profiler", "hotshot", "-y", "a"), "profiler"),
    ],
)
def test_badOptions(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(usage.UsageError, match=message):
        parse(*args)


def test_userAndGroupByName() -> None:
    config = parse("-u", "root", "-g", "0", "-y", "a")
    assert (config["uid"], config["gid"]) == (0, 0)


def test_pluginsAreRegistered() -> None:
    names = {e.name for e in iterPluginEntries(IServiceMaker)}
    assert {"finger", "portforward", "procmon", "socks"} <= names
    for name in ("finger", "portforward", "procmon", "socks"):
        maker = getPlugin(IServiceMaker, name)
        assert maker.tapname == name
        assert maker.description


# -- saved configurations


def test_configFromCommandLine() -> None:
    config = parse("portforward", "-p", "7000", "--host", "example.com", "-d", "80")
    saved = config.savedConfig()
    assert saved == SavedConfig(
        "portforward", {"port": "7000", "host": "example.com", "dest_port": 80}, []
    )
    assert saved.commandLine() == ["--port=7000", "--host=example.com", "--dest_port=80"]


def test_configRepeatedOptionsAndArgs() -> None:
    config = parse("socks", "--allow", "10.0.0.0/8", "--allow", "::1/128", "--allow-all")
    saved = config.savedConfig()
    assert saved.options == {"allow": ["10.0.0.0/8", "::1/128"], "allow-all": True}
    config = parse("procmon", "-t", "2", "--", sys.executable, "-c", "pass")
    saved = config.savedConfig()
    assert saved.options == {"threshold": 2.0}
    assert saved.args == [sys.executable, "-c", "pass"]
    again = ServerOptions()
    again.parseOptions(["procmon", *saved.commandLine()])
    assert again.subOptions["args"] == [sys.executable, "-c", "pass"]


toml_scalars = st.one_of(
    st.text(), st.integers(-(2**63), 2**63 - 1), st.booleans(), st.floats(allow_nan=False)
)


@given(
    st.dictionaries(
        st.text(min_size=1),
        st.one_of(toml_scalars, st.lists(toml_scalars, max_size=4)),
        max_size=6,
    ),
    st.lists(st.text(), max_size=4),
    st.text(min_size=1),
)
def test_tomlRoundTrip(options: dict[str, Any], args: list[str], plugin: str) -> None:
    text = dumpTOML({"plugin": plugin, "args": args, "options": options}, header="a\nb")
    assert tomllib.loads(text) == {"plugin": plugin, "args": args, "options": options}


def test_tomlRefusesOtherTypes() -> None:
    with pytest.raises(ConfigError):
        dumpTOML({"x": object()})
    with pytest.raises(ConfigError):
        dumpTOML({"t": {"nested": {"deeper": 1}}})


def test_writeAndReadConfig(tmp_path: Path) -> None:
    path = str(tmp_path / "c.toml")
    saved = SavedConfig("finger", {"file": "/etc/users", "list": True, "n": [1, 2]}, ["a"])
    writeConfig(path, saved)
    assert readConfig(path) == saved


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plugin = 1", "'plugin' must"),
        ("not toml at all [", "not valid TOML"),
        ('plugin = "x"\nextra = 1', "unknown keys"),
        ('plugin = "x"\noptions = 3', "must be a table"),
        ('plugin = "x"\n[options]\na = [[1]]', "lists hold"),
        ('plugin = "x"\nargs = [1]', "list of strings"),
    ],
)
def test_readConfigErrors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        readConfig(str(path))


def test_readConfigTooLarge(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="larger"):
        readConfig(str(path))


def test_configFromCommandLineKeepsParsedValues() -> None:
    from fw.application.tap.portforward import Options

    options = Options()
    options.parseOptions(["-d", "81"])
    saved = configFromCommandLine("portforward", options, ["-d", "81"])
    assert saved.options == {"dest_port": 81}


# -- logging


class FakeSyslog:
    LOG_DAEMON = 24
    LOG_PID = 1
    LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_ALERT = 7, 6, 4, 3, 1

    def __init__(self) -> None:
        self.opened: tuple[str, int, int] | None = None
        self.messages: list[tuple[int, str]] = []

    def openlog(self, ident: str, option: int, facility: int) -> None:
        self.opened = (ident, option, facility)

    def syslog(self, priority: int, message: str) -> None:
        self.messages.append((priority, message))


def test_syslogObserver() -> None:
    fake = FakeSyslog()
    observer = SyslogObserver("myprefix", syslogModule=fake)
    assert fake.opened == ("myprefix", 1, 24)
    observer({"log_format": "hello {x}", "x": 1, "log_level": LogLevel.warn, "log_system": "s"})
    observer({"log_format": "two\nlines", "log_level": LogLevel.error, "log_namespace": "n"})
    assert fake.messages == [(4, "[s] hello 1"), (3, "[n] two"), (3, "[n] lines")]


def test_appLoggerChoosesOutput(tmp_path: Path) -> None:
    logger = AppLogger({"nodaemon": 1})
    logger.observer()
    assert logger.logFile is None
    assert not logger._redirect
    logger = AppLogger({"logfile": str(tmp_path / "x.log"), "log-rotate-length": 10})
    logger.observer()
    assert logger.logFile.rotateLength == 10
    assert logger._redirect
    logger.logFile.close()


# -- POSIX helpers


def test_checkPID(tmp_path: Path) -> None:
    pidfile = str(tmp_path / "p.pid")
    assert posix.checkPID(pidfile) is None
    Path(pidfile).write_text(str(os.getppid()))
    with pytest.raises(posix.AlreadyRunning):
        posix.checkPID(pidfile)
    Path(pidfile).unlink()
    posix.writePID(pidfile)
    assert Path(pidfile).read_text() == f"{os.getpid()}\n"
    posix.removePID(pidfile)
    assert not Path(pidfile).exists()


def test_shedPrivilegesToSameIdsDoesNothing() -> None:
    posix.shedPrivileges(os.getuid(), os.getgid())
    posix.shedPrivileges(None, None)


# -- the plugins, run by fwd


class Running:
    """A ``fwd -n`` process; :meth:`waitUntilStarted` reads its log until it runs."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [*FWD, "-n", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.output = b""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            chunk = self.proc.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            self.output += chunk

    def waitUntilStarted(self) -> None:
        deadline = time.monotonic() + 10
        while b"started;" not in self.output:
            self._read()
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = self.stop()
                raise AssertionError(f"fwd did not start:\n{output}")
            time.sleep(0.02)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.stdout is not None
        if not self.proc.stdout.closed:  # stopped once already (a start-up failure)
            os.set_blocking(self.proc.stdout.fileno(), True)
            self.output += self.proc.stdout.read()
            self.proc.stdout.close()
        return self.output.decode()


def unixQuery(path: Path, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(data)
        received = b""
        while chunk := s.recv(4096):
            received += chunk
        return received


def test_fingerPlugin(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("alice: Happy and well\n")
    sock = tmp_path / "f.sock"
    run = Running(["finger", "--file", str(users), "--listen", f"unix:{sock}"], tmp_path)
    try:
        run.waitUntilStarted()
        assert unixQuery(sock, b"alice\r\n") == b"Login: alice\r\nHappy and well\r\n"
        assert unixQuery(sock, b"carol\r\n") == b"Login: carol\r\nNo such user\r\n"
        assert unixQuery(sock, b"\r\n") == b"Finger online list denied\r\n"
        # Edits are picked up while running.
        users.write_text("alice: Happy and well\ncarol: New here\n")
        os.utime(users, (time.time() + 5, time.time() + 5))
        assert unixQuery(sock, b"carol\r\n") == b"Login: carol\r\nNew here\r\n"
    finally:
        output = run.stop()
    assert run.proc.returncode == 0, output


def test_portforwardPlugin(tmp_path: Path) -> None:
    backend = socket.socket()
    backend.bind(("127.0.0.1", 0))
    backend.listen()
    sock = tmp_path / "pf.sock"
    port = backend.getsockname()[1]
    run = Running(
        ["portforward", "--listen", f"unix:{sock}", "-h", "127.0.0.1", "-d", str(port)], tmp_path
    )
    try:
        run.waitUntilStarted()
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(5)
            client.connect(str(sock))
            client.sendall(b"through the forwarder")
            backend.settimeout(5)
            conn, _ = backend.accept()
            with conn:
                data = b""
                while len(data) < 21:
                    data += conn.recv(100)
                assert data == b"through the forwarder"
                conn.sendall(b"back")
                assert client.recv(100) == b"back"
    finally:
        backend.close()
        output = run.stop()
    assert run.proc.returncode == 0, output


def test_socksPlugin(tmp_path: Path) -> None:
    """A SOCKS 4a request through ``fwd socks`` reaches a loopback server when allowed."""
    backend = socket.socket()
    backend.bind(("127.0.0.1", 0))
    backend.listen()
    port = backend.getsockname()[1]
    sock = tmp_path / "socks.sock"
    run = Running(["socks", "--listen", f"unix:{sock}", "--allow", "127.0.0.0/8"], tmp_path)
    try:
        run.waitUntilStarted()
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(5)
            client.connect(str(sock))
            client.sendall(b"\x04\x01" + port.to_bytes(2, "big") + bytes([127, 0, 0, 1]) + b"\0")
            reply = client.recv(8)
            assert reply[1] == 90, reply
            backend.settimeout(5)
            conn, _ = backend.accept()
            conn.close()
    finally:
        backend.close()
        output = run.stop()
    assert run.proc.returncode == 0, output


def test_procmonPlugin(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    script = f"open({str(marker)!r}, 'a').write('x')"
    run = Running(
        ["procmon", "-t", "0.001", "-m", "0.01", "--", sys.executable, "-c", script], tmp_path
    )
    try:
        deadline = time.monotonic() + 15
        while not (marker.exists() and len(marker.read_text()) >= 3):
            assert time.monotonic() < deadline, "the child was not restarted"
            time.sleep(0.05)
    finally:
        output = run.stop()
    assert run.proc.returncode == 0, output


def test_procmonOptions() -> None:
    from fw.application.tap import procmon

    options = procmon.Options()
    with pytest.raises(usage.UsageError, match="program"):
        options.parseOptions([])
    with pytest.raises(usage.UsageError, match="not found"):
        procmon.Options().parseOptions(["no-such-program-anywhere"])
    options = procmon.Options()
    options.parseOptions(["-k", "2", "sh", "-c", "true"])
    monitor = procmon.makeService(options)
    assert monitor.killTime == 2  # type: ignore[attr-defined]
    assert IService.providedBy(monitor)


# -- the finger tutorial under fwd


def tutorialArgs() -> list[str]:
    if os.geteuid() == 0:
        return []
    # Not root: the .tac's uid=1/gid=1 cannot be switched to; run as ourselves.
    return ["-u", str(os.getuid()), "-g", str(os.getgid())]


@pytest.mark.parametrize("step", ["finger_step_a.tac", "finger_step_b.tac"])
def test_fingerTutorialStepsRunUnderFwd(step: str) -> None:
    # A directory user 1 can reach once fwd has switched to it (pytest's
    # tmp_path is under a directory only its owner can enter).
    tmp_path = Path(tempfile.mkdtemp(prefix="fwd-tutorial-"))
    tmp_path.chmod(0o755)
    try:
        runTutorialStep(tmp_path, step)
    finally:
        shutil.rmtree(tmp_path)


def runTutorialStep(tmp_path: Path, step: str) -> None:
    sock = tmp_path / "finger.sock"
    users = tmp_path / "users"
    users.write_text("moshez: Happy and well\n")
    text = (TACS / step).read_text()
    text = text.replace('"tcp:79"', repr(f"unix:{sock}")).replace('"/etc/users"', repr(str(users)))
    (tmp_path / step).write_text(text)
    run = Running([*tutorialArgs(), "-y", step], tmp_path)
    try:
        run.waitUntilStarted()
        assert unixQuery(sock, b"moshez\r\n") == b"Happy and well\r\n"
        assert unixQuery(sock, b"nobody\r\n") == b"No such user\r\n"
        if os.geteuid() == 0:
            status = Path(f"/proc/{run.proc.pid}/status").read_text()
            uidLine = next(line for line in status.splitlines() if line.startswith("Uid:"))
            assert uidLine.split()[1] == "1", pwd.getpwuid(1)
    finally:
        output = run.stop()
    assert run.proc.returncode == 0, output
