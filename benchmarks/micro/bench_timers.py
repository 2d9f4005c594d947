"""Timers on a real event loop: 100,000 scheduled, a quarter cancelled, the rest run.

Once the loop is running, one call schedules 100,000 timers with delays
spread over 0-1 ms in a scattered order, cancels every fourth, and returns;
the loop then runs the other 75,000, the last of which stops it.  The time
measured (CPU time of the process, and wall time) runs from the first
schedule to the last timer run, and the rate is timers scheduled per
second.  The loop is fw's or Twisted's default reactor (epoll), fw's
asyncio reactor on uvloop, or an asyncio loop (stdlib or uvloop) with
``call_later``/``cancel``.  A loop runs once per process, so each
measurement is a process of its own.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from typing import Any

TIMERS = 100_000


def delays() -> list[float]:
    """The delays, in seconds: scattered over 0-1 ms."""
    return [((i * 7919) % 1000) * 1e-6 for i in range(TIMERS)]


def _measure(
    schedule: Callable[[float, Callable[[], None]], Any],
    cancel: Callable[[Any], None],
    stop: Callable[[], None],
) -> tuple[Callable[[], None], list[float]]:
    """The start function to run inside the loop, and where the times go."""
    times: list[tuple[float, float]] = []
    expected = TIMERS - len(range(0, TIMERS, 4))
    fired = 0
    spread = delays()

    def tick() -> None:
        nonlocal fired
        fired += 1
        if fired == expected:
            times.append((time.process_time(), time.perf_counter()))
            stop()

    def start() -> None:
        times.append((time.process_time(), time.perf_counter()))
        calls = [schedule(delay, tick) for delay in spread]
        for call in calls[::4]:
            cancel(call)

    return start, times


def _result(times: list[tuple[float, float]]) -> tuple[int, float, float]:
    assert len(times) == 2, "the timers did not all run"
    (cpu0, wall0), (cpu1, wall1) = times
    return TIMERS, cpu1 - cpu0, wall1 - wall0


def runReactor(impl: str) -> tuple[int, float, float]:
    """Run it on ``impl``'s reactor: returns (timers, CPU seconds, wall seconds)."""
    if impl == "fw-uvloop":
        from fw.internet import asyncioreactor

        reactor: Any = asyncioreactor.installUvloop()
    elif impl == "fw":
        from fw.internet import epollreactor

        reactor = epollreactor.install()
    else:
        from twisted.internet import epollreactor as tepoll

        tepoll.install()
        reactor = importlib.import_module("twisted.internet.reactor")
    start, times = _measure(reactor.callLater, lambda call: call.cancel(), reactor.stop)
    reactor.callWhenRunning(start)
    reactor.run()
    return _result(times)


def runAsyncio(impl: str) -> tuple[int, float, float]:
    """Run the benchmark on a bare asyncio loop (``asyncio`` or ``uvloop``)."""
    if impl == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        start, times = _measure(loop.call_later, lambda handle: handle.cancel(), loop.stop)
        loop.call_soon(start)
        loop.run_forever()
    finally:
        loop.close()
    return _result(times)


def run(impl: str) -> tuple[int, float, float]:
    """Run the benchmark for any implementation."""
    if impl in ("asyncio", "uvloop"):
        return runAsyncio(impl)
    return runReactor(impl)
