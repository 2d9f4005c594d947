"""
:class:`LoopingCall`, a function called at a regular interval, and
:func:`deferLater`, a Deferred that fires after a delay.

Public names are re-exported by :mod:`fw.internet.task`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, Self, TypeVar, overload

from fw.internet._interfaces_core import IDelayedCall, IReactorTime
from fw.internet.defer import Deferred, maybeDeferred
from fw.python.failure import Failure

__all__ = ["LoopingCall", "deferLater"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _globalReactor() -> IReactorTime:
    # Imported on use: nothing may import the global reactor at import time.
    from fw.internet import reactor

    return reactor  # type: ignore[return-value]


class LoopingCall:
    """
    Calls a function every *interval* seconds.

    ``LoopingCall(f, *a, **kw)`` prepares the calls; :meth:`start` begins
    them and returns a Deferred that fires, with this object, once the loop
    has been stopped with :meth:`stop`.  If ``f`` raises, or returns a
    Deferred (or a coroutine) that fails, the loop stops and that Deferred
    fails with the error.

    Calls are aligned to the start time: with an interval of 5 seconds,
    started at ``t``, ``f`` runs at ``t``, ``t+5``, ``t+10``...  When a
    call (or the Deferred it returned) takes longer than the interval, the
    intervals missed are skipped, and the next call is at the next multiple
    of the interval.  A call that returns a Deferred is not repeated before
    that Deferred fires.  An interval of ``0`` calls ``f`` again as soon as
    possible: at the next reactor iteration.

    Args:
        f: the function to call; it may return a Deferred or a coroutine.
        a: positional arguments for ``f``.
        kw: keyword arguments for ``f``.

    Attributes:
        f: the function.
        a: its positional arguments.
        kw: its keyword arguments.
        call: the pending delayed call to ``f``, or ``None``.
        running: whether the loop is started and not stopped.
        interval: the interval given to :meth:`start`, or ``None`` before.
        starttime: the clock time at which :meth:`start` (or :meth:`reset`)
            was called, or ``None`` before.
    """

    call: IDelayedCall | None = None
    running: bool = False
    interval: float | None = None
    starttime: float | None = None
    _deferred: Deferred[LoopingCall] | None = None
    _runAtStart: bool = False
    _clock: IReactorTime | None = None
    # When the function last ran: withCount's count is the number of interval
    # boundaries crossed since then.
    _realLastTime: float | None = None

    def __init__(self, f: Callable[..., object], /, *a: object, **kw: object) -> None:
        self.f = f
        self.a = a
        self.kw = kw

    @property
    def clock(self) -> IReactorTime:
        """
        The :class:`IReactorTime` the loop schedules with: the global reactor
        unless set (set it to a :class:`~fw.internet.task.Clock` in tests).
        """
        if self._clock is None:
            self._clock = _globalReactor()
        return self._clock

    @clock.setter
    def clock(self, clock: IReactorTime) -> None:
        self._clock = clock

    @property
    def deferred(self) -> Deferred[LoopingCall] | None:
        """The Deferred :meth:`start` returned, while the loop runs; else ``None``."""
        return self._deferred

    @classmethod
    def withCount(cls, countCallable: Callable[[int], object]) -> Self:
        """
        Make a loop calling ``countCallable`` with the number of intervals
        that have passed since its previous call (``1`` normally; more when
        intervals were skipped because the program was busy).  The first call
        gets ``1`` when started with ``now=True``.  With an interval of ``0``
        it is always ``1``.
        """

        def counter() -> object:
            now = self.clock.seconds()
            interval = self.interval
            start = self.starttime
            if not interval or start is None:
                self._realLastTime = now
                return countCallable(1)
            previous = self._realLastTime
            if previous is None:
                previous = start - interval if self._runAtStart else start
            count = int((now - start) / interval) - int((previous - start) / interval)
            if count <= 0:
                return None
            self._realLastTime = now
            return countCallable(count)

        self = cls(counter)
        return self

    def start(self, interval: float, now: bool = True) -> Deferred[LoopingCall]:
        """
        Start calling the function every ``interval`` seconds.

        Args:
            interval: the interval in seconds; ``0`` means as often as possible.
            now: make the first call at once; else after one interval.

        Returns:
            A Deferred that fires with this object when :meth:`stop` is
            called, or fails with the function's error.

        Raises:
            AssertionError: the loop is already running.
            ValueError: ``interval`` is negative.
        """
        if self.running:
            raise AssertionError("LoopingCall.start: the loop is already running")
        if interval < 0:
            raise ValueError(f"interval must be >= 0, not {interval!r}")
        self.running = True
        deferred: Deferred[LoopingCall] = Deferred()
        self._deferred = deferred
        self.starttime = self.clock.seconds()
        self.interval = interval
        self._runAtStart = now
        self._realLastTime = None
        if now:
            self()
        else:
            self._scheduleFrom(self.starttime)
        return deferred

    def stop(self) -> None:
        """
        Stop the loop.  The Deferred from :meth:`start` fires now, or, when
        a call's Deferred is pending, as soon as it fires.

        Raises:
            AssertionError: the loop is not running.
        """
        if not self.running:
            raise AssertionError("LoopingCall.stop: the loop is not running")
        self.running = False
        if self.call is not None:
            self.call.cancel()
            self.call = None
            self._fire()

    def reset(self) -> None:
        """
        Restart the interval count from now: the next call is one interval
        from now.

        Raises:
            AssertionError: the loop is not running.
        """
        if not self.running:
            raise AssertionError("LoopingCall.reset: the loop is not running")
        if self.call is not None:
            self.call.cancel()
            self.call = None
            self.starttime = self._realLastTime = self.clock.seconds()
            self._scheduleFrom(self.starttime)

    def _fire(self) -> None:
        d, self._deferred = self._deferred, None
        if d is not None:
            d.callback(self)

    def __call__(self) -> None:
        """Run the function once, then schedule the next run (called by the clock)."""

        def succeeded(result: object) -> None:
            if self.running:
                self._scheduleFrom(self.clock.seconds())
            else:
                self._fire()

        def failed(failure: Failure) -> None:
            self.running = False
            d, self._deferred = self._deferred, None
            if d is not None:
                d.errback(failure)

        self.call = None
        d = maybeDeferred(self.f, *self.a, **self.kw)
        d.addCallbacks(succeeded, failed)

    def _scheduleFrom(self, when: float) -> None:
        """Schedule the next call for the first interval boundary after ``when``."""
        interval = self.interval or 0.0
        start = self.starttime if self.starttime is not None else when
        if interval == 0:
            delay = 0.0
        else:
            delay = interval - ((when - start) % interval)
            # Floating point: a tiny remainder that does not move the time
            # would schedule the call for now again; wait a whole interval.
            if when + delay == when:
                delay = interval
        self.call = self.clock.callLater(delay, self)

    def __repr__(self) -> str:
        func = getattr(self.f, "__qualname__", None) or repr(self.f)
        parts = [repr(a) for a in self.a] + [f"{k}={v!r}" for k, v in self.kw.items()]
        return f"LoopingCall<{self.interval!r}>({', '.join([func, *parts])})"


@overload
def deferLater(clock: IReactorTime, delay: float, /) -> Deferred[None]: ...


@overload
def deferLater(
    clock: IReactorTime,
    delay: float,
    callable: Callable[_P, Deferred[_T]],
    /,
    *args: _P.args,
    **kw: _P.kwargs,
) -> Deferred[_T]: ...


@overload
def deferLater(
    clock: IReactorTime,
    delay: float,
    callable: Callable[_P, Coroutine[Any, Any, _T]],
    /,
    *args: _P.args,
    **kw: _P.kwargs,
) -> Deferred[_T]: ...


@overload
def deferLater(
    clock: IReactorTime,
    delay: float,
    callable: Callable[_P, _T],
    /,
    *args: _P.args,
    **kw: _P.kwargs,
) -> Deferred[_T]: ...


def deferLater(
    clock: IReactorTime,
    delay: float,
    callable: Callable[..., Any] | None = None,
    /,
    *args: Any,
    **kw: Any,
) -> Deferred[Any]:
    """
    Return a Deferred that fires after ``delay`` seconds of ``clock``'s time.

    With ``callable``, it is called then with ``args`` and ``kw``, and the
    Deferred fires with its result (waiting for it, if it is a Deferred or a
    coroutine) or fails with its error.  Without, the Deferred fires with
    ``None``.

    Cancelling the Deferred before the delay has passed cancels the delayed
    call; the Deferred fails with ``CancelledError``.

    Args:
        clock: the clock to schedule with (the reactor, or a test ``Clock``).
        delay: how many seconds to wait.
        callable: what to call after the delay.
    """

    def cancel(deferred: Deferred[Any]) -> None:
        delayedCall.cancel()

    def run(ignored: object) -> object:
        if callable is None:
            return None
        return maybeDeferred(callable, *args, **kw)

    d: Deferred[Any] = Deferred(cancel)
    d.addCallback(run)
    delayedCall = clock.callLater(delay, d.callback, None)
    return d
