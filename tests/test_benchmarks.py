"""The benchmark harness works: the load generator counts right, the driver reports.

These check the machinery of benchmarks/ (``nox -s bench``), never a speed:
the C load generator is built with the system compiler and run briefly
against a small Python server that counts what it sees, and the driver is
run in ``--quick`` mode on a few fw-only benchmarks, its JSON checked for
shape.  A missing C compiler skips the load generator tests, except under
``FW_REQUIRE_PEERS=1`` (CI), where it fails them.
"""

from __future__ import annotations

import importlib
import json
import shutil
import socket
import socketserver
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fw.trial.pytestplugin import missingPeer

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
SOURCE = BENCHMARKS / "loadgen" / "echo_load.c"


@pytest.fixture(scope="module")
def loadgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """echo_load, built with ``cc -O2`` as the bench session builds it."""
    if shutil.which("cc") is None:
        missingPeer("no C compiler (cc) to build the load generator")
    target = tmp_path_factory.mktemp("loadgen") / "echo_load"
    subprocess.run(
        ["cc", "-O2", "-Wall", "-Werror", "-o", str(target), str(SOURCE)],
        check=True,
        timeout=60,
    )
    return target


class CountingServer(socketserver.ThreadingTCPServer):
    """Echoes (or sinks) and counts connections and bytes received."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, echo: bool) -> None:
        self.echo = echo
        self.lock = threading.Lock()
        self.connections = 0
        self.received = 0
        super().__init__(("127.0.0.1", 0), CountingHandler)


class CountingHandler(socketserver.BaseRequestHandler):
    server: CountingServer

    def handle(self) -> None:
        received = 0
        sock: socket.socket = self.request
        sock.settimeout(10)
        try:
            while data := sock.recv(65536):
                received += len(data)
                if self.server.echo:
                    sock.sendall(data)
        except OSError:  # reset by a generator closing with SO_LINGER 0, or gone
            pass
        with self.server.lock:
            self.server.connections += 1
            self.server.received += received


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[CountingServer]:
    srv = CountingServer(echo=request.param)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        thread.join(10)
        srv.server_close()  # joins the handler threads


def runLoadgen(loadgen: Path, port: int, *args: str) -> dict[str, float]:
    result = subprocess.run(
        [str(loadgen), "-p", str(port), "-t", "0.5", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, float] = json.loads(result.stdout)
    assert 0.5 <= report["seconds"] < 5
    assert report["cpu_seconds"] >= 0
    return report


def settle(server: CountingServer, connections: int) -> None:
    """Wait for the handlers of ``connections`` closed connections to finish."""
    server.shutdown()
    server.server_close()
    assert server.connections >= connections


@pytest.mark.parametrize("server", [True], indirect=True)
def test_echoCountsRoundTrips(loadgen: Path, server: CountingServer) -> None:
    """Every round trip counted was a full 64-byte message the server echoed."""
    report = runLoadgen(loadgen, server.server_address[1], "-m", "echo", "-n", "4", "-s", "64")
    assert report["mode"] == "echo"
    assert report["errors"] == 0
    assert report["ops"] > 0
    # Each connection may have one message written and not yet echoed at the end.
    assert report["ops"] * 64 <= report["bytes"] <= (report["ops"] + 4) * 64
    assert report["rate"] == pytest.approx(report["ops"] / report["seconds"], rel=1e-3)
    settle(server, 4)
    assert server.connections == 4
    assert server.received == report["bytes"]


@pytest.mark.parametrize("server", [True], indirect=True)
def test_connectCountsConnections(loadgen: Path, server: CountingServer) -> None:
    """Each completed connection is one the server accepted and answered."""
    report = runLoadgen(loadgen, server.server_address[1], "-m", "connect", "-n", "3", "-s", "16")
    assert report["mode"] == "connect"
    assert report["ops"] > 0
    settle(server, int(report["ops"]))
    # At the deadline up to 3 connections may be open and not yet counted.
    assert report["ops"] <= server.connections <= report["ops"] + report["errors"] + 3
    assert report["ops"] * 16 <= server.received <= (report["ops"] + 3) * 16


@pytest.mark.parametrize("server", [False], indirect=True)
def test_bulkCountsBytes(loadgen: Path, server: CountingServer) -> None:
    """Everything the generator says it wrote reached the server."""
    report = runLoadgen(loadgen, server.server_address[1], "-m", "bulk", "-s", "65536")
    assert report["mode"] == "bulk"
    assert report["bytes"] > 65536
    assert 0 < report["ops"] <= report["bytes"] // 65536
    settle(server, 1)
    assert server.received == report["bytes"]


def test_loadgenRefusesBadUsage(loadgen: Path) -> None:
    result = subprocess.run([str(loadgen), "-m", "nonsense"], capture_output=True, timeout=10)
    assert result.returncode == 1
    assert b"usage" in result.stderr


def test_loadgenReportsUnreachableServer(loadgen: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on, once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run(
        [str(loadgen), "-p", str(port), "-t", "0.2", "-n", "1"], capture_output=True, timeout=10
    )
    assert result.returncode == 2
    assert result.stdout == b""


def runDriver(
    tmp_path: Path, only: str, *args: str, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``run.py --quick`` for fw on the benchmarks ``only``; the result and its JSON."""
    output = tmp_path / "results.json"
    command = [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--impls", "fw"]
    command += ["--only", only, *args, "--json", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    return result, output


def test_driverQuickRun(loadgen: Path, tmp_path: Path) -> None:
    """The driver runs fw's side of a few benchmarks and writes well-formed results."""
    only = "echo,callbacks,coroutine,reactor_timers,line_receiver"
    result, output = runDriver(
        tmp_path, only, "--duration", "0.5", "--min-time", "0.05", "--loadgen", str(loadgen)
    )
    assert result.returncode == 0, result.stderr
    assert "| benchmark | unit | implementation |" in result.stdout
    document = json.loads(output.read_text())
    assert document["settings"]["repeat"] == 1
    assert document["machine"]["cpus"] >= 1
    names = [entry["name"] for entry in document["benchmarks"]]
    assert names == only.split(",")
    for entry in document["benchmarks"]:
        assert list(entry["results"]) == ["fw"], entry["name"]
        fw = entry["results"]["fw"]
        assert fw["errors"] == []
        assert len(fw["samples"]) == 1
        sample = fw["samples"][0]
        assert sample["value"] > 0
        assert sample["ops"] > 0
        assert fw["summary"]["min"] <= fw["summary"]["median"] <= fw["summary"]["max"]
        assert all(0 <= share <= 1 for share in sample["core_busy"])
        assert entry["ratios"] == {}  # no peer ran, so no ratio
        if entry["kind"] == "net":
            assert 0 <= sample["server_cpu"] <= 1.5
            assert 0 <= sample["loadgen_cpu"] <= 1.5
            assert "server_stderr" not in sample
        assert f"| {entry['name']} |" in result.stdout


# -- the DNS benchmark: its server, dnsperf's report, the driver's row

DNSPERF_REPORT = """\
Statistics:

  Queries sent:         20846
  Queries completed:    20840 (99.97%)
  Queries lost:         6 (0.03%)

  Response codes:       NOERROR 18520 (88.87%), NXDOMAIN 2316 (11.11%), SERVFAIL 4 (0.02%)
  Average packet size:  request 33, response 68
  Run time (s):         2.009264
  Queries per second:   10374.788358
"""


def loadBenchmarkModule(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import ``benchmarks/<name>.py`` as the driver does (its siblings importable)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for module in ("run", "samplers"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(name)


def test_parseDnsperf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate, the completed count, and lost queries plus unexpected rcodes as errors."""
    samplers = loadBenchmarkModule("samplers", monkeypatch)
    assert samplers.parseDnsperf(DNSPERF_REPORT) == (10374.788358, 20840, 6 + 4)
    with pytest.raises(samplers.SampleError):
        samplers.parseDnsperf("Error: could not open query file\n")


def dnsQuery(queryId: int, name: str, qtype: int) -> bytes:
    header = struct.pack("!HHHHHH", queryId, 0, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return header + labels + b"\0" + struct.pack("!HH", qtype, 1)


def test_dnsServerAnswersFromItsZone(tmp_path: Path) -> None:
    """net/dns_server.py (fw) answers from the zone it writes: an address, and NXDOMAIN."""
    queries = tmp_path / "queries.txt"
    script = str(BENCHMARKS / "net" / "dns_server.py")
    command = [sys.executable, script, "--write-queries", str(queries)]
    subprocess.run(command, check=True, timeout=30)
    assert "www.example.com A" in queries.read_text().splitlines()
    server = subprocess.Popen(
        [sys.executable, script, "--impl", "fw"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("PORT "), line
        port = int(line.split()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(10)
            client.sendto(dnsQuery(0x1234, "www.example.com", 1), ("127.0.0.1", port))
            reply = client.recv(512)
            queryId, flags, _, answers, _, _ = struct.unpack("!HHHHHH", reply[:12])
            assert queryId == 0x1234
            assert flags & 0x8000  # a response
            assert flags & 0x0400  # authoritative
            assert flags & 0xF == 0  # NOERROR
            assert answers == 1
            assert reply.endswith(socket.inet_aton("192.0.2.10"))
            client.sendto(dnsQuery(0x4321, "missing.example.com", 1), ("127.0.0.1", port))
            reply = client.recv(512)
            queryId, flags = struct.unpack("!HH", reply[:4])
            assert queryId == 0x4321
            assert flags & 0xF == 3  # NXDOMAIN
    finally:
        server.terminate()
        server.wait(10)
        assert server.stdout is not None
        server.stdout.close()


def test_driverDnsRow(tmp_path: Path) -> None:
    """
    The driver's dns_udp row: a real sample with dnsperf installed, else
    "unavailable" (dnsperf is a benchmark tool, not a CI dependency).
    """
    result, output = runDriver(tmp_path, "dns_udp")
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(output.read_text())["benchmarks"]
    assert entry["name"] == "dns_udp"
    fw = entry["results"]["fw"]
    assert fw["errors"] == []
    if shutil.which("dnsperf") is None:
        assert "dnsperf" in (fw["unavailable"] or "")
        assert "| dns_udp | queries/s | fw | unavailable |" in result.stdout
        return
    (sample,) = fw["samples"]
    assert sample["value"] > 0
    assert sample["ops"] > 0
    assert sample["loadgen_errors"] == 0, sample["dnsperf"]
    assert 0 <= sample["server_cpu"] <= 1.5
    assert 0 <= sample["loadgen_cpu"] <= 1.5


def test_driverTrialRows(tmp_path: Path) -> None:
    """
    The trial rows: fw's ``trial`` runs the generated suite serially and with
    ``-j 2``, every test passing, and the report gives the speed-up.
    """
    result, output = runDriver(tmp_path, "trial_serial,trial_j2", timeout=180)
    assert result.returncode == 0, result.stderr
    document = json.loads(output.read_text())
    for entry in document["benchmarks"]:
        (sample,) = entry["results"]["fw"]["samples"]
        assert sample["tests"] == 450
        assert sample["value"] == pytest.approx(sample["tests"] / sample["wall_seconds"])
    assert set(document["trial_j2_speed_up"]) == {"fw"}
    assert "trial -j 2 over serial trial (same suite, two cores): fw " in result.stdout


def test_trialSpeedUps(monkeypatch: pytest.MonkeyPatch) -> None:
    run = loadBenchmarkModule("run", monkeypatch)

    def outcome(*values: float) -> Any:
        return run.Outcome(samples=[{"value": v} for v in values])

    results = {
        "trial_serial": {"fw": outcome(100, 110, 90), "twisted": outcome(50)},
        "trial_j2": {"fw": outcome(180, 200, 190), "twisted": outcome()},
    }
    assert run.trialSpeedUps(results) == {"fw": pytest.approx(1.9)}
