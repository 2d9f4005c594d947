"""Tests for fw.python.lockfile."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fw.python import _lockfile, lockfile
from fw.python.lockfile import FilesystemLock, isLocked

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX symlink locks")


@pytest.fixture
def lockPath(tmp_path: Path) -> str:
    return str(tmp_path / "lock")


def deadPid() -> int:
    """The process ID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def failWith(code: int) -> Callable[..., None]:
    def fail(*args: object) -> None:
        raise OSError(code, os.strerror(code))

    return fail


class TestLock:
    def test_lock_and_unlock(self, lockPath: str) -> None:
        fresh = FilesystemLock(lockPath)
        assert (fresh.clean, fresh.locked) == (None, False)
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        assert lock.locked
        assert lock.clean
        assert os.readlink(lockPath) == str(os.getpid())
        lock.unlock()
        assert (lock.locked, os.path.lexists(lockPath)) == (False, False)

    def test_held_by_running_process(self, lockPath: str) -> None:
        first = FilesystemLock(lockPath)
        assert first.lock()
        second = FilesystemLock(lockPath)
        assert not second.lock()
        assert not second.locked
        assert FilesystemLock.clean is None
        assert "clean" not in vars(second)
        first.unlock()
        assert second.lock()
        second.unlock()

    def test_relock_same_object(self, lockPath: str) -> None:
        """The lock is not reentrant: the owner's own second attempt fails."""
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        assert not lock.lock()
        assert lock.locked
        lock.unlock()

    def test_stale_lock_broken(self, lockPath: str) -> None:
        os.symlink(str(deadPid()), lockPath)
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        assert lock.clean is False
        assert os.readlink(lockPath) == str(os.getpid())
        lock.unlock()

    def test_stale_lock_simulated(self, lockPath: str, monkeypatch: pytest.MonkeyPatch) -> None:
        os.symlink("12345", lockPath)
        calls: list[tuple[int, int]] = []

        def kill(pid: int, signal: int) -> None:
            calls.append((pid, signal))
            raise OSError(errno.ESRCH, "No such process")

        monkeypatch.setattr(_lockfile, "_kill", kill)
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        assert calls == [(12345, 0)]
        assert lock.clean is False

    def test_other_users_process(self, lockPath: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """EPERM from kill means the owner runs as someone else: the lock is held."""
        os.symlink("1", lockPath)
        monkeypatch.setattr(_lockfile, "_kill", failWith(errno.EPERM))
        assert not FilesystemLock(lockPath).lock()
        assert os.readlink(lockPath) == "1"

    def test_kill_other_error(self, lockPath: str, monkeypatch: pytest.MonkeyPatch) -> None:
        os.symlink("1", lockPath)
        monkeypatch.setattr(_lockfile, "_kill", failWith(errno.EINVAL))
        with pytest.raises(OSError) as info:
            FilesystemLock(lockPath).lock()
        assert info.value.errno == errno.EINVAL

    def test_lock_vanishes_before_readlink(
        self, lockPath: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The owner unlocks between our symlink and readlink: we retry and win."""
        os.symlink(str(os.getpid()), lockPath)
        realReadlink = _lockfile._readlink

        def readlinkAfterRelease(name: str) -> str:
            os.remove(name)
            monkeypatch.setattr(_lockfile, "_readlink", realReadlink)
            raise OSError(errno.ENOENT, "gone")

        monkeypatch.setattr(_lockfile, "_readlink", readlinkAfterRelease)
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        assert lock.clean
        lock.unlock()

    def test_readlink_other_error(self, lockPath: str, monkeypatch: pytest.MonkeyPatch) -> None:
        os.symlink("1", lockPath)
        monkeypatch.setattr(_lockfile, "_readlink", failWith(errno.EACCES))
        with pytest.raises(PermissionError):
            FilesystemLock(lockPath).lock()

    def test_stale_lock_broken_by_someone_else(
        self, lockPath: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two processes find the same stale lock; the other removes it first."""
        os.symlink(str(deadPid()), lockPath)
        realRmlink = _lockfile._rmlink

        def rmlinkLosingRace(name: str) -> None:
            realRmlink(name)
            monkeypatch.setattr(_lockfile, "_rmlink", realRmlink)
            raise OSError(errno.ENOENT, "already removed")

        monkeypatch.setattr(_lockfile, "_rmlink", rmlinkLosingRace)
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        # We did not break it ourselves.
        assert lock.clean
        lock.unlock()

    def test_rmlink_other_error(self, lockPath: str, monkeypatch: pytest.MonkeyPatch) -> None:
        os.symlink(str(deadPid()), lockPath)
        monkeypatch.setattr(_lockfile, "_rmlink", failWith(errno.EACCES))
        with pytest.raises(PermissionError):
            FilesystemLock(lockPath).lock()

    def test_symlink_other_error(self, tmp_path: Path) -> None:
        lock = FilesystemLock(str(tmp_path / "missing-directory" / "lock"))
        with pytest.raises(FileNotFoundError):
            lock.lock()
        assert not lock.locked

    def test_not_a_lock(self, lockPath: str) -> None:
        os.symlink("not-a-pid", lockPath)
        with pytest.raises(ValueError):
            FilesystemLock(lockPath).lock()

    def test_unlock_not_owner(self, lockPath: str) -> None:
        os.symlink(str(deadPid()), lockPath)
        with pytest.raises(ValueError, match="not owned by this process"):
            FilesystemLock(lockPath).unlock()
        assert os.path.lexists(lockPath)

    def test_unlock_unlocked(self, lockPath: str) -> None:
        with pytest.raises(FileNotFoundError):
            FilesystemLock(lockPath).unlock()

    def test_lock_in_other_process(self, lockPath: str) -> None:
        """A lock held by another live process keeps us out; once it exits, it is stale."""
        code = (
            "import sys\n"
            "from fw.python.lockfile import FilesystemLock\n"
            "lock = FilesystemLock(sys.argv[1])\n"
            "print(lock.lock(), flush=True)\n"
            "sys.stdin.read()\n"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", code, lockPath],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "True\n"
            assert isLocked(lockPath)
            assert not FilesystemLock(lockPath).lock()
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait()
            assert child.stdout is not None
            child.stdout.close()
        lock = FilesystemLock(lockPath)
        assert lock.lock()
        assert lock.clean is False
        lock.unlock()


class TestIsLocked:
    def test_unlocked(self, lockPath: str) -> None:
        assert not isLocked(lockPath)
        assert not os.path.lexists(lockPath)

    def test_locked(self, lockPath: str) -> None:
        lock = FilesystemLock(lockPath)
        lock.lock()
        assert isLocked(lockPath)
        assert os.readlink(lockPath) == str(os.getpid())
        lock.unlock()
        assert not isLocked(lockPath)

    def test_stale(self, lockPath: str) -> None:
        os.symlink(str(deadPid()), lockPath)
        assert not isLocked(lockPath)
        # Checking broke the stale lock and released it again.
        assert not os.path.lexists(lockPath)


def test_public_surface() -> None:
    assert lockfile.__all__ == ["FilesystemLock", "isLocked"]
    assert FilesystemLock.__doc__
    assert isLocked.__doc__
