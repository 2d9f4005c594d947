"""Authoritative answers from zone files: AA, NXDOMAIN/NODATA, CNAME, referrals, wildcards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fw.internet import defer
from fw.names import authority, dns
from fw.names.authority import AuthoritativeNameError, BindAuthority, PySourceAuthority
from fw.names.error import DomainError
from fw.python.failure import Failure

ZONE = """\
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )
@ NS ns1
@ NS ns2.elsewhere.net.
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.2
mail AAAA 2001:db8::2
www CNAME web
web A 192.0.2.3
alias CNAME www
out CNAME www.other.org.
loop1 CNAME loop2
loop2 CNAME loop1
dangling CNAME nothere
*.wild A 192.0.2.4
*.wild TXT "wild"
exists.wild A 192.0.2.5
sub.ent.deep A 192.0.2.6
child NS ns.child
child NS ns.elsewhere.net.
ns.child A 192.0.2.7
_http._tcp SRV 0 0 80 web
old DNAME example.com.
away DNAME example.net.
"""

Result = tuple[list[Any], list[Any], list[Any]]


def result(d: defer.Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "the Deferred has not fired"
    if isinstance(box[0], Failure):
        box[0].raiseException()
    return box[0]


def failure(d: defer.Deferred[Any]) -> BaseException:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "the Deferred has not fired"
    assert isinstance(box[0], Failure), f"expected a failure, got {box}"
    return box[0].value


@pytest.fixture
def zone(tmp_path: Path) -> BindAuthority:
    path = tmp_path / "example.com"
    path.write_text(ZONE)
    return BindAuthority(str(path))


def rrs(section: list[Any]) -> list[tuple[bytes, str, str, bool]]:
    return [
        (rr.name.name, dns.typeToText(rr.type), rr.payload.toText(), bool(rr.auth))
        for rr in section
    ]


def ask(zone: BindAuthority, name: str, type: int = dns.A) -> Result:
    return result(zone.query(dns.Query(name, type)))  # type: ignore[no-any-return]


def test_loaded(zone: BindAuthority) -> None:
    assert zone.soa is not None
    assert zone.soa[0] == b"example.com"
    assert zone.soa[1].serial == 2024010101
    assert zone.soa[1].minimum == 300
    assert len(zone.records[b"mail.example.com"]) == 2


def test_plainAnswerIsAuthoritative(zone: BindAuthority) -> None:
    ans, auth, add = ask(zone, "web.example.com")
    assert rrs(ans) == [(b"web.example.com", "A", "192.0.2.3", True)]
    assert ans[0].ttl == 3600
    assert (auth, add) == ([], [])


def test_caseInsensitive(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "WEB.Example.COM")
    assert rrs(ans)[0][2] == "192.0.2.3"


def test_cnameChasedInZone(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "alias.example.com")
    assert rrs(ans) == [
        (b"alias.example.com", "CNAME", "www.example.com.", True),
        (b"www.example.com", "CNAME", "web.example.com.", True),
        (b"web.example.com", "A", "192.0.2.3", True),
    ]


def test_cnameQueryNotChased(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "www.example.com", dns.CNAME)
    assert rrs(ans) == [(b"www.example.com", "CNAME", "web.example.com.", True)]


def test_cnameOutOfZoneStops(zone: BindAuthority) -> None:
    ans, auth, _ = ask(zone, "out.example.com")
    assert rrs(ans) == [(b"out.example.com", "CNAME", "www.other.org.", True)]
    assert auth == []


def test_cnameLoopBounded(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "loop1.example.com")
    assert [rr.name.name for rr in ans] == [b"loop1.example.com", b"loop2.example.com"]


def test_cnameToMissingNameIsNXDOMAINWithChain(zone: BindAuthority) -> None:
    error = failure(zone.query(dns.Query("dangling.example.com")))
    assert isinstance(error, AuthoritativeNameError)
    assert rrs(error.answers) == [(b"dangling.example.com", "CNAME", "nothere.example.com.", True)]
    assert [rr.type for rr in error.authority] == [dns.SOA]


def test_nxdomainCarriesSOAWithNegativeTTL(zone: BindAuthority) -> None:
    error = failure(zone.query(dns.Query("nope.example.com")))
    assert isinstance(error, AuthoritativeNameError)
    assert error.answers == []
    (soa,) = error.authority
    assert (soa.name.name, soa.type, soa.ttl, soa.auth) == (b"example.com", dns.SOA, 300, True)


def test_nodata(zone: BindAuthority) -> None:
    ans, auth, add = ask(zone, "web.example.com", dns.TXT)
    assert ans == []
    assert add == []
    assert [(rr.type, rr.ttl) for rr in auth] == [(dns.SOA, 300)]


def test_emptyNonTerminalIsNodataNotNxdomain(zone: BindAuthority) -> None:
    for name in ("deep.example.com", "ent.deep.example.com"):
        ans, auth, _ = ask(zone, name)
        assert ans == []
        assert [rr.type for rr in auth] == [dns.SOA]
    error = failure(zone.query(dns.Query("x.sub.ent.deep.example.com")))
    assert isinstance(error, AuthoritativeNameError)


def test_wildcardSynthesisesOwner(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "anything.wild.example.com")
    assert rrs(ans) == [(b"anything.wild.example.com", "A", "192.0.2.4", True)]
    ans, _, _ = ask(zone, "a.b.wild.example.com", dns.TXT)
    assert rrs(ans) == [(b"a.b.wild.example.com", "TXT", '"wild"', True)]


def test_wildcardNodata(zone: BindAuthority) -> None:
    ans, auth, _ = ask(zone, "anything.wild.example.com", dns.MX)
    assert ans == []
    assert [rr.type for rr in auth] == [dns.SOA]


def test_existingNameBlocksWildcard(zone: BindAuthority) -> None:
    """RFC 4592 section 2.2.1: a name that exists is not covered by the wildcard."""
    ans, auth, _ = ask(zone, "exists.wild.example.com", dns.TXT)
    assert ans == []
    assert [rr.type for rr in auth] == [dns.SOA]
    ans, _, _ = ask(zone, "exists.wild.example.com")
    assert rrs(ans)[0][2] == "192.0.2.5"


def test_wildcardNotAppliedAboveItsParent(zone: BindAuthority) -> None:
    error = failure(zone.query(dns.Query("wildx.example.com")))
    assert isinstance(error, AuthoritativeNameError)


def test_referralWithGlue(zone: BindAuthority) -> None:
    for name in ("host.child.example.com", "a.b.child.example.com", "child.example.com"):
        ans, auth, add = ask(zone, name)
        assert ans == []
        assert sorted(rrs(auth)) == [
            (b"child.example.com", "NS", "ns.child.example.com.", False),
            (b"child.example.com", "NS", "ns.elsewhere.net.", False),
        ]
        assert rrs(add) == [(b"ns.child.example.com", "A", "192.0.2.7", False)]


def test_referralForGlueNameItself(zone: BindAuthority) -> None:
    ans, auth, _ = ask(zone, "ns.child.example.com")
    assert ans == []
    assert {rr.type for rr in auth} == {dns.NS}


def test_dsAtCutAnsweredByParent(zone: BindAuthority) -> None:
    ans, auth, _ = ask(zone, "child.example.com", dns.DS)
    assert ans == []
    assert [rr.type for rr in auth] == [dns.SOA]


def test_additionalAddressesForMXAndNS(zone: BindAuthority) -> None:
    ans, _, add = ask(zone, "example.com", dns.MX)
    assert rrs(ans) == [(b"example.com", "MX", "10 mail.example.com.", True)]
    assert sorted(rrs(add)) == [
        (b"mail.example.com", "A", "192.0.2.2", True),
        (b"mail.example.com", "AAAA", "2001:db8::2", True),
    ]
    ans, _, add = ask(zone, "example.com", dns.NS)
    assert len(ans) == 2
    assert rrs(add) == [(b"ns1.example.com", "A", "192.0.2.1", True)]
    ans, _, add = ask(zone, "_http._tcp.example.com", dns.SRV)
    assert rrs(add) == [(b"web.example.com", "A", "192.0.2.3", True)]


def test_any(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "mail.example.com", dns.ALL_RECORDS)
    assert sorted(rr.type for rr in ans) == [dns.A, dns.AAAA]


def test_outsideZoneIsNotOurs(zone: BindAuthority) -> None:
    error = failure(zone.query(dns.Query("www.other.org")))
    assert type(error) is DomainError
    error = failure(zone.query(dns.Query("notexample.com")))
    assert type(error) is DomainError
    error = failure(zone.query(dns.Query("web.example.com", dns.A, dns.CH)))
    assert type(error) is DomainError


def test_lookupZone(zone: BindAuthority) -> None:
    ans, _, _ = result(zone.lookupZone(b"example.com"))
    assert ans[0].type == dns.SOA
    assert ans[-1].type == dns.SOA
    assert len(ans) == 2 + sum(len(v) for v in zone.records.values()) - 1
    assert isinstance(failure(zone.lookupZone(b"other.org")), DomainError)


def test_lookupHelpers(zone: BindAuthority) -> None:
    ans, _, _ = result(zone.lookupMailExchange(b"example.com"))
    assert ans[0].payload.preference == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$TTL 1\na A 192.0.2.1\n", "exactly one SOA"),
        ("$TTL 1\n@ SOA a b 1 2 3 4 5\n@ SOA a b 2 2 3 4 5\n", "exactly one SOA"),
        ("$TTL 1\n@ SOA a b 1 2 3 4 5\nx.other. A 192.0.2.1\n", "outside the zone"),
        ("$TTL 1\n@ SOA a b 1 2 3 4 5\nx A 300.0.0.1\n", "A:"),
        ("$TTL 1\n@ SOA a b 1 2 3 4 5\nx MX mail\n", "MX:"),
        ("$TTL 1\n@ SOA a b 1 2 3 4 5\nx BOGUS 1\n", "BOGUS"),
    ],
)
def test_badZones(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "example.org"
    path.write_text(text)
    with pytest.raises(authority.ZoneSyntaxError, match=message):
        BindAuthority(str(path))


def test_originFromZoneSuffixAndArgument(tmp_path: Path) -> None:
    path = tmp_path / "example.net.zone"
    path.write_text("$TTL 60\n@ SOA ns h 1 2 3 4 5\nwww A 192.0.2.8\n")
    assert BindAuthority(str(path)).soa[0] == b"example.net"  # type: ignore[index]
    assert BindAuthority(str(path), origin="other.test").soa[0] == b"other.test"  # type: ignore[index]


def test_genericAndModernTypes(tmp_path: Path) -> None:
    path = tmp_path / "t.test"
    path.write_text(
        "$TTL 60\n@ SOA ns h 1 2 3 4 5\n"
        'x CAA 0 issue "ca.example"\n'
        "x TYPE65280 \\# 3 010203\n"
        "x AAAA \\# 16 20010db8000000000000000000000001\n"
    )
    zone = BindAuthority(str(path))
    types = sorted(r.TYPE for r in zone.records[b"x.t.test"])
    assert types == [dns.AAAA, 257, 65280]
    ans, _, _ = ask(zone, "x.t.test", dns.AAAA)
    assert rrs(ans)[0][2] == "2001:db8::1"


PYZONE = """\
zone = [
    SOA(
        'example-domain.com',
        mname='ns1.example-domain.com',
        rname='root.example-domain.com',
        serial=2003010601,
        refresh='1H',
        retry='1H',
        expire='1H',
        minimum='1H',
    ),
    A('example-domain.com', '127.0.0.1'),
    NS('example-domain.com', 'ns1.example-domain.com'),
    CNAME('www.example-domain.com', 'example-domain.com'),
    CNAME('ftp.example-domain.com', 'example-domain.com'),
    MX('example-domain.com', 0, 'mail.example-domain.com'),
    A('mail.example-domain.com', '123.0.16.43'),
]
"""


def test_pySourceAuthority(tmp_path: Path) -> None:
    """Twisted's documented Python zone file, unchanged."""
    path = tmp_path / "example-domain.com"
    path.write_text(PYZONE)
    zone = PySourceAuthority(str(path))
    ans, _, _ = ask(zone, "www.example-domain.com")  # type: ignore[arg-type]
    assert rrs(ans) == [
        (b"www.example-domain.com", "CNAME", "example-domain.com.", True),
        (b"example-domain.com", "A", "127.0.0.1", True),
    ]
    ans, _, add = ask(zone, "example-domain.com", dns.MX)  # type: ignore[arg-type]
    assert rrs(add) == [(b"mail.example-domain.com", "A", "123.0.16.43", True)]
    error = failure(zone.query(dns.Query("nope.example-domain.com")))
    assert isinstance(error, AuthoritativeNameError)
    assert error.authority[0].ttl == 3600


def test_pySourceWithoutZone(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("x = 1\n")
    with pytest.raises(ValueError, match="no zone"):
        PySourceAuthority(str(path))


def test_getSerial(tmp_path: Path) -> None:
    path = str(tmp_path / "serial")
    first = authority.getSerial(path)
    second = authority.getSerial(path)
    assert len(first) == 10
    assert int(second) == int(first) + 1


def test_dnameSynthesisesCname(zone: BindAuthority) -> None:
    ans, _, _ = ask(zone, "web.old.example.com")
    assert rrs(ans) == [
        (b"old.example.com", "DNAME", "example.com.", True),
        (b"web.old.example.com", "CNAME", "web.example.com.", True),
        (b"web.example.com", "A", "192.0.2.3", True),
    ]
    ans, _, _ = ask(zone, "a.b.away.example.com")
    assert rrs(ans) == [
        (b"away.example.com", "DNAME", "example.net.", True),
        (b"a.b.away.example.com", "CNAME", "a.b.example.net.", True),
    ]
    # The DNAME's owner itself is answered normally.
    ans, _, _ = ask(zone, "old.example.com", dns.DNAME)
    assert rrs(ans) == [(b"old.example.com", "DNAME", "example.com.", True)]
    error = failure(zone.query(dns.Query("nope.old.example.com")))
    assert isinstance(error, AuthoritativeNameError)
    assert [rr.type for rr in error.answers] == [dns.DNAME, dns.CNAME]
