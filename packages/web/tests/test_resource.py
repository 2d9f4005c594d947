"""fw.web.resource and fw.web.util with DummyRequest (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.internet.defer import Deferred, succeed
from fw.web import util
from fw.web.error import UnsupportedMethod
from fw.web.iweb import IRequest
from fw.web.resource import (
    EncodingResourceWrapper,
    ErrorPage,
    ForbiddenResource,
    IResource,
    NoResource,
    Resource,
    getChildForRequest,
)
from fw.web.server import NOT_DONE_YET, GzipEncoderFactory, Request
from fw.web.test.requesthelper import DummyChannel, DummyRequest, render


class Page(Resource):
    def render_GET(self, request: Any) -> bytes:
        return b"page"

    def render_POST(self, request: Any) -> bytes:
        return b"posted"


def test_interfaces() -> None:
    assert verifyObject(IResource, Resource())
    assert IRequest.implementedBy(Request)
    assert verifyObject(IRequest, Request(DummyChannel()))


def test_putChildAndTraversal() -> None:
    root = Resource()
    a = Resource()
    leaf = Page()
    leaf.isLeaf = True
    root.putChild(b"a", a)
    a.putChild(b"b", leaf)
    request = DummyRequest([b"a", b"b", b"c", b"d"])
    assert getChildForRequest(root, request) is leaf
    assert request.prepath == [b"a", b"b"]
    assert request.postpath == [b"c", b"d"]
    assert root.getChildWithDefault(b"missing", DummyRequest([])).__class__ is NoResource
    assert root.listNames() == [b"a"]
    with pytest.raises(TypeError):
        root.putChild("str", a)  # type: ignore[arg-type]


def test_dynamicChild() -> None:
    class Dynamic(Resource):
        def getChild(self, path: bytes, request: Any) -> Any:
            page = Page()
            page.isLeaf = True
            page.name = path  # type: ignore[attr-defined]
            return page

    request = DummyRequest([b"x"])
    child = getChildForRequest(Dynamic(), request)
    assert child.name == b"x"  # type: ignore[attr-defined]


def test_renderDispatch() -> None:
    page = Page()
    for method, body in ((b"GET", b"page"), (b"POST", b"posted"), (b"HEAD", b"page")):
        request = DummyRequest([])
        request.method = method
        assert page.render(request) == body
    request = DummyRequest([])
    request.method = b"DELETE"
    with pytest.raises(UnsupportedMethod) as info:
        page.render(request)
    assert info.value.allowedMethods == [b"GET", b"HEAD", b"POST"]


def test_allowedMethodsOverride() -> None:
    class Limited(Page):
        allowedMethods = (b"GET",)

    request = DummyRequest([])
    request.method = b"PUT"
    with pytest.raises(UnsupportedMethod) as info:
        Limited().render(request)
    assert info.value.allowedMethods == [b"GET"]


def test_errorPages() -> None:
    for resource, code in (
        (NoResource(), 404),
        (ForbiddenResource(), 403),
        (ErrorPage(418, "Tea <b>", "Short & stout"), 418),
    ):
        request = DummyRequest([])
        body = resource.render(request)
        assert request.responseCode == code
        assert b"<b>" not in body
    page = ErrorPage(410, "Gone", "gone")
    assert page.getChildWithDefault(b"anything", DummyRequest([])) is page


def test_dummyRequestRenderHelpers() -> None:
    class Later(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            request.write(b"a")
            request.finish()
            return NOT_DONE_YET

    request = DummyRequest([])
    d = render(Later(), request)
    assert d.called
    assert request.written == [b"a"]
    assert request.finished == 1

    class Async(Resource):
        isLeaf = True

        async def render_GET(self, request: Any) -> bytes:
            return b"async"

    request = DummyRequest([])
    render(Async(), request)
    assert request.written == [b"async"]
    assert request.finished


def test_redirectTo() -> None:
    request = DummyRequest([])
    body = util.redirectTo(b"/target?a=<b>", request)
    assert request.responseCode == 302
    assert request.responseHeaders.getRawHeaders(b"location") == [b"/target?a=<b>"]
    assert b"<b>" not in body
    with pytest.raises(TypeError):
        util.redirectTo("/str", request)  # type: ignore[arg-type]
    request = DummyRequest([])
    util.Redirect(b"/x").render(request)
    assert request.responseCode == 302


def test_deferredResource() -> None:
    page = Page()
    page.isLeaf = True
    request = DummyRequest([])
    rendered: list[Any] = []
    request.render = rendered.append  # type: ignore[method-assign]
    d: Deferred[Any] = succeed(page)
    assert util.DeferredResource(d).render(request) == NOT_DONE_YET
    assert rendered == [page]


def test_encodingWrapperSkipsClientsWithoutGzip() -> None:
    request = DummyRequest([])
    wrapper = EncodingResourceWrapper(Page(), [GzipEncoderFactory()])
    assert wrapper.render(request) == b"page"
    assert not request.responseHeaders.hasHeader(b"content-encoding")
