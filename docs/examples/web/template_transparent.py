"""t:transparent groups children without adding an element of its own."""

from fw.web.template import Element, XMLString, flattenString, renderer


class ExampleElement(Element):
    loader = XMLString(
        """<div xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
          <t:transparent t:render="renderer1" />
          <t:transparent t:render="renderer2" />
        </div>"""
    )

    @renderer
    def renderer1(self, request, tag):
        return tag("hello")

    @renderer
    def renderer2(self, request, tag):
        return tag("world")


flattenString(None, ExampleElement()).addCallback(lambda html: print(html.decode()))
