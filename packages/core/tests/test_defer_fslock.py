"""Tests for DeferredFilesystemLock: waiting for a lock file without blocking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fw.internet import defer
from fw.internet.defer import (
    AlreadyTryingToLockError,
    CancelledError,
    Deferred,
    DeferredFilesystemLock,
    TimeoutError,
)
from fw.internet.task import Clock
from fw.python.failure import Failure
from fw.python.lockfile import FilesystemLock


def outcome(d: Deferred[Any]) -> Any:
    assert d.called, f"{d!r} has not fired"
    value = d.result
    if isinstance(value, Failure):
        d.addErrback(lambda _: None)
    return value


@pytest.fixture
def lockPath(tmp_path: Path) -> str:
    return str(tmp_path / "lock")


def test_isAFilesystemLock(lockPath: str) -> None:
    lock = DeferredFilesystemLock(lockPath, Clock())
    assert isinstance(lock, FilesystemLock)
    assert lock.name == lockPath
    assert DeferredFilesystemLock.__module__ == "fw.internet.defer"
    assert defer.DeferredFilesystemLock is DeferredFilesystemLock


def test_lockFreeFiresAtOnce(lockPath: str) -> None:
    clock = Clock()
    lock = DeferredFilesystemLock(lockPath, clock)
    d = lock.deferUntilLocked()
    assert outcome(d) is None
    assert lock.locked
    assert clock.getDelayedCalls() == []
    lock.unlock()


def test_waitsForTheHolder(lockPath: str) -> None:
    clock = Clock()
    holder = FilesystemLock(lockPath)
    assert holder.lock()
    lock = DeferredFilesystemLock(lockPath, clock)
    d = lock.deferUntilLocked()
    assert not d.called
    clock.advance(lock._interval)
    assert not d.called
    holder.unlock()
    clock.advance(lock._interval)
    assert outcome(d) is None
    assert lock.locked
    assert clock.getDelayedCalls() == []
    lock.unlock()


def test_timeout(lockPath: str) -> None:
    clock = Clock()
    holder = FilesystemLock(lockPath)
    assert holder.lock()
    lock = DeferredFilesystemLock(lockPath, clock)
    d = lock.deferUntilLocked(timeout=5.5)
    clock.pump([1] * 5)
    assert not d.called
    clock.advance(0.5)
    f = outcome(d)
    assert f.check(TimeoutError)
    assert "Timed out acquiring lock" in f.getErrorMessage()
    assert clock.getDelayedCalls() == []
    holder.unlock()


def test_lockedBeforeTimeoutCancelsTimeout(lockPath: str) -> None:
    clock = Clock()
    holder = FilesystemLock(lockPath)
    assert holder.lock()
    lock = DeferredFilesystemLock(lockPath, clock)
    d = lock.deferUntilLocked(timeout=10)
    holder.unlock()
    clock.advance(1)
    assert outcome(d) is None
    assert clock.getDelayedCalls() == []
    lock.unlock()


def test_cancel(lockPath: str) -> None:
    clock = Clock()
    holder = FilesystemLock(lockPath)
    assert holder.lock()
    lock = DeferredFilesystemLock(lockPath, clock)
    d = lock.deferUntilLocked(timeout=10)
    d.cancel()
    assert outcome(d).check(CancelledError)
    assert clock.getDelayedCalls() == []
    # It can wait again.
    holder.unlock()
    assert outcome(lock.deferUntilLocked()) is None
    lock.unlock()


def test_cancelWhenTheLockJustFreed(lockPath: str) -> None:
    clock = Clock()
    holder = FilesystemLock(lockPath)
    assert holder.lock()
    lock = DeferredFilesystemLock(lockPath, clock)
    d = lock.deferUntilLocked()
    holder.unlock()
    d.cancel()
    # A last try at cancelling time got the lock: that is the result.
    assert outcome(d) is None
    assert lock.locked
    lock.unlock()


def test_notConcurrent(lockPath: str) -> None:
    clock = Clock()
    holder = FilesystemLock(lockPath)
    assert holder.lock()
    lock = DeferredFilesystemLock(lockPath, clock)
    first = lock.deferUntilLocked()
    second = lock.deferUntilLocked()
    assert outcome(second).check(AlreadyTryingToLockError)
    first.cancel()
    outcome(first)
    holder.unlock()


def test_heldByAnotherProcess(lockPath: str) -> None:
    # A child process takes the lock, then waits for its stdin to close.
    program = (
        "import sys\n"
        "from fw.python.lockfile import FilesystemLock\n"
        f"lock = FilesystemLock({lockPath!r})\n"
        "assert lock.lock()\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
        "lock.unlock()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", program],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        clock = Clock()
        lock = DeferredFilesystemLock(lockPath, clock)
        d = lock.deferUntilLocked()
        assert not d.called
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    clock.advance(lock._interval)
    assert outcome(d) is None
    lock.unlock()


def test_defaultSchedulerIsTheGlobalReactor(
    lockPath: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setitem(sys.modules, "fw.internet.reactor", clock)
    lock = DeferredFilesystemLock(lockPath)
    assert lock._scheduler is clock
