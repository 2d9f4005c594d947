"""
Small resources and helpers: :func:`redirectTo`, :class:`Redirect`,
:class:`ChildRedirector`, :class:`ParentRedirect`, :class:`DeferredResource`.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urljoin

from fw.internet.defer import Deferred
from fw.python.failure import Failure
from fw.web import resource
from fw.web.server import NOT_DONE_YET

__all__ = [
    "ChildRedirector",
    "DeferredResource",
    "ParentRedirect",
    "Redirect",
    "redirectTo",
]


def redirectTo(URL: bytes, request: Any) -> bytes:
    """
    Redirect ``request`` to ``URL`` with ``302 Found``, and return a short
    HTML body linking to it for clients that do not follow redirects.

    Raises:
        TypeError: ``URL`` is not bytes.
    """
    if not isinstance(URL, bytes):
        raise TypeError(f"URL must be bytes, not {type(URL).__name__}")
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    request.redirect(URL)
    target = html.escape(URL.decode("latin-1"), quote=True)
    body = (
        f'<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv="refresh" content="0;URL={target}">\n'
        f'</head>\n<body bgcolor="#FFFFFF" text="#000000">\n<a href="{target}">click here</a>\n'
        "</body>\n</html>\n"
    )
    return body.encode("utf-8")


class Redirect(resource.Resource):
    """
    A leaf resource redirecting every request to one URL.

    Args:
        url: where to send clients.
    """

    isLeaf = True

    def __init__(self, url: bytes) -> None:
        super().__init__()
        self.url = url

    def render(self, request: Any) -> bytes:
        """Redirect the request."""
        return redirectTo(self.url, request)

    def getChild(self, name: bytes, request: Any) -> resource.IResource:
        """Every child redirects to the same URL."""
        return self


class ChildRedirector(Redirect):
    """
    A redirect that keeps the path below it: ``/old/a/b`` goes to
    ``url/a/b``.

    Args:
        url: an absolute URL (with a scheme) where the tree now lives.

    Raises:
        ValueError: ``url`` is not absolute.
    """

    isLeaf = False

    def __init__(self, url: bytes) -> None:
        if b"://" not in url:
            raise ValueError(
                f"it seems you've given me a redirect ({url!r}) that is a child of myself"
            )
        super().__init__(url)

    def getChild(self, name: bytes, request: Any) -> resource.IResource:
        """A redirector for the URL one segment deeper."""
        newUrl = self.url
        if not newUrl.endswith(b"/"):
            newUrl += b"/"
        return ChildRedirector(newUrl + name)


class ParentRedirect(resource.Resource):
    """Redirects to the parent of the request's URL (``..``)."""

    isLeaf = True

    def render(self, request: Any) -> bytes:
        """Redirect to the parent path."""
        uri: bytes = request.uri
        return redirectTo(urljoin(uri.decode("latin-1"), "..").encode("latin-1"), request)

    def getChild(self, name: bytes, request: Any) -> resource.IResource:
        """Every child redirects the same way."""
        return self


class DeferredResource(resource.Resource):
    """
    A resource that is not known yet: ``d`` fires with the resource that
    renders the request (traversal continues into it from here).

    Args:
        d: fires with an ``IResource``; a failure is answered 500.
    """

    isLeaf = True

    def __init__(self, d: Deferred[Any]) -> None:
        super().__init__()
        self.d = d

    def getChild(self, name: bytes, request: Any) -> resource.IResource:
        """Traversal waits for the Deferred: this resource renders every path below it."""
        return self

    def render(self, request: Any) -> int:
        """Wait for the resource, then render ``request`` with it."""
        self.d.addCallback(self._cbChild, request).addErrback(self._ebChild, request)
        return NOT_DONE_YET

    def _cbChild(self, child: resource.IResource, request: Any) -> resource.IResource:
        request.render(resource.getChildForRequest(child, request))
        # Keep the result for other requests waiting on the same Deferred.
        return child

    def _ebChild(self, reason: Failure, request: Any) -> None:
        request.processingFailed(reason)
