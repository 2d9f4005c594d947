"""
The timer queue shared by every reactor and by :class:`fw.internet.task.Clock`.

Pending :class:`DelayedCall` objects live in a binary heap of
``(time, sequence, call)`` entries.  Cancelling a call leaves its entry in the
heap, marked stale, and the heap is rebuilt only when stale entries outnumber
live ones; moving a call later is noticed when its entry surfaces; moving it
earlier queues a fresh entry and stales the old one.  Scheduling and
cancelling are therefore ``O(log n)`` however many calls are pending, and
100,000 pending calls with a quarter cancelled cost no more than the heap
operations themselves.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping

from fw.internet._task_clock import DelayedCall

__all__ = ["TimerQueue"]

# Rebuilding a tiny heap over and over would cost more than the stale entries.
_COMPACT_FLOOR = 64


class TimerQueue:
    """
    The pending delayed calls of one scheduler, earliest first.

    Args:
        seconds: the scheduler's clock, given to each call for ``reset``.
        onEarliest: called with the due time whenever a call becomes the
            earliest pending one, for schedulers that arm an external timer
            (the asyncio reactor).
    """

    __slots__ = ("_heap", "_nextSeq", "_onEarliest", "_stale", "seconds")

    def __init__(
        self,
        seconds: Callable[[], float],
        onEarliest: Callable[[float], object] | None = None,
    ) -> None:
        self.seconds = seconds
        self._onEarliest = onEarliest
        self._heap: list[tuple[float, int, DelayedCall]] = []
        self._nextSeq = 0
        # Heap entries that no longer stand for a live call.
        self._stale = 0

    def __len__(self) -> int:
        """The number of live pending calls."""
        return len(self._heap) - self._stale

    def schedule(
        self,
        time: float,
        func: Callable[..., object],
        args: tuple[object, ...],
        kw: Mapping[str, object],
    ) -> DelayedCall:
        """Queue ``func(*args, **kw)`` to run at ``time`` and return its call."""
        call = DelayedCall(time, func, args, kw, self._cancelled, self._reset, self.seconds)
        self._push(call)
        return call

    def _push(self, call: DelayedCall) -> None:
        self._nextSeq = seq = self._nextSeq + 1
        call._seq = seq
        heap = self._heap
        heapq.heappush(heap, (call.time, seq, call))
        if self._onEarliest is not None and heap[0][2] is call:
            self._onEarliest(call.time)

    def _cancelled(self, call: DelayedCall) -> None:
        self._stale += 1
        self._maybeCompact()

    def _reset(self, call: DelayedCall) -> None:
        # The old entry stays in the heap, stale; the call is queued again.
        self._stale += 1
        self._push(call)
        self._maybeCompact()

    def _maybeCompact(self) -> None:
        if self._stale > _COMPACT_FLOOR and self._stale * 2 > len(self._heap):
            self._heap = [e for e in self._heap if e[2].active() and e[2]._seq == e[1]]
            heapq.heapify(self._heap)
            self._stale = 0

    def nextTime(self) -> float | None:
        """Return when the earliest live call is due, or ``None`` if none is pending."""
        heap = self._heap
        while heap:
            _, seq, call = heap[0]
            if call._seq != seq or call.cancelled or call.called:
                heapq.heappop(heap)
                self._stale -= 1
                continue
            if call.delayed_time:
                heapq.heappop(heap)
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
        while heap and heap[0][0] <= now:
            _, seq, call = heapq.heappop(heap)
            if call._seq != seq or call.cancelled or call.called:
                self._stale -= 1
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
        live = [
            (c.getTime(), seq, c) for (_, seq, c) in self._heap if c.active() and c._seq == seq
        ]
        live.sort(key=lambda e: (e[0], e[1]))
        return [c for (_, _, c) in live]
