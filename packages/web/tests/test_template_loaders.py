"""fw.web.template's loaders: XMLString, XMLFile, TagLoader, the t: namespace, safe parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax import SAXParseException

import pytest
from zope.interface.verify import verifyObject

from fw.python.failure import Failure
from fw.python.filepath import FilePath
from fw.web.iweb import ITemplateLoader
from fw.web.template import (
    CDATA,
    TEMPLATE_NAMESPACE,
    Comment,
    Element,
    Tag,
    TagLoader,
    XMLFile,
    XMLString,
    flattenString,
    renderer,
    slot,
    tags,
)

T = f'xmlns:t="{TEMPLATE_NAMESPACE}"'


def flat(root: Any) -> bytes:
    results: list[Any] = []
    flattenString(None, root).addBoth(results.append)
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def test_namespaceIsTwisteds() -> None:
    assert TEMPLATE_NAMESPACE == "http://twistedmatrix.com/ns/twisted.web.template/0.1"


def test_loadersProvideTheInterface(tmp_path: Path) -> None:
    path = tmp_path / "t.xml"
    path.write_text("<p />")
    for loader in (XMLString("<p />"), XMLFile(FilePath(str(path))), TagLoader(tags.p())):
        assert verifyObject(ITemplateLoader, loader)


def test_plainXML() -> None:
    loaded = XMLString('<div id="x"><p>Hello <b>world</b></p></div>').load()
    assert len(loaded) == 1
    root = loaded[0]
    assert isinstance(root, Tag)
    assert root.tagName == "div"
    assert root.attributes == {"id": "x"}
    assert flat(loaded) == b'<div id="x"><p>Hello <b>world</b></p></div>'


def test_bytesAndEncodings() -> None:
    assert flat(XMLString("<p>caf\u00e9</p>".encode()).load()) == "<p>caf\u00e9</p>".encode()
    latin = '<?xml version="1.0" encoding="iso-8859-1"?><p>caf\xe9</p>'.encode("latin-1")
    assert flat(XMLString(latin).load()) == "<p>caf\u00e9</p>".encode()


def test_textIsReescaped() -> None:
    loaded = XMLString("<p title='a&quot;b'>&lt;x&gt; &amp; &#169;</p>").load()
    assert flat(loaded) == '<p title="a&quot;b">&lt;x&gt; &amp; \u00a9</p>'.encode()


def test_positions() -> None:
    root = XMLString("<div>\n  <p>x</p></div>").load()[0]
    assert isinstance(root, Tag)
    child = root.children[1]
    assert isinstance(child, Tag)
    assert (child.lineNumber, child.columnNumber, child.filename) == (2, 2, None)


def test_render() -> None:
    root = XMLString(f'<p {T} t:render="name" class="c" />').load()[0]
    assert isinstance(root, Tag)
    assert root.render == "name"
    assert root.attributes == {"class": "c"}


def test_slot() -> None:
    root = XMLString(f'<p {T}><t:slot name="a" /><t:slot name="b" default="B" /></p>').load()[0]
    assert isinstance(root, Tag)
    a, b = root.children
    assert isinstance(a, slot)
    assert isinstance(b, slot)
    assert (a.name, a.default, b.name, b.default) == ("a", None, "b", "B")
    assert flat(root.fillSlots(a="A")) == b"<p>AB</p>"


def test_attr() -> None:
    root = XMLString(
        f'<a {T} class="x"><t:attr name="href">/u/<t:slot name="id" /></t:attr>link</a>'
    ).load()[0]
    assert isinstance(root, Tag)
    assert root.children == ["link"]
    assert flat(root.fillSlots(id='1"2')) == b'<a class="x" href="/u/1&quot;2">link</a>'


def test_attrMustBeInsideAnElement() -> None:
    with pytest.raises(SAXParseException):
        XMLString(f'<t:attr {T} name="x" />')
    with pytest.raises(SAXParseException):
        XMLString(f"<p {T}><t:attr>x</t:attr></p>")


def test_transparent() -> None:
    loaded = XMLString(f"<t:transparent {T}>a<b>b</b></t:transparent>").load()
    assert flat(loaded) == b"a<b>b</b>"


def test_unknownTemplateElementIsAnError() -> None:
    with pytest.raises(SAXParseException, match="t:frob"):
        XMLString(f"<t:frob {T} />")


def test_otherNamespacesAreKept() -> None:
    loaded = XMLString(
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:svg="http://www.w3.org/2000/svg"'
        f' {T}><svg:svg xml:lang="en"><svg:rect svg:x="1" /></svg:svg></html>'
    ).load()
    assert flat(loaded) == (
        b'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:svg="http://www.w3.org/2000/svg">'
        b'<svg:svg xml:lang="en"><svg:rect svg:x="1"></svg:rect></svg:svg></html>'
    )


def test_commentsAndCDATA() -> None:
    root = XMLString("<p><!-- note --><![CDATA[<raw> & ]]>text</p>").load()[0]
    assert isinstance(root, Tag)
    comment, cdata, text = root.children
    assert isinstance(comment, Comment)
    assert comment.data == " note "
    assert isinstance(cdata, CDATA)
    assert cdata.data == "<raw> & "
    assert text == "text"
    assert flat(root) == b"<p><!-- note --><![CDATA[<raw> & ]]>text</p>"


def test_textIsMerged() -> None:
    root = XMLString("<p>a&amp;b&#65;c</p>").load()[0]
    assert isinstance(root, Tag)
    assert root.children == ["a&bAc"]


def test_malformed() -> None:
    with pytest.raises(SAXParseException) as info:
        XMLString("<p>\n<b></p>")
    assert info.value.getLineNumber() == 2


def test_billionLaughsIsRefused() -> None:
    lol = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]><lolz>&lol9;</lolz>"
    )
    with pytest.raises(SAXParseException, match="entity declarations"):
        XMLString(lol)


def test_externalEntityIsRefused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = f'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file://{secret}">]><p>&xxe;</p>'
    with pytest.raises(SAXParseException):
        XMLString(xxe)


def test_externalDTDIsNotRead(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY evil "EVIL">')
    loaded = XMLString(f'<!DOCTYPE p SYSTEM "file://{dtd}"><p>x</p>').load()
    assert flat(loaded) == b"<p>x</p>"
    with pytest.raises(SAXParseException, match="undefined entity"):
        XMLString(f'<!DOCTYPE p SYSTEM "file://{dtd}"><p>&evil;</p>')


def test_xhtmlEntitiesWithDoctype() -> None:
    loaded = XMLString(
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"'
        ' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
        "<p>a&nbsp;b&copy;</p>"
    ).load()
    assert flat(loaded) == "<p>a\u00a0b\u00a9</p>".encode()


def test_xmlFile(tmp_path: Path) -> None:
    path = tmp_path / "page.xml"
    path.write_text(f'<p {T} t:render="x">\n<b>file</b></p>')
    for given in (FilePath(str(path)), str(path), path):
        loader = XMLFile(given)  # type: ignore[arg-type]
        root = loader.load()[0]
        assert isinstance(root, Tag)
        assert root.filename == str(path)
        assert loader.load() is loader.load()
        bold = root.children[1]
        assert isinstance(bold, Tag)
        assert bold.lineNumber == 2
    assert str(path) in repr(XMLFile(str(path)))


def test_xmlFileIsReadWhenLoaded(tmp_path: Path) -> None:
    loader = XMLFile(str(tmp_path / "missing.xml"))
    with pytest.raises(OSError):
        loader.load()


def test_tagLoader() -> None:
    tag = tags.p("x")
    assert TagLoader(tag).load() == [tag]


def test_deepTemplate() -> None:
    depth = 10_000
    loaded = XMLString("<b>" * depth + "x" + "</b>" * depth).load()
    assert flat(loaded) == b"<b>" * depth + b"x" + b"</b>" * depth


def test_elementWithXMLString() -> None:
    class E(Element):
        loader = XMLString(f'<ul {T}><li t:render="items"><t:slot name="n" /></li></ul>')

        @renderer
        def items(self, request: Any, tag: Tag) -> Any:
            for n in ("a", "<b>"):
                yield tag.clone().fillSlots(n=n)

    assert flat(E()) == b"<ul><li>a</li><li>&lt;b&gt;</li></ul>"
    assert flat(E()) == b"<ul><li>a</li><li>&lt;b&gt;</li></ul>"
