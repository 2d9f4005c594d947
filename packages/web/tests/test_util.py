"""fw.web.util: redirects and DeferredResource."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from typing import Any

import pytest

from fw.internet.defer import Deferred, fail, succeed
from fw.internet.epollreactor import EPollReactor
from fw.logger import capturedLogs
from fw.web import resource, server, static, util


class ServerThread:
    """A Site on 127.0.0.1 served by a reactor running in a thread."""

    def __init__(self, makeRoot: Callable[[Any], Any]) -> None:
        self.reactor = EPollReactor()
        self.makeRoot = makeRoot
        self.port: Any = None

    def __enter__(self) -> ServerThread:
        ready = threading.Event()

        def setup() -> None:
            self.site = server.Site(self.makeRoot(self.reactor))
            self.port = self.reactor.listenTCP(0, self.site, interface="127.0.0.1")
            ready.set()

        self.reactor.callWhenRunning(setup)
        self.thread = threading.Thread(
            target=self.reactor.run, kwargs={"installSignalHandlers": False}
        )
        self.thread.start()
        assert ready.wait(10), "server did not start"
        return self

    @property
    def portNumber(self) -> int:
        return int(self.port.getHost().port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.portNumber}{path}"

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self.port.stopListening()
            self.reactor.stop()

        self.reactor.callFromThread(stop)
        self.thread.join(10)
        assert not self.thread.is_alive()
        if self.reactor.threadpool is not None:
            self.reactor.threadpool.stop()

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, Any, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.portNumber, timeout=10)
        try:
            conn.putrequest(
                method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True
            )
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


def test_redirectToEscapes() -> None:
    class Request:
        def __init__(self) -> None:
            self.headers: dict[bytes, bytes] = {}
            self.redirected: bytes | None = None

        def setHeader(self, name: bytes, value: bytes) -> None:
            self.headers[name] = value

        def redirect(self, url: bytes) -> None:
            self.redirected = url

    request = Request()
    body = util.redirectTo(b'/a"><script>', request)
    assert request.redirected == b'/a"><script>'
    assert b"<script>" not in body
    assert b"&quot;&gt;&lt;script&gt;" in body
    assert request.headers[b"content-type"] == b"text/html; charset=utf-8"
    with pytest.raises(TypeError):
        util.redirectTo("/text", request)  # type: ignore[arg-type]


def makeTree(reactor: Any) -> Any:
    root = resource.Resource()
    root.putChild(b"moved", util.Redirect(b"http://example.com/new"))
    root.putChild(b"tree", util.ChildRedirector(b"http://example.com/base"))
    root.putChild(b"ok", util.DeferredResource(succeed(static.Data(b"later", "text/plain"))))
    slow: Deferred[Any] = Deferred()
    reactor.callLater(0.05, slow.callback, static.Data(b"slow", "text/plain"))
    root.putChild(b"slow", util.DeferredResource(slow))
    nested = resource.Resource()
    nested.putChild(b"child", static.Data(b"nested child", "text/plain"))
    root.putChild(b"nested", util.DeferredResource(succeed(nested)))
    root.putChild(b"up", util.ParentRedirect())
    return root


def test_redirects() -> None:
    with ServerThread(makeTree) as s:
        status, headers, body = s.get("/moved/anything")
        assert status == 302
        assert headers["Location"] == "http://example.com/new"
        assert b'<a href="http://example.com/new">' in body
        status, headers, _ = s.get("/tree/a/b")
        assert (status, headers["Location"]) == (302, "http://example.com/base/a/b")
        assert s.get("/up")[1]["Location"] == "/"


def test_childRedirectorNeedsAbsoluteURL() -> None:
    with pytest.raises(ValueError):
        util.ChildRedirector(b"/relative")


def test_deferredResource() -> None:
    with ServerThread(makeTree) as s:
        assert s.get("/ok")[2] == b"later"
        assert s.get("/slow")[2] == b"slow"
        assert s.get("/nested/child")[2] == b"nested child"

    def makeFailing(reactor: Any) -> Any:
        root = resource.Resource()
        root.putChild(b"bad", util.DeferredResource(fail(ValueError("no resource"))))
        return root

    with ServerThread(makeFailing) as s, capturedLogs():
        assert s.get("/bad")[0] == 500
