"""``fwd dns``: its options, its service, and the plugin run as a process queried with dig."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import pytest

from fw.application.service import IServiceMaker
from fw.names import authority, secondary, server
from fw.names.tap import Options, makeService, parseListen
from fw.plugin import getPlugins
from fw.python import usage

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[3]
# A copy of the README demo's zone (demo/example.com.zone), shipped with the tests.
DEMO_ZONE = Path(__file__).parent / "example.com.zone"


def parse(*args: str) -> Options:
    options = Options()
    options.parseOptions(list(args))
    return options


def test_pluginRegistered() -> None:
    makers = {p.tapname: p for p in getPlugins(IServiceMaker)}
    assert makers["dns"].options is Options
    assert "name server" in makers["dns"].description


def test_parseListen() -> None:
    assert parseListen("10053") == ("", 10053)
    assert parseListen("127.0.0.1:53") == ("127.0.0.1", 53)
    assert parseListen("[::1]:5353") == ("::1", 5353)
    for bad in ("x", "127.0.0.1:99999", "nohost:53", ""):
        with pytest.raises(usage.UsageError):
            parseListen(bad)


def test_bindzoneAndListen() -> None:
    options = parse("--bindzone", str(DEMO_ZONE), "--listen", "127.0.0.1:10053", "-v", "-v")
    (zone,) = options.zones
    assert isinstance(zone, authority.BindAuthority)
    assert zone.soa[0] == b"example.com"
    assert (options["interface"], options["port"], options["verbose"]) == ("127.0.0.1", 10053, 2)


def test_pyzone(tmp_path: Path) -> None:
    path = tmp_path / "example.org"
    path.write_text(
        "zone = [SOA('example.org', 'ns', 'h', 1, 2, 3, 4, 5), A('example.org', '192.0.2.1')]\n"
    )
    (zone,) = parse("--pyzone", str(path), "-p", "5353").zones
    assert isinstance(zone, authority.PySourceAuthority)
    bad = tmp_path / "bad.py"
    bad.write_text("zone = [\n")
    with pytest.raises(usage.UsageError, match="Invalid syntax"):
        parse("--pyzone", str(bad))


def test_secondary() -> None:
    options = parse(
        "--secondary", "192.0.2.53:5353/example.com", "--secondary", "192.0.2.54/example.org"
    )
    assert [s.domain for s in options.zones] == [b"example.com", b"example.org"]
    assert [(s.primary, s._port) for s in options.zones] == [
        ("192.0.2.53", 5353),
        ("192.0.2.54", 53),
    ]
    assert all(isinstance(s, secondary.SecondaryAuthorityService) for s in options.svcs)
    for bad in ("192.0.2.53", "192.0.2.53/", "host/example.com", "1.2.3.4:x/example.com"):
        with pytest.raises(usage.UsageError):
            parse("--secondary", bad)


def test_flagsAndErrors(tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    options = parse("--resolv-conf", str(resolv), "--cache", "--allow-transfer", "10.0.0.0/8")
    assert options["recursive"]
    assert options["cache"]
    assert options.allowTransfer == ["10.0.0.0/8"]
    with pytest.raises(usage.UsageError, match="nothing to serve"):
        parse()
    with pytest.raises(usage.UsageError, match="Invalid port"):
        parse("--cache", "-p", "x")
    with pytest.raises(usage.UsageError, match="allow-transfer"):
        parse("--cache", "--allow-transfer", "nonsense")
    with pytest.raises(usage.UsageError, match="rate-limit"):
        parse("--cache", "--rate-limit", "-1")
    with pytest.raises(usage.UsageError, match="Invalid zone file"):
        parse("--bindzone", str(tmp_path / "missing"))


def test_makeService(tmp_path: Path) -> None:
    hostsFile = tmp_path / "hosts"
    hostsFile.write_text("192.0.2.1 a\n")
    options = parse(
        "--bindzone", str(DEMO_ZONE), "--secondary", "192.0.2.53/example.org",
        "--hosts-file", str(hostsFile), "--cache", "--rate-limit", "50", "--listen", "127.0.0.1:0",
    )  # fmt: skip
    multi = makeService(options)
    services = list(multi)
    assert len(services) == 3  # TCP, UDP, the secondary's refresher
    tcp = services[0]
    factory = tcp.args[1]
    assert isinstance(factory, server.DNSServerFactory)
    assert len(factory.authorities) == 2
    assert factory.canRecurse
    assert factory.cache is not None
    assert factory.rateLimiter is not None
    assert factory.rateLimiter.rate == 50
    assert tcp.kwargs == {"interface": "127.0.0.1"}


# -- as a process ---------------------------------------------------------------


def freePort() -> int:
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return int(port)
    raise AssertionError("no free port")


@pytest.fixture
def fwdDNS(tmp_path: Path) -> Iterator[Callable[..., tuple[int, subprocess.Popen[bytes]]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> tuple[int, subprocess.Popen[bytes]]:
        port = freePort()
        log = open(tmp_path / f"fwd{len(procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "fw.application", "-n", "dns", *args,
             "--listen", f"127.0.0.1:{port}"],
            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        log.close()
        procs.append(proc)
        deadline = time.monotonic() + 15
        logPath = tmp_path / f"fwd{len(procs) - 1}.log"
        while b"started" not in logPath.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"fwd dns did not start:\n{logPath.read_text()}")
            time.sleep(0.05)
        return port, proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_fwdDnsServesDemoZoneToDig(
    fwdDNS: Callable[..., tuple[int, Any]], requirePeer: Callable[[str], str]
) -> None:
    port, proc = fwdDNS("--bindzone", str(DEMO_ZONE))
    digCommand = [requirePeer("dig"), "@127.0.0.1", "-p", str(port), "+time=3", "+tries=1"]
    out = subprocess.run(
        [*digCommand, "www.example.com", "A"],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    ).stdout
    assert "status: NOERROR" in out
    assert "flags: qr aa rd" in out
    assert "example.com.\t\t3600\tIN\tA\t192.0.2.10" in out
    out = subprocess.run(
        [*digCommand, "+short", "+tcp", "_http._tcp.example.com", "SRV"],
        capture_output=True, text=True, timeout=20, check=True,
    ).stdout  # fmt: skip
    assert out.strip() == "0 5 80 www.example.com."
    out = subprocess.run(
        [*digCommand, "example.com", "AXFR"], capture_output=True, text=True, timeout=20
    ).stdout
    assert "Transfer failed" in out  # refused by default
    r = dns.query.udp(
        dns.message.make_query("a.lab.example.com", "A"), "127.0.0.1", port=port, timeout=5
    )
    assert not r.flags & dns.flags.AA
    assert r.additional[0][0].address == "192.0.2.53"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_fwdDnsSecondaryOfFwdDns(fwdDNS: Callable[..., tuple[int, Any]]) -> None:
    primaryPort, _ = fwdDNS("--bindzone", str(DEMO_ZONE), "--allow-transfer", "127.0.0.1")
    port, _ = fwdDNS("--secondary", f"127.0.0.1:{primaryPort}/example.com")
    query = dns.message.make_query("mail.example.com", "A")
    deadline = time.monotonic() + 10
    while True:
        r = dns.query.udp(query, "127.0.0.1", port=port, timeout=5)
        if r.answer or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.flags & dns.flags.AA
    assert r.answer[0][0].address == "192.0.2.25"
