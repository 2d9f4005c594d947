"""CacheResolver: TTLs honoured and aged, entries forgotten, negative caching (RFC 2308)."""

from __future__ import annotations

from typing import Any

import pytest

from fw.internet import defer
from fw.internet.task import Clock
from fw.names import dns
from fw.names.authority import AuthoritativeNameError
from fw.names.cache import CacheResolver
from fw.names.error import DNSNameError, DomainError
from fw.names.server import DNSServerFactory
from fw.python.failure import Failure


def fired(d: defer.Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box
    return box[0]


def a(name: bytes, ttl: int, address: str = "192.0.2.1") -> Any:
    return dns.RRHeader(name, dns.A, dns.IN, ttl, dns.Record_A(address, ttl))


def soa(ttl: int, minimum: int) -> Any:
    record = dns.Record_SOA(b"ns.example.com", b"h.example.com", 1, 2, 3, 4, minimum)
    return dns.RRHeader(b"example.com", dns.SOA, dns.IN, ttl, record)


def test_missIsDomainError() -> None:
    cache = CacheResolver(reactor=Clock())
    result = fired(cache.lookupAddress(b"example.com"))
    assert isinstance(result, Failure)
    assert type(result.value) is DomainError


def test_ttlAgedAndExpired() -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock)
    query = dns.Query(b"example.com", dns.A)
    cache.cacheResult(query, ([a(b"example.com", 60)], [], [a(b"ns.example.com", 30)]))
    clock.advance(10)
    ans, _auth, add = fired(cache.lookupAddress(b"example.com"))
    assert [rr.ttl for rr in ans] == [50]
    assert [rr.ttl for rr in add] == [20]
    assert ans[0].payload.dottedQuad() == "192.0.2.1"
    clock.advance(19.5)
    assert not isinstance(fired(cache.lookupAddress(b"example.com")), Failure)
    clock.advance(0.5)  # the smallest TTL (30s) has run out
    assert isinstance(fired(cache.lookupAddress(b"example.com")), Failure)
    assert cache.cache == {}
    assert cache.cancel == {}


def test_replacingCancelsOldTimer() -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock)
    query = dns.Query(b"example.com", dns.A)
    cache.cacheResult(query, ([a(b"example.com", 10)], [], []))
    cache.cacheResult(query, ([a(b"example.com", 100, "192.0.2.2")], [], []))
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(50)
    ans, _, _ = fired(cache.lookupAddress(b"example.com"))
    assert ans[0].payload.dottedQuad() == "192.0.2.2"
    assert ans[0].ttl == 50


def test_initialCacheAndCacheTime() -> None:
    clock = Clock()
    clock.advance(100)
    query = dns.Query(b"example.com", dns.A)
    cache = CacheResolver({query: (90, ([a(b"example.com", 60)], [], []))}, reactor=clock)
    ans, _, _ = fired(cache.lookupAddress(b"example.com"))
    assert ans[0].ttl == 50
    expired = CacheResolver({query: (10, ([a(b"example.com", 60)], [], []))}, reactor=clock)
    assert expired.cache == {}


def test_zeroTTLNotCachedAndAnyNotAnswered() -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock)
    cache.cacheResult(dns.Query(b"example.com", dns.A), ([a(b"example.com", 0)], [], []))
    assert cache.cache == {}
    cache.cacheResult(dns.Query(b"x.com", dns.ALL_RECORDS), ([a(b"x.com", 60)], [], []))
    assert cache.cache == {}
    assert isinstance(fired(cache.lookupAllRecords(b"x.com")), Failure)


def test_negativeCaching() -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock)
    query = dns.Query(b"nope.example.com", dns.A)
    cache.cacheNegative(query, [soa(3600, 300)])
    clock.advance(100)
    result = fired(cache.lookupAddress(b"nope.example.com"))
    assert isinstance(result, Failure)
    assert isinstance(result.value, AuthoritativeNameError)
    assert [rr.ttl for rr in result.value.authority] == [200]
    clock.advance(200)
    result = fired(cache.lookupAddress(b"nope.example.com"))
    assert type(result.value) is DomainError
    cache.cacheNegative(query, [])  # no SOA: not cached (RFC 2308 section 5)
    assert cache._negative == {}


def test_nodataCachedForSOATTL() -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock)
    query = dns.Query(b"example.com", dns.MX)
    cache.cacheResult(query, ([], [soa(300, 300)], []))
    clock.advance(299)
    ans, auth, _ = fired(cache.lookupMailExchange(b"example.com"))
    assert ans == []
    assert auth[0].ttl == 1


def test_boundedSize() -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock, maxEntries=3)
    for i in range(5):
        name = b"h%d.example.com" % i
        cache.cacheResult(dns.Query(name, dns.A), ([a(name, 60)], [], []))
    assert [q.name.name for q in cache.cache] == [
        b"h2.example.com",
        b"h3.example.com",
        b"h4.example.com",
    ]
    assert len(clock.getDelayedCalls()) == 3


class Upstream:
    """A recursive client that answers, or says NXDOMAIN with an SOA."""

    def __init__(self) -> None:
        self.asked = 0

    def query(self, query: Any, timeout: Any = None) -> defer.Deferred[Any]:
        self.asked += 1
        if query.name.name.startswith(b"nope"):
            m = dns.Message(rCode=dns.ENAME)
            m.authority = [soa(600, 60)]
            return defer.fail(DNSNameError(m))
        return defer.succeed(([a(query.name.name, 120)], [], []))


class Writer:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def writeMessage(self, message: Any, address: Any = None) -> None:
        self.sent.append(dns.Message())
        self.sent[-1].fromStr(message.toStr())


@pytest.mark.parametrize("name", [b"www.example.com", b"nope.example.com"])
def test_serverFillsAndUsesCache(name: bytes) -> None:
    clock = Clock()
    cache = CacheResolver(reactor=clock)
    upstream = Upstream()
    factory = DNSServerFactory(caches=[cache], clients=[upstream], reactor=clock)
    writer = Writer()
    for _ in range(2):
        message = dns.Message(id=7, recDes=1)
        message.queries = [dns.Query(name, dns.A)]
        factory.messageReceived(message, writer, ("127.0.0.1", 1))
        clock.advance(30)
    assert upstream.asked == 1
    first, second = writer.sent
    assert first.rCode == second.rCode
    if name.startswith(b"nope"):
        assert second.rCode == dns.ENAME
        assert [rr.ttl for rr in second.authority] == [30]
    else:
        assert [rr.ttl for rr in second.answers] == [90]
    assert second.recAv
    assert not second.auth
    for query in list(cache.cancel):
        cache.clearEntry(query)
