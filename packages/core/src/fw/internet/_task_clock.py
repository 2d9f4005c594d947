"""
Delayed calls, and :class:`Clock`: a deterministic :class:`IReactorTime` for tests.

:class:`DelayedCall` is the object every ``callLater`` returns.  It knows its
due time and how to tell its scheduler about cancellation and rescheduling, so
reactors can use it with their own timer queue, as :class:`Clock` does.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from time import time as _wallClock
from typing import TYPE_CHECKING, ClassVar

from zope.interface import implementer

from fw.internet._interfaces_core import IDelayedCall, IReactorTime
from fw.internet.error import AlreadyCalled, AlreadyCancelled

if TYPE_CHECKING:
    from fw.internet._timers import TimerQueue

__all__ = ["Clock", "DelayedCall"]


@implementer(IDelayedCall)
class DelayedCall:
    """
    A call scheduled to run at a given time, until it runs or is cancelled.

    Rescheduling to a *later* time costs the scheduler nothing: the call
    keeps its place in the scheduler's queue and records the postponement in
    :attr:`delayed_time`; when the call comes up the scheduler sees the
    postponement (:meth:`activate_delay`) and queues it again.  Rescheduling to
    an *earlier* time calls the ``reset`` hook so the scheduler can requeue it.

    Args:
        time: when the call is due, on the scheduler's clock.
        func: what to call.
        args: positional arguments for ``func``.
        kw: keyword arguments for ``func``.
        cancel: called with this object when it is cancelled.
        reset: called with this object when it is moved earlier.
        seconds: the scheduler's clock, used by :meth:`reset`.

    Attributes:
        time: the due time as the scheduler queued it (see :meth:`getTime`).
        delayed_time: a postponement not yet seen by the scheduler.
        called: true once the call has been run (set by the scheduler).
        cancelled: true once the call has been cancelled.
        debug: when true (class-wide), each call remembers where it was
            created, in :attr:`creator`, and shows it in its ``repr``.
    """

    __slots__ = (
        "_repr",
        "_seq",
        "args",
        "called",
        "cancelled",
        "canceller",
        "creator",
        "delayed_time",
        "func",
        "kw",
        "resetter",
        "seconds",
        "time",
    )

    debug: ClassVar[bool] = False

    def __init__(
        self,
        time: float,
        func: Callable[..., object],
        args: tuple[object, ...],
        kw: Mapping[str, object],
        cancel: Callable[[DelayedCall], object],
        reset: Callable[[DelayedCall], object],
        seconds: Callable[[], float] = _wallClock,
    ) -> None:
        self.time = time
        self.func: Callable[..., object] | None = func
        self.args: tuple[object, ...] = args
        self.kw: Mapping[str, object] = kw
        self.canceller = cancel
        self.resetter = reset
        self.seconds = seconds
        self.called = False
        self.cancelled = False
        self.delayed_time: float = 0.0
        #: Queue order among calls due at the same time; schedulers may set it.
        self._seq = 0
        self._repr: str | None = None
        self.creator: list[str] | None = None
        if self.debug:
            self.creator = traceback.format_stack()[:-2]

    def getTime(self) -> float:
        """Return the time at which the call is due."""
        return self.time + self.delayed_time

    def _checkActive(self) -> None:
        if self.cancelled:
            raise AlreadyCancelled()
        if self.called:
            raise AlreadyCalled()

    def cancel(self) -> None:
        """
        Unschedule the call.

        Raises:
            AlreadyCancelled: it was cancelled already.
            AlreadyCalled: it has run already.
        """
        self._checkActive()
        self.canceller(self)
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
        newTime = self.seconds() + secondsFromNow
        if newTime < self.time:
            self.delayed_time = 0.0
            self.time = newTime
            self.resetter(self)
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
            self.resetter(self)

    def activate_delay(self) -> None:
        """Fold the pending postponement into :attr:`time` (for schedulers)."""
        self.time += self.delayed_time
        self.delayed_time = 0.0

    def active(self) -> bool:
        """Return whether the call is still pending."""
        return not (self.cancelled or self.called)

    def __lt__(self, other: DelayedCall) -> bool:
        return self.time < other.time

    def __le__(self, other: DelayedCall) -> bool:
        return self.time <= other.time

    def __repr__(self) -> str:
        if self._repr is not None:
            return self._repr
        state = "called" if self.called else "cancelled" if self.cancelled else "pending"
        text = f"<DelayedCall 0x{id(self):x} [{self.getTime() - self.seconds():.6g}s] {state}"
        if self.func is not None:
            name = getattr(self.func, "__qualname__", None) or repr(self.func)
            parts = [repr(a) for a in self.args]
            parts += [f"{k}={v!r}" for k, v in self.kw.items()]
            text += f" {name}({', '.join(parts)})"
        if self.creator is not None:
            text += "\n\ncreated at:\n" + "".join(self.creator).rstrip()
        return text + ">"


@implementer(IReactorTime)
class Clock:
    """
    A clock that only moves when told to: the :class:`IReactorTime` for tests.

    Time starts at ``0.0``.  :meth:`advance` moves it forward and runs every
    call that has come due, in due-time order (calls due at the same time run
    in the order they were scheduled).  An exception raised by a call
    propagates out of :meth:`advance`; the calls still due stay queued.

    Pending calls live in the same timer queue reactors use: a binary heap
    where cancelled and postponed calls are dropped or requeued lazily, so
    scheduling and cancelling are ``O(log n)`` however many calls are pending.

    Attributes:
        rightNow: the current time.
    """

    rightNow: float

    def __init__(self) -> None:
        # Imported here: the timer queue module imports DelayedCall from this one.
        from fw.internet._timers import TimerQueue

        self.rightNow = 0.0
        self._timers: TimerQueue = TimerQueue(self.seconds)

    def seconds(self) -> float:
        """Return the current time: ``0.0`` plus every :meth:`advance` so far."""
        return self.rightNow

    def callLater(
        self, delay: float, callable: Callable[..., object], /, *args: object, **kw: object
    ) -> DelayedCall:
        """
        Call ``callable(*args, **kw)`` once, when the clock has advanced by
        ``delay`` seconds.

        Returns:
            The delayed call, which can be cancelled or rescheduled.
        """
        return self._timers.schedule(self.rightNow + delay, callable, args, kw)

    def getDelayedCalls(self) -> list[DelayedCall]:
        """Return every pending call, earliest first."""
        return self._timers.pending()

    @property
    def calls(self) -> list[DelayedCall]:
        """The pending calls, earliest first (the same as :meth:`getDelayedCalls`)."""
        return self._timers.pending()

    def advance(self, amount: float) -> None:
        """
        Move time forward by ``amount`` seconds and run every call that is
        then due, including calls scheduled meanwhile that are due by then.
        """
        self.rightNow += amount
        popDue = self._timers.popDue
        while (call := popDue(self.rightNow)) is not None:
            if call.func is not None:
                call.func(*call.args, **call.kw)

    def pump(self, timings: Iterable[float]) -> None:
        """
        Advance the clock by each amount in ``timings`` in turn, running the
        calls due after each step.

        Args:
            timings: an iterable of amounts of seconds.
        """
        for amount in timings:
            self.advance(amount)
