"""
AMP against Twisted's own AMP, on loopback, both ways.

Twisted is not a dependency of fw: its side runs in a subprocess, with the
Python named by ``FW_TWISTED_PYTHON`` (a virtualenv with ``twisted`` in it;
nox's ``interop`` session makes one).  Without it the tests skip, except
with ``FW_REQUIRE_PEERS=1`` (as in CI), where they fail.

The commands, responders and checks are written once, in
``interop/amp_twisted_peer.py``, against an ``amp`` module passed in: the
Twisted peer passes ``twisted.protocols.amp``, these tests pass
``fw.protocols.amp``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fw.internet import task
from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.endpoints import (
    TCP4ClientEndpoint,
    UNIXClientEndpoint,
    connectProtocol,
)
from fw.internet.protocol import Factory, ProcessProtocol
from fw.protocols import amp
from fw.python.failure import Failure
from fw.python.filepath import FilePath

PEER_SCRIPT = Path(__file__).parent / "interop" / "amp_twisted_peer.py"


def _loadPeer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_fw_amp_twisted_peer", PEER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


peer = _loadPeer()


@pytest.fixture
def twistedPython() -> str:
    """The Python with Twisted in it, from ``FW_TWISTED_PYTHON``."""
    path = os.environ.get("FW_TWISTED_PYTHON")
    if not path:
        message = "FW_TWISTED_PYTHON is not set: no Twisted to test AMP against"
        if os.environ.get("FW_REQUIRE_PEERS") == "1":
            pytest.fail(message + " (FW_REQUIRE_PEERS=1)")
        pytest.skip(message)
    probe = subprocess.run(
        [path, "-c", "import twisted; print(twisted.__version__)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, f"{path} cannot import twisted: {probe.stderr}"
    return path


@pytest.fixture
def sockDir() -> Iterator[str]:
    """A short directory for socket files (their paths are limited to 108 bytes)."""
    path = tempfile.mkdtemp(prefix="fw-amp-", dir="/tmp")
    yield path
    shutil.rmtree(path)


def _readLines(process: subprocess.Popen[bytes], count: int, timeout: float) -> list[str]:
    # Read ``count`` lines from the process's stdout, failing after ``timeout``.
    assert process.stdout is not None
    fd = process.stdout.fileno()
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while received.count(b"\n") < count:
            if not selector.select(timeout):
                raise AssertionError(f"the Twisted peer said only {received!r}")
            data = os.read(fd, 4096)
            if not data:
                raise AssertionError(f"the Twisted peer ended after {received!r}")
            received += data
    return received.decode().splitlines()[:count]


def _definitions(reactor: Any) -> Any:
    return peer.defineProtocol(amp, task.deferLater, reactor, FilePath)


def _assertAllPassed(results: dict[str, str]) -> None:
    assert sorted(results) == sorted(peer.CHECKS)
    failed = {name: outcome for name, outcome in results.items() if outcome != "ok"}
    assert not failed, failed


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_fwClientTwistedServer(
    reactor: Any,
    runReactor: Callable[..., Any],
    twistedPython: str,
    sockDir: str,
) -> None:
    """fw's AMP client runs every check against Twisted's AMP server."""
    server = subprocess.Popen(
        [twistedPython, str(PEER_SCRIPT), "server", sockDir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        tcpLine, unixLine = _readLines(server, 2, timeout=20)
        port = int(tcpLine.split()[1])
        sockPath = unixLine.split(None, 1)[1]
        ns = _definitions(reactor)

        def connectTCP() -> Deferred[Any]:
            return connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), ns.Calculator())

        def connectUNIX() -> Deferred[Any]:
            return connectProtocol(UNIXClientEndpoint(reactor, sockPath), ns.Calculator())

        results = runReactor(
            reactor,
            lambda: ensureDeferred(peer.clientChecks(amp, ns, connectTCP, connectUNIX)),
            timeout=20,
        )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=20)
        assert server.stdout is not None
        server.stdout.close()
    _assertAllPassed(results)


class _Collect(ProcessProtocol):
    """Collects a child's output; ``ended`` fires with (output, exit code)."""

    def __init__(self) -> None:
        self.output: list[bytes] = []
        self.errors: list[bytes] = []
        self.ended: Deferred[tuple[str, str, int | None]] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output.append(data)

    def errReceived(self, data: bytes) -> None:
        self.errors.append(data)

    def processEnded(self, reason: Failure) -> None:
        code = getattr(reason.value, "exitCode", None)
        self.ended.callback(
            (
                b"".join(self.output).decode("utf-8", "replace"),
                b"".join(self.errors).decode("utf-8", "replace"),
                code,
            )
        )


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_twistedClientFwServer(
    reactor: Any,
    runReactor: Callable[..., Any],
    twistedPython: str,
    sockDir: str,
) -> None:
    """Twisted's AMP client runs every check against fw's AMP server."""
    ns = _definitions(reactor)
    factory = Factory.forProtocol(ns.Calculator)
    sockPath = os.path.join(sockDir, "fw-amp.sock")

    async def scenario() -> tuple[str, str, int | None]:
        tcpPort = reactor.listenTCP(0, factory, interface="127.0.0.1")
        unixPort = reactor.listenUNIX(sockPath, factory)
        try:
            child = _Collect()
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            reactor.spawnProcess(
                child,
                twistedPython,
                [
                    twistedPython,
                    str(PEER_SCRIPT),
                    "client",
                    str(tcpPort.getHost().port),
                    sockPath,
                ],
                env=env,
            )
            return await child.ended
        finally:
            await tcpPort.stopListening()
            await unixPort.stopListening()

    output, errors, code = runReactor(reactor, lambda: ensureDeferred(scenario()), timeout=20)
    assert output.strip(), f"the Twisted client printed nothing; stderr: {errors}"
    # The responder's undeclared error is logged on the server, as Twisted does.
    assert len(runReactor.flushLoggedErrors(RuntimeError)) == 1
    results = json.loads(output.strip().splitlines()[-1])
    _assertAllPassed(results)
    assert code == 0, errors
