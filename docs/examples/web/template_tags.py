"""Building a tree in Python with tags, slots, comments, CDATA and character references."""

from fw.web.template import CDATA, CharRef, Comment, flattenString, slot, tags

page = tags.html(
    tags.head(tags.title("Built with tags")),
    tags.body(
        Comment(" generated "),
        tags.h1("Hello, ", slot("who")),
        tags.p("Prices in ", CharRef(0x20AC), class_="note"),
        tags.a("a link", href=["/search?q=", slot("who"), "&page=1"]),
        tags.br(),
        tags.script(CDATA("if (a < b) { go(); }"), type="text/javascript"),
    ),
).fillSlots(who="world")

flattenString(None, page).addCallback(lambda html: print(html.decode()))
