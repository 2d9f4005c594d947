"""
The web server: :class:`Site` serves a resource tree, :class:`Request` renders resources.

Example::

    from fw.web.resource import Resource
    from fw.web.server import Site

    class Hello(Resource):
        isLeaf = True
        def render_GET(self, request):
            return b"hello"

    reactor.listenTCP(8080, Site(Hello()))
"""

from __future__ import annotations

from typing import Any

from fw.web import resource as _resource
from fw.web._encoding import BrotliEncoderFactory, GzipEncoderFactory
from fw.web._http_channel import HTTP2_AVAILABLE, HTTPChannel, HTTPFactory
from fw.web._http_dates import datetimeToString, stringToDatetime
from fw.web._server_request import NOT_DONE_YET, Request, _mkuid
from fw.web._server_session import Session
from fw.web._version import __version__
from fw.web.error import UnsupportedMethod

__all__ = [
    "NOT_DONE_YET",
    "BrotliEncoderFactory",
    "GzipEncoderFactory",
    "Request",
    "Session",
    "Site",
    "UnsupportedMethod",
    "date_time_string",
    "string_date_time",
    "version",
]

#: The ``Server`` header value.
version = b"fw.web/" + __version__.encode("ascii")

date_time_string = datetimeToString
string_date_time = stringToDatetime


class Site(HTTPFactory):
    """
    An HTTP server factory publishing a resource tree.

    Args:
        resource: The root resource.
        requestFactory: The request class (default :class:`Request`).
        *args: Passed to :class:`~fw.web.http.HTTPFactory` (``logPath``, ``timeout``...).
        **kwargs: Passed to :class:`~fw.web.http.HTTPFactory` (``logPath``,
            ``timeout``, ``logFormatter``, ``reactor``, limits).

    Attributes:
        displayTracebacks: Show tracebacks in 500 pages (off: they leak internals).
        sessions: Live sessions by id.
    """

    counter = 0
    requestFactory: Any = Request
    displayTracebacks = False
    #: The session class.
    sessionFactory: Any = Session
    sessionCheckTime = 1800
    isLeaf = 0

    def __init__(
        self, resource: Any, requestFactory: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: dict[bytes, Session] = {}
        self.resource = resource
        if requestFactory is not None:
            self.requestFactory = requestFactory

    def _mkuid(self) -> bytes:
        """Return a new, unguessable session id."""
        self.counter += 1
        return _mkuid()

    def makeSession(self) -> Any:
        """Make, remember and return a new session."""
        uid = self._mkuid()
        session = self.sessions[uid] = self.sessionFactory(self, uid)
        session.startCheckingExpiration()
        return session

    def getSession(self, uid: bytes) -> Any:
        """
        Return the live session ``uid``.

        Raises:
            KeyError: There is no such session.
        """
        return self.sessions[uid]

    def buildProtocol(self, addr: Any) -> HTTPChannel:
        """Make a channel whose requests come from :attr:`requestFactory`."""
        channel = super().buildProtocol(addr)
        channel.requestFactory = self.requestFactory
        channel.site = self
        return channel

    def render(self, request: Any) -> bytes:
        """Redirect a request for the site itself to its root (``/``)."""
        request.redirect(request.prePathURL() + b"/")
        request.finish()
        return b""

    def getChildWithDefault(self, pathEl: bytes, request: Any) -> Any:
        """Return the root resource's child ``pathEl``."""
        request.site = self
        return self.resource.getChildWithDefault(pathEl, request)

    def getResourceFor(self, request: Any) -> Any:
        """Traverse the tree along ``request.postpath`` and return the resource found."""
        request.site = self
        request.sitepath = request.prepath[:]
        return _resource.getChildForRequest(self.resource, request)

    def acceptableProtocols(self) -> list[bytes]:
        """The ALPN protocols this site speaks (``h2`` too when ``fw-web[http2]`` is installed)."""
        return [b"h2", b"http/1.1"] if HTTP2_AVAILABLE else [b"http/1.1"]
