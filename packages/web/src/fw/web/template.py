"""HTML templating: build or load a tree of tags, fill it in, flatten it to bytes.

A page is a tree of :class:`Tag` objects, written with the :data:`tags`
builder or loaded from XHTML by :class:`XMLString` or :class:`XMLFile`.  An
:class:`Element` pairs a template with its render methods (decorated with
:data:`renderer`); tags in the template name them with ``t:render``, where
``t`` is the :data:`TEMPLATE_NAMESPACE`::

    class Greeting(Element):
        loader = XMLString(
            '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
            'Hello, <t:slot name="who" /></p>'
        )

    flattenString(None, tags.div(Greeting())).addCallback(print)

:func:`flatten` and :func:`flattenString` write the tree as UTF-8, escaping
text, attributes, comments and CDATA sections.  Anything in the tree (a
render method's result, a slot's value, a child) may be a Deferred, a
coroutine, a generator or an async iterator: flattening waits for each in
turn.  :func:`renderElement` writes an element to a web request as a page.

Flattening, in order::

    tree -> (text | tag -> (render method -> its result | attributes, children)
             | slot -> its value | Deferred/coroutine -> its result
             | element -> element.render(request) | list/generator -> each item)*
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fw.logger import Logger
from fw.python.failure import Failure
from fw.web._element import Element, Expose, renderer
from fw.web._flatten import flatten, flattenString
from fw.web._stan import (
    CDATA,
    VALID_HTML_TAG_NAMES,
    CharRef,
    Comment,
    Flattenable,
    Tag,
    slot,
    tags,
)
from fw.web._template_failure import FailureElement, formatFailure
from fw.web._template_loaders import TEMPLATE_NAMESPACE, TagLoader, XMLFile, XMLString
from fw.web.error import (
    FlattenerError,
    MissingRenderMethod,
    MissingTemplateLoader,
    UnexposedMethodError,
    UnfilledSlot,
    UnsupportedType,
)
from fw.web.iweb import IRenderable, IRequest, ITemplateLoader

__all__ = [
    "CDATA",
    "TEMPLATE_NAMESPACE",
    "VALID_HTML_TAG_NAMES",
    "CharRef",
    "Comment",
    "Element",
    "Expose",
    "FailureElement",
    "Flattenable",
    "FlattenerError",
    "IRenderable",
    "ITemplateLoader",
    "MissingRenderMethod",
    "MissingTemplateLoader",
    "Tag",
    "TagLoader",
    "UnexposedMethodError",
    "UnfilledSlot",
    "UnsupportedType",
    "XMLFile",
    "XMLString",
    "flatten",
    "flattenString",
    "formatFailure",
    "renderElement",
    "renderer",
    "slot",
    "tags",
]

_log = Logger(namespace="fw.web.template")

# fw.web.server.NOT_DONE_YET: the value a render method returns when it will
# finish the request itself.
_NOT_DONE_YET = 1

_ERROR_PAGE = (
    b'<div style="font-size:800%;background-color:#FFF;color:#F00">'
    b"An error occurred while rendering the response.</div>"
)


def renderElement(
    request: IRequest,
    element: Flattenable,
    doctype: bytes | None = b"<!DOCTYPE html>",
    _failElement: Callable[[Failure], Flattenable] | None = None,
) -> int:
    """Write ``element`` to ``request`` as an HTML page, then finish the request.

    Sets ``Content-Type: text/html; charset=utf-8``, writes ``doctype`` and
    a newline (unless ``doctype`` is ``None``), then the flattened element.
    If flattening fails, the failure is logged and, after what was already
    written, either the failure's traceback (when the request's site has
    ``displayTracebacks`` set) or a short error message is written.

    Returns:
        ``NOT_DONE_YET`` (``1``), so that a resource's ``render_GET`` can
        ``return renderElement(request, element)``.
    """
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    if doctype is not None:
        request.write(doctype + b"\n")
    failElement: Callable[[Failure], Flattenable] = (
        FailureElement if _failElement is None else _failElement
    )
    d = flatten(request, element, request.write)

    def failed(failure: Failure) -> Any:
        _log.failure("An error occurred while rendering the response.", failure=failure)
        site = getattr(request, "site", None)
        if site is not None and getattr(site, "displayTracebacks", False):
            return flatten(request, failElement(failure), request.write)
        request.write(_ERROR_PAGE)
        return None

    def finish(result: Any) -> Any:
        request.finish()
        return result

    d.addErrback(failed)
    d.addBoth(finish)
    return _NOT_DONE_YET
