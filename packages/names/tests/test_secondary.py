"""Secondary zones: AXFR from an fw primary on loopback, serial checks, refresh/retry/expire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import pytest

from fw.internet import defer
from fw.internet.task import Clock
from fw.names import dns as fdns
from fw.names.authority import BindAuthority
from fw.names.error import DNSQueryRefusedError, DomainError
from fw.names.secondary import (
    DEFAULT_RETRY,
    SecondaryAuthority,
    SecondaryAuthorityService,
    serialIsNewer,
)
from fw.names.server import DNSServerFactory

pytestmark = pytest.mark.timeout(30)


def zoneText(serial: int, extra: str = "") -> str:
    return (
        "$TTL 3600\n"
        f"@ SOA ns1 hostmaster {serial} 100 20 1000 300\n"
        "@ NS ns1\nns1 A 192.0.2.1\nweb A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.9\n" + extra
    )


def test_serialArithmetic() -> None:
    assert serialIsNewer(2, 1)
    assert not serialIsNewer(1, 1)
    assert not serialIsNewer(1, 2)
    assert serialIsNewer(0, 0xFFFFFFFF)  # wraps (RFC 1982)
    assert not serialIsNewer(0x80000000, 0)  # undefined: treated as not newer


def test_transferFromFwPrimary(tmp_path: Path, reactorThread: Any, listenDNS: Any) -> None:
    path = tmp_path / "example.com"
    path.write_text(zoneText(1))
    primary = BindAuthority(str(path))
    reactor = reactorThread.reactor

    def setUp() -> tuple[int, Any, Any]:
        factory = DNSServerFactory(
            authorities=[primary], allowTransfer=["127.0.0.1"], reactor=reactor
        )
        primaryPort, primaryPorts = listenDNS(reactor, factory)
        return primaryPort, primaryPorts, factory

    primaryPort, primaryPorts, _ = reactorThread.call(setUp)
    secondary = SecondaryAuthority.fromServerAddressAndDomain(
        ("127.0.0.1", primaryPort), "example.com", reactor
    )
    # Nothing yet: the server asks its other resolvers.
    assert (
        reactorThread.call(
            lambda: secondary.lookupAddress(b"web.example.com").addErrback(
                lambda f: f.trap(DomainError) and "none"
            )
        )
        == "none"
    )
    assert reactorThread.call(secondary.transfer) is True
    assert secondary.soa is not None
    assert secondary.soa[1].serial == 1

    def serveSecondary() -> tuple[int, Any]:
        factory = DNSServerFactory(authorities=[secondary], reactor=reactor)
        return listenDNS(reactor, factory)

    port, ports = reactorThread.call(serveSecondary)
    r = dns.query.udp(
        dns.message.make_query("web.example.com", "A"), "127.0.0.1", port=port, timeout=5
    )
    assert r.flags & dns.flags.AA
    assert r.answer[0][0].address == "192.0.2.3"
    r = dns.query.udp(
        dns.message.make_query("x.sub.example.com", "A"), "127.0.0.1", port=port, timeout=5
    )
    assert not r.flags & dns.flags.AA
    assert r.additional[0][0].address == "192.0.2.9"
    r = dns.query.udp(
        dns.message.make_query("nope.example.com", "A"), "127.0.0.1", port=port, timeout=5
    )
    assert r.rcode() == dns.rcode.NXDOMAIN

    # Same serial: no transfer.
    assert reactorThread.call(secondary.transfer) is False
    # The primary's zone changes and its serial grows: transferred again.
    path.write_text(zoneText(2, "new A 192.0.2.50\n"))
    reactorThread.call(primary.loadFile, str(path))
    assert reactorThread.call(secondary.transfer) is True
    r = dns.query.udp(
        dns.message.make_query("new.example.com", "A"), "127.0.0.1", port=port, timeout=5
    )
    assert r.answer[0][0].address == "192.0.2.50"

    for p in [*primaryPorts, *ports]:
        reactorThread.call(p.stopListening)


def test_transferRefused(tmp_path: Path, reactorThread: Any, listenDNS: Any) -> None:
    path = tmp_path / "example.com"
    path.write_text(zoneText(1))
    reactor = reactorThread.reactor
    factory = DNSServerFactory(authorities=[BindAuthority(str(path))], reactor=reactor)
    port, ports = reactorThread.call(listenDNS, reactor, factory)
    secondary = SecondaryAuthority.fromServerAddressAndDomain(
        ("127.0.0.1", port), "example.com", reactor
    )
    with pytest.raises(DNSQueryRefusedError):
        reactorThread.call(secondary.transfer)
    assert secondary.soa is None
    assert not secondary.transferring
    for p in ports:
        reactorThread.call(p.stopListening)


class FakeResolver:
    """Stands in for the primary: an SOA serial, a zone, or failures."""

    def __init__(self, serial: int) -> None:
        self.serial = serial
        self.fail = False
        self.transfers = 0

    def soaRR(self) -> Any:
        soa = fdns.Record_SOA(
            b"ns1.example.com", b"h.example.com", self.serial, 100, 20, 1000, 300
        )
        return fdns.RRHeader(b"example.com", fdns.SOA, fdns.IN, 3600, soa)

    def queryUDP(self, queries: Any, timeout: Any) -> defer.Deferred[Any]:
        if self.fail:
            return defer.fail(fdns.DNSQueryTimeoutError(1))
        m = fdns.Message()
        m.answers = [self.soaRR()]
        return defer.succeed(m)

    def lookupZone(self, name: Any) -> defer.Deferred[Any]:
        if self.fail:
            return defer.fail(fdns.DNSQueryTimeoutError(1))
        self.transfers += 1
        a = fdns.RRHeader(b"web.example.com", fdns.A, fdns.IN, 60, fdns.Record_A("192.0.2.3"))
        return defer.succeed(([self.soaRR(), a, self.soaRR()], [], []))


def test_refreshRetryExpire() -> None:
    clock = Clock()
    primary = FakeResolver(1)
    secondary = SecondaryAuthority("192.0.2.53", b"example.com", clock)
    secondary._resolver = lambda: primary  # type: ignore[assignment,return-value]
    secondary.startRefreshing()
    assert primary.transfers == 1
    assert secondary.soa is not None
    clock.advance(99)
    assert primary.transfers == 1
    clock.advance(1)  # refresh: same serial, no transfer
    assert primary.transfers == 1
    primary.serial = 2
    clock.advance(100)
    assert primary.transfers == 2
    assert secondary.soa[1].serial == 2
    primary.fail = True
    clock.advance(100)  # refresh fails: retry in 20s
    assert [c.getTime() - clock.seconds() for c in clock.getDelayedCalls()] == [20]
    for _ in range(45):
        clock.advance(20)
    # 1000s (expire) after the last good refresh, the zone is dropped.
    assert secondary.soa is None
    assert secondary.records == {}
    assert [c.getTime() - clock.seconds() for c in clock.getDelayedCalls()] == [DEFAULT_RETRY]
    primary.fail = False
    clock.advance(DEFAULT_RETRY)
    assert secondary.soa is not None
    secondary.stopRefreshing()
    assert clock.getDelayedCalls() == []


def test_badTransferRejected() -> None:
    secondary = SecondaryAuthority("192.0.2.53", b"example.com", Clock())
    a = fdns.RRHeader(b"web.example.com", fdns.A, fdns.IN, 60, fdns.Record_A("192.0.2.3"))
    with pytest.raises(DomainError):
        secondary._cbZone(([a], [], []))
    soa = FakeResolver(1).soaRR()
    outside = fdns.RRHeader(b"evil.org", fdns.A, fdns.IN, 60, fdns.Record_A("192.0.2.66"))
    secondary._cbZone(([soa, a, outside, soa], [], []))
    assert set(secondary.records) == {b"example.com", b"web.example.com"}


def test_service() -> None:
    clock = Clock()
    svc = SecondaryAuthorityService.fromServerAddressAndDomains(
        ("192.0.2.53", 5353), ["example.com", b"example.org"], clock
    )
    assert [s.domain for s in svc.getAuthority()] == [b"example.com", b"example.org"]
    assert svc.domains[0]._port == 5353
    fakes = []
    for s in svc.domains:
        fake = FakeResolver(1)
        fake.fail = True
        fakes.append(fake)
        s._resolver = lambda fake=fake: fake  # type: ignore[misc]
    svc.startService()
    assert len(clock.getDelayedCalls()) == 2
    svc.stopService()
    assert clock.getDelayedCalls() == []


def test_notifyTriggersRefresh() -> None:
    clock = Clock()
    primary = FakeResolver(1)
    secondary = SecondaryAuthority("192.0.2.53", b"example.com", clock)
    secondary._resolver = lambda: primary  # type: ignore[assignment,return-value]
    secondary.startRefreshing()
    assert primary.transfers == 1
    primary.serial = 5
    assert not secondary.notified(b"example.com", "192.0.2.99")  # not our primary
    assert not secondary.notified(b"example.org", "192.0.2.53")  # not our zone
    assert primary.transfers == 1
    assert secondary.notified(b"EXAMPLE.com.", "192.0.2.53")
    assert primary.transfers == 2
    assert secondary.soa is not None
    assert secondary.soa[1].serial == 5
    assert len(clock.getDelayedCalls()) == 1  # the refresh timer, restarted
    secondary.stopRefreshing()
