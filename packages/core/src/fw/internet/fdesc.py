"""
Helpers for raw POSIX file descriptors: blocking mode, and reads and writes
that report a closed descriptor the way ``doRead``/``writeSomeData`` do.

:func:`readFromFD` and :func:`writeToFD` never raise for the ordinary ways a
non-blocking descriptor fails: "nothing to do now" is ``None`` or ``0``, and a
descriptor that is gone is :data:`~fw.internet.main.CONNECTION_DONE` (end of
file) or :data:`~fw.internet.main.CONNECTION_LOST` (an error).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Callable

from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST

__all__ = ["readFromFD", "setBlocking", "setNonBlocking", "writeToFD"]

# The most one call of readFromFD reads: a pipe's default capacity on Linux,
# so that one read usually empties it.
_READ_SIZE = 65536

# Errors after which trying again later may succeed.
_RETRY = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR})


def setNonBlocking(fd: int) -> None:
    """Put the open file description behind ``fd`` in non-blocking mode."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if not flags & os.O_NONBLOCK:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)


def setBlocking(fd: int) -> None:
    """Put the open file description behind ``fd`` in blocking mode."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if flags & os.O_NONBLOCK:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)


def _setCloseOnExec(fd: int) -> None:
    """Close ``fd`` when this process executes another program."""
    os.set_inheritable(fd, False)


def _unsetCloseOnExec(fd: int) -> None:
    """Let programs this process executes inherit ``fd``."""
    os.set_inheritable(fd, True)


def readFromFD(fd: int, callback: Callable[[bytes], object]) -> BaseException | None:
    """
    Read what is available on the non-blocking descriptor ``fd`` and give it
    to ``callback``.

    Args:
        fd: the descriptor.
        callback: called with the bytes read, when there are any; its
            exceptions propagate.

    Returns:
        ``None`` when the descriptor is still open (whether or not anything
        was read), ``CONNECTION_DONE`` at end of file, ``CONNECTION_LOST``
        when reading failed.
    """
    try:
        data = os.read(fd, _READ_SIZE)
    except OSError as e:
        if e.errno in _RETRY:
            return None
        return CONNECTION_LOST
    if not data:
        return CONNECTION_DONE
    callback(data)
    return None


def writeToFD(fd: int, data: bytes | bytearray | memoryview) -> int | BaseException:
    """
    Write what the non-blocking descriptor ``fd`` takes of ``data`` now.

    Returns:
        The number of bytes written (``0`` when the descriptor is full), or
        ``CONNECTION_LOST`` when writing failed (the reader went away).
    """
    try:
        return os.write(fd, data)
    except OSError as e:
        if e.errno in _RETRY:
            return 0
        return CONNECTION_LOST
