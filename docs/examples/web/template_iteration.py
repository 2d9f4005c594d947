"""Repeat a tag: a render method yields a filled-in copy of it per item."""

from fw.web.template import Element, XMLString, flattenString, renderer


class WidgetsElement(Element):
    loader = XMLString(
        """<ul xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
          <li t:render="widgets"><t:slot name="widgetName" /></li>
        </ul>"""
    )

    widgetData = ["gadget", "contraption", "gizmo", "doohickey"]

    @renderer
    def widgets(self, request, tag):
        for widget in self.widgetData:
            yield tag.clone().fillSlots(widgetName=widget)


flattenString(None, WidgetsElement()).addCallback(lambda html: print(html.decode()))
