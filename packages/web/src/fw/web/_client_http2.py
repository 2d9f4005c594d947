"""
fw's HTTP/2 client connection (RFC 9113), used by ``Agent`` when a TLS
server chooses ``h2`` by ALPN.

The protocol core is the ``h2`` library's sans-IO state machine
(``H2Connection`` fed with bytes, giving events and bytes to send);
:class:`H2ClientProtocol` is the adapter between it and fw: it turns each
:class:`~fw.web._newclient.Request` into a stream, each stream's response
into a :class:`~fw.web._newclient.Response`, and keeps both directions of
flow control tied to producers (a request body producer is paused while its
stream's send window is closed; received body data is acknowledged only as
long as the response's consumer is not paused).

Its errors are in :mod:`fw.web._client_http2_errors`; what picks HTTP/2 or
HTTP/1.1 for a connection is :mod:`fw.web._client_selector`.

Private: :mod:`fw.web.client` is the public module.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IConsumer, IPushProducer
from fw.internet.defer import Deferred, fail
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Protocol
from fw.python.failure import Failure
from fw.web._client_http2_errors import (
    HTTP2ConnectionTerminated,
    HTTP2HeadersTooLarge,
    HTTP2ProtocolError,
    HTTP2RequestRefused,
    HTTP2StreamReset,
)
from fw.web._http_status import RESPONSES
from fw.web._newclient import (
    ConnectionAborted,
    Request,
    RequestGenerationFailed,
    RequestTransmissionFailed,
    Response,
    ResponseFailed,
    ResponseNeverReceived,
    WrongBodyLength,
)
from fw.web.http_headers import Headers
from fw.web.iweb import UNKNOWN_LENGTH

try:
    import h2.config
    import h2.connection
    import h2.errors
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError:  # pragma: no cover - fw-web's ``http2`` extra is not installed
    _H2_AVAILABLE = False
else:
    _H2_AVAILABLE = True

#: Most bytes of response header fields (as SETTINGS_MAX_HEADER_LIST_SIZE
#: counts them: name + value + 32 per field) a stream accepts; a larger
#: header section fails that stream.  64 KiB, as the HTTP/1.1 client's
#: ``DEFAULT_MAX_HEADER_BYTES`` and h2's default allow.
DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024

#: A header block larger than this many times the limit above ends the
#: whole connection (the HPACK state is shared, so a block is always
#: decoded, and decoding a huge one must stop somewhere).
_HARD_HEADER_FACTOR = 4

#: The receive window this client opens for each stream (SETTINGS_INITIAL_
#: WINDOW_SIZE).  256 KiB keeps a loopback or LAN transfer fast while
#: bounding what a paused response can hold.
DEFAULT_STREAM_WINDOW = 256 * 1024

#: The connection's receive window: room for many streams at once.
DEFAULT_CONNECTION_WINDOW = 16 * 1024 * 1024

#: Streams started before the server's SETTINGS say how many it allows
#: (RFC 9113 section 6.5.2 recommends at least 100).
_ASSUMED_MAX_CONCURRENT_STREAMS = 100

# RFC 9113 section 8.2.2: connection-specific fields are not sent in HTTP/2.
_CONNECTION_SPECIFIC = frozenset(
    [
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
    ]
)


def http2Available() -> bool:
    """Whether the optional ``h2`` library (fw-web's ``http2`` extra) is importable."""
    return _H2_AVAILABLE


def defaultALPNProtocols() -> list[bytes]:
    """What an HTTPS client offers by ALPN: ``h2`` (when available), then ``http/1.1``."""
    return [b"h2", b"http/1.1"] if _H2_AVAILABLE else [b"http/1.1"]


# -- one stream -----------------------------------------------------------------------


class _StreamState(enum.Enum):
    QUEUED = "waiting for a stream slot"
    SENDING = "sending the request"
    WAITING = "waiting for the response"
    RECEIVING = "receiving the response body"
    DONE = "done"


@implementer(IConsumer)
class _StreamBodyConsumer:
    """What a request body producer writes to: DATA frames of one stream."""

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream
        self.producer: Any = None

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None

    def write(self, data: bytes) -> None:
        self._stream.bodyWrite(data)


@implementer(IPushProducer)
class _StreamBodyTransport:
    """
    The transport a response body protocol sees: pausing it stops this
    client acknowledging the stream's data, so that the server's window
    closes; stopping it resets the stream alone.
    """

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream

    def pauseProducing(self) -> None:
        """Stop acknowledging received body data (the server stops when its window is spent)."""
        self._stream.paused = True

    def resumeProducing(self) -> None:
        """Acknowledge what arrived meanwhile, and go on."""
        self._stream.paused = False
        self._stream.connection._acknowledgeHeld(self._stream)

    def stopProducing(self) -> None:
        """Abandon the body: the stream is reset (RST_STREAM CANCEL)."""
        self._stream.connection._abandon(self._stream, Failure(ConnectionAborted()))

    loseConnection = stopProducing
    abortConnection = stopProducing


class _Stream:
    """One request and its response on an HTTP/2 connection."""

    def __init__(self, connection: H2ClientProtocol, request: Request) -> None:
        self.connection = connection
        self.request = request
        self.state = _StreamState.QUEUED
        self.streamID = 0
        self.finished: Deferred[Response] = Deferred(self._cancel)
        self.response: Response | None = None
        # The request body.
        self.consumer: _StreamBodyConsumer | None = None
        self.pending = bytearray()
        self.bodyEnded = False
        self.written = 0
        self.producerPaused = False
        # The response body's flow control.
        self.paused = False
        self.held = 0

    def _cancel(self, d: Deferred[Response]) -> None:
        self.connection._abandon(self, None)

    # -- the request body -----------------------------------------------------

    def bodyWrite(self, data: bytes) -> None:
        if self.state is _StreamState.DONE or self.bodyEnded:
            return
        length = self.request.bodyProducer.length
        self.written += len(data)
        if length is not UNKNOWN_LENGTH and length != UNKNOWN_LENGTH and self.written > length:
            error = WrongBodyLength(
                f"producer wrote {self.written} bytes, more than its length {length}"
            )
            self.connection._bodyFailed(self, Failure(error))
            raise error
        self.pending += data
        self.connection._sendPending(self)

    def pauseProducer(self) -> None:
        if self.producerPaused or self.bodyEnded:
            return
        self.producerPaused = True
        self._producer().pauseProducing()

    def resumeProducer(self) -> None:
        if not self.producerPaused:
            return
        self.producerPaused = False
        self._producer().resumeProducing()

    def stopProducer(self) -> None:
        if self.consumer is None or self.bodyEnded:
            return
        self.bodyEnded = True
        self.consumer = None
        try:
            self.request.bodyProducer.stopProducing()
        except Exception:  # noqa: BLE001, S110 - a producer that was already done may complain
            pass

    def _producer(self) -> Any:
        registered = self.consumer.producer if self.consumer is not None else None
        return registered if registered is not None else self.request.bodyProducer


# -- the connection -------------------------------------------------------------------


class H2ClientProtocol(Protocol):
    """
    One HTTP/2 client connection carrying concurrent requests as streams.

    ``request`` is called for each request (as on
    :class:`~fw.web.client.HTTP11ClientProtocol`); requests beyond the
    server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a free stream.

    Args:
        quiescentCallback: called with this protocol whenever it carries no
            stream any more (a pool starts its idle timer then).
        lostCallback: called with this protocol once its connection ended
            or it stopped taking requests (GOAWAY).
        maxHeaderListSize: most bytes of a response's header fields.
        streamWindow: each stream's receive window.
        connectionWindow: the connection's receive window.
    """

    def __init__(
        self,
        quiescentCallback: Callable[[H2ClientProtocol], object] = lambda c: None,
        lostCallback: Callable[[H2ClientProtocol], object] = lambda c: None,
        *,
        maxHeaderListSize: int = DEFAULT_MAX_HEADER_LIST_SIZE,
        streamWindow: int = DEFAULT_STREAM_WINDOW,
        connectionWindow: int = DEFAULT_CONNECTION_WINDOW,
    ) -> None:
        if not _H2_AVAILABLE:  # pragma: no cover - the selector never builds one then
            raise RuntimeError("HTTP/2 needs the h2 library (fw-web's http2 extra)")
        self._quiescentCallback = quiescentCallback
        self._lostCallback = lostCallback
        self._maxHeaderListSize = maxHeaderListSize
        self._streamWindow = streamWindow
        self._connectionWindow = connectionWindow
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self._conn = h2.connection.H2Connection(config=config)
        codes = h2.settings.SettingCodes
        self._conn.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.MAX_CONCURRENT_STREAMS: 100,
                codes.MAX_HEADER_LIST_SIZE: maxHeaderListSize,
                codes.INITIAL_WINDOW_SIZE: streamWindow,
            },
        )
        # Initial values are in force at once (no SETTINGS ACK changes them):
        # the decoder's own cap is the hard one, the stream limit is checked here.
        self._conn.decoder.max_header_list_size = maxHeaderListSize * _HARD_HEADER_FACTOR
        self._streams: dict[int, _Stream] = {}
        self._queue: deque[_Stream] = deque()
        self._settingsSeen = False
        self._goAway: HTTP2ConnectionTerminated | None = None
        self._closing = False
        self._lost: Failure | None = None
        self._closeDeferreds: list[Deferred[None]] = []
        self._reported = False

    def __repr__(self) -> str:
        return f"<H2ClientProtocol streams={len(self._streams)} queued={len(self._queue)}>"

    # -- the state a pool looks at ----------------------------------------------------

    @property
    def acceptingRequests(self) -> bool:
        """Whether a new request may be sent here (connected, no GOAWAY, not closing)."""
        return (
            self.transport is not None
            and self._lost is None
            and self._goAway is None
            and not self._closing
        )

    @property
    def state(self) -> str:
        """``"QUIESCENT"`` when idle, ``"TRANSMITTING"`` with streams, ``"CONNECTION_LOST"``."""
        if self._lost is not None:
            return "CONNECTION_LOST"
        return "TRANSMITTING" if self._streams or self._queue else "QUIESCENT"

    @property
    def activeStreams(self) -> int:
        """How many requests are in progress or queued."""
        return len(self._streams) + len(self._queue)

    # -- the connection -----------------------------------------------------------------

    def connectionMade(self) -> None:
        """Send the connection preface and SETTINGS (RFC 9113 section 3.4)."""
        self._conn.initiate_connection()
        increment = self._connectionWindow - 65535
        if increment > 0:
            self._conn.increment_flow_control_window(increment)
        self._flush()

    def dataReceived(self, data: bytes) -> None:
        """Feed the HTTP/2 state machine and act on its events."""
        if self._lost is not None:
            return
        try:
            events = self._conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            self._protocolError(str(e), int(e.error_code))
            return
        for event in events:
            self._event(event)
            if self._ended():
                return
        self._startQueued()
        self._flush()
        self._maybeIdle()

    def _event(self, event: Any) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self._responseReceived(event)
        elif isinstance(event, h2.events.DataReceived):
            self._dataReceived(event)
        elif isinstance(event, h2.events.StreamEnded):
            self._streamEnded(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self._streamReset(event)
        elif isinstance(event, h2.events.WindowUpdated):
            self._windowUpdated(event.stream_id)
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self._settingsSeen = True
            if h2.settings.SettingCodes.INITIAL_WINDOW_SIZE in event.changed_settings:
                self._windowUpdated(0)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._connectionTerminated(event)
        # TrailersReceived: the trailer section is accepted and dropped (h2
        # has checked it), as the HTTP/1.1 client drops chunked trailers.
        # InformationalResponseReceived: RFC 9110 section 15.2 lets a client
        # ignore 1xx responses.  PING, SETTINGS ACK, PRIORITY and unknown
        # frames need nothing from us (h2 answers PINGs).

    def _ended(self) -> bool:
        return self._lost is not None or self.transport is None

    def _flush(self) -> None:
        data = self._conn.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)

    # -- requests --------------------------------------------------------------------

    def request(self, request: Request) -> Deferred[Response]:
        """
        Send ``request`` on a new stream (or once one is free); return a
        Deferred firing with its :class:`~fw.web.client.Response` once the
        response's header section arrives.

        Cancelling the Deferred resets that stream alone.  It fails with
        :class:`HTTP2RequestRefused` (a :class:`~fw.web.client.RequestNotSent`)
        when the connection no longer takes requests or the server did not
        process it, :class:`~fw.web.client.RequestGenerationFailed` when the
        body could not be produced, :class:`~fw.web.client.ResponseNeverReceived`
        or :class:`~fw.web.client.ResponseFailed` otherwise.
        """
        if not self.acceptingRequests:
            return fail(HTTP2RequestRefused("the HTTP/2 connection no longer takes requests"))
        stream = _Stream(self, request)
        self._queue.append(stream)
        self._startQueued()
        self._flush()
        return stream.finished

    def _maxStreams(self) -> int:
        limit = int(self._conn.remote_settings.max_concurrent_streams)
        if not self._settingsSeen:
            limit = min(limit, _ASSUMED_MAX_CONCURRENT_STREAMS)
        return limit

    def _startQueued(self) -> None:
        while (
            self._queue
            and self._lost is None
            and self._goAway is None
            and self._conn.open_outbound_streams < self._maxStreams()
        ):
            self._start(self._queue.popleft())

    def _start(self, stream: _Stream) -> None:
        request = stream.request
        try:
            fields = _requestFields(request)
            streamID = self._conn.get_next_available_stream_id()
        except ValueError as e:
            stream.state = _StreamState.DONE
            stream.finished.errback(RequestGenerationFailed([Failure(e)]))
            return
        except h2.exceptions.NoAvailableStreamIDError:
            self._closing = True
            self._queue.appendleft(stream)
            self._refuseQueued("no HTTP/2 stream identifiers are left on this connection")
            return
        producer = request.bodyProducer
        try:
            self._conn.send_headers(streamID, fields, end_stream=producer is None)
        except h2.exceptions.ProtocolError as e:
            # h2 refused our own fields (RFC 9113 section 8.2): local misuse.
            stream.state = _StreamState.DONE
            stream.finished.errback(RequestGenerationFailed([Failure(e)]))
            return
        stream.streamID = streamID
        self._streams[streamID] = stream
        if producer is None:
            stream.state = _StreamState.WAITING
            stream.bodyEnded = True
            return
        stream.state = _StreamState.SENDING
        consumer = _StreamBodyConsumer(stream)
        stream.consumer = consumer
        try:
            produced: Deferred[Any] = producer.startProducing(consumer)
        except Exception:  # noqa: BLE001 - a producer's error fails this request
            produced = fail()
        produced.addCallbacks(
            lambda _: self._bodyDone(stream, consumer),
            lambda reason: self._bodyProducerFailed(stream, consumer, reason),
        )

    def _bodyDone(self, stream: _Stream, consumer: _StreamBodyConsumer) -> None:
        if stream.consumer is not consumer or stream.state is _StreamState.DONE:
            return
        length = stream.request.bodyProducer.length
        if length is not UNKNOWN_LENGTH and length != UNKNOWN_LENGTH and stream.written != length:
            self._bodyFailed(
                stream,
                Failure(
                    WrongBodyLength(
                        f"producer wrote {stream.written} bytes, not its length {length}"
                    )
                ),
            )
            return
        stream.consumer = None
        stream.bodyEnded = True
        self._sendPending(stream)

    def _bodyProducerFailed(
        self, stream: _Stream, consumer: _StreamBodyConsumer, reason: Failure
    ) -> None:
        if stream.consumer is consumer and stream.state is not _StreamState.DONE:
            self._bodyFailed(stream, reason)

    def _bodyFailed(self, stream: _Stream, reason: Failure) -> None:
        """The body could not be produced: reset the stream and fail the request."""
        stream.consumer = None
        stream.bodyEnded = True
        self._reset(stream, h2.errors.ErrorCodes.CANCEL)
        self._finish(stream, RequestGenerationFailed([reason]))
        self._flush()
        self._maybeIdle()

    def _sendPending(self, stream: _Stream) -> None:
        """Send what the window allows of ``stream``'s body; pause its producer when it is shut."""
        if stream.state is not _StreamState.SENDING and stream.state is not _StreamState.WAITING:
            return
        if stream.streamID not in self._streams or self._lost is not None:
            return
        sid = stream.streamID
        while stream.pending:
            try:
                window = self._conn.local_flow_control_window(sid)
            except h2.exceptions.StreamClosedError:
                return
            size = min(window, self._conn.max_outbound_frame_size, len(stream.pending))
            if size <= 0:
                break
            self._conn.send_data(sid, bytes(stream.pending[:size]))
            del stream.pending[:size]
        if stream.pending:
            # RFC 9113 section 5.2: the window is spent; wait for WINDOW_UPDATE.
            stream.pauseProducer()
        elif stream.bodyEnded and stream.state is _StreamState.SENDING:
            self._conn.end_stream(sid)
            stream.state = _StreamState.WAITING
        else:
            stream.resumeProducer()
        self._flush()

    def _windowUpdated(self, streamID: int) -> None:
        if streamID:
            stream = self._streams.get(streamID)
            if stream is not None:
                self._sendPending(stream)
            return
        for stream in list(self._streams.values()):
            self._sendPending(stream)

    # -- responses -------------------------------------------------------------------

    def _responseReceived(self, event: Any) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is None:
            return
        size = 0
        status = b""
        headers = Headers()
        for name, value in event.headers:
            size += len(name) + len(value) + 32
            if name == b":status":
                status = value
            elif not name.startswith(b":"):
                headers.addRawHeader(name, value)
        if size > self._maxHeaderListSize:
            self._reset(stream, h2.errors.ErrorCodes.CANCEL)
            self._finish(
                stream,
                ResponseFailed(
                    [
                        Failure(
                            HTTP2HeadersTooLarge(
                                f"response header section of {size} bytes is over "
                                f"the limit of {self._maxHeaderListSize}"
                            )
                        )
                    ]
                ),
            )
            return
        code = int(status)  # h2 checked that :status is three digits
        length: int | str = UNKNOWN_LENGTH
        lengths = headers.getRawHeaders(b"content-length")
        if stream.request.method.upper() == b"HEAD" or code in (204, 304):
            length = 0
        elif lengths and lengths[0].isdigit():
            length = int(lengths[0])
        response = Response(
            (b"HTTP", 2, 0),
            code,
            RESPONSES.get(code, b""),
            headers,
            _StreamBodyTransport(stream),
            stream.request,
            length,
        )
        stream.response = response
        if stream.state is _StreamState.WAITING:
            stream.state = _StreamState.RECEIVING
        finished = stream.finished
        if not finished.called:
            finished.callback(response)

    def _dataReceived(self, event: Any) -> None:
        stream = self._streams.get(event.stream_id)
        flowLength = int(event.flow_controlled_length)
        if stream is None or stream.response is None:
            # A stream we reset or abandoned: hand the window back at once.
            if flowLength:
                self._conn.acknowledge_received_data(flowLength, event.stream_id)
            return
        if event.data:
            stream.response._bodyDataReceived(event.data)
        if stream.paused:
            stream.held += flowLength
        elif flowLength and stream.streamID in self._streams:
            self._conn.acknowledge_received_data(flowLength, stream.streamID)

    def _acknowledgeHeld(self, stream: _Stream) -> None:
        held, stream.held = stream.held, 0
        if held and self._lost is None and stream.streamID in self._streams:
            self._conn.acknowledge_received_data(held, stream.streamID)
            self._flush()

    def _streamEnded(self, streamID: int) -> None:
        stream = self._streams.get(streamID)
        if stream is None:
            return
        response = stream.response
        if stream.state is _StreamState.SENDING:
            # RFC 9113 section 8.1: a complete response before the request
            # ended; stop sending the body and close our side of the stream.
            stream.pending.clear()
            stream.stopProducer()
            self._reset(stream, h2.errors.ErrorCodes.NO_ERROR)
        self._forget(stream)
        stream.state = _StreamState.DONE
        if response is not None:
            response._bodyDataFinished()

    def _streamReset(self, event: Any) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is None:
            return
        code = int(event.error_code)
        if stream.response is None and code == h2.errors.ErrorCodes.REFUSED_STREAM:
            why = f"stream {stream.streamID} refused (REFUSED_STREAM)"
            self._finish(stream, HTTP2RequestRefused(why))
            return
        self._finish(stream, None, Failure(HTTP2StreamReset(stream.streamID, code)))

    def _connectionTerminated(self, event: Any) -> None:
        """GOAWAY: streams above its last stream were not processed (RFC 9113 section 6.8)."""
        last = int(event.last_stream_id)
        goAway = HTTP2ConnectionTerminated(
            int(event.error_code), last, bytes(event.additional_data or b"")
        )
        self._goAway = goAway
        for streamID, stream in sorted(self._streams.items()):
            if streamID > last:
                self._finish(stream, HTTP2RequestRefused(f"stream {streamID} above {goAway}"))
        self._refuseQueued(str(goAway))
        self._report()
        if event.error_code != h2.errors.ErrorCodes.NO_ERROR:
            self._failAll(Failure(goAway))
            self._close()
        elif not self._streams:
            self._close()

    # -- ending streams -----------------------------------------------------------------

    def _forget(self, stream: _Stream) -> None:
        self._streams.pop(stream.streamID, None)
        if stream in self._queue:
            self._queue.remove(stream)
        held, stream.held = stream.held, 0
        if held and self._lost is None:
            # The stream is over: give its unacknowledged bytes back to the
            # connection's window (h2 skips the closed stream's own window).
            self._conn.acknowledge_received_data(held, stream.streamID)

    def _reset(self, stream: _Stream, code: int) -> None:
        if stream.streamID in self._streams and self._lost is None:
            try:
                self._conn.reset_stream(stream.streamID, code)
            except h2.exceptions.StreamClosedError:
                pass

    def _finish(
        self, stream: _Stream, error: Exception | None, reason: Failure | None = None
    ) -> None:
        """
        End ``stream`` with a failure: ``error`` for the request Deferred if
        no response arrived yet, else ``reason`` (wrapped in ResponseFailed)
        for its body.  Either may be None to be derived from the other.
        """
        if stream.state is _StreamState.DONE:
            return
        previous = stream.state
        stream.state = _StreamState.DONE
        stream.pending.clear()
        stream.stopProducer()
        self._forget(stream)
        if reason is None:
            assert error is not None
            reason = Failure(error)
        response = stream.response
        if response is None:
            if error is None:
                if previous is _StreamState.SENDING:
                    error = RequestTransmissionFailed([reason])
                else:
                    error = ResponseNeverReceived([reason])
            if not stream.finished.called:
                stream.finished.errback(error)
            return
        if isinstance(reason.value, ResponseFailed):
            response._bodyDataFinished(reason)
        else:
            response._bodyDataFinished(Failure(ResponseFailed([reason], response)))

    def _abandon(self, stream: _Stream, reason: Failure | None) -> None:
        """The user cancelled the request or stopped its body: reset that stream alone."""
        if stream.state is _StreamState.DONE:
            return
        self._reset(stream, h2.errors.ErrorCodes.CANCEL)
        if reason is None:
            # Deferred.cancel: it errbacks with CancelledError itself.
            stream.state = _StreamState.DONE
            stream.pending.clear()
            stream.stopProducer()
            self._forget(stream)
        else:
            self._finish(stream, None, reason)
        self._startQueued()
        self._flush()
        self._maybeIdle()

    def _refuseQueued(self, why: str) -> None:
        queued, self._queue = self._queue, deque()
        for stream in queued:
            stream.state = _StreamState.DONE
            if not stream.finished.called:
                stream.finished.errback(HTTP2RequestRefused(f"not sent: {why}"))

    def _failAll(self, reason: Failure) -> None:
        self._refuseQueued(str(reason.value))
        for stream in list(self._streams.values()):
            self._finish(stream, None, reason)

    def _maybeIdle(self) -> None:
        if self._streams or self._queue or self._lost is not None:
            return
        if self._goAway is not None or self._closing:
            self._close()
            return
        self._quiescentCallback(self)

    def _report(self) -> None:
        if not self._reported:
            self._reported = True
            self._lostCallback(self)

    # -- errors and closing ------------------------------------------------------------

    def _protocolError(self, message: str, code: int) -> None:
        """The server broke HTTP/2: GOAWAY, fail every request here, close."""
        error = HTTP2ProtocolError(message, code)
        try:
            self._conn.close_connection(error_code=code)
        except h2.exceptions.ProtocolError:
            pass
        self._flush()
        self._lost = Failure(error)
        self._failAll(self._lost)
        self._report()
        if self.transport is not None:
            self.transport.loseConnection()

    def _close(self) -> None:
        if self._lost is not None or self.transport is None or self.transport.disconnecting:  # type: ignore[attr-defined]
            return
        self._closing = True
        self._report()
        if self._goAway is None:
            try:
                self._conn.close_connection()
            except h2.exceptions.ProtocolError:
                pass
            self._flush()
        self.transport.loseConnection()

    def closeWhenIdle(self) -> Deferred[None]:
        """
        Take no more requests; send GOAWAY and close once the streams in
        progress end.  The Deferred fires once the connection is closed.
        """
        d: Deferred[None] = Deferred()
        if self._lost is not None or self.transport is None:
            d.callback(None)
            return d
        self._closeDeferreds.append(d)
        self._closing = True
        self._report()
        self._maybeIdle()
        return d

    def abort(self) -> Deferred[None]:
        """Close the connection now, failing its requests; the Deferred fires once closed."""
        d: Deferred[None] = Deferred()
        if self._lost is not None or self.transport is None:
            d.callback(None)
            return d
        self._closeDeferreds.append(d)
        self._closing = True
        self._failAll(Failure(ConnectionAborted()))
        self.transport.abortConnection()  # type: ignore[attr-defined]
        return d

    def connectionLost(self, reason: Failure = Failure(ConnectionDone())) -> None:  # noqa: B008
        """Fail whatever is still in progress."""
        if self._lost is None:
            self._lost = reason
            if self._goAway is not None and self._goAway.errorCode:
                reason = Failure(self._goAway)
            self._failAll(reason)
        self._report()
        self._queue.clear()
        self._streams.clear()
        deferreds, self._closeDeferreds = self._closeDeferreds, []
        for d in deferreds:
            d.callback(None)


def _requestFields(request: Request) -> list[tuple[bytes, bytes]]:
    """The request's HTTP/2 header fields (RFC 9113 section 8.3.1), pseudo-fields first."""
    scheme = b"https"
    if request.absoluteURI:
        scheme = request.absoluteURI.partition(b"://")[0].lower() or b"https"
    hosts = request.headers.getRawHeaders(b"host")
    if not hosts:
        raise ValueError("an HTTP/2 request needs a Host header for :authority")
    path = request.uri
    if not path.startswith(b"/") and request.method.upper() != b"OPTIONS":
        # Absolute form (a proxy request): HTTP/2 wants the path.
        rest = path.partition(b"://")[2]
        path = b"/" + rest.partition(b"/")[2] if b"/" in rest else b"/"
    fields = [
        (b":method", request.method),
        (b":scheme", scheme),
        (b":authority", hosts[0]),
        (b":path", path or b"/"),
    ]
    for name, values in request.headers.getAllRawHeaders():
        lower = name.lower()
        if lower in _CONNECTION_SPECIFIC:
            continue
        for value in values:
            if lower == b"te" and value.strip().lower() != b"trailers":
                continue
            fields.append((lower, value))
    producer = request.bodyProducer
    if producer is not None:
        length = producer.length
        if length is not UNKNOWN_LENGTH and length != UNKNOWN_LENGTH:
            fields.append((b"content-length", b"%d" % length))
    elif request.method.upper() in (b"POST", b"PUT", b"PATCH"):
        fields.append((b"content-length", b"0"))
    return fields
