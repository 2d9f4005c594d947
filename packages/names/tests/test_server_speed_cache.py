"""
The fast paths of the authoritative server: a zone's answer cache, the
synchronous answer in DNSServerFactory, and the factory's reply cache —
each must give exactly the answer of the slow path and forget it when the
zone changes (reloads, secondary transfers, replaced records).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from fw.internet import defer
from fw.internet.task import Clock
from fw.names import dns as fdns
from fw.names.authority import AuthoritativeNameError, BindAuthority, FileAuthority
from fw.names.error import DomainError
from fw.names.secondary import SecondaryAuthority
from fw.names.server import DNSServerFactory

pytestmark = pytest.mark.timeout(30)

ZONE = """\
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )
@ NS ns1
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.2
www CNAME web
web A {web}
web AAAA 2001:db8::3
*.wild A 192.0.2.4
child NS ns.child
ns.child A 192.0.2.7
old DNAME new.example.com.
new.x A 192.0.2.8
{extra}
"""

QUESTIONS = [
    ("web.example.com", "A"),
    ("WEB.Example.COM", "A"),
    ("web.example.com", "AAAA"),
    ("www.example.com", "A"),
    ("www.example.com", "CNAME"),
    ("example.com", "MX"),
    ("example.com", "NS"),
    ("example.com", "SOA"),
    ("example.com", "ANY"),
    ("a.wild.example.com", "A"),
    ("host.child.example.com", "A"),
    ("child.example.com", "DS"),
    ("x.old.example.com", "A"),
    ("missing.example.com", "A"),
    ("web.example.com", "TXT"),
    ("example.org", "A"),
]


def writeZone(path: Path, web: str = "192.0.2.3", extra: str = "") -> None:
    path.write_text(ZONE.format(web=web, extra=extra))


@pytest.fixture
def zonePath(tmp_path: Path) -> Path:
    path = tmp_path / "example.com"
    writeZone(path)
    return path


class DatagramTransport:
    def __init__(self) -> None:
        self.written: list[tuple[bytes, Any]] = []

    def write(self, data: bytes, addr: Any = None) -> None:
        self.written.append((data, addr))


class SlowFactory(DNSServerFactory):
    """Answers every query through the resolver chain's Deferreds."""

    def _answerNow(self, query: Any, protocol: Any, message: Any, address: Any) -> bool:
        return False


def udpProtocol(factory: DNSServerFactory) -> Any:
    proto = fdns.DNSDatagramProtocol(factory)
    proto.transport = DatagramTransport()
    proto.startProtocol()
    return proto


def ask(proto: Any, query: dns.message.Message) -> list[bytes]:
    """Send ``query`` as a datagram; what the protocol wrote back."""
    proto.transport.written.clear()
    proto.datagramReceived(query.to_wire(), ("127.0.0.1", 5353))
    return [data for data, _ in proto.transport.written]


def answerAddress(wire: bytes) -> str:
    response = dns.message.from_wire(wire)
    texts: list[str] = [rr.to_text() for rrset in response.answer for rr in rrset]
    return texts[-1]


def makeQuery(name: str, rdtype: str, id: int, **kw: Any) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, **kw)
    query.id = id
    query.flags &= ~dns.flags.RD
    return query


# -- the zone's answer cache --------------------------------------------------


def lookupNow(auth: FileAuthority, name: bytes, type: int = fdns.A) -> Any:
    return auth._lookupNow(name, fdns.IN, type)


def test_answerCacheKeepsAnswers(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    first = lookupNow(auth, b"web.example.com")
    assert (b"web.example.com", fdns.A) in auth._answers
    second = lookupNow(auth, b"web.example.com")
    assert first == second
    # Each caller gets its own lists.
    assert first[0] is not second[0]
    first[0].clear()
    assert lookupNow(auth, b"web.example.com")[0] == second[0]


def test_answerCacheForgetsOnReload(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    assert lookupNow(auth, b"web.example.com")[0][0].payload.dottedQuad() == "192.0.2.3"
    writeZone(zonePath, web="192.0.2.33")
    auth.loadFile(str(zonePath))
    assert lookupNow(auth, b"web.example.com")[0][0].payload.dottedQuad() == "192.0.2.33"


def test_answerCacheForgetsReplacedRecords(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    with pytest.raises(AuthoritativeNameError):
        lookupNow(auth, b"added.example.com")
    # A new dict, then a new name in the same dict: both are seen.
    auth.records = dict(auth.records)
    auth.records[b"added.example.com"] = [fdns.Record_A("192.0.2.50")]
    assert lookupNow(auth, b"added.example.com")[0][0].payload.dottedQuad() == "192.0.2.50"
    auth.records = {**auth.records, b"added2.example.com": [fdns.Record_A("192.0.2.51")]}
    assert lookupNow(auth, b"added2.example.com")[0][0].payload.dottedQuad() == "192.0.2.51"
    # In place, as documented: reset the index key.
    auth.records[b"added.example.com"].append(fdns.Record_A("192.0.2.52"))
    auth._indexKey = None
    assert len(lookupNow(auth, b"added.example.com")[0]) == 2


def test_answerCacheForgetsNewSOA(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    with pytest.raises(AuthoritativeNameError) as e:
        lookupNow(auth, b"missing.example.com")
    assert e.value.authority[0].ttl == 300
    owner, soa = auth.soa  # type: ignore[misc]
    newSOA = fdns.Record_SOA(soa.mname, soa.rname, soa.serial + 1, 1, 1, 1, 60)
    auth.soa = (owner, newSOA)
    with pytest.raises(AuthoritativeNameError) as e:
        lookupNow(auth, b"missing.example.com")
    assert e.value.authority[0].ttl == 60


def test_answerCacheOutsideZoneAndBounded(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    with pytest.raises(DomainError):
        lookupNow(auth, b"example.org")
    with pytest.raises(DomainError):
        lookupNow(auth, b"example.org")
    with pytest.raises(DomainError):
        auth._lookupNow(b"web.example.com", fdns.CH, fdns.A)
    from fw.names import authority

    for i in range(authority._ANSWER_CACHE_SIZE + 10):
        with pytest.raises(AuthoritativeNameError):
            lookupNow(auth, b"n%d.example.com" % i)
    assert len(auth._answers) <= authority._ANSWER_CACHE_SIZE


def secondaryZone(address: str) -> tuple[list[Any], list[Any], list[Any]]:
    soa = fdns.RRHeader(
        b"example.com",
        fdns.SOA,
        fdns.IN,
        3600,
        fdns.Record_SOA(b"ns1.example.com", b"h.example.com", 1, 100, 20, 1000, 300),
    )
    a = fdns.RRHeader(b"web.example.com", fdns.A, fdns.IN, 60, fdns.Record_A(address))
    return [soa, a, soa], [], []


def test_answerCacheForgetsOnSecondaryTransfer() -> None:
    secondary = SecondaryAuthority("192.0.2.53", b"example.com", Clock())
    with pytest.raises(DomainError):
        lookupNow(secondary, b"web.example.com")
    secondary._cbZone(secondaryZone("192.0.2.3"))
    assert lookupNow(secondary, b"web.example.com")[0][0].payload.dottedQuad() == "192.0.2.3"
    secondary._cbZone(secondaryZone("192.0.2.99"))
    assert lookupNow(secondary, b"web.example.com")[0][0].payload.dottedQuad() == "192.0.2.99"
    # Expired, as SecondaryAuthority drops it.
    secondary.soa = None
    secondary.records = {}
    with pytest.raises(DomainError):
        lookupNow(secondary, b"web.example.com")


def test_noCutsNoDNAMEFlags(tmp_path: Path) -> None:
    path = tmp_path / "example.com"
    path.write_text(
        "$ORIGIN example.com.\n$TTL 60\n"
        "@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n"
    )
    auth = BindAuthority(str(path))
    lookupNow(auth, b"www.example.com")
    assert auth._cuts == set()
    assert not auth._hasDNAME
    assert auth._apexName == b"example.com"
    assert auth._cutAbove(b"www.example.com") is None
    assert auth._dnameAbove(b"x.www.example.com") is None
    # A delegation and a DNAME added later are seen.
    auth.records = {
        **auth.records,
        b"sub.example.com": [fdns.Record_NS(b"ns.elsewhere.org")],
        b"old.example.com": [fdns.Record_DNAME(b"www.example.com")],
    }
    answers, authority, _ = lookupNow(auth, b"host.sub.example.com")
    assert answers == []
    assert authority[0].type == fdns.NS
    assert not authority[0].auth
    # x.www.example.com does not exist: NXDOMAIN after the DNAME and CNAME.
    with pytest.raises(AuthoritativeNameError) as e:
        lookupNow(auth, b"x.old.example.com")
    assert [rr.type for rr in e.value.answers] == [fdns.DNAME, fdns.CNAME]


def test_lookupStillDeferred(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    results: list[Any] = []
    auth.lookupAddress(b"web.example.com").addCallback(results.append)
    assert results[0][0][0].payload.dottedQuad() == "192.0.2.3"
    failures: list[Any] = []
    auth.lookupAddress(b"missing.example.com").addErrback(failures.append)
    auth.lookupAddress(b"example.org").addErrback(failures.append)
    assert failures[0].check(AuthoritativeNameError)
    assert failures[1].check(DomainError)


# -- the synchronous answer and the reply cache -------------------------------


def queries() -> list[dns.message.Message]:
    out = []
    for i, (name, rdtype) in enumerate(QUESTIONS):
        out.append(makeQuery(name, rdtype, 1000 + i))
        out.append(makeQuery(name, rdtype, 2000 + i, use_edns=0, payload=1232))
        out.append(makeQuery(name, rdtype, 3000 + i, use_edns=0, payload=512, want_dnssec=True))
    return out


def test_fastPathsAnswerAsTheDeferredPath(zonePath: Path) -> None:
    fast = udpProtocol(DNSServerFactory([BindAuthority(str(zonePath))], reactor=Clock()))
    slow = udpProtocol(SlowFactory([BindAuthority(str(zonePath))], reactor=Clock()))
    for query in queries():
        expected = ask(slow, query)
        assert len(expected) == 1
        assert ask(fast, query) == expected  # synchronous answer
        assert ask(fast, query) == expected  # from the reply cache
        query.id ^= 0x5A5A
        assert ask(fast, query) == ask(slow, query)  # another ID
    assert fast.controller._replies


def test_fastPathsTruncate(tmp_path: Path) -> None:
    path = tmp_path / "example.com"
    extra = "\n".join(f'big TXT "{"x" * 200} {i}"' for i in range(12))
    writeZone(path, extra=extra)
    fast = udpProtocol(DNSServerFactory([BindAuthority(str(path))], reactor=Clock()))
    slow = udpProtocol(SlowFactory([BindAuthority(str(path))], reactor=Clock()))
    for query in [
        makeQuery("big.example.com", "TXT", 7),
        makeQuery("big.example.com", "TXT", 8, use_edns=0, payload=1400),
    ]:
        expected = ask(slow, query)
        assert dns.message.from_wire(expected[0]).flags & dns.flags.TC
        assert ask(fast, query) == expected
        assert ask(fast, query) == expected


def test_replyCacheForgetsOnZoneChange(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    proto = udpProtocol(DNSServerFactory([auth], reactor=Clock()))
    query = makeQuery("web.example.com", "A", 5)
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.3")
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.3")
    writeZone(zonePath, web="192.0.2.77")
    auth.loadFile(str(zonePath))
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.77")
    auth.records = {**auth.records, b"web.example.com": [fdns.Record_A("192.0.2.78")]}
    auth._indexKey = None
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.78")


def test_replyCacheForgetsOnSecondaryTransfer() -> None:
    secondary = SecondaryAuthority("192.0.2.53", b"example.com", Clock())
    proto = udpProtocol(DNSServerFactory([secondary], reactor=Clock()))
    query = makeQuery("web.example.com", "A", 5)
    refused = dns.message.from_wire(ask(proto, query)[0])
    assert refused.rcode() == dns.rcode.REFUSED
    secondary._cbZone(secondaryZone("192.0.2.3"))
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.3")
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.3")
    secondary._cbZone(secondaryZone("192.0.2.4"))
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.4")
    secondary.soa = None
    secondary.records = {}
    assert dns.message.from_wire(ask(proto, query)[0]).rcode() == dns.rcode.REFUSED


def test_replyCacheFollowsFactoryChanges(zonePath: Path) -> None:
    factory = DNSServerFactory([BindAuthority(str(zonePath))], reactor=Clock())
    proto = udpProtocol(factory)
    query = makeQuery("web.example.com", "A", 5)
    ask(proto, query)
    assert len(ask(proto, query)) == 1
    factory.allowQuery = lambda *args: False  # type: ignore[method-assign]
    assert dns.message.from_wire(ask(proto, query)[0]).rcode() == dns.rcode.REFUSED
    del factory.allowQuery
    assert dns.message.from_wire(ask(proto, query)[0]).rcode() == dns.rcode.NOERROR
    # Another resolver in the chain: asked through the Deferreds.
    other = BindAuthority(str(zonePath))
    factory.resolver.resolvers.insert(0, other)
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.3")
    factory.resolver.resolvers[:] = []
    assert dns.message.from_wire(ask(proto, query)[0]).rcode() == dns.rcode.REFUSED


def test_replyCacheNotUsedWithRateLimit(zonePath: Path) -> None:
    clock = Clock()
    factory = DNSServerFactory([BindAuthority(str(zonePath))], rateLimit=1, reactor=clock)
    proto = udpProtocol(factory)
    query = makeQuery("web.example.com", "A", 5)
    assert [len(ask(proto, query)) for _ in range(4)] == [1, 1, 0, 0]
    assert not factory._replies


def test_replyCacheNotForOwnQueries(zonePath: Path) -> None:
    factory = DNSServerFactory([BindAuthority(str(zonePath))], reactor=Clock())
    proto = udpProtocol(factory)
    query = makeQuery("web.example.com", "A", 5)
    ask(proto, query)
    assert len(ask(proto, query)) == 1
    proto.resends[5] = 1
    assert ask(proto, query) == []
    del proto.resends[5]
    proto.liveMessages[5] = (defer.Deferred(), None)
    assert ask(proto, query) == []


def test_serverFailureNotCached(zonePath: Path) -> None:
    auth = BindAuthority(str(zonePath))
    factory = DNSServerFactory([auth], reactor=Clock())
    proto = udpProtocol(factory)
    query = makeQuery("web.example.com", "A", 5)

    def broken(*args: Any) -> Any:
        raise RuntimeError("broken zone")

    auth._answer = broken  # type: ignore[method-assign,assignment]
    response = dns.message.from_wire(ask(proto, query)[0])
    assert response.rcode() == dns.rcode.SERVFAIL
    assert not factory._replies
    del auth._answer
    assert answerAddress(ask(proto, query)[0]).endswith("192.0.2.3")


def test_chainPassesOnToDeferredResolvers(zonePath: Path) -> None:
    class Other:
        """A resolver that is not an authority: answers example.org."""

        def query(self, query: Any, timeout: Any = None) -> defer.Deferred[Any]:
            rr = fdns.RRHeader(query.name.name, fdns.A, fdns.IN, 5, fdns.Record_A("192.0.2.9"))
            return defer.succeed(([rr], [], []))

    factory = DNSServerFactory([BindAuthority(str(zonePath))], clients=[Other()], reactor=Clock())
    proto = udpProtocol(factory)
    for _ in range(2):
        assert answerAddress(ask(proto, makeQuery("example.org", "A", 9))[0]).endswith("192.0.2.9")
        assert answerAddress(ask(proto, makeQuery("web.example.com", "A", 9))[0]).endswith(
            "192.0.2.3"
        )
    assert not factory._replies
