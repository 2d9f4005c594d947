"""The sans-IO parts of fw.web.twcgi: the script header parser and the environment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.web._cgi_headers import CGIHeaderError, CGIHeaderParser, buildEnvironment

SAMPLE = (
    b"Content-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
    b"Status: 201 Made\r\n\r\nbody"
)


def feedAll(data: bytes, step: int | None = None) -> tuple[CGIHeaderParser, bytes]:
    parser = CGIHeaderParser()
    body = b""
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        result = parser.feed(piece)
        if result is not None:
            body += result
    return parser, body


@pytest.mark.parametrize("step", [None, 1, 3])
def test_parseWholeAndByteAtATime(step: int | None) -> None:
    parser, body = feedAll(SAMPLE, step)
    assert parser.head is not None
    assert parser.head.code == 201
    assert parser.head.message == b"Made"
    assert parser.head.headers == (
        (b"Content-Type", b"text/plain"),
        (b"Set-Cookie", b"a=1"),
        (b"Set-Cookie", b"b=2"),
    )
    assert body == b"body"


def test_bareLinefeeds() -> None:
    parser, body = feedAll(b"Content-Type: text/html\n\n<p>\n")
    assert parser.head is not None
    assert parser.head.code == 200
    assert body == b"<p>\n"


def test_locationWithoutStatusRedirects() -> None:
    parser, _ = feedAll(b"Location: http://example.com/\n\n")
    assert parser.head is not None
    assert parser.head.code == 302


def test_incompleteReturnsNone() -> None:
    parser = CGIHeaderParser()
    assert parser.feed(b"Content-Type: text/plain\r\n") is None
    assert parser.head is None


@pytest.mark.parametrize(
    "data",
    [
        b"no colon here\n\n",
        b": empty name\n\n",
        b"Bad Name: x\n\n",
        b"X: 1\n folded\n\n",
        b"Status: abc\n\n",
        b"Status: 99 Low\n\n",
        b"Status: 600 High\n\n",
        b"X: a\x00b\n\n",
    ],
)
def test_malformed(data: bytes) -> None:
    with pytest.raises(CGIHeaderError):
        feedAll(data)


def test_oversizedWithoutNewline() -> None:
    parser = CGIHeaderParser(maxSize=1000)
    for _ in range(10):
        assert parser.feed(b"x" * 100) is None
    with pytest.raises(CGIHeaderError, match="longer"):
        parser.feed(b"x")


def test_oversizedManyLines() -> None:
    parser = CGIHeaderParser(maxSize=1000, maxCount=10_000)
    with pytest.raises(CGIHeaderError, match="longer"):
        parser.feed(b"X-A: b\n" * 200)


def test_tooManyHeaders() -> None:
    parser = CGIHeaderParser(maxCount=5)
    with pytest.raises(CGIHeaderError, match="more than 5"):
        parser.feed(b"X-A: b\n" * 6)


@given(st.binary(max_size=300))
def test_fuzzOnlyCGIHeaderError(data: bytes) -> None:
    parser = CGIHeaderParser(maxSize=200, maxCount=5)
    try:
        parser.feed(data)
    except CGIHeaderError:
        pass


def env(**overrides: object) -> dict[str, str]:
    args: dict[str, object] = {
        "method": b"POST",
        "uri": b"/cgi/script.py/extra/path?x=1&y=%20",
        "scriptName": b"/cgi/script.py",
        "scriptFilename": "/srv/cgi/script.py",
        "postpath": [b"extra", b"path"],
        "headers": [
            (b"Content-Type", [b"text/plain"]),
            (b"Content-Length", [b"5"]),
            (b"X-Multi", [b"a", b"b"]),
            (b"Proxy", [b"http://evil:1/"]),
            (b"X_Forwarded_For", [b"spoof"]),
            (b"Authorization", [b"Basic c2VjcmV0"]),
            (b"User-Agent", [b"curl"]),
        ],
        "serverName": b"example.com",
        "serverPort": 8080,
        "serverProtocol": b"HTTP/1.1",
        "remoteAddr": "127.0.0.1",
        "remotePort": 5555,
    }
    args.update(overrides)
    return buildEnvironment(**args)  # type: ignore[arg-type]


def test_metaVariables() -> None:
    e = env()
    assert e["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert e["REQUEST_METHOD"] == "POST"
    assert e["SCRIPT_NAME"] == "/cgi/script.py"
    assert e["PATH_INFO"] == "/extra/path"
    assert e["QUERY_STRING"] == "x=1&y=%20"
    assert e["SERVER_NAME"] == "example.com"
    assert e["SERVER_PORT"] == "8080"
    assert e["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["REMOTE_PORT"] == "5555"
    assert e["CONTENT_TYPE"] == "text/plain"
    assert e["CONTENT_LENGTH"] == "5"
    assert e["HTTP_X_MULTI"] == "a, b"
    assert e["HTTP_USER_AGENT"] == "curl"
    assert "HTTPS" not in e
    assert "PATH_TRANSLATED" not in e


def test_dangerousHeadersNotPassed() -> None:
    e = env()
    assert "HTTP_PROXY" not in e  # httpoxy
    assert "HTTP_X_FORWARDED_FOR" not in e  # underscore spoofing
    assert "HTTP_AUTHORIZATION" not in e
    assert "HTTP_CONTENT_TYPE" not in e


def test_inheritDropsHTTPVariables() -> None:
    e = env(
        inherit={"PATH": "/bin", "HTTP_PROXY": "x", "SCRIPT_NAME": "bad"},
        https=True,
        remoteUser=b"bob",
    )
    assert e["PATH"] == "/bin"
    assert "HTTP_PROXY" not in e
    assert e["SCRIPT_NAME"] == "/cgi/script.py"
    assert e["HTTPS"] == "on"
    assert e["REMOTE_USER"] == "bob"


def test_noPathInfo() -> None:
    e = env(postpath=[], documentRoot="/srv/www")
    assert "PATH_INFO" not in e
    e = env(documentRoot="/srv/www")
    assert e["PATH_TRANSLATED"] == "/srv/www/extra/path"


def test_nonUTF8RoundTrips() -> None:
    import os

    e = env(uri=b"/s?q=\xff")
    assert os.fsencode(e["QUERY_STRING"]) == b"q=\xff"
