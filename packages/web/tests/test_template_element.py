"""fw.web.template's tree objects, elements, renderers, renderElement and FailureElement."""

from __future__ import annotations

import html
from typing import Any

import pytest
from zope.interface.verify import verifyObject

import fw.web.template as template
from fw.internet.defer import Deferred
from fw.logger import capturedLogs
from fw.python.failure import Failure
from fw.web.error import (
    FlattenerError,
    MissingRenderMethod,
    MissingTemplateLoader,
    UnexposedMethodError,
)
from fw.web.iweb import IRenderable
from fw.web.template import (
    CDATA,
    VALID_HTML_TAG_NAMES,
    CharRef,
    Comment,
    Element,
    Expose,
    FailureElement,
    Tag,
    TagLoader,
    XMLString,
    flattenString,
    formatFailure,
    renderElement,
    renderer,
    slot,
    tags,
)


def flat(root: Any) -> bytes:
    results: list[Any] = []
    flattenString(None, root).addBoth(results.append)
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


# -- the public surface -------------------------------------------------------------


def test_everyExportIsDocumented() -> None:
    for name in template.__all__:
        obj = getattr(template, name)
        if name != "Flattenable" and callable(obj) and not isinstance(obj, type(tags)):
            assert obj.__doc__, name


# -- Tag --------------------------------------------------------------------------


def test_tagCall() -> None:
    tag = tags.div("a", tags.b("b"), class_="c", id="i")
    assert tag.tagName == "div"
    assert tag.attributes == {"class": "c", "id": "i"}
    assert tag.children[0] == "a"
    assert tag("more") is tag
    assert tag.children[-1] == "more"


def test_tagCallRender() -> None:
    tag = tags.p(render="foo", data_x="1")
    assert tag.render == "foo"
    assert tag.attributes == {"data_x": "1"}
    with pytest.raises(TypeError):
        tags.p(render=3)  # type: ignore[arg-type]


def test_fillSlotsReturnsTheTag() -> None:
    tag = tags.p()
    assert tag.fillSlots(a="1") is tag
    tag.fillSlots(b="2")
    assert tag.slotData == {"a": "1", "b": "2"}


def test_cloneDeep() -> None:
    inner = tags.b("x", title=tags.i("t"))
    tag = tags.p(inner, ["l", tags.i("in list")], render="r").fillSlots(s=tags.u())
    copy = tag.clone()
    assert copy is not tag
    assert copy.render == "r"
    assert copy.children[0] is not inner
    assert isinstance(copy.children[0], Tag)
    assert copy.children[0].attributes["title"] is not inner.attributes["title"]
    assert copy.children[1] is not tag.children[1]
    assert copy.slotData is not None
    assert tag.slotData is not None
    assert copy.slotData["s"] is not tag.slotData["s"]
    copy.children[0]("changed")
    assert inner.children == ["x"]
    tag.render = None
    copy.render = None
    assert flat(copy.clone()) == flat(copy)


def test_cloneShallow() -> None:
    inner = tags.b("x")
    tag = tags.p(inner)
    copy = tag.clone(deep=False)
    assert copy.children[0] is inner
    copy("added")
    assert tag.children == [inner]


def test_cloneDeepTree() -> None:
    root = tags.div()
    node = root
    for _ in range(10_000):
        child = tags.div()
        node(child)
        node = child
    copy = root.clone()
    assert flat(copy) == flat(root)


def test_clear() -> None:
    tag = tags.p("a", "b")
    assert tag.clear() is tag
    assert tag.children == []


def test_repr() -> None:
    assert repr(tags.p("x", class_="c")) == "Tag('p', attributes={'class': 'c'}, children=['x'])"
    assert repr(slot("s")) == "slot('s')"
    assert repr(Comment("c")) == "Comment('c')"
    assert repr(CDATA("c")) == "CDATA('c')"
    assert repr(CharRef(65)) == "CharRef(65)"


def test_tagsKnowsEveryHTML5Element() -> None:
    html5 = [
        "a",
        "abbr",
        "address",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "base",
        "bdi",
        "bdo",
        "blockquote",
        "body",
        "br",
        "button",
        "canvas",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "datalist",
        "dd",
        "del",
        "details",
        "dfn",
        "dialog",
        "div",
        "dl",
        "dt",
        "em",
        "embed",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hgroup",
        "hr",
        "html",
        "i",
        "iframe",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "legend",
        "li",
        "link",
        "main",
        "map",
        "mark",
        "menu",
        "meta",
        "meter",
        "nav",
        "noscript",
        "object",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "picture",
        "pre",
        "progress",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "script",
        "search",
        "section",
        "select",
        "slot",
        "small",
        "source",
        "span",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "template",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "title",
        "tr",
        "track",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
    ]
    for name in html5:
        assert name in VALID_HTML_TAG_NAMES
        tag = getattr(tags, name)
        assert isinstance(tag, Tag)
        assert tag.tagName == name
    assert tags.del_.tagName == "del"
    assert tags.transparent.tagName == ""
    assert tags.p is not tags.p
    with pytest.raises(AttributeError):
        tags.notatag  # noqa: B018


# -- Element and renderer ---------------------------------------------------------------


class Greeting(Element):
    loader = TagLoader(tags.p(render="greet"))

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    @renderer
    def greet(self, request: Any, tag: Tag) -> Any:
        return tag("Hello, ", self.name)

    def secret(self, request: Any, tag: Tag) -> Any:
        return tag("secret")


def test_elementProvidesIRenderable() -> None:
    assert verifyObject(IRenderable, Greeting("x"))


def test_elementRenders() -> None:
    assert flat(Greeting("<Bob>")) == b"<p>Hello, &lt;Bob&gt;</p>"


def test_lookupRenderMethod() -> None:
    element = Greeting("x")
    assert element.lookupRenderMethod("greet") == element.greet
    with pytest.raises(MissingRenderMethod):
        element.lookupRenderMethod("secret")
    with pytest.raises(MissingRenderMethod):
        element.lookupRenderMethod("nothing")


def test_undecoratedMethodCannotBeCalledByATemplate() -> None:
    class Sneaky(Greeting):
        loader = TagLoader(tags.p(render="secret"))

    results: list[Any] = []
    flattenString(None, Sneaky("x")).addBoth(results.append)
    assert isinstance(results[0].value, FlattenerError)
    assert isinstance(results[0].value._exception, MissingRenderMethod)


def test_missingLoader() -> None:
    results: list[Any] = []
    flattenString(None, Element()).addBoth(results.append)
    assert isinstance(results[0].value._exception, MissingTemplateLoader)


def test_loaderByConstructor() -> None:
    assert flat(Element(loader=TagLoader(tags.b("given")))) == b"<b>given</b>"


def test_nestedElementsUseTheirOwnRenderers() -> None:
    class Outer(Element):
        loader = TagLoader(tags.div(tags.span(render="inner"), tags.i(render="mine")))

        @renderer
        def inner(self, request: Any, tag: Tag) -> Any:
            return Greeting("nested")

        @renderer
        def mine(self, request: Any, tag: Tag) -> Any:
            return tag("outer")

    assert flat(Outer()) == b"<div><p>Hello, nested</p><i>outer</i></div>"


def test_expose() -> None:
    other = Expose("another")

    class C:
        @other
        def a(self) -> int:
            return 1

        @renderer
        def b(self) -> int:
            return 2

    c = C()
    assert other.get(c, "a")() == 1
    assert other.get(c, "b", None) is None
    with pytest.raises(UnexposedMethodError):
        other.get(c, "b")
    assert renderer.get(c, "b")() == 2
    with pytest.raises(TypeError):
        other()


# -- renderElement --------------------------------------------------------------------


class FakeRequest:
    """The part of a request that renderElement uses."""

    def __init__(self, displayTracebacks: bool | None = None) -> None:
        self.written: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}
        self.finished = 0
        if displayTracebacks is not None:
            self.site = type("Site", (), {"displayTracebacks": displayTracebacks})()

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.headers[name] = value

    def write(self, data: bytes) -> None:
        assert not self.finished
        self.written.append(data)

    def finish(self) -> None:
        self.finished += 1

    @property
    def body(self) -> bytes:
        return b"".join(self.written)


def test_renderElement() -> None:
    request = FakeRequest()
    result = renderElement(request, Greeting("web"))  # type: ignore[arg-type]
    assert result == 1
    assert request.headers == {b"content-type": b"text/html; charset=utf-8"}
    assert request.body == b"<!DOCTYPE html>\n<p>Hello, web</p>"
    assert request.finished == 1


def test_renderElementMatchesServerNotDoneYet() -> None:
    server = pytest.importorskip("fw.web.server", reason="fw.web.server is not written yet")
    request = FakeRequest()
    assert renderElement(request, Greeting("x")) == server.NOT_DONE_YET  # type: ignore[arg-type]


def test_renderElementDoctype() -> None:
    request = FakeRequest()
    renderElement(request, Greeting("x"), doctype=None)  # type: ignore[arg-type]
    assert request.body == b"<p>Hello, x</p>"
    request = FakeRequest()
    renderElement(request, Greeting("x"), doctype=b"<!DOCTYPE xhtml>")  # type: ignore[arg-type]
    assert request.body.startswith(b"<!DOCTYPE xhtml>\n")


def test_renderElementFinishesLater() -> None:
    d: Deferred[str] = Deferred()
    request = FakeRequest()
    renderElement(request, tags.p(d))  # type: ignore[arg-type]
    assert not request.finished
    d.callback("late")
    assert request.finished == 1
    assert request.body == b"<!DOCTYPE html>\n<p>late</p>"


class Broken(Element):
    loader = TagLoader(tags.div("before", tags.p(render="broken")))

    @renderer
    def broken(self, request: Any, tag: Tag) -> Any:
        raise ValueError("<script>alert(1)</script>")


def test_renderElementErrorHidesTraceback() -> None:
    request = FakeRequest()
    with capturedLogs() as events:
        renderElement(request, Broken())  # type: ignore[arg-type]
    assert request.finished == 1
    assert request.body.startswith(b"<!DOCTYPE html>\n<div>before")
    assert b"An error occurred while rendering the response." in request.body
    assert b"alert" not in request.body
    failures = [e for e in events if "log_failure" in e]
    assert len(failures) == 1
    assert failures[0]["log_failure"].check(FlattenerError)


def test_renderElementErrorShowsEscapedTraceback() -> None:
    request = FakeRequest(displayTracebacks=True)
    with capturedLogs():
        renderElement(request, Broken())  # type: ignore[arg-type]
    assert request.finished == 1
    body = request.body
    assert b"<script>" not in body
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert b"FlattenerError" in body


def test_renderElementCustomFailElement() -> None:
    seen: list[Failure] = []

    def failElement(failure: Failure) -> Any:
        seen.append(failure)
        return tags.p("custom")

    request = FakeRequest(displayTracebacks=True)
    with capturedLogs():
        renderElement(request, Broken(), _failElement=failElement)  # type: ignore[arg-type]
    assert request.body.endswith(b"<p>custom</p>")
    assert len(seen) == 1


# -- FailureElement and formatFailure -------------------------------------------------


def makeFailure() -> Failure:
    def inner() -> None:
        raise RuntimeError("bad <thing> & more")

    try:
        inner()
    except RuntimeError:
        return Failure()
    raise AssertionError("not reached")


def test_formatFailure() -> None:
    out = formatFailure(makeFailure())
    assert isinstance(out, bytes)
    out.decode("ascii")
    text = out.decode()
    assert "builtins.RuntimeError" in text
    assert html.escape("bad <thing> & more", quote=False) in text
    assert "<thing>" not in text
    assert "inner" in text
    assert __file__ in text
    assert 'raise RuntimeError("bad &lt;thing&gt; &amp; more")' in text


def test_formatFailureNonASCII() -> None:
    out = formatFailure(Failure(ValueError("caf\u00e9")))
    assert b"caf&#233;" in out


def test_failureElementCustomLoader() -> None:
    loader = XMLString(
        '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
        '<b t:render="type" />: <i t:render="value" /></p>'
    )
    out = flat(FailureElement(Failure(KeyError("k")), loader))
    assert out == b"<p><b>builtins.KeyError</b>: <i>'k'</i></p>"


# -- with fw.web's own request and server ---------------------------------------------


def test_renderElementWithDummyRequest() -> None:
    from fw.web.test.requesthelper import DummyRequest

    request = DummyRequest([b""])
    d: Deferred[str] = Deferred()
    renderElement(request, tags.p(Greeting("dummy"), d))  # type: ignore[arg-type]
    assert request.finished == 0
    d.callback("!")
    assert request.finished == 1
    assert b"".join(request.written) == b"<!DOCTYPE html>\n<p><p>Hello, dummy</p>!</p>"
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"text/html; charset=utf-8"]


def servePage(element: Any, displayTracebacks: bool = False) -> bytes:
    """Serve ``element`` with renderElement from a real Site, over an in-memory transport."""
    from fw.internet.address import IPv4Address
    from fw.internet.testing import StringTransport
    from fw.web.resource import Resource
    from fw.web.server import Site

    class Page(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> Any:
            return renderElement(request, element)

    site = Site(Page())
    site.displayTracebacks = displayTracebacks
    protocol = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 12345))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(b"GET / HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n")
    return transport.value()


def dechunk(response: bytes) -> bytes:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    out = b""
    while True:
        size, _, body = body.partition(b"\r\n")
        length = int(size, 16)
        if length == 0:
            return out
        out += body[:length]
        body = body[length + 2 :]


def test_renderElementOnASite() -> None:
    response = servePage(Greeting("site"))
    assert response.startswith(b"HTTP/1.1 200 ")
    assert b"content-type: text/html; charset=utf-8" in response.lower()
    assert dechunk(response) == b"<!DOCTYPE html>\n<p>Hello, site</p>"


def test_renderElementOnASiteShowsTracebacksOnlyWhenAsked() -> None:
    with capturedLogs():
        hidden = dechunk(servePage(Broken()))
        shown = dechunk(servePage(Broken(), displayTracebacks=True))
    assert b"An error occurred while rendering the response." in hidden
    assert b"alert" not in hidden
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert b"<script>" not in shown
