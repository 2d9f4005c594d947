"""
The reactor core every backend shares: time, system events, threads, run/stop.

A backend subclasses :class:`ReactorBase` and supplies the file-descriptor set
(``addReader`` and friends) and :meth:`ReactorBase.doIteration`, which waits at
most a given time for descriptors to become ready and dispatches them.

The loop, as a grammar::

    run -> startup(before, during, after) -> iteration* -> shutdown(before,
    during, after) -> end
    iteration = thread calls -> due timers -> [shutdown] -> doIteration(timeout)

``reactor.seconds()`` is a monotonic clock: it never goes backwards when the
wall clock is set, so timers are not disturbed by NTP or an operator.  Use
:func:`time.time` for timestamps.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import (
    IReactorCore,
    IReactorPluggableNameResolver,
    IReactorPluggableResolver,
    IReactorThreads,
    IReactorTime,
)
from fw.internet._resolver import GAIResolver, SimpleResolverComplexifier, ThreadedResolver
from fw.internet._task_clock import DelayedCall
from fw.internet._timers import TimerQueue
from fw.internet.abstract import isIPAddress
from fw.internet.defer import Deferred, DeferredList, maybeDeferred, succeed
from fw.logger import Logger
from fw.python.failure import Failure
from fw.python.threadpool import ThreadPool

__all__ = ["ReactorBase"]

_log = Logger(namespace="fw.internet.reactor")

_PHASES = ("before", "during", "after")


class _TriggerID:
    """The handle ``addSystemEventTrigger`` returns, for ``removeSystemEventTrigger``."""

    __slots__ = ("entry", "event", "phase")

    def __init__(self, event: _SystemEvent, phase: str, entry: list[Any]) -> None:
        self.event = event
        self.phase = phase
        self.entry = entry

    def __repr__(self) -> str:
        return f"<system event trigger {self.phase} {self.event.name}: {self.entry[0]!r}>"


class _SystemEvent:
    """
    The triggers of one system event type ("startup", "shutdown"...) in its three
    phases.  "before" triggers may return Deferreds; "during" and "after"
    triggers run once every one of those has fired.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.phases: dict[str, list[list[Any]]] = {p: [] for p in _PHASES}
        self.firing = False
        self.waitingOn: list[Deferred[Any]] = []

    def add(self, phase: str, f: Callable[..., object], args: Any, kw: Any) -> _TriggerID:
        if phase not in self.phases:
            raise KeyError(f"{phase!r} is not a system event phase (before, during, after)")
        entry = [f, args, kw]
        self.phases[phase].append(entry)
        return _TriggerID(self, phase, entry)

    def remove(self, trigger: _TriggerID) -> None:
        entries = self.phases[trigger.phase]
        for i, entry in enumerate(entries):
            if entry is trigger.entry:
                # While firing, blank the entry so the loop over the list is not
                # disturbed; otherwise drop it.
                if self.firing:
                    entries[i] = [None, (), {}]
                else:
                    del entries[i]
                return
        raise ValueError(f"{trigger!r} was already removed or has run")

    def fire(self) -> None:
        if self.firing:
            return
        self.firing = True
        waiting: list[Deferred[Any]] = []
        before = self.phases["before"]
        while before:
            f, args, kw = before.pop(0)
            if f is None:
                continue
            d = maybeDeferred(f, *args, **kw)
            if not d.called:
                waiting.append(d)
            else:
                d.addErrback(_logTriggerFailure, self.name, "before")
        if waiting:
            self.waitingOn = waiting
            DeferredList(waiting, consumeErrors=True).addCallback(self._finishBefore)
        else:
            self._finishBefore([])

    def _finishBefore(self, results: list[tuple[bool, object]]) -> None:
        for ok, result in results:
            if not ok and isinstance(result, Failure):
                _log.failure(
                    "system event {event} 'before' trigger failed",
                    result,
                    event=self.name,
                )
        self.waitingOn = []
        for phase in ("during", "after"):
            entries = self.phases[phase]
            while entries:
                f, args, kw = entries.pop(0)
                if f is None:
                    continue
                try:
                    f(*args, **kw)
                except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
                    _log.failure(
                        "system event {event} {phase!r} trigger {trigger!r} failed",
                        event=self.name,
                        phase=phase,
                        trigger=f,
                    )
        self.firing = False


def _logTriggerFailure(failure: Failure, event: str, phase: str) -> None:
    _log.failure(
        "system event {event} {phase!r} trigger failed", failure, event=event, phase=phase
    )


@implementer(IReactorCore, IReactorTime, IReactorThreads)
@implementer(IReactorPluggableResolver, IReactorPluggableNameResolver)
class ReactorBase:
    """
    The backend-independent part of a reactor.

    Attributes:
        running: true from the "during startup" phase until the reactor stops.
        threadpool: the thread pool, created on first use.
    """

    _installSignalHandlers = True
    #: Called with the due time of a new earliest timer, by backends that arm
    #: a timer of their own for it (asyncio); ``None`` for the others.
    _earliestTimerChanged: Callable[[float], object] | None = None

    def __init__(self) -> None:
        self.running = False
        self._started = False
        self._stopped = True
        self._justStopped = False
        self._startedBefore = False
        self._timers = TimerQueue(self.seconds, self._earliestTimerChanged)
        self._threadCalls: deque[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]]
        self._threadCalls = deque()
        self._events: dict[str, _SystemEvent] = {}
        self.threadpool: ThreadPool | None = None
        self._threadpoolStartupID: _TriggerID | None = None
        self.threadpoolShutdownID: _TriggerID | None = None
        self._ioThread: threading.Thread | None = None
        self._signalsInstalled: list[tuple[int, Any]] = []
        self._nameResolver: Any = GAIResolver(self, self.getThreadPool)
        self.resolver: Any = ThreadedResolver(self)
        self.addSystemEventTrigger("during", "shutdown", self.crash)
        self.addSystemEventTrigger("during", "shutdown", self.disconnectAll)
        self.addSystemEventTrigger("during", "startup", self._reallyStartRunning)

    # -- time

    def seconds(self) -> float:
        """Return the reactor's monotonic clock, in seconds."""
        return monotonic()

    def callLater(
        self, delay: float, callable: Callable[..., object], /, *args: object, **kw: object
    ) -> DelayedCall:
        """
        Call ``callable(*args, **kw)`` once, ``delay`` seconds from now.

        Returns:
            The delayed call, which can be cancelled, delayed or reset.
        """
        if delay < 0:
            raise ValueError(f"delay {delay!r} is negative")
        return self._timers.schedule(self.seconds() + delay, callable, args, kw)

    def getDelayedCalls(self) -> list[DelayedCall]:
        """Return every pending delayed call, earliest first."""
        return self._timers.pending()

    def timeout(self) -> float | None:
        """Return how long the loop may wait for I/O, or ``None`` for as long as it likes."""
        if self._threadCalls or self._justStopped:
            return 0.0
        nextTime = self._timers.nextTime()
        if nextTime is None:
            return None
        return max(0.0, nextTime - self.seconds())

    def runUntilCurrent(self) -> None:
        """Run the calls queued from threads, then every delayed call that is due."""
        calls = self._threadCalls
        if calls:
            # Only those queued so far: a call queuing another waits its turn.
            for _ in range(len(calls)):
                f, args, kw = calls.popleft()
                try:
                    f(*args, **kw)
                except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
                    _log.failure("callFromThread call {f!r} raised", f=f)
        timers = self._timers
        if timers._heap:
            now = self.seconds()
            popDue = timers.popDue
            while (call := popDue(now)) is not None:
                func = call.func
                try:
                    if func is not None:
                        func(*call.args, **call.kw)
                except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
                    _log.failure("delayed call {call!r} raised", call=call)
        if self._justStopped:
            self._justStopped = False
            self.fireSystemEvent("shutdown")

    # -- system events

    def _event(self, eventType: str) -> _SystemEvent:
        event = self._events.get(eventType)
        if event is None:
            event = self._events[eventType] = _SystemEvent(eventType)
        return event

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., object],
        /,
        *args: object,
        **kw: object,
    ) -> _TriggerID:
        """
        Run ``callable(*args, **kw)`` in ``phase`` ("before", "during" or
        "after") of system event ``eventType`` ("startup", "shutdown"...).

        A "before" trigger may return a Deferred: the "during" phase waits for it.

        Returns:
            An ID for :meth:`removeSystemEventTrigger`.
        """
        return self._event(eventType).add(phase, callable, args, kw)

    def removeSystemEventTrigger(self, triggerID: _TriggerID) -> None:
        """Remove a trigger added by :meth:`addSystemEventTrigger`.

        Raises:
            ValueError: it was already removed, or has run.
        """
        if not isinstance(triggerID, _TriggerID):
            raise TypeError(f"{triggerID!r} is not a system event trigger ID")
        triggerID.event.remove(triggerID)

    def fireSystemEvent(self, eventType: str) -> None:
        """Run the triggers of ``eventType``, phase after phase."""
        event = self._events.get(eventType)
        if event is not None:
            event.fire()

    def callWhenRunning(
        self, callable: Callable[..., object], /, *args: object, **kw: object
    ) -> _TriggerID | None:
        """
        Call ``callable(*args, **kw)`` now if the reactor is running, else once
        it has started.

        Returns:
            A trigger ID when the call was deferred until startup, else ``None``.
        """
        if self.running:
            callable(*args, **kw)
            return None
        return self.addSystemEventTrigger("after", "startup", callable, *args, **kw)

    # -- running

    def startRunning(self, installSignalHandlers: bool = True) -> None:
        """
        Start the reactor without running its loop (the loop is :meth:`mainLoop`).

        Raises:
            ReactorNotRestartable: it ran and stopped before.
            ReactorAlreadyRunning: it is running.
        """
        if self._startedBefore:
            raise error.ReactorNotRestartable()
        if self._started:
            raise error.ReactorAlreadyRunning()
        self._installSignalHandlers = installSignalHandlers
        self._started = True
        self._stopped = False
        self._ioThread = threading.current_thread()
        self.fireSystemEvent("startup")

    def _reallyStartRunning(self) -> None:
        self.running = True
        if self._installSignalHandlers:
            self._installSignals()

    def run(self, installSignalHandlers: bool = True) -> None:
        """Run the reactor until it is stopped."""
        self.startRunning(installSignalHandlers=installSignalHandlers)
        try:
            self.mainLoop()
        finally:
            self._uninstallSignals()

    def mainLoop(self) -> None:
        """Iterate until :meth:`stop` or :meth:`crash`."""
        while self._started:
            try:
                while self._started:
                    self.runUntilCurrent()
                    timeout = self.timeout()
                    self.doIteration(timeout if self.running else 0.0)
            except Exception:  # noqa: BLE001 - a user callback's error is logged; the loop goes on
                _log.failure("unexpected error in the main loop")
        _log.info("main loop terminated")

    def stop(self) -> None:
        """
        Stop the reactor: fire the shutdown event, then leave the loop.

        Raises:
            ReactorNotRunning: it is not running, or is already stopping.
        """
        if self._stopped:
            raise error.ReactorNotRunning("Can't stop reactor that isn't running.")
        self._stopped = True
        self._justStopped = True
        self._startedBefore = True
        self.wakeUp()

    def crash(self) -> None:
        """Leave the loop now, without firing the shutdown event."""
        self._started = False
        self.running = False
        self.addSystemEventTrigger("during", "startup", self._reallyStartRunning)

    def iterate(self, delay: float = 0) -> None:
        """Run one iteration of the loop, waiting at most ``delay`` seconds for I/O."""
        self.runUntilCurrent()
        self.doIteration(delay)

    def doIteration(self, delay: float | None) -> None:
        """Wait at most ``delay`` seconds (``None``: indefinitely) for I/O and dispatch it."""
        raise NotImplementedError(f"{type(self).__name__} must implement doIteration")

    def wakeUp(self) -> None:
        """Make a blocked :meth:`doIteration` return soon; safe from any thread."""

    def disconnectAll(self) -> None:
        """Disconnect every reader and writer (at shutdown)."""

    def resolve(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Resolve a host name to one IPv4 address with :attr:`resolver`."""
        if not name:
            # Twisted's convention: the empty name is "any address".
            return succeed("0.0.0.0")  # noqa: S104
        if isIPAddress(name):
            return succeed(name)
        return self.resolver.getHostByName(name, timeout)  # type: ignore[no-any-return]

    # -- signals

    def _installSignals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, handler in self._signalHandlers():
            try:
                previous = signal.signal(signum, handler)
            except (OSError, ValueError):
                continue
            self._signalsInstalled.append((signum, previous))

    def _signalHandlers(self) -> list[tuple[int, Callable[[int, Any], None]]]:
        handlers: list[tuple[int, Callable[[int, Any], None]]] = [
            (signal.SIGINT, self.sigInt),
            (signal.SIGTERM, self.sigTerm),
        ]
        if hasattr(signal, "SIGBREAK"):
            handlers.append((signal.SIGBREAK, self.sigBreak))
        return handlers

    def _uninstallSignals(self) -> None:
        while self._signalsInstalled:
            signum, previous = self._signalsInstalled.pop()
            try:
                signal.signal(signum, previous)
            except (OSError, ValueError, TypeError):
                pass

    def _stopFromSignal(self, name: str) -> None:
        _log.info("received {signal}, shutting down", signal=name)
        self.callFromThread(self._stopIfRunning)

    def _stopIfRunning(self) -> None:
        if not self._stopped:
            self.stop()

    def sigInt(self, signum: int, frame: Any) -> None:
        """Stop on SIGINT."""
        self._stopFromSignal("SIGINT")

    def sigTerm(self, signum: int, frame: Any) -> None:
        """Stop on SIGTERM."""
        self._stopFromSignal("SIGTERM")

    def sigBreak(self, signum: int, frame: Any) -> None:
        """Stop on SIGBREAK."""
        self._stopFromSignal("SIGBREAK")

    # -- threads

    def callFromThread(
        self, callable: Callable[..., object], /, *args: object, **kw: object
    ) -> None:
        """Run ``callable(*args, **kw)`` in the reactor's thread, soon; thread-safe."""
        self._threadCalls.append((callable, args, kw))
        self.wakeUp()

    def getThreadPool(self) -> ThreadPool:
        """Return the reactor's thread pool, creating it on first use."""
        if self.threadpool is None:
            self.threadpool = ThreadPool(0, 10, "fw.internet.reactor")
            self._threadpoolStartupID = self.callWhenRunning(self.threadpool.start)
            self.threadpoolShutdownID = self.addSystemEventTrigger(
                "during", "shutdown", self._stopThreadPool
            )
        return self.threadpool

    def _stopThreadPool(self) -> None:
        pool = self.threadpool
        if pool is None:
            return
        self.threadpool = None
        if self._threadpoolStartupID is not None:
            try:
                self.removeSystemEventTrigger(self._threadpoolStartupID)
            except ValueError:
                pass
            self._threadpoolStartupID = None
        self.threadpoolShutdownID = None
        pool.stop()

    def callInThread(
        self, callable: Callable[..., object], /, *args: object, **kw: object
    ) -> None:
        """Run ``callable(*args, **kw)`` in the reactor's thread pool."""
        self.getThreadPool().callInThread(callable, *args, **kw)

    def suggestThreadPoolSize(self, size: int) -> None:
        """Let the thread pool grow to ``size`` threads."""
        self.getThreadPool().adjustPoolsize(maxthreads=size)

    # -- name resolution

    @property
    def nameResolver(self) -> Any:
        """The :class:`IHostnameResolver` that connections use (getaddrinfo by default)."""
        return self._nameResolver

    def installNameResolver(self, resolver: Any) -> Any:
        """Use ``resolver`` for host names from now on; return the previous one."""
        previous, self._nameResolver = self._nameResolver, resolver
        return previous

    def installResolver(self, resolver: Any) -> Any:
        """
        Install an old-style :class:`IResolverSimple`; it also becomes the name
        resolver (adapted).  Returns the previous simple resolver.
        """
        previous, self.resolver = self.resolver, resolver
        self._nameResolver = SimpleResolverComplexifier(resolver)
        return previous


class _Waker:
    """
    A descriptor the reactor reads so that another thread (or a signal handler)
    can wake it: a non-blocking pipe.  It is also the reactor's signal wake-up
    descriptor (``signal.set_wakeup_fd``), so that a signal delivered to any
    thread wakes a loop blocked in the kernel.
    """

    disconnected = False

    def __init__(self) -> None:
        self._fd, self._writeFd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def fileno(self) -> int:
        return self._fd

    def writeFileno(self) -> int:
        """The descriptor written to wake the reactor."""
        return self._writeFd

    def logPrefix(self) -> str:
        return "-waker-"

    def wakeUp(self) -> None:
        try:
            os.write(self._writeFd, b"x")
        except OSError:
            # Full (already awake) or closed at shutdown: either way nothing to do.
            pass

    def doRead(self) -> None:
        try:
            os.read(self._fd, 4096)
        except OSError:
            pass

    def connectionLost(self, reason: Failure) -> None:
        self.close()

    def close(self) -> None:
        if self.disconnected:
            return
        self.disconnected = True
        os.close(self._fd)
        os.close(self._writeFd)
