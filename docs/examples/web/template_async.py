"""Deferreds and coroutines in a template: flattening waits for each in turn."""

from fw.internet.defer import Deferred
from fw.web.template import Element, XMLString, flattenString, renderer, tags

# Stands for a database: each query answers later, when the test below says so.
queries = []


def query(sql):
    d = Deferred()
    queries.append(d)
    return d


class UserElement(Element):
    loader = XMLString(
        """<div xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
          <p t:render="name" />
          <ul t:render="friends" />
        </div>"""
    )

    @renderer
    def name(self, request, tag):
        # A Deferred: what it fires with takes the tag's place in the page.
        return query("SELECT name").addCallback(lambda name: tag(name))

    @renderer
    async def friends(self, request, tag):
        # An async render method may await Deferreds.
        friends = await query("SELECT friends")
        return tag([tags.li(friend) for friend in friends])


page = flattenString(None, UserElement())
print("page done?", page.called)
queries.pop(0).callback("Alice")
print("page done?", page.called)
queries.pop(0).callback(["Bob", "Carol"])
print("page done?", page.called)
page.addCallback(lambda html: print(html.decode()))
