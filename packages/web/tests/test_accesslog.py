"""The access log: combined log format, buffered and flushed on the reactor clock."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fw.internet.address import IPv4Address
from fw.internet.error import ConnectionDone
from fw.internet.task import Clock
from fw.internet.testing import StringTransport
from fw.python.failure import Failure
from fw.web import http
from fw.web.resource import Resource
from fw.web.server import Site

COMBINED = re.compile(
    r'^(\S+) - (\S+) \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] "([^"]*)" (\d{3}) (\d+|-) "(.*)" "(.*)"$'  # noqa: E501
)


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"Hello"


def serve(site: Site, data: bytes) -> None:
    channel = site.buildProtocol(None)
    channel.makeConnection(StringTransport(peerAddress=IPv4Address("TCP", "192.0.2.7", 5555)))
    channel.dataReceived(data)
    channel.connectionLost(Failure(ConnectionDone()))


def test_combinedLogFormatBufferedAndFlushed(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    clock = Clock()
    clock.advance(1_700_000_000)
    site = Site(Hello(), logPath=str(path), reactor=clock)
    site.startFactory()
    serve(
        site,
        b'GET /a?b=c HTTP/1.1\r\nHost: h\r\nReferer: http://ref/\r\nUser-Agent: agent "quoted"\r\n'
        b"Authorization: Basic dXNlcjpwdw==\r\n\r\n",
    )
    serve(site, b"GET /missing\x7f HTTP/1.0\r\n\r\n")
    assert path.read_text() == "", "lines are buffered off the request path"
    clock.advance(1.5)
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    m = COMBINED.match(lines[0])
    assert m is not None, lines[0]
    assert m.groups() == (
        "192.0.2.7",
        "user",
        "14/Nov/2023:22:13:20 +0000",
        "GET /a?b=c HTTP/1.1",
        "200",
        "5",
        "http://ref/",
        'agent \\"quoted\\"',
    )
    site.stopFactory()


def test_closeFlushes(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    site = Site(Hello(), logPath=str(path), reactor=Clock())
    site.startFactory()
    serve(site, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    site.stopFactory()
    assert path.read_text().count("\n") == 1


def test_customFormatterAndProxied(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    site = Site(Hello(), logPath=str(path), reactor=Clock(), logFormatter=http.proxiedLogFormatter)
    site.startFactory()
    serve(site, b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.1, 198.51.100.2\r\n\r\n")
    site.stopFactory()
    assert path.read_text().startswith("198.51.100.2 - - [")
    path2 = tmp_path / "custom.log"
    site = Site(
        Hello(),
        logPath=str(path2),
        reactor=Clock(),
        logFormatter=lambda ts, r: f"{r.code} {r.uri.decode()}",
    )
    site.startFactory()
    serve(site, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    site.stopFactory()
    assert path2.read_text() == "200 /x\n"


def test_offByDefault() -> None:
    site = Site(Hello(), reactor=Clock())
    site.startFactory()
    assert site._accessLog is None
    serve(site, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
