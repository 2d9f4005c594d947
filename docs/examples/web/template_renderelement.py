"""renderElement writes an Element to a request as a whole page, then finishes it."""

from fw.web.template import Element, XMLString, renderElement, renderer


class HelloElement(Element):
    loader = XMLString(
        """<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
          <body><p t:render="hello" /></body>
        </html>"""
    )

    @renderer
    def hello(self, request, tag):
        return tag("Hello from ", request.path.decode())


class PrintingRequest:
    """Stands for the request a resource's render_GET gets."""

    path = b"/hello"

    def setHeader(self, name, value):
        print("header:", name.decode(), value.decode())

    def write(self, data):
        print(data.decode(), end="")

    def finish(self):
        print("\n(finished)")


# In a resource:  def render_GET(self, request): return renderElement(request, HelloElement())
result = renderElement(PrintingRequest(), HelloElement())
print("render_GET returns", result)
