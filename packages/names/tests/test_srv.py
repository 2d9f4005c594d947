"""fw.names.srvconnect.SRVConnector on a MemoryReactor with a resolver that answers at once."""

from __future__ import annotations

from typing import Any

import pytest

from fw.internet import protocol
from fw.internet.defer import fail, succeed
from fw.internet.error import ConnectionRefusedError, DNSLookupError
from fw.internet.testing import MemoryReactor
from fw.names import dns, srvconnect
from fw.names.error import DNSNameError
from fw.python.failure import Failure


class FakeResolver:
    def __init__(
        self, records: list[dns.Record_SRV] | None, error: Exception | None = None
    ) -> None:
        self.records = records
        self.error = error
        self.asked: list[str] = []

    def lookupService(self, name: str, timeout: Any = None) -> Any:
        self.asked.append(name)
        if self.error is not None:
            return fail(self.error)
        rrs = [dns.RRHeader(name, dns.SRV, payload=r) for r in self.records or []]
        return succeed((rrs, [], []))


class RecordingFactory(protocol.ClientFactory):
    def __init__(self) -> None:
        self.failed: list[Failure] = []
        self.started = 0

    def startedConnecting(self, connector: Any) -> None:
        self.started += 1

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.failed.append(reason)


def test_connectsToTargetsInPriorityOrder() -> None:
    reactor = MemoryReactor()
    resolver = FakeResolver(
        [dns.Record_SRV(20, 0, 2222, "b.example"), dns.Record_SRV(10, 0, 1111, "a.example")]
    )
    factory = RecordingFactory()
    c = srvconnect.SRVConnector(reactor, "xmpp-client", "example.com", factory, resolver=resolver)
    c.connect()
    assert resolver.asked == ["_xmpp-client._tcp.example.com"]
    assert reactor.tcpClients[0][:2] == ("a.example", 1111)
    # the first target refuses: the next one is tried, and the factory hears nothing yet
    reactor.tcpClients[0][2].clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    assert reactor.tcpClients[1][:2] == ("b.example", 2222)
    assert factory.failed == []
    reactor.tcpClients[1][2].clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    assert factory.failed[0].check(ConnectionRefusedError)
    assert c.getDestination() is not None


def test_wrapperBuildsTheRealProtocol() -> None:
    reactor = MemoryReactor()
    factory = protocol.ClientFactory.forProtocol(protocol.Protocol)
    c = srvconnect.SRVConnector(
        reactor, "x", "example.com", factory, resolver=FakeResolver([dns.Record_SRV(0, 0, 1, "h")])
    )
    c.connect()
    built = reactor.tcpClients[0][2].buildProtocol(None)
    assert isinstance(built, protocol.Protocol)


def test_noRecordsUsesDefaultPort() -> None:
    reactor = MemoryReactor()
    c = srvconnect.SRVConnector(
        reactor,
        "x",
        "example.com",
        RecordingFactory(),
        defaultPort=8080,
        resolver=FakeResolver(None, DNSNameError("nx")),
    )
    c.connect()
    assert reactor.tcpClients[0][:2] == ("example.com", 8080)


def test_noRecordsNoDefaultFails() -> None:
    factory = RecordingFactory()
    c = srvconnect.SRVConnector(
        MemoryReactor(),
        "x",
        "example.com",
        factory,
        resolver=FakeResolver(None, DNSNameError("nx")),
    )
    c.connect()
    assert factory.failed[0].check(DNSLookupError)


def test_dotTargetMeansUnavailable() -> None:
    factory = RecordingFactory()
    c = srvconnect.SRVConnector(
        MemoryReactor(),
        "x",
        "example.com",
        factory,
        resolver=FakeResolver([dns.Record_SRV(0, 0, 0, ".")]),
    )
    c.connect()
    assert factory.failed[0].check(DNSLookupError)


def test_weightedOrder() -> None:
    """RFC 2782: within a priority, heavier targets tend to come first."""
    records = [
        dns.Record_SRV(0, 90, 1, "heavy"),
        dns.Record_SRV(0, 10, 2, "light"),
        dns.Record_SRV(1, 0, 3, "later"),
    ]
    firsts = [srvconnect.orderServers(records)[0].target.name for _ in range(400)]
    assert 0.75 < firsts.count(b"heavy") / 400 < 0.98
    assert all(srvconnect.orderServers(records)[-1].target == dns.Name("later") for _ in range(20))


def test_stopConnecting() -> None:
    reactor = MemoryReactor()
    c = srvconnect.SRVConnector(
        reactor,
        "x",
        "example.com",
        RecordingFactory(),
        resolver=FakeResolver([dns.Record_SRV(0, 0, 1, "h")]),
    )
    c.connect()
    c.stopConnecting()
    assert reactor.connectors[0].stoppedConnecting


def test_noDomain() -> None:
    factory = RecordingFactory()
    srvconnect.SRVConnector(
        MemoryReactor(), "x", None, factory, resolver=FakeResolver([])
    ).connect()
    assert factory.failed
    assert factory.failed[0].check(DNSLookupError)


@pytest.mark.parametrize("name", ["connect", "disconnect", "stopConnecting", "getDestination"])
def test_isAConnector(name: str) -> None:
    from fw.internet.interfaces import IConnector

    assert IConnector.implementedBy(srvconnect.SRVConnector)
    assert callable(getattr(srvconnect.SRVConnector, name))
