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

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from fw.internet import task
from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.endpoints import (
    TCP4ClientEndpoint,
    UNIXClientEndpoint,
    connectProtocol,
)
from fw.internet.protocol import Factory
from fw.protocols import amp
from fw.python.filepath import FilePath


@pytest.fixture
def peer(twistedPeer: Callable[[str], Any]) -> Any:
    """Twisted's side: ``interop/amp_twisted_peer.py``."""
    return twistedPeer("amp_twisted_peer")


def _definitions(peer: Any, reactor: Any) -> Any:
    return peer.module.defineProtocol(amp, task.deferLater, reactor, FilePath)


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_fwClientTwistedServer(
    reactor: Any,
    runReactor: Callable[..., Any],
    peer: Any,
    sockDir: str,
) -> None:
    """fw's AMP client runs every check against Twisted's AMP server."""
    with peer.serving("server", sockDir, lines=2) as (tcpLine, unixLine):
        port = int(tcpLine.split()[1])
        sockPath = unixLine.split(None, 1)[1]
        ns = _definitions(peer, reactor)

        def connectTCP() -> Deferred[Any]:
            return connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), ns.Calculator())

        def connectUNIX() -> Deferred[Any]:
            return connectProtocol(UNIXClientEndpoint(reactor, sockPath), ns.Calculator())

        results = runReactor(
            reactor,
            lambda: ensureDeferred(peer.module.clientChecks(amp, ns, connectTCP, connectUNIX)),
            timeout=20,
        )
    peer.assertAllPassed(results)


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_twistedClientFwServer(
    reactor: Any,
    runReactor: Callable[..., Any],
    peer: Any,
    sockDir: str,
) -> None:
    """Twisted's AMP client runs every check against fw's AMP server."""
    ns = _definitions(peer, reactor)
    factory = Factory.forProtocol(ns.Calculator)
    sockPath = os.path.join(sockDir, "fw-amp.sock")

    async def scenario() -> tuple[str, str, int | None]:
        tcpPort = reactor.listenTCP(0, factory, interface="127.0.0.1")
        unixPort = reactor.listenUNIX(sockPath, factory)
        try:
            return await peer.spawn(reactor, "client", str(tcpPort.getHost().port), sockPath)
        finally:
            await tcpPort.stopListening()
            await unixPort.stopListening()

    output, errors, code = runReactor(reactor, lambda: ensureDeferred(scenario()), timeout=20)
    assert output.strip(), f"the Twisted client printed nothing; stderr: {errors}"
    # The responder's undeclared error is logged on the server, as Twisted does.
    assert len(runReactor.flushLoggedErrors(RuntimeError)) == 1
    results = json.loads(output.strip().splitlines()[-1])
    peer.assertAllPassed(results)
    assert code == 0, errors
