"""fw.web.static's pure helpers: Range parsing, preconditions, path safety."""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.web._static_paths import (
    UnsafePath,
    checkSegment,
    getTypeAndEncoding,
    isInside,
    loadMimeTypes,
)
from fw.web._static_ranges import (
    MAX_RANGES,
    Condition,
    RangeNotSatisfiable,
    evaluateConditions,
    ifRangeMatches,
    makeETag,
    multipartLayout,
    parseRange,
    resolveRanges,
)

# -- Range ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"bytes=0-499", [(0, 499)]),
        (b"bytes=500-", [(500, None)]),
        (b"bytes=-500", [(None, 500)]),
        (b"bytes=0-0,-1", [(0, 0), (None, 1)]),
        (b"Bytes = 1-2 , 4-5", [(1, 2), (4, 5)]),
        (b"bytes=1-2,,3-4", [(1, 2), (3, 4)]),
    ],
)
def test_parseRangeValid(header: bytes, expected: list[tuple[int | None, int | None]]) -> None:
    assert parseRange(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        b"",
        b"bytes",
        b"items=0-1",
        b"bytes=",
        b"bytes=,",
        b"bytes=abc",
        b"bytes=1",
        b"bytes=5-1",
        b"bytes=-",
        b"bytes=1--2",
        b"bytes=0x1-2",
        b"bytes=+1-2",
        b"bytes=1-2-3",
        b"bytes=" + b"9" * 100 + b"-",
        b"bytes=\xd9\xa1-2",  # Arabic-Indic digit: not ASCII
        b"bytes=" + b",".join(b"%d-%d" % (i, i) for i in range(MAX_RANGES + 1)),
    ],
)
def test_parseRangeMalformed(header: bytes) -> None:
    with pytest.raises(ValueError):
        parseRange(header)


@given(st.binary(max_size=60))
def test_parseRangeOnlyValueError(header: bytes) -> None:
    try:
        result = parseRange(header)
    except ValueError:
        return
    for first, last in result:
        assert first is not None or last is not None
        if first is not None and last is not None:
            assert first <= last


def test_resolveRanges() -> None:
    assert resolveRanges([(0, 499)], 1000) == [(0, 500)]
    assert resolveRanges([(0, 4999)], 1000) == [(0, 1000)]
    assert resolveRanges([(500, None)], 1000) == [(500, 1000)]
    assert resolveRanges([(None, 100)], 1000) == [(900, 1000)]
    assert resolveRanges([(None, 5000)], 1000) == [(0, 1000)]
    # Unsatisfiable ranges are dropped if another one is satisfiable.
    assert resolveRanges([(2000, None), (0, 0)], 1000) == [(0, 1)]


@pytest.mark.parametrize(
    ("ranges", "size"),
    [([(1000, None)], 1000), ([(None, 0)], 1000), ([(0, 5)], 0), ([(None, 5)], 0)],
)
def test_resolveRangesUnsatisfiable(
    ranges: list[tuple[int | None, int | None]], size: int
) -> None:
    with pytest.raises(RangeNotSatisfiable):
        resolveRanges(ranges, size)


@given(
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 2000)), min_size=1, max_size=5),
    st.integers(0, 1500),
)
def test_resolvedRangesAreInBounds(pairs: list[tuple[int, int]], size: int) -> None:
    ranges: list[tuple[int | None, int | None]] = [(min(a, b), max(a, b)) for a, b in pairs]
    try:
        resolved = resolveRanges(ranges, size)
    except RangeNotSatisfiable:
        assert all(a >= size for a, _ in ranges)
        return
    for start, stop in resolved:
        assert 0 <= start < stop <= size


def test_multipartLayout() -> None:
    data = bytes(range(100))
    parts, trailer, length = multipartLayout([(0, 10), (50, 60)], 100, b"text/plain", b"BOUND")
    body = b"".join(h + data[s:e] for h, s, e in parts) + trailer
    assert len(body) == length
    assert b"Content-Range: bytes 0-9/100" in body
    assert b"Content-Range: bytes 50-59/100" in body
    assert body.endswith(b"\r\n--BOUND--\r\n")
    # The stdlib's MIME parser reads it back.
    import email.parser

    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: multipart/byteranges; boundary=BOUND\r\n\r\n" + body
    )
    payloads = [part.get_payload(decode=True) for part in message.get_payload()]  # type: ignore[union-attr]
    assert payloads == [data[0:10], data[50:60]]


# -- preconditions -------------------------------------------------------------

MTIME = 1_700_000_000.0
ETAG = b'"abc"'


def httpDate(when: float) -> bytes:
    return formatdate(when, usegmt=True).encode("ascii")


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        (b"GET", {}, Condition.PROCEED),
        (b"GET", {"ifNoneMatch": b'"abc"'}, Condition.NOT_MODIFIED),
        (b"GET", {"ifNoneMatch": b'"x", W/"abc"'}, Condition.NOT_MODIFIED),
        (b"GET", {"ifNoneMatch": b"*"}, Condition.NOT_MODIFIED),
        (b"GET", {"ifNoneMatch": b'"other"'}, Condition.PROCEED),
        (b"POST", {"ifNoneMatch": b'"abc"'}, Condition.PRECONDITION_FAILED),
        (b"GET", {"ifModifiedSince": httpDate(MTIME)}, Condition.NOT_MODIFIED),
        (b"GET", {"ifModifiedSince": httpDate(MTIME + 60)}, Condition.NOT_MODIFIED),
        (b"GET", {"ifModifiedSince": httpDate(MTIME - 60)}, Condition.PROCEED),
        (b"GET", {"ifModifiedSince": b"garbage"}, Condition.PROCEED),
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
        (
            b"GET",
            {"ifNoneMatch": b'"other"', "ifModifiedSince": httpDate(MTIME)},
            Condition.PROCEED,
        ),
        (b"GET", {"ifMatch": b'"abc"'}, Condition.PROCEED),
        (b"GET", {"ifMatch": b'W/"abc"'}, Condition.PRECONDITION_FAILED),
        (b"GET", {"ifMatch": b'"zzz"'}, Condition.PRECONDITION_FAILED),
        (b"GET", {"ifUnmodifiedSince": httpDate(MTIME - 60)}, Condition.PRECONDITION_FAILED),
        (b"GET", {"ifUnmodifiedSince": httpDate(MTIME)}, Condition.PROCEED),
    ],
)
def test_evaluateConditions(method: bytes, headers: dict[str, bytes], expected: Condition) -> None:
    assert evaluateConditions(method, ETAG, MTIME, **headers) is expected


def test_ifRange() -> None:
    assert ifRangeMatches(b'"abc"', ETAG, MTIME)
    assert not ifRangeMatches(b'W/"abc"', ETAG, MTIME)
    assert not ifRangeMatches(b'"abd"', ETAG, MTIME)
    assert ifRangeMatches(httpDate(MTIME), ETAG, MTIME)
    assert not ifRangeMatches(httpDate(MTIME + 1), ETAG, MTIME)
    assert not ifRangeMatches(b"nonsense", ETAG, MTIME)


def test_makeETagChangesWithContent(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"one")
    first = makeETag(os.stat(f))
    f.write_bytes(b"three")
    second = makeETag(os.stat(f))
    assert first != second
    assert first.startswith(b'"')
    assert first.endswith(b'"')


# -- path safety ---------------------------------------------------------------


@pytest.mark.parametrize("segment", [b"..", b".", b"a/b", b"..\\x", b"a\x00b", b"/", b"\\"])
def test_checkSegmentRefuses(segment: bytes) -> None:
    with pytest.raises(UnsafePath):
        checkSegment(segment)


@pytest.mark.parametrize(
    "segment", [b"a", b"...", b"%2e%2e", b"caf\xc3\xa9", b"\xff\xfe", b".hidden"]
)
def test_checkSegmentAccepts(segment: bytes) -> None:
    name = checkSegment(segment)
    assert os.fsencode(name) == segment


def test_isInside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "inner").symlink_to(root / "sub")
    assert isInside(str(root), str(root))
    assert isInside(str(root), str(root / "sub"))
    assert isInside(str(root), str(root / "inner"))
    assert not isInside(str(root), str(root / "escape"))
    assert not isInside(str(root), str(root / ".." / "outside"))
    # A sibling whose name starts with the root's name is not inside.
    (tmp_path / "rootx").mkdir()
    assert not isInside(str(root), str(tmp_path / "rootx"))


def test_typeAndEncoding() -> None:
    types = loadMimeTypes()
    encodings = {".gz": "gzip"}
    assert getTypeAndEncoding("a.html", types, encodings, "x/y") == ("text/html", None)
    assert getTypeAndEncoding("a.TXT", types, encodings, "x/y") == ("text/plain", None)
    assert getTypeAndEncoding("a.tar.gz", types, encodings, "x/y") == ("application/x-tar", "gzip")
    assert getTypeAndEncoding("noext", types, encodings, "x/y") == ("x/y", None)


def test_loadMimeTypesExtraFiles(tmp_path: Path) -> None:
    extra = tmp_path / "mime.types"
    extra.write_text("application/x-fw-test\tfwtest\n")
    assert loadMimeTypes([str(extra)])[".fwtest"] == "application/x-fw-test"
