"""An Element: a template file and the render methods it names."""

from fw.python.filepath import FilePath
from fw.web.template import Element, XMLFile, flattenString, renderer


class ExampleElement(Element):
    loader = XMLFile(FilePath("template_page.xml"))

    @renderer
    def header(self, request, tag):
        return tag("Header.")

    @renderer
    def footer(self, request, tag):
        return tag("Footer.")


flattenString(None, ExampleElement()).addCallback(lambda page: print(page.decode()))
