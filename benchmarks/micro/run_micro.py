"""Run one in-process micro-benchmark for one implementation, in this process.

Usage::

    python benchmarks/micro/run_micro.py --impl fw --bench callbacks [--min-time 0.5]

Prints one JSON object: ``{"ops": N, "seconds": S, "wall_seconds": W}``,
the operations done, the CPU time of this process they took
(``time.process_time``: on a machine busy with other work, CPU time is
disturbed far less than wall time) and the wall time; the driver
(benchmarks/run.py) turns ``ops / seconds`` into a rate.  Operation
benchmarks are warmed up, then run in batches until ``--min-time`` CPU
seconds have passed; ``reactor_timers`` is one fixed run (a
reactor runs once per process).  Exits with status 3 when the
implementation lacks what the benchmark needs (an import fails), so the
driver can mark it unavailable rather than failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

UNAVAILABLE = 3

DEFER = ("callbacks", "nested_chain", "inline_callbacks", "coroutine")
CLOCK = ("clock_timers", "looping_call")
NAMES = (*DEFER, *CLOCK, "reactor_timers", "line_receiver")


def timeOperation(
    operation: Callable[[], object], minTime: float, opsPerCall: int
) -> tuple[int, float, float]:
    """Warm up, then call ``operation`` in batches for ``minTime`` CPU seconds.

    Returns the operations done, the CPU seconds and the wall seconds they took.
    """
    assert operation() is not None  # it runs, and gives a result
    batch = 1
    while True:  # find a batch size taking at least a 20th of the time
        start = time.process_time()
        for _ in range(batch):
            operation()
        if time.process_time() - start >= minTime / 20:
            break
        batch *= 2
    calls = 0
    cpu = wall = 0.0
    while cpu < minTime:
        startWall = time.perf_counter()
        start = time.process_time()
        for _ in range(batch):
            operation()
        cpu += time.process_time() - start
        wall += time.perf_counter() - startWall
        calls += batch
    return calls * opsPerCall, cpu, wall


def load(impl: str, bench: str) -> tuple[Callable[[], object], int] | None:
    """The operation to time and how many operations one call does, or None."""
    if bench in DEFER:
        import bench_foundations

        defer = importlib.import_module(f"{impl}.internet.defer")
        return bench_foundations.deferBenchmarks(defer)[bench], 1
    if bench in CLOCK:
        import bench_foundations

        task = importlib.import_module(f"{impl}.internet.task")
        return bench_foundations.clockBenchmarks(task)[bench], 1
    if bench == "line_receiver":
        import bench_lines

        return bench_lines.lineReceiverBenchmark(impl)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True)
    parser.add_argument("--bench", required=True, choices=NAMES)
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    parser.add_argument("--cpu", type=int, help="pin this process to that CPU")
    options = parser.parse_args(argv)
    if options.cpu is not None:
        os.sched_setaffinity(0, {options.cpu})
    try:
        if options.bench == "reactor_timers":
            import bench_timers

            ops, seconds, wall = bench_timers.run(options.impl)
        else:
            loaded = load(options.impl, options.bench)
            assert loaded is not None
            operation, opsPerCall = loaded
            ops, seconds, wall = timeOperation(operation, options.min_time, opsPerCall)
    except (ImportError, AttributeError) as e:
        print(f"{options.impl} cannot run {options.bench}: {e}", file=sys.stderr)
        return UNAVAILABLE
    print(json.dumps({"ops": ops, "seconds": seconds, "wall_seconds": wall}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
