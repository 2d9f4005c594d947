"""ResolverBase's dispatch, extractRecord, and ResolverChain."""

from __future__ import annotations

from typing import Any

import pytest

from fw.internet.defer import Deferred, fail, succeed
from fw.internet.error import DNSLookupError
from fw.names import common, dns, resolve
from fw.names.error import DNSNameError, DNSServerError, DNSUnknownError, DomainError


class Static(common.ResolverBase):
    """Answers from a dict of (name, type) to records; DNSNameError otherwise."""

    def __init__(self, records: dict[tuple[bytes, int], list[dns.RRHeader]]) -> None:
        super().__init__()
        self.records = records
        self.asked: list[tuple[bytes, int, int, Any]] = []

    def _lookup(self, name: bytes, cls: int, type: int, timeout: Any) -> Deferred[Any]:
        self.asked.append((name, cls, type, timeout))
        found = self.records.get((name.lower(), type))
        if found is None:
            return fail(DNSNameError(name))
        return succeed((found, [], []))


def result(d: Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "not fired"
    return box[0]


@pytest.mark.parametrize(("type", "method"), sorted(common.typeToMethod.items()))
def test_everyLookupMethod(type: int, method: str) -> None:
    r = Static({})
    result(getattr(r, method)("Example.COM", timeout=(3,)))
    assert r.asked == [(b"Example.COM", dns.IN, type, (3,))]


def test_queryDispatch() -> None:
    r = Static(
        {
            (b"a.example", dns.MX): [
                dns.RRHeader(b"a.example", dns.MX, payload=dns.Record_MX(1, b"m"))
            ]
        }
    )
    answers = result(r.query(dns.Query(b"a.example", dns.MX)))[0]
    assert answers[0].payload.preference == 1
    result(r.query(dns.Query(b"b.example", 4321)))
    result(r.query(dns.Query(b"c.example", dns.A, dns.CH)))
    assert [(a[2], a[1]) for a in r.asked[1:]] == [(4321, dns.IN), (dns.A, dns.CH)]


def test_exceptionForCode() -> None:
    r = common.ResolverBase()
    assert r.exceptionForCode(dns.ENAME) is DNSNameError
    assert r.exceptionForCode(dns.ESERVER) is DNSServerError
    assert r.exceptionForCode(99) is DNSUnknownError
    assert result(r.lookupAddress("x")).check(NotImplementedError)


def test_getHostByNameFollowsCNAME() -> None:
    records = [
        dns.RRHeader(b"alias.example", dns.CNAME, payload=dns.Record_CNAME(b"real.example")),
        dns.RRHeader(b"real.example", dns.A, payload=dns.Record_A("192.0.2.1")),
    ]
    r = Static({(b"alias.example", dns.ALL_RECORDS): records})
    assert result(r.getHostByName("alias.example")) == "192.0.2.1"
    assert result(r.getHostByName("none.example")).check(DNSNameError)


def test_getHostByNameNoAddress() -> None:
    r = Static(
        {
            (b"x.example", dns.ALL_RECORDS): [
                dns.RRHeader(b"x.example", dns.TXT, payload=dns.Record_TXT(b"t"))
            ]
        }
    )
    assert result(r.getHostByName("x.example")).check(DNSLookupError)


def test_extractRecordPrefersIPv4() -> None:
    answers = [
        dns.RRHeader(b"h", dns.AAAA, payload=dns.Record_AAAA("::1")),
        dns.RRHeader(b"h", dns.A, payload=dns.Record_A("10.0.0.1")),
    ]
    assert common.extractRecord(None, dns.Name("h"), answers) == "10.0.0.1"
    assert common.extractRecord(None, dns.Name("h"), answers[:1]) == "::1"
    assert common.extractRecord(None, dns.Name("h"), answers, level=0) is None


def test_chainFallsThrough() -> None:
    first = Static({})
    second = Static(
        {(b"a.example", dns.A): [dns.RRHeader(b"a.example", payload=dns.Record_A("1.2.3.4"))]}
    )
    chain = resolve.ResolverChain([first, second])
    answers = result(chain.lookupAddress("a.example"))[0]
    assert answers[0].payload.dottedQuad() == "1.2.3.4"
    assert len(first.asked) == 1
    assert len(second.asked) == 1
    assert result(chain.lookupAddress("b.example")).check(DNSNameError)


def test_chainStopsAtFirstAnswer() -> None:
    first = Static(
        {(b"a.example", dns.A): [dns.RRHeader(b"a.example", payload=dns.Record_A("5.5.5.5"))]}
    )
    second = Static({})
    chain = resolve.ResolverChain([first, second])
    assert result(chain.lookupAddress("a.example"))[0][0].payload.dottedQuad() == "5.5.5.5"
    assert second.asked == []
    assert result(chain.getHostByName("missing")).check(DomainError)


def test_chainPassesOtherErrorsThrough() -> None:
    class Broken(common.ResolverBase):
        def _lookup(self, name: bytes, cls: int, type: int, timeout: Any) -> Deferred[Any]:
            return fail(RuntimeError("bug"))

    second = Static({})
    chain = resolve.ResolverChain([Broken(), second])
    assert result(chain.lookupAddress("a")).check(RuntimeError)
    assert second.asked == []


def test_emptyChain() -> None:
    assert result(resolve.ResolverChain([]).lookupAddress("a")).check(DomainError)


def test_providesIResolver() -> None:
    from zope.interface.verify import verifyObject

    assert verifyObject(common.IResolver, resolve.ResolverChain([]))
