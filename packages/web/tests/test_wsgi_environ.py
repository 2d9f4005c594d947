"""The request-independent parts of fw.web.wsgi."""

from __future__ import annotations

import io
from typing import Any

import pytest

from fw.logger import capturedLogs
from fw.web._wsgi_environ import (
    STREAM_HIGH_WATER,
    STREAM_LOW_WATER,
    ErrorStream,
    InputStream,
    StreamingInput,
    buildEnviron,
    checkStartResponse,
)


def environ(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "method": b"GET",
        "uri": b"/app/a%20b/c?x=1",
        "prepath": [b"app"],
        "postpath": [b"a b", b"c"],
        "headers": [
            (b"Host", [b"example.com"]),
            (b"Content-Type", [b"text/plain"]),
            (b"X-A", [b"1", b"2"]),
        ],
        "serverName": b"example.com",
        "serverPort": 80,
        "serverProtocol": b"HTTP/1.1",
        "remoteAddr": "127.0.0.1",
        "remotePort": 4242,
        "secure": False,
        "input": InputStream(io.BytesIO(b"line1\nline2\n")),
        "errors": ErrorStream(),
    }
    args.update(overrides)
    return buildEnviron(**args)


def test_pep3333Keys() -> None:
    e = environ()
    assert e["SCRIPT_NAME"] == "/app"
    assert e["PATH_INFO"] == "/a b/c"
    assert e["QUERY_STRING"] == "x=1"
    assert e["CONTENT_TYPE"] == "text/plain"
    assert e["HTTP_HOST"] == "example.com"
    assert e["HTTP_X_A"] == "1,2"
    assert e["wsgi.version"] == (1, 0)
    assert e["wsgi.url_scheme"] == "http"
    assert e["wsgi.multithread"] is True
    assert e["REMOTE_PORT"] == "4242"
    for key, value in e.items():
        if key.isupper():
            assert type(value) is str, key


def test_rootMount() -> None:
    e = environ(prepath=[], postpath=[b""], secure=True)
    assert e["SCRIPT_NAME"] == ""
    assert e["PATH_INFO"] == "/"
    assert e["wsgi.url_scheme"] == "https"


def test_nativeStringsAreLatin1() -> None:
    e = environ(postpath=[b"caf\xc3\xa9"])
    assert e["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café"


def test_underscoreHeadersDropped() -> None:
    e = environ(headers=[(b"X_Forwarded_For", [b"spoof"])])
    assert "HTTP_X_FORWARDED_FOR" not in e


def test_inputStream() -> None:
    stream = InputStream(io.BytesIO(b"line1\nline2\nrest"))
    assert stream.readline() == b"line1\n"
    assert stream.read(2) == b"li"
    assert stream.readline(100) == b"ne2\n"
    assert list(stream) == [b"rest"]
    assert stream.read() == b""
    assert InputStream(None).read() == b""
    assert InputStream(io.BytesIO(b"a\nb\n")).readlines() == [b"a\n", b"b\n"]


def test_errorStreamLogs() -> None:
    stream = ErrorStream()
    with capturedLogs() as events:
        stream.write("boom\n")
        stream.writelines(["x", "y"])
        stream.flush()
    assert len(events) == 3
    with pytest.raises(TypeError):
        stream.write(b"bytes")  # type: ignore[arg-type]


def test_checkStartResponse() -> None:
    assert checkStartResponse("200 OK", [("Content-Type", "text/plain")]) == (
        200,
        b"OK",
        [(b"Content-Type", b"text/plain")],
    )
    assert checkStartResponse("404 ", []) == (404, b"", [])


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (b"200 OK", [], TypeError),
        ("200 OK", (("a", "b"),), TypeError),
        ("200 OK", [("a", b"b")], TypeError),
        ("200 OK", [("a", "b", "c")], TypeError),
        ("OK", [], ValueError),
        ("2000 OK", [], ValueError),
        ("200 OK", [("X", "a\r\nInjected: yes")], ValueError),
    ],
)
def test_checkStartResponseRefuses(status: Any, headers: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        checkStartResponse(status, headers)


class FakeProducer:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pauseProducing(self) -> None:
        self.calls.append("pause")

    def resumeProducing(self) -> None:
        self.calls.append("resume")

    def stopProducing(self) -> None:
        self.calls.append("stop")


def streamed(data: bytes, step: int, lost: bool = False) -> tuple[StreamingInput, FakeProducer]:
    from fw.internet.error import ConnectionDone, ConnectionLost
    from fw.python.failure import Failure

    producer = FakeProducer()
    stream = StreamingInput(lambda f, *a: f(*a))
    stream.makeConnection(producer)
    for i in range(0, len(data), step):
        stream.dataReceived(data[i : i + step])
    stream.connectionLost(Failure(ConnectionLost("gone") if lost else ConnectionDone("done")))
    return stream, producer


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_streamingInputReads(step: int) -> None:
    stream, _ = streamed(b"line one\nline two\nrest", step)
    assert stream.readline() == b"line one\n"
    assert stream.read(4) == b"line"
    assert stream.readline(3) == b" tw"
    assert list(stream) == [b"o\n", b"rest"]
    assert stream.read() == b""
    stream, _ = streamed(b"a\nb\n", step)
    assert stream.readlines() == [b"a\n", b"b\n"]


def test_streamingInputFlowControl() -> None:
    big = b"x" * (STREAM_HIGH_WATER + 10)
    stream, producer = streamed(big, 4096)
    assert producer.calls == ["pause"]
    first = stream.read(STREAM_HIGH_WATER - STREAM_LOW_WATER + 10000)
    # Below the low-water mark: reading from the client resumes.
    assert producer.calls == ["pause", "resume"]
    assert len(first) + len(stream.read()) == len(big)
    stream.discard()
    assert stream.read() == b""


def test_streamingInputClientGone() -> None:
    stream, _ = streamed(b"partial", 3, lost=True)
    assert stream.read(3) == b"par"
    assert stream.read() == b"tial"
    with pytest.raises(ConnectionError):
        stream.read()
