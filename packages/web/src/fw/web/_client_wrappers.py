"""
What is built on an agent: ``readBody``, ``FileBodyProducer``, the
redirect, content-decoding and cookie agents, with Twisted's names.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Sequence
from http.cookiejar import CookieJar
from typing import Any, BinaryIO
from urllib.parse import urljoin

from zope.interface import implementer

from fw.internet.defer import Deferred, fail
from fw.internet.protocol import Protocol
from fw.python.failure import Failure
from fw.web._client_agent import URI
from fw.web._newclient import ResponseDone, ResponseFailed
from fw.web.error import Error, InfiniteRedirection, PageRedirect, RedirectWithNoLocation
from fw.web.http import PotentialDataLoss
from fw.web.http_headers import Headers
from fw.web.iweb import UNKNOWN_LENGTH, IAgent, IBodyProducer, IResponse

# -- errors ---------------------------------------------------------------------------


class PartialDownloadError(Error):
    """
    The body ended with the connection and may be short; ``response`` holds
    the bytes received.
    """


# -- reading bodies -------------------------------------------------------------------


class _ReadBodyProtocol(Protocol):
    def __init__(self, status: int, message: bytes, deferred: Deferred[bytes]) -> None:
        self._status = status
        self._message = message
        self._deferred = deferred
        self._data: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        if not self._deferred.called:
            self._data.append(data)

    def connectionLost(self, reason: Failure = Failure(ResponseDone())) -> None:  # noqa: B008
        if self._deferred.called:
            return
        body = b"".join(self._data)
        if reason.check(ResponseDone):
            self._deferred.callback(body)
        elif reason.check(PotentialDataLoss):
            self._deferred.errback(PartialDownloadError(self._status, self._message, body))
        else:
            self._deferred.errback(reason)


def readBody(response: Any) -> Deferred[bytes]:
    """
    The whole body of ``response``.

    The Deferred fails with :class:`PartialDownloadError` (its ``response``
    holds the bytes) when the body had no length and ended with the
    connection, or with the ``ResponseFailed`` that ended it.  Cancelling it
    aborts the connection.
    """
    protocol: _ReadBodyProtocol

    def cancel(d: Deferred[bytes]) -> None:
        transport = protocol.transport
        if transport is not None:
            transport.stopProducing()  # type: ignore[attr-defined]

    d: Deferred[bytes] = Deferred(cancel)
    protocol = _ReadBodyProtocol(response.code, response.phrase, d)
    response.deliverBody(protocol)
    return d


# -- request bodies -------------------------------------------------------------------


@implementer(IBodyProducer)
class FileBodyProducer:
    """
    A request body read from a file, ``readSize`` bytes per turn of a
    cooperator (so a large upload never blocks the reactor).

    Args:
        inputFile: a binary file (or ``io.BytesIO``); its ``length`` is known
            when it can seek, else the body is sent chunked.
        cooperator: what schedules the reads: an object with ``cooperate``
            (fw.internet.task, the default, or a ``Cooperator``).
        readSize: bytes per read.
    """

    def __init__(self, inputFile: BinaryIO, cooperator: Any = None, readSize: int = 2**16) -> None:
        if cooperator is None:
            from fw.internet import task

            cooperator = task
        self._inputFile = inputFile
        self._cooperate = cooperator.cooperate
        self._readSize = readSize
        self._task: Any = None
        self.length: int | str = self._determineLength(inputFile)

    def _determineLength(self, fObj: BinaryIO) -> int | str:
        try:
            seek, tell = fObj.seek, fObj.tell
            originalPosition = tell()
            seek(0, io.SEEK_END)
            end = tell()
            seek(originalPosition, io.SEEK_SET)
        except (AttributeError, OSError, ValueError):
            return UNKNOWN_LENGTH
        return end - originalPosition

    def stopProducing(self) -> None:
        """Stop: close the file; ``startProducing``'s Deferred never fires."""
        self._inputFile.close()
        if self._task is not None:
            from fw.internet.task import TaskFinished

            with contextlib.suppress(TaskFinished):  # already finished or stopped
                self._task.stop()

    def startProducing(self, consumer: Any) -> Deferred[None]:
        """Write the file to ``consumer``; fire when all of it is written."""
        from fw.internet.task import TaskStopped

        self._task = self._cooperate(self._writeloop(consumer))
        d: Deferred[Any] = self._task.whenDone()

        def maybeStopped(reason: Failure) -> Deferred[None]:
            reason.trap(TaskStopped)
            return Deferred()

        d.addCallbacks(lambda ignored: None, maybeStopped)
        return d

    def _writeloop(self, consumer: Any) -> Any:
        while True:
            data = self._inputFile.read(self._readSize)
            if not data:
                self._inputFile.close()
                break
            consumer.write(data)
            yield None

    def pauseProducing(self) -> None:
        """Stop reading until ``resumeProducing``."""
        if self._task is not None:
            self._task.pause()

    def resumeProducing(self) -> None:
        """Read again."""
        if self._task is not None:
            self._task.resume()


# -- redirects ------------------------------------------------------------------------

# Headers that carry credentials: not sent to another origin (RFC 9110
# section 15.4: a user agent must not leak credentials across a redirect).
_SENSITIVE = (b"authorization", b"cookie", b"cookie2", b"proxy-authorization")
# Headers describing a request body: dropped when a redirect changes the
# method to GET (RFC 9110 section 15.4).
_BODY_HEADERS = (
    b"content-type",
    b"content-length",
    b"content-encoding",
    b"content-language",
    b"content-location",
    b"transfer-encoding",
)


def _origin(uri: URI) -> tuple[bytes, bytes, int]:
    return (uri.scheme, uri.host.lower(), uri.port)


@implementer(IAgent)
class RedirectAgent:
    """
    Follow redirects (RFC 9110 section 15.4) up to ``redirectLimit`` times.

    301, 302, 307 and 308 are followed with the same method for GET and
    HEAD (and for other methods without a body on 307/308); other requests
    fail with a :class:`PageRedirect`.  303 is followed with GET (HEAD stays
    HEAD).  Credentials (``Authorization``, ``Cookie``,
    ``Proxy-Authorization``) are not sent to a different origin.  Each
    response's ``previousResponse`` is the one redirected from.

    Args:
        agent: the agent to send requests with.
        redirectLimit: most redirects followed for one request.
        sensitiveHeaderNames: more header names not to send to another
            origin.
    """

    _redirectResponses: Sequence[int] = (301, 302, 307, 308)
    _seeOtherResponses: Sequence[int] = (303,)

    def __init__(
        self, agent: Any, redirectLimit: int = 20, sensitiveHeaderNames: Sequence[bytes] = ()
    ) -> None:
        self._agent = agent
        self._redirectLimit = redirectLimit
        self._sensitive = _SENSITIVE + tuple(name.lower() for name in sensitiveHeaderNames)

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Request ``uri``, following redirects: see :meth:`Agent.request`."""
        d: Deferred[Any] = self._agent.request(method, uri, headers, bodyProducer)
        return d.addCallback(self._handleResponse, method, uri, headers, bodyProducer, 0)

    def _resolveLocation(self, requestURI: bytes, location: bytes) -> bytes:
        return urljoin(requestURI.decode("latin-1"), location.decode("latin-1")).encode("latin-1")

    def _handleRedirect(
        self,
        response: Any,
        method: bytes,
        uri: bytes,
        headers: Headers | None,
        bodyProducer: Any,
        redirectCount: int,
    ) -> Deferred[Any]:
        if redirectCount >= self._redirectLimit:
            err = InfiniteRedirection(
                response.code, b"Infinite redirection detected", location=uri
            )
            return fail(ResponseFailed([Failure(err)], response))
        locations = response.headers.getRawHeaders(b"location", [])
        if not locations:
            err2 = RedirectWithNoLocation(response.code, b"No location header field", uri)
            return fail(ResponseFailed([Failure(err2)], response))
        location = self._resolveLocation(uri, locations[0])
        try:
            old, new = URI.fromBytes(uri), URI.fromBytes(location)
        except ValueError:
            return fail(ResponseFailed([Failure()], response))
        if headers is not None:
            headers = headers.copy()
            if _origin(old) != _origin(new):
                for name in self._sensitive:
                    headers.removeHeader(name)
            # The Host header names the old server; the agent sets the new one.
            headers.removeHeader(b"host")
            if bodyProducer is None:
                for name in _BODY_HEADERS:
                    headers.removeHeader(name)
        # The body (if any) was consumed by the first request.
        d: Deferred[Any] = self._agent.request(method, location, headers, bodyProducer)

        def setPrevious(newResponse: Any) -> Any:
            newResponse.setPreviousResponse(response)
            return newResponse

        d.addCallback(setPrevious)
        return d.addCallback(
            self._handleResponse, method, location, headers, bodyProducer, redirectCount + 1
        )

    def _handleResponse(
        self,
        response: Any,
        method: bytes,
        uri: bytes,
        headers: Headers | None,
        bodyProducer: Any,
        redirectCount: int,
    ) -> Any:
        if response.code in self._redirectResponses:
            if method.upper() not in (b"GET", b"HEAD") and (
                response.code in (301, 302) or bodyProducer is not None
            ):
                location = response.headers.getRawHeaders(b"location", [None])[0]
                err = PageRedirect(response.code, response.phrase, None, location)
                raise ResponseFailed([Failure(err)], response)
            return self._handleRedirect(response, method, uri, headers, None, redirectCount)
        if response.code in self._seeOtherResponses:
            newMethod = b"HEAD" if method.upper() == b"HEAD" else b"GET"
            return self._handleRedirect(response, newMethod, uri, headers, None, redirectCount)
        return response


class BrowserLikeRedirectAgent(RedirectAgent):
    """
    A :class:`RedirectAgent` that, as browsers do, turns a POST (or any
    method but GET and HEAD) redirected by 301, 302 or 303 into a GET
    without a body (RFC 9110 section 15.4.2 and 15.4.3 allow it); 307 and
    308 keep the method.
    """

    _redirectResponses = (307, 308)
    _seeOtherResponses = (301, 302, 303)


# -- content decoding -----------------------------------------------------------------

#: Most decoded bytes handed to the body protocol per call, so one small
#: compressed chunk cannot expand into one huge string (a zip bomb).
_DECODE_PIECE = 65536


class _ResponseProxy:
    """An IResponse that forwards everything to ``original``."""

    headers: Headers

    def __init__(self, response: Any) -> None:
        self.original = response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


class _GzipProtocol(Protocol):
    def __init__(self, protocol: Any, response: Any) -> None:
        self._protocol = protocol
        self._response = response
        self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._failed = False

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self._protocol.makeConnection(transport)

    def _deliver(self, data: bytes) -> None:
        out = self._decompressor.decompress(data, _DECODE_PIECE)
        while True:
            if out:
                self._protocol.dataReceived(out)
            tail = self._decompressor.unconsumed_tail
            if not tail:
                return
            out = self._decompressor.decompress(tail, _DECODE_PIECE)

    def dataReceived(self, data: bytes) -> None:
        if self._failed:
            return
        try:
            self._deliver(data)
        except zlib.error:
            self._failed = True
            reason = Failure(ResponseFailed([Failure()], self._response))
            self.transport.stopProducing()  # type: ignore[union-attr]
            self._protocol.connectionLost(reason)

    def connectionLost(self, reason: Failure = Failure(ResponseDone())) -> None:  # noqa: B008
        if self._failed:
            return
        try:
            rest = self._decompressor.flush()
        except zlib.error:
            reason = Failure(ResponseFailed([reason, Failure()], self._response))
        else:
            if rest:
                self._protocol.dataReceived(rest)
            if reason.check(ResponseDone) and not self._decompressor.eof:
                reason = Failure(
                    ResponseFailed([Failure(zlib.error("truncated gzip stream"))], self._response)
                )
        self._protocol.connectionLost(reason)


@implementer(IResponse)
class GzipDecoder(_ResponseProxy):
    """A response whose gzip-compressed body is delivered decompressed."""

    length = UNKNOWN_LENGTH

    def deliverBody(self, protocol: Any) -> None:
        """Deliver the decompressed body to ``protocol``."""
        self.original.deliverBody(_GzipProtocol(protocol, self.original))


@implementer(IAgent)
class ContentDecoderAgent:
    """
    Ask for compressed responses (``Accept-Encoding``) and decode them.

    Args:
        agent: the agent to send requests with.
        decoders: ``(name, factory)`` pairs, such as
            ``[(b"gzip", GzipDecoder)]``; ``factory(response)`` returns the
            decoding response.
    """

    def __init__(self, agent: Any, decoders: Sequence[tuple[bytes, Any]]) -> None:
        self._agent = agent
        self._decoders = dict(decoders)
        self._supported = b",".join(name for name, _ in decoders)

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Request ``uri`` accepting the known encodings; decode the response."""
        headers = Headers() if headers is None else headers.copy()
        headers.setRawHeaders(b"accept-encoding", [self._supported])
        d: Deferred[Any] = self._agent.request(method, uri, headers, bodyProducer)
        return d.addCallback(self._handleResponse)

    def _handleResponse(self, response: Any) -> Any:
        codings = [
            token.strip().lower()
            for value in response.headers.getRawHeaders(b"content-encoding", [])
            for token in value.split(b",")
            if token.strip()
        ]
        # Codings are listed in the order they were applied (RFC 9110
        # section 8.4): undo them from the last.
        while codings and codings[-1] in self._decoders:
            response = self._decoders[codings.pop()](response)
        if isinstance(response, _ResponseProxy):
            headers = response.original.headers.copy()
            if codings:
                headers.setRawHeaders(b"content-encoding", [b",".join(codings)])
            else:
                headers.removeHeader(b"content-encoding")
            headers.removeHeader(b"content-length")
            response.headers = headers
        return response


# -- cookies --------------------------------------------------------------------------


class _CookieRequest:
    """What http.cookiejar needs of a request (urllib.request.Request's methods)."""

    def __init__(self, uri: bytes, headers: Headers) -> None:
        self.uri = uri.decode("latin-1")
        self._headers = headers
        parsed = URI.fromBytes(uri)
        self.type = parsed.scheme.decode("ascii")
        self.host = parsed.netloc.rpartition(b"@")[2].decode("latin-1")
        self.origin_req_host = parsed.host.decode("latin-1")
        self.unverifiable = False
        self.added: list[tuple[str, str]] = []

    def get_full_url(self) -> str:
        return self.uri

    def get_host(self) -> str:
        return self.host

    def get_type(self) -> str:
        return self.type

    def is_unverifiable(self) -> bool:
        return self.unverifiable

    def get_origin_req_host(self) -> str:
        return self.origin_req_host

    def has_header(self, name: str) -> bool:
        return self._headers.hasHeader(name.encode("latin-1"))

    def get_header(self, name: str, default: str | None = None) -> str | None:
        values = self._headers.getRawHeaders(name.encode("latin-1"))
        return values[0].decode("latin-1") if values else default

    def header_items(self) -> list[tuple[str, str]]:
        return [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, values in self._headers.getAllRawHeaders()
            for value in values
        ]

    def add_unredirected_header(self, name: str, value: str) -> None:
        self.added.append((name, value))


class _CookieResponseInfo:
    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def get_all(self, name: str, default: Any = None) -> Any:
        values = self._headers.getRawHeaders(name.encode("latin-1"))
        if not values:
            return default
        return [v.decode("latin-1") for v in values]


class _CookieResponse:
    def __init__(self, response: Any) -> None:
        self._info = _CookieResponseInfo(response.headers)

    def info(self) -> _CookieResponseInfo:
        return self._info


@implementer(IAgent)
class CookieAgent:
    """
    Send the cookies of ``cookieJar`` (an ``http.cookiejar.CookieJar``) with
    each request and store those the responses set.
    """

    def __init__(self, agent: Any, cookieJar: CookieJar) -> None:
        self._agent = agent
        self.cookieJar = cookieJar

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Request ``uri`` with the jar's cookies for it."""
        headers = Headers() if headers is None else headers.copy()
        try:
            fake = _CookieRequest(uri, headers)
        except ValueError:
            return fail()
        if not headers.hasHeader(b"cookie"):
            self.cookieJar.add_cookie_header(fake)  # type: ignore[arg-type]
            for name, value in fake.added:
                headers.addRawHeader(name.encode("latin-1"), value.encode("latin-1"))
        d: Deferred[Any] = self._agent.request(method, uri, headers, bodyProducer)

        def extract(response: Any) -> Any:
            self.cookieJar.extract_cookies(_CookieResponse(response), fake)  # type: ignore[arg-type]
            return response

        return d.addCallback(extract)
