"""
A reactor that runs on an asyncio event loop, so that fw code and asyncio code
share one loop (any loop: the standard one, or uvloop's).

Install it before anything imports the reactor::

    from fw.internet import asyncioreactor
    asyncioreactor.install()            # a new event loop, run by reactor.run()

Inside a running loop (``asyncio.run``), start it instead of running it; the
loop stays yours::

    async def main():
        reactor = asyncioreactor.install(asyncio.get_running_loop())
        reactor.startRunning()
        await someDeferred                   # Deferreds are awaitable
        ...
        reactor.stop()                       # fires shutdown; the loop goes on

``reactor.seconds()`` is the loop's clock (``loop.time()``).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._posixbase import PosixReactorBase

__all__ = ["AsyncioSelectorReactor", "install", "installUvloop"]


@implementer(IReactorFDSet)
class AsyncioSelectorReactor(PosixReactorBase):
    """
    A reactor whose descriptors, timers and thread wake-ups are driven by an
    asyncio event loop.

    Args:
        eventloop: the loop to run on; by default a new one.
    """

    def __init__(self, eventloop: asyncio.AbstractEventLoop | None = None) -> None:
        if eventloop is None:
            eventloop = asyncio.new_event_loop()
        self._asyncioEventloop = eventloop
        self._reads: dict[int, Any] = {}
        self._writes: dict[int, Any] = {}
        # id(selectable) -> its descriptor: removal by identity, in one lookup.
        self._readerFds: dict[int, int] = {}
        self._writerFds: dict[int, int] = {}
        self._timerHandle: asyncio.TimerHandle | None = None
        self._timerDue: float | None = None
        self._ranLoop = False
        super().__init__()

    def _makeWaker(self) -> Any:
        # The loop wakes itself: call_soon_threadsafe.
        return None

    def seconds(self) -> float:
        """The loop's monotonic clock."""
        return self._asyncioEventloop.time()

    # -- timers and thread calls: one "tick" callback does both

    def _earliestTimerChanged(self, when: float) -> None:
        if self._timerDue is not None and self._timerDue <= when:
            return
        if self._timerHandle is not None:
            self._timerHandle.cancel()
        self._timerDue = when
        self._timerHandle = self._asyncioEventloop.call_at(when, self._onTimer)

    def _onTimer(self) -> None:
        self._timerHandle = None
        self._timerDue = None
        self._tick()

    def _tick(self) -> None:
        self.runUntilCurrent()
        nextTime = self._timers.nextTime()
        if nextTime is not None:
            self._earliestTimerChanged(nextTime)
        if self._threadCalls or self._justStopped:
            self.wakeUp()

    def wakeUp(self) -> None:
        """Run thread calls and due timers soon; safe from any thread."""
        try:
            self._asyncioEventloop.call_soon_threadsafe(self._tick)
        except RuntimeError:
            # The loop is closed: the reactor is gone with it.
            pass

    # -- descriptors

    def _readable(self, selectable: Any) -> None:
        self._doReadOrWrite(selectable, True, False)

    def _writable(self, selectable: Any) -> None:
        self._doReadOrWrite(selectable, False, True)

    def addReader(self, reader: Any) -> None:
        """Call ``reader.doRead()`` whenever it is readable."""
        fd = reader.fileno()
        previous = self._reads.get(fd)
        if previous is reader:
            return
        if previous is not None:
            # A closed selectable's descriptor number, reused: forget it.
            self._readerFds.pop(id(previous), None)
        self._reads[fd] = reader
        self._readerFds[id(reader)] = fd
        self._asyncioEventloop.add_reader(fd, self._readable, reader)

    def addWriter(self, writer: Any) -> None:
        """Call ``writer.doWrite()`` whenever it is writable."""
        fd = writer.fileno()
        previous = self._writes.get(fd)
        if previous is writer:
            return
        if previous is not None:
            self._writerFds.pop(id(previous), None)
        self._writes[fd] = writer
        self._writerFds[id(writer)] = fd
        self._asyncioEventloop.add_writer(fd, self._writable, writer)

    def removeReader(self, reader: Any) -> None:
        """Stop watching ``reader``."""
        # By identity: a closed selectable's fileno() is -1 or already reused.
        fd = self._readerFds.pop(id(reader), None)
        if fd is not None and self._reads.get(fd) is reader:
            del self._reads[fd]
            self._asyncioEventloop.remove_reader(fd)

    def removeWriter(self, writer: Any) -> None:
        """Stop watching ``writer``."""
        fd = self._writerFds.pop(id(writer), None)
        if fd is not None and self._writes.get(fd) is writer:
            del self._writes[fd]
            self._asyncioEventloop.remove_writer(fd)

    def removeAll(self) -> list[Any]:
        """Remove every reader and writer; return them."""
        return self._removeAllFrom(self._reads, self._writes)

    def getReaders(self) -> list[Any]:
        """Return the readers."""
        return list(self._reads.values())

    def getWriters(self) -> list[Any]:
        """Return the writers."""
        return list(self._writes.values())

    # -- signals: through the loop, which wakes itself whatever thread a
    # signal is delivered to

    def _installSignals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        loop = self._asyncioEventloop
        # uvloop keeps SIGCHLD for libuv's own child watching, and its
        # add_signal_handler misses signals that arrive before its loop runs;
        # plain Python handlers work there, as uvloop wakes itself for them.
        onUvloop = type(loop).__module__.startswith("uvloop")
        for signum, handler in self._signalHandlers():
            previous = signal.getsignal(signum)
            try:
                if onUvloop:
                    signal.signal(signum, handler)
                else:
                    loop.add_signal_handler(signum, handler, signum, None)
            except (NotImplementedError, RuntimeError, ValueError, OSError):
                continue
            self._signalsInstalled.append((signum, previous))

    def _uninstallSignals(self) -> None:
        loop = self._asyncioEventloop
        while self._signalsInstalled:
            signum, previous = self._signalsInstalled.pop()
            try:
                loop.remove_signal_handler(signum)
            except (RuntimeError, ValueError, OSError, TypeError):
                pass
            try:
                signal.signal(signum, previous)
            except (OSError, ValueError, TypeError):
                pass

    # -- running

    def startRunning(self, installSignalHandlers: bool = True) -> None:
        """Start the reactor on its loop, which may already be running."""
        super().startRunning(installSignalHandlers=installSignalHandlers)
        self.wakeUp()

    def run(self, installSignalHandlers: bool = True) -> None:
        """Start the reactor and run its loop until the reactor stops."""
        # Mark the loop as ours first: a startup trigger may already crash().
        self._ranLoop = True
        try:
            self.startRunning(installSignalHandlers=installSignalHandlers)
            if self._started:
                self._asyncioEventloop.run_forever()
        finally:
            self._ranLoop = False
            self._uninstallSignals()

    def crash(self) -> None:
        """Leave the loop (only if :meth:`run` started it) without shutdown events."""
        super().crash()
        if self._ranLoop:
            self._asyncioEventloop.stop()

    def doIteration(self, delay: float | None) -> None:
        """Let the loop run once, waiting at most ``delay`` seconds."""
        loop = self._asyncioEventloop
        handle = loop.call_later(delay or 0, loop.stop)
        try:
            loop.run_forever()
        finally:
            handle.cancel()


def install(eventloop: asyncio.AbstractEventLoop | None = None) -> AsyncioSelectorReactor:
    """Install an asyncio reactor on ``eventloop`` (a new loop by default) and return it."""
    from fw.internet.main import installReactor

    reactor = AsyncioSelectorReactor(eventloop)
    installReactor(reactor)
    return reactor


def installUvloop() -> AsyncioSelectorReactor:
    """Install an asyncio reactor on a new uvloop event loop (``fw-core[uvloop]``)."""
    import uvloop

    return install(uvloop.new_event_loop())
