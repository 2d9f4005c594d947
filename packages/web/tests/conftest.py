"""Fixtures shared by fw-web's tests."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def _peersRequired() -> bool:
    return os.environ.get("FW_REQUIRE_PEERS") == "1"


@pytest.fixture(name="requirePeer")
def requirePeerFixture() -> Callable[[str], str]:
    """
    The path of a peer program a test needs: a missing one skips the test,
    or fails it when FW_REQUIRE_PEERS=1 (as in CI).
    """

    def require(program: str) -> str:
        path = shutil.which(program)
        if path is None:
            message = f"peer program {program!r} is not installed"
            if _peersRequired():
                pytest.fail(message + " (FW_REQUIRE_PEERS=1)")
            pytest.skip(message)
        return path

    return require


@pytest.fixture(name="requireModule")
def requireModuleFixture() -> Callable[[str], Any]:
    """Import a peer library; skip without it, fail if FW_REQUIRE_PEERS=1."""

    def require(name: str) -> Any:
        if _peersRequired():
            return importlib.import_module(name)
        return pytest.importorskip(name)

    return require


@pytest.fixture
def run() -> Callable[..., Any]:
    """
    ``run(reactor, f, timeout=10, grace=0.05)``: run ``reactor`` until the
    coroutine ``f()`` finishes, give closing connections ``grace`` seconds,
    then stop it; return the result or raise the failure, and fail if the
    test left delayed calls, readers or writers behind.
    """
    from fw.internet.defer import Deferred, ensureDeferred
    from fw.python.failure import Failure

    def run(reactor: Any, f: Callable[[], Any], timeout: float = 10, grace: float = 0.05) -> Any:
        """Run ``f()`` on ``reactor`` until it finishes; return or raise its result."""
        outcome: list[Any] = []

        def timedOut() -> None:
            outcome.append(AssertionError(f"still running after {timeout}s"))
            reactor.stop()

        def start() -> None:
            d: Deferred[Any] = ensureDeferred(f())
            d.addBoth(outcome.append)
            # Closing connections finish closing within a few reactor turns.
            d.addBoth(lambda _: reactor.callLater(grace, stop))

        def stop() -> None:
            # What the test left behind: pooled connections, timers.
            calls = [c for c in reactor.getDelayedCalls() if c is not guard]
            if calls or reactor.getReaders() or reactor.getWriters():
                leftovers.append(f"{calls} {reactor.getReaders()} {reactor.getWriters()}")
            reactor.stop()

        leftovers: list[str] = []
        guard = reactor.callLater(timeout, timedOut)
        reactor.callWhenRunning(start)
        reactor.run(installSignalHandlers=False)
        if guard.active():
            guard.cancel()
        assert outcome, "the reactor stopped early"
        if isinstance(outcome[0], Failure):
            outcome[0].raiseException()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        assert not leftovers, f"the test left reactor state behind: {leftovers}"
        return outcome[0]

    return run


@pytest.fixture(params=["epoll", "asyncio"])
def reactor(request: pytest.FixtureRequest) -> Iterator[Any]:
    """
    A new client reactor for the test, each of epoll and asyncio in turn;
    its descriptors and loop are closed afterwards.
    """
    if request.param == "epoll":
        from fw.internet.epollreactor import EPollReactor

        instance: Any = EPollReactor()
    else:
        from fw.internet.asyncioreactor import AsyncioSelectorReactor

        instance = AsyncioSelectorReactor()
    yield instance
    for reader in list(instance._internalReaders):
        instance.removeReader(reader)
        reader.connectionLost(None)
    poller = getattr(instance, "_poller", None)
    if poller is not None and hasattr(poller, "close"):
        poller.close()
    loop = getattr(instance, "_asyncioEventloop", None)
    if loop is not None:
        loop.close()
