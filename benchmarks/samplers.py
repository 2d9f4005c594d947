"""Taking one sample of a benchmark: the processes it starts and what is measured.

``run.py`` (the driver) decides what runs, how often and in what order, and
reports; this module runs one sample of one benchmark for one implementation
and returns its measurements.  :data:`SAMPLERS` maps a benchmark's ``kind``
to the function that does it; each takes the :class:`Benchmark`, the
implementation's name and the run's :class:`Settings`, and returns a dict
whose ``"value"`` is the rate (higher is better).  A sampler raises
:class:`Unavailable` when the implementation (or a tool the benchmark needs)
is not installed, and :class:`SampleError` when the sample failed.

Servers are pinned to CPU 0 and load generators to CPU 1.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LOADGEN_SOURCE = HERE / "loadgen" / "echo_load.c"
SERVER_CPU = 0
LOADGEN_CPU = 1
UNAVAILABLE = 3  # the exit status of a benchmark program lacking its implementation


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: what it runs, for whom, and what its numbers mean."""

    name: str
    kind: str  # a key of SAMPLERS
    unit: str
    impls: tuple[str, ...]
    description: str
    goals: tuple[tuple[str, float], ...] = ()  # (ratio name, minimum)
    serverMode: str = ""
    loadgen: tuple[str, ...] = ()  # load generator arguments besides port, time, CPU
    scale: float = 1.0  # the generator's rate is divided by this


@dataclass
class Settings:
    """The run's settings, the same for every sample."""

    repeat: int
    duration: float
    minTime: float
    loadgen: Path
    python: str = sys.executable
    tlsMebibytes: int = 200


class SampleError(Exception):
    """A sample could not be taken; the message says why."""


class Unavailable(Exception):
    """The implementation cannot run this benchmark (it, or a tool, is missing)."""


# -- measuring CPU


def processCpuSeconds(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def coreTimes() -> dict[str, tuple[int, int]]:
    """(busy, total) jiffies of each CPU, from /proc/stat."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *rest = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(n) for n in rest]
            idle = numbers[3] + numbers[4]  # idle + iowait
            total = sum(numbers[:8])  # guest time is already in user
            times[name] = (total - idle, total)
    return times


def coreBusy(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[float]:
    """The busy share of the server's and the generator's CPUs between two coreTimes()."""
    shares = []
    for cpu in (f"cpu{SERVER_CPU}", f"cpu{LOADGEN_CPU}"):
        busy = after[cpu][0] - before[cpu][0]
        total = after[cpu][1] - before[cpu][1]
        shares.append(busy / total if total else 0.0)
    return shares


def childrenCpuSeconds() -> float:
    """User + system CPU seconds of this process's waited-for children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- a server under load


def buildLoadgen(target: Path) -> Path:
    """Compile the load generator with ``cc -O2`` unless it is up to date."""
    if target.exists() and target.stat().st_mtime >= LOADGEN_SOURCE.stat().st_mtime:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["cc", "-O2", "-Wall", "-o", str(target), str(LOADGEN_SOURCE)], check=True, timeout=120
    )
    return target


def waitForPort(server: subprocess.Popen[str], timeout: float) -> int:
    """The port a benchmark server announces (``PORT <n>`` on stdout)."""
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise SampleError(f"the server did not start within {timeout} s")
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        raise SampleError(f"the server said {line!r}, not its port")
    return int(line.split()[1])


def stopServer(server: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 5 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class LoadedServer:
    """What :func:`loadServer` measured."""

    generator: subprocess.CompletedProcess[str]
    wall: float  # seconds the generator ran
    serverCpu: float  # the server's CPU seconds meanwhile
    generatorCpu: float  # the generator's CPU seconds (user + system)
    coreBusy: list[float]
    serverErrors: str  # the server's stderr

    def sample(self, value: float, **extra: Any) -> dict[str, Any]:
        """A sample of rate ``value`` with the CPU shares, and ``extra``."""
        found: dict[str, Any] = {
            "value": value,
            "seconds": self.wall,
            "server_cpu": self.serverCpu / self.wall,
            "loadgen_cpu": self.generatorCpu / self.wall,
            "core_busy": self.coreBusy,
            **extra,
        }
        if self.serverErrors.strip():
            found["server_stderr"] = self.serverErrors[-2000:]
        return found


def loadServer(
    server: Sequence[str], generator: Callable[[int], Sequence[str]], duration: float
) -> LoadedServer:
    """
    Start the benchmark server ``server``, run the load generator
    ``generator(port)`` against it once, stop the server, and measure.

    Raises:
        Unavailable: the server exited with :data:`UNAVAILABLE`.
        SampleError: the server did not start, or died under load.
    """
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(server, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            try:
                port = waitForPort(process, 60)
            except SampleError:
                errors.seek(0)
                if process.wait(10) == UNAVAILABLE:
                    raise Unavailable(errors.read().strip()[-500:] or "not installed") from None
                raise SampleError(f"server failed: {errors.read()[-2000:]}") from None
            serverBefore = processCpuSeconds(process.pid)
            coresBefore = coreTimes()
            childrenBefore = childrenCpuSeconds()
            start = time.monotonic()
            result = subprocess.run(
                generator(port), capture_output=True, text=True, timeout=duration + 60
            )
            wall = time.monotonic() - start
            coresAfter = coreTimes()
            generatorCpu = childrenCpuSeconds() - childrenBefore
            if process.poll() is not None:
                raise SampleError(f"the server exited with status {process.returncode}")
            serverCpu = processCpuSeconds(process.pid) - serverBefore
        finally:
            stopServer(process)
            assert process.stdout is not None
            process.stdout.close()
        errors.seek(0)
        serverErrors = errors.read()
    return LoadedServer(
        result, wall, serverCpu, generatorCpu, coreBusy(coresBefore, coresAfter), serverErrors
    )


def pinnedToLoadgenCpu(*command: str) -> list[str]:
    return ["taskset", "-c", str(LOADGEN_CPU), *command]


def runNet(bench: Benchmark, impl: str, settings: Settings) -> dict[str, Any]:
    """One sample of a TCP server benchmark: ``net/server.py`` loaded by echo_load."""
    server = [settings.python, str(HERE / "net" / "server.py"), "--impl", impl]
    server += ["--mode", bench.serverMode, "--cpu", str(SERVER_CPU)]

    def generator(port: int) -> list[str]:
        return [
            str(settings.loadgen),
            *bench.loadgen,
            *("-t", str(settings.duration), "-p", str(port), "-c", str(LOADGEN_CPU)),
        ]

    loaded = loadServer(server, generator, settings.duration)
    if loaded.generator.returncode != 0:
        raise SampleError(f"load generator failed: {loaded.generator.stderr.strip()}")
    report = json.loads(loaded.generator.stdout)
    sample = loaded.sample(
        report["rate"] / bench.scale, ops=report["ops"], loadgen_errors=report["errors"]
    )
    # echo_load times itself: its own clock and CPU count, not the driver's.
    sample["seconds"] = report["seconds"]
    sample["loadgen_cpu"] = report["cpu_seconds"] / report["seconds"]
    return sample


def parseDnsperf(output: str) -> tuple[float, int, int]:
    """(queries per second, queries completed, errors) from dnsperf's report.

    Errors are the queries lost plus the responses other than NOERROR and
    NXDOMAIN (the zone answers every query with one of those two).
    """
    rate = None
    completed = errorsSeen = 0
    for line in output.splitlines():
        label, _, rest = line.strip().partition(":")
        if label == "Queries per second":
            rate = float(rest.split()[0])
        elif label == "Queries completed":
            completed = int(rest.split()[0])
        elif label == "Queries lost":
            errorsSeen += int(rest.split()[0])
        elif label == "Response codes":
            for code in rest.split(","):
                name, count, *_ = code.split()
                if name not in ("NOERROR", "NXDOMAIN"):
                    errorsSeen += int(count)
    if rate is None:
        raise SampleError(f"no rate in dnsperf's output: {output[-500:]}")
    return rate, completed, errorsSeen


def runDns(bench: Benchmark, impl: str, settings: Settings) -> dict[str, Any]:
    """One sample of a DNS benchmark: a fresh ``net/dns_server.py``, one ``dnsperf`` run."""
    dnsperf = shutil.which("dnsperf")
    if dnsperf is None:
        raise Unavailable("dnsperf is not installed (apt-get install dnsperf)")
    script = str(HERE / "net" / "dns_server.py")
    with tempfile.TemporaryDirectory() as scratch:
        queries = Path(scratch) / "queries.txt"
        subprocess.run(
            [settings.python, script, "--write-queries", str(queries)], check=True, timeout=60
        )
        seconds = str(max(1, round(settings.duration)))

        def generator(port: int) -> list[str]:
            return pinnedToLoadgenCpu(
                *(dnsperf, "-s", "127.0.0.1", "-p", str(port), "-d", str(queries)),
                *("-l", seconds, "-t", "2", *bench.loadgen),
            )

        server = [settings.python, script, "--impl", impl, "--cpu", str(SERVER_CPU)]
        loaded = loadServer(server, generator, settings.duration)
    output = loaded.generator
    if output.returncode != 0:
        raise SampleError(f"dnsperf failed: {(output.stderr or output.stdout).strip()}")
    rate, completed, errorsSeen = parseDnsperf(output.stdout)
    return loaded.sample(
        rate, ops=completed, loadgen_errors=errorsSeen, dnsperf=output.stdout[-1500:]
    )


#: The file the static HTTP benchmark serves: random bytes, made per sample.
STATIC_FILE = "big.bin"
STATIC_FILE_MIB = 16


def runHttp(bench: Benchmark, impl: str, settings: Settings) -> dict[str, Any]:
    """
    One sample of an HTTP benchmark: a fresh ``net/http_server.py``, one
    ``wrk`` run.  ``serverMode`` ``"static"`` serves a file of
    :data:`STATIC_FILE_MIB` MiB from a temporary directory instead of the
    hello-world resource, and the rate is in MiB/s.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise Unavailable("wrk is not installed (apt-get install wrk)")
    seconds = f"-d{max(1, round(settings.duration))}s"
    script = str(HERE / "net" / "http_server.py")
    server = [settings.python, script, "--impl", impl, "--cpu", str(SERVER_CPU)]
    static = bench.serverMode == "static"
    with tempfile.TemporaryDirectory(prefix="fw-bench-static-") as directory:
        path = "/"
        if static:
            (Path(directory) / STATIC_FILE).write_bytes(os.urandom(STATIC_FILE_MIB * 2**20))
            server += ["--static", directory]
            path += STATIC_FILE

        def generator(port: int) -> list[str]:
            url = f"http://127.0.0.1:{port}{path}"
            return pinnedToLoadgenCpu(wrk, "-t1", seconds, *bench.loadgen, url)

        loaded = loadServer(server, generator, settings.duration)
    output = loaded.generator
    if output.returncode != 0:
        raise SampleError(f"wrk failed: {output.stderr.strip()}")
    rate = None
    errorsSeen = 0
    for line in output.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        elif "Non-2xx" in line or line.strip().startswith("Socket errors"):
            errorsSeen += 1
    if rate is None:
        raise SampleError(f"no rate in wrk's output: {output.stdout[-500:]}")
    if static:
        rate *= STATIC_FILE_MIB
    return loaded.sample(rate, loadgen_errors=errorsSeen, wrk=output.stdout[-1500:])


# -- benchmarks that measure one process


def runReporting(command: list[str]) -> dict[str, Any]:
    """
    One sample from a benchmark program that prints a JSON report (``ops``,
    ``seconds`` of CPU, ``wall_seconds``): its rate per CPU-second, with the
    cores' busy shares.
    """
    coresBefore = coreTimes()
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    coresAfter = coreTimes()
    if result.returncode == UNAVAILABLE:
        raise Unavailable(result.stderr.strip())
    if result.returncode != 0:
        raise SampleError(result.stderr.strip()[-2000:])
    report = json.loads(result.stdout)
    return {
        "value": report["ops"] / report["seconds"],
        "ops": report["ops"],
        "seconds": report["seconds"],
        "wall_seconds": report["wall_seconds"],
        "core_busy": coreBusy(coresBefore, coresAfter),
    }


def runMicro(bench: Benchmark, impl: str, settings: Settings) -> dict[str, Any]:
    """One sample of a micro-benchmark, in a fresh process."""
    return runReporting(
        [
            *(settings.python, str(HERE / "micro" / "run_micro.py")),
            *("--impl", impl, "--bench", bench.name),
            *("--min-time", str(settings.minTime), "--cpu", str(SERVER_CPU)),
        ]
    )


def runTls(bench: Benchmark, impl: str, settings: Settings) -> dict[str, Any]:
    """One sample of a TLS benchmark: a fresh client and peer, one transfer."""
    sample = runReporting(
        [
            *(settings.python, str(HERE / "net" / "tls_bulk.py")),
            *("--impl", impl, "--direction", bench.serverMode),
            *("--mebibytes", str(settings.tlsMebibytes)),
            *("--cpu", str(SERVER_CPU), "--peer-cpu", str(LOADGEN_CPU)),
        ]
    )
    sample["wall_rate"] = sample["ops"] / sample["wall_seconds"]
    return sample


def runTrial(bench: Benchmark, impl: str, settings: Settings) -> dict[str, Any]:
    """One sample of a trial benchmark: a fresh suite and one ``trial`` run over it."""
    module = {"fw": "fw.trial", "twisted": "twisted.trial"}[impl]
    with tempfile.TemporaryDirectory(prefix="fw-bench-trial-") as directory:
        made = subprocess.run(
            [settings.python, str(HERE / "trial" / "suite.py"), directory, impl],
            capture_output=True,
            text=True,
            check=True,
        )
        tests = int(made.stdout)
        command = [settings.python, "-m", module, "--temp-directory", "_trial_temp"]
        if bench.serverMode == "-j2":
            command += ["-j", "2"]
        command.append("benchsuite")
        coresBefore = coreTimes()
        started = time.monotonic()
        # As users run it: with compiled bytecode cached (each -j worker is
        # a new interpreter, which would otherwise compile every module).
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        result = subprocess.run(
            command, cwd=directory, env=environment, capture_output=True, text=True, timeout=600
        )
        wall = time.monotonic() - started
        coresAfter = coreTimes()
    summary = f"PASSED (successes={tests})"
    if result.returncode != 0 or summary not in result.stdout:
        raise SampleError(f"{impl} trial did not say {summary}: {result.stdout[-1500:]}")
    return {
        "value": tests / wall,
        "tests": tests,
        "wall_seconds": wall,
        "core_busy": coreBusy(coresBefore, coresAfter),
    }


#: The sampler of each benchmark kind.
SAMPLERS: dict[str, Callable[[Benchmark, str, Settings], dict[str, Any]]] = {
    "net": runNet,
    "micro": runMicro,
    "tls": runTls,
    "http": runHttp,
    "dns": runDns,
    "trial": runTrial,
}
