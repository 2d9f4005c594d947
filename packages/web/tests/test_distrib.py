"""
fw.web.distrib: a front server forwarding to a ResourcePublisher over PB
(TCP and UNIX sockets), and UserDirectory.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fw.logger import capturedLogs
from fw.spread import pb
from fw.web import distrib, resource, server, static
from fw.web.test._threadedsite import ServerThread

BIG = bytes(range(256)) * 8192  # 2 MiB: many PB calls


class Echo(resource.Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"x-echo", b"yes")
        request.addCookie(b"c", b"1")
        return b"|".join(
            [
                request.uri,
                b"/".join(request.postpath),
                request.getRequestHostname(),
                request.getClientAddress().host.encode(),
                request.getHeader(b"x-custom") or b"-",
            ]
        )

    def render_POST(self, request: Any) -> bytes:
        body: bytes = request.content.read()
        return b"posted:" + body


class Later(resource.Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> int:
        def answer() -> None:
            request.setResponseCode(202)
            request.write(b"la")
            request.write(b"ter")
            request.finish()

        self.reactor.callLater(0.01, answer)
        return server.NOT_DONE_YET


class Broken(resource.Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        raise ValueError("publisher bug")


def publishedSite(tmp: Path, reactor: Any) -> server.Site:
    (tmp / "files").mkdir(exist_ok=True)
    (tmp / "files" / "big.bin").write_bytes(BIG)
    root = resource.Resource()
    root.putChild(b"echo", Echo())
    later = Later()
    later.reactor = reactor  # type: ignore[attr-defined]
    root.putChild(b"later", later)
    root.putChild(b"broken", Broken())
    root.putChild(b"files", static.File(str(tmp / "files")))
    return server.Site(root)


def makeFront(tmp: Path, unix: bool) -> Callable[[Any], Any]:
    def make(reactor: Any) -> Any:
        factory = pb.PBServerFactory(distrib.ResourcePublisher(publishedSite(tmp, reactor)))
        if unix:
            path = str(tmp / "pb.sock")
            reactor.listenUNIX(path, factory)
            sub = distrib.ResourceSubscription("unix", path, reactor)
        else:
            port = reactor.listenTCP(0, factory, interface="127.0.0.1")
            sub = distrib.ResourceSubscription("127.0.0.1", port.getHost().port, reactor)
        root = resource.Resource()
        root.putChild(b"remote", sub)
        root.putChild(
            b"down", distrib.ResourceSubscription("unix", str(tmp / "nobody.sock"), reactor)
        )
        return root

    return make


@pytest.mark.parametrize("unix", [False, True])
def test_forwarding(tmp_path: Path, unix: bool) -> None:
    with ServerThread(makeFront(tmp_path, unix)) as s:
        status, headers, body = s.get("/remote/echo/a/b?q=1", {"X-Custom": "hi"})
        assert status == 200
        assert body == b"/remote/echo/a/b?q=1|a/b|127.0.0.1|127.0.0.1|hi"
        assert headers["X-Echo"] == "yes"
        assert headers["Set-Cookie"].startswith("c=1")
        # The connection is reused by later requests.
        assert s.get("/remote/later")[:3:2] == (202, b"later")
        conn = http.client.HTTPConnection("127.0.0.1", s.portNumber, timeout=10)
        conn.request("POST", "/remote/echo", body=b"data" * 1000)
        assert conn.getresponse().read() == b"posted:" + b"data" * 1000
        conn.close()


def test_staticFileThroughPublisher(tmp_path: Path) -> None:
    with ServerThread(makeFront(tmp_path, False)) as s:
        status, _, body = s.get("/remote/files/big.bin")
        assert status == 200
        assert body == BIG
        status, _, body = s.get("/remote/files/big.bin", {"Range": "bytes=10-19"})
        assert (status, body) == (206, BIG[10:20])
        assert s.get("/remote/files/missing")[0] == 404


def test_publisherErrors(tmp_path: Path) -> None:
    with ServerThread(makeFront(tmp_path, False)) as s, capturedLogs():
        assert s.get("/remote/broken")[0] == 500
        assert s.get("/remote/nothing")[0] == 404
        assert s.get("/down/x")[0] == 502


def test_userDirectory(tmp_path: Path) -> None:
    alice = tmp_path / "alice"
    (alice / "public_html").mkdir(parents=True)
    (alice / "public_html" / "index.html").write_bytes(b"alice's page")
    bob = tmp_path / "bob"
    bob.mkdir()

    def entry(name: str, home: Path) -> SimpleNamespace:
        return SimpleNamespace(pw_name=name, pw_dir=str(home))

    users = {"alice": entry("alice", alice), "bob": entry("bob", bob)}

    class Database:
        def getpwnam(self, name: str) -> Any:
            return users[name]

        def getpwall(self) -> list[Any]:
            return list(users.values())

    def make(reactor: Any) -> Any:
        # Bob publishes his own site on ~bob/.fwd-web-pb.
        site = publishedSite(tmp_path, reactor)
        reactor.listenUNIX(
            str(bob / ".fwd-web-pb"), pb.PBServerFactory(distrib.ResourcePublisher(site))
        )
        return distrib.UserDirectory(Database(), reactor)

    with ServerThread(make) as s:
        listing = s.get("/")[2]
        assert b'href="alice/"' in listing
        assert b'href="bob.fwd/"' in listing
        assert s.get("/alice/")[2] == b"alice's page"
        assert s.get("/bob.fwd/echo")[2].startswith(b"/bob.fwd/echo|")
        assert s.get("/bob/")[0] == 404
        assert s.get("/carol/")[0] == 404


def test_realPasswordDatabase() -> None:
    # The default database is the system's: root exists everywhere.
    directory = distrib.UserDirectory()
    child = directory.getChild(b"no-such-user-fw", None)
    assert isinstance(child, resource.NoResource)
