"""
``fw.web.server.Request``: a request that finds its resource on a site and renders it.

Rendering: ``resource.render(request)`` may return

- ``bytes``: the whole body, sent with ``Content-Length`` in one write;
- ``NOT_DONE_YET``: the resource will ``write``/``finish`` later;
- a Deferred or a coroutine: its result (bytes, or ``None`` after the
  resource wrote and finished itself) is the body; a failure is a 500.
"""

from __future__ import annotations

import html
import inspect
import os
from typing import Any
from urllib.parse import quote as _quote
from urllib.parse import unquote_to_bytes

from zope.interface import implementer

from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.error import ConnectionDone, ConnectionLost
from fw.logger import Logger
from fw.python.failure import Failure
from fw.python.urlpath import URLPath as _URLPath
from fw.web import _http_status as _s
from fw.web._http_request import Request as _HTTPRequest
from fw.web.error import UnsupportedMethod
from fw.web.iweb import IRequest

__all__ = ["NOT_DONE_YET", "Request"]

_log = Logger(namespace="fw.web.server")

#: Returned by ``render`` to say the resource will finish the response later.
NOT_DONE_YET = 1

#: Request body bytes buffered for a streaming resource before reading pauses.
_STREAM_BUFFER = 65536


class _RequestBodyStream:
    """
    Delivers a request body to a protocol as it arrives (see :meth:`Request.deliverBody`).

    The protocol's transport is this object: ``pauseProducing`` and
    ``resumeProducing`` pause and resume reading the connection.
    """

    def __init__(self, request: Request) -> None:
        self._request = request
        self._protocol: Any = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._ended: Failure | None = None
        self._paused = False
        self._stopped = False

    def deliver(self, protocol: Any) -> None:
        if self._protocol is not None:
            raise RuntimeError("the request body is already being delivered")
        self._protocol = protocol
        protocol.makeConnection(self)
        buffered, self._buffer = self._buffer, []
        self._buffered = 0
        for data in buffered:
            protocol.dataReceived(data)
        if not self._paused:
            self._request.channel.resumeReading()
        if self._ended is not None:
            protocol.connectionLost(self._ended)

    def dataReceived(self, data: bytes) -> None:
        if self._stopped:
            return
        protocol = self._protocol
        if protocol is None:
            self._buffer.append(data)
            self._buffered += len(data)
            if self._buffered > _STREAM_BUFFER:
                self._request.channel.pauseReading()
        else:
            protocol.dataReceived(data)

    def end(self, reason: Failure) -> None:
        if self._ended is not None:
            return
        self._ended = reason
        if self._protocol is not None and not self._stopped:
            self._protocol.connectionLost(reason)

    # IPushProducer for the body protocol
    def pauseProducing(self) -> None:
        self._paused = True
        self._request.channel.pauseReading()

    def resumeProducing(self) -> None:
        self._paused = False
        self._request.channel.resumeReading()

    def stopProducing(self) -> None:
        self._stopped = True
        self._request._persistent = False
        self._request.channel.resumeReading()


def _postpath(path: bytes) -> list[bytes]:
    segments = path[1:].split(b"/")
    if b"%" in path:
        return [unquote_to_bytes(s) for s in segments]
    return segments


@implementer(IRequest)
class Request(_HTTPRequest):
    """
    A request on a :class:`~fw.web.server.Site`: traversal of the resource tree,
    rendering, error pages and sessions.

    Attributes:
        site: The site the request arrived on.
        prepath: Path segments traversed so far.
        postpath: Path segments left to traverse.
        sitepath: The prepath at the site's root.
    """

    #: ``Content-Type`` sent when a response sets none.
    defaultContentType: bytes | None = b"text/html"
    site: Any = None
    appRootURL: bytes | None = None
    #: Session cookie name prefixes (plain and HTTPS).
    sessionCookieName = b"FW_SESSION"
    secureSessionCookieName = b"FW_SECURE_SESSION"
    _resource: Any = None
    _resourceFailure: Failure | None = None
    _rendered = False
    _bodyStream: _RequestBodyStream | None = None
    session: Any = None
    _secureSession: Any = None

    def __init__(self, channel: Any, queued: object = None) -> None:
        super().__init__(channel, queued)
        self.prepath: list[bytes] = []
        self.postpath: list[bytes] = []
        self.sitepath: list[bytes] = []

    # -- traversal and rendering --------------------------------------------

    def gotLength(self, length: int | None) -> None:
        """
        A body is coming: find the resource now, and if it sets
        ``streamingRequestBody = True`` render it at once (see :meth:`deliverBody`).
        """
        site = self.site = self.channel.site
        self.prepath = []
        self.postpath = _postpath(self.path)
        try:
            resrc = site.getResourceFor(self)
        except Exception:  # noqa: BLE001  (any traversal error becomes a 500 page)
            self._resourceFailure = Failure()
            super().gotLength(length)
            return
        self._resource = resrc
        if getattr(resrc, "streamingRequestBody", False):
            self._bodyStream = _RequestBodyStream(self)
            self._rendered = True
            try:
                self.render(resrc)
            except Exception:  # noqa: BLE001  (any render error becomes a 500 page)
                self.processingFailed(Failure())
        else:
            super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        """Store a piece of the body, or pass it to a streaming resource."""
        stream = self._bodyStream
        if stream is not None:
            stream.dataReceived(data)
        else:
            super().handleContentChunk(data)

    def deliverBody(self, protocol: Any) -> None:
        """
        Deliver the request body to ``protocol`` as it arrives (for resources
        with ``streamingRequestBody = True``).

        Grammar: ``makeConnection(producer) -> dataReceived(data)* ->
        connectionLost(reason)``; ``reason`` wraps
        :class:`~fw.internet.error.ConnectionDone` when the body is complete
        and :class:`~fw.internet.error.ConnectionLost` when the connection
        dropped first.  ``producer`` pauses and resumes reading the connection.

        Raises:
            RuntimeError: The resource is not streaming, or delivery already started.
        """
        stream = self._bodyStream
        if stream is None:
            if not self._hasBody and self._rendered and self.method:
                # No body at all: end at once.
                stream = self._bodyStream = _RequestBodyStream(self)
                stream.end(Failure(ConnectionDone("request body complete")))
            else:
                raise RuntimeError("deliverBody needs a resource with streamingRequestBody = True")
        stream.deliver(protocol)

    def process(self) -> None:
        """Find the resource for this request on the site and render it."""
        if self._rendered:
            stream = self._bodyStream
            if stream is not None:
                stream.end(Failure(ConnectionDone("request body complete")))
            return
        self._rendered = True
        try:
            resrc = self._resource
            if resrc is None:
                failure = self._resourceFailure
                if failure is not None:
                    failure.raiseException()
                site = self.site = self.channel.site
                if self.prepath:
                    self.prepath = []
                self.postpath = _postpath(self.path)
                resrc = site.getResourceFor(self)
            self.render(resrc)
        except Exception:  # noqa: BLE001  (any render error becomes a 500 page)
            self.processingFailed(Failure())

    def render(self, resrc: Any) -> None:
        """Render ``resrc`` and send what it returns."""
        try:
            body = resrc.render(self)
        except UnsupportedMethod as e:
            self._notAllowed(e.allowedMethods)
            return
        if body.__class__ is bytes:
            self._writeWhole(body)
        elif body == NOT_DONE_YET and body.__class__ is int:
            return
        elif isinstance(body, Deferred) or inspect.isawaitable(body):
            d: Deferred[Any] = ensureDeferred(body)  # type: ignore[arg-type]
            d.addCallbacks(self._asyncRendered, self._asyncFailed)
        elif isinstance(body, bytes):
            self._writeWhole(bytes(body))
        else:
            raise TypeError(
                f"{resrc!r}.render returned {body!r}, "
                "not bytes, NOT_DONE_YET, a Deferred or a coroutine"
            )

    def _asyncRendered(self, body: Any) -> None:
        if self._disconnected or self.finished:
            return
        if isinstance(body, bytes):
            self._writeWhole(body)
        elif body is None or body == NOT_DONE_YET:
            if body is None:
                self.finish()
        else:
            self.processingFailed(
                Failure(TypeError(f"asynchronous render gave {body!r}, not bytes or None"))
            )

    def _asyncFailed(self, reason: Failure) -> None:
        if self._disconnected or self.finished:
            _log.failure("Asynchronous render failed after the response ended", reason)
            return
        self.processingFailed(reason)

    def _notAllowed(self, allowed: Any) -> None:
        allowedText = b", ".join(allowed)
        self.setResponseCode(_s.NOT_ALLOWED)
        self.setHeader(b"allow", allowedText)
        self.setHeader(b"content-type", b"text/html; charset=utf-8")
        method = html.escape(self.method.decode("ascii", "replace"))
        body = (
            "<html><head><title>405 - Method Not Allowed</title></head><body>"
            f"<h1>Method Not Allowed</h1><p>Your browser approached me with the method "
            f'"{method}". I only allow the methods '
            f"{html.escape(allowedText.decode('ascii'))} here.</p>"
            "</body></html>\n"
        ).encode()
        self._writeWhole(body)

    def processingFailed(self, reason: Failure) -> Failure:
        """Log ``reason`` and answer 500 (with the traceback if the site displays them)."""
        _log.failure("Exception rendering request {request!r}", reason, request=self)
        if self._disconnected or self.finished:
            return reason
        if self.startedWriting:
            self._persistent = False
            self.channel.transport.abortConnection()
            return reason
        if self.site is not None and self.site.displayTracebacks:
            text = reason.getTraceback()
            body = (
                "<html><head><title>web.Server Traceback (most recent call last)</title></head>"
                "<body><b>web.Server Traceback (most recent call last):</b>\n"
                f"<pre>{html.escape(text)}</pre>"
                "</body></html>\n"
            ).encode()
        else:
            body = (
                b"<html><head><title>Processing Failed</title></head><body>"
                b"<b>Processing Failed</b></body></html>\n"
            )
        self.responseHeaders = type(self.responseHeaders)()
        self.cookies = []
        self._encoder = None
        self.setResponseCode(_s.INTERNAL_SERVER_ERROR)
        self.setHeader(b"content-type", b"text/html; charset=utf-8")
        self._writeWhole(body)
        return reason

    def connectionLost(self, reason: Failure) -> None:
        """The connection closed before the response finished."""
        stream = self._bodyStream
        if stream is not None:
            stream.end(Failure(ConnectionLost("connection lost before the request body ended")))
        super().connectionLost(reason)

    # -- URLs ---------------------------------------------------------------

    def _prePathURL(self, prepath: list[bytes]) -> bytes:
        port = getattr(self.getHost(), "port", 0)
        secure = self.isSecure()
        default = 443 if secure else 80
        hostport = b"" if port == default else b":%d" % port
        prefix = b"https://" if secure else b"http://"
        path = b"/".join(_quote(segment, safe="").encode("ascii") for segment in prepath)
        return prefix + self.getRequestHostname() + hostport + b"/" + path

    def prePathURL(self) -> bytes:
        """Return the absolute URL of the resource handling this request."""
        return self._prePathURL(self.prepath)

    def URLPath(self) -> _URLPath:
        """Return the URL of the resource handling this request as a URL path object."""
        return _URLPath.fromRequest(self)

    def rememberRootURL(self) -> None:
        """Remember the current prepath's URL as the application root."""
        self.appRootURL = self._prePathURL(self.prepath[:-1] if self.postpath else self.prepath)

    def getRootURL(self) -> bytes | None:
        """Return the URL remembered by :meth:`rememberRootURL`."""
        return self.appRootURL

    # -- sessions -------------------------------------------------------------

    def getSession(self, sessionInterface: Any = None, forceNotSecure: bool = False) -> Any:
        """
        Return this client's :class:`~fw.web.server.Session`, creating it and
        its cookie (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS) if needed.

        With ``sessionInterface``, return that component of the session instead.
        """
        secure = self.isSecure() and not forceNotSecure
        attr = "_secureSession" if secure else "session"
        session = getattr(self, attr)
        if session is not None:
            try:
                session.touch()
            except Exception:  # noqa: BLE001  (an expired session is replaced)
                session = None
        if session is None:
            base = self.secureSessionCookieName if secure else self.sessionCookieName
            cookieName = b"_".join([base, *self.sitepath])
            uid = self.getCookie(cookieName)
            if uid:
                try:
                    session = self.site.getSession(uid)
                except KeyError:
                    session = None
            if session is None:
                session = self.site.makeSession()
                self.addCookie(
                    cookieName,
                    session.uid,
                    path=b"/",
                    secure=secure,
                    httpOnly=True,
                    sameSite="lax",
                )
            setattr(self, attr, session)
            session.touch()
        if sessionInterface is not None:
            return session.getComponent(sessionInterface)
        return session


def _mkuid() -> bytes:
    return os.urandom(16).hex().encode("ascii")
