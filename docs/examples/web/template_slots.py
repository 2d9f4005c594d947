"""Slots fill holes in text and, through t:attr, in attribute values."""

from fw.web.template import Element, XMLString, flattenString, renderer


class ProfileElement(Element):
    loader = XMLString(
        """<div xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1"
             t:render="profile" class="profile">
          <img><t:attr name="src">/images/<t:slot name="picture" /></t:attr></img>
          <a><t:attr name="href"><t:slot name="homepage" /></t:attr><t:slot name="name" /></a>
          <p>Likes: <t:slot name="likes" default="nothing in particular" /></p>
        </div>"""
    )

    def __init__(self, user):
        super().__init__()
        self.user = user

    @renderer
    def profile(self, request, tag):
        return tag.fillSlots(**self.user)


alice = {"name": "Alice", "picture": "alice.png", "homepage": "https://example.com/~alice"}
flattenString(None, ProfileElement(alice)).addCallback(lambda html: print(html.decode()))
