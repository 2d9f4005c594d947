"""
A reactor on GLib's main loop (through PyGObject), so that fw and GTK (or any
GLib code) share one loop.

Install it before anything imports the reactor::

    from fw.internet import gireactor
    gireactor.install()

    from fw.internet import reactor
    ...
    reactor.run()                  # runs GLib's default main loop

A ``Gio.Application`` (or ``Gtk.Application``) can own the loop instead::

    reactor.registerGApplication(app)
    reactor.run()                  # runs app.run(); reactor.stop() quits it

Descriptors are GLib unix-fd sources on the default main context, the timers
are one GLib timeout armed for the earliest of them, and other threads (and
signal handlers) wake the loop through a pipe.  ``reactor.seconds()`` is the
monotonic clock, the one GLib's timeouts use.
"""

from __future__ import annotations

import math
import os
from typing import Any

from gi.repository import GLib  # type: ignore[import-not-found, import-untyped, unused-ignore]
from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._posixbase import PosixReactorBase
from fw.internet.abstract import CONNECTION_LOST
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["GIReactor", "install"]

_log = Logger(namespace="fw.internet.reactor")

_IN = int(GLib.IOCondition.IN)
_WATCH_IN = GLib.IOCondition.IN
_WATCH_OUT = GLib.IOCondition.OUT
_HUP_OR_ERR = int(GLib.IOCondition.HUP | GLib.IOCondition.ERR)
_NVAL = int(GLib.IOCondition.NVAL)
_PRIORITY = int(GLib.PRIORITY_DEFAULT)
# GLib takes a timeout as a guint of milliseconds; a later timer is re-armed
# when this one fires.
_MAX_TIMEOUT_MS = 2**31 - 1


class _PipeWaker:
    """
    The pipe that wakes the loop: written by :meth:`wakeUp` from any thread,
    and by the C signal handler (``signal.set_wakeup_fd``) so that Python
    signal handlers run while GLib is blocked in poll(2).
    """

    disconnected = False

    def __init__(self) -> None:
        self._readFd, self._writeFd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def fileno(self) -> int:
        return self._readFd

    def writeFileno(self) -> int:
        return self._writeFd

    def logPrefix(self) -> str:
        return "-waker-"

    def wakeUp(self) -> None:
        try:
            os.write(self._writeFd, b"\0")
        except OSError:
            # Full (already awake) or closed at shutdown: nothing to do either way.
            pass

    def doRead(self) -> None:
        try:
            while len(os.read(self._readFd, 4096)) == 4096:
                pass
        except OSError:
            pass

    def connectionLost(self, reason: Failure | None) -> None:
        self.close()

    def close(self) -> None:
        if self.disconnected:
            return
        self.disconnected = True
        os.close(self._readFd)
        os.close(self._writeFd)


def _fdOf(selectable: Any, table: dict[int, Any]) -> int:
    """The descriptor ``selectable`` is registered under in ``table``, or -1."""
    fd = selectable.fileno()
    if fd == -1 or table.get(fd) is not selectable:
        # Closed already, or the number was reused: find it by identity.
        for knownFd, known in table.items():
            if known is selectable:
                return knownFd
        return -1
    return int(fd)


@implementer(IReactorFDSet)
class GIReactor(PosixReactorBase):
    """
    A reactor driven by GLib's default main context.

    Args:
        useGtk: accepted for compatibility; GTK needs nothing more than the
            default main context, which this reactor runs.
    """

    def __init__(self, useGtk: bool = False) -> None:
        self._context: Any = GLib.MainContext.default()
        self._loop: Any = GLib.MainLoop.new(self._context, False)
        self._gapplication: Any = None
        self._reads: dict[int, Any] = {}
        self._writes: dict[int, Any] = {}
        self._readSources: dict[int, int] = {}
        self._writeSources: dict[int, int] = {}
        # The GLib timeout for the earliest timer: armed only while the loop
        # runs, so that a reactor at rest leaves nothing in the shared context.
        self._looping = False
        self._timerSource: int | None = None
        self._timerDue: float | None = None
        super().__init__()

    def _makeWaker(self) -> Any:
        return _PipeWaker()

    # -- timers and thread calls: one "tick" does both

    def _earliestTimerChanged(self, when: float) -> None:
        if not self._looping or (self._timerDue is not None and self._timerDue <= when):
            return
        self._armTimer(when)

    def _armTimer(self, when: float) -> None:
        self._disarmTimer()
        # Round up: GLib's clock is ours (CLOCK_MONOTONIC), so the timeout fires
        # no earlier than ``when``; one that fires early is simply re-armed.
        milliseconds = math.ceil((when - self.seconds()) * 1000)
        milliseconds = min(max(milliseconds, 0), _MAX_TIMEOUT_MS)
        self._timerDue = when
        self._timerSource = GLib.timeout_add(milliseconds, self._onTimer, priority=_PRIORITY)

    def _disarmTimer(self) -> None:
        if self._timerSource is not None:
            GLib.source_remove(self._timerSource)
            self._timerSource = None
            self._timerDue = None

    def _onTimer(self) -> bool:
        self._timerSource = None
        self._timerDue = None
        try:
            self._tick()
        except Exception:  # noqa: BLE001 - logged; the loop goes on
            _log.failure("unexpected error in the reactor's timer callback")
        # Done with this source; _tick armed a new one if a timer is pending.
        return False

    def _tick(self) -> None:
        self.runUntilCurrent()
        if self._looping:
            nextTime = self._timers.nextTime()
            if nextTime is not None:
                self._earliestTimerChanged(nextTime)
        if self._threadCalls or self._justStopped:
            self.wakeUp()

    def _onWake(self, fd: int, condition: int, waker: _PipeWaker) -> bool:
        waker.doRead()
        try:
            self._tick()
        except Exception:  # noqa: BLE001 - logged; the loop goes on
            _log.failure("unexpected error in the reactor's wake-up callback")
        return True

    # -- descriptors
    #
    # Each callback returns True, keeping its source: sources are removed by
    # removeReader/removeWriter only.  An exception escaping to PyGObject would
    # instead destroy the source behind our back, so none may.

    def _onReadable(self, fd: int, condition: int, reader: Any) -> bool:
        try:
            if condition & _NVAL:
                self._badDescriptor(reader)
            elif condition & _IN or not condition & _HUP_OR_ERR:
                self._doReadOrWrite(reader, True, False)
            elif self._writes.get(fd) is not reader:
                self._hangUp(reader, True)
            # Else hung up or failed with nothing to read, and a writer: the
            # write source reports it, so that a connect's error comes from doWrite.
        except Exception:  # noqa: BLE001 - logged; the loop goes on
            _log.failure("unexpected error dispatching {reader!r}", reader=reader)
        return True

    def _onWritable(self, fd: int, condition: int, writer: Any) -> bool:
        try:
            if condition & _NVAL:
                self._badDescriptor(writer)
            else:
                self._doReadOrWrite(writer, False, True)
        except Exception:  # noqa: BLE001 - logged; the loop goes on
            _log.failure("unexpected error dispatching {writer!r}", writer=writer)
        return True

    def _badDescriptor(self, selectable: Any) -> None:
        # Closed without being removed first: poll(2) would report it forever.
        self._disconnectSelectable(selectable, CONNECTION_LOST, False)

    def addReader(self, reader: Any) -> None:
        """Call ``reader.doRead()`` whenever it is readable."""
        fd = reader.fileno()
        previous = self._reads.get(fd)
        if previous is reader:
            return
        if previous is not None:
            # A stale reader whose descriptor number was reused.
            GLib.source_remove(self._readSources.pop(fd))
        self._reads[fd] = reader
        callback = self._onWake if reader is self.waker else self._onReadable
        self._readSources[fd] = GLib.unix_fd_add_full(_PRIORITY, fd, _WATCH_IN, callback, reader)

    def addWriter(self, writer: Any) -> None:
        """Call ``writer.doWrite()`` whenever it is writable."""
        fd = writer.fileno()
        previous = self._writes.get(fd)
        if previous is writer:
            return
        if previous is not None:
            GLib.source_remove(self._writeSources.pop(fd))
        self._writes[fd] = writer
        self._writeSources[fd] = GLib.unix_fd_add_full(
            _PRIORITY, fd, _WATCH_OUT, self._onWritable, writer
        )

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader``."""
        fd = _fdOf(reader, self._reads)
        if fd != -1:
            del self._reads[fd]
            GLib.source_remove(self._readSources.pop(fd))

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer``."""
        fd = _fdOf(writer, self._writes)
        if fd != -1:
            del self._writes[fd]
            GLib.source_remove(self._writeSources.pop(fd))

    def removeAll(self) -> list[Any]:
        """Remove every reader and writer but the reactor's own; return them."""
        return self._removeAllFrom(self._reads, self._writes)

    def getReaders(self) -> list[Any]:
        """Return the readers, the reactor's own excluded."""
        return [r for r in self._reads.values() if r not in self._internalReaders]

    def getWriters(self) -> list[Any]:
        """Return the writers."""
        return list(self._writes.values())

    # -- running

    def registerGApplication(self, app: Any) -> None:
        """
        Run ``app`` (a ``Gio.Application`` or ``Gtk.Application``) as the main
        loop: :meth:`run` calls ``app.run()`` (holding the application, so that
        it does not exit on its own) and stopping the reactor quits it.

        Raises:
            RuntimeError: an application is registered already.
            ReactorAlreadyRunning: the reactor has started.
        """
        if self._gapplication is not None:
            raise RuntimeError("Can't register more than one application instance.")
        if self._started:
            raise error.ReactorAlreadyRunning(
                "Can't register application after reactor was started."
            )
        self._gapplication = app

    def mainLoop(self) -> None:
        """Run GLib's main loop (or the registered application) until the reactor stops."""
        if not self._started:
            # Crashed or stopped while starting up.
            return
        self._looping = True
        nextTime = self._timers.nextTime()
        if nextTime is not None:
            self._armTimer(nextTime)
        # The first iteration runs what other threads queued before the start.
        self.wakeUp()
        try:
            if self._gapplication is not None:
                self._gapplication.hold()
                self._gapplication.run(None)
            else:
                self._loop.run()
        finally:
            self._looping = False
            self._disarmTimer()

    def crash(self) -> None:
        """Leave the loop without firing the shutdown event."""
        super().crash()
        if self._looping:
            if self._gapplication is not None:
                self._gapplication.quit()
            else:
                self._loop.quit()

    def doIteration(self, delay: float | None) -> None:
        """Let GLib run one iteration, waiting at most ``delay`` seconds."""
        context = self._context
        if delay is not None and delay <= 0:
            context.iteration(False)
            return
        if delay is None:
            context.iteration(True)
            return
        woken: list[bool] = []

        def wake() -> bool:
            woken.append(True)
            return False

        milliseconds = min(math.ceil(delay * 1000), _MAX_TIMEOUT_MS)
        source = GLib.timeout_add(milliseconds, wake, priority=_PRIORITY)
        try:
            context.iteration(True)
        finally:
            if not woken:
                GLib.source_remove(source)


def install(useGtk: bool = False) -> GIReactor:
    """Install a GLib reactor as the global reactor and return it."""
    from fw.internet.main import installReactor

    reactor = GIReactor(useGtk=useGtk)
    installReactor(reactor)
    return reactor
