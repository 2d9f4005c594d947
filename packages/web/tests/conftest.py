"""Fixtures shared by fw-web's tests: running a client reactor (``reactor``, ``run``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

# ``requirePeer`` and ``requireModule`` (skip a test whose peer is missing, or
# fail it under FW_REQUIRE_PEERS=1 as in CI) are fw-trial's pytest plugin's.


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
