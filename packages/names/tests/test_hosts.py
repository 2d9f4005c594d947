"""hosts.Resolver: answers from a hosts file, read again at each lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fw.internet import defer
from fw.names import dns, hosts
from fw.python.failure import Failure
from fw.python.filepath import FilePath

HOSTS = b"""\
# comment
127.0.0.1   localhost
192.0.2.1   web.example.com web   # trailing comment
192.0.2.2   Web.Example.com
2001:db8::1 web.example.com
fe80::1%eth0 link.example.com
not-an-ip   broken.example.com
192.0.2.3
"""


def fired(d: defer.Deferred[Any]) -> Any:
    box: list[Any] = []
    d.addBoth(box.append)
    assert box
    return box[0]


def test_searchFile(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(HOSTS)
    assert hosts.searchFileForAll(FilePath(str(path)), b"web.example.com") == [
        "192.0.2.1",
        "192.0.2.2",
        "2001:db8::1",
    ]
    assert hosts.searchFileFor(str(path), "WEB") == "192.0.2.1"
    assert hosts.searchFileFor(str(path), b"link.example.com") == "fe80::1"
    assert hosts.searchFileFor(str(path), b"broken.example.com") is None
    assert hosts.searchFileFor(str(path), b"comment") is None
    assert hosts.searchFileForAll(FilePath(str(tmp_path / "missing")), b"web") == []


def test_resolver(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(HOSTS)
    resolver = hosts.Resolver(str(path).encode(), ttl=30)
    ans, auth, add = fired(resolver.lookupAddress(b"web.example.com"))
    assert [(rr.name.name, rr.type, rr.ttl, rr.payload.dottedQuad()) for rr in ans] == [
        (b"web.example.com", dns.A, 30, "192.0.2.1"),
        (b"web.example.com", dns.A, 30, "192.0.2.2"),
    ]
    assert auth == []
    assert add == []
    ans, _, _ = fired(resolver.lookupIPV6Address(b"web.example.com"))
    assert [rr.type for rr in ans] == [dns.AAAA]
    ans, _, _ = fired(resolver.query(dns.Query(b"web.example.com", dns.ALL_RECORDS)))
    assert len(ans) == 3
    for d in (
        resolver.lookupAddress(b"nothere.example.com"),
        resolver.lookupMailExchange(b"web.example.com"),
        resolver.query(dns.Query(b"localhost", dns.AAAA)),
    ):
        assert isinstance(fired(d), Failure)


def test_fileReadAgain(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(b"192.0.2.1 a\n")
    resolver = hosts.Resolver(str(path))
    assert fired(resolver.lookupAddress(b"a"))[0][0].payload.dottedQuad() == "192.0.2.1"
    path.write_bytes(b"192.0.2.9 a\n")
    assert fired(resolver.lookupAddress(b"a"))[0][0].payload.dottedQuad() == "192.0.2.9"


def test_getHostByName(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_bytes(HOSTS)
    assert fired(hosts.Resolver(str(path)).getHostByName(b"web")) == "192.0.2.1"
