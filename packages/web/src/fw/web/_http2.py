"""
HTTP/2 (RFC 9113) for :mod:`fw.web`'s server, on the ``h2`` library (``fw-web[http2]``).

``h2`` is the sans-IO state machine; this module is the thin adapter.  An
:class:`~fw.web.http.HTTPChannel` whose connection starts with the HTTP/2
client preface (after ALPN chose ``h2`` over TLS, or prior-knowledge ``h2c``
in clear text) hands its transport to an :class:`H2Connection`.  Each stream
gets an :class:`H2Stream`, which the usual ``Request`` sees as its channel
*and* its transport, so a resource renders the same way over HTTP/1.1 and
HTTP/2.

Flow control follows the peer's windows: response bytes wait in the stream
until the windows open, and a stream's producer is paused while more than
:attr:`H2Connection.streamBufferSize` bytes wait (a pull producer is only
asked for more when nothing waits).  A request body is acknowledged (its
window reopened) as it is consumed; ``pauseReading`` holds the
acknowledgements back.

Limits against abuse (each ends the connection with ``GOAWAY``):

- ``SETTINGS_MAX_CONCURRENT_STREAMS`` (:attr:`H2Connection.maxConcurrentStreams`);
- the header list size (``SETTINGS_MAX_HEADER_LIST_SIZE``, enforced by h2)
  and CONTINUATION floods (h2 refuses more than 64 CONTINUATION frames);
- rapid reset (CVE-2023-44487): ``RST_STREAM`` frames from the client are
  counted in a token bucket; running dry sends ``ENHANCE_YOUR_CALM``;
- PING and SETTINGS floods: the same, with their own bucket.

Server push is never used.
"""

from __future__ import annotations

import time
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from fw.internet.error import ConnectionLost
from fw.internet.interfaces import IDelayedCall
from fw.logger import Logger
from fw.python.failure import Failure
from fw.web import _http_status as _s
from fw.web.http_headers import Headers

__all__ = ["PREFACE", "H2Connection", "H2Stream"]

_log = Logger(namespace="fw.web.http2")

#: The client connection preface (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# HTTP/1.1 connection-specific fields, forbidden in HTTP/2 (RFC 9113 section 8.2.2).
_HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)


class _Bucket:
    """A token bucket: ``take()`` fails once more than ``burst`` arrive faster than ``rate``/s."""

    def __init__(self, burst: float, rate: float, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = burst
        self.stamp = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class H2Stream:
    """
    One HTTP/2 stream, as its ``Request`` sees it: the request's channel and
    its transport (``write``, producers, ``loseConnection``).

    Attributes:
        streamID: The stream's id.
        site: The :class:`~fw.web.server.Site` (from the connection).
    """

    def __init__(self, connection: H2Connection, streamID: int) -> None:
        self._connection = connection
        self.streamID = streamID
        self.site: Any = connection.site
        self._peer: Any = connection._peer
        self._serverHeader: bytes = connection._serverHeader
        self.transport: Any = self
        self._pending = bytearray()
        self._ending = False
        self._ended = False
        self._gone = False
        self._headersSent = False
        self._received = 0
        self._unacked = 0
        self._readingPaused = False
        self._bodyDone = False
        self._producer: Any = None
        self._streaming = False
        self._producerPaused = False
        self._pumpScheduled = False
        self.request: Any = None

    # -- what Request calls on its channel -----------------------------------

    def isSecure(self) -> bool:
        """Return whether the connection is TLS."""
        return self._connection.isSecure()

    def _writeHead(self, request: Any, data: bytes) -> None:
        """Turn the HTTP/1.1 head ``Request`` serialized into HEADERS; queue any body after it."""
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ", 2)[1]
        headers = [(b":status", status)]
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name and name not in _HOP_BY_HOP:
                headers.append((name, value.strip()))
        self._sendHeaders(headers)
        if body:
            self.write(body)

    def _sendHeaders(self, headers: list[tuple[bytes, bytes]]) -> None:
        if self._gone or self._headersSent:
            return
        self._headersSent = True
        self._connection._sendHeaders(self, headers)

    def requestDone(self, request: Any) -> None:
        """The response is complete: end the stream once its data is sent."""
        self._connection._requestDone(self, request)
        self._end()

    def _respondToBadRequest(self, status: int, reason: str) -> None:
        """Answer ``status`` with a short text body and end the stream (not the connection)."""
        if self._gone or self._headersSent:
            self.abortConnection()
            return
        body = reason.encode("ascii", "replace") + b"\n"
        self._sendHeaders(
            [
                (b":status", b"%d" % status),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
            ]
        )
        self.write(body)
        request, self.request = self.request, None
        self._end()
        if request is not None:
            request._disconnected = True
        if not self._bodyDone:
            # Not interested in the rest of the body.
            self._connection._resetStream(self, h2.errors.ErrorCodes.NO_ERROR)

    def pauseReading(self) -> None:
        """Stop reopening the request body's window (the body's consumer is slow)."""
        self._readingPaused = True

    def resumeReading(self) -> None:
        """Reopen the request body's window for what was consumed."""
        self._readingPaused = False
        if self._unacked and not self._gone:
            count, self._unacked = self._unacked, 0
            self._connection._acknowledge(self, count)

    # -- transport side --------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue response body bytes; they go out as the peer's windows allow."""
        if self._gone or self._ending or not data:
            return
        self._pending += data
        self._connection._flush(self)
        if (
            self._producer is not None
            and self._streaming
            and not self._producerPaused
            and len(self._pending) > self._connection.streamBufferSize
        ):
            self._producerPaused = True
            self._producer.pauseProducing()

    def writeSequence(self, data: list[bytes]) -> None:
        """Queue each of ``data``."""
        for piece in data:
            self.write(piece)

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Take ``producer``'s response body; paused and resumed with the stream's window."""
        self._producer = producer
        self._streaming = streaming
        self._producerPaused = False
        if self._gone:
            producer.stopProducing()
            return
        if streaming:
            if self._connection._transportPaused:
                self._producerPaused = True
                producer.pauseProducing()
        else:
            self._schedulePump()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self._producer = None

    def _schedulePump(self) -> None:
        if not self._pumpScheduled:
            self._pumpScheduled = True
            self._connection.callLater(0, self._pump)

    def _pump(self) -> None:
        """Ask a pull producer for more when nothing waits and the window is open."""
        self._pumpScheduled = False
        producer = self._producer
        if producer is None or self._streaming or self._gone:
            return
        if self._pending or self._connection._transportPaused:
            return
        if self._connection._window(self) <= 0:
            return
        producer.resumeProducing()
        if self._producer is producer and not self._pending:
            self._schedulePump()

    def _drained(self) -> None:
        """Called after a flush: wake the producer if the backlog is small again."""
        producer = self._producer
        if producer is None or self._connection._transportPaused:
            return
        if self._streaming:
            if self._producerPaused and len(self._pending) <= self._connection.streamBufferSize:
                self._producerPaused = False
                producer.resumeProducing()
        elif not self._pending:
            self._schedulePump()

    def loseConnection(self) -> None:
        """End the stream after what was written is sent."""
        self._end()

    def abortConnection(self) -> None:
        """Reset the stream at once (``INTERNAL_ERROR``)."""
        if not self._gone:
            self._connection._resetStream(self, h2.errors.ErrorCodes.INTERNAL_ERROR)
            self._lost(Failure(ConnectionLost("HTTP/2 stream aborted")))

    def getPeer(self) -> Any:
        """The client's address."""
        return self._peer

    def getHost(self) -> Any:
        """The local address."""
        return self._connection.transport.getHost()

    def _end(self) -> None:
        if self._ending or self._gone:
            return
        self._ending = True
        self._connection._flush(self)

    def _lost(self, reason: Failure) -> None:
        """The stream is gone (reset, or the connection closed)."""
        if self._gone:
            return
        self._gone = True
        self._pending.clear()
        self._connection._forget(self)
        producer, self._producer = self._producer, None
        request, self.request = self.request, None
        if request is not None and not request.finished:
            request.connectionLost(reason)
        elif producer is not None:
            producer.stopProducing()


class H2Connection:
    """
    The HTTP/2 side of a server connection: feeds ``h2`` and drives one
    :class:`H2Stream` and ``Request`` per stream.

    Args:
        channel: The :class:`~fw.web.http.HTTPChannel` that detected HTTP/2
            (its site, request factory, clock, access log and limits are used).

    Attributes:
        maxConcurrentStreams: ``SETTINGS_MAX_CONCURRENT_STREAMS`` advertised and enforced.
        maxHeaderListSize: ``SETTINGS_MAX_HEADER_LIST_SIZE`` advertised and enforced.
        streamBufferSize: Response bytes a stream may queue before its producer pauses.
        maxResetBurst: ``RST_STREAM`` frames tolerated in a burst ...
        resetRate: ... and per second after it (CVE-2023-44487).
        maxControlBurst: PING and SETTINGS frames tolerated in a burst ...
        controlRate: ... and per second after it.
    """

    maxConcurrentStreams = 100
    maxHeaderListSize = 65536
    streamBufferSize = 65536
    maxResetBurst = 200
    resetRate = 30.0
    maxControlBurst = 200
    controlRate = 50.0

    def __init__(self, channel: Any) -> None:
        self._channel = channel
        self.transport: Any = channel.transport
        self.site: Any = channel.site
        self.requestFactory: Any = channel.requestFactory
        self._peer: Any = channel._peer
        self._serverHeader: bytes = channel._serverHeader
        self._streams: dict[int, H2Stream] = {}
        self._transportPaused = False
        self._closing = False
        self._timer: IDelayedCall | None = None
        now = self._now()
        self._resets = _Bucket(self.maxResetBurst, self.resetRate, now)
        self._controls = _Bucket(self.maxControlBurst, self.controlRate, now)
        config = h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=True
        )
        conn = self._conn = h2.connection.H2Connection(config=config)
        conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.maxConcurrentStreams,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: self.maxHeaderListSize,
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
            },
        )
        conn.max_inbound_frame_size = conn.local_settings.max_frame_size

    # -- helpers ----------------------------------------------------------------

    def _now(self) -> float:
        clock = getattr(self._channel, "_clock", None)
        return clock.seconds() if clock is not None else time.time()

    def callLater(self, delay: float, f: Any, /, *args: Any) -> IDelayedCall:
        """Schedule ``f`` on the channel's clock."""
        result: IDelayedCall = self._channel.callLater(delay, f, *args)
        return result

    def isSecure(self) -> bool:
        """Return whether the connection is TLS."""
        return bool(self._channel.isSecure())

    def _send(self) -> None:
        data = self._conn.data_to_send()
        if data and not self._closing:
            self.transport.write(data)

    # -- connection ---------------------------------------------------------------

    def start(self, data: bytes) -> None:
        """Begin: send our SETTINGS, watch the transport's back-pressure, handle ``data``."""
        self._conn.initiate_connection()
        self._send()
        self.transport.registerProducer(self, True)
        self._resetIdle()
        self.dataReceived(data)

    def dataReceived(self, data: bytes) -> None:
        """Feed ``h2`` and act on its events."""
        if self._closing:
            return
        try:
            events = self._conn.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            _log.info("HTTP/2 protocol error from {peer}: {error}", peer=self._peer, error=e)
            self._send()  # h2 queued the GOAWAY
            self._close()
            return
        self._resetIdle()
        for event in events:
            if self._isClosing():
                return
            self._handle(event)
        self._checkOverlong()
        self._send()

    def _isClosing(self) -> bool:
        return self._closing

    def _checkOverlong(self) -> None:
        """
        Refuse an overlong frame as soon as its header arrives: h2 would
        otherwise buffer up to its declared length (16 MiB) before refusing it.
        """
        buffered = getattr(self._conn.incoming_buffer, "_data", None)
        if buffered is None or len(buffered) < 9 or self._closing:
            return
        if int.from_bytes(buffered[:3], "big") > self._conn.max_inbound_frame_size:
            _log.info("Overlong HTTP/2 frame from {peer}", peer=self._peer)
            self._conn.close_connection(error_code=h2.errors.ErrorCodes.FRAME_SIZE_ERROR)
            self._close()

    def _handle(self, event: Any) -> None:
        cls = type(event)
        if cls is h2.events.RequestReceived:
            self._requestReceived(event)
        elif cls is h2.events.DataReceived:
            self._dataReceived(event)
        elif cls is h2.events.StreamEnded:
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                self._bodyComplete(stream)
        elif cls is h2.events.StreamReset:
            if event.remote_reset and not self._resets.take(self._now()):
                self._calm("too many RST_STREAM frames")
                return
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream._lost(Failure(ConnectionLost("HTTP/2 stream reset by the client")))
        elif cls is h2.events.WindowUpdated:
            if event.stream_id == 0:
                self._flushAll()
            else:
                stream = self._streams.get(event.stream_id)
                if stream is not None:
                    self._flush(stream)
        elif cls is h2.events.RemoteSettingsChanged or cls is h2.events.PingReceived:
            if not self._controls.take(self._now()):
                self._calm("too many PING or SETTINGS frames")
                return
            if cls is h2.events.RemoteSettingsChanged:
                self._flushAll()
        elif cls is h2.events.ConnectionTerminated:
            self._send()
            self._close()
        # PriorityUpdated, TrailersReceived, SettingsAcknowledged...: nothing to do.

    def _calm(self, why: str) -> None:
        _log.warn("Closing HTTP/2 connection from {peer}: {why}", peer=self._peer, why=why)
        self._conn.close_connection(error_code=h2.errors.ErrorCodes.ENHANCE_YOUR_CALM)
        self._send()
        self._close()

    def _close(self) -> None:
        self._send()
        self._closing = True
        self.transport.loseConnection()

    def _requestReceived(self, event: h2.events.RequestReceived) -> None:
        sid = event.stream_id
        stream = self._streams[sid] = H2Stream(self, sid)
        fields: dict[bytes, list[bytes]] = {}
        method = path = authority = b""
        for name, value in event.headers:
            name = bytes(name)
            value = bytes(value)
            if name[:1] == b":":
                if name == b":method":
                    method = value
                elif name == b":path":
                    path = value
                elif name == b":authority":
                    authority = value
                continue
            fields.setdefault(name, []).append(value)
        if authority and b"host" not in fields:
            fields[b"host"] = [authority]
        if b"cookie" in fields and len(fields[b"cookie"]) > 1:
            fields[b"cookie"] = [b"; ".join(fields[b"cookie"])]
        request = self.requestFactory(stream, False)
        stream.request = request
        request.requestHeaders = Headers._fromParsed(fields)
        request._h2Line = (method, path or b"/")
        if event.stream_ended is None:
            request._setRequestLine(method, path or b"/", b"HTTP/2")
            length = fields.get(b"content-length")
            request.gotLength(int(length[-1]) if length and length[-1].isdigit() else None)

    def _dataReceived(self, event: h2.events.DataReceived) -> None:
        conn = self._conn
        stream = self._streams.get(event.stream_id)
        if stream is None or stream.request is None:
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            return
        stream._received += len(event.data)
        if stream._received > self._channel.maxRequestBodySize:
            stream._respondToBadRequest(_s.REQUEST_ENTITY_TOO_LARGE, "Request body too large")
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            return
        stream.request.handleContentChunk(event.data)
        if stream._readingPaused:
            stream._unacked += event.flow_controlled_length
        elif not stream._gone:
            conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)

    def _bodyComplete(self, stream: H2Stream) -> None:
        stream._bodyDone = True
        request = stream.request
        if request is None:
            return
        method, path = request._h2Line
        request.requestReceived(method, path, b"HTTP/2")

    def _acknowledge(self, stream: H2Stream, count: int) -> None:
        try:
            self._conn.acknowledge_received_data(count, stream.streamID)
        except h2.exceptions.StreamClosedError:
            return
        self._send()

    # -- sending ------------------------------------------------------------------

    def _sendHeaders(self, stream: H2Stream, headers: list[tuple[bytes, bytes]]) -> None:
        if self._closing:
            return
        try:
            self._conn.send_headers(stream.streamID, headers)
        except h2.exceptions.StreamClosedError:
            stream._lost(Failure(ConnectionLost("HTTP/2 stream closed")))
            return
        self._send()

    def _window(self, stream: H2Stream) -> int:
        try:
            return int(self._conn.local_flow_control_window(stream.streamID))
        except h2.exceptions.StreamClosedError:
            return 0

    def _flush(self, stream: H2Stream) -> None:
        """Send what ``stream`` has queued, as far as the windows allow; end it if due."""
        if self._closing or stream._gone or stream._ended:
            return
        conn = self._conn
        sid = stream.streamID
        pending = stream._pending
        try:
            while pending:
                window = conn.local_flow_control_window(sid)
                if window <= 0:
                    break
                size = min(window, conn.max_outbound_frame_size, len(pending))
                conn.send_data(sid, bytes(pending[:size]))
                del pending[:size]
            if not pending and stream._ending:
                stream._ended = True
                conn.end_stream(sid)
        except h2.exceptions.StreamClosedError:
            stream._lost(Failure(ConnectionLost("HTTP/2 stream closed")))
            return
        self._send()
        if stream._ended:
            self._forget(stream)
            if not stream._bodyDone:
                # Answered before the body was all in: the rest is unwanted.
                self._resetStream(stream, h2.errors.ErrorCodes.NO_ERROR)
        else:
            stream._drained()

    def _flushAll(self) -> None:
        for stream in list(self._streams.values()):
            if stream._pending or stream._ending:
                self._flush(stream)

    def _resetStream(self, stream: H2Stream, code: int) -> None:
        self._forget(stream)
        try:
            self._conn.reset_stream(stream.streamID, error_code=code)
        except h2.exceptions.StreamClosedError:
            return
        self._send()

    def _forget(self, stream: H2Stream) -> None:
        if self._streams.get(stream.streamID) is stream:
            del self._streams[stream.streamID]

    def _requestDone(self, stream: H2Stream, request: Any) -> None:
        accessLog = getattr(self._channel, "_accessLog", None)
        if accessLog is not None:
            accessLog.log(request)
        stream.request = None

    # -- the transport's back-pressure (IPushProducer) -----------------------

    def pauseProducing(self) -> None:
        """The transport's buffer is full: pause every stream's producer."""
        self._transportPaused = True
        for stream in list(self._streams.values()):
            if stream._producer is not None and stream._streaming and not stream._producerPaused:
                stream._producerPaused = True
                stream._producer.pauseProducing()

    def resumeProducing(self) -> None:
        """The transport drained: wake the streams' producers."""
        self._transportPaused = False
        for stream in list(self._streams.values()):
            stream._drained()

    def stopProducing(self) -> None:
        """The transport is going away."""

    # -- timeouts and the end ---------------------------------------------------

    def _resetIdle(self) -> None:
        timeOut = self._channel.timeOut
        if timeOut is None or self._closing:
            return
        timer = self._timer
        if timer is not None and timer.active():
            timer.reset(timeOut)
        else:
            self._timer = self.callLater(timeOut, self._idle)

    def _idle(self) -> None:
        self._timer = None
        if self._closing:
            return
        if self._streams:
            self._resetIdle()
            return
        _log.debug("Closing idle HTTP/2 connection")
        self._conn.close_connection()
        self._close()

    def connectionLost(self, reason: Failure) -> None:
        """Every open stream is lost with the connection."""
        self._closing = True
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()
        self._timer = None
        for stream in list(self._streams.values()):
            stream._lost(reason)
