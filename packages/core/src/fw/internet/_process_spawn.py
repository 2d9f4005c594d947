"""
Starting a child process with exactly the descriptors, environment, directory
and identity asked for.

Two ways, one result:

- ``os.posix_spawn`` (Linux, when no working directory, user or group is
  asked for): the C library starts the child without copying the parent's
  memory and reports a failed ``exec`` as an exception.  The descriptor
  layout is a list of file actions.
- ``fork`` then ``exec`` otherwise: the child runs a little Python to set
  itself up; a close-on-exec pipe carries the ``errno`` of any failed step
  back to the parent, so that failures are exceptions here too.

Either way the child holds only the descriptors it was given (every other
inheritable descriptor is closed), its ignored signals are back to their
default action, none is blocked, and a failure to start raises in the parent
before anything else happens: the same ``OSError`` whichever way was taken.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import os
import signal
import sys
import termios
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

__all__ = [
    "SpawnRequest",
    "normalizeArguments",
    "normalizeEnvironment",
    "resolveExecutable",
    "spawn",
]

_StrOrBytes = str | bytes


@dataclass(frozen=True, slots=True)
class SpawnRequest:
    """
    Everything needed to start one child.

    Attributes:
        executable: the program, resolved to a path.
        argv: its argument vector.
        env: its complete environment.
        path: its working directory, or ``None`` for ours.
        uid: the user to run it as, or ``None``.
        gid: the group to run it as, or ``None``.
        fdmap: the child's descriptors: child descriptor -> our descriptor.
        ptySlave: when the child gets a terminal: the slave's descriptor and
            device path; it becomes the controlling terminal of a new session.
    """

    executable: bytes
    argv: list[bytes]
    env: dict[bytes, bytes]
    path: bytes | None
    uid: int | None
    gid: int | None
    fdmap: dict[int, int]
    ptySlave: tuple[int, bytes] | None = None


def _toBytes(value: object, what: str) -> bytes:
    if isinstance(value, str):
        encoded = os.fsencode(value)
    elif isinstance(value, bytes):
        encoded = value
    else:
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in encoded:
        raise ValueError(f"embedded null byte in {what} {value!r}")
    return encoded


def normalizeArguments(
    executable: object, args: Sequence[_StrOrBytes]
) -> tuple[bytes, list[bytes]]:
    """
    Check and encode the executable and the argument vector.

    Raises:
        TypeError: one is not str or bytes.
        ValueError: one has a null byte, or ``args`` is empty.
    """
    exe = _toBytes(executable, "executable")
    if isinstance(args, (str, bytes)):
        raise TypeError("args must be a sequence of arguments, not one string")
    argv = [_toBytes(a, "argument") for a in args]
    if not argv:
        raise ValueError("args must not be empty: args[0] is the program's name")
    return exe, argv


def normalizeEnvironment(env: Mapping[_StrOrBytes, _StrOrBytes] | None) -> dict[bytes, bytes]:
    """
    Check and encode an environment; ``None`` is this process's environment.

    Raises:
        TypeError: a name or value is not str or bytes.
        ValueError: a name is empty or holds ``=``, or a null byte is present.
    """
    source: Mapping[Any, Any] = os.environb if env is None else env
    result: dict[bytes, bytes] = {}
    for key, value in source.items():
        name = _toBytes(key, "environment variable name")
        if not name or b"=" in name:
            raise ValueError(f"illegal environment variable name {key!r}")
        result[name] = _toBytes(value, "environment variable value")
    return result


def resolveExecutable(executable: bytes) -> bytes:
    """
    Find ``executable`` the way a shell does, in this process's ``PATH``,
    unless it holds a slash.

    Raises:
        FileNotFoundError: there is no such executable file.
        PermissionError: there is, but it may not be executed.
    """
    if b"/" in executable:
        return executable
    denied: bytes | None = None
    searchPath = os.environb.get(b"PATH", os.fsencode(os.defpath))
    for directory in searchPath.split(b":"):
        candidate = os.path.join(directory or b".", executable)
        if os.path.isfile(candidate):
            if os.access(candidate, os.X_OK):
                return candidate
            denied = denied or candidate
    if denied is not None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(denied))
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fsdecode(executable))


_VALID_SIGNALS = frozenset(int(s) for s in signal.valid_signals()) - {
    int(signal.SIGKILL),
    int(signal.SIGSTOP),
}


def _signalDispositions() -> tuple[list[int], list[int]]:
    """
    The signals this process ignores, and those it catches: a child inherits
    the ignored ones, and a forked child would run our handlers for the
    caught ones until it execs.
    """
    try:
        with open("/proc/self/status", "rb") as status:
            fields = dict(line.split(b":", 1) for line in status if b":" in line)
        ignoredMask = int(fields[b"SigIgn"], 16)
        caughtMask = int(fields[b"SigCgt"], 16)
    except (OSError, KeyError, ValueError):
        ignored, caught = [], []
        for signum in sorted(_VALID_SIGNALS):
            try:
                handler = signal.getsignal(signum)
            except (OSError, ValueError):
                continue
            if handler == signal.SIG_IGN:
                ignored.append(signum)
            elif callable(handler):
                caught.append(signum)
        return ignored, caught
    # Bit n-1 of each mask is signal n.
    ignored = [n for n in sorted(_VALID_SIGNALS) if ignoredMask >> (n - 1) & 1]
    caught = [n for n in sorted(_VALID_SIGNALS) if caughtMask >> (n - 1) & 1]
    return ignored, caught


def _openDescriptors() -> list[int]:
    """Every descriptor open in this process now (Linux: from /proc)."""
    return [int(name) for name in os.listdir("/proc/self/fd")]


def _canPosixSpawn(request: SpawnRequest) -> bool:
    return (
        sys.platform == "linux"
        and hasattr(os, "posix_spawn")
        and request.uid is None
        and request.gid is None
        and (request.path is None or os.path.abspath(request.path) == os.getcwdb())
    )


def spawn(request: SpawnRequest, allowPosixSpawn: bool = True) -> int:
    """
    Start the child ``request`` describes; return its process ID.

    Raises:
        OSError: it could not be started (the program is missing or not
            executable, the directory is missing, the identity could not be
            taken...), with the ``errno`` of the step that failed.
    """
    if allowPosixSpawn and _canPosixSpawn(request):
        return _posixSpawn(request)
    return _forkExec(request)


# -- posix_spawn ---------------------------------------------------------------


def _fileActions(request: SpawnRequest) -> list[tuple[Any, ...]]:
    """
    The posix_spawn file actions giving the child ``request.fdmap`` and
    closing every other inheritable descriptor.

    Each source is first copied to a free number, then from there to its
    target, so that no target overwrites a source still needed and a source
    already at its target still loses its close-on-exec flag.
    """
    open_ = _openDescriptors()
    targets = set(request.fdmap)
    actions: list[tuple[Any, ...]] = []
    if request.ptySlave is not None:
        # Opened by the child of a new session (setsid), the terminal becomes
        # its controlling terminal (Linux: a session leader opening a tty
        # without O_NOCTTY).
        _, device = request.ptySlave
        actions.append((os.POSIX_SPAWN_OPEN, 0, device, os.O_RDWR, 0))
        actions.append((os.POSIX_SPAWN_DUP2, 0, 1))
        actions.append((os.POSIX_SPAWN_DUP2, 0, 2))
        targets = {0, 1, 2}
    else:
        taken = set(open_) | targets | set(request.fdmap.values())
        free = 0
        temporary: dict[int, int] = {}
        for source in sorted(set(request.fdmap.values())):
            while free in taken:
                free += 1
            taken.add(free)
            temporary[source] = free
            actions.append((os.POSIX_SPAWN_DUP2, source, free))
        for child, source in sorted(request.fdmap.items()):
            actions.append((os.POSIX_SPAWN_DUP2, temporary[source], child))
        actions.extend((os.POSIX_SPAWN_CLOSE, t) for t in sorted(temporary.values()))
    for fd in open_:
        if fd in targets:
            continue
        try:
            inheritable = os.get_inheritable(fd)
        except OSError:
            # The listing's own descriptor, closed since.
            continue
        if inheritable:
            actions.append((os.POSIX_SPAWN_CLOSE, fd))
    return actions


def _posixSpawn(request: SpawnRequest) -> int:
    return os.posix_spawn(
        request.executable,
        request.argv,
        request.env,
        file_actions=_fileActions(request),
        setsigdef=_signalDispositions()[0],
        setsid=request.ptySlave is not None,
        # Start with no signal blocked, whatever this thread blocks.
        setsigmask=(),
    )


# -- fork and exec -------------------------------------------------------------


def _forkExec(request: SpawnRequest) -> int:
    ignored, caught = _signalDispositions()
    groups: list[int] | None = None
    if (request.uid is not None or request.gid is not None) and os.geteuid() == 0:
        groups = _groupsFor(request.uid, request.gid)
    try:
        maxFd = os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        maxFd = -1
    if maxFd <= 0:
        maxFd = 1 << 20
    errRead, errWrite = os.pipe()
    try:
        gcEnabled = gc.isenabled()
        gc.disable()
        # No Python signal handler may run in the child between fork and exec:
        # block everything across the fork; the child unblocks just before exec.
        oldMask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child; it execs or _exits
                _child(request, errWrite, ignored + caught, groups, maxFd)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, oldMask)
            if gcEnabled:
                gc.enable()
        os.close(errWrite)
        errWrite = -1
        report = b""
        while chunk := os.read(errRead, 256):
            report += chunk
    finally:
        os.close(errRead)
        if errWrite != -1:
            os.close(errWrite)
    if report:
        # The child failed before exec and is exiting: collect it.
        _waitBlocking(pid)
        code, _, step = report.partition(b":")
        err = int(code) if code.isdigit() else errno.EINVAL
        message = os.strerror(err)
        filename = request.executable
        if step == b"chdir" and request.path is not None:
            filename = request.path
        elif step != b"exec":
            message += f" (while setting up the child: {step.decode(errors='replace')})"
        raise OSError(err, message, os.fsdecode(filename))
    return pid


def _groupsFor(uid: int | None, gid: int | None) -> list[int] | None:
    """The supplementary groups of ``uid``'s user (``None``: leave them alone)."""
    import pwd

    if uid is None:
        return [gid] if gid is not None else None
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return [gid if gid is not None else os.getegid()]
    return os.getgrouplist(entry.pw_name, gid if gid is not None else entry.pw_gid)


def _waitBlocking(pid: int) -> None:
    while True:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        return


def _child(  # pragma: no cover - runs in the forked child only
    request: SpawnRequest,
    errWrite: int,
    resetSignals: list[int],
    groups: list[int] | None,
    maxFd: int,
) -> NoReturn:
    """Set the child up and exec; on any failure report it and exit."""
    step = "descriptors"
    try:
        for signum in resetSignals:
            signal.signal(signum, signal.SIG_DFL)
        fdmap = request.fdmap
        # Keep the error pipe out of the way of every target.
        highest = max([*fdmap, *fdmap.values(), errWrite, 2]) + 1
        errWrite = fcntl.fcntl(errWrite, fcntl.F_DUPFD_CLOEXEC, highest)
        if request.ptySlave is not None:
            step = "terminal"
            os.setsid()
            fcntl.ioctl(request.ptySlave[0], termios.TIOCSCTTY, 0)
            step = "descriptors"
        moved = {
            source: fcntl.fcntl(source, fcntl.F_DUPFD_CLOEXEC, errWrite + 1)
            for source in set(fdmap.values())
        }
        for child, source in fdmap.items():
            os.dup2(moved[source], child)
        # Close everything else.  (Never an empty range: os.closerange(n, n)
        # closes every descriptor from n up on Python 3.11.)
        low = 0
        keep = {*fdmap, errWrite}
        for fd in sorted({*keep, max(maxFd, *keep) + 1}):
            if low < fd:
                os.closerange(low, fd)
            low = fd + 1
        if request.path is not None:
            step = "chdir"
            os.chdir(request.path)
        if request.uid is not None or request.gid is not None:
            step = "identity"
            if groups is not None:
                os.setgroups(groups)
            if request.gid is not None:
                os.setgid(request.gid)
            if request.uid is not None:
                os.setuid(request.uid)
        step = "exec"
        # Start with no signal blocked, whatever this thread blocked.
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        os.execve(request.executable, request.argv, request.env)  # noqa: S606 - no shell wanted
    except BaseException as e:  # noqa: BLE001 - the child must report and exit, whatever it was
        code = e.errno if isinstance(e, OSError) and e.errno else errno.EINVAL
        try:
            os.write(errWrite, f"{code}:{step}".encode())
        except BaseException:  # noqa: BLE001, S110 - nothing more can be done; exit below
            pass
    finally:
        os._exit(127)
