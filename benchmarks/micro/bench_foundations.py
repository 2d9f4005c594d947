"""Micro-benchmarks of the foundations: Deferred, inlineCallbacks, coroutines, Clock.

Each function takes the implementation's module (``fw.internet.defer`` or
``twisted.internet.defer``; ``...task`` for the clock ones) and returns a
mapping of benchmark name to a callable doing one operation; run_micro.py
times them.

- ``callbacks``: create a Deferred, add three callbacks, fire it.
- ``nested_chain``: a callback returning a Deferred that waits on another,
  ten Deferreds deep, then fire the innermost.
- ``inline_callbacks``: an ``inlineCallbacks`` generator yielding ``succeed()``
  ten times.
- ``coroutine``: a coroutine awaiting ``succeed()`` ten times, run by
  ``ensureDeferred``.
- ``clock_timers``: on a ``task.Clock``, schedule 1,000 calls at spread-out
  times, cancel a quarter of them, and advance until the rest have run.
- ``looping_call``: a ``LoopingCall`` on a ``task.Clock``, started and
  advanced through 1,000 intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any


def deferBenchmarks(defer: Any) -> dict[str, Callable[[], object]]:
    """The Deferred benchmarks, for a ``defer`` module."""
    Deferred = defer.Deferred
    succeed = defer.succeed
    inlineCallbacks: Callable[[Callable[[], Generator[Any, Any, int]]], Callable[[], Any]]
    inlineCallbacks = defer.inlineCallbacks
    ensureDeferred = defer.ensureDeferred

    def increment(x: int) -> int:
        return x + 1

    def callbacks() -> object:
        d = Deferred()
        d.addCallback(increment)
        d.addCallback(increment)
        d.addCallback(increment)
        d.callback(0)
        return d.result

    def nestedChain() -> object:
        innermost = Deferred()
        outer = innermost
        for _ in range(9):
            waiting = Deferred()
            waiting.addCallback(lambda _, inner=outer: inner)
            waiting.callback(None)
            outer = waiting
        innermost.callback(1)
        return outer.result

    @inlineCallbacks
    def tenYields() -> Generator[Any, Any, int]:
        total = 0
        for i in range(10):
            total += yield succeed(i)
        return total

    def inlineCallbacksBench() -> object:
        return tenYields().result

    async def tenAwaits() -> int:
        total = 0
        for i in range(10):
            total += await succeed(i)
        return total

    def coroutine() -> object:
        return ensureDeferred(tenAwaits()).result

    return {
        "callbacks": callbacks,
        "nested_chain": nestedChain,
        "inline_callbacks": inlineCallbacksBench,
        "coroutine": coroutine,
    }


def clockBenchmarks(task: Any) -> dict[str, Callable[[], object]]:
    """The ``task.Clock`` and ``LoopingCall`` benchmarks, for a ``task`` module."""
    Clock = task.Clock
    LoopingCall = task.LoopingCall
    fired = [0]

    def tick() -> None:
        fired[0] += 1

    def clockTimers() -> object:
        clock = Clock()
        calls = [clock.callLater((i * 7919) % 1000, tick) for i in range(1000)]
        for call in calls[::4]:
            call.cancel()
        clock.advance(1000)
        return fired[0]

    def loopingCall() -> object:
        clock = Clock()
        loop = LoopingCall(tick)
        loop.clock = clock
        loop.start(1.0)
        for _ in range(1000):
            clock.advance(1.0)
        loop.stop()
        return fired[0]

    return {"clock_timers": clockTimers, "looping_call": loopingCall}
