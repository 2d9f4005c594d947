"""
Perspective Broker against Twisted's own PB, on loopback, both ways.

Twisted is not a dependency of fw: its side runs in a subprocess, with the
Python named by ``FW_TWISTED_PYTHON`` (a virtualenv with ``twisted`` in it).
Without it the tests skip, except with ``FW_REQUIRE_PEERS=1`` (as in CI),
where they fail.

The exported objects and the checks are written once, in
``interop/pb_twisted_peer.py``, against modules passed in: the Twisted peer
passes ``twisted.spread.pb`` and ``twisted.cred``, these tests pass
``fw.spread.pb`` and ``fw.cred``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fw.cred import checkers, credentials, portal
from fw.internet import defer
from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.protocol import ProcessProtocol
from fw.python.failure import Failure
from fw.spread import pb

PEER_SCRIPT = Path(__file__).parent / "interop" / "pb_twisted_peer.py"


def _loadPeer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_fw_pb_twisted_peer", PEER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


peer = _loadPeer()
ns = peer.defineObjects(pb, portal, checkers, defer)


@pytest.fixture
def twistedPython() -> str:
    """The Python with Twisted in it, from ``FW_TWISTED_PYTHON``."""
    path = os.environ.get("FW_TWISTED_PYTHON")
    if not path:
        message = "FW_TWISTED_PYTHON is not set: no Twisted to test PB against"
        if os.environ.get("FW_REQUIRE_PEERS") == "1":
            pytest.fail(message + " (FW_REQUIRE_PEERS=1)")
        pytest.skip(message)
    probe = subprocess.run(
        [path, "-c", "import twisted.spread.pb; print(twisted.__version__)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, f"{path} cannot import twisted: {probe.stderr}"
    return path


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


def _assertAllPassed(results: dict[str, str]) -> None:
    assert sorted(results) == sorted(peer.CHECKS)
    failed = {name: outcome for name, outcome in results.items() if outcome != "ok"}
    assert not failed, failed


async def _settle(reactor: Any) -> None:
    # Let the closing connections finish closing.
    d: Deferred[None] = Deferred()
    reactor.callLater(0.2, d.callback, None)
    await d


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_fwClientTwistedServer(
    reactor: Any, runReactor: Callable[..., Any], twistedPython: str
) -> None:
    """fw's PB client runs every check against Twisted's PB server."""
    server = subprocess.Popen(
        [twistedPython, str(PEER_SCRIPT), "server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        rootLine, loginLine = _readLines(server, 2, timeout=20)
        port = int(rootLine.split()[1])
        loginPort = int(loginLine.split()[1])

        async def scenario() -> dict[str, str]:
            results: dict[str, str] = await peer.clientChecks(
                pb, credentials, ns, reactor, port, loginPort
            )
            await _settle(reactor)
            return results

        results = runReactor(reactor, lambda: ensureDeferred(scenario()), timeout=30)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=20)
        assert server.stdout is not None
        server.stdout.close()
    _assertAllPassed(results)


class _Collect(ProcessProtocol):
    """Collects a child's output; ``ended`` fires with (output, errors, exit code)."""

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
    reactor: Any, runReactor: Callable[..., Any], twistedPython: str
) -> None:
    """Twisted's PB client runs every check against fw's PB server."""

    async def scenario() -> tuple[str, str, int | None]:
        rootPort = reactor.listenTCP(0, pb.PBServerFactory(ns.Root()), interface="127.0.0.1")
        loginPort = reactor.listenTCP(
            0, pb.PBServerFactory(ns.loginPortal()), interface="127.0.0.1"
        )
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
                    str(rootPort.getHost().port),
                    str(loginPort.getHost().port),
                ],
                env=env,
            )
            return await child.ended
        finally:
            await rootPort.stopListening()
            await loginPort.stopListening()

    output, errors, code = runReactor(reactor, lambda: ensureDeferred(scenario()), timeout=40)
    assert output.strip(), f"the Twisted client printed nothing; stderr: {errors}"
    # What the Twisted client provoked is logged on the server, as Twisted does:
    # the crashing remote method, the missing one, the refused login.
    from fw.cred.error import UnauthorizedLogin
    from fw.spread.flavors import NoSuchMethod

    logged = runReactor.flushLoggedErrors(ZeroDivisionError, NoSuchMethod, UnauthorizedLogin)
    assert len(logged) == 3
    results = json.loads(output.strip().splitlines()[-1])
    _assertAllPassed(results)
    assert code == 0, errors
