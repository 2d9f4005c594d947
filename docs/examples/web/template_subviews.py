"""Sub-views: a render method returns other Elements, each with its own render methods."""

from fw.web.template import Element, TagLoader, XMLString, flattenString, renderer


class WidgetElement(Element):
    """Renders one widget; its template is a tag of the page that uses it."""

    def __init__(self, loader, widget):
        super().__init__(loader)
        self.widget = widget

    @renderer
    def name(self, request, tag):
        return tag(self.widget["name"])

    @renderer
    def price(self, request, tag):
        return tag(f"{self.widget['price']:.2f}")


class CatalogueElement(Element):
    loader = XMLString(
        """<ul xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
          <li t:render="widgets"><b t:render="name" />: <i t:render="price" /></li>
        </ul>"""
    )

    widgetData = [{"name": "gadget", "price": 9.5}, {"name": "gizmo", "price": 12}]

    @renderer
    def widgets(self, request, tag):
        # The <li> (without its t:render) is each sub-view's template.
        for widget in self.widgetData:
            yield WidgetElement(TagLoader(tag), widget)


flattenString(None, CatalogueElement()).addCallback(lambda html: print(html.decode()))
