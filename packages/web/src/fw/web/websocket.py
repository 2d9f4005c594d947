"""
WebSocket (RFC 6455) for fw.web: a :class:`WebSocketResource` that upgrades
requests on the Resource tree, a client (:func:`connectWebSocket`), and the
:class:`WebSocketProtocol` both sides speak.

Framing is done by :mod:`wsproto` inside a sans-IO machine
(``fw.web._websocket_core``); this module only moves bytes between it and a
transport.  Back-pressure is the transport's: ``self.transport`` of a
connected protocol is the TCP/TLS transport, so a producer registered on it
is paused when the peer reads slowly, and ``self.transport.pauseProducing()``
stops reading from the peer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from fw.internet.defer import Deferred
from fw.internet.error import ConnectionDone
from fw.internet.protocol import ClientFactory, Protocol
from fw.python.failure import Failure
from fw.web._websocket_core import (
    DEFAULT_MAX_MESSAGE_SIZE,
    MAX_HANDSHAKE_SIZE,
    CloseCode,
    CloseReceived,
    FrameMachine,
    HandshakeError,
    MessageReceived,
    PingReceived,
    PongReceived,
    ProtocolFailed,
    WebSocketError,
    WebSocketProtocolError,
    acceptFor,
    checkHandshakeResponse,
    checkUpgradeRequest,
    clientHandshake,
    makeKey,
    selectSubprotocol,
)
from fw.web.resource import Resource
from fw.web.server import NOT_DONE_YET

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "CloseCode",
    "HandshakeError",
    "WebSocketError",
    "WebSocketProtocol",
    "WebSocketProtocolError",
    "WebSocketResource",
    "connectWebSocket",
]

#: Seconds to wait for the peer's close frame (or, on the client, for the
#: server to drop TCP) before the connection is aborted.
DEFAULT_CLOSE_TIMEOUT = 10.0


def _defaultReactor() -> Any:
    from fw.internet import reactor

    return reactor


class WebSocketProtocol:
    """
    One side of an open WebSocket; subclass it and override the callbacks.

    Attributes:
        transport: The underlying TCP or TLS transport (for ``getPeer``,
            ``registerProducer``, ``pauseProducing``...); do not write
            raw bytes to it.
        request: On the server, the request that was upgraded; ``None`` on
            the client.
        subprotocol: The negotiated subprotocol, or ``None``.
        closeCode: The close code once the closing handshake (or failure)
            happened; ``1006`` if the connection dropped without one.
        closeReason: The close reason that went with ``closeCode``.
        autoPingInterval: If set (in seconds), send a keep-alive ping this
            often; a peer that has not answered the previous ping by the
            next one is disconnected (``closeCode`` 1006).
        closeTimeout: Seconds to wait for the peer's side of the closing
            handshake before aborting the connection.
    """

    transport: Any = None
    request: Any = None
    subprotocol: str | None = None
    closeCode: int | None = None
    closeReason: str = ""
    _machine: FrameMachine | None = None
    _reactor: Any = None
    _closeTimer: Any = None
    _isClient: bool = False
    closeTimeout: float = DEFAULT_CLOSE_TIMEOUT
    autoPingInterval: float | None = None
    _pingTimer: Any = None
    _awaitingPong: bool = False

    # -- callbacks to override ------------------------------------------------

    def connectionMade(self) -> None:
        """The handshake completed; messages can be sent."""

    def messageReceived(self, data: str | bytes, isBinary: bool) -> None:
        """
        A whole message arrived (fragments already reassembled).  By default
        calls :meth:`textMessageReceived` or :meth:`bytesMessageReceived`.
        """
        if isBinary:
            assert isinstance(data, bytes)
            self.bytesMessageReceived(data)
        else:
            assert isinstance(data, str)
            self.textMessageReceived(data)

    def textMessageReceived(self, text: str) -> None:
        """A text message arrived."""

    def bytesMessageReceived(self, data: bytes) -> None:
        """A binary message arrived."""

    def pingReceived(self, payload: bytes) -> None:
        """A ping arrived; the pong has already been sent."""

    def pongReceived(self, payload: bytes) -> None:
        """A pong arrived."""

    def connectionLost(self, reason: Failure) -> None:
        """The connection is gone; ``closeCode``/``closeReason`` say how it closed."""

    # -- actions -------------------------------------------------------------

    def sendMessage(self, data: str | bytes) -> None:
        """
        Send a message: ``str`` as a text message, ``bytes`` as binary.

        Raises:
            WebSocketError: the WebSocket is closing or not connected.
        """
        if self._machine is None:
            raise WebSocketError("WebSocket is not connected")
        self._machine.sendMessage(data)
        self._flush()

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping (``pongReceived`` gets the answer)."""
        if self._machine is None:
            raise WebSocketError("WebSocket is not connected")
        self._machine.ping(payload)
        self._flush()

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """
        Start the closing handshake; the connection drops when the peer
        answers, or after ``closeTimeout`` seconds.
        """
        machine = self._machine
        if machine is None:
            return
        machine.close(code, reason)
        self._flush()
        if self._closeTimer is None and self.transport is not None:
            self._closeTimer = self._reactor.callLater(self.closeTimeout, self._closeTimedOut)

    # -- plumbing ------------------------------------------------------------

    def _closeTimedOut(self) -> None:
        self._closeTimer = None
        if self.transport is not None:
            self.transport.abortConnection()

    def _flush(self) -> None:
        machine = self._machine
        if machine is not None and self.transport is not None:
            data = machine.dataToSend()
            if data:
                self.transport.write(data)

    def _start(self, transport: Any, machine: FrameMachine, reactor: Any, isClient: bool) -> None:
        self.transport = transport
        self._machine = machine
        self._reactor = reactor
        self._isClient = isClient
        if self.autoPingInterval:
            self._pingTimer = reactor.callLater(self.autoPingInterval, self._keepAlive)
        self.connectionMade()

    def _keepAlive(self) -> None:
        self._pingTimer = None
        machine = self._machine
        if machine is None or self.transport is None:
            return
        if self._awaitingPong:
            self.transport.abortConnection()
            return
        self._awaitingPong = True
        machine.ping(b"fw-keepalive")
        self._flush()
        assert self.autoPingInterval is not None
        self._pingTimer = self._reactor.callLater(self.autoPingInterval, self._keepAlive)

    def _dataReceived(self, data: bytes) -> None:
        machine = self._machine
        if machine is None:
            return
        for event in machine.receiveData(data):
            if isinstance(event, MessageReceived):
                self.messageReceived(event.data, event.isBinary)
            elif isinstance(event, PingReceived):
                self._flush()
                self.pingReceived(event.payload)
            elif isinstance(event, PongReceived):
                self._awaitingPong = False
                self.pongReceived(event.payload)
            elif isinstance(event, CloseReceived):
                self.closeCode, self.closeReason = event.code, event.reason
                self._flush()
                if self._isClient:
                    # RFC 6455 7.1.1: the server closes TCP first; wait.
                    if self._closeTimer is None:
                        self._closeTimer = self._reactor.callLater(
                            self.closeTimeout, self._closeTimedOut
                        )
                else:
                    self.transport.loseConnection()
            elif isinstance(event, ProtocolFailed):
                self.closeCode, self.closeReason = event.code, event.reason
                self._flush()
                self.transport.loseConnection()
        self._flush()

    def _connectionLost(self, reason: Failure) -> None:
        for timer in (self._closeTimer, self._pingTimer):
            if timer is not None and timer.active():
                timer.cancel()
        self._closeTimer = self._pingTimer = None
        if self.closeCode is None:
            self.closeCode = CloseCode.ABNORMAL
        self._machine = None
        self.connectionLost(reason)
        self.transport = None


def _sameOrigin(request: Any, origin: str | None) -> bool:
    """Default origin check: no ``Origin`` (not a browser), or the same host:port."""
    if origin is None:
        return True
    host = request.getHeader(b"host")
    if host is None:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    hostText = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    wanted = urlsplit("//" + hostText)
    wantedPort = wanted.port or (443 if request.isSecure() else 80)
    return (wanted.hostname or "").lower() == parts.hostname.lower() and wantedPort == port


class WebSocketResource(Resource):
    """
    A leaf resource that upgrades ``GET`` requests to WebSocket connections.

    Args:
        protocolFactory: Called with no arguments for each accepted
            connection; returns the :class:`WebSocketProtocol` to run.
        subprotocols: Subprotocols this server speaks, in preference order;
            the first one the client offers is chosen.
        checkOrigin: ``checkOrigin(request, origin)`` returns whether to
            accept a handshake with this ``Origin`` (``None`` if absent);
            refused ones get 403.  By default only same-origin browsers and
            non-browser clients (no ``Origin``) are accepted.
        maxMessageSize: Largest message accepted, in bytes; larger ones close
            the connection with 1009.
        reactor: Clock for the close timeout (the global reactor by default).
    """

    isLeaf = True

    def __init__(
        self,
        protocolFactory: Callable[[], WebSocketProtocol],
        subprotocols: Sequence[str] = (),
        checkOrigin: Callable[[Any, str | None], bool] | None = None,
        maxMessageSize: int = DEFAULT_MAX_MESSAGE_SIZE,
        reactor: Any = None,
    ) -> None:
        super().__init__()
        self.protocolFactory = protocolFactory
        self.subprotocols = tuple(subprotocols)
        self.checkOrigin = checkOrigin if checkOrigin is not None else _sameOrigin
        self.maxMessageSize = maxMessageSize
        self._reactor = reactor

    def render(self, request: Any) -> Any:
        """Validate the handshake, answer 101 and hand the connection over."""
        header = {
            name: list(request.requestHeaders.getRawHeaders(name, []))
            for name in (
                b"upgrade",
                b"connection",
                b"sec-websocket-key",
                b"sec-websocket-version",
                b"sec-websocket-protocol",
                b"origin",
            )
        }
        try:
            upgrade = checkUpgradeRequest(request.method, request.clientproto, header)
            channel = request.channel
            if not hasattr(channel, "detachTransport"):
                raise HandshakeError("WebSocket needs an HTTP/1.1 connection")
        except HandshakeError as e:
            request.setResponseCode(e.status)
            if e.status == 426:
                request.setHeader(b"Sec-WebSocket-Version", b"13")
            elif e.status == 405:
                request.setHeader(b"Allow", b"GET")
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return str(e).encode("utf-8") + b"\n"
        if not self.checkOrigin(request, upgrade.origin):
            request.setResponseCode(403)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"WebSocket origin not allowed\n"
        chosen = selectSubprotocol(upgrade.subprotocols, self.subprotocols)
        protocol = self.protocolFactory()
        protocol.request = request
        protocol.subprotocol = chosen

        transport = channel.transport
        leftover = channel.detachTransport()
        originalLost = channel.connectionLost

        def lost(reason: Failure | None = None) -> None:
            failure = reason if reason is not None else Failure(ConnectionDone())
            protocol._connectionLost(failure)
            originalLost(failure)

        channel.dataReceived = protocol._dataReceived
        channel.connectionLost = lost
        answer = [
            b"HTTP/1.1 101 Switching Protocols",
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Accept: " + acceptFor(upgrade.key),
        ]
        if chosen is not None:
            answer.append(b"Sec-WebSocket-Protocol: " + chosen.encode("ascii"))
        transport.write(b"\r\n".join(answer) + b"\r\n\r\n")
        reactor = self._reactor if self._reactor is not None else _defaultReactor()
        protocol._start(
            transport,
            FrameMachine(isClient=False, maxMessageSize=self.maxMessageSize),
            reactor,
            False,
        )
        if leftover and protocol._machine is not None:
            protocol._dataReceived(leftover)
        return NOT_DONE_YET


# -- client -----------------------------------------------------------------


class _ClientHandshake(Protocol):
    def __init__(self, factory: _ClientFactory) -> None:
        self._factory = factory
        self._buffer = b""
        self._ws: WebSocketProtocol | None = None

    def connectionMade(self) -> None:
        f = self._factory
        assert self.transport is not None
        self.transport.write(
            clientHandshake(f.hostHeader, f.path, f.key, f.subprotocols, f.origin, f.headers)
        )

    def dataReceived(self, data: bytes) -> None:
        if self._ws is not None:
            self._ws._dataReceived(data)
            return
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HANDSHAKE_SIZE:
                self._failHandshake(HandshakeError("handshake response too large", 0))
            return
        head, rest = self._buffer[:end], self._buffer[end + 4 :]
        self._buffer = b""
        f = self._factory
        try:
            chosen = checkHandshakeResponse(head, f.key, f.subprotocols)
        except HandshakeError as e:
            self._failHandshake(e)
            return
        ws = f.protocolFactory()
        ws.subprotocol = chosen
        self._ws = ws
        f.handshakeDone()
        ws._start(self.transport, FrameMachine(True, f.maxMessageSize), f.reactor, True)
        f.fire(ws)
        if rest and ws._machine is not None:
            ws._dataReceived(rest)

    def _failHandshake(self, error: HandshakeError) -> None:
        self._factory.fail(Failure(error))
        transport: Any = self.transport
        transport.abortConnection()

    def connectionLost(self, reason: Failure | None = None) -> None:
        failure = reason if reason is not None else Failure(ConnectionDone())
        if self._ws is not None:
            self._ws._connectionLost(failure)
        else:
            self._factory.fail(failure)


class _ClientFactory(ClientFactory):
    def __init__(
        self,
        reactor: Any,
        hostHeader: str,
        path: str,
        subprotocols: tuple[str, ...],
        origin: str | None,
        headers: tuple[tuple[bytes, bytes], ...],
        protocolFactory: Callable[[], WebSocketProtocol],
        maxMessageSize: int,
    ) -> None:
        self.reactor = reactor
        self.hostHeader = hostHeader
        self.path = path
        self.subprotocols = subprotocols
        self.origin = origin
        self.headers = headers
        self.protocolFactory = protocolFactory
        self.maxMessageSize = maxMessageSize
        self.key = makeKey()
        self.deferred: Deferred[WebSocketProtocol] | None = Deferred()
        self.timer: Any = None

    def buildProtocol(self, addr: Any) -> Protocol | None:
        return _ClientHandshake(self)

    def handshakeDone(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def fire(self, ws: WebSocketProtocol) -> None:
        d, self.deferred = self.deferred, None
        if d is not None:
            d.callback(ws)

    def fail(self, reason: Failure) -> None:
        self.handshakeDone()
        d, self.deferred = self.deferred, None
        if d is not None:
            d.errback(reason)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.fail(reason)


def connectWebSocket(
    reactor: Any,
    url: str,
    protocolFactory: Callable[[], WebSocketProtocol],
    subprotocols: Sequence[str] = (),
    origin: str | None = None,
    headers: Sequence[tuple[bytes, bytes]] = (),
    contextFactory: Any = None,
    maxMessageSize: int = DEFAULT_MAX_MESSAGE_SIZE,
    timeout: float = 30,
) -> Deferred[WebSocketProtocol]:
    """
    Open a WebSocket to ``url`` (``ws://`` or ``wss://``).

    Args:
        reactor: The reactor to connect with (``connectTCP``/``connectSSL``).
        url: ``ws://host[:port]/path?query`` or ``wss://...``.
        protocolFactory: Makes the :class:`WebSocketProtocol` once the
            handshake succeeds.
        subprotocols: Subprotocols to offer.
        origin: An ``Origin`` header to send, if any.
        headers: Extra ``(name, value)`` handshake headers.
        contextFactory: TLS options for ``wss://``; by default
            ``fw.internet.ssl.optionsForClientTLS(host)`` (verified).
        maxMessageSize: Largest message accepted from the server.
        timeout: Seconds allowed for connecting plus the handshake.

    Returns:
        A Deferred firing with the connected protocol (after its
        ``connectionMade``), or failing with :class:`HandshakeError` or the
        connection error.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
    secure = parts.scheme == "wss"
    host = parts.hostname
    port = parts.port or (443 if secure else 80)
    default = port == (443 if secure else 80)
    hostHeader = (f"[{host}]" if ":" in host else host) + ("" if default else f":{port}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    factory = _ClientFactory(
        reactor,
        hostHeader=hostHeader,
        path=path,
        subprotocols=tuple(subprotocols),
        origin=origin,
        headers=tuple(headers),
        protocolFactory=protocolFactory,
        maxMessageSize=maxMessageSize,
    )
    d = factory.deferred
    assert d is not None
    if secure:
        if contextFactory is None:
            from fw.internet.ssl import optionsForClientTLS

            contextFactory = optionsForClientTLS(host)
        connector = reactor.connectSSL(host, port, factory, contextFactory, timeout=timeout)
    else:
        connector = reactor.connectTCP(host, port, factory, timeout=timeout)

    def timedOut() -> None:
        factory.timer = None
        factory.fail(Failure(HandshakeError("WebSocket handshake timed out", 0)))
        connector.disconnect()

    factory.timer = reactor.callLater(timeout, timedOut)
    return d
