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

import functools
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from fw.cred import checkers, credentials, portal
from fw.internet import defer
from fw.internet.defer import Deferred, ensureDeferred
from fw.spread import pb


@pytest.fixture
def peer(twistedPeer: Callable[[str], Any]) -> Any:
    """Twisted's side: ``interop/pb_twisted_peer.py``."""
    return twistedPeer("pb_twisted_peer")


@functools.cache
def _objects(peerModule: ModuleType) -> Any:
    # Defined once: they register their copyable types with pb.
    return peerModule.defineObjects(pb, portal, checkers, defer)


async def _settle(reactor: Any) -> None:
    # Let the closing connections finish closing.
    d: Deferred[None] = Deferred()
    reactor.callLater(0.2, d.callback, None)
    await d


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_fwClientTwistedServer(reactor: Any, runReactor: Callable[..., Any], peer: Any) -> None:
    """fw's PB client runs every check against Twisted's PB server."""
    ns = _objects(peer.module)
    with peer.serving("server", lines=2) as (rootLine, loginLine):
        port = int(rootLine.split()[1])
        loginPort = int(loginLine.split()[1])

        async def scenario() -> dict[str, str]:
            results: dict[str, str] = await peer.module.clientChecks(
                pb, credentials, ns, reactor, port, loginPort
            )
            await _settle(reactor)
            return results

        results = runReactor(reactor, lambda: ensureDeferred(scenario()), timeout=30)
    peer.assertAllPassed(results)


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_twistedClientFwServer(reactor: Any, runReactor: Callable[..., Any], peer: Any) -> None:
    """Twisted's PB client runs every check against fw's PB server."""
    ns = _objects(peer.module)

    async def scenario() -> tuple[str, str, int | None]:
        rootPort = reactor.listenTCP(0, pb.PBServerFactory(ns.Root()), interface="127.0.0.1")
        loginPort = reactor.listenTCP(
            0, pb.PBServerFactory(ns.loginPortal()), interface="127.0.0.1"
        )
        try:
            return await peer.spawn(
                reactor, "client", str(rootPort.getHost().port), str(loginPort.getHost().port)
            )
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
    peer.assertAllPassed(results)
    assert code == 0, errors
