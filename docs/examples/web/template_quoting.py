"""Text is always quoted: a string that looks like markup is shown, not obeyed."""

from fw.web.template import Element, XMLString, flattenString, renderer, tags


class ExampleElement(Element):
    loader = XMLString(
        """<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
          <span t:render="comment" />
          <a t:render="link">home</a>
        </p>"""
    )

    @renderer
    def comment(self, request, tag):
        # Someone's comment, straight from a form.
        return tag('<script>alert("hi")</script> & "bye"')

    @renderer
    def link(self, request, tag):
        return tag(href='/?q="x" & y')


flattenString(None, ExampleElement()).addCallback(lambda html: print(html.decode()))

# Markup comes from tags, never from strings:
flattenString(None, tags.p("Be ", tags.b("bold"), ".")).addCallback(
    lambda html: print(html.decode())
)
