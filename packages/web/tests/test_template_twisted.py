"""fw.web.template writes the same bytes as Twisted's twisted.web.template.

Twisted is not a dependency of fw: its side runs in a subprocess, with the
Python named by ``FW_TWISTED_PYTHON`` (a virtualenv with ``twisted`` in it;
nox makes one).  Without it the test skips, except with
``FW_REQUIRE_PEERS=1`` (as in CI), where it fails.

The same program, :data:`CASES`, runs on both sides with the template module
of each.  It leaves out the places where fw escapes more than Twisted on
purpose (docs/web-templates.md lists them): comments, carriage returns, line
breaks and tabs in attribute values, and character references directly in an
attribute value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from fw.trial.pytestplugin import missingPeer

CASES = r"""
import importlib, json, sys

T = importlib.import_module(sys.argv[1] + ".web.template")
tags, slot = T.tags, T.slot
NS = 'xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1"'


class Page(T.Element):
    loader = T.XMLString(
        f'<html {NS} xmlns:svg="http://www.w3.org/2000/svg"><head><title>t</title></head>'
        '<body><h1 t:render="title" class="x">Title</h1>'
        '<ul><li t:render="rows"><a><t:attr name="href">/r?id=<t:slot name="id"/>&amp;x=1'
        '</t:attr><t:slot name="name"/></a></li></ul>'
        '<svg:svg xml:lang="en"><svg:rect svg:x="1"/></svg:svg>'
        '<t:transparent t:render="sub"/><p><t:slot name="missing" default="dflt"/></p>'
        '<![CDATA[a < b ]]]]><![CDATA[>]]><br/><img src="a.png"/><div></div></body></html>'
    )

    @T.renderer
    def title(self, request, tag):
        return tag("A <title> & \"quotes\"")

    @T.renderer
    def rows(self, request, tag):
        for i, name in enumerate(["Alice", "B&b", "<C>"]):
            yield tag.clone().fillSlots(id=str(i), name=name)

    @T.renderer
    def sub(self, request, tag):
        return Sub(T.TagLoader(tags.span(tags.b(render="who"), class_="sub")))


class Sub(T.Element):
    @T.renderer
    def who(self, request, tag):
        return tag(T.CharRef(9731), " sub")


cases = [
    Page(),
    tags.div(class_='x<&>"')(tags.p("a&b<c>\"'"), tags.br(), tags.img(src="x"), tags.div()),
    T.CDATA("a]]>b"),
    T.CharRef(160),
    tags.a(href=tags.b("q&")),
    tags.a(href=["/a", "?b=", "c&d"]),
    tags.a(href=tags.transparent("x&y", tags.i(title="t&", class_=["c<"]))),
    tags.transparent("a", tags.b("b")),
    tags.div(tags.p(slot("who"))).fillSlots(who="<Alice>"),
    tags.div(slot("x"), tags.p(slot("x")).fillSlots(x="inner")).fillSlots(x="outer"),
    tags.p(slot("x", default="dflt")),
    b"by<tes&",
    [tags.del_("x"), tags.script("if (a < b) {}"), tags.textarea(), tags.input(type="text")],
    tags.ul(tags.li(str(i)) for i in range(3)),
    tags.p("caf\u00e9 \u2603", title="\u00e9"),
]
out = []
for case in cases:
    results = []
    T.flattenString(None, case).addBoth(results.append)
    out.append(results[0].hex() if isinstance(results[0], bytes) else repr(results[0]))
print(json.dumps(out))
"""


def twistedPython() -> str:
    """The Python with Twisted in it, from ``FW_TWISTED_PYTHON``."""
    path = os.environ.get("FW_TWISTED_PYTHON")
    if not path:
        missingPeer("FW_TWISTED_PYTHON is not set: no Twisted to compare templates with")
    return path


def flattenWith(python: str, package: str) -> list[str]:
    result = subprocess.run(
        [python, "-c", CASES, package], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sameBytesAsTwisted() -> None:
    twisted = flattenWith(twistedPython(), "twisted")
    fw = flattenWith(sys.executable, "fw")
    assert len(fw) == len(twisted)
    for index, (ours, theirs) in enumerate(zip(fw, twisted, strict=True)):
        ourBytes, theirBytes = bytes.fromhex(ours), bytes.fromhex(theirs)
        assert ours == theirs, f"case {index}:\n fw: {ourBytes!r}\n twisted: {theirBytes!r}"
