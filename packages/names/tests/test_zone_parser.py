"""The zone (master) file parser: RFC 1035 section 5 syntax and BIND's extensions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.names._zone_parser import (
    MAX_INCLUDE_DEPTH,
    ZoneEntry,
    ZoneSyntaxError,
    absoluteName,
    parseTTL,
    parseZone,
    readZoneFile,
)

ZONE = """\
$ORIGIN example.com.
$TTL 1h
@   IN  SOA ns1 hostmaster (
        2024010101 ; serial
        7200       ; refresh
        3600 1209600
        300 )      ; minimum
    IN  NS  ns1
    NS  ns2.other.net.
ns1 A   192.0.2.1
www 600 IN A 192.0.2.2
        IN AAAA 2001:db8::2
mail    MX 10 www
txt     TXT "hello world" "semi;colon" "quote\\"d" "\\065\\066"
sub.deep IN 30 CNAME www
$ORIGIN other.example.com.
x   A   192.0.2.3
"""


def tuples(entries: list[ZoneEntry]) -> list[tuple[object, ...]]:
    return [(e.name, e.ttl, e.cls, e.type, e.rdata) for e in entries]


def test_fullZone() -> None:
    entries = parseZone(ZONE)
    assert tuples(entries) == [
        (
            "example.com",
            3600,
            "IN",
            "SOA",
            ("ns1", "hostmaster", "2024010101", "7200", "3600", "1209600", "300"),
        ),
        ("example.com", 3600, "IN", "NS", ("ns1",)),
        ("example.com", 3600, "IN", "NS", ("ns2.other.net.",)),
        ("ns1.example.com", 3600, "IN", "A", ("192.0.2.1",)),
        ("www.example.com", 600, "IN", "A", ("192.0.2.2",)),
        ("www.example.com", 3600, "IN", "AAAA", ("2001:db8::2",)),
        ("mail.example.com", 3600, "IN", "MX", ("10", "www")),
        (
            "txt.example.com",
            3600,
            "IN",
            "TXT",
            (b"hello world", b"semi;colon", b'quote"d', b"AB"),
        ),
        ("sub.deep.example.com", 30, "IN", "CNAME", ("www",)),
        ("x.other.example.com", 3600, "IN", "A", ("192.0.2.3",)),
    ]
    assert entries[0].origin == "example.com"
    assert entries[-1].origin == "other.example.com"
    assert entries[4].lineno == 11


def test_byteAtATimeEquivalentSplits() -> None:
    """Line endings and spacing do not change the result: CRLF and tabs."""
    assert tuples(parseZone(ZONE.replace("\n", "\r\n").replace("    ", "\t"))) == tuples(
        parseZone(ZONE)
    )


@pytest.mark.parametrize(
    ("text", "ttl"),
    [("0", 0), ("3600", 3600), ("1h30m", 5400), ("1W", 604800), ("2d3s", 172803)],
)
def test_ttlUnits(text: str, ttl: int) -> None:
    assert parseTTL(text) == ttl


@pytest.mark.parametrize("text", ["", "h", "1x", "-1", "99999999999"])
def test_badTTL(text: str) -> None:
    with pytest.raises(ValueError):
        parseTTL(text)


def test_absoluteName() -> None:
    assert absoluteName("@", "example.com") == "example.com"
    assert absoluteName("www", "example.com") == "www.example.com"
    assert absoluteName("www.example.org.", "example.com") == "www.example.org"
    assert absoluteName("a\\.", "example.com") == "a\\..example.com"
    assert absoluteName(".", "example.com") == ""


def test_lastExplicitTTLWithoutDollarTTL() -> None:
    entries = parseZone("a 100 A 192.0.2.1\nb A 192.0.2.2\n", "example.")
    assert [e.ttl for e in entries] == [100, 100]


def test_soaMinimumWhenNoTTLAtAll() -> None:
    entries = parseZone("@ SOA ns h 1 2 3 4 55\n@ NS ns\n", "example.")
    assert [e.ttl for e in entries] == [55, 55]


def test_noTTLAnywhere() -> None:
    with pytest.raises(ZoneSyntaxError, match="no TTL"):
        parseZone("a A 192.0.2.1\n", "example.")


def test_classBeforeTTL() -> None:
    (entry,) = parseZone("a IN 20 A 192.0.2.1\n", "example.")
    assert (entry.ttl, entry.cls) == (20, "IN")


def test_unknownTypeSyntax() -> None:
    (entry,) = parseZone("a 20 CLASS1 TYPE65280 \\# 2 abcd\n", "example.")
    assert (entry.cls, entry.type, entry.rdata) == ("CLASS1", "TYPE65280", ("\\#", "2", "abcd"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  A 192.0.2.1\n", "no owner"),
        ("a 1 ( A 192.0.2.1\n", "unbalanced '\\('"),
        ("a 1 A 192.0.2.1 )\n", "unbalanced '\\)'"),
        ('a 1 TXT "open\n', "unterminated"),
        ("a 1 IN\n", "no type"),
        ("$BOGUS x\n", "unknown directive"),
        ("$ORIGIN\n", "ORIGIN takes"),
        ("$TTL x\n", "not a TTL"),
        ("$INCLUDE other\n", "not allowed"),
        ('a 1 TXT "\\999"\n', "bad escape"),
        ('"a" 1 A 192.0.2.1\n', "quoted owner"),
    ],
)
def test_syntaxErrors(text: str, message: str) -> None:
    with pytest.raises(ZoneSyntaxError, match=message):
        parseZone(text, "example.", "z.zone")


def test_errorNamesFileAndLine() -> None:
    with pytest.raises(ZoneSyntaxError) as info:
        parseZone("$TTL 1\na A 1.2.3.4\nb 1 IN\n", "example.", "z.zone")
    assert (info.value.filename, info.value.lineno) == ("z.zone", 3)
    assert str(info.value).startswith("z.zone:3:")


def test_includeRelativeToZoneDirectory(tmp_path: Path) -> None:
    (tmp_path / "hosts.inc").write_text("h1 A 192.0.2.9\n")
    (tmp_path / "z.zone").write_text(
        "$TTL 5\n@ SOA ns h 1 2 3 4 5\n$INCLUDE hosts.inc sub\nafter A 192.0.2.10\n"
    )
    entries = readZoneFile(str(tmp_path / "z.zone"), "example.com.")
    assert [(e.name, e.ttl) for e in entries] == [
        ("example.com", 5),
        ("h1.sub.example.com", 5),
        ("after.example.com", 5),
    ]
    assert entries[1].filename == str(tmp_path / "hosts.inc")


def test_includeOutsideZoneDirectoryRefused(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("x A 192.0.2.1\n")
    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "z.zone").write_text("$TTL 5\n$INCLUDE ../secret\n")
    with pytest.raises(ZoneSyntaxError, match="outside"):
        readZoneFile(str(zones / "z.zone"), "example.")
    (zones / "abs.zone").write_text(f"$TTL 5\n$INCLUDE {tmp_path / 'secret'}\n")
    with pytest.raises(ZoneSyntaxError, match="outside"):
        readZoneFile(str(zones / "abs.zone"), "example.")


def test_includeLoopBounded(tmp_path: Path) -> None:
    (tmp_path / "loop.zone").write_text("$TTL 5\n$INCLUDE loop.zone\n")
    with pytest.raises(ZoneSyntaxError, match="too deeply"):
        readZoneFile(str(tmp_path / "loop.zone"), "example.")
    assert MAX_INCLUDE_DEPTH == 8


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(' \t\n;()"\\$@.aA1hIN')), max_size=80))
def test_fuzzOnlySyntaxErrors(text: str) -> None:
    """Any text parses or raises ZoneSyntaxError; nothing else escapes."""
    try:
        parseZone(text, "example.", "f.zone")
    except ZoneSyntaxError:
        pass
