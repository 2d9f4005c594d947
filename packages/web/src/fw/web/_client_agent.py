"""
``Agent``, ``HTTPConnectionPool``, ``ProxyAgent`` (with HTTPS through a
``CONNECT`` tunnel), ``URI`` and the HTTPS policy, with Twisted's names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IDelayedCall
from fw.internet._interfaces_protocol import IStreamClientEndpoint
from fw.internet.defer import CancelledError, Deferred, DeferredList, fail, succeed
from fw.internet.endpoints import HostnameEndpoint, wrapClientTLS
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Factory, Protocol
from fw.python.failure import Failure
from fw.web._newclient import (
    HTTP11ClientProtocol,
    Request,
    RequestNotSent,
    RequestTransmissionFailed,
    Response,
    ResponseNeverReceived,
)
from fw.web._newclient_codec import (
    RequestHead,
    ResponseHead,
    ResponseParseError,
    ResponseParser,
    serializeRequestHead,
)
from fw.web.error import SchemeNotSupported
from fw.web.http_headers import Headers
from fw.web.iweb import IAgent, IAgentEndpointFactory, IPolicyForHTTPS

# -- URIs -----------------------------------------------------------------------------


_PORT = re.compile(rb"[0-9]{1,5}\Z")


class URI:
    """
    A parsed absolute HTTP(S) URI (RFC 3986), as bytes.

    Attributes: ``scheme``, ``netloc``, ``host`` (without brackets for IPv6),
    ``port`` (the scheme's default when absent), ``path``, ``params``,
    ``query``, ``fragment``.
    """

    def __init__(
        self,
        scheme: bytes,
        netloc: bytes,
        host: bytes,
        port: int,
        path: bytes,
        params: bytes,
        query: bytes,
        fragment: bytes,
    ) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.host = host
        self.port = port
        self.path = path
        self.params = params
        self.query = query
        self.fragment = fragment

    def __repr__(self) -> str:
        return f"<URI {self.toBytes()!r}>"

    @classmethod
    def fromBytes(cls, uri: bytes, defaultPort: int | None = None) -> URI:
        """
        Parse ``uri``.

        Args:
            uri: an absolute URI such as ``b"http://example.com:8080/a?b"``.
            defaultPort: the port when the URI has none (80 for http and 443
                for https by default).

        Raises:
            ValueError: ``uri`` is not an absolute URI with a host, or its
                port is not a number from 0 to 65535.
        """
        if not isinstance(uri, bytes):
            raise TypeError("URI.fromBytes needs bytes, not str")
        uri = uri.strip()
        scheme, sep, rest = uri.partition(b"://")
        if not sep or not re.match(rb"[A-Za-z][A-Za-z0-9+.\-]*\Z", scheme):
            raise ValueError(f"not an absolute URI: {uri!r}")
        scheme = scheme.lower()
        rest, _, fragment = rest.partition(b"#")
        end = min((i for i in (rest.find(b"/"), rest.find(b"?")) if i >= 0), default=len(rest))
        netloc, rest = rest[:end], rest[end:]
        path, _, query = rest.partition(b"?")
        path, _, params = path.partition(b";")
        hostport = netloc.rpartition(b"@")[2]
        if defaultPort is None:
            defaultPort = 443 if scheme == b"https" else 80
        port = defaultPort
        if hostport.startswith(b"["):
            host, bracket, after = hostport[1:].partition(b"]")
            if not bracket or (after and not after.startswith(b":")):
                raise ValueError(f"bad IPv6 address in {uri!r}")
            portText = after[1:] if after else b""
        else:
            host, _, portText = hostport.partition(b":")
        if portText:
            if not _PORT.match(portText) or int(portText) > 65535:
                raise ValueError(f"bad port in {uri!r}")
            port = int(portText)
        if not host:
            raise ValueError(f"no host in {uri!r}")
        return cls(scheme, netloc, host, port, path, params, query, fragment)

    def toBytes(self) -> bytes:
        """The URI as bytes (without its fragment's ``#`` when it has none)."""
        out = self.scheme + b"://" + self.netloc + self.path
        if self.params:
            out += b";" + self.params
        if self.query:
            out += b"?" + self.query
        if self.fragment:
            out += b"#" + self.fragment
        return out

    @property
    def originForm(self) -> bytes:
        """The request target for an origin server: path (``/`` at least) and query."""
        out = self.path or b"/"
        if self.params:
            out += b";" + self.params
        if self.query:
            out += b"?" + self.query
        return out

    def _hostHeader(self) -> bytes:
        host = b"[" + self.host + b"]" if b":" in self.host else self.host
        default = 443 if self.scheme == b"https" else 80
        return host if self.port == default else host + b":%d" % self.port


# -- TLS policy -----------------------------------------------------------------------


@implementer(IPolicyForHTTPS)
class BrowserLikePolicyForHTTPS:
    """
    Verify HTTPS servers as a browser does: the certificate must chain to
    ``trustRoot`` (the system's authorities by default) and match the host
    name in the URI.

    Args:
        trustRoot: an ``IOpenSSLTrustRoot`` (see
            :func:`fw.internet.ssl.trustRootFromCertificates`), or None for
            :func:`fw.internet.ssl.platformTrust`.
    """

    def __init__(self, trustRoot: Any = None) -> None:
        self._trustRoot = trustRoot

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        """TLS client options for ``hostname`` (verified) on ``port``."""
        from fw.internet.ssl import optionsForClientTLS

        return optionsForClientTLS(hostname.decode("idna"), trustRoot=self._trustRoot)


# -- connection pooling ---------------------------------------------------------------

# RFC 9110 section 9.2.2: methods a client may repeat automatically.
_IDEMPOTENT = frozenset([b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"DELETE", b"PUT"])


class _RetryingHTTP11ClientProtocol:
    """A cached connection that retries a safe request once on a new connection."""

    def __init__(
        self,
        clientProtocol: HTTP11ClientProtocol,
        newConnection: Callable[[], Deferred[HTTP11ClientProtocol]],
    ) -> None:
        self._clientProtocol = clientProtocol
        self._newConnection = newConnection

    def _shouldRetry(self, method: bytes, exception: BaseException, bodyProducer: Any) -> bool:
        if method.upper() not in _IDEMPOTENT or bodyProducer is not None:
            return False
        if not isinstance(
            exception, RequestNotSent | RequestTransmissionFailed | ResponseNeverReceived
        ):
            return False
        reasons = getattr(exception, "reasons", [])
        return not any(r.check(CancelledError) for r in reasons)

    def request(self, request: Request) -> Deferred[Response]:
        """Send ``request``; retry it once on a fresh connection if the cached one was stale."""

        def retry(reason: Failure) -> Any:
            if self._shouldRetry(request.method, reason.value, request.bodyProducer):
                return self._newConnection().addCallback(lambda c: c.request(request))
            return reason

        return self._clientProtocol.request(request).addErrback(retry)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clientProtocol, name)


class _HTTP11ClientFactory(Factory):
    def __init__(
        self, quiescentCallback: Callable[[HTTP11ClientProtocol], object], metadata: Any
    ) -> None:
        self._quiescentCallback = quiescentCallback
        self._metadata = metadata

    def __repr__(self) -> str:
        return f"<HTTP11ClientFactory for {self._metadata!r}>"

    def buildProtocol(self, addr: Any) -> HTTP11ClientProtocol:
        return HTTP11ClientProtocol(self._quiescentCallback)


class HTTPConnectionPool:
    """
    Connections kept open between requests, per (scheme, host, port).

    Args:
        reactor: the reactor, for timers.
        persistent: keep connections open (``False`` sends
            ``Connection: close`` and uses a connection per request).
    """

    #: Most idle connections kept per key (2, as RFC 2616 once recommended
    #: and Twisted keeps).
    maxPersistentPerHost = 2
    #: Seconds an idle connection is kept.
    cachedConnectionTimeout: float = 240
    #: Retry a safe request without a body once, on a new connection, when
    #: the cached one it was sent on turns out to be closed.
    retryAutomatically = True
    _factory = _HTTP11ClientFactory

    def __init__(self, reactor: Any, persistent: bool = True) -> None:
        self._reactor = reactor
        self.persistent = persistent
        self._connections: dict[Any, list[HTTP11ClientProtocol]] = {}
        self._timeouts: dict[HTTP11ClientProtocol, IDelayedCall] = {}

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        """A connection for ``key``: a cached idle one, or a new one from ``endpoint``."""
        connections = self._connections.get(key)
        while connections:
            connection = connections.pop(0)
            self._timeouts.pop(connection).cancel()
            if connection.state == "QUIESCENT":
                if not connections:
                    del self._connections[key]
                if self.retryAutomatically:
                    return succeed(
                        _RetryingHTTP11ClientProtocol(
                            connection, lambda: self._newConnection(key, endpoint)
                        )
                    )
                return succeed(connection)
        self._connections.pop(key, None)
        return self._newConnection(key, endpoint)

    def _newConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        def quiescentCallback(protocol: HTTP11ClientProtocol) -> None:
            self._putConnection(key, protocol)

        return endpoint.connect(self._factory(quiescentCallback, repr(endpoint)))  # type: ignore[no-any-return]

    def _removeConnection(self, key: Any, connection: HTTP11ClientProtocol) -> None:
        connection.transport.loseConnection()  # type: ignore[union-attr]
        self._connections[key].remove(connection)
        if not self._connections[key]:
            del self._connections[key]
        del self._timeouts[connection]

    def _putConnection(self, key: Any, connection: HTTP11ClientProtocol) -> None:
        """Keep ``connection`` (now idle) for the next request to ``key``."""
        if connection.state != "QUIESCENT" or connection.transport is None:
            return
        if not self.persistent:
            connection.transport.loseConnection()
            return
        connections = self._connections.setdefault(key, [])
        if len(connections) >= self.maxPersistentPerHost:
            dropped = connections.pop(0)
            self._timeouts.pop(dropped).cancel()
            dropped.transport.loseConnection()  # type: ignore[union-attr]
        connections.append(connection)
        self._timeouts[connection] = self._reactor.callLater(
            self.cachedConnectionTimeout, self._removeConnection, key, connection
        )

    def closeCachedConnections(self) -> Deferred[None]:
        """Close every idle connection; the Deferred fires once all are closed."""
        results = []
        for connections in self._connections.values():
            for connection in connections:
                self._timeouts.pop(connection).cancel()
                results.append(connection.abort())
        self._connections = {}
        return DeferredList(results).addCallback(lambda _: None)


# -- agents ---------------------------------------------------------------------------


@implementer(IAgentEndpointFactory)
class _StandardEndpointFactory:
    """TCP for http, TLS over TCP for https, through HostnameEndpoint."""

    def __init__(
        self,
        reactor: Any,
        contextFactory: Any,
        connectTimeout: float | None,
        bindAddress: Any,
    ) -> None:
        self._reactor = reactor
        self._policy = contextFactory
        self._kw: dict[str, Any] = {}
        if connectTimeout is not None:
            self._kw["timeout"] = connectTimeout
        if bindAddress is not None:
            self._kw["bindAddress"] = bindAddress

    def endpointForURI(self, uri: URI) -> Any:
        """The endpoint for ``uri``'s scheme, host and port."""
        endpoint = HostnameEndpoint(self._reactor, uri.host, uri.port, **self._kw)
        if uri.scheme == b"http":
            return endpoint
        if uri.scheme == b"https":
            return wrapClientTLS(self._policy.creatorForNetloc(uri.host, uri.port), endpoint)
        raise SchemeNotSupported(f"Unsupported scheme: {uri.scheme!r}")


def _requestHeaders(headers: Headers | None, uri: URI) -> Headers:
    headers = Headers() if headers is None else headers.copy()
    if not headers.hasHeader(b"host"):
        headers.addRawHeader(b"Host", uri._hostHeader())
    return headers


class _AgentBase:
    def __init__(self, reactor: Any, pool: HTTPConnectionPool | None) -> None:
        if pool is None:
            pool = HTTPConnectionPool(reactor, False)
        self._reactor = reactor
        self._pool = pool

    def _requestWithEndpoint(
        self,
        key: Any,
        endpoint: Any,
        method: bytes,
        parsedURI: URI,
        headers: Headers,
        bodyProducer: Any,
        requestPath: bytes,
    ) -> Deferred[Any]:
        if not isinstance(method, bytes):
            raise TypeError(f"method must be bytes, not {type(method).__name__}")
        request = Request(
            method, requestPath, headers, bodyProducer, self._pool.persistent, parsedURI.toBytes()
        )
        d = self._pool.getConnection(key, endpoint)
        return d.addCallback(lambda protocol: protocol.request(request))


@implementer(IAgent)
class Agent(_AgentBase):
    """
    An HTTP/1.1 client: ``request`` fires with an
    :class:`~fw.web.iweb.IResponse` once the response's headers arrive.

    Args:
        reactor: the reactor to connect with.
        contextFactory: the :class:`IPolicyForHTTPS` for https URIs;
            :class:`BrowserLikePolicyForHTTPS` (verify against the system's
            trust store and the host name) by default.
        connectTimeout: seconds to wait for a connection (30 by default).
        bindAddress: the local address to connect from.
        pool: an :class:`HTTPConnectionPool`; without one each request uses
            a new connection that closes after it.
    """

    def __init__(
        self,
        reactor: Any,
        contextFactory: Any = None,
        connectTimeout: float | None = None,
        bindAddress: Any = None,
        pool: HTTPConnectionPool | None = None,
    ) -> None:
        if contextFactory is None:
            contextFactory = BrowserLikePolicyForHTTPS()
        if not IPolicyForHTTPS.providedBy(contextFactory):
            raise TypeError(
                f"contextFactory must provide IPolicyForHTTPS, not {type(contextFactory).__name__}"
            )
        super().__init__(reactor, pool)
        self._endpointFactory: Any = _StandardEndpointFactory(
            reactor, contextFactory, connectTimeout, bindAddress
        )

    @classmethod
    def usingEndpointFactory(
        cls, reactor: Any, endpointFactory: Any, pool: HTTPConnectionPool | None = None
    ) -> Agent:
        """An agent that asks ``endpointFactory`` (an IAgentEndpointFactory) where to connect."""
        agent = cls.__new__(cls)
        _AgentBase.__init__(agent, reactor, pool)
        agent._endpointFactory = endpointFactory
        return agent

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """
        Request ``uri``.

        Args:
            method: the method (``b"GET"``).
            uri: the absolute URI, as bytes.
            headers: request headers; ``Host`` is added when missing.
            bodyProducer: an :class:`~fw.web.iweb.IBodyProducer` for the
                body, or None.

        Returns:
            A Deferred firing with the response (its body still to come).
            It fails with :class:`SchemeNotSupported`, a connection error,
            or one of the :class:`ResponseFailed` family.
        """
        try:
            parsedURI = URI.fromBytes(uri)
            endpoint = self._endpointFactory.endpointForURI(parsedURI)
        except (SchemeNotSupported, ValueError, TypeError):
            return fail()
        key = (parsedURI.scheme, parsedURI.host, parsedURI.port)
        return self._requestWithEndpoint(
            key,
            endpoint,
            method,
            parsedURI,
            _requestHeaders(headers, parsedURI),
            bodyProducer,
            parsedURI.originForm,
        )


# -- proxies --------------------------------------------------------------------------


class ProxyTunnelError(Exception):
    """The proxy refused to open a ``CONNECT`` tunnel (``code``, ``phrase``)."""

    def __init__(self, code: int, phrase: bytes) -> None:
        super().__init__(code, phrase)
        self.code = code
        self.phrase = phrase


class _TunnelProtocol(Protocol):
    """Asks a proxy for a tunnel, then hands the connection to the real protocol."""

    def __init__(self, target: bytes, headers: Headers, factory: Any) -> None:
        self._target = target
        self._headers = headers
        self._factory = factory
        self._parser = ResponseParser(b"CONNECT")
        self._inner: Any = None
        self.tunnelReady: Deferred[Any] = Deferred(self._cancel)

    def _cancel(self, d: Deferred[Any]) -> None:
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def connectionMade(self) -> None:
        fields = [(b"Host", self._target)]
        for name, values in self._headers.getAllRawHeaders():
            if name.lower() != b"host":
                fields += [(name, value) for value in values]
        self.transport.write(  # type: ignore[union-attr]
            serializeRequestHead(RequestHead(b"CONNECT", self._target, fields))
        )

    def dataReceived(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.dataReceived(data)
            return
        try:
            events = self._parser.feed(data)
        except ResponseParseError as e:
            self._fail(Failure(e))
            return
        for event in events:
            if isinstance(event, ResponseHead) and not 200 <= event.code < 300:
                self._fail(Failure(ProxyTunnelError(event.code, event.phrase)))
                return
        if self._parser.done:
            self._inner = self._factory.buildProtocol(self.transport.getPeer())  # type: ignore[union-attr]
            self._inner.makeConnection(self.transport)
            d, self.tunnelReady = self.tunnelReady, Deferred()
            d.callback(self._inner)
            if self._parser.leftover:
                self._inner.dataReceived(self._parser.leftover)

    def _fail(self, reason: Failure) -> None:
        d, self.tunnelReady = self.tunnelReady, Deferred()
        self.transport.abortConnection()  # type: ignore[union-attr]
        if not d.called:
            d.errback(reason)

    def connectionLost(self, reason: Failure = Failure(ConnectionDone())) -> None:  # noqa: B008
        if self._inner is not None:
            self._inner.connectionLost(reason)
            return
        if not self.tunnelReady.called:
            self.tunnelReady.errback(reason)


@implementer(IStreamClientEndpoint)
class _ConnectTunnelEndpoint:
    """A stream client endpoint: a ``CONNECT`` tunnel to host:port through a proxy."""

    def __init__(self, proxyEndpoint: Any, host: bytes, port: int, headers: Headers) -> None:
        self._proxyEndpoint = proxyEndpoint
        host = b"[" + host + b"]" if b":" in host else host
        self._target = host + b":%d" % port
        self._headers = headers

    def __repr__(self) -> str:
        return f"<CONNECT {self._target.decode('ascii', 'replace')} via {self._proxyEndpoint!r}>"

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        target, headers = self._target, self._headers

        class TunnelFactory(Factory):
            def buildProtocol(self, addr: Any) -> _TunnelProtocol:
                return _TunnelProtocol(target, headers, protocolFactory)

        d: Deferred[Any] = self._proxyEndpoint.connect(TunnelFactory())
        return d.addCallback(lambda tunnel: tunnel.tunnelReady)


@implementer(IAgent)
class ProxyAgent(_AgentBase):
    """
    An agent that sends every request through the HTTP proxy at ``endpoint``:
    http URIs as absolute-form requests to the proxy, https URIs through a
    ``CONNECT`` tunnel with TLS verified end to end (beyond Twisted, whose
    ProxyAgent sends https URIs to the proxy in the clear).

    Args:
        endpoint: the proxy's stream client endpoint.
        reactor: the reactor (for the default pool).
        pool: an :class:`HTTPConnectionPool`.
        contextFactory: the :class:`IPolicyForHTTPS` for https URIs.
        proxyHeaders: headers for the proxy (``Proxy-Authorization``), sent
            with http requests and with ``CONNECT``.
    """

    def __init__(
        self,
        endpoint: Any,
        reactor: Any = None,
        pool: HTTPConnectionPool | None = None,
        contextFactory: Any = None,
        proxyHeaders: Headers | None = None,
    ) -> None:
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        super().__init__(reactor, pool)
        self._proxyEndpoint = endpoint
        self._policy = (
            contextFactory if contextFactory is not None else BrowserLikePolicyForHTTPS()
        )
        self._proxyHeaders = proxyHeaders if proxyHeaders is not None else Headers()

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Request ``uri`` through the proxy (see :meth:`Agent.request`)."""
        try:
            parsedURI = URI.fromBytes(uri)
        except (ValueError, TypeError):
            return fail()
        requestHeaders = _requestHeaders(headers, parsedURI)
        if parsedURI.scheme == b"http":
            for name, values in self._proxyHeaders.getAllRawHeaders():
                requestHeaders.setRawHeaders(name, values)
            key: Any = ("http-proxy", self._proxyEndpoint)
            return self._requestWithEndpoint(
                key,
                self._proxyEndpoint,
                method,
                parsedURI,
                requestHeaders,
                bodyProducer,
                parsedURI.toBytes().partition(b"#")[0],
            )
        if parsedURI.scheme == b"https":
            tunnel = _ConnectTunnelEndpoint(
                self._proxyEndpoint, parsedURI.host, parsedURI.port, self._proxyHeaders
            )
            try:
                creator = self._policy.creatorForNetloc(parsedURI.host, parsedURI.port)
            except Exception:  # noqa: BLE001 - any policy error fails this request
                return fail()
            endpoint = wrapClientTLS(creator, tunnel)
            key = ("https-tunnel", self._proxyEndpoint, parsedURI.host, parsedURI.port)
            return self._requestWithEndpoint(
                key,
                endpoint,
                method,
                parsedURI,
                requestHeaders,
                bodyProducer,
                parsedURI.originForm,
            )
        return fail(SchemeNotSupported(f"Unsupported scheme: {parsedURI.scheme!r}"))
