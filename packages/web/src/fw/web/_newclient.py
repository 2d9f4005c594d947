"""
fw's HTTP/1.1 client connection: the protocol adapter over the sans-IO codec
in :mod:`fw.web._newclient_codec`, with Twisted's ``_newclient`` names.

One :class:`HTTP11ClientProtocol` carries one request at a time (no
pipelining, as in Twisted); when a response ends on a persistent connection
the protocol becomes quiescent and calls its ``quiescentCallback`` so that a
pool can reuse it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IConsumer, IPushProducer
from fw.internet.defer import CancelledError, Deferred, fail
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Protocol
from fw.python.failure import Failure
from fw.web._newclient_codec import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_LINE_LENGTH,
    BodyData,
    InformationalResponse,
    LocalProtocolError,
    RequestHead,
    ResponseEnd,
    ResponseHead,
    ResponseParseError,
    ResponseParser,
    chunk,
    lastChunk,
    serializeRequestHead,
)
from fw.web.http import PotentialDataLoss
from fw.web.http_headers import Headers
from fw.web.iweb import UNKNOWN_LENGTH, IClientRequest, IResponse

#: Most body bytes a response holds before ``deliverBody`` is called; past
#: this the connection stops reading (TCP flow control pushes back on the
#: server) until a protocol takes the body.  1 MiB keeps many concurrent
#: responses cheap while rarely pausing a normal page.
DEFAULT_MAX_BUFFERED_BODY = 1 << 20

# -- errors ---------------------------------------------------------------------------


class ResponseDone(Exception):
    """The whole response body arrived: the normal end of ``deliverBody``."""


class _WrapperException(Exception):
    """An error caused by the failures in ``reasons``."""

    def __init__(self, reasons: list[Failure]) -> None:
        super().__init__(reasons)
        self.reasons = reasons

    def __repr__(self) -> str:
        inner = ", ".join(repr(r.value) for r in self.reasons)
        return f"<{type(self).__name__} [{inner}]>"

    __str__ = __repr__


class RequestGenerationFailed(_WrapperException):
    """Producing the request body failed; the request was abandoned."""


class RequestTransmissionFailed(_WrapperException):
    """The connection failed while the request was being sent."""


class ResponseFailed(_WrapperException):
    """
    The response could not be received completely: see ``reasons``.
    ``response`` is the response whose body failed, if any.
    """

    def __init__(self, reasons: list[Failure], response: Any = None) -> None:
        super().__init__(reasons)
        self.response = response


class ResponseNeverReceived(ResponseFailed):
    """The connection ended (or failed) before any response arrived."""


class RequestNotSent(Exception):
    """The request was not sent: the connection was busy or closed."""


class ParseError(Exception):
    """Twisted's name for a malformed response: see ``ResponseParseError``."""


class WrongBodyLength(Exception):
    """The body producer wrote more or fewer bytes than its ``length`` said."""


class ExcessWrite(Exception):
    """A body producer wrote after it finished."""


class ConnectionAborted(Exception):
    """The connection was aborted by the local side (``abort``)."""


# -- requests -------------------------------------------------------------------------

_HOP_BY_HOP_FRAMING = (b"content-length", b"transfer-encoding")


@implementer(IClientRequest)
class Request:
    """
    One request: ``method`` and the request target ``uri`` (origin form,
    ``b"/path?query"``, or absolute form through a proxy).

    Args:
        method: the method, as bytes.
        uri: the request target, as bytes.
        headers: the request's Headers (``Host`` included by the agent).
        bodyProducer: an IBodyProducer for the body, or None.
        persistent: whether to keep the connection open after the response.
        absoluteURI: the full URI, for ``IClientRequest`` (and redirects).
    """

    def __init__(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None,
        bodyProducer: Any,
        persistent: bool = False,
        absoluteURI: bytes | None = None,
    ) -> None:
        self.method = method
        self.uri = uri
        self.headers = headers if headers is not None else Headers()
        self.bodyProducer = bodyProducer
        self.persistent = persistent
        self.absoluteURI = absoluteURI

    def _head(self) -> tuple[bytes, bool]:
        """The serialized head, and whether the body is sent chunked."""
        fields: list[tuple[bytes, bytes]] = []
        for name, values in self.headers.getAllRawHeaders():
            if name.lower() in _HOP_BY_HOP_FRAMING:
                continue
            if name.lower() == b"connection" and not self.persistent:
                continue
            fields += [(name, value) for value in values]
        if not self.persistent:
            fields.append((b"Connection", b"close"))
        chunked = False
        if self.bodyProducer is not None:
            length = self.bodyProducer.length
            if length is UNKNOWN_LENGTH or length == UNKNOWN_LENGTH:
                chunked = True
                fields.append((b"Transfer-Encoding", b"chunked"))
            else:
                fields.append((b"Content-Length", b"%d" % length))
        elif self.method.upper() in (b"POST", b"PUT", b"PATCH"):
            # RFC 9110 section 8.6: a user agent SHOULD send Content-Length
            # when a method defines a meaning for a body and none is sent.
            fields.append((b"Content-Length", b"0"))
        return serializeRequestHead(RequestHead(self.method, self.uri, fields)), chunked


@implementer(IConsumer)
class _BodyConsumer:
    """What a body producer writes to: frames and counts the bytes."""

    def __init__(self, transport: Any, chunked: bool, length: int | None) -> None:
        self._transport = transport
        self._chunked = chunked
        self._length = length
        self._written = 0
        self.finished = False
        self.error: Exception | None = None

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self._transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        self._transport.unregisterProducer()

    def write(self, data: bytes) -> None:
        if self.finished:
            raise ExcessWrite()
        if self.error is not None:
            return
        self._written += len(data)
        if self._length is not None and self._written > self._length:
            self.error = WrongBodyLength(
                f"producer wrote {self._written} bytes, more than its length {self._length}"
            )
            raise self.error
        self._transport.write(chunk(data) if self._chunked else data)

    def finish(self) -> None:
        """The producer is done: end the body, or say why it is wrong."""
        self.finished = True
        if self.error is not None:
            raise self.error
        if self._length is not None and self._written != self._length:
            raise WrongBodyLength(
                f"producer wrote {self._written} bytes, not its length {self._length}"
            )
        if self._chunked:
            self._transport.write(lastChunk())


# -- responses ------------------------------------------------------------------------


class _BodyState(enum.Enum):
    INITIAL = "waiting for deliverBody"
    CONNECTED = "delivering"
    DEFERRED_CLOSE = "ended before deliverBody"
    FINISHED = "finished"


@implementer(IPushProducer)
class _BodyTransport:
    """The transport a body protocol sees: flow control and abort for its connection."""

    def __init__(self, protocol: HTTP11ClientProtocol | None) -> None:
        self._protocol = protocol

    def pauseProducing(self) -> None:
        """Stop reading the body from the network for now."""
        if self._protocol is not None:
            self._protocol._pauseReading("body")

    def resumeProducing(self) -> None:
        """Read the body again."""
        if self._protocol is not None:
            self._protocol._resumeReading("body")

    def stopProducing(self) -> None:
        """Abandon the body: the connection is aborted."""
        if self._protocol is not None:
            self._protocol.abort()

    loseConnection = stopProducing
    abortConnection = stopProducing


@implementer(IResponse)
class Response:
    """
    An HTTP response (:class:`~fw.web.iweb.IResponse`): ``version``,
    ``code``, ``phrase``, ``headers``, ``length`` and ``request`` now; the
    body through :meth:`deliverBody`.
    """

    def __init__(
        self,
        version: tuple[bytes, int, int],
        code: int,
        phrase: bytes,
        headers: Headers,
        transport: Any,
        request: Any = None,
        length: int | str = UNKNOWN_LENGTH,
        maxBuffered: int = DEFAULT_MAX_BUFFERED_BODY,
    ) -> None:
        self.version = version
        self.code = code
        self.phrase = phrase
        self.headers = headers
        self.length: int | str = length
        self.request = request
        self.previousResponse: Any = None
        self._transport = transport if transport is not None else _BodyTransport(None)
        self._state = _BodyState.INITIAL
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._maxBuffered = maxBuffered
        self._pausedForBuffer = False
        self._protocol: Any = None
        self._reason: Failure | None = None

    def __repr__(self) -> str:
        return f"<Response {self.code} {self.phrase.decode('latin-1')!r}>"

    @classmethod
    def _construct(
        cls,
        version: tuple[bytes, int, int],
        code: int,
        phrase: bytes,
        headers: Headers,
        transport: Any,
        request: Any,
    ) -> Response:
        """Twisted's constructor name."""
        return cls(version, code, phrase, headers, transport, request)

    def setPreviousResponse(self, response: Any) -> None:
        """Record the response this one was redirected from."""
        self.previousResponse = response

    def deliverBody(self, protocol: Any) -> None:
        """
        Send the body to ``protocol``: ``makeConnection``, then
        ``dataReceived`` for each piece, then ``connectionLost`` with
        ``ResponseDone``, ``PotentialDataLoss`` or ``ResponseFailed``.

        Raises:
            RuntimeError: the body was already delivered to a protocol.
        """
        if self._state is _BodyState.CONNECTED or self._state is _BodyState.FINISHED:
            raise RuntimeError("Response.deliverBody called more than once")
        self._protocol = protocol
        protocol.makeConnection(self._transport)
        buffered, self._buffer, self._buffered = self._buffer, [], 0
        for data in buffered:
            protocol.dataReceived(data)
        if self._state is _BodyState.DEFERRED_CLOSE:
            self._state = _BodyState.FINISHED
            reason, self._reason = self._reason, None
            protocol.connectionLost(reason)
            return
        self._state = _BodyState.CONNECTED
        if self._pausedForBuffer:
            self._pausedForBuffer = False
            self._transport.resumeProducing()

    def _bodyDataReceived(self, data: bytes) -> None:
        if self._state is _BodyState.CONNECTED:
            self._protocol.dataReceived(data)
        elif self._state is _BodyState.INITIAL:
            self._buffer.append(data)
            self._buffered += len(data)
            if self._buffered > self._maxBuffered and not self._pausedForBuffer:
                self._pausedForBuffer = True
                self._transport.pauseProducing()
        else:
            raise RuntimeError(f"body data after the body ended ({self._state.value})")

    def _bodyDataFinished(self, reason: Failure | None = None) -> None:
        if reason is None:
            reason = Failure(ResponseDone("Response body fully received"))
        if self._state is _BodyState.CONNECTED:
            self._state = _BodyState.FINISHED
            protocol, self._protocol = self._protocol, None
            protocol.connectionLost(reason)
        elif self._state is _BodyState.INITIAL:
            self._state = _BodyState.DEFERRED_CLOSE
            self._reason = reason


# -- the connection -------------------------------------------------------------------


class _State(enum.Enum):
    QUIESCENT = "quiescent"
    TRANSMITTING = "transmitting"
    WAITING = "waiting for response"
    RECEIVING_BODY = "receiving body"
    CONNECTION_LOST = "connection lost"
    ABORTING = "aborting"


class HTTP11ClientProtocol(Protocol):
    """
    One HTTP/1.1 client connection.

    Args:
        quiescentCallback: called with this protocol when a response ends
            and the connection may carry another request.
        maxLineLength: longest status or header line accepted.
        maxHeaderCount: most header fields in a response.
        maxHeaderBytes: most bytes in a response's header section.
    """

    def __init__(
        self,
        quiescentCallback: Callable[[HTTP11ClientProtocol], object] = lambda c: None,
        *,
        maxLineLength: int = DEFAULT_MAX_LINE_LENGTH,
        maxHeaderCount: int = DEFAULT_MAX_HEADER_COUNT,
        maxHeaderBytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        self._quiescentCallback = quiescentCallback
        self._limits = {
            "maxLineLength": maxLineLength,
            "maxHeaderCount": maxHeaderCount,
            "maxHeaderBytes": maxHeaderBytes,
        }
        self._state = _State.QUIESCENT
        self._parser: ResponseParser | None = None
        self._request: Request | None = None
        self._finishedRequest: Deferred[Response] | None = None
        self._response: Response | None = None
        self._consumer: _BodyConsumer | None = None
        self._bodyDone = True
        self._responseEnded = False
        self._persistent = False
        self._pauses: set[str] = set()
        self._lostReason: Failure | None = None
        self.closedReason: Failure | None = None
        #: Deferreds fired when the connection is closed (by ``abort``).
        self._abortDeferreds: list[Deferred[None]] = []

    @property
    def state(self) -> str:
        """The connection's state, by Twisted's names (``"QUIESCENT"``...)."""
        return self._state.name

    # -- requests ------------------------------------------------------------------

    def request(self, request: Request) -> Deferred[Response]:
        """
        Send ``request``; return a Deferred that fires with its
        :class:`Response` once the header section arrives.

        The Deferred fails with :class:`RequestNotSent` if the connection is
        busy or closed, :class:`RequestGenerationFailed` if the body could
        not be produced, :class:`ResponseNeverReceived` if the connection
        ended first, or :class:`ResponseFailed` if the response was
        malformed.  Cancelling it aborts the connection.
        """
        if self._state is not _State.QUIESCENT or self.transport is None:
            return fail(RequestNotSent())
        try:
            head, chunked = request._head()
        except LocalProtocolError as e:
            return fail(RequestGenerationFailed([Failure(e)]))
        self._state = _State.TRANSMITTING
        self._request = request
        self._parser = ResponseParser(request.method, **self._limits)
        self._response = None
        self._responseEnded = False
        self._persistent = False

        def cancel(d: Deferred[Response]) -> None:
            if self._finishedRequest is d:
                self._finishedRequest = None
            self._lostReason = Failure(CancelledError())
            self.transport.abortConnection()  # type: ignore[union-attr]

        finished: Deferred[Response] = Deferred(cancel)
        self._finishedRequest = finished
        self.transport.write(head)
        if request.bodyProducer is None:
            self._bodyDone = True
            self._state = _State.WAITING
            return finished
        self._bodyDone = False
        length = request.bodyProducer.length
        consumer = _BodyConsumer(self.transport, chunked, None if chunked else int(length))
        self._consumer = consumer
        try:
            produced = request.bodyProducer.startProducing(consumer)
        except Exception:  # noqa: BLE001 - a producer's error fails this request
            produced = fail()

        def written(_: object) -> None:
            if self._consumer is not consumer:
                return
            try:
                consumer.finish()
            except Exception:  # noqa: BLE001 - WrongBodyLength, or the transport's error
                self._bodyFailed(Failure())
                return
            self._consumer = None
            self._bodyDone = True
            if self._state is _State.TRANSMITTING:
                self._state = _State.WAITING
            self._maybeQuiescent()

        def failed(reason: Failure) -> None:
            if self._consumer is consumer:
                self._bodyFailed(reason)

        produced.addCallbacks(written, failed)
        return finished

    def _bodyFailed(self, reason: Failure) -> None:
        """The body could not be produced: fail the request, close the connection."""
        self._consumer = None
        finished, self._finishedRequest = self._finishedRequest, None
        if self._response is None and finished is not None:
            self._state = _State.ABORTING
            finished.errback(RequestGenerationFailed([reason]))
        self.transport.abortConnection()  # type: ignore[union-attr]

    # -- flow control --------------------------------------------------------------

    def _pauseReading(self, why: str) -> None:
        if not self._pauses and self.transport is not None:
            self.transport.pauseProducing()  # type: ignore[attr-defined]
        self._pauses.add(why)

    def _resumeReading(self, why: str) -> None:
        if why in self._pauses:
            self._pauses.discard(why)
            if not self._pauses and self.transport is not None:
                self.transport.resumeProducing()  # type: ignore[attr-defined]

    # -- the response --------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """Feed the response parser and act on its events."""
        parser = self._parser
        if parser is None or self._state in (_State.QUIESCENT, _State.CONNECTION_LOST):
            # RFC 9112 section 9.3: bytes nobody asked for; the connection
            # cannot be trusted to frame the next response.
            if self._state is _State.QUIESCENT:
                self.transport.abortConnection()  # type: ignore[union-attr]
            return
        try:
            events = parser.feed(data)
        except ResponseParseError as e:
            self._protocolError(Failure(e))
            return
        self._dispatch(events)

    def _dispatch(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, ResponseHead):
                self._responseHead(event)
            elif isinstance(event, BodyData):
                if event.data and self._response is not None:
                    self._response._bodyDataReceived(event.data)
            elif isinstance(event, ResponseEnd):
                self._responseEnd(event)
            elif isinstance(event, InformationalResponse):
                pass  # RFC 9110 section 15.2: a client may ignore 1xx responses.

    def _responseHead(self, event: ResponseHead) -> None:
        headers = Headers()
        for name, value in event.headers:
            headers.addRawHeader(name, value)
        self._persistent = event.persistent
        response = Response(
            event.version,
            event.code,
            event.phrase,
            headers,
            _BodyTransport(self),
            self._request,
            UNKNOWN_LENGTH if event.length is None else event.length,
        )
        self._response = response
        if self._state is not _State.TRANSMITTING:
            self._state = _State.RECEIVING_BODY
        finished, self._finishedRequest = self._finishedRequest, None
        if finished is not None:
            finished.callback(response)

    def _responseEnd(self, event: ResponseEnd) -> None:
        self._responseEnded = True
        self._persistent = event.persistent and self._persistent
        response = self._response
        assert self._parser is not None
        if self._parser.leftover:
            self._persistent = False
        if not self._bodyDone:
            # The server answered before the body was sent (an early error):
            # stop sending; this connection cannot be reused.
            self._persistent = False
            consumer, self._consumer = self._consumer, None
            if consumer is not None and self._request is not None:
                self._request.bodyProducer.stopProducing()
        reason = Failure(PotentialDataLoss()) if event.closeDelimited else None
        if not event.closeDelimited and (
            not self._persistent or self._request is None or not self._request.persistent
        ):
            self._persistent = False
        if self._persistent:
            self._maybeQuiescent(response, reason)
            return
        # Close first, so that code reacting to the body's end finds the
        # connection already closing.
        if self.transport is not None and self._state is not _State.CONNECTION_LOST:
            self.transport.loseConnection()
        if response is not None:
            response._bodyDataFinished(reason)

    def _maybeQuiescent(
        self, response: Response | None = None, reason: Failure | None = None
    ) -> None:
        # The connection goes back to its pool before the body's end is
        # delivered, so that code reacting to the end can reuse it.
        if (
            self._responseEnded
            and self._bodyDone
            and self._persistent
            and self._state is not _State.CONNECTION_LOST
        ):
            self._state = _State.QUIESCENT
            self._parser = None
            self._request = None
            self._response = None
            self._resumeReading("body")
            self._quiescentCallback(self)
        if response is not None:
            response._bodyDataFinished(reason)

    def _protocolError(self, reason: Failure) -> None:
        """The server sent something that is not HTTP: fail and drop the connection."""
        wrapped = ResponseFailed([reason], self._response)
        finished, self._finishedRequest = self._finishedRequest, None
        response, self._response = self._response, None
        self._state = _State.ABORTING
        if finished is not None:
            finished.errback(wrapped)
        elif response is not None:
            response._bodyDataFinished(Failure(wrapped))
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def abort(self) -> Deferred[None]:
        """Close the connection now; the Deferred fires once it is closed."""
        if self._state is _State.CONNECTION_LOST:
            d: Deferred[None] = Deferred()
            d.callback(None)
            return d
        if self._state is not _State.ABORTING:
            self._lostReason = Failure(ConnectionAborted())
        self._state = _State.ABORTING
        d = Deferred()
        self._abortDeferreds.append(d)
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]
        return d

    def connectionLost(self, reason: Failure = Failure(ConnectionDone())) -> None:  # noqa: B008
        """Finish whatever the connection was doing, by how it ended."""
        previous = self._state
        self._state = _State.CONNECTION_LOST
        self.closedReason = reason
        cause = self._lostReason or reason
        parser, self._parser = self._parser, None
        consumer, self._consumer = self._consumer, None
        if consumer is not None and self._request is not None:
            self._request.bodyProducer.stopProducing()
        finished, self._finishedRequest = self._finishedRequest, None
        response, self._response = self._response, None
        if previous is not _State.QUIESCENT and parser is not None and not parser.done:
            try:
                events = parser.feedEOF()
            except ResponseParseError as e:
                failure = Failure(e)
                if finished is not None:
                    if parser.state == "status line" and previous is _State.TRANSMITTING:
                        finished.errback(RequestTransmissionFailed([cause]))
                    else:
                        finished.errback(ResponseNeverReceived([cause]))
                elif response is not None:
                    response._bodyDataFinished(Failure(ResponseFailed([cause, failure], response)))
            else:
                self._response = response
                self._finishedRequest = finished
                for event in events:
                    if isinstance(event, ResponseEnd) and response is not None:
                        response._bodyDataFinished(
                            Failure(PotentialDataLoss()) if event.closeDelimited else None
                        )
        elif finished is not None:
            finished.errback(ResponseNeverReceived([cause]))
        self._response = None
        self._finishedRequest = None
        for d in self._abortDeferreds:
            d.callback(None)
        self._abortDeferreds = []
