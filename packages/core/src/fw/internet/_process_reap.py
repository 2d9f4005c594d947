"""
Noticing that a child process exited, and collecting it so that it does not
linger as a zombie.

Each child is watched in the best way the system offers:

1. A pidfd (``os.pidfd_open``, Linux 5.3 and later) registered with the
   reactor as a reader: it becomes readable when the child exits.  No signal
   handler is needed, nothing is polled, and no other library's ``SIGCHLD``
   handling is disturbed.
2. Otherwise ``SIGCHLD``: a reactor running with signal handlers installs one
   that reaps every child registered here (:func:`reapAllProcesses`).
3. Until such a handler is installed (a reactor run with
   ``installSignalHandlers=False``, or not yet running), the reactor polls
   its children every :attr:`_ReapPoller.interval` seconds.

A child is also reaped as soon as the last pipe to it closes, as it is
usually exiting then.  :func:`reapAllProcesses` reaps every registered child
that has exited, whichever way it is watched.
"""

from __future__ import annotations

import os
import signal
import weakref
from typing import Any, Protocol

from fw.logger import Logger
from fw.python.failure import Failure

__all__ = [
    "ExitWatch",
    "pidfdUsable",
    "reapAllProcesses",
    "reapProcessHandlers",
    "registerReapProcessHandler",
    "unregisterReapProcessHandler",
]

_log = Logger(namespace="fw.internet.process")


class _Reapable(Protocol):
    """What the registry holds: something that can try to collect its child."""

    def reapProcess(self) -> None: ...

    def processEnded(self, status: int) -> None: ...


#: Registered children by process ID, for :func:`reapAllProcesses`.
reapProcessHandlers: dict[int, _Reapable] = {}


def reapAllProcesses() -> None:
    """Collect every registered child that has exited (without blocking)."""
    for process in list(reapProcessHandlers.values()):
        process.reapProcess()


def registerReapProcessHandler(pid: int, process: _Reapable) -> None:
    """
    Register ``process`` to be reaped by :func:`reapAllProcesses`.

    If the child has already exited it is collected now and
    ``process.processEnded(status)`` is called instead.

    Raises:
        RuntimeError: ``pid`` is registered already.
    """
    if pid in reapProcessHandlers:
        raise RuntimeError(f"process {pid} is already registered")
    try:
        reaped, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        _log.warn("process {pid} is not a child of this process", pid=pid)
        return
    if reaped:
        process.processEnded(status)
    else:
        reapProcessHandlers[pid] = process


def unregisterReapProcessHandler(pid: int, process: _Reapable) -> None:
    """
    Forget ``process``, registered for ``pid``.

    Raises:
        RuntimeError: it is not registered for ``pid``.
    """
    if reapProcessHandlers.get(pid) is not process:
        raise RuntimeError(f"{process!r} is not registered for process {pid}")
    del reapProcessHandlers[pid]


# None: not probed yet.  Tests set it to False to exercise the fallbacks.
_usePidfd: bool | None = None


def pidfdUsable() -> bool:
    """Whether children are watched with pidfds here (probed once)."""
    global _usePidfd
    if _usePidfd is None:
        usable = False
        if hasattr(os, "pidfd_open"):
            try:
                os.close(os.pidfd_open(os.getpid()))
                usable = True
            except OSError:
                # ENOSYS (an old kernel) or EPERM (a seccomp filter).
                pass
        _usePidfd = usable
    return _usePidfd


def sigchldHandlerInstalled(reactor: Any) -> bool:
    """Whether ``reactor`` runs with its ``SIGCHLD`` handler installed."""
    sigchld = getattr(signal, "SIGCHLD", None)
    installed = getattr(reactor, "_signalsInstalled", ())
    return any(signum == sigchld for signum, _ in installed)


class _ReapPoller:
    """
    Polls one reactor's children until a ``SIGCHLD`` handler takes over.

    Attributes:
        interval: seconds between two polls.
    """

    # Ten times a second: a child's exit is noticed soon enough for people,
    # and an idle program wakes rarely.  Used only without pidfd or SIGCHLD.
    interval = 0.1

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor
        self._processes: set[Any] = set()
        self._call: Any = None

    def add(self, process: Any) -> None:
        self._processes.add(process)
        if self._call is None:
            self._call = self._reactor.callLater(self.interval, self._poll)

    def discard(self, process: Any) -> None:
        self._processes.discard(process)
        if not self._processes and self._call is not None:
            if self._call.active():
                self._call.cancel()
            self._call = None

    def _poll(self) -> None:
        self._call = None
        for process in list(self._processes):
            process.reapProcess()
        if self._processes and not sigchldHandlerInstalled(self._reactor):
            self._call = self._reactor.callLater(self.interval, self._poll)


_pollers: weakref.WeakKeyDictionary[Any, _ReapPoller] = weakref.WeakKeyDictionary()


def _pollerFor(reactor: Any) -> _ReapPoller:
    poller = _pollers.get(reactor)
    if poller is None:
        poller = _pollers[reactor] = _ReapPoller(reactor)
    return poller


class ExitWatch:
    """
    Watches one child for its exit and calls ``process.reapProcess()`` when
    it may have exited.  Registers the child with :func:`reapAllProcesses`.

    It is a reader of the reactor while it has a pidfd: ``fileno``,
    ``doRead``, ``connectionLost`` and ``logPrefix`` serve that.
    """

    disconnected = False

    def __init__(self, reactor: Any, pid: int, process: Any) -> None:
        self._reactor = reactor
        self._pid = pid
        self._process = process
        self._pidfd = -1
        self._polling = False
        reapProcessHandlers[pid] = process
        if pidfdUsable():
            try:
                self._pidfd = os.pidfd_open(pid)
            except OSError:
                # Out of descriptors, say: poll this one.
                self._pidfd = -1
        if self._pidfd != -1:
            reactor.addReader(self)
        else:
            self._startPolling()

    def _startPolling(self) -> None:
        self._polling = True
        _pollerFor(self._reactor).add(self._process)

    def stop(self) -> None:
        """The child was collected: stop watching it and unregister it."""
        if reapProcessHandlers.get(self._pid) is self._process:
            del reapProcessHandlers[self._pid]
        if self._pidfd != -1:
            self._reactor.removeReader(self)
            self._closePidfd()
        if self._polling:
            self._polling = False
            _pollerFor(self._reactor).discard(self._process)

    def _closePidfd(self) -> None:
        fd, self._pidfd = self._pidfd, -1
        if fd != -1:
            os.close(fd)

    # -- the reactor's reader interface

    def fileno(self) -> int:
        """The pidfd (-1 once closed)."""
        return self._pidfd

    def logPrefix(self) -> str:
        """How log messages name this watch."""
        return f"pidfd({self._pid})"

    def doRead(self) -> None:
        """The child exited: collect it."""
        self._process.reapProcess()
        if self._pidfd != -1:
            # Readable yet not collectable: should not happen; poll instead
            # of spinning on a descriptor that stays readable.
            self._reactor.removeReader(self)
            self._closePidfd()
            self._startPolling()

    def connectionLost(self, reason: Failure | None) -> None:
        """
        The reactor dropped the watch (it is shutting down): close the pidfd.
        The child stays registered for :func:`reapAllProcesses`.
        """
        self.disconnected = True
        self._closePidfd()

    def __repr__(self) -> str:
        how = "pidfd" if self._pidfd != -1 else "polling" if self._polling else "stopped"
        return f"<ExitWatch pid={self._pid} {how}>"
