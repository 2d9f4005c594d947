"""The sans-IO HTTP/1.1 client codec: response parsing and request serialization."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.web._newclient_codec import (
    BodyData,
    InformationalResponse,
    LocalProtocolError,
    RequestHead,
    ResponseEnd,
    ResponseHead,
    ResponseParseError,
    ResponseParser,
    chunk,
    lastChunk,
    serializeRequestHead,
)


def parseWhole(data: bytes, method: bytes = b"GET", eof: bool = False, **kw: int) -> list[object]:
    parser = ResponseParser(method, **kw)
    events = parser.feed(data)
    if eof:
        events += parser.feedEOF()
    return events


def parseBytewise(
    data: bytes, method: bytes = b"GET", eof: bool = False, **kw: int
) -> list[object]:
    parser = ResponseParser(method, **kw)
    events: list[object] = []
    for i in range(len(data)):
        events += parser.feed(data[i : i + 1])
    if eof:
        events += parser.feedEOF()
    return events


def summary(events: list[object]) -> tuple[object, bytes, object]:
    """(head, body, end) with body pieces joined, so splits compare equal."""
    heads = [e for e in events if isinstance(e, ResponseHead)]
    ends = [e for e in events if isinstance(e, ResponseEnd)]
    body = b"".join(e.data for e in events if isinstance(e, BodyData))
    assert len(heads) == 1
    assert len(ends) == 1
    assert events.index(heads[0]) < events.index(ends[0]) == len(events) - 1
    return heads[0], body, ends[0]


both = pytest.mark.parametrize("parse", [parseWhole, parseBytewise], ids=["whole", "bytewise"])


@both
def test_contentLength(parse: object) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello"
    head, body, end = summary(parse(data))  # type: ignore[operator]
    assert (head.version, head.code, head.phrase) == ((b"HTTP", 1, 1), 200, b"OK")
    assert head.headers == ((b"Content-Length", b"5"), (b"X-A", b"b"))
    assert head.length == 5
    assert head.persistent
    assert not head.closeDelimited
    assert body == b"hello"
    assert end.persistent
    assert not end.closeDelimited
    assert end.trailers == ()


@both
def test_chunkedWithTrailersAndExtensions(parse: object) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n"
        b"Checksum: abc\r\nX-Other: 1\r\n\r\n"
    )
    head, body, end = summary(parse(data))  # type: ignore[operator]
    assert head.length is None
    assert head.persistent
    assert body == b"hello 0123456789"
    assert end.trailers == ((b"Checksum", b"abc"), (b"X-Other", b"1"))
    assert end.persistent


@both
def test_closeDelimited(parse: object) -> None:
    data = b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of it until close"
    head, body, end = summary(parse(data, eof=True))  # type: ignore[operator]
    assert head.closeDelimited
    assert not head.persistent
    assert head.length is None
    assert body == b"all of it until close"
    assert end.closeDelimited
    assert not end.persistent


@both
def test_unknownTransferCodingIsCloseDelimited(parse: object) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz"
    _head, body, end = summary(parse(data, eof=True))  # type: ignore[operator]
    assert end.closeDelimited
    assert body == b"xyz"


@pytest.mark.parametrize(
    ("method", "status"), [(b"HEAD", b"200 OK"), (b"GET", b"204 No Content"), (b"GET", b"304 NM")]
)
def test_noBody(method: bytes, status: bytes) -> None:
    data = b"HTTP/1.1 " + status + b"\r\nContent-Length: 42\r\n\r\n"
    parser = ResponseParser(method)
    head, body, end = summary(parser.feed(data))
    assert body == b""
    assert end.persistent
    assert head.length == 0
    assert parser.done


def test_informationalResponsesSkipped() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    for events in (parseWhole(data), parseBytewise(data)):
        infos = [e for e in events if isinstance(e, InformationalResponse)]
        assert [i.code for i in infos] == [100, 103]
        assert infos[1].headers == ((b"Link", b"</a>"),)
        assert summary([e for e in events if e not in infos])[1] == b"ok"


def test_tooManyInformational() -> None:
    with pytest.raises(ResponseParseError, match="1xx"):
        parseWhole(b"HTTP/1.1 100 Continue\r\n\r\n" * 5, maxInformational=3)


def test_unrequested101() -> None:
    with pytest.raises(ResponseParseError, match="101"):
        parseWhole(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")


@pytest.mark.parametrize(
    ("version", "connection", "persistent"),
    [
        (b"1.1", b"", True),
        (b"1.1", b"Connection: close\r\n", False),
        (b"1.1", b"Connection: Keep-Alive, CLOSE\r\n", False),
        (b"1.0", b"", False),
        (b"1.0", b"Connection: keep-alive\r\n", True),
    ],
)
def test_persistence(version: bytes, connection: bytes, persistent: bool) -> None:
    data = b"HTTP/" + version + b" 200 OK\r\n" + connection + b"Content-Length: 0\r\n\r\n"
    head, _body, end = summary(parseWhole(data))
    assert head.persistent is persistent
    assert end.persistent is persistent


def test_bothLengthAndChunkedNotPersistent() -> None:
    """RFC 9112 section 6.1: Transfer-Encoding wins and the connection must close."""
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n"
    )
    _head, body, end = summary(parseWhole(data))
    assert body == b"ok"
    assert not end.persistent


def test_repeatedIdenticalContentLength() -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok"
    assert summary(parseWhole(data))[1] == b"ok"


def test_bareLineFeedsAccepted() -> None:
    data = b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"
    assert summary(parseWhole(data))[1] == b"ok"


def test_obsoleteLineFolding() -> None:
    data = b"HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\nContent-Length: 0\r\n\r\n"
    head = summary(parseWhole(data))[0]
    assert (b"X-Long", b"a b") in head.headers


def test_emptyReasonPhrase() -> None:
    head = summary(parseWhole(b"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n"))[0]
    assert head.code == 404
    assert head.phrase == b""


def test_connectTunnelLeftover() -> None:
    parser = ResponseParser(b"CONNECT")
    events = parser.feed(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01tls")
    head, _body, _end = summary(events)
    assert head.code == 200
    assert parser.done
    assert parser.leftover == b"\x16\x03\x01tls"
    parser.feed(b"more")
    assert parser.leftover == b"\x16\x03\x01tlsmore"


def test_connectRefusedHasBody() -> None:
    parser = ResponseParser(b"CONNECT")
    head, body, _end = summary(
        parser.feed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")
    )
    assert head.code == 403
    assert body == b"no"


def test_unsolicitedBytesAfterResponse() -> None:
    parser = ResponseParser(b"GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxjunk")
    assert parser.done
    assert parser.leftover == b"junk"


# -- malformed input -----------------------------------------------------------------

MALFORMED = [
    (b"HTTP/1.1 OK\r\n\r\n", "status line"),
    (b"HTTP/2.0 200 OK\r\n\r\n", "version"),
    (b"ICY 200 OK\r\n\r\n", "status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
    (b"HTTP/1.1 200 O\x00K\r\n\r\n", "control"),
    (b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "header line"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "header line"),
    (b"HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "header line"),
    (b"HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", "control"),
    (b"HTTP/1.1 200 OK\r\n continuation first\r\n\r\n", "continuation"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "conflicting"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n", "chunk"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "more than once"),
]


@pytest.mark.parametrize(("data", "match"), MALFORMED)
@both
def test_malformed(parse: object, data: bytes, match: str) -> None:
    with pytest.raises(ResponseParseError, match=match):
        parse(data)  # type: ignore[operator]


def test_failedParserRefusesMore() -> None:
    parser = ResponseParser(b"GET")
    with pytest.raises(ResponseParseError):
        parser.feed(b"garbage\r\n")
    with pytest.raises(ResponseParseError, match="already failed"):
        parser.feed(b"HTTP/1.1 200 OK\r\n")


# -- limits ----------------------------------------------------------------------------


@both
def test_longStatusLine(parse: object) -> None:
    with pytest.raises(ResponseParseError, match="longer than 100"):
        parse(b"HTTP/1.1 200 " + b"x" * 200 + b"\r\n\r\n", maxLineLength=100)  # type: ignore[operator]


@both
def test_longHeaderLine(parse: object) -> None:
    with pytest.raises(ResponseParseError, match="longer than 100"):
        parse(b"HTTP/1.1 200 OK\r\nX: " + b"y" * 200 + b"\r\n\r\n", maxLineLength=100)  # type: ignore[operator]


def test_endlessLineFailsEarly() -> None:
    """A line that never ends is refused once past the limit, without waiting for LF."""
    parser = ResponseParser(b"GET", maxLineLength=1000)
    parser.feed(b"HTTP/1.1 200 OK\r\nX: ")
    for _ in range(9):
        parser.feed(b"z" * 100)
    with pytest.raises(ResponseParseError):
        parser.feed(b"z" * 100)


def test_tooManyHeaders() -> None:
    data = b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 11 + b"\r\n"
    with pytest.raises(ResponseParseError, match="more than 10 fields"):
        parseWhole(data, maxHeaderCount=10)
    assert summary(parseWhole(data + b"", eof=True, maxHeaderCount=11))


def test_headerSectionTooLarge() -> None:
    data = b"HTTP/1.1 200 OK\r\nX: " + b"a" * 50 + b"\r\n" * 1 + b"Y: " + b"b" * 50 + b"\r\n\r\n"
    with pytest.raises(ResponseParseError, match="section longer than 80"):
        parseWhole(data, maxHeaderBytes=80)


def test_tooManyTrailers() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + b"T: 1\r\n" * 5 + b"\r\n"
    )
    with pytest.raises(ResponseParseError, match="more than 4 fields in the trailers"):
        parseWhole(data, maxHeaderCount=4)


def test_longChunkLine() -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" + b"e" * 100
    with pytest.raises(ResponseParseError, match="chunk size line longer than 50"):
        parseWhole(data, maxChunkLineLength=50)


def test_hugeContentLengthNeedsNoMemory() -> None:
    """A body's declared size is not allocated: bytes are passed on as they come."""
    parser = ResponseParser(b"GET")
    events = parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\nabc")
    assert events[-1] == BodyData(b"abc")
    assert len(parser._buffer) == 0


# -- truncation ----------------------------------------------------------------------

TRUNCATED = [
    (b"", "before any response"),
    (b"HTTP/1.1 200", "status line"),
    (b"HTTP/1.1 200 OK\r\nContent-Len", "headers"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "chunk data"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n", "trailers"),
]


@pytest.mark.parametrize(("data", "match"), TRUNCATED)
def test_truncated(data: bytes, match: str) -> None:
    parser = ResponseParser(b"GET")
    parser.feed(data)
    with pytest.raises(ResponseParseError, match=match):
        parser.feedEOF()


# -- any split, any input ----------------------------------------------------------

VALID = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
    (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 201 Created\r\nConnection: keep-alive\r\n"
        b"Content-Length: 3\r\n\r\nabc"
    ),
    (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n"
        b"0123456789abcdef"
        b"\r\n0\r\nT: v\r\n\r\n"
    ),
]


@given(st.sampled_from(VALID), st.lists(st.integers(min_value=0, max_value=200), max_size=8))
@settings(max_examples=200, deadline=None)
def test_anySplitGivesSameResult(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    parser = ResponseParser(b"GET")
    events: list[object] = []
    for piece in pieces:
        events += parser.feed(piece)
    expected = [e for e in parseWhole(data) if not isinstance(e, InformationalResponse)]
    got = [e for e in events if not isinstance(e, InformationalResponse)]
    assert summary(got) == summary(expected)


@given(st.binary(max_size=300), st.booleans())
@settings(max_examples=300, deadline=None)
def test_fuzzOnlyParseErrors(data: bytes, withPrefix: bool) -> None:
    """Arbitrary bytes give events or ResponseParseError, nothing else."""
    if withPrefix:
        data = b"HTTP/1.1 200 OK\r\n" + data
    parser = ResponseParser(b"GET", maxLineLength=64, maxHeaderCount=5)
    try:
        for i in range(0, len(data), 7):
            parser.feed(data[i : i + 7])
        parser.feedEOF()
    except ResponseParseError:
        pass


# -- requests --------------------------------------------------------------------------


def test_serializeRequest() -> None:
    head = RequestHead(b"POST", b"/a?b=c", [(b"Host", b"example.com"), (b"X-Y", b"z w")])
    assert serializeRequestHead(head) == (
        b"POST /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Y: z w\r\n\r\n"
    )


@pytest.mark.parametrize(
    "head",
    [
        RequestHead(b"GE T", b"/"),
        RequestHead(b"GET", b"/a b"),
        RequestHead(b"GET", b"/\r\nX: y"),
        RequestHead(b"GET", b""),
        RequestHead(b"GET", b"/", [(b"Bad Name", b"x")]),
        RequestHead(b"GET", b"/", [(b"X", b"a\r\nInjected: 1")]),
        RequestHead(b"GET", b"/", [(b"X", b"nul\x00")]),
    ],
)
def test_serializeRefusesInjection(head: RequestHead) -> None:
    with pytest.raises(LocalProtocolError):
        serializeRequestHead(head)


def test_chunkFraming() -> None:
    assert chunk(b"hello") == b"5\r\nhello\r\n"
    assert chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert chunk(b"") == b""
    assert lastChunk() == b"0\r\n\r\n"
    assert lastChunk([(b"T", b"v")]) == b"0\r\nT: v\r\n\r\n"
    with pytest.raises(LocalProtocolError):
        lastChunk([(b"T", b"a\nb")])


def test_roundTripChunkedThroughParser() -> None:
    body = chunk(b"abc") + chunk(b"defg") + lastChunk([(b"X", b"1")])
    events = parseBytewise(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
    _head, data, end = summary(events)
    assert data == b"abcdefg"
    assert end.trailers == ((b"X", b"1"),)


def test_longLineBytewiseIsLinear() -> None:
    """A 16 KiB header fed a byte at a time is not searched again from its start each time."""
    parser = ResponseParser(b"GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nX: ")
    for _ in range(16000):
        parser.feed(b"a")
    assert parser._scanned > 15000
    events = parser.feed(b"\r\nContent-Length: 0\r\n\r\n")
    assert summary(events)[0].headers[0] == (b"X", b"a" * 16000)
