"""fw.web.util: redirects and DeferredResource."""

from __future__ import annotations

from typing import Any

import pytest

from fw.internet.defer import Deferred, fail, succeed
from fw.logger import capturedLogs
from fw.web import resource, static, util
from fw.web.test._threadedsite import ServerThread


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
