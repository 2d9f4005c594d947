"""
:class:`HTTPChannel` (the Protocol adapter over the sans-IO parser) and :class:`HTTPFactory`.

Per connection: ``connectionMade -> (request head -> body -> response)* ->
connectionLost``.  Requests are handled one at a time; pipelined requests
wait in the parser's buffer (reading pauses when it grows) and are answered
in order.  Timeouts use the factory's reactor clock:

- ``timeOut`` (Twisted's name): an idle keep-alive connection, or a body
  arriving with no bytes for that long, is closed;
- ``requestHeaderTimeout``: a request head must be complete this long after
  its first byte arrives, whatever the trickle (slowloris); else 408 and close.
"""

from __future__ import annotations

import importlib.util
import time
from typing import IO, Any

from fw.internet.error import ConnectionDone
from fw.internet.interfaces import IDelayedCall, IReactorTime, ISSLTransport
from fw.internet.protocol import Protocol, ServerFactory
from fw.logger import Logger
from fw.python.failure import Failure
from fw.web import _http_status as _s
from fw.web._http_codec import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEADER_SIZE,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_REQUEST_LINE,
    NEED_DATA,
    PAUSED,
    BodyData,
    EndOfRequest,
    ParseError,
    RequestHead,
    RequestParser,
)
from fw.web._http_request import Request
from fw.web._log import AccessLog, combinedLogFormatter
from fw.web._version import __version__

__all__ = ["HTTP2_AVAILABLE", "HTTPChannel", "HTTPFactory"]

_log = Logger(namespace="fw.web.http")

#: Twisted's default idle timeout, in seconds.
_DEFAULT_WEB_TIMEOUT = 60
#: Default time allowed from a request head's first byte to its end (slowloris defence).
_DEFAULT_HEADER_TIMEOUT = 20
#: Seconds a lingering close waits for the client to stop sending before aborting.
_LINGER_TIMEOUT = 5.0
#: Pipelined bytes buffered while a request is in flight before reading pauses.
_MAX_PIPELINE_BUFFER = 65536

# Settings a channel takes from its factory when the factory has them.
_FACTORY_SETTINGS = (
    "timeOut",
    "requestHeaderTimeout",
    "maxRequestLine",
    "maxHeaderSize",
    "maxHeaders",
    "maxRequestBodySize",
)

#: Whether the optional ``h2`` library (``fw-web[http2]``) is installed.
HTTP2_AVAILABLE = importlib.util.find_spec("h2") is not None
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_INF = float("inf")


class HTTPChannel(Protocol):
    """
    A connection speaking HTTP/1.1 to a client: parses requests and hands each
    to a :attr:`requestFactory` request.

    Attributes:
        site: The :class:`~fw.web.server.Site` (set by ``Site.buildProtocol``).
        timeOut: Idle and body-inactivity timeout in seconds (``None``: none).
        requestHeaderTimeout: Seconds allowed to send a whole request head.
    """

    transport: Any
    #: Called with the channel to make each request.
    requestFactory: Any = Request
    site: Any = None
    timeOut: float | None = _DEFAULT_WEB_TIMEOUT
    requestHeaderTimeout: float | None = _DEFAULT_HEADER_TIMEOUT
    maxRequestLine = DEFAULT_MAX_REQUEST_LINE
    maxHeaderSize = DEFAULT_MAX_HEADER_SIZE
    maxHeaders = DEFAULT_MAX_HEADERS
    maxRequestBodySize = DEFAULT_MAX_BODY_SIZE
    #: Unread request body a finished response may leave: up to this much is
    #: read and discarded to keep the connection (by default as much as a body
    #: may be anyway); more gets a lingering close.
    maxDrainSize = DEFAULT_MAX_BODY_SIZE
    _drained = 0
    _serverHeader = b"Server: fw.web/" + __version__.encode("ascii") + b"\r\n"
    _clock: IReactorTime | None = None
    _request: Request | None = None
    _timer: IDelayedCall | None = None
    _secure = False
    _accessLog: AccessLog | None = None
    _peer: Any = None
    # Set when HTTPFactory.buildProtocol already copied its settings in.
    _configured = False
    #: Whether a connection starting with the HTTP/2 preface switches to HTTP/2
    #: (over TLS after ALPN chose ``h2``, or prior-knowledge ``h2c``).
    http2 = HTTP2_AVAILABLE
    _sniffing = False
    _sniffed = b""
    _h2: Any = None

    def __init__(self) -> None:
        self._parser: RequestParser | None = None
        self._processing = False
        self._closing = False
        self._readingPaused = False
        self._bodyComplete = True
        self._draining = False
        self._deadline = _INF
        self._headDeadline = _INF
        self._lostReason: Failure | None = None

    # -- time ----------------------------------------------------------------

    def _now(self) -> float:
        clock = self._clock
        return clock.seconds() if clock is not None else time.time()

    def callLater(self, delay: float, f: Any, /, *args: Any) -> IDelayedCall:
        """Schedule ``f`` on the channel's clock (the factory's reactor)."""
        clock = self._clock
        if clock is None:
            from fw.internet import reactor as globalReactor

            clock = globalReactor  # type: ignore[assignment]
            self._clock = clock
        assert clock is not None
        return clock.callLater(delay, f, *args)

    def _setDeadline(self, deadline: float) -> None:
        self._deadline = deadline
        if deadline == _INF:
            return
        timer = self._timer
        if timer is None or not timer.active():
            self._timer = self.callLater(max(deadline - self._now(), 0), self._timeoutCheck)
        elif deadline < timer.getTime():
            timer.reset(max(deadline - self._now(), 0))

    def _timeoutCheck(self) -> None:
        self._timer = None
        now = self._now()
        deadline = min(self._deadline, self._headDeadline)
        if deadline == _INF or self._closing:
            return
        if now < deadline:
            self._timer = self.callLater(deadline - now, self._timeoutCheck)
            return
        self.timeoutConnection()

    def timeoutConnection(self) -> None:
        """A timeout expired: answer 408 if a request is partly received, then close."""
        parser = self._parser
        request = self._request
        if self._draining or (request is None and parser is not None and parser.idle):
            _log.debug("Closing idle HTTP connection")
            self._closing = True
            self.transport.loseConnection()
        elif request is None or not request.startedWriting:
            _log.info("Timing out HTTP client {peer}", peer=self.transport.getPeer())
            self._respondToBadRequest(_s.REQUEST_TIMEOUT, "Request timed out")
        else:
            self._closing = True
            self.transport.abortConnection()

    # -- connection ----------------------------------------------------------

    def connectionMade(self) -> None:
        """Set up the parser with the factory's limits and start the idle timer."""
        factory = self.factory
        if factory is not None and not self._configured:
            self._clock = getattr(factory, "_reactor", None)
            for name in _FACTORY_SETTINGS:
                if hasattr(factory, name):
                    setattr(self, name, getattr(factory, name))
            self._accessLog = getattr(factory, "_accessLog", None)
        self._parser = RequestParser(
            self.maxRequestLine, self.maxHeaderSize, self.maxHeaders, self.maxRequestBodySize
        )
        self._secure = ISSLTransport.providedBy(self.transport)
        self._peer = self.transport.getPeer()
        self._sniffing = self.http2
        if self.timeOut is not None:
            self._setDeadline(self._now() + self.timeOut)

    def isSecure(self) -> bool:
        """Return whether the connection is TLS."""
        return self._secure or ISSLTransport.providedBy(self.transport)

    def setTimeout(self, period: float | None) -> float | None:
        """Change :attr:`timeOut`; return the old value (Twisted's ``TimeoutMixin`` API)."""
        old = self.timeOut
        self.timeOut = period
        if period is not None and self._request is None:
            self._setDeadline(self._now() + period)
        return old

    def resetTimeout(self) -> None:
        """Restart the idle timer."""
        if self.timeOut is not None:
            self._setDeadline(self._now() + self.timeOut)

    def dataReceived(self, data: bytes) -> None:
        """Feed the parser and handle whatever it yields."""
        parser = self._parser
        if parser is None or self._closing:
            if self._h2 is not None:
                self._h2.dataReceived(data)
            return
        if self._sniffing:
            data = self._sniffed + data
            if len(data) < len(_H2_PREFACE) and _H2_PREFACE.startswith(data):
                self._sniffed = data
                return
            self._sniffing = False
            self._sniffed = b""
            if data.startswith(_H2_PREFACE):
                self._switchToHTTP2(data)
                return
        parser.feed(data)
        if not self._bodyComplete and self.timeOut is not None:
            self._deadline = self._now() + self.timeOut
        if not self._processing:
            self._processEvents()

    def _processEvents(self) -> None:
        parser = self._parser
        assert parser is not None
        self._processing = True
        try:
            while not self._closing:
                event = parser.nextEvent()
                if event is PAUSED:
                    if parser.buffered > _MAX_PIPELINE_BUFFER and not self._readingPaused:
                        self._readingPaused = True
                        self.transport.pauseProducing()
                    return
                if event is NEED_DATA:
                    # A head has started: it must complete before the head deadline.
                    if (
                        self._request is None
                        and parser._buffer
                        and self._headDeadline == _INF
                        and self.requestHeaderTimeout is not None
                    ):
                        self._headDeadline = self._now() + self.requestHeaderTimeout
                        self._setDeadline(min(self._deadline, self._headDeadline))
                    return
                cls = type(event)
                if cls is RequestHead:
                    self._headReceived(event)  # type: ignore[arg-type]
                elif cls is BodyData:
                    request = self._request
                    if request is not None:
                        request.handleContentChunk(event.data)  # type: ignore[union-attr]
                    elif self._draining:
                        self._drained += len(event.data)  # type: ignore[union-attr]
                        if self._drained > self.maxDrainSize:
                            self._draining = False
                            self._lingeringClose()
                            return
                elif cls is EndOfRequest:
                    self._bodyComplete = True
                    request = self._request
                    if self._draining:
                        self._draining = False
                        parser.startNextRequest()
                        if self.timeOut is not None:
                            self._setDeadline(self._now() + self.timeOut)
                    elif request is not None:
                        self._deadline = _INF
                        request.requestReceived(request.method, request.uri, request.clientproto)
                else:
                    assert isinstance(event, ParseError)
                    self._parseError(event)
                    return
        finally:
            self._processing = False

    def _switchToHTTP2(self, data: bytes) -> None:
        """The client speaks HTTP/2: hand the connection to an ``H2Connection``."""
        from fw.web._http2 import H2Connection

        self._parser = None
        self._deadline = self._headDeadline = _INF
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()
        self._timer = None
        self._h2 = H2Connection(self)
        self._h2.start(data)

    def _headReceived(self, head: RequestHead) -> None:
        self._headDeadline = _INF
        method, target, version, fields, keepAlive, expectContinue, length = head
        request = self.requestFactory(self, False)
        self._request = request
        # The parser's fields are already validated and lower-cased: the
        # request's (new, empty) Headers adopts them without a copy.
        request.requestHeaders._rawHeaders = fields
        request._persistent = keepAlive
        if length == 0:
            self._deadline = _INF
            request.requestReceived(method, target, version)
            return
        self._bodyComplete = False
        if expectContinue and not self._parser.buffered:  # type: ignore[union-attr]
            self.transport.write(_CONTINUE)
        request._setRequestLine(method, target, version)
        request.gotLength(length)

    def _parseError(self, error: ParseError) -> None:
        request = self._request
        if request is not None and request.startedWriting:
            self._closing = True
            self.transport.abortConnection()
            return
        _log.info(
            "Bad HTTP request from {peer}: {status} {reason}",
            peer=self.transport.getPeer(),
            status=error.status,
            reason=error.reason,
        )
        self._respondToBadRequest(error.status, error.reason)

    def _respondToBadRequest(self, status: int, reason: str) -> None:
        """Answer ``status`` with a short text body and close the connection."""
        if self._closing:
            return
        self._closing = True
        body = reason.encode("ascii", "replace") + b"\n"
        self.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (status, _s.RESPONSES.get(status, b"Error"), len(body), body)
        )
        self.transport.loseConnection()

    def _writeHead(self, request: Request, data: bytes) -> None:
        self.transport.write(data)

    def pauseReading(self) -> None:
        """Stop reading from the connection (flow control of a streamed request body)."""
        if not self._readingPaused:
            self._readingPaused = True
            self.transport.pauseProducing()

    def resumeReading(self) -> None:
        """Resume reading from the connection."""
        if self._readingPaused and not self._closing:
            self._readingPaused = False
            self.transport.resumeProducing()

    def _lingeringClose(self) -> None:
        """Close our side after the response; discard what the client still sends."""
        self._closing = True
        if self._readingPaused:
            self._readingPaused = False
            self.transport.resumeProducing()
        loseWrite = getattr(self.transport, "loseWriteConnection", None)
        if loseWrite is None:
            self.transport.loseConnection()
            return
        loseWrite()
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()
        self._timer = self.callLater(_LINGER_TIMEOUT, self.transport.abortConnection)

    def detachTransport(self) -> bytes:
        """
        Stop speaking HTTP on this connection, for a tunnel (``CONNECT``) or
        an upgrade: timeouts stop, nothing more is parsed, and the bytes the
        client sent after the current request are returned; the caller now
        owns the transport (and typically replaces ``dataReceived``).
        """
        self._closing = True
        self._deadline = self._headDeadline = _INF
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()
        self._timer = None
        parser = self._parser
        if parser is None:
            return b""
        leftover = parser._buffer
        parser._buffer = b""
        if self._readingPaused:
            self._readingPaused = False
            self.transport.resumeProducing()
        return leftover

    def requestDone(self, request: Request) -> None:
        """Called by a request's ``finish``: log, then close or move on to the next request."""
        if request is not self._request:
            return
        accessLog = self._accessLog
        if accessLog is not None:
            accessLog.log(request)
        self._request = None
        if not request._persistent:
            self._closing = True
            self.transport.loseConnection()
            return
        if not self._bodyComplete:
            # Answered before its body was all in.  A small rest is read and
            # discarded and the connection kept; a big one gets a lingering
            # close, so the client sees the response, not a reset.
            parser = self._parser
            assert parser is not None
            if parser._remaining > self.maxDrainSize:
                self._lingeringClose()
                return
            self._draining = True
            self._drained = 0
            if self.timeOut is not None:
                self._setDeadline(self._now() + self.timeOut)
            self.resumeReading()
            return
        parser = self._parser
        assert parser is not None
        parser.startNextRequest()
        timeOut = self.timeOut
        if timeOut is not None:
            clock = self._clock
            self._deadline = (clock.seconds() if clock is not None else time.time()) + timeOut
            if self._timer is None:
                self._setDeadline(self._deadline)
        if self._readingPaused:
            self._readingPaused = False
            self.transport.resumeProducing()
        if not self._processing and parser.buffered:
            self._processEvents()

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Cancel timers and tell an unfinished request its connection is gone."""
        if reason is None:
            reason = Failure(ConnectionDone("connection closed"))
        self._closing = True
        self._lostReason = reason
        if self._h2 is not None:
            self._h2.connectionLost(reason)
        timer = self._timer
        if timer is not None and timer.active():
            timer.cancel()
        self._timer = None
        request = self._request
        if request is not None:
            self._request = None
            request.connectionLost(reason)


class HTTPFactory(ServerFactory):
    """
    Makes :class:`HTTPChannel` connections, and keeps the access log.

    Args:
        logPath: File to append an access log to (``None``: no log).
        timeout: Idle timeout in seconds (Twisted's ``timeOut``).
        logFormatter: Turns ``(timestamp, request)`` into a log line;
            :func:`combinedLogFormatter` by default.
        reactor: The reactor whose clock times connections out.
        maxRequestLine: Longest request line (414 beyond).
        maxHeaderSize: Largest header section (431 beyond).
        maxHeaders: Most header fields (431 beyond).
        maxRequestBodySize: Largest request body (413 beyond).
        requestHeaderTimeout: Seconds allowed for a request head (slowloris defence).
    """

    protocol = HTTPChannel

    def __init__(
        self,
        logPath: str | None = None,
        timeout: float | None = _DEFAULT_WEB_TIMEOUT,
        logFormatter: Any = None,
        reactor: IReactorTime | None = None,
        *,
        maxRequestLine: int = DEFAULT_MAX_REQUEST_LINE,
        maxHeaderSize: int = DEFAULT_MAX_HEADER_SIZE,
        maxHeaders: int = DEFAULT_MAX_HEADERS,
        maxRequestBodySize: int = DEFAULT_MAX_BODY_SIZE,
        requestHeaderTimeout: float | None = _DEFAULT_HEADER_TIMEOUT,
    ) -> None:
        self._givenReactor = reactor
        self.logPath = logPath
        self.timeOut = timeout
        self.requestHeaderTimeout = requestHeaderTimeout
        self.maxRequestLine = maxRequestLine
        self.maxHeaderSize = maxHeaderSize
        self.maxHeaders = maxHeaders
        self.maxRequestBodySize = maxRequestBodySize
        self._logFormatter = logFormatter if logFormatter is not None else combinedLogFormatter
        self._accessLog: AccessLog | None = None

    @property
    def _reactor(self) -> IReactorTime:
        """The reactor given to the constructor, else the global one (resolved at call time)."""
        reactor = self._givenReactor
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = self._givenReactor = globalReactor  # type: ignore[assignment]
        assert reactor is not None
        return reactor

    def buildProtocol(self, addr: Any) -> HTTPChannel:
        """Make a channel for a new connection."""
        channel: HTTPChannel = self.protocol()
        channel.factory = self
        # One dict update instead of a getattr/setattr per setting per connection.
        settings: dict[str, Any] = {name: getattr(self, name) for name in _FACTORY_SETTINGS}
        settings["_clock"] = self._reactor
        settings["_accessLog"] = self._accessLog
        settings["_configured"] = True
        channel.__dict__.update(settings)
        return channel

    def startFactory(self) -> None:
        """Open the access log, if any."""
        if self.logPath is not None and self._accessLog is None:
            self._accessLog = AccessLog(
                self._openLogFile(self.logPath), self._logFormatter, self._reactor
            )

    def _openLogFile(self, path: str) -> IO[str]:
        """Open the access log file (override to rotate)."""
        return open(path, "a", encoding="utf-8")

    def stopFactory(self) -> None:
        """Flush and close the access log."""
        if self._accessLog is not None:
            self._accessLog.close()
            self._accessLog = None

    def log(self, request: Any) -> None:
        """Write an access-log line for ``request`` (buffered; no-op without a log)."""
        if self._accessLog is not None:
            self._accessLog.log(request)
