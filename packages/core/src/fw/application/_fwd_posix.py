"""
The POSIX side of ``fwd``: pid files, daemonizing, privileges.

Daemonizing (:func:`daemonize`) is the classic double fork: the launching
process forks, the child starts a new session with ``setsid`` (leaving the
terminal behind) and forks again so that the daemon is not a session leader
and can never acquire a controlling terminal.  The daemon's standard input,
output and error become ``/dev/null``.  A pipe from the daemon back to the
launching process carries the outcome of the start-up: the launcher waits
for it and exits with status 0 once the daemon reports it is running, or
prints the daemon's error and exits with status 1.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import sys
from typing import NoReturn

__all__ = [
    "AlreadyRunning",
    "StatusPipe",
    "checkPID",
    "daemonize",
    "removePID",
    "shedPrivileges",
    "switchToGroup",
    "switchToUser",
    "writePID",
]

#: The longest error message the daemon sends back to the launcher.
_MAX_STATUS = 64 * 1024


class AlreadyRunning(Exception):
    """The pid file names a process that is running."""


def _readPID(pidfile: str) -> int | None:
    try:
        with open(pidfile, encoding="ascii", errors="replace") as f:
            text = f.read(64).strip()
    except FileNotFoundError:
        return None
    try:
        return int(text)
    except ValueError:
        raise AlreadyRunning(
            f"pid file {pidfile} does not hold a process id ({text!r}); remove it"
        ) from None


def _isRunning(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # It exists, as somebody else's process.
        return True
    return True


def checkPID(pidfile: str | None) -> str | None:
    """
    Refuse to start when ``pidfile`` names a running process; remove it
    when it names a process that is gone (a stale pid file).

    Returns:
        A message saying the stale file was removed, or ``None``.

    Raises:
        AlreadyRunning: the process is running, or the file is unreadable.
    """
    if not pidfile:
        return None
    pid = _readPID(pidfile)
    if pid is None:
        return None
    if pid != os.getpid() and _isRunning(pid):
        raise AlreadyRunning(f"another fwd is running with pid {pid} (pid file {pidfile})")
    try:
        os.remove(pidfile)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise AlreadyRunning(f"cannot remove the stale pid file {pidfile}: {e.strerror}") from e
    return f"removed the stale pid file {pidfile} (process {pid} is gone)"


def writePID(pidfile: str | None) -> None:
    """
    Write our process id to ``pidfile``, which must not exist (it is created
    exclusively, so two ``fwd`` started at once cannot both succeed).

    Raises:
        AlreadyRunning: the file appeared meanwhile.
    """
    if not pidfile:
        return
    try:
        fd = os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        checkPID(pidfile)
        fd = os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid()}\n")


def removePID(pidfile: str | None) -> None:
    """Remove ``pidfile`` if it holds our process id."""
    if not pidfile:
        return
    try:
        if _readPID(pidfile) != os.getpid():
            return
        os.remove(pidfile)
    except (OSError, AlreadyRunning):
        # Not ours any more, or privileges were dropped: leave it.
        pass


class StatusPipe:
    """
    The daemon's end of the start-up status pipe.

    :meth:`success` or :meth:`failure` sends the outcome, once; the
    launcher exits when it arrives.
    """

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def _send(self, message: bytes) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.write(fd, message[:_MAX_STATUS])
        except OSError:
            pass
        finally:
            os.close(fd)

    def success(self) -> None:
        """Tell the launcher the daemon is running."""
        self._send(b"0")

    def failure(self, message: str) -> None:
        """Tell the launcher the start-up failed, and why."""
        self._send(b"1" + message.encode("utf-8", "replace"))

    @property
    def pending(self) -> bool:
        """Whether the outcome is still to be sent."""
        return self._fd is not None


def _launcherWaits(readFD: int, childPID: int) -> NoReturn:
    """In the launching process: wait for the daemon's status, then exit."""
    # The first child exits as soon as it has forked the daemon: reap it.
    try:
        os.waitpid(childPID, 0)
    except ChildProcessError:
        pass
    chunks = []
    size = 0
    while size <= _MAX_STATUS:
        try:
            chunk = os.read(readFD, 4096)
        except InterruptedError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    os.close(readFD)
    status = b"".join(chunks)
    if status[:1] == b"0":
        os._exit(0)
    if status[:1] == b"1":
        message = status[1:].decode("utf-8", "replace")
    else:
        message = "the daemon exited during start-up without saying why (see its log file)"
    # The original standard error: sys.stderr may be logging by now.
    os.write(2, f"fwd: start-up failed: {message}\n".encode("utf-8", "replace"))
    os._exit(1)


def daemonize() -> StatusPipe:
    """
    Become a daemon: fork twice, start a new session, and point standard
    input, output and error at ``/dev/null``.

    Only the daemon returns; the launching process waits for the status sent
    through the returned pipe and exits with it.
    """
    readFD, writeFD = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    childPID = os.fork()
    if childPID:
        os.close(writeFD)
        _launcherWaits(readFD, childPID)
    os.close(readFD)
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(null, fd)
        except OSError as e:
            if e.errno != errno.EBADF:
                raise
    os.close(null)
    return StatusPipe(writeFD)


def _groupId(group: str | int) -> int:
    if isinstance(group, int):
        return group
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"no such group: {group!r}") from None


def _userId(user: str | int) -> int:
    if isinstance(user, int):
        return user
    if user.isdigit():
        return int(user)
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise ValueError(f"no such user: {user!r}") from None


def switchToGroup(gid: int) -> None:
    """Switch the real and effective group to ``gid``."""
    os.setgid(gid)


def switchToUser(uid: int, gid: int | None, euid: bool = False) -> None:
    """
    Become user ``uid``, with that user's supplementary groups.

    Args:
        uid: the user id.
        gid: the primary group id (for the supplementary groups' lookup).
        euid: switch only the effective user id (``fwd --euid``), so that
            the process can take its privileges back.
    """
    if os.getuid() == 0 or os.geteuid() == 0:
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            os.setgroups([gid] if gid is not None else [])
        else:
            os.initgroups(name, gid if gid is not None else pwd.getpwuid(uid).pw_gid)
    if euid:
        os.seteuid(uid)
    else:
        os.setuid(uid)


def shedPrivileges(uid: int | None, gid: int | None, euid: bool = False) -> None:
    """
    Drop root privileges: switch to ``gid`` then to ``uid`` (either may be
    ``None``, meaning unchanged).  The group goes first: after the user
    switch there would be no right left to change it.  Asking for the ids
    the process already has changes nothing (so a ``.tac`` naming ids runs
    unchanged as that user).

    Raises:
        PermissionError: the process may not switch (it is not root).
    """
    currentGid = os.getegid() if euid else os.getgid()
    currentUid = os.geteuid() if euid else os.getuid()
    if gid is not None and gid != currentGid:
        if euid:
            os.setegid(gid)
        else:
            switchToGroup(gid)
    if uid is not None and uid != currentUid:
        switchToUser(uid, gid, euid)
