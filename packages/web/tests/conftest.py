"""Fixtures shared by fw-web's tests."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Callable
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
