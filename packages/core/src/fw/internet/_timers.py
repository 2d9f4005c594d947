"""
The timer queue shared by every reactor and by :class:`fw.internet.task.Clock`.

Pending :class:`DelayedCall` objects are found by sequence number in a dict,
and ordered by a binary heap of ``(time, sequence)`` entries.  Cancelling a
call removes it from the dict and leaves its heap entry, now stale, and the
heap is rebuilt only when stale entries outnumber live ones; moving a call
later is noticed when its entry surfaces; moving it earlier queues a fresh
entry and stales the old one.  Scheduling and cancelling are therefore
``O(log n)`` however many calls are pending, and 100,000 pending calls with a
quarter cancelled cost no more than the heap operations themselves.

Each call the queue makes holds one reference back to the queue, rather
than three bound methods (its cancel and reset hooks and the clock): a
``callLater`` then allocates one object the cyclic garbage collector keeps
tracking (the call; its heap entry holds only numbers, so the collector
drops it after one pass) instead of five, and with many timers pending the
collector's passes were half of the cost of scheduling them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from heapq import heapify, heappop, heappush

from fw.internet._task_clock import DelayedCall
from fw.internet.error import AlreadyCalled, AlreadyCancelled

__all__ = ["TimerQueue"]

# Rebuilding a tiny heap over and over would cost more than the stale entries.
_COMPACT_FLOOR = 64


class _QueuedCall(DelayedCall):
    """
    A :class:`DelayedCall` made by a :class:`TimerQueue`: the same object to
    its users, but it reaches its scheduler through one reference to the
    queue.  ``canceller``, ``resetter`` and ``seconds`` are still there, as
    properties, for code that looks at them.
    """

    __slots__ = ("_queue",)

    def __init__(
        self,
        time: float,
        func: Callable[..., object],
        args: tuple[object, ...],
        kw: Mapping[str, object],
        queue: TimerQueue,
    ) -> None:
        # DelayedCall.__init__ is not called: it stores the three hooks this
        # class replaces with the queue.
        self.time = time
        self.func = func
        self.args = args
        self.kw = kw
        self._queue = queue
        self.called = False
        self.cancelled = False
        self.delayed_time = 0.0
        self._seq = 0
        self._repr = None
        self.creator = traceback.format_stack()[:-3] if self.debug else None

    @property
    def canceller(self) -> Callable[[DelayedCall], object]:  # type: ignore[override]
        """What is told when the call is cancelled: its queue."""
        return self._queue._cancelled

    @property
    def resetter(self) -> Callable[[DelayedCall], object]:  # type: ignore[override]
        """What is told when the call is moved earlier: its queue."""
        return self._queue._reset

    @property
    def seconds(self) -> Callable[[], float]:  # type: ignore[override]
        """The scheduler's clock."""
        return self._queue.seconds

    def cancel(self) -> None:
        """
        Unschedule the call.

        Raises:
            AlreadyCancelled: it was cancelled already.
            AlreadyCalled: it has run already.
        """
        if self.cancelled:
            raise AlreadyCancelled()
        if self.called:
            raise AlreadyCalled()
        self._queue._cancelled(self)
        self.cancelled = True
        if self.debug:
            self._repr = repr(self)
        # Drop the references so a cancelled call keeps nothing alive.
        self.func = None
        self.args = ()
        self.kw = {}

    def reset(self, secondsFromNow: float) -> None:
        """
        Make the call due ``secondsFromNow`` seconds from now.

        Raises:
            AlreadyCancelled: it was cancelled already.
            AlreadyCalled: it has run already.
        """
        self._checkActive()
        queue = self._queue
        newTime = queue.seconds() + secondsFromNow
        if newTime < self.time:
            self.delayed_time = 0.0
            self.time = newTime
            queue._reset(self)
        else:
            self.delayed_time = newTime - self.time

    def delay(self, secondsLater: float) -> None:
        """
        Move the call ``secondsLater`` seconds later (earlier, if negative).

        Raises:
            AlreadyCancelled: it was cancelled already.
            AlreadyCalled: it has run already.
        """
        self._checkActive()
        self.delayed_time += secondsLater
        if self.delayed_time < 0:
            self.activate_delay()
            self._queue._reset(self)


class TimerQueue:
    """
    The pending delayed calls of one scheduler, earliest first.

    Args:
        seconds: the scheduler's clock, given to each call for ``reset``.
        onEarliest: called with the due time whenever a call becomes the
            earliest pending one, for schedulers that arm an external timer
            (the asyncio reactor).
    """

    __slots__ = ("_calls", "_heap", "_nextSeq", "_onEarliest", "seconds")

    def __init__(
        self,
        seconds: Callable[[], float],
        onEarliest: Callable[[float], object] | None = None,
    ) -> None:
        self.seconds = seconds
        self._onEarliest = onEarliest
        # The heap holds (time, sequence) pairs, which the garbage collector
        # stops tracking once they survive a collection; the live calls are
        # found by sequence number.  An entry whose number is not in _calls
        # is stale: its call was cancelled, has run, or was queued again.
        self._heap: list[tuple[float, int]] = []
        self._calls: dict[int, DelayedCall] = {}
        self._nextSeq = 0

    def __len__(self) -> int:
        """The number of live pending calls."""
        return len(self._calls)

    def schedule(
        self,
        time: float,
        func: Callable[..., object],
        args: tuple[object, ...],
        kw: Mapping[str, object],
    ) -> DelayedCall:
        """Queue ``func(*args, **kw)`` to run at ``time`` and return its call."""
        call = _QueuedCall(time, func, args, kw, self)
        self._nextSeq = seq = self._nextSeq + 1
        call._seq = seq
        self._calls[seq] = call
        heap = self._heap
        heappush(heap, (time, seq))
        if self._onEarliest is not None and heap[0][1] == seq:
            self._onEarliest(time)
        return call

    def _push(self, call: DelayedCall) -> None:
        self._nextSeq = seq = self._nextSeq + 1
        call._seq = seq
        self._calls[seq] = call
        heap = self._heap
        heappush(heap, (call.time, seq))
        if self._onEarliest is not None and heap[0][1] == seq:
            self._onEarliest(call.time)

    def _cancelled(self, call: DelayedCall) -> None:
        del self._calls[call._seq]
        self._maybeCompact()

    def _reset(self, call: DelayedCall) -> None:
        # The old entry stays in the heap, stale; the call is queued again.
        del self._calls[call._seq]
        self._push(call)
        self._maybeCompact()

    def _maybeCompact(self) -> None:
        """Drop the stale heap entries once they outnumber the live ones."""
        heap = self._heap
        calls = self._calls
        stale = len(heap) - len(calls)
        if stale > _COMPACT_FLOOR and stale * 2 > len(heap):
            heap = [e for e in heap if e[1] in calls]
            heapify(heap)
            self._heap = heap

    def nextTime(self) -> float | None:
        """Return when the earliest live call is due, or ``None`` if none is pending."""
        heap = self._heap
        calls = self._calls
        while heap:
            call = calls.get(heap[0][1])
            if call is None:
                heappop(heap)
                continue
            if call.delayed_time:
                heappop(heap)
                del calls[call._seq]
                call.activate_delay()
                self._push(call)
                continue
            return call.time
        return None

    def popDue(self, now: float) -> DelayedCall | None:
        """
        Remove and return the earliest live call due at or before ``now``.

        The call is marked called; running it is the caller's job.  Returns
        ``None`` when nothing is due.
        """
        heap = self._heap
        calls = self._calls
        while heap and heap[0][0] <= now:
            call = calls.pop(heappop(heap)[1], None)
            if call is None:
                continue
            if call.delayed_time:
                call.activate_delay()
                self._push(call)
                continue
            call.called = True
            return call
        return None

    def pending(self) -> list[DelayedCall]:
        """Return every live pending call, earliest first."""
        live = sorted(self._calls.items(), key=lambda item: (item[1].getTime(), item[0]))
        return [call for (_, call) in live]
