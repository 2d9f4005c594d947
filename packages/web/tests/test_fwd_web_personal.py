"""
``fwd web --user`` (``-u``: users' ``public_html`` and published servers)
and ``fwd web --personal`` (publishing a site over PB), with a fake user
database.
"""

from __future__ import annotations

import http.client
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fw.internet.epollreactor import EPollReactor
from fw.python import usage
from fw.spread.pb import PBServerFactory
from fw.web import distrib, server, tap

pytestmark = pytest.mark.timeout(30)


class FakeUsers:
    """A ``pwd``-like database of users whose homes live under a temporary directory."""

    def __init__(self, home: Path, names: list[str]) -> None:
        self.entries = {
            name: SimpleNamespace(pw_name=name, pw_dir=str(home / name)) for name in names
        }

    def getpwnam(self, name: str) -> Any:
        return self.entries[name]

    def getpwall(self) -> list[Any]:
        return list(self.entries.values())


@pytest.fixture
def homes() -> Iterator[Path]:
    """
    A short directory for the users' homes: a UNIX socket's path must fit in
    107 bytes, which pytest's ``tmp_path`` under a deep checkout may not.
    """
    with tempfile.TemporaryDirectory(prefix="fw-homes-") as path:
        yield Path(path)


@pytest.fixture
def users(homes: Path, monkeypatch: pytest.MonkeyPatch) -> FakeUsers:
    fake = FakeUsers(homes, ["alice", "bob"])
    (homes / "alice" / "public_html").mkdir(parents=True)
    (homes / "alice" / "public_html" / "index.html").write_bytes(b"alice's page")
    (homes / "bob").mkdir()
    monkeypatch.setattr(distrib, "pwd", fake)
    return fake


def children(service: Any) -> list[Any]:
    return list(service)


def parse(*args: str) -> tap.Options:
    options = tap.Options()
    options.parseOptions(list(args))
    return options


class Running:
    """Listen with ``factories`` (``(kind, address, factory)``) on a reactor in a thread."""

    def __init__(self, reactor: EPollReactor, listeners: list[tuple[str, Any, Any]]) -> None:
        self.reactor = reactor
        self.listeners = listeners
        self.ports: list[Any] = []

    def __enter__(self) -> Running:
        ready = threading.Event()

        def setup() -> None:
            for kind, address, factory in self.listeners:
                if kind == "unix":
                    self.ports.append(self.reactor.listenUNIX(address, factory))
                else:
                    self.ports.append(self.reactor.listenTCP(0, factory, interface="127.0.0.1"))
            ready.set()

        self.reactor.callWhenRunning(setup)
        self.thread = threading.Thread(
            target=self.reactor.run, kwargs={"installSignalHandlers": False}
        )
        self.thread.start()
        assert ready.wait(10), "servers did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            for port in self.ports:
                port.stopListening()
            self.reactor.stop()

        self.reactor.callFromThread(stop)
        self.thread.join(10)
        assert not self.thread.is_alive()

    def get(self, path: str) -> tuple[int, bytes]:
        port = self.ports[-1].getHost().port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def test_userOption(users: FakeUsers) -> None:
    for flag in ("-u", "--user"):
        options = parse(flag)
        assert isinstance(options["root"], distrib.UserDirectory)
        assert options["kind"] == "user"
        assert options["listen"] == ["tcp:8080"]
        assert options["personal"] == 0
    with pytest.raises(usage.UsageError):
        parse("--user", "--class", "fw.web.resource.Resource")


def test_userDirectoriesServed(users: FakeUsers) -> None:
    service = tap.makeService(parse("--user", "--listen", "tcp:0:interface=127.0.0.1"))
    [child] = children(service)
    site = child.factory
    assert isinstance(site, server.Site)
    with Running(EPollReactor(), [("tcp", None, site)]) as running:
        assert running.get("/alice/index.html") == (200, b"alice's page")
        assert running.get("/bob/")[0] == 404
        assert running.get("/carol/")[0] == 404
        status, listing = running.get("/")
        assert status == 200
        assert b'<a href="alice/">alice</a>' in listing
        assert b"bob" not in listing


def test_personalDefaultsToHomeSocket(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    options = parse("--personal")
    assert options["listen"] == ["unix:" + str(tmp_path / ".fwd-web-pb")]
    service = tap.makeService(options)
    [child] = children(service)
    assert isinstance(child.factory, PBServerFactory)
    assert isinstance(child.factory.root, distrib.ResourcePublisher)
    assert isinstance(child.factory.root.site, server.Site)
    explicit = parse("--personal", "--listen", "tcp:0:interface=127.0.0.1")
    assert explicit["listen"] == ["tcp:0:interface=127.0.0.1"]


def test_personalServerReachedThroughUserDirectory(
    users: FakeUsers, homes: Path, tmp_path: Path
) -> None:
    """
    Bob publishes a site with ``--personal`` on ``~bob/.fwd-web-pb``; a
    ``--user`` front server on loopback answers ``/bob.fwd/`` from it, for
    the stdlib HTTP client.
    """
    site = tmp_path / "bobsite"
    site.mkdir()
    (site / "hello.txt").write_bytes(b"hello from bob")
    socketPath = homes / "bob" / ".fwd-web-pb"
    personal = tap.makeService(
        parse("--personal", "--listen", f"unix:{socketPath}", "--path", str(site))
    )
    front = tap.makeService(parse("--user", "--listen", "tcp:0:interface=127.0.0.1"))
    [publisher] = children(personal)
    [web] = children(front)
    reactor = EPollReactor()
    web.factory.resource.reactor = reactor
    listeners = [("unix", str(socketPath), publisher.factory), ("tcp", None, web.factory)]
    with Running(reactor, listeners) as running:
        assert running.get("/bob.fwd/hello.txt") == (200, b"hello from bob")
        status, listing = running.get("/")
        assert status == 200
        assert b'<a href="bob.fwd/">bob</a> (server)' in listing
