"""Implementation of :mod:`fw.python.lockfile`: a lock held by a process, on the filesystem.

The lock is a symbolic link whose target is the owner's process ID: creating
a symlink is atomic and fails if the name exists, and the owner can be read
back without opening anything.  A lock whose owner has died is stale and is
broken by the next process that tries to lock.

On Windows, where creating symlinks usually needs privileges, the link is
emulated by a directory (created atomically) holding a file with the ID.
"""

from __future__ import annotations

import errno
import os
import sys

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import ctypes

    _windows = True
    _ERROR_INVALID_PARAMETER = 87
    _ERROR_ACCESS_DENIED = 5
    _PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    _STILL_ACTIVE = 259

    def _kill(pid: int, signal: int) -> None:
        """Raise OSError(ESRCH) unless process ``pid`` is running (``signal`` must be 0)."""
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            error = ctypes.GetLastError()
            if error == _ERROR_ACCESS_DENIED:
                return
            if error == _ERROR_INVALID_PARAMETER:
                raise OSError(errno.ESRCH, os.strerror(errno.ESRCH))
            raise ctypes.WinError(error)
        try:
            code = ctypes.c_ulong()
            if kernel32.GetExitCodeProcess(handle, ctypes.byref(code)) and (
                code.value != _STILL_ACTIVE
            ):
                raise OSError(errno.ESRCH, os.strerror(errno.ESRCH))
        finally:
            kernel32.CloseHandle(handle)

    def _symlink(value: str, filename: str) -> None:
        newlinkname = filename + "." + os.urandom(8).hex() + ".newlink"
        os.mkdir(newlinkname)
        with open(os.path.join(newlinkname, "symlink"), "w") as f:
            f.write(value)
            f.flush()
        try:
            os.rename(newlinkname, filename)
        except OSError:
            os.remove(os.path.join(newlinkname, "symlink"))
            os.rmdir(newlinkname)
            raise

    def _readlink(filename: str) -> str:
        try:
            with open(os.path.join(filename, "symlink")) as f:
                return f.read()
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.EIO):
                raise OSError(e.errno, None) from e
            raise

    def _rmlink(filename: str) -> None:
        os.remove(os.path.join(filename, "symlink"))
        os.rmdir(filename)

else:
    _windows = False
    _kill = os.kill
    _symlink = os.symlink
    _readlink = os.readlink
    _rmlink = os.remove


class FilesystemLock:
    """A lock a process takes by creating a file system entry called ``name``.

    The lock is held by a process, not a thread or an object: it is meant
    for keeping two processes (say, two servers configured with the same
    data directory) from working on the same files.

    Args:
        name: the path of the lock entry; it must be on a local filesystem.
    """

    #: Whether the last successful :meth:`lock` found no stale lock in its
    #: way (``True``) or had to break one (``False``); ``None`` before that.
    clean: bool | None = None
    #: Whether this object holds the lock.
    locked: bool = False

    def __init__(self, name: str) -> None:
        self.name = name

    def lock(self) -> bool:
        """Take the lock, breaking it first if its owner is no longer running.

        Returns:
            Whether the lock is now held by this process; false if another
            running process (possibly this one, through another object) holds it.

        Raises:
            OSError: the lock entry cannot be created or examined.
            ValueError: the entry at ``name`` is not a lock made by this class.
        """
        clean = True
        while True:
            try:
                _symlink(str(os.getpid()), self.name)
            except OSError as e:
                if _windows and e.errno in (errno.EACCES, errno.EIO):
                    # Another process is creating or removing the lock right now.
                    return False
                if e.errno != errno.EEXIST:
                    raise
                try:
                    pid = _readlink(self.name)
                except OSError as e2:
                    if e2.errno == errno.ENOENT:
                        # Its owner released it between our two calls: try again.
                        continue
                    if _windows and e2.errno == errno.EACCES:
                        return False
                    raise
                try:
                    _kill(int(pid), 0)
                except OSError as e3:
                    if e3.errno == errno.EPERM:
                        # Running, under another user.
                        return False
                    if e3.errno != errno.ESRCH:
                        raise
                    # The owner is gone: break the stale lock, then try again.
                    try:
                        _rmlink(self.name)
                    except OSError as e4:
                        if e4.errno != errno.ENOENT:
                            raise
                        # Another process broke it first; race it for the lock.
                        continue
                    clean = False
                    continue
                return False
            self.locked = True
            self.clean = clean
            return True

    def unlock(self) -> None:
        """Release the lock.

        Raises:
            ValueError: the lock is not held by this process.
            OSError: the lock entry cannot be read or removed (for instance,
                nobody holds the lock).
        """
        pid = _readlink(self.name)
        if int(pid) != os.getpid():
            raise ValueError(f"Lock {self.name!r} not owned by this process")
        _rmlink(self.name)
        self.locked = False


def isLocked(name: str) -> bool:
    """Return whether a running process holds the lock ``name``.

    The answer may be out of date by the time it is used; to act on the
    lock, take it with :meth:`FilesystemLock.lock`.
    """
    lock = FilesystemLock(name)
    acquired = False
    try:
        acquired = lock.lock()
    finally:
        if acquired:
            lock.unlock()
    return not acquired
