"""
Child processes on POSIX: the transports ``reactor.spawnProcess`` returns.

Use ``reactor.spawnProcess`` rather than these classes directly::

    transport = reactor.spawnProcess(MyProcessProtocol(), "/bin/cat", ["cat"], env=None)

Children are started with ``posix_spawn`` where possible (else ``fork`` and
``exec``), hold only the descriptors they are given, and are collected as
soon as they exit (a pidfd where the kernel has them, else ``SIGCHLD``, else
polling), so none is left a zombie.  :func:`reapAllProcesses` collects every
exited child at once.
"""

from __future__ import annotations

from fw.internet._process import Process, ProcessReader, ProcessWriter, PTYProcess
from fw.internet._process_reap import (
    reapAllProcesses,
    reapProcessHandlers,
    registerReapProcessHandler,
    unregisterReapProcessHandler,
)
from fw.internet.error import ProcessExitedAlready

__all__ = [
    "PTYProcess",
    "Process",
    "ProcessExitedAlready",
    "ProcessReader",
    "ProcessWriter",
    "reapAllProcesses",
    "reapProcessHandlers",
    "registerReapProcessHandler",
    "unregisterReapProcessHandler",
]
