"""The log publisher: fans events out to observers."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Final

from zope.interface import implementer

from fw.logger._interfaces import ILogObserver, LogEvent, ObserverCallable
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.logger._logger import Logger

__all__ = ["MAX_REENTRANT_DEPTH", "LogPublisher", "globalLogPublisher"]

#: How deep events emitted by observers while they handle an event may nest
#: before the publisher drops them.  An observer that logs something about
#: each event it sees would otherwise feed itself forever; real chains (an
#: observer reporting a problem, another observer reporting on that report)
#: are a handful deep.
MAX_REENTRANT_DEPTH: Final = 16


class _DispatchState(threading.local):
    """What a publisher is doing in one thread."""

    def __init__(self) -> None:
        self.active = False
        self.depth = 0
        self.dropped = 0
        self.pending: deque[tuple[LogEvent, int]] = deque()


@implementer(ILogObserver)
class LogPublisher:
    """An observer that passes every event on to the observers it holds.

    An observer that raises does not stop the others, nor the emitter: the
    exception is reported, as a critical event with the failure, to the
    publisher's other observers, and the failing observer stays registered
    (a full disk may empty).

    Publishing is reentrant: an observer may emit events, add or remove
    observers.  An event emitted by an observer while it handles an event is
    delivered to every observer after the current event, so each observer
    sees the events one at a time and in the same order; nesting deeper than
    :data:`MAX_REENTRANT_DEPTH` is dropped (with one report of how many).

    Args:
        observers: the initial observers.
    """

    def __init__(self, *observers: ObserverCallable) -> None:
        self._observers: tuple[ObserverCallable, ...] = ()
        self._lock = threading.Lock()
        self._state = _DispatchState()
        for observer in observers:
            self.addObserver(observer)

    def addObserver(self, observer: ObserverCallable) -> None:
        """Register an observer; registering one already there does nothing.

        Raises:
            TypeError: ``observer`` is not callable.
        """
        if not callable(observer):
            raise TypeError(f"Observer is not callable: {observer!r}")
        with self._lock:
            if observer not in self._observers:
                self._observers = (*self._observers, observer)

    def removeObserver(self, observer: ObserverCallable) -> None:
        """Unregister an observer; one that is not registered is ignored."""
        with self._lock:
            observers = list(self._observers)
            try:
                observers.remove(observer)
            except ValueError:
                return
            self._observers = tuple(observers)

    def __call__(self, event: LogEvent) -> None:
        """Publish ``event`` to every registered observer."""
        state = self._state
        if state.active:
            depth = state.depth + 1
            if depth > MAX_REENTRANT_DEPTH:
                state.dropped += 1
            else:
                state.pending.append((event, depth))
            return
        state.active = True
        try:
            self._deliver(event)
            if state.pending:
                self._drain(state)
        finally:
            state.active = False

    def _drain(self, state: _DispatchState) -> None:
        """Deliver the events observers emitted while handling one, in order."""
        pending = state.pending
        try:
            while pending:
                event, state.depth = pending.popleft()
                self._deliver(event)
            if state.dropped:
                # Whatever this report makes observers emit is dropped too.
                state.depth = MAX_REENTRANT_DEPTH
                _internalLogger(self._deliver).error(
                    "Dropped {count} log event(s) that observers of {publisher} emitted "
                    "while handling events nested more than {limit} deep (an observer "
                    "logging about every event it sees?)",
                    count=state.dropped,
                    publisher=self,
                    limit=MAX_REENTRANT_DEPTH,
                )
        finally:
            state.depth = 0
            state.dropped = 0
            pending.clear()

    def _deliver(self, event: LogEvent) -> None:
        trace = event.get("log_trace")
        broken: list[tuple[ObserverCallable, Failure]] | None = None
        for observer in self._observers:
            if trace is not None:
                trace.append((self, observer))
            try:
                observer(event)
            except Exception:  # noqa: BLE001 - reported to the other observers below
                if broken is None:
                    broken = []
                broken.append((observer, Failure()))
        if broken is not None:
            for observer, failure in broken:
                self._reportBroken(observer, failure)

    def _reportBroken(self, observer: ObserverCallable, failure: Failure) -> None:
        """Tell the observers other than ``observer`` that it raised ``failure``."""
        others = LogPublisher(*(o for o in self._observers if o is not observer))
        _internalLogger(others).failure(
            "Log observer {observer} raised an exception handling an event",
            failure,
            observer=observer,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} with {len(self._observers)} observer(s)>"


def _internalLogger(observer: ObserverCallable) -> Logger:
    from fw.logger._logger import Logger  # the logger module imports this one

    return Logger(namespace=__name__, observer=observer)


#: The publisher every :class:`~fw.logger.Logger` and ``fw.python.log.msg``
#: emit to by default.  Add observers to it, or better, start logging with
#: :data:`~fw.logger.globalLogBeginner`.
globalLogPublisher: Final = LogPublisher()
