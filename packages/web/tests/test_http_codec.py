"""The sans-IO HTTP/1.1 request parser: framing, limits, smuggling defences, split input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.web._http_codec import (
    NEED_DATA,
    PAUSED,
    BodyData,
    EndOfRequest,
    ParseError,
    RequestHead,
    RequestParser,
)


def events(data: bytes, *, split: int | None = None, **limits: Any) -> list[Any]:
    """Feed ``data`` (whole, or in ``split``-byte pieces) and collect every event."""
    parser = RequestParser(**limits)
    out: list[Any] = []
    pieces = [data] if split is None else [data[i : i + split] for i in range(0, len(data), split)]
    for piece in pieces:
        parser.feed(piece)
        while True:
            event = parser.nextEvent()
            if event is NEED_DATA:
                break
            if event is PAUSED:
                parser.startNextRequest()
                if not parser.buffered:
                    break
                continue
            out.append(event)
            if isinstance(event, ParseError):
                return out
    return out


def merged(evs: list[Any]) -> list[Any]:
    """Join consecutive BodyData events, so whole and split feeds compare equal."""
    out: list[Any] = []
    for e in evs:
        if isinstance(e, BodyData) and out and isinstance(out[-1], BodyData):
            out[-1] = BodyData(out[-1].data + e.data)
        else:
            out.append(e)
    return out


SIMPLE = b"GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  value with  spaces \t\r\n\r\n"


def test_simpleGet() -> None:
    [head] = events(SIMPLE)
    assert head == RequestHead(
        b"GET",
        b"/a/b?x=1",
        b"HTTP/1.1",
        {b"host": [b"example.com"], b"x-thing": [b"value with  spaces"]},
        True,
        False,
        0,
    )


def test_repeatedHeadersKeepOrder() -> None:
    [head] = events(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\na: 2\r\nA: 3\r\n\r\n")
    assert head.fields[b"a"] == [b"1", b"2", b"3"]


def test_contentLengthBody() -> None:
    evs = events(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
    assert evs[0].bodyLength == 5
    assert evs[1:] == [BodyData(b"hello"), EndOfRequest({})]


def test_chunkedBodyWithExtensionsAndTrailers() -> None:
    data = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nChecksum: abc\r\n\r\n"
    )
    evs = merged(events(data))
    assert evs[0].bodyLength is None
    assert evs[1:] == [BodyData(b"hello world"), EndOfRequest({b"checksum": [b"abc"]})]


@pytest.mark.parametrize(
    "data",
    [
        SIMPLE,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",  # noqa: E501
        SIMPLE + b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"\r\n" + SIMPLE,
    ],
)
def test_byteAtATime(data: bytes) -> None:
    """Splitting the input anywhere gives the same events."""
    whole = merged(events(data))
    for size in (1, 2, 3, 7):
        assert merged(events(data, split=size)) == whole


def test_pipelinedRequestsParsedOneAtATime() -> None:
    parser = RequestParser()
    parser.feed(SIMPLE + b"GET /second HTTP/1.1\r\nHost: h\r\n\r\n")
    first = parser.nextEvent()
    assert isinstance(first, RequestHead)
    assert first.target == b"/a/b?x=1"
    assert parser.nextEvent() is PAUSED
    assert parser.nextEvent() is PAUSED
    parser.startNextRequest()
    second = parser.nextEvent()
    assert isinstance(second, RequestHead)
    assert second.target == b"/second"


@pytest.mark.parametrize(
    ("version", "headers", "keepAlive"),
    [
        (b"1.1", b"", True),
        (b"1.1", b"Connection: close\r\n", False),
        (b"1.1", b"Connection: Upgrade, CLOSE\r\n", False),
        (b"1.0", b"", False),
        (b"1.0", b"Connection: keep-alive\r\n", True),
    ],
)
def test_keepAlive(version: bytes, headers: bytes, keepAlive: bool) -> None:
    [head] = events(b"GET / HTTP/" + version + b"\r\nHost: h\r\n" + headers + b"\r\n")
    assert head.keepAlive is keepAlive


def test_http10WithoutHost() -> None:
    [head] = events(b"GET / HTTP/1.0\r\n\r\n")
    assert head.version == b"HTTP/1.0"


def test_expectContinue() -> None:
    [head, *_] = events(
        b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"
    )
    assert head.expectContinue


def test_absoluteForm() -> None:
    [head] = events(b"GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert head.target == b"http://example.com/x?y"


def _error(data: bytes, **limits: Any) -> ParseError:
    evs = events(data, **limits)
    assert evs, "no events"
    error = evs[-1]
    assert isinstance(error, ParseError), evs
    # Split input must give the same verdict.
    splitEvs = events(data, split=1, **limits)
    assert isinstance(splitEvs[-1], ParseError)
    assert splitEvs[-1].status == error.status
    return error


@pytest.mark.parametrize(
    ("data", "status"),
    [
        # request smuggling: CL and TE together, conflicting CLs, odd TEs
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",  # noqa: E501
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \x0bchunked\r\n\r\n", 400),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
        # obs-fold, bare CR/LF, NUL, whitespace in names
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Name: h\r\n\r\n", 400),
        # request line
        (b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        # Host rules (RFC 9112 section 3.2)
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        # Expect
        (b"GET / HTTP/1.1\r\nHost: h\r\nExpect: something\r\n\r\n", 417),
        # chunk framing
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",  # noqa: E501
            400,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : y\r\n\r\n",
            400,
        ),
    ],
)
def test_malformedRequests(data: bytes, status: int) -> None:
    assert _error(data).status == status


def test_limits() -> None:
    longLine = b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: h\r\n\r\n"
    assert _error(longLine, maxRequestLine=100).status == 414
    # No CRLF at all yet: still bounded.
    assert _error(b"GET /" + b"a" * 200, maxRequestLine=100).status == 414
    bigHeaders = b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 300 + b"\r\n\r\n"
    assert _error(bigHeaders, maxHeaderSize=100).status == 431
    assert (
        _error(b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 300, maxHeaderSize=100).status == 431
    )
    many = b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: y\r\n" * 20 + b"\r\n"
    assert _error(many, maxHeaders=10).status == 431
    body = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n"
    assert _error(body, maxBodySize=100).status == 413
    chunked = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"40\r\n" + b"x" * 64 + b"\r\n" + b"40\r\n"
    )
    assert _error(chunked, maxBodySize=100).status == 413
    trailers = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + b"x" * 300
    )
    assert _error(trailers, maxHeaderSize=100).status == 431


def test_limitsAreInclusive() -> None:
    """
    A request line of exactly ``maxRequestLine`` bytes and a header section of
    exactly ``maxHeaderSize`` bytes are accepted; one byte more is refused, in
    one piece or byte by byte.
    """
    line = b"GET /" + b"a" * 86 + b" HTTP/1.1"
    assert len(line) == 100
    block = b"Host: h\r\nX: " + b"v" * 86 + b"\r\n"
    assert len(block) == 100
    for split in (None, 1):
        [head] = events(
            line + b"\r\n" + block + b"\r\n", split=split, maxRequestLine=100, maxHeaderSize=100
        )
        assert isinstance(head, RequestHead)
        assert head.fields[b"x"] == [b"v" * 86]
    longer = b"GET /a" + line[5:] + b"\r\n" + block + b"\r\n"
    assert _error(longer, maxRequestLine=100, maxHeaderSize=100).status == 414
    bigger = line + b"\r\n" + block[:-2] + b"v\r\n\r\n"
    assert _error(bigger, maxRequestLine=100, maxHeaderSize=100).status == 431


def test_errorIsTerminal() -> None:
    parser = RequestParser()
    parser.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert isinstance(parser.nextEvent(), ParseError)
    parser.feed(SIMPLE)
    assert parser.nextEvent() is NEED_DATA


def test_truncatedInputWaits() -> None:
    for data in (
        b"GET / HTTP/1.1\r\nHost: h\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ):
        evs = events(data)
        assert not any(isinstance(e, (ParseError, EndOfRequest)) for e in evs)


def test_leadingEmptyLinesBounded() -> None:
    assert _error(b"\r\n" * 50 + SIMPLE).status == 400


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_fuzzNeverCrashes(data: bytes, split: int) -> None:
    """Arbitrary bytes give events or one ParseError, never an exception."""
    evs = events(data, split=split, maxRequestLine=100, maxHeaderSize=200, maxBodySize=100)
    assert all(isinstance(e, (RequestHead, BodyData, EndOfRequest, ParseError)) for e in evs)


_tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(_tokens, st.text(alphabet="abc xyz:/=", max_size=20)), max_size=10),
    st.binary(max_size=200),
    st.booleans(),
    st.integers(min_value=1, max_value=30),
)
def test_structuredRoundTrip(
    fields: list[tuple[str, str]], body: bytes, chunked: bool, split: int
) -> None:
    """A well-formed request parses to its parts, however it is split."""
    fields = [
        (n, v)
        for n, v in fields
        if n.lower() not in ("host", "content-length", "transfer-encoding", "expect", "connection")
    ]
    head = b"POST /p HTTP/1.1\r\nHost: h\r\n" + b"".join(
        f"{n}: {v}\r\n".encode() for n, v in fields
    )
    if chunked:
        data = head + b"Transfer-Encoding: chunked\r\n\r\n"
        for i in range(0, len(body), 17):
            piece = body[i : i + 17]
            data += b"%x\r\n%s\r\n" % (len(piece), piece)
        data += b"0\r\n\r\n"
    else:
        data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    evs = events(data, split=split)
    assert isinstance(evs[0], RequestHead)
    for name, value in fields:
        assert value.strip().encode() in evs[0].fields[name.lower().encode()]
    got = b"".join(e.data for e in evs if isinstance(e, BodyData))
    assert got == body
    if body or chunked:
        assert isinstance(evs[-1], EndOfRequest)
