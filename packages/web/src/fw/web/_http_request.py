"""
:class:`Request`: one HTTP request and its response, as ``fw.web.http`` exposes it.

The channel builds a request when a request head arrives and drives it:
``gotLength(length) -> handleContentChunk(data)* -> requestReceived(method,
uri, version) -> process()``.  The application answers with
``setResponseCode``/``setHeader``/``addCookie``, then ``write(data)*`` and
one ``finish()``.
"""

from __future__ import annotations

import base64
import io
import tempfile
import warnings
from typing import IO, TYPE_CHECKING, Any

from zope.interface import implementer

from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred
from fw.internet.interfaces import IAddress, IConsumer
from fw.python.failure import Failure
from fw.web import _http_status as _s
from fw.web._http_dates import dateCache, datetimeToString, stringToDatetime
from fw.web._http_forms import FormError, parse_qs, parseForm
from fw.web.http_headers import Headers

if TYPE_CHECKING:
    from fw.web._http_channel import HTTPChannel

__all__ = ["CACHED", "Request"]

#: Returned by ``setLastModified``/``setETag`` when the client's copy is current.
CACHED = b"CACHED"

#: Request bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_THRESHOLD = 100_000

_NO_BODY_CODES = frozenset({_s.NO_CONTENT, _s.NOT_MODIFIED})

_statusLines: dict[int, bytes] = {
    code: b"HTTP/1.1 %d %s\r\n" % (code, reason) for code, reason in _s.RESPONSES.items()
}


def _statusLine(code: int, message: bytes | None) -> bytes:
    if message is None:
        line = _statusLines.get(code)
        if line is not None:
            return line
        message = _s.RESPONSES.get(code, b"Unknown Status")
    return b"HTTP/1.1 %d %s\r\n" % (code, message)


def _toBytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


@implementer(IConsumer)
class Request:
    """
    An HTTP request received by an :class:`~fw.web.http.HTTPChannel`.

    This base class handles the protocol; :class:`fw.web.server.Request`
    adds the resource tree and provides :class:`~fw.web.iweb.IRequest`.

    Args:
        channel: The channel the request arrived on.
        queued: Ignored; kept for Twisted's signature (requests are never queued).

    Attributes:
        method: The method, e.g. ``b'GET'``.
        uri: The request target as received.
        path: The target's path, without query.
        args: Query (and, for form bodies, form) arguments.
        code: The response status code (200 until set).
        sentLength: Response body bytes written.
    """

    producer: Any = None
    method: bytes = b"GET"
    uri: bytes = b""
    path: bytes = b""
    clientproto: bytes = b"HTTP/1.1"
    etag: bytes | None = None
    lastModified: float | None = None
    _forceSSL = 0
    _encoder: Any = None

    code = _s.OK
    code_message: bytes | None = None
    sentLength = 0
    startedWriting = 0
    finished = 0
    chunked = 0
    streamingProducer = False
    client: IAddress | None = None
    host: IAddress | None = None
    queued = 0
    _disconnected = False
    _notifications: list[Deferred[None]] | None = None
    _receivedCookies: dict[bytes, bytes] | None = None
    _persistent = True
    _head = False
    _hasBody = False
    _content: IO[bytes] | None = None
    #: ``Content-Type`` sent when a response sets none (``fw.web.server.Request``: text/html).
    defaultContentType: bytes | None = None

    def __init__(self, channel: HTTPChannel | Any, queued: object = None) -> None:
        # Only mutable state is set here; everything else is a class default,
        # so making a request (once per request!) stays cheap.
        self.channel: Any = channel
        self.transport = getattr(channel, "transport", None)
        self.requestHeaders = Headers()
        self.responseHeaders = Headers()
        self.cookies: list[bytes] = []
        self.args: dict[bytes, list[bytes]] = {}

    @property
    def content(self) -> IO[bytes]:
        """
        The request body, as a file positioned at its start: in memory up to
        :data:`SPOOL_THRESHOLD` bytes, else a temporary file.
        """
        content = self._content
        if content is None:
            content = self._content = io.BytesIO()
        return content

    @content.setter
    def content(self, value: IO[bytes]) -> None:
        self._content = value

    # -- receiving ---------------------------------------------------------

    def gotLength(self, length: int | None) -> None:
        """
        Prepare :attr:`content` for a body of ``length`` bytes (``None``: unknown, chunked).
        """
        self._hasBody = True
        if length is not None and length < SPOOL_THRESHOLD:
            pass
        else:
            self.content = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the request)

    def handleContentChunk(self, data: bytes) -> None:
        """Append a piece of the body to :attr:`content`; spills to a temp file when big."""
        content = self.content
        if isinstance(content, io.BytesIO) and content.tell() + len(data) > SPOOL_THRESHOLD:
            spooled = tempfile.TemporaryFile()  # noqa: SIM115
            spooled.write(content.getvalue())
            self.content = content = spooled
        content.write(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        """
        The whole request has arrived: set :attr:`method`, :attr:`uri`, :attr:`path`,
        :attr:`args`, then call :meth:`process`.
        """
        self._setRequestLine(command, path, version)
        if self._hasBody:
            self.content.seek(0, 0)
            ctype = self.requestHeaders._getLast(b"content-type")
            if self.method == b"POST" and ctype is not None and b"form" in ctype:
                try:
                    form = parseForm(ctype, self.content.read())
                except FormError:
                    self.channel._respondToBadRequest(_s.BAD_REQUEST, "Malformed form body")
                    return
                finally:
                    self.content.seek(0, 0)
                args = self.args
                for key, values in form.items():
                    args.setdefault(key, []).extend(values)
        self.process()

    def _setRequestLine(self, command: bytes, path: bytes, version: bytes) -> None:
        self.method = command
        self.uri = path
        self.clientproto = version
        self._head = command == b"HEAD"
        q = path.find(b"?")
        if q < 0:
            p = path
            if self.args:
                self.args = {}
        else:
            p = path[:q]
            self.args = parse_qs(path[q + 1 :], keep_blank_values=True)
        if p[:1] != b"/" and b"://" in p:
            # absolute-form (RFC 9112 section 3.2.2): keep only the path.
            slash = p.find(b"/", p.find(b"://") + 3)
            p = b"/" if slash < 0 else p[slash:]
        self.path = p
        channel = self.channel
        peer = getattr(channel, "_peer", None)
        if peer is not None:
            self.client = peer
        else:
            transport = getattr(channel, "transport", None)
            if transport is not None:
                self.client = transport.getPeer()

    def process(self) -> None:
        """Handle the request; override this (``fw.web.server.Request`` renders a resource)."""

    # -- request information -----------------------------------------------

    @property
    def received_cookies(self) -> dict[bytes, bytes]:
        """The request's cookies, parsed on first use."""
        cookies = self._receivedCookies
        if cookies is None:
            cookies = self._receivedCookies = {}
            for header in self.requestHeaders._rawHeaders.get(b"cookie", ()):
                for pair in header.split(b";"):
                    name, eq, value = pair.partition(b"=")
                    if eq:
                        cookies[name.strip()] = value.strip()
        return cookies

    @received_cookies.setter
    def received_cookies(self, value: dict[bytes, bytes]) -> None:
        self._receivedCookies = value

    def parseCookies(self) -> None:
        """Parse the ``Cookie`` headers into :attr:`received_cookies` (done lazily anyway)."""
        self._receivedCookies = None
        self.received_cookies  # noqa: B018

    def getHeader(self, key: bytes | str) -> Any:
        """Return the last value of header ``key`` (``str`` in, ``str`` out) or ``None``."""
        values = self.requestHeaders.getRawHeaders(key)
        if values:
            return values[-1]
        return None

    def getAllHeaders(self) -> dict[bytes, bytes]:
        """Return every request header: lower-cased name to its last value."""
        return {name: values[-1] for name, values in self.requestHeaders._rawHeaders.items()}

    def getCookie(self, key: bytes) -> bytes | None:
        """Return the value of request cookie ``key``, or ``None``."""
        return self.received_cookies.get(key)

    def getRequestHostname(self) -> bytes:
        """Return the requested host name (``Host`` without its port), else the local host."""
        host = self.requestHeaders._getLast(b"host")
        if host:
            if host[:1] == b"[":
                return host.split(b"]", 1)[0] + b"]"
            return host.rsplit(b":", 1)[0] if host.count(b":") == 1 else host
        return str(getattr(self.getHost(), "host", "")).encode("ascii")

    def getHost(self) -> Any:
        """Return the local address the request arrived on."""
        if self.host is not None:
            return self.host
        transport = getattr(self.channel, "transport", None)
        return transport.getHost() if transport is not None else None

    def setHost(self, host: bytes, port: int, ssl: bool = False) -> None:
        """Make this request believe it arrived on ``host:port`` (over TLS if ``ssl``)."""
        self._forceSSL = ssl
        if (ssl and port == 443) or (not ssl and port == 80):
            self.requestHeaders.setRawHeaders(b"host", [host])
        else:
            self.requestHeaders.setRawHeaders(b"host", [host + b":%d" % port])
        self.host = IPv4Address("TCP", host.decode("ascii"), port)

    def getClientAddress(self) -> Any:
        """
        Return the client's address.

        Behind :mod:`fw.protocols.haproxy`'s wrapper the transport's peer is
        the real client named by the PROXY header, so that is what this gives.
        """
        if self.client is not None:
            return self.client
        transport = getattr(self.channel, "transport", None)
        return transport.getPeer() if transport is not None else None

    def getClientIP(self) -> str | None:
        """Return the client's IP address, or ``None`` when not on IP."""
        address = self.getClientAddress()
        if isinstance(address, (IPv4Address, IPv6Address)):
            return address.host
        return None

    def isSecure(self) -> bool:
        """Return whether the request arrived over TLS."""
        if self._forceSSL:
            return True
        channel = self.channel
        if channel is None:
            return False
        isSecure = getattr(channel, "isSecure", None)
        return bool(isSecure()) if isSecure is not None else False

    def _authorization(self) -> tuple[bytes, bytes]:
        header = self.requestHeaders._getLast(b"authorization")
        if not header:
            return b"", b""
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic":
            return b"", b""
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            return b"", b""
        user, _, password = decoded.partition(b":")
        return user, password

    def getUser(self) -> bytes:
        """Return the HTTP Basic user name, or ``b''``."""
        return self._authorization()[0]

    def getPassword(self) -> bytes:
        """Return the HTTP Basic password, or ``b''``."""
        return self._authorization()[1]

    # -- response ------------------------------------------------------------

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        """
        Set the status code and, optionally, reason phrase.

        Raises:
            TypeError: ``code`` is not an int.
        """
        if not isinstance(code, int):
            raise TypeError(f"HTTP response code must be int, not {type(code).__name__}")
        if message is not None and (b"\r" in message or b"\n" in message):
            raise ValueError("reason phrase contains CR or LF")
        self.code = code
        self.code_message = message

    def setHeader(self, name: bytes | str, value: bytes | str) -> None:
        """Set response header ``name`` to ``value``, replacing earlier values."""
        self.responseHeaders.setRawHeaders(name, [value])

    def addCookie(
        self,
        k: bytes | str,
        v: bytes | str,
        expires: bytes | str | None = None,
        domain: bytes | str | None = None,
        path: bytes | str | None = None,
        max_age: bytes | str | int | None = None,
        comment: bytes | str | None = None,
        secure: bool | None = None,
        httpOnly: bool = False,
        sameSite: str | None = None,
    ) -> None:
        """
        Set a response cookie (RFC 6265).

        Raises:
            ValueError: A part contains CR, LF or ``;``, or ``sameSite`` is not
                ``lax``, ``strict`` or ``none``.
        """

        def clean(value: bytes | str) -> bytes:
            raw = _toBytes(value)
            if b"\r" in raw or b"\n" in raw or b";" in raw:
                raise ValueError(f"cookie part contains CR, LF or ';': {raw!r}")
            return raw

        cookie = clean(k) + b"=" + clean(v)
        if expires is not None:
            cookie += b"; Expires=" + clean(expires)
        if domain is not None:
            cookie += b"; Domain=" + clean(domain)
        if path is not None:
            cookie += b"; Path=" + clean(path)
        if max_age is not None:
            cookie += b"; Max-Age=" + clean(str(max_age))
        if comment is not None:
            cookie += b"; Comment=" + clean(comment)
        if secure:
            cookie += b"; Secure"
        if httpOnly:
            cookie += b"; HttpOnly"
        if sameSite:
            if sameSite.lower() not in ("lax", "strict", "none"):
                raise ValueError("sameSite must be 'lax', 'strict' or 'none'")
            cookie += b"; SameSite=" + sameSite.lower().encode("ascii")
        self.cookies.append(cookie)

    def redirect(self, url: bytes | str) -> None:
        """Answer 302 Found with ``Location: url``."""
        self.setResponseCode(_s.FOUND)
        self.setHeader(b"location", url)

    def setLastModified(self, when: float) -> bytes | None:
        """Set ``Last-Modified``; return :data:`CACHED` (and set 304) if the client is current."""
        when = int(when + 0.999999) if when != int(when) else int(when)
        if self.lastModified is None or self.lastModified < when:
            self.lastModified = when
        modifiedSince = self.requestHeaders._getLast(b"if-modified-since")
        if modifiedSince:
            try:
                since = stringToDatetime(modifiedSince.split(b";", 1)[0])
            except ValueError:
                return None
            if since >= when:
                self.setResponseCode(_s.NOT_MODIFIED)
                return CACHED
        return None

    def setETag(self, etag: bytes) -> bytes | None:
        """Set ``ETag``; return :data:`CACHED` (and set 304 or 412) if the client has it."""
        if etag:
            self.etag = etag
        tags = self.requestHeaders._getLast(b"if-none-match")
        if tags:
            candidates = [t.strip() for t in tags.split(b",")]
            if etag in candidates or b"*" in candidates:
                self.setResponseCode(
                    _s.NOT_MODIFIED if self.method in (b"GET", b"HEAD") else _s.PRECONDITION_FAILED
                )
                return CACHED
        return None

    def _headBytes(self, bodyLength: int | None) -> bytes:
        """Serialize the status line and headers; decide framing and persistence."""
        code = self.code
        message = self.code_message
        line = _statusLines.get(code) if message is None else None
        out = [line if line is not None else _statusLine(code, message)]
        headers = self.responseHeaders
        raw = headers._rawHeaders
        contentType = self.defaultContentType
        if contentType is not None and b"content-type" not in raw and code not in _NO_BODY_CODES:
            raw[b"content-type"] = [contentType]
        if self.lastModified is not None and b"last-modified" not in raw:
            raw[b"last-modified"] = [datetimeToString(self.lastModified)]
        if self.etag is not None and b"etag" not in raw:
            raw[b"etag"] = [self.etag]
        headers._serialize(out)
        if self.cookies:
            out.extend([b"Set-Cookie: " + cookie + b"\r\n" for cookie in self.cookies])
        if b"date" not in raw:
            out.append(dateCache.line())
        if b"server" not in raw:
            out.append(self.channel._serverHeader)
        persistent = self._persistent
        if code in _NO_BODY_CODES or 100 <= code < 200 or b"content-length" in raw:
            pass
        elif bodyLength is not None:
            out.append(b"Content-Length: %d\r\n" % bodyLength)
        elif self.clientproto == b"HTTP/1.1":
            if not self._head:
                self.chunked = 1
                out.append(b"Transfer-Encoding: chunked\r\n")
        else:
            persistent = False
        if not persistent:
            self._persistent = False
            out.append(b"Connection: close\r\n\r\n")
        elif self.clientproto == b"HTTP/1.0":
            out.append(b"Connection: keep-alive\r\n\r\n")
        else:
            out.append(b"\r\n")
        return b"".join(out)

    def write(self, data: bytes) -> None:
        """
        Write ``data`` to the response body, sending the head first.

        Raises:
            RuntimeError: The request is finished or its connection was lost.
        """
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish was called."
            )
        if self._disconnected:
            return
        encoder = self._encoder
        if encoder is not None:
            data = encoder.encode(data)
        if not self.startedWriting:
            self.startedWriting = 1
            head = self._headBytes(None)
            self.channel._writeHead(self, head)
        if not data:
            return
        self.sentLength += len(data)
        if self._head or self.code in _NO_BODY_CODES:
            return
        if self.chunked:
            self.channel.transport.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.channel.transport.write(data)

    def writeSequence(self, data: list[bytes]) -> None:
        """Write each of ``data`` in turn."""
        for piece in data:
            self.write(piece)

    def _writeWhole(self, body: bytes) -> None:
        """Send a complete response with ``body`` in one write, then finish."""
        if self._encoder is not None or self.startedWriting:
            self.write(body)
            self.finish()
            return
        self.startedWriting = 1
        length = len(body)
        head = self._headBytes(length)
        self.sentLength = length
        if self._head or self.code in _NO_BODY_CODES:
            self.channel._writeHead(self, head)
        else:
            self.channel._writeHead(self, head + body)
        self.finish()

    def finish(self) -> None:
        """
        End the response.

        Raises:
            RuntimeError: The connection was lost before (use :meth:`notifyFinish`).
        """
        if self._disconnected:
            raise RuntimeError(
                "Request.finish called on a request after its connection was lost; "
                "use Request.notifyFinish to keep track of this."
            )
        if self.finished:
            warnings.warn("Warning! request.finish called twice.", stacklevel=2)
            return
        encoder = self._encoder
        if encoder is not None:
            tail = encoder.finish()
            self._encoder = None
            if tail:
                self.write(tail)
        if not self.startedWriting:
            self.startedWriting = 1
            head = self._headBytes(None if self.chunked else 0)
            self.channel._writeHead(self, head)
        elif self.chunked and not self._head:
            self.channel.transport.write(b"0\r\n\r\n")
        self.finished = 1
        self.channel.requestDone(self)
        notifications = self._notifications
        if notifications is not None:
            self._notifications = None
            for d in notifications:
                d.callback(None)

    def notifyFinish(self) -> Deferred[None]:
        """
        Return a Deferred that fires with ``None`` when the response is finished,
        or fails when the connection is lost first.
        """
        d: Deferred[None] = Deferred()
        if self.finished:
            d.callback(None)
        elif self._disconnected:
            d.errback(
                getattr(self, "_lostReason", None) or Failure(ConnectionError("connection lost"))
            )
        else:
            if self._notifications is None:
                self._notifications = []
            self._notifications.append(d)
        return d

    def connectionLost(self, reason: Failure) -> None:
        """The connection closed before the response finished."""
        if self.finished:
            return
        self._disconnected = True
        self._lostReason = reason
        producer = self.producer
        if producer is not None:
            self.producer = None
            producer.stopProducing()
        notifications = self._notifications
        if notifications is not None:
            self._notifications = None
            for d in notifications:
                d.errback(reason)

    def loseConnection(self) -> None:
        """Close the connection (after what was written is sent)."""
        self.channel.transport.loseConnection()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """
        Register a producer writing the response body; it is paused and resumed
        with the connection.

        Raises:
            ValueError: A producer is already registered.
        """
        if self.producer is not None:
            raise ValueError(
                f"registering producer {producer!r} before previous one "
                f"({self.producer!r}) was unregistered"
            )
        self.producer = producer
        self.streamingProducer = streaming
        self.channel.transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """Unregister the producer."""
        if self.producer is not None:
            self.producer = None
            transport = self.channel.transport
            if transport is not None:
                transport.unregisterProducer()

    def noLongerQueued(self) -> None:
        """Kept for Twisted compatibility: requests are never queued."""

    def __repr__(self) -> str:
        method = self.method.decode("ascii", "replace")
        uri = self.uri.decode("ascii", "replace")
        proto = self.clientproto.decode("ascii", "replace")
        name = type(self).__name__
        return f"<{name} at 0x{id(self):x} method={method} uri={uri} clientproto={proto}>"
