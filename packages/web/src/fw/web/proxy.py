"""
HTTP proxies.

- :class:`ReverseProxyResource`: a resource forwarding requests below it to
  another HTTP server (a reverse proxy, or gateway).
- :class:`Proxy` / :class:`ProxyRequest`: a forward proxy (clients are
  configured to use it, ``curl -x``) that fetches absolute-form URIs and
  tunnels ``CONNECT host:port`` (RFC 9110 section 9.3.6), which carries HTTPS
  through the proxy.

Responses are streamed: the upstream connection is the request's streaming
producer, so a slow client pauses the upstream server.  Hop-by-hop headers
(RFC 9110 section 7.6.1) are not forwarded in either direction.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from fw.internet.protocol import ClientFactory, Protocol
from fw.logger import Logger
from fw.python.failure import Failure
from fw.web import http, resource
from fw.web._newclient_codec import (
    BodyData,
    ResponseEnd,
    ResponseHead,
    ResponseParseError,
    ResponseParser,
)
from fw.web.server import NOT_DONE_YET

__all__ = [
    "Proxy",
    "ProxyClient",
    "ProxyClientFactory",
    "ProxyRequest",
    "ReverseProxy",
    "ReverseProxyRequest",
    "ReverseProxyResource",
]

# RFC 9110 7.6.1: connection-specific fields never forwarded.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


def _defaultReactor() -> Any:
    from fw.internet import reactor

    return reactor


def _headerPairs(
    headers: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs: list[tuple[bytes, bytes]] = []
    for name, value in items:
        if isinstance(value, list):
            pairs.extend((name, v) for v in value)
        else:
            pairs.append((name, value))
    return pairs


def _forwardable(pairs: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    pairs = list(pairs)
    # Fields named in Connection are hop-by-hop too.
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == b"connection"
        for token in value.split(b",")
    }
    return [(n, v) for n, v in pairs if n.lower() not in _HOP_BY_HOP and n.lower() not in named]


class ProxyClient(Protocol):
    """
    Sends one request upstream and relays the response to ``father`` (the
    server-side request).

    Args:
        command: the method.
        rest: the request target (path and query).
        version: the client's protocol version (the upstream request is
            HTTP/1.1 whatever it is).
        headers: the request's headers.
        data: the request body.
        father: the request being answered.
    """

    _log = Logger()
    _finished = False

    def __init__(
        self,
        command: bytes,
        rest: bytes,
        version: bytes,
        headers: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]],
        data: bytes,
        father: Any,
    ) -> None:
        self.command = command
        self.rest = rest or b"/"
        self.version = version
        self.father = father
        self.data = data
        pairs = [
            (n, v)
            for n, v in _forwardable(_headerPairs(headers))
            if n.lower() not in (b"content-length", b"expect")
        ]
        if data or command.upper() in (b"POST", b"PUT", b"PATCH"):
            pairs.append((b"content-length", b"%d" % len(data)))
        pairs.append((b"connection", b"close"))
        self.headers = pairs
        self._parser = ResponseParser(command)
        self._producing = False
        father.notifyFinish().addErrback(self._fatherGone)

    def connectionMade(self) -> None:
        """Send the request; become the producer of the response."""
        assert self.transport is not None
        out = [self.command, b" ", self.rest, b" HTTP/1.1\r\n"]
        for name, value in self.headers:
            out += [name, b": ", value, b"\r\n"]
        out.append(b"\r\n")
        self.transport.write(b"".join(out) + self.data)
        self.father.registerProducer(self.transport, True)
        self._producing = True

    def dataReceived(self, data: bytes) -> None:
        """Parse the response and relay it."""
        if self._finished:
            return
        try:
            events = self._parser.feed(data)
        except ResponseParseError as e:
            self._fail(str(e))
            return
        self._handle(events)

    def _handle(self, events: Iterable[object]) -> None:
        for event in events:
            if isinstance(event, ResponseHead):
                self.handleStatus(b"HTTP/1.1", b"%d" % event.code, event.phrase)
                for name, value in _forwardable(event.headers):
                    self.handleHeader(name, value)
                self.handleEndHeaders()
            elif isinstance(event, BodyData):
                self.handleResponsePart(event.data)
            elif isinstance(event, ResponseEnd):
                self.handleResponseEnd()

    def handleStatus(self, version: bytes, code: bytes, message: bytes) -> None:
        """Relay the status."""
        self.father.setResponseCode(int(code), message)

    def handleHeader(self, key: bytes, value: bytes) -> None:
        """Relay one header field."""
        self.father.responseHeaders.addRawHeader(key, value)

    def handleEndHeaders(self) -> None:
        """The header section is complete."""

    def handleResponsePart(self, buffer: bytes) -> None:
        """Relay body bytes."""
        self.father.write(buffer)

    def handleResponseEnd(self) -> None:
        """Finish the request and close the upstream connection."""
        if self._finished:
            return
        self._finished = True
        if self._producing:
            self.father.unregisterProducer()
        self.father.finish()
        if self.transport is not None:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure | None = None) -> None:
        """The upstream closed: end the response (or fail it)."""
        if self._finished:
            return
        try:
            events = self._parser.feedEOF()
        except ResponseParseError as e:
            self._fail(str(e))
            return
        self._handle(events)

    def _fail(self, why: str) -> None:
        self._log.warn("Proxied response failed: {why}", why=why)
        if self._finished:
            return
        self._finished = True
        if self._producing:
            self.father.unregisterProducer()
        if self.transport is not None:
            self.transport.loseConnection()
        if self._parser.state == "status line" or not getattr(
            self.father, "startedWriting", False
        ):
            _gatewayError(
                self.father, 502, b"Bad Gateway", b"The upstream server's response was invalid."
            )
        else:
            # Headers are out: cut the client off so it sees the truncation.
            self.father.channel.transport.loseConnection()

    def _fatherGone(self, reason: Failure) -> None:
        self._finished = True
        if self.transport is not None:
            self.transport.loseConnection()


def _gatewayError(request: Any, code: int, message: bytes, text: bytes) -> None:
    body = b"<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>" % (
        code,
        message,
        text,
    )
    request.setResponseCode(code, message)
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    request.setHeader(b"content-length", b"%d" % len(body))
    request.write(body)
    request.finish()


class ProxyClientFactory(ClientFactory):
    """Makes the :class:`ProxyClient` for one request."""

    protocol = ProxyClient  # type: ignore[assignment]

    def __init__(
        self,
        command: bytes,
        rest: bytes,
        version: bytes,
        headers: Mapping[bytes, bytes] | Iterable[tuple[bytes, bytes]],
        data: bytes,
        father: Any,
    ) -> None:
        self.father = father
        self.command = command
        self.rest = rest
        self.headers = headers
        self.data = data
        self.version = version

    def buildProtocol(self, addr: Any) -> ProxyClient:
        """A client for this request."""
        return self.protocol(
            self.command, self.rest, self.version, self.headers, self.data, self.father
        )

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """The upstream cannot be reached: answer 502."""
        if not getattr(self.father, "finished", False):
            _gatewayError(self.father, 502, b"Bad Gateway", b"Could not connect")


def _requestBody(request: Any) -> bytes:
    content = getattr(request, "content", None)
    if content is None:
        return b""
    content.seek(0)
    data: bytes = content.read()
    return data


class ReverseProxyResource(resource.Resource):
    """
    Forwards every request below it to ``host:port``, under ``path``.

    ``/mount/a/b?q`` goes upstream as ``path/a/b?q``, with ``Host`` set to
    the upstream's name.

    Args:
        host: the upstream host.
        port: the upstream port.
        path: the upstream path prefix (bytes, without a trailing slash).
        reactor: the reactor used to connect; the global one by default.
    """

    proxyClientFactoryClass: Callable[..., ClientFactory] = ProxyClientFactory

    def __init__(self, host: str, port: int, path: bytes, reactor: Any = None) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.path = path
        self.reactor = reactor if reactor is not None else _defaultReactor()

    def getChild(self, path: bytes, request: Any) -> resource.Resource:
        """
        The proxy for one segment deeper (the segment is re-quoted, so a
        decoded ``%2f`` stays inside it).  ``.`` and ``..`` are refused: the
        upstream could read them as leaving ``path``.
        """
        if path in (b".", b".."):
            return resource.ErrorPage(400, "Bad Request", "Dot segments are not forwarded.")
        return ReverseProxyResource(
            self.host,
            self.port,
            self.path + b"/" + urllib.parse.quote_from_bytes(path, safe="").encode("ascii"),
            self.reactor,
        )

    def render(self, request: Any) -> int:
        """Forward ``request`` upstream."""
        if self.port == 80:
            host = self.host.encode("idna")
        else:
            host = b"%s:%d" % (self.host.encode("idna"), self.port)
        headers = [(n, v) for n, v in _rawPairs(request) if n.lower() != b"host"]
        headers.append((b"host", host))
        query = request.uri.partition(b"?")[2]
        rest = (self.path or b"/") + (b"?" + query if query else b"")
        clientFactory = self.proxyClientFactoryClass(
            request.method,
            rest,
            getattr(request, "clientproto", b"HTTP/1.1"),
            headers,
            _requestBody(request),
            request,
        )
        self.reactor.connectTCP(self.host, self.port, clientFactory)
        return NOT_DONE_YET


def _rawPairs(request: Any) -> list[tuple[bytes, bytes]]:
    return [
        (name, value)
        for name, values in request.requestHeaders.getAllRawHeaders()
        for value in values
    ]


class _TunnelClient(Protocol):
    """The upstream end of a CONNECT tunnel."""

    def __init__(self, request: ProxyRequest) -> None:
        self.request = request

    def connectionMade(self) -> None:
        self.request._tunnelOpened(self)

    def dataReceived(self, data: bytes) -> None:
        self.request._tunnelData(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.request._tunnelClosed()


class _TunnelFactory(ClientFactory):
    def __init__(self, request: ProxyRequest) -> None:
        self.request = request

    def buildProtocol(self, addr: Any) -> _TunnelClient:
        return _TunnelClient(self.request)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        _gatewayError(self.request, 502, b"Bad Gateway", b"Could not connect")


class ProxyRequest(http.Request):
    """
    A request to a forward proxy: the target is an absolute URI
    (``GET http://host/path``) fetched upstream, or ``CONNECT host:port``,
    which opens a TCP tunnel.

    Attributes:
        protocols: scheme to client factory class.
        ports: scheme to default port.
        allowConnect: whether ``CONNECT`` is served.
        connectPorts: the ports ``CONNECT`` may reach; ``None`` allows any.
            By default only 443, so the proxy cannot be used to reach
            arbitrary services (SMTP, internal admin ports).
    """

    protocols: ClassVar[dict[bytes, Callable[..., ClientFactory]]] = {b"http": ProxyClientFactory}
    ports: ClassVar[dict[bytes, int]] = {b"http": 80}
    allowConnect = True
    connectPorts: frozenset[int] | None = frozenset({443})
    _proxyLog = Logger()

    def __init__(self, channel: Any, *args: Any, reactor: Any = None, **kwargs: Any) -> None:
        super().__init__(channel, *args, **kwargs)
        self.reactor = reactor if reactor is not None else _defaultReactor()
        self._tunnel: _TunnelClient | None = None

    def process(self) -> None:
        """Forward the request, or open the tunnel."""
        if self.method == b"CONNECT":
            self._connect()
            return
        parsed = urllib.parse.urlparse(self.uri)
        scheme = parsed.scheme.lower()
        factoryClass = self.protocols.get(scheme)
        if factoryClass is None or not parsed.hostname:
            _gatewayError(self, 400, b"Bad Request", b"The proxy needs an absolute http URI.")
            return
        host = parsed.hostname.decode("idna")
        try:
            port = parsed.port or self.ports[scheme]
        except ValueError:
            _gatewayError(self, 400, b"Bad Request", b"Invalid port.")
            return
        rest = urllib.parse.urlunparse(
            (b"", b"", parsed.path or b"/", parsed.params, parsed.query, b"")
        )
        headers = _rawPairs(self)
        if not any(n.lower() == b"host" for n, _ in headers):
            headers.append((b"host", parsed.netloc))
        clientFactory = factoryClass(
            self.method, rest, self.clientproto, headers, _requestBody(self), self
        )
        self.reactor.connectTCP(host, port, clientFactory)

    # -- CONNECT --------------------------------------------------------------

    def _connect(self) -> None:
        host, colon, portText = self.uri.rpartition(b":")
        host = host.strip(b"[]")
        if not self.allowConnect:
            _gatewayError(self, 405, b"Method Not Allowed", b"CONNECT is not allowed.")
            return
        if not colon or not host or not portText.isdigit() or not 0 < int(portText) < 65536:
            _gatewayError(self, 400, b"Bad Request", b"CONNECT needs host:port.")
            return
        port = int(portText)
        if self.connectPorts is not None and port not in self.connectPorts:
            _gatewayError(self, 403, b"Forbidden", b"CONNECT to this port is not allowed.")
            return
        self.notifyFinish().addErrback(lambda _: self._closeTunnel())
        self.reactor.connectTCP(host.decode("idna"), port, _TunnelFactory(self))

    def _tunnelOpened(self, tunnel: _TunnelClient) -> None:
        self._tunnel = tunnel
        channel = self.channel
        transport = channel.transport
        # From here the client connection carries raw bytes: the channel
        # stops parsing and timing out, we answer 200 on it directly and
        # route what the client sends (already, and from now) upstream.
        leftover = channel.detachTransport()
        channel.dataReceived = self._clientData
        transport.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        upstream: Any = tunnel.transport
        assert upstream is not None
        if leftover:
            upstream.write(leftover)
        # Flow control both ways: each side pauses the other.
        transport.registerProducer(upstream, True)
        upstream.registerProducer(transport, True)

    def _clientData(self, data: bytes) -> None:
        if self._tunnel is not None and self._tunnel.transport is not None:
            self._tunnel.transport.write(data)

    def _tunnelData(self, data: bytes) -> None:
        self.channel.transport.write(data)

    def _tunnelClosed(self) -> None:
        if self._tunnel is None:
            return
        self._tunnel = None
        transport = self.channel.transport
        if transport is not None:
            transport.loseConnection()

    def _closeTunnel(self) -> None:
        tunnel, self._tunnel = self._tunnel, None
        if tunnel is not None and tunnel.transport is not None:
            tunnel.transport.loseConnection()


class Proxy(http.HTTPChannel):
    """A forward HTTP proxy: serve it with ``http.HTTPFactory.forProtocol(Proxy)``."""

    requestFactory = ProxyRequest


class ReverseProxyRequest(http.Request):
    """
    A request forwarded, whole, to ``factory.host``/``factory.port`` of the
    channel's factory (Twisted's reverse proxy without a resource tree).
    """

    proxyClientFactoryClass: Callable[..., ClientFactory] = ProxyClientFactory

    def __init__(self, channel: Any, *args: Any, reactor: Any = None, **kwargs: Any) -> None:
        super().__init__(channel, *args, **kwargs)
        self.reactor = reactor if reactor is not None else _defaultReactor()

    def process(self) -> None:
        """Forward the request to the factory's host and port."""
        factory = self.channel.factory
        headers = [(n, v) for n, v in _rawPairs(self) if n.lower() != b"host"]
        headers.append((b"host", factory.host.encode("idna")))
        clientFactory = self.proxyClientFactoryClass(
            self.method, self.uri, self.clientproto, headers, _requestBody(self), self
        )
        self.reactor.connectTCP(factory.host, factory.port, clientFactory)


class ReverseProxy(http.HTTPChannel):
    """A channel whose every request is a :class:`ReverseProxyRequest`."""

    requestFactory = ReverseProxyRequest
