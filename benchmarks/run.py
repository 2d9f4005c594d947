"""Run fw's benchmarks side by side with Twisted, asyncio and uvloop, in one run.

Usage (``nox -s bench -- ARGS`` runs this in the benchmark environment)::

    python benchmarks/run.py [--quick] [--only echo,callbacks] [--impls fw,twisted]
                             [--repeat 5] [--duration 3] [--json PATH]

Each benchmark runs for each implementation ``--repeat`` times, the
implementations interleaved within each repetition so that a disturbance
on the machine is shared out rather than landing on one of them.  The table
printed at the end (Markdown) gives each implementation's median with the
minimum and maximum, and the ratios fw / Twisted, fw / asyncio, fw on
uvloop / bare uvloop, fw / Python's ssl module (TLS) and fw / aiohttp
(HTTP), all rates (higher is better, so a ratio above 1 means fw is
faster).  The same, with every
sample, goes to ``--json``.

Server benchmarks start ``net/server.py`` pinned to CPU 0 and the C load
generator (``loadgen/echo_load.c``, built with ``cc -O2`` when missing or
stale) pinned to CPU 1, on 127.0.0.1, for ``--duration`` seconds; each
sample records the server's and the generator's CPU busy share (CPU time
over wall time, from /proc/<pid>/stat and getrusage) and both cores' busy
share (from /proc/stat), so a saturated generator, or a core shared with
something else, shows.  Micro-benchmarks run ``micro/run_micro.py`` in a
fresh process per sample, pinned to CPU 0; their rates are per CPU-second
of that process (``time.process_time``), which a busy machine disturbs far
less than wall time (the wall time is in the JSON too).  TLS benchmarks
run ``net/tls_bulk.py``: the client measured in a fresh process pinned to
CPU 0, a blocking peer on Python's ``ssl`` module pinned to CPU 1, one
transfer of ``--tls-mebibytes`` per sample; their rates are MiB per
CPU-second of the client.  HTTP benchmarks run ``net/http_server.py``
pinned to CPU 0 and ``wrk`` pinned to CPU 1.  The DNS benchmark runs
``net/dns_server.py`` (an authoritative server for a small zone, over UDP)
pinned to CPU 0 and ``dnsperf`` pinned to CPU 1, for ``--duration`` seconds.
The trial benchmarks write the same suite of 450 trial test cases for fw and
for Twisted (``trial/suite.py``) and time one ``trial`` run over it, serial
and with ``-j 2``, unpinned, on the wall clock.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# samplers.py sits beside this file, so on sys.path when it runs as a script.
from samplers import HERE, SAMPLERS, Benchmark, SampleError, Settings, Unavailable, buildLoadgen

ROOT = HERE.parent
DEFAULT_LOADGEN = ROOT / ".bench" / "echo_load"
DEFAULT_JSON = HERE / "results.json"

NET_IMPLS = ("fw", "fw-uvloop", "twisted", "asyncio", "uvloop")
PAIR_IMPLS = ("fw", "twisted")
TLS_IMPLS = ("fw", "twisted", "asyncio", "uvloop", "ssl")
HTTP_IMPLS = ("fw", "twisted", "aiohttp")
DNS_IMPLS = ("fw", "twisted")
RATIOS = (
    ("fw", "twisted"),
    ("fw", "asyncio"),
    ("fw-uvloop", "uvloop"),
    ("fw", "ssl"),
    ("fw", "aiohttp"),
)


BENCHMARKS = (
    Benchmark(
        "echo",
        "net",
        "round trips/s",
        NET_IMPLS,
        "TCP echo ping-pong: 50 connections, 64-byte messages, one in flight each",
        goals=(("fw/twisted", 2.0), ("fw-uvloop/uvloop", 0.8)),
        serverMode="echo",
        loadgen=("-m", "echo", "-n", "50", "-s", "64"),
    ),
    Benchmark(
        "bulk",
        "net",
        "MiB/s",
        NET_IMPLS,
        "TCP bulk: one connection, the generator writes 64 KiB blocks, the server sinks them",
        goals=(("fw/twisted", 1.0),),
        serverMode="sink",
        loadgen=("-m", "bulk", "-n", "1", "-s", "65536"),
        scale=2**20,
    ),
    Benchmark(
        "connect",
        "net",
        "connections/s",
        NET_IMPLS,
        "connection setup: 10 clients each connect, exchange one 64-byte message, close",
        serverMode="echo",
        loadgen=("-m", "connect", "-n", "10", "-s", "64"),
    ),
    Benchmark(
        "tls_send",
        "tls",
        "MiB/CPU-s",
        TLS_IMPLS,
        "TLS: one connection, the client writes 64 KiB blocks to a Python ssl peer; "
        "MiB per client CPU-second",
        goals=(("fw/twisted", 1.0), ("fw/ssl", 0.9)),
        serverMode="send",
    ),
    Benchmark(
        "tls_recv",
        "tls",
        "MiB/CPU-s",
        TLS_IMPLS,
        "TLS: one connection, a Python ssl peer writes 64 KiB blocks, the client sinks them; "
        "MiB per client CPU-second",
        goals=(("fw/twisted", 1.0), ("fw/ssl", 0.9)),
        serverMode="recv",
    ),
    Benchmark(
        "callbacks",
        "micro",
        "Deferreds/s",
        PAIR_IMPLS,
        "a Deferred with three callbacks, fired",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "nested_chain",
        "micro",
        "chains/s",
        PAIR_IMPLS,
        "ten Deferreds chained through callbacks returning Deferreds",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "inline_callbacks",
        "micro",
        "calls/s",
        PAIR_IMPLS,
        "an inlineCallbacks generator yielding ten fired Deferreds",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "coroutine",
        "micro",
        "calls/s",
        PAIR_IMPLS,
        "ensureDeferred of a coroutine awaiting ten fired Deferreds",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "clock_timers",
        "micro",
        "rounds/s",
        PAIR_IMPLS,
        "task.Clock: 1,000 callLater, a quarter cancelled, advanced to the end",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "looping_call",
        "micro",
        "rounds/s",
        PAIR_IMPLS,
        "LoopingCall on task.Clock through 1,000 intervals",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "reactor_timers",
        "micro",
        "timers/s",
        NET_IMPLS,
        "real loop: 100,000 callLater, a quarter cancelled, the rest run",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "line_receiver",
        "micro",
        "lines/s",
        PAIR_IMPLS,
        "LineReceiver fed 50,000 lines in 64 KiB chunks on a StringTransport",
        goals=(("fw/twisted", 1.0),),
    ),
    Benchmark(
        "http_keepalive",
        "http",
        "requests/s",
        HTTP_IMPLS,
        "HTTP/1.1 hello world (full Site/Resource/Request, no access log): "
        "wrk -t1 -c50, keep-alive",
        goals=(("fw/twisted", 3.0),),
        loadgen=("-c50",),
    ),
    Benchmark(
        "http_close",
        "http",
        "requests/s",
        HTTP_IMPLS,
        "HTTP/1.1 hello world: wrk -t1 -c50, a new connection per request (Connection: close)",
        goals=(("fw/twisted", 1.5),),
        loadgen=("-c50", "-H", "Connection: close"),
    ),
    Benchmark(
        "http_static",
        "http",
        "MiB/s",
        HTTP_IMPLS,
        "a 16 MiB file from static.File (aiohttp: add_static, which uses sendfile): "
        "wrk -t1 -c4, keep-alive",
        goals=(("fw/twisted", 1.0),),
        serverMode="static",
        loadgen=("-c4",),
    ),
    Benchmark(
        "trial_serial",
        "trial",
        "tests/s",
        PAIR_IMPLS,
        "trial on one process: 450 trial test cases of about 10 ms each (CPU work, "
        "timer-fired Deferreds, callback chains), wall clock, unpinned",
    ),
    Benchmark(
        "trial_j2",
        "trial",
        "tests/s",
        PAIR_IMPLS,
        "trial -j 2: the same suite on two worker processes, wall clock, unpinned; "
        "against trial_serial it is the parallel speed-up on two cores",
        serverMode="-j2",
    ),
    Benchmark(
        "dns_udp",
        "dns",
        "queries/s",
        DNS_IMPLS,
        "authoritative DNS over UDP: DNSServerFactory + BindAuthority (one small zone), "
        "dnsperf -c4 -q100, nine query names round robin (one NXDOMAIN)",
        goals=(("fw/twisted", 2.0),),
        loadgen=("-c", "4", "-q", "100"),
    ),
)


@dataclass
class Outcome:
    """The samples of one implementation on one benchmark."""

    samples: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unavailable: str = ""

    def values(self) -> list[float]:
        return [s["value"] for s in self.samples]

    def efficiencies(self) -> list[float]:
        """Server benchmarks: the rate per second of server CPU time."""
        return [s["value"] / s["server_cpu"] for s in self.samples if s.get("server_cpu")]


def runAll(
    benchmarks: Sequence[Benchmark], impls: Sequence[str] | None, settings: Settings
) -> dict[str, dict[str, Outcome]]:
    results: dict[str, dict[str, Outcome]] = {}
    for bench in benchmarks:
        chosen = [i for i in bench.impls if impls is None or i in impls]
        outcomes = results[bench.name] = {impl: Outcome() for impl in chosen}
        for rep in range(settings.repeat):
            for impl in chosen:
                outcome = outcomes[impl]
                if outcome.unavailable:
                    continue
                progress = f"{bench.name} [{rep + 1}/{settings.repeat}] {impl}:"
                try:
                    sample = SAMPLERS[bench.kind](bench, impl, settings)
                except Unavailable as e:
                    outcome.unavailable = str(e) or "unavailable"
                    print(f"{progress} unavailable: {outcome.unavailable}", file=sys.stderr)
                    continue
                except (SampleError, subprocess.TimeoutExpired, ValueError) as e:
                    outcome.errors.append(str(e))
                    print(f"{progress} FAILED: {e}", file=sys.stderr)
                    continue
                outcome.samples.append(sample)
                print(f"{progress} {number(sample['value'])} {bench.unit}", file=sys.stderr)
                if "server_stderr" in sample:
                    print(f"  server stderr: {sample['server_stderr'][-300:]}", file=sys.stderr)
    return results


def summarise(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def ratios(outcomes: dict[str, Outcome], perCpu: bool = False) -> dict[str, float]:
    found = {}
    for a, b in RATIOS:
        if a in outcomes and b in outcomes:
            if perCpu:
                va, vb = outcomes[a].efficiencies(), outcomes[b].efficiencies()
            else:
                va, vb = outcomes[a].values(), outcomes[b].values()
            if va and vb:
                found[f"{a}/{b}"] = statistics.median(va) / statistics.median(vb)
    return found


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def percent(values: list[float]) -> str:
    return f"{statistics.median(values) * 100:.0f}%" if values else "-"


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    versions: dict[str, str | None] = {}
    for dist in ("fw-core", "fw-names", "fw-web", "twisted", "uvloop", "aiohttp"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "loadavg_start": os.getloadavg(),
    }


def report(
    benchmarks: Sequence[Benchmark],
    results: dict[str, dict[str, Outcome]],
    info: dict[str, Any],
    settings: Settings,
) -> tuple[str, dict[str, Any]]:
    """The Markdown tables, and the JSON document."""
    lines = [
        f"{info['cpu']}, {info['cpus']} CPUs, Linux {info['kernel']}, "
        f"Python {info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + f"; {settings.repeat} repetition(s), {settings.duration} s per server run; "
        f"load average {info['loadavg_start'][0]:.2f} at start, "
        f"{info['loadavg_end'][0]:.2f} at end",
        "",
        (
            "| benchmark | unit | implementation | median | min - max | server CPU | "
            "generator CPU | core 0 / core 1 busy | per server CPU-second |"
        ),
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    document: dict[str, Any] = {
        "machine": info,
        "settings": {
            "repeat": settings.repeat,
            "duration": settings.duration,
            "min_time": settings.minTime,
        },
        "benchmarks": [],
    }
    ratioLines = [
        (
            "| benchmark | fw / Twisted | fw / asyncio | fw-uvloop / uvloop | fw / ssl | "
            "fw / aiohttp | goals |"
        ),
        "|---|--:|--:|--:|--:|--:|---|",
    ]
    for bench in benchmarks:
        outcomes = results.get(bench.name)
        if outcomes is None:
            continue
        entry: dict[str, Any] = {
            "name": bench.name,
            "kind": bench.kind,
            "unit": bench.unit,
            "description": bench.description,
            "results": {},
        }
        for impl, outcome in outcomes.items():
            summary = summarise(outcome.values())
            entry["results"][impl] = {
                "summary": summary,
                "samples": outcome.samples,
                "errors": outcome.errors,
                "unavailable": outcome.unavailable or None,
            }
            if summary is None:
                why = "unavailable" if outcome.unavailable else "failed"
                lines.append(f"| {bench.name} | {bench.unit} | {impl} | {why} | | | | | |")
                continue
            samples = outcome.samples
            cores = [s["core_busy"] for s in samples]
            efficiency = outcome.efficiencies()
            entry["results"][impl]["per_server_cpu_second"] = summarise(efficiency)
            lines.append(
                f"| {bench.name} | {bench.unit} | {impl} | {number(summary['median'])} | "
                f"{number(summary['min'])} - {number(summary['max'])} | "
                f"{percent([s['server_cpu'] for s in samples if 'server_cpu' in s])} | "
                f"{percent([s['loadgen_cpu'] for s in samples if 'loadgen_cpu' in s])} | "
                f"{percent([c[0] for c in cores])} / {percent([c[1] for c in cores])} | "
                f"{number(statistics.median(efficiency)) if efficiency else '-'} |"
            )
        found = ratios(outcomes)
        entry["ratios"] = found
        goals = []
        entry["goals"] = []
        for name, minimum in bench.goals:
            met = found[name] >= minimum if name in found else None
            entry["goals"].append({"ratio": name, "minimum": minimum, "met": met})
            verdict = {True: "met", False: "MISSED", None: "not measured"}[met]
            goals.append(f"{name} >= {minimum:g}: {verdict}")
        cells = [f"{found[f'{a}/{b}']:.2f}" if f"{a}/{b}" in found else "-" for a, b in RATIOS]
        ratioLines.append(f"| {bench.name} | {' | '.join(cells)} | {'; '.join(goals)} |")
        if bench.kind in ("net", "dns", "http"):
            perCpu = entry["ratios_per_server_cpu_second"] = ratios(outcomes, perCpu=True)
            cells = [
                f"{perCpu[f'{a}/{b}']:.2f}" if f"{a}/{b}" in perCpu else "-" for a, b in RATIOS
            ]
            ratioLines.append(
                f"| {bench.name}, per server CPU-second | {' | '.join(cells)} | (no goal) |"
            )
        document["benchmarks"].append(entry)
    speedUps = trialSpeedUps(results)
    if speedUps:
        document["trial_j2_speed_up"] = speedUps
        ratioLines += [
            "",
            "trial -j 2 over serial trial (same suite, two cores): "
            + ", ".join(f"{impl} {value:.2f}x" for impl, value in speedUps.items()),
        ]
    text = "\n".join([*lines, "", *ratioLines])
    return text, document


def trialSpeedUps(results: dict[str, dict[str, Outcome]]) -> dict[str, float]:
    """Median tests/s with ``-j 2`` over serial, per implementation measured both ways."""
    serial, parallel = results.get("trial_serial", {}), results.get("trial_j2", {})
    found = {}
    for impl in serial.keys() & parallel.keys():
        a, b = parallel[impl].values(), serial[impl].values()
        if a and b:
            found[impl] = statistics.median(a) / statistics.median(b)
    return dict(sorted(found.items()))


def parseArguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Benchmarks: " + ", ".join(b.name for b in BENCHMARKS),
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 repetition, 1 s runs, 0.1 s micro"
    )
    parser.add_argument("--repeat", type=int, help="repetitions (default 5)")
    parser.add_argument("--duration", type=float, help="seconds per server run (default 3)")
    parser.add_argument("--min-time", type=float, help="seconds per micro sample (default 0.5)")
    parser.add_argument(
        "--tls-mebibytes", type=int, help="MiB per TLS transfer (default 200; 50 with --quick)"
    )
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--impls", help="comma-separated implementations (default: all)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the JSON goes")
    parser.add_argument("--loadgen", type=Path, help="a built echo_load (default: build it)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parseArguments(argv)
    quick = options.quick
    repeat = options.repeat or (1 if quick else 5)
    duration = options.duration or (1.0 if quick else 3.0)
    minTime = options.min_time or (0.1 if quick else 0.5)
    benchmarks = list(BENCHMARKS)
    if options.only:
        wanted = options.only.split(",")
        unknown = set(wanted) - {b.name for b in BENCHMARKS}
        if unknown:
            print(f"unknown benchmarks: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        benchmarks = [b for b in BENCHMARKS if b.name in wanted]
    impls = options.impls.split(",") if options.impls else None
    if any(b.kind == "net" for b in benchmarks):
        loadgen = options.loadgen or buildLoadgen(DEFAULT_LOADGEN)
    else:
        loadgen = options.loadgen or DEFAULT_LOADGEN
    settings = Settings(
        repeat=repeat,
        duration=duration,
        minTime=minTime,
        loadgen=loadgen,
        tlsMebibytes=options.tls_mebibytes or (50 if quick else 200),
    )
    info = machine()
    info["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    results = runAll(benchmarks, impls, settings)
    info["loadavg_end"] = os.getloadavg()
    info["wall_seconds"] = round(time.monotonic() - started, 1)
    text, document = report(benchmarks, results, info, settings)
    print(text)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\n{info['wall_seconds']} s; JSON written to {options.json}", file=sys.stderr)
    failed = [
        f"{name}/{impl}"
        for name, outcomes in results.items()
        for impl, outcome in outcomes.items()
        if outcome.errors
    ]
    if failed:
        print(f"samples failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
