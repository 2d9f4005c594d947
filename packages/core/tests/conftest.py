"""Fixtures for fw-core's tests: every reactor backend; fw-trial's plugin runs them."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import select
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The conformance suite: each backend available here, by module and class.
_BACKENDS = {
    "select": ("fw.internet.selectreactor", "SelectReactor"),
    "poll": ("fw.internet.pollreactor", "PollReactor"),
    "epoll": ("fw.internet.epollreactor", "EPollReactor"),
    "asyncio": ("fw.internet.asyncioreactor", "AsyncioSelectorReactor"),
    "uvloop": ("fw.internet.asyncioreactor", "AsyncioSelectorReactor"),
    "glib": ("fw.internet.gireactor", "GIReactor"),
}


def _available(name: str) -> bool:
    if name in ("poll", "epoll"):
        return hasattr(select, name)
    if name == "uvloop":
        return importlib.util.find_spec("uvloop") is not None
    if name == "glib":
        # PyGObject: CI installs it, so there a missing one fails (in _build).
        return _peersRequired() or importlib.util.find_spec("gi") is not None
    return True


def _peersRequired() -> bool:
    return os.environ.get("FW_REQUIRE_PEERS") == "1"


_AVAILABLE = [name for name in _BACKENDS if _available(name)]


def _build(name: str) -> Any:
    module, cls = _BACKENDS[name]
    if name == "glib":
        try:
            importlib.import_module("gi.repository.GLib")
        except ImportError as e:
            message = f"the glib backend needs PyGObject: {e}"
            if _peersRequired():
                pytest.fail(message + " (FW_REQUIRE_PEERS=1)")
            pytest.skip(message)
    factory = getattr(importlib.import_module(module), cls)
    if name == "uvloop":
        import uvloop

        return factory(uvloop.new_event_loop())
    return factory()


def requirePeer(program: str) -> str:
    """
    Return the path of a peer program the test needs.

    Skips the test when it is missing, unless FW_REQUIRE_PEERS=1 (as in CI),
    where a missing peer fails it.
    """
    path = shutil.which(program)
    if path is None:
        message = f"peer program {program!r} is not installed"
        if os.environ.get("FW_REQUIRE_PEERS") == "1":
            pytest.fail(message + " (FW_REQUIRE_PEERS=1)")
        pytest.skip(message)
    return path


@pytest.fixture(name="requirePeer")
def requirePeerFixture() -> Callable[[str], str]:
    """The :func:`requirePeer` function, for tests: ``path = requirePeer("curl")``."""
    return requirePeer


@pytest.fixture(params=_AVAILABLE)
def reactor(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new, not yet running reactor of each available backend."""
    instance = _build(request.param)
    yield instance
    # Release what the reactor itself holds (its waker, its poller).
    for reader in list(instance._internalReaders):
        instance.removeReader(reader)
        reader.connectionLost(None)
    poller = getattr(instance, "_poller", None)
    if poller is not None and hasattr(poller, "close"):
        poller.close()
    if instance.threadpool is not None:
        instance.threadpool.stop()
    loop = getattr(instance, "_asyncioEventloop", None)
    if loop is not None:
        loop.close()
    gc.collect()


# ``runReactor(reactor, f, timeout=10)``, which runs one of these reactors until
# ``f``'s Deferred fires and checks what the test left behind and logged, is
# fw-trial's pytest plugin's fixture: fw-core's tests need fw-trial installed
# (fw-core's ``test`` dependency group, PEP 735).
