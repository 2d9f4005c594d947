"""Micro-benchmarks of Deferred hot paths, for fw or Twisted.

Usage::

    python benchmarks/micro/bench_defer.py --impl fw
    python benchmarks/micro/bench_defer.py --impl twisted   # needs Twisted installed

Prints a JSON object mapping each benchmark to its best time per operation,
in seconds (the best of ``--repeat`` timeit runs of ``--number`` operations).

- ``callbacks``: create a Deferred, add three callbacks, fire it.
- ``nested_chain``: a callback returning a Deferred that waits on another,
  ten Deferreds deep, then fire the innermost.
- ``inline_callbacks``: an ``inlineCallbacks`` generator yielding ``succeed()``
  ten times.
- ``coroutine``: a coroutine awaiting ``succeed()`` ten times, run by
  ``ensureDeferred``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import timeit
from collections.abc import Callable, Generator
from typing import Any


def _benchmarks(defer: Any) -> dict[str, Callable[[], object]]:
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["fw", "twisted"], default="fw")
    parser.add_argument("--number", type=int, default=20000, help="operations per run")
    parser.add_argument("--repeat", type=int, default=7, help="runs; the best is kept")
    options = parser.parse_args(argv)
    defer = importlib.import_module(f"{options.impl}.internet.defer")
    results = {}
    for name, bench in _benchmarks(defer).items():
        assert bench() is not None, name  # runs, and gives a result
        best = min(timeit.repeat(bench, number=options.number, repeat=options.repeat))
        results[name] = best / options.number
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
