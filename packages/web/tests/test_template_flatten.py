"""fw.web.template's flattener: escaping, every kind of node, asynchronous results, deep trees."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.internet.defer import CancelledError, Deferred, succeed
from fw.python.failure import Failure
from fw.web import _flatten
from fw.web.template import (
    CDATA,
    CharRef,
    Comment,
    Element,
    FlattenerError,
    Tag,
    TagLoader,
    UnfilledSlot,
    UnsupportedType,
    flatten,
    flattenString,
    renderer,
    slot,
    tags,
)


def flat(root: Any) -> bytes:
    """Flatten ``root``, which must need no waiting."""
    results: list[Any] = []
    flattenString(None, root).addBoth(results.append)
    assert len(results) == 1, "flattening did not finish synchronously"
    result = results[0]
    if isinstance(result, Failure):
        result.raiseException()
    return result


def flatFailure(root: Any) -> FlattenerError:
    results: list[Any] = []
    flattenString(None, root).addBoth(results.append)
    assert isinstance(results[0], Failure), results
    assert isinstance(results[0].value, FlattenerError)
    return results[0].value


# XML 1.0 Char production (section 2.2), less the surrogates.
xmlText = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"]
        + ["\ufffe", "\uffff"],
    )
)


# -- text and escaping ------------------------------------------------------------


def test_textIsEscaped() -> None:
    assert flat("<a & b>") == b"&lt;a &amp; b&gt;"
    assert flat(b"<a & b>") == b"&lt;a &amp; b&gt;"
    assert flat("caf\u00e9 \u2603") == "caf\u00e9 \u2603".encode()


def test_quotesStayInText() -> None:
    assert flat(tags.p('"it\'s"')) == b'<p>"it\'s"</p>'


def test_carriageReturnIsAReference() -> None:
    assert flat("a\r\nb") == b"a&#13;\nb"


def test_attributesAreEscaped() -> None:
    assert (
        flat(tags.a(href='x"><script>&', title="a\tb\nc\rd"))
        == b'<a href="x&quot;&gt;&lt;script&gt;&amp;" title="a&#9;b&#10;c&#13;d"></a>'
    )


def test_bytesInAttributesAreEscaped() -> None:
    assert flat(tags.a(href=b'"&<')) == b'<a href="&quot;&amp;&lt;"></a>'


def test_markupInsideAnAttributeIsText() -> None:
    """A tag in an attribute value is written as its markup (as Twisted does), then escaped."""
    out = flat(tags.a(title=tags.b("x & y", class_="c&")))
    assert out == (
        b'<a title="&lt;b class=&quot;c&amp;amp;&quot;&gt;x &amp;amp; y&lt;/b&gt;"></a>'
    )
    parsed = ET.fromstring(out)
    assert parsed.get("title") == '<b class="c&amp;">x &amp; y</b>'
    assert flat(tags.a(title=tags.b(tags.i("&"), CharRef(65)))) == (
        b'<a title="&lt;b&gt;&lt;i&gt;&amp;amp;&lt;/i&gt;&amp;#65;&lt;/b&gt;"></a>'
    )


def test_attributeInsideATagInsideAnAttribute() -> None:
    out = flat(tags.a(title=tags.b(title=['"&', tags.i("<")])))
    parsed = ET.fromstring(out)
    inner = ET.fromstring(parsed.get("title") or "")
    assert inner.get("title") == '"&<i>&lt;</i>'


def test_listsAndTransparentTagsInAttributes() -> None:
    assert flat(tags.a(href=["/a", "?b=", "c&d"])) == b'<a href="/a?b=c&amp;d"></a>'
    assert flat(tags.a(href=tags.transparent("x", "y"))) == b'<a href="xy"></a>'


def test_commentIsEscaped() -> None:
    assert flat(Comment("a -- b")) == b"<!--a - -  b-->"
    assert flat(Comment("ends-")) == b"<!--ends- -->"
    assert flat(Comment("-->")) == b"<!--- - &gt;-->"


def test_cdataCannotEndEarly() -> None:
    assert flat(CDATA("a]]>b")) == b"<![CDATA[a]]]]><![CDATA[>b]]>"
    assert flat(CDATA("<&>")) == b"<![CDATA[<&>]]>"
    # A carriage return cannot survive inside CDATA: it goes between two sections.
    assert flat(CDATA("a\rb")) == b"<![CDATA[a]]>&#13;<![CDATA[b]]>"


def test_charRef() -> None:
    assert flat(tags.p(CharRef(0x2603))) == b"<p>&#9731;</p>"
    # Directly in an attribute value, a character reference is its character.
    assert flat(tags.p(title=CharRef(160))) == '<p title="\u00a0"></p>'.encode()
    assert flat(tags.p(title=[CharRef(34)])) == b'<p title="&quot;"></p>'


def test_commentAndCDATAInsideAnAttributeAreText() -> None:
    assert flat(tags.p(title=Comment("c"))) == b'<p title="&lt;!--c--&gt;"></p>'
    assert flat(tags.p(title=CDATA("c"))) == b'<p title="&lt;![CDATA[c]]&gt;"></p>'


@settings(deadline=None)
@given(xmlText)
def test_anyTextRoundTrips(text: str) -> None:
    """Text flattens to XML that parses back to the same text."""
    parsed = ET.fromstring(flat(tags.p(text)))
    assert (parsed.text or "") == text


@settings(deadline=None)
@given(xmlText, xmlText)
def test_anyAttributeRoundTrips(value: str, text: str) -> None:
    parsed = ET.fromstring(flat(tags.p(text, title=value, class_=[value, "x"])))
    assert parsed.get("title") == value
    assert parsed.get("class") == value + "x"
    assert (parsed.text or "") == text


@settings(deadline=None)
@given(xmlText)
def test_anyTextInCDATARoundTrips(text: str) -> None:
    parsed = ET.fromstring(flat(tags.p(CDATA(text))))
    assert (parsed.text or "") == text


@settings(deadline=None)
@given(xmlText)
def test_anyCommentStaysOneComment(text: str) -> None:
    """A comment, whatever its text, is one well-formed comment and ends where it should."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    parser.feed(flat(tags.p(Comment(text), "after")))
    parsed = parser.close()
    children = list(parsed)
    assert len(children) == 1
    assert children[0].tag is ET.Comment
    assert children[0].tail == "after"


@settings(deadline=None)
@given(st.binary())
def test_anyBytesAreEscaped(data: bytes) -> None:
    out = flat(tags.p(data, title=data))
    body = out[out.index(b">") + 1 : -len(b"</p>")]
    assert b"<" not in body
    assert b"<" not in out[: out.index(b">")][1:]


# -- names --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a b", 'a"', "a>", "", "a=b", "a\x00"])
def test_badNamesAreRefused(name: str) -> None:
    error = flatFailure(Tag("p", attributes={name: "x"}))
    assert isinstance(error._exception, ValueError)
    error = flatFailure(Tag(name or "a b"))
    assert isinstance(error._exception, ValueError)


def test_bytesNames() -> None:
    assert flat(Tag(b"p", attributes={b"data-x": "1"})) == b'<p data-x="1"></p>'


# -- tags ---------------------------------------------------------------------------


def test_voidElements() -> None:
    assert flat(tags.br()) == b"<br />"
    assert flat(tags.img(src="x")) == b'<img src="x" />'
    assert flat(tags.img(src=["x"])) == b'<img src="x" />'
    assert flat(tags.div()) == b"<div></div>"
    assert flat(tags.script(src="a.js")) == b'<script src="a.js"></script>'


def test_nestedTags() -> None:
    tree = tags.html(tags.body(tags.h1("Title"), tags.p("one ", tags.b("two"), " three")))
    assert flat(tree) == (b"<html><body><h1>Title</h1><p>one <b>two</b> three</p></body></html>")


def test_transparent() -> None:
    assert flat(tags.transparent("a", tags.b("b"))) == b"a<b>b</b>"


def test_sequencesAndGenerators() -> None:
    assert flat(["a", ("b", ["c"])]) == b"abc"
    assert flat(tags.ul(tags.li(str(i)) for i in range(3))) == (
        b"<ul><li>0</li><li>1</li><li>2</li></ul>"
    )
    assert flat(tags.p(map(str, range(3)))) == b"<p>012</p>"


def test_attributeOrderIsKept() -> None:
    assert flat(tags.p(b="1", a="2", c=["3"], d="4")) == b'<p b="1" a="2" c="3" d="4"></p>'


def test_unsupportedType() -> None:
    error = flatFailure(tags.p(3))
    assert isinstance(error._exception, UnsupportedType)
    assert isinstance(flatFailure(tags.p(title=None))._exception, UnsupportedType)


def test_strSubclassIsText() -> None:
    class Name(str):
        pass

    assert flat(tags.p(Name("<x>"))) == b"<p>&lt;x&gt;</p>"


def test_loneSurrogateFails() -> None:
    error = flatFailure(tags.p("\ud800"))
    assert isinstance(error._exception, UnicodeEncodeError)


# -- slots --------------------------------------------------------------------------


def test_slotFilledByEnclosingTag() -> None:
    tree = tags.div(tags.p(slot("who"))).fillSlots(who="<Alice>")
    assert flat(tree) == b"<div><p>&lt;Alice&gt;</p></div>"


def test_innerFillWins() -> None:
    tree = tags.div(slot("x"), tags.p(slot("x")).fillSlots(x="inner")).fillSlots(x="outer")
    assert flat(tree) == b"<div>outer<p>inner</p></div>"


def test_slotInAttribute() -> None:
    tree = tags.a(href=["/u/", slot("name")])("link").fillSlots(name='a"b')
    assert flat(tree) == b'<a href="/u/a&quot;b">link</a>'


def test_slotDefault() -> None:
    assert flat(tags.p(slot("x", default="dflt"))) == b"<p>dflt</p>"


def test_unfilledSlot() -> None:
    error = flatFailure(tags.div(tags.p(slot("missing"))))
    assert isinstance(error._exception, UnfilledSlot)
    assert error._exception.args == ("missing",)


def test_slotValueMayBeATreeOrADeferred() -> None:
    tree = tags.div(slot("a"), slot("b")).fillSlots(a=tags.b("x"), b=succeed(tags.i("y")))
    assert flat(tree) == b"<div><b>x</b><i>y</i></div>"


# -- asynchronous results ---------------------------------------------------------------


def test_firedDeferredIsSynchronous() -> None:
    assert flat(tags.p(succeed("now"))) == b"<p>now</p>"


def test_deferredWaitsAndWritesInOrder() -> None:
    d: Deferred[Any] = Deferred()
    written: list[bytes] = []
    done = flatten(None, tags.div("before", d, "after"), written.append)
    assert not done.called
    assert b"".join(written) == b"<div>before"
    d.callback(tags.b("middle"))
    assert done.called
    assert b"".join(written) == b"<div>before<b>middle</b>after</div>"


def test_nestedDeferreds() -> None:
    inner: Deferred[Any] = Deferred()
    outer: Deferred[Any] = Deferred()
    result = flattenString(None, tags.p(outer))
    outer.callback(["a", inner, "c"])
    assert not result.called
    inner.callback(succeed(tags.b("b")))
    assert result.called
    assert result.result == b"<p>a<b>b</b>c</p>"


def test_deferredFailure() -> None:
    d: Deferred[Any] = Deferred()
    result = flattenString(None, tags.div(tags.p(d)))
    d.errback(Failure(ZeroDivisionError("oops")))
    failures: list[Failure] = []
    result.addErrback(failures.append)
    error = failures[0].value
    assert isinstance(error, FlattenerError)
    assert isinstance(error._exception, ZeroDivisionError)
    assert [type(r) for r in error._roots][-1] is Deferred


def test_alreadyFailedDeferred() -> None:
    d: Deferred[Any] = Deferred()
    d.errback(Failure(KeyError("k")))
    error = flatFailure(tags.p(d))
    assert isinstance(error._exception, KeyError)


def test_coroutineInTree() -> None:
    d: Deferred[str] = Deferred()

    async def later() -> Any:
        value = await d
        return tags.b(value)

    result = flattenString(None, tags.p(later()))
    assert not result.called
    d.callback("done")
    assert result.result == b"<p><b>done</b></p>"


def test_coroutineThatNeverWaitsIsSynchronous() -> None:
    async def now() -> str:
        return "now"

    assert flat(tags.p(now())) == b"<p>now</p>"


def test_asyncGenerator() -> None:
    gate: Deferred[None] = Deferred()

    async def items() -> Any:
        yield tags.li("1")
        await gate
        yield tags.li("2")

    result = flattenString(None, tags.ul(items()))
    assert not result.called
    gate.callback(None)
    assert result.result == b"<ul><li>1</li><li>2</li></ul>"


def test_cancelCancelsTheAwaitedDeferred() -> None:
    cancelled: list[Deferred[Any]] = []
    d: Deferred[Any] = Deferred(cancelled.append)
    result = flattenString(None, tags.p(d))
    result.cancel()
    assert cancelled == [d]
    failures: list[Failure] = []
    result.addErrback(failures.append)
    assert failures
    assert failures[0].check(CancelledError, FlattenerError)


def test_generatorError() -> None:
    def rows() -> Any:
        yield tags.li("ok")
        raise RuntimeError("broken generator")

    error = flatFailure(tags.ul(rows()))
    assert isinstance(error._exception, RuntimeError)


# -- output chunks and depth --------------------------------------------------------------


def test_writeGetsLargeChunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_flatten, "BUFFER_PIECES", 100)
    written: list[bytes] = []
    tree = tags.ul([tags.li(str(i), class_="c") for i in range(1000)])
    done = flatten(None, tree, written.append)
    assert done.called
    assert 5 < len(written) < 50
    assert b"".join(written) == flat(tree)


def test_deepTreeNeedsNoRecursion() -> None:
    depth = 10_000
    root: Any = "x"
    for _ in range(depth):
        root = tags.div(root, class_=["c"])
    out = flat(root)
    assert out == b'<div class="c">' * depth + b"x" + b"</div>" * depth
    # And deeper than the recursion limit through nested lists and elements.
    nested: Any = "y"
    for _ in range(sys.getrecursionlimit() * 2):
        nested = [nested]
    assert flat(nested) == b"y"


def test_deepTreeWithDeferreds() -> None:
    root: Any = "x"
    for _ in range(5000):
        root = tags.b(succeed(root))
    assert flat(root) == b"<b>" * 5000 + b"x" + b"</b>" * 5000


# -- render methods ---------------------------------------------------------------------


def test_renderOutsideAnElement() -> None:
    error = flatFailure(tags.p(render="foo"))
    assert isinstance(error._exception, ValueError)
    assert "not contained in any IRenderable" in str(error._exception)


def test_renderMethodGetsAClone() -> None:
    seen: list[Tag] = []

    class E(Element):
        @renderer
        def r(self, request: Any, tag: Tag) -> Any:
            seen.append(tag)
            return tag("filled")

    template = tags.p(render="r")
    element = E(TagLoader(template))
    assert flat(element) == b"<p>filled</p>"
    assert flat(element) == b"<p>filled</p>"
    assert template.children == []
    assert seen[0] is not template
    assert seen[0].render is None


def test_renderMethodsMayBeAsync() -> None:
    d: Deferred[str] = Deferred()

    class E(Element):
        loader = TagLoader(tags.p(render="r"))

        @renderer
        async def r(self, request: Any, tag: Tag) -> Any:
            return tag(await d)

    result = flattenString(None, E())
    d.callback("later")
    assert result.result == b"<p>later</p>"


def test_requestIsPassed() -> None:
    got: list[Any] = []

    class E(Element):
        loader = TagLoader(tags.p(render="r"))

        @renderer
        def r(self, request: Any, tag: Tag) -> Any:
            got.append(request)
            return tag

    marker = object()
    flattenString(marker, E())  # type: ignore[arg-type]
    assert got == [marker]


def test_errorNamesWhereItHappened() -> None:
    class E(Element):
        loader = TagLoader(tags.div(tags.p(render="broken")))

        @renderer
        def broken(self, request: Any, tag: Tag) -> Any:
            raise ZeroDivisionError("in renderer")

    error = flatFailure(tags.html(E()))
    assert isinstance(error._exception, ZeroDivisionError)
    roots = error._roots
    assert isinstance(roots[0], Tag)
    assert roots[0].tagName == "html"
    assert any(isinstance(root, E) for root in roots)
    assert roots[-1].render == "broken"
    assert any(frame.name == "broken" for frame in error._traceback)


def test_anyIRenderable() -> None:
    from zope.interface import implementer

    from fw.web.iweb import IRenderable

    @implementer(IRenderable)
    class Custom:
        def lookupRenderMethod(self, name: str) -> Any:
            return lambda request, tag: tag(name.upper())

        def render(self, request: Any) -> Any:
            return tags.p(tags.b(render="shout"))

    assert flat(tags.div(Custom())) == b"<div><p><b>SHOUT</b></p></div>"


def test_errorAfterOutputStillWritesTheOutput() -> None:
    def rows() -> Any:
        yield tags.li("first")
        raise RuntimeError("then broken")

    written: list[bytes] = []
    done = flatten(None, tags.ul(rows()), written.append)
    failures: list[Failure] = []
    done.addErrback(failures.append)
    assert failures[0].check(FlattenerError)
    assert b"".join(written) == b"<ul><li>first</li>"


# -- random trees ------------------------------------------------------------------


names = st.sampled_from(["div", "p", "span", "b", "td", "x-custom"])
attributeNames = st.sampled_from(["class", "id", "title", "data-x"])


@st.composite
def trees(draw: Any, depth: int = 0) -> Any:
    """A tag with text and tag children, as (tag, the ElementTree it should parse to)."""
    name = draw(names)
    attributes = draw(st.dictionaries(attributeNames, xmlText, max_size=3))
    tag = Tag(name, attributes=dict(attributes))
    expected = ET.Element(name, attributes)
    children = draw(st.lists(st.one_of(xmlText, st.just(None)), max_size=4))
    last: ET.Element | None = None
    for child in children:
        if child is None and depth < 3:
            childTag, childExpected = draw(trees(depth + 1))
            tag(childTag)
            expected.append(childExpected)
            last = childExpected
        elif isinstance(child, str):
            tag(child)
            if last is None:
                expected.text = (expected.text or "") + child
            else:
                last.tail = (last.tail or "") + child
    return tag, expected


def canonical(element: ET.Element) -> Any:
    return (
        element.tag,
        sorted(element.attrib.items()),
        element.text or "",
        [canonical(child) for child in element],
        element.tail or "",
    )


@settings(deadline=None, max_examples=60)
@given(trees())
def test_anyTreeParsesBackToItself(tree: Any) -> None:
    tag, expected = tree
    parsed = ET.fromstring(flat(tag))
    assert canonical(parsed) == canonical(expected)


def test_writeRaising() -> None:
    """An exception from ``write`` fails the flattening; it does not escape ``flatten``."""

    calls: list[bytes] = []

    def write(data: bytes) -> None:
        calls.append(data)
        raise OSError("connection gone")

    done = flatten(None, tags.p("x"), write)
    failures: list[Failure] = []
    done.addErrback(failures.append)
    assert isinstance(failures[0].value, FlattenerError)
    assert isinstance(failures[0].value._exception, OSError)

    d: Deferred[str] = Deferred()
    done = flatten(None, tags.p("x", d), write)
    failures = []
    done.addErrback(failures.append)
    assert failures
    assert isinstance(failures[0].value._exception, OSError)
    # When the Deferred fires later, nothing more is written.
    before = len(calls)
    d.callback("late")
    assert len(calls) == before
