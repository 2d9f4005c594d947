"""
The resource tree: :class:`IResource` and :class:`Resource`.

A :class:`~fw.web.server.Site` finds the resource for a request by
traversal: starting at the root, while the current resource is not a leaf
(``isLeaf``) and path segments remain, it moves one segment from
``request.postpath`` to ``request.prepath`` and calls
``getChildWithDefault(segment, request)``.  It then calls ``render(request)``,
which dispatches on the method to ``render_GET``, ``render_POST``...  A
method with no ``render_*`` raises :class:`~fw.web.error.UnsupportedMethod`,
answered with 405 and an ``Allow`` header; ``HEAD`` falls back to
``render_GET``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from zope.interface import Attribute, Interface, implementer

from fw.web import _http_status as _s
from fw.web.error import UnsupportedMethod

__all__ = [
    "EncodingResourceWrapper",
    "ErrorPage",
    "ForbiddenResource",
    "IResource",
    "NoResource",
    "Resource",
    "getChildForRequest",
]


class IResource(Interface):
    """A web resource: something that can render a request or hand it to a child."""

    isLeaf: bool = Attribute(
        "If true, traversal stops here and ``render`` sees the rest of the path."
    )

    def getChildWithDefault(name: bytes, request: Any) -> IResource:
        """Return the child called ``name`` (static children first, then ``getChild``)."""

    def putChild(path: bytes, child: IResource) -> None:
        """Add ``child`` under the path segment ``path``."""

    def render(request: Any) -> Any:
        """Render ``request``: return bytes, ``NOT_DONE_YET``, a Deferred or a coroutine."""


def getChildForRequest(resource: IResource, request: Any) -> IResource:
    """
    Traverse from ``resource`` along ``request.postpath``; return the resource found.

    Each step moves one segment from ``request.postpath`` to ``request.prepath``.
    """
    postpath = request.postpath
    prepath = request.prepath
    while postpath and not resource.isLeaf:
        name = postpath.pop(0)
        prepath.append(name)
        resource = resource.getChildWithDefault(name, request)
    return resource


# b"GET" -> "render_GET", so dispatch does not build a string per request.
_renderNames: dict[bytes, str] = {}


@implementer(IResource)
class Resource:
    """
    A resource with static children and ``render_METHOD`` dispatch.

    Subclass and define ``render_GET`` (and friends), or override ``getChild``
    for dynamic children.
    """

    isLeaf: bool = False
    server: Any = None
    #: Methods this resource allows; ``None`` means work it out from ``render_*`` methods.
    allowedMethods: Sequence[bytes] | None = None

    def __init__(self) -> None:
        self.children: dict[bytes, IResource] = {}

    def listStaticNames(self) -> list[bytes]:
        """Return the names of the static children."""
        return list(self.children)

    def listStaticEntities(self) -> list[tuple[bytes, IResource]]:
        """Return ``(name, child)`` pairs of the static children."""
        return list(self.children.items())

    def listNames(self) -> list[bytes]:
        """Return the names of the children (the static ones, by default)."""
        return self.listStaticNames()

    def listEntities(self) -> list[tuple[bytes, IResource]]:
        """Return ``(name, child)`` pairs of the children (the static ones, by default)."""
        return self.listStaticEntities()

    def getStaticEntity(self, name: bytes) -> IResource | None:
        """Return the static child ``name``, or ``None``."""
        return self.children.get(name)

    def getDynamicEntity(self, name: bytes, request: Any) -> IResource | None:
        """Return the dynamic child ``name``, or ``None`` when there is none."""
        if not self.children.get(name):
            child = self.getChild(name, request)
            if isinstance(child, NoResource):
                return None
            return child
        return None

    def delEntity(self, name: bytes) -> None:
        """Remove the static child ``name``."""
        del self.children[name]

    def reallyPutEntity(self, name: bytes, entity: IResource) -> None:
        """Add a static child without checks."""
        self.children[name] = entity

    def getChild(self, path: bytes, request: Any) -> IResource:
        """
        Return a dynamic child for ``path``; the default is a 404 :class:`NoResource`.

        Override this for children computed per request.
        """
        return _notFound

    def getChildWithDefault(self, path: bytes, request: Any) -> IResource:
        """Return the static child ``path`` if there is one, else ``getChild(path, request)``."""
        child = self.children.get(path)
        if child is not None:
            return child
        return self.getChild(path, request)

    def getChildForRequest(self, request: Any) -> IResource:
        """Traverse from here along ``request.postpath`` (see :func:`getChildForRequest`)."""
        return getChildForRequest(self, request)

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Add ``child`` as the static child under the single segment ``path``.

        Raises:
            TypeError: ``path`` is not bytes.
        """
        if not isinstance(path, bytes):
            raise TypeError(f"Path segment must be bytes, not {type(path).__name__}: {path!r}")
        self.children[path] = child
        child.server = self.server  # type: ignore[attr-defined]

    def render(self, request: Any) -> Any:
        """
        Dispatch to ``render_<METHOD>``; ``HEAD`` falls back to ``render_GET``.

        Raises:
            UnsupportedMethod: No ``render_*`` method handles ``request.method``.
        """
        method = request.method
        name = _renderNames.get(method)
        if name is None:
            name = "render_" + method.decode("ascii", "replace")
            if len(_renderNames) < 64:
                _renderNames[method] = name
        handler: Callable[[Any], Any] | None = getattr(self, name, None)
        if handler is None:
            if method == b"HEAD":
                handler = getattr(self, "render_GET", None)
            if handler is None:
                allowed = self.allowedMethods
                if allowed is None:
                    allowed = _computeAllowedMethods(self)
                raise UnsupportedMethod(list(allowed))
        return handler(request)


def _computeAllowedMethods(resource: object) -> list[bytes]:
    methods = [
        name[7:].encode("ascii") for name in dir(type(resource)) if name.startswith("render_")
    ]
    if b"GET" in methods and b"HEAD" not in methods:
        methods.append(b"HEAD")
    return sorted(methods)


class ErrorPage(Resource):
    """
    Renders a small HTML error page with a status code.

    Args:
        status: The HTTP status code.
        brief: A short description (the page title).
        detail: A longer explanation.
    """

    isLeaf = True
    template = (
        "<html>\n  <head><title>%s - %s</title></head>\n  <body>\n"
        "    <h1>%s</h1>\n    <p>%s</p>\n  </body>\n</html>\n"
    )

    def __init__(self, status: int, brief: str, detail: str) -> None:
        super().__init__()
        self.code = status
        self.brief = brief
        self.detail = detail

    def render(self, request: Any) -> bytes:
        """Set the status code and return the page."""
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        brief = html.escape(self.brief)
        page = self.template % (self.code, brief, brief, html.escape(self.detail))
        return page.encode("utf-8")

    def getChild(self, path: bytes, request: Any) -> IResource:
        """Every child of an error page is the same page."""
        return self


class NoResource(ErrorPage):
    """A 404 page."""

    def __init__(self, message: str = "Sorry. No luck finding that resource.") -> None:
        super().__init__(_s.NOT_FOUND, "No Such Resource", message)


class ForbiddenResource(ErrorPage):
    """A 403 page."""

    def __init__(self, message: str = "Sorry, resource is forbidden.") -> None:
        super().__init__(_s.FORBIDDEN, "Forbidden Resource", message)


_notFound = NoResource()


class EncodingResourceWrapper(Resource):
    """
    Wraps a resource so its responses are content-encoded (e.g. gzip) when the client accepts it.

    Args:
        original: The wrapped resource.
        encoders: Encoder factories with ``encoderForRequest(request)``, such as
            :class:`~fw.web.server.GzipEncoderFactory`.
    """

    def __init__(self, original: IResource, encoders: Sequence[Any]) -> None:
        super().__init__()
        self._original = original
        self._encoders = encoders

    @property
    def isLeaf(self) -> bool:  # type: ignore[override]
        """The wrapped resource's ``isLeaf``."""
        return bool(self._original.isLeaf)

    def getChildWithDefault(self, path: bytes, request: Any) -> IResource:
        """Traverse into the wrapped resource."""
        return self._original.getChildWithDefault(path, request)

    def render(self, request: Any) -> Any:
        """Install the first matching encoder on ``request`` and render the wrapped resource."""
        for encoderFactory in self._encoders:
            encoder = encoderFactory.encoderForRequest(request)
            if encoder is not None:
                request._encoder = encoder
                break
        return self._original.render(request)
