"""
Iterative resolution with root.Resolver against a hierarchy of fw servers on
loopback: a root on 127.0.0.2, ``com`` on 127.0.0.3, ``example.com`` and
``org`` on 127.0.0.4, all on one port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from fw.internet.error import CannotListenError
from fw.names import dns as fdns
from fw.names.authority import BindAuthority
from fw.names.cache import CacheResolver
from fw.names.error import DNSNameError, ResolverError
from fw.names.root import Resolver
from fw.names.server import DNSServerFactory

pytestmark = pytest.mark.timeout(30)

SOA = "@ SOA ns hostmaster 1 3600 600 86400 60\n"
ZONES = {
    "root": (".", "$TTL 3600\n" + SOA + "@ NS a.root.\na.root. A 127.0.0.2\n"
             "com. NS ns.com.\nns.com. A 127.0.0.3\n"
             "org. NS ns.example.com.\n"),  # no glue: the resolver must look it up
    "com": ("com.", "$TTL 3600\n" + SOA + "@ NS ns\nns A 127.0.0.3\n"
            "example NS ns.example\nns.example A 127.0.0.4\n"),
    "example.com": ("example.com.", "$TTL 3600\n" + SOA + "@ NS ns\nns A 127.0.0.4\n"
                    "www A 192.0.2.80\nalias CNAME www\next CNAME www.example.org.\n"
                    "loop CNAME loop.example.org.\n"),
    "org": ("org.", "$TTL 3600\n" + SOA + "@ NS ns.example.com.\n"
            "www.example A 192.0.2.90\nloop.example CNAME loop.example.com.\n"),
}  # fmt: skip
SERVERS = {"127.0.0.2": ["root"], "127.0.0.3": ["com"], "127.0.0.4": ["example.com", "org"]}


@pytest.fixture
def hierarchy(tmp_path: Path, reactorThread: Any) -> Iterator[int]:
    reactor = reactorThread.reactor
    authorities = {}
    for name, (origin, text) in ZONES.items():
        path = tmp_path / name
        path.write_text(text)
        authorities[name] = BindAuthority(str(path), origin)

    def listenAll() -> tuple[int, list[Any]]:
        for _ in range(20):
            ports: list[Any] = []
            port = 0
            try:
                for host, zones in SERVERS.items():
                    factory = DNSServerFactory(
                        authorities=[authorities[z] for z in zones], reactor=reactor
                    )
                    udp = reactor.listenUDP(
                        port, fdns.DNSDatagramProtocol(factory), interface=host
                    )
                    ports.append(udp)
                    port = udp.getHost().port
                    ports.append(reactor.listenTCP(port, factory, interface=host))
                return port, ports
            except CannotListenError:
                for p in ports:
                    p.stopListening()
        raise AssertionError("no common free port")

    port, ports = reactorThread.call(listenAll)
    yield port
    for p in ports:
        reactorThread.call(p.stopListening)


def resolve(reactorThread: Any, port: int, name: str, type: int = fdns.A, **kw: Any) -> Any:
    resolver = Resolver(["127.0.0.2"], reactor=reactorThread.reactor, port=port, **kw)
    return reactorThread.call(resolver.query, fdns.Query(name, type))


def texts(rrs: list[Any]) -> list[str]:
    return [rr.toText() for rr in rrs]


def test_followsReferrals(hierarchy: int, reactorThread: Any) -> None:
    ans, _, _ = resolve(reactorThread, hierarchy, "www.example.com")
    assert texts(ans) == ["www.example.com. 3600 IN A 192.0.2.80"]


def test_cnameInZone(hierarchy: int, reactorThread: Any) -> None:
    ans, _, _ = resolve(reactorThread, hierarchy, "alias.example.com")
    assert texts(ans) == [
        "alias.example.com. 3600 IN CNAME www.example.com.",
        "www.example.com. 3600 IN A 192.0.2.80",
    ]


def test_cnameToAnotherTreeWithGluelessDelegation(hierarchy: int, reactorThread: Any) -> None:
    ans, _, _ = resolve(reactorThread, hierarchy, "ext.example.com")
    assert texts(ans) == [
        "ext.example.com. 3600 IN CNAME www.example.org.",
        "www.example.org. 3600 IN A 192.0.2.90",
    ]


def test_cnameLoopAcrossZones(hierarchy: int, reactorThread: Any) -> None:
    with pytest.raises(ResolverError):
        resolve(reactorThread, hierarchy, "loop.example.com", maxQueries=30)


def test_nxdomain(hierarchy: int, reactorThread: Any) -> None:
    with pytest.raises(DNSNameError) as info:
        resolve(reactorThread, hierarchy, "nope.example.com")
    assert [rr.type for rr in info.value.args[0].authority] == [fdns.SOA]


def test_nodata(hierarchy: int, reactorThread: Any) -> None:
    ans, auth, _ = resolve(reactorThread, hierarchy, "www.example.com", fdns.MX)
    assert ans == []
    assert [rr.type for rr in auth] == [fdns.SOA]


def test_queryBudget(hierarchy: int, reactorThread: Any) -> None:
    with pytest.raises(ResolverError, match="limit"):
        resolve(reactorThread, hierarchy, "www.example.com", maxQueries=2)


def test_recursiveServerWithCache(hierarchy: int, reactorThread: Any, listenDNS: Any) -> None:
    """An fw server recursing with root.Resolver and caching, queried with dnspython."""
    reactor = reactorThread.reactor
    cache = CacheResolver(reactor=reactor)
    resolver = Resolver(["127.0.0.2"], reactor=reactor, port=hierarchy)
    factory = DNSServerFactory(caches=[cache], clients=[resolver], reactor=reactor)
    port, ports = reactorThread.call(listenDNS, reactor, factory, "127.0.0.5")
    query = dns.message.make_query("ext.example.com", "A")
    r = dns.query.udp(query, "127.0.0.5", port=port, timeout=5)
    assert r.flags & dns.flags.RA
    assert not r.flags & dns.flags.AA
    assert [str(rrset[0]) for rrset in r.answer] == ["www.example.org.", "192.0.2.90"]
    assert len(cache.cache) == 1
    r = dns.query.udp(
        dns.message.make_query("nope.example.com", "A"), "127.0.0.5", port=port, timeout=5
    )
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority[0].rdtype == dns.rdatatype.SOA
    # Negative answers are cached too (RFC 2308).
    assert len(cache._negative) == 1
    for p in ports:
        reactorThread.call(p.stopListening)
    reactorThread.call(lambda: [cache.clearEntry(q) for q in list(cache.cancel)])
    assert cache.cache == {}
    assert cache.cancel == {}
