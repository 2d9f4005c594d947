"""
:class:`DummyRequest` and :class:`DummyChannel`: test resources without sockets.

Example::

    request = DummyRequest([b"child"])
    d = _render(resource, request)   # or request.render(resource)
    assert b"".join(request.written) == b"expected"
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from zope.interface import implementer

from fw.internet.address import IPv4Address
from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.interfaces import ISSLTransport
from fw.python.failure import Failure
from fw.web import _http_status as _s
from fw.web._http_request import Request as _HTTPRequest
from fw.web.http_headers import Headers
from fw.web.server import NOT_DONE_YET, Session, Site

__all__ = ["DummyChannel", "DummyRequest", "DummyRequestHostname", "render"]


class DummyChannel:
    """A stand-in for an :class:`~fw.web.http.HTTPChannel`, recording what is written."""

    class TCP:
        """A transport recording writes in :attr:`written`."""

        port = 80
        disconnected = False
        disconnecting = False

        def __init__(self, peer: Any = None) -> None:
            if peer is None:
                peer = IPv4Address("TCP", "192.168.1.1", 12344)
            self._peer = peer
            self.written = io.BytesIO()
            self.producers: list[tuple[Any, bool]] = []

        def getPeer(self) -> Any:
            """Return the fake client address."""
            return self._peer

        def write(self, data: bytes) -> None:
            """Record ``data``."""
            if not isinstance(data, bytes):
                raise TypeError(f"Can only write bytes to a transport, not {data!r}")
            self.written.write(data)

        def writeSequence(self, iovec: Iterable[bytes]) -> None:
            """Record each of ``iovec``."""
            for data in iovec:
                self.write(data)

        def getHost(self) -> Any:
            """Return the fake server address."""
            return IPv4Address("TCP", "10.0.0.1", self.port)

        def registerProducer(self, producer: Any, streaming: bool) -> None:
            """Record the producer."""
            self.producers.append((producer, streaming))

        def unregisterProducer(self) -> None:
            """Forget the producer."""

        def loseConnection(self) -> None:
            """Mark disconnecting."""
            self.disconnecting = True

        def abortConnection(self) -> None:
            """Mark disconnected."""
            self.disconnected = True

        def pauseProducing(self) -> None:
            """Do nothing."""

        def resumeProducing(self) -> None:
            """Do nothing."""

    @implementer(ISSLTransport)
    class SSL(TCP):
        """A TLS transport stand-in."""

        port = 443

        def getPeerCertificate(self) -> Any:
            """No client certificate."""
            return None

        def loseWriteConnection(self) -> None:
            """Do nothing."""

        def getTcpNoDelay(self) -> bool:
            """Return ``False``."""
            return False

        def setTcpNoDelay(self, enabled: bool) -> None:
            """Do nothing."""

        def getTcpKeepAlive(self) -> bool:
            """Return ``False``."""
            return False

        def setTcpKeepAlive(self, enabled: bool) -> None:
            """Do nothing."""

    _serverHeader = b"Server: fw.web\r\n"

    def __init__(self, peer: Any = None) -> None:
        self.transport: Any = self.TCP(peer)
        self.site: Any = Site(None)
        self.requests: list[Any] = []

    def _now(self) -> float:
        return 0.0

    def _writeHead(self, request: Any, data: bytes) -> None:
        self.transport.write(data)

    def requestDone(self, request: Any) -> None:
        """Record a finished request."""
        self.requests.append(request)

    def isSecure(self) -> bool:
        """Return whether the transport is the TLS stand-in."""
        return ISSLTransport.providedBy(self.transport)

    def getPeer(self) -> Any:
        """Return the transport's peer."""
        return self.transport.getPeer()

    def getHost(self) -> Any:
        """Return the transport's host."""
        return self.transport.getHost()

    def pauseReading(self) -> None:
        """Do nothing."""

    def resumeReading(self) -> None:
        """Do nothing."""

    def _respondToBadRequest(self, status: int, reason: str) -> None:
        self.transport.write(b"HTTP/1.1 %d %s\r\n\r\n" % (status, reason.encode()))


class DummyRequest:
    """
    A request for testing resources: records what is written in :attr:`written`
    and whether it :attr:`finished`.

    Args:
        postpath: The path segments left to traverse (as ``request.postpath``).
        session: A session to return from :meth:`getSession`.
        client: The client address.
    """

    uri = b"http://dummy/"
    method = b"GET"
    client: Any = None
    sitepath: list[bytes]
    code = _s.OK

    def __init__(self, postpath: list[bytes], session: Any = None, client: Any = None) -> None:
        self.sitepath = []
        self.written: list[bytes] = []
        self.finished = 0
        self.postpath = postpath
        self.prepath: list[bytes] = []
        self.session = session
        self.protoSession = session or Session(Site(None), b"0", reactor=_NoClock())  # type: ignore[arg-type]
        self.args: dict[bytes, list[bytes]] = {}
        self.requestHeaders = Headers()
        self.responseHeaders = Headers()
        self.responseCode: int | None = None
        self.responseMessage: bytes | None = None
        self._finishedDeferreds: list[Deferred[None]] | None = []
        self._serverName = b"dummy"
        self.clientproto = b"HTTP/1.0"
        self.content: Any = io.BytesIO()
        self.channel = DummyChannel()
        self.cookies: list[bytes] = []
        self.received_cookies: dict[bytes, bytes] = {}
        self.sentLength = 0
        self.startedWriting = 0
        self.producer: Any = None
        self.streamingProducer = False
        self.lastModified: float | None = None
        self.etag: bytes | None = None
        self.path = b"/" + b"/".join(postpath)
        if client is not None:
            self.client = client
        self._disconnected = False

    @property
    def transport(self) -> Any:
        """The dummy channel's transport."""
        return self.channel.transport

    def getAllHeaders(self) -> dict[bytes, bytes]:
        """Return the request headers, name to last value."""
        return {k: v[-1] for k, v in self.requestHeaders.getAllRawHeaders()}

    def getHeader(self, name: bytes | str) -> Any:
        """Return the last value of request header ``name``, or ``None``."""
        values = self.requestHeaders.getRawHeaders(name)
        return values[-1] if values else None

    def setHeader(self, name: bytes | str, value: bytes | str) -> None:
        """Set a response header."""
        self.responseHeaders.setRawHeaders(name, [value])

    def getSession(self, sessionInterface: Any = None) -> Any:
        """Return the session given to the constructor, or a default one."""
        session = self.session or self.protoSession
        if sessionInterface is not None:
            return session.getComponent(sessionInterface)
        return session

    def render(self, resource: Any) -> None:
        """Render ``resource``: write and finish when it returns bytes."""
        result = resource.render(self)
        if result == NOT_DONE_YET and not isinstance(result, bytes):
            return
        if isinstance(result, Deferred) or hasattr(result, "__await__"):
            ensureDeferred(result).addCallback(self._asyncResult)
            return
        self.write(result)
        self.finish()

    def _asyncResult(self, result: Any) -> None:
        if isinstance(result, bytes):
            self.write(result)
        if not self.finished:
            self.finish()

    def write(self, data: bytes) -> None:
        """
        Record ``data``.

        Raises:
            TypeError: ``data`` is not bytes.
        """
        if not isinstance(data, bytes):
            raise TypeError(f"write() only accepts bytes, not {type(data).__name__}")
        self.startedWriting = 1
        self.sentLength += len(data)
        self.written.append(data)

    def writeSequence(self, data: list[bytes]) -> None:
        """Record each of ``data``."""
        for piece in data:
            self.write(piece)

    def notifyFinish(self) -> Deferred[None]:
        """Return a Deferred firing on :meth:`finish` (failing on :meth:`processingFailed`)."""
        finished: Deferred[None] = Deferred()
        if self._finishedDeferreds is None:
            finished.callback(None)
        else:
            self._finishedDeferreds.append(finished)
        return finished

    def finish(self) -> None:
        """Mark finished and fire :meth:`notifyFinish` Deferreds."""
        self.finished = self.finished + 1
        if self._finishedDeferreds is not None:
            observers, self._finishedDeferreds = self._finishedDeferreds, None
            for d in observers:
                d.callback(None)

    def processingFailed(self, reason: Failure) -> None:
        """Fail the :meth:`notifyFinish` Deferreds with ``reason``."""
        if self._finishedDeferreds is not None:
            observers, self._finishedDeferreds = self._finishedDeferreds, None
            for d in observers:
                d.errback(reason)

    def connectionLost(self, reason: Failure) -> None:
        """Simulate the connection being lost: fail the :meth:`notifyFinish` Deferreds."""
        self._disconnected = True
        self.processingFailed(reason)

    def addArg(self, name: bytes, value: bytes) -> None:
        """Add a request argument."""
        self.args[name] = [value]

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        """Record the status code."""
        if not isinstance(code, int):
            raise TypeError("HTTP response code must be int")
        self.responseCode = code
        self.code = code
        self.responseMessage = message

    def setLastModified(self, when: float) -> None:
        """Record ``Last-Modified``."""
        self.lastModified = when

    def setETag(self, tag: bytes) -> None:
        """Record the ETag."""
        self.etag = tag

    def getClientIP(self) -> str | None:
        """Return the client's IP address."""
        address = self.getClientAddress()
        return getattr(address, "host", None)

    def getClientAddress(self) -> Any:
        """Return the client address (``client`` or the dummy transport's peer)."""
        if self.client is not None:
            return self.client
        return self.channel.transport.getPeer()

    def getRequestHostname(self) -> bytes:
        """Return the ``Host`` header's host, or the dummy server name."""
        host = self.getHeader(b"host")
        if host:
            return host.split(b":", 1)[0]  # type: ignore[no-any-return]
        return self._serverName

    def getHost(self) -> Any:
        """Return the fake server address."""
        return IPv4Address("TCP", "127.0.0.1", 80)

    def setHost(self, host: bytes, port: int, ssl: bool = False) -> None:
        """Set the ``Host`` header and server name."""
        self.requestHeaders.setRawHeaders(
            b"host", [host if port in (80, 443) else host + b":%d" % port]
        )
        self._serverName = host

    def redirect(self, url: bytes | str) -> None:
        """Set a 302 redirect."""
        self.setResponseCode(_s.FOUND)
        self.setHeader(b"location", url)

    def isSecure(self) -> bool:
        """Return whether the dummy channel is TLS."""
        return bool(self.channel.isSecure())

    def getUser(self) -> bytes:
        """Return the HTTP Basic user, from the ``Authorization`` header."""
        return _HTTPRequest._authorization(self)[0]  # type: ignore[arg-type]

    def getPassword(self) -> bytes:
        """Return the HTTP Basic password."""
        return _HTTPRequest._authorization(self)[1]  # type: ignore[arg-type]

    def getCookie(self, name: bytes) -> bytes | None:
        """Return a request cookie."""
        return self.received_cookies.get(name)

    def addCookie(self, k: bytes | str, v: bytes | str, **kwargs: Any) -> None:
        """Record a response cookie (via the real request's formatting)."""
        _HTTPRequest.addCookie(self, k, v, **kwargs)  # type: ignore[arg-type]

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Register a producer; a pull producer is pulled until the request finishes."""
        self.producer = producer
        self.streamingProducer = streaming
        if not streaming:
            while self.producer is not None and not self.finished:
                producer.resumeProducing()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None

    def prePathURL(self) -> bytes:
        """Return the URL of the prepath."""
        return b"http://" + self.getRequestHostname() + b"/" + b"/".join(self.prepath)


class DummyRequestHostname(DummyRequest):
    """Kept for Twisted compatibility: a :class:`DummyRequest`."""


class _NoClock:
    """A clock that never fires, for the default dummy session."""

    def seconds(self) -> float:
        return 0.0

    def callLater(self, delay: float, f: Any, *args: Any, **kw: Any) -> Any:
        raise RuntimeError("DummyRequest's default session does not expire")


def render(resource: Any, request: DummyRequest) -> Deferred[None]:
    """
    Render ``resource`` with ``request``; return a Deferred firing when the request finishes.

    Raises:
        ValueError: ``render`` returned something other than bytes or ``NOT_DONE_YET``.
    """
    result = resource.render(request)
    if isinstance(result, bytes):
        request.write(result)
        request.finish()
        d: Deferred[None] = Deferred()
        d.callback(None)
        return d
    if result == NOT_DONE_YET:
        if request.finished:
            d = Deferred()
            d.callback(None)
            return d
        return request.notifyFinish()
    if isinstance(result, Deferred) or hasattr(result, "__await__"):
        request._asyncResultDeferred = ensureDeferred(result).addCallback(request._asyncResult)  # type: ignore[attr-defined]
        return request.notifyFinish()
    raise ValueError(f"Unexpected return value: {result!r}")
