"""
``Agent``, ``HTTPConnectionPool``, ``ProxyAgent`` (with HTTPS through a
``CONNECT`` tunnel), ``URI`` and the HTTPS policy, with Twisted's names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IDelayedCall
from fw.internet._interfaces_protocol import IStreamClientEndpoint
from fw.internet.defer import CancelledError, Deferred, DeferredList, fail, succeed
from fw.internet.endpoints import HostnameEndpoint, wrapClientTLS
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Factory, Protocol
from fw.python.failure import Failure
from fw.web._client_http2 import H2ClientProtocol, defaultALPNProtocols, http2Available
from fw.web._client_http2_errors import (
    HTTP2ConnectionTerminated,
    HTTP2HeadersTooLarge,
    HTTP2ProtocolError,
    HTTP2RequestRefused,
    HTTP2StreamReset,
)
from fw.web._client_selector import _ClientConnectionSelector
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

    The connection offers ``h2`` and ``http/1.1`` by ALPN (``http/1.1``
    alone without the ``h2`` library), so that ``Agent`` speaks HTTP/2 to
    servers that choose it.

    Args:
        trustRoot: an ``IOpenSSLTrustRoot`` (see
            :func:`fw.internet.ssl.trustRootFromCertificates`), or None for
            :func:`fw.internet.ssl.platformTrust`.
        acceptableProtocols: the ALPN protocol names to offer, most
            preferred first (``[b"http/1.1"]`` keeps to HTTP/1.1); None for
            the default above.
    """

    def __init__(
        self, trustRoot: Any = None, acceptableProtocols: Sequence[bytes] | None = None
    ) -> None:
        self._trustRoot = trustRoot
        if acceptableProtocols is None:
            acceptableProtocols = defaultALPNProtocols()
        self._acceptableProtocols = list(acceptableProtocols)

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        """TLS client options for ``hostname`` (verified) on ``port``."""
        from fw.internet.ssl import optionsForClientTLS

        return optionsForClientTLS(
            hostname.decode("idna"),
            trustRoot=self._trustRoot,
            acceptableProtocols=self._acceptableProtocols,
        )


# -- connection pooling ---------------------------------------------------------------

# RFC 9110 section 9.2.2: methods a client may repeat automatically.
_IDEMPOTENT = frozenset([b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"DELETE", b"PUT"])
_HTTP2_ANSWERS = (
    HTTP2ConnectionTerminated,
    HTTP2HeadersTooLarge,
    HTTP2ProtocolError,
    HTTP2StreamReset,
)


class _RetryingHTTP11ClientProtocol:
    """
    A cached connection that retries a safe request once on a new connection.

    Also used for HTTP/2 connections, where a request the server did not
    process (:class:`HTTP2RequestRefused`: above a GOAWAY's last stream, or
    REFUSED_STREAM) is retried whatever its method, when it has no body
    (RFC 9113 section 8.7).
    """

    def __init__(
        self,
        clientProtocol: Any,
        newConnection: Callable[[], Deferred[Any]],
    ) -> None:
        self._clientProtocol = clientProtocol
        self._newConnection = newConnection

    def _shouldRetry(self, method: bytes, exception: BaseException, bodyProducer: Any) -> bool:
        if bodyProducer is not None:
            return False
        if isinstance(exception, HTTP2RequestRefused):
            return True
        if method.upper() not in _IDEMPOTENT:
            return False
        if not isinstance(
            exception, RequestNotSent | RequestTransmissionFailed | ResponseNeverReceived
        ):
            return False
        reasons = getattr(exception, "reasons", [])
        # Not a stale connection but a server that answered, reset or broke
        # the protocol: retrying would only repeat that.
        return not any(r.check(CancelledError, *_HTTP2_ANSWERS) for r in reasons)

    def request(self, request: Request) -> Deferred[Response]:
        """Send ``request``; retry it once on a fresh connection if the cached one was stale."""

        def retry(reason: Failure) -> Any:
            if self._shouldRetry(request.method, reason.value, request.bodyProducer):
                return self._newConnection().addCallback(lambda c: c.request(request))
            return reason

        return self._clientProtocol.request(request).addErrback(retry)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clientProtocol, name)


class _HTTP11ClientFactory(Factory):
    """
    Builds the pool's connections: HTTP/1.1, or HTTP/2 when TLS's ALPN
    chooses ``h2`` (or by prior knowledge on a plain connection).
    """

    def __init__(
        self,
        quiescentCallback: Callable[[HTTP11ClientProtocol], object],
        metadata: Any,
        http2Callbacks: tuple[Callable[[Any], object], Callable[[Any], object]] | None = None,
        priorKnowledge: bool = False,
    ) -> None:
        self._quiescentCallback = quiescentCallback
        self._metadata = metadata
        self._http2Callbacks = http2Callbacks
        self._priorKnowledge = priorKnowledge

    def __repr__(self) -> str:
        return f"<HTTP11ClientFactory for {self._metadata!r}>"

    def buildProtocol(self, addr: Any) -> _ClientConnectionSelector:
        def buildHTTP11() -> HTTP11ClientProtocol:
            return HTTP11ClientProtocol(self._quiescentCallback)

        buildHTTP2 = None
        callbacks = self._http2Callbacks
        if callbacks is not None and http2Available():

            def buildHTTP2() -> H2ClientProtocol:
                return H2ClientProtocol(callbacks[0], callbacks[1])

        return _ClientConnectionSelector(buildHTTP11, buildHTTP2, self._priorKnowledge)


def _mayNegotiateHTTP2(key: Any) -> bool:
    return isinstance(key, tuple) and bool(key) and key[0] in (b"https", "https-tunnel")


class HTTPConnectionPool:
    """
    Connections kept open between requests, per (scheme, host, port).

    An HTTP/1.1 connection carries one request at a time; an HTTP/2
    connection (chosen by the server through TLS's ALPN) carries all the
    concurrent requests to its key as streams, so the pool keeps one per key.

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
    #: the cached one it was sent on turns out to be closed (and, on HTTP/2,
    #: any request without a body that the server did not process).
    retryAutomatically = True
    #: Speak HTTP/2 without negotiation ("prior knowledge", RFC 9113
    #: section 3.3) on plain ``http`` connections: only for servers known
    #: to support cleartext HTTP/2 (h2c).
    http2PriorKnowledge = False
    _factory = _HTTP11ClientFactory

    def __init__(self, reactor: Any, persistent: bool = True) -> None:
        self._reactor = reactor
        self.persistent = persistent
        self._connections: dict[Any, list[HTTP11ClientProtocol]] = {}
        self._timeouts: dict[Any, IDelayedCall] = {}
        # HTTP/2: the shared connection per key, and requests waiting for a
        # first connection to a key to say which protocol it speaks.
        self._http2: dict[Any, H2ClientProtocol] = {}
        self._negotiating: dict[Any, list[Deferred[Any]]] = {}
        self._speaksHTTP11: set[Any] = set()

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        """A connection for ``key``: a cached idle one, the key's HTTP/2 one, or a new one."""
        return self._getConnection(key, endpoint, self.retryAutomatically)

    def _getConnection(self, key: Any, endpoint: Any, retry: bool) -> Deferred[Any]:
        shared = self._http2.get(key)
        if shared is not None:
            if shared.acceptingRequests:
                timeout = self._timeouts.pop(shared, None)
                if timeout is not None:
                    timeout.cancel()
                return succeed(self._retrying(shared, key, endpoint, retry))
            del self._http2[key]
        if key not in self._negotiating and self._shouldNegotiate(key):
            # The first connection to a key that may speak HTTP/2: every
            # request until it is up waits, in order, to share it.
            self._negotiating[key] = []
            self._newConnection(key, endpoint).addBoth(self._negotiated, key, endpoint)
            if key not in self._negotiating:  # it connected at once
                return self._getConnection(key, endpoint, retry)
        waiting = self._negotiating.get(key)
        if waiting is not None:
            d: Deferred[Any] = Deferred()
            waiting.append(d)
            return d.addCallback(self._retrying, key, endpoint, retry)
        connections = self._connections.get(key)
        while connections:
            connection = connections.pop(0)
            self._timeouts.pop(connection).cancel()
            if connection.state == "QUIESCENT":
                if not connections:
                    del self._connections[key]
                if retry:
                    return succeed(
                        _RetryingHTTP11ClientProtocol(
                            connection, lambda: self._newConnection(key, endpoint)
                        )
                    )
                return succeed(connection)
        self._connections.pop(key, None)
        d = self._newConnection(key, endpoint)
        return d.addCallback(self._retrying, key, endpoint, retry)

    def _retrying(self, connection: Any, key: Any, endpoint: Any, retry: bool) -> Any:
        if not retry or not isinstance(connection, H2ClientProtocol):
            return connection
        return _RetryingHTTP11ClientProtocol(
            connection, lambda: self._getConnection(key, endpoint, False)
        )

    def _shouldNegotiate(self, key: Any) -> bool:
        return (
            self.persistent
            and http2Available()
            and (_mayNegotiateHTTP2(key) or self._priorKnowledge(key))
            and key not in self._speaksHTTP11
        )

    def _newConnection(self, key: Any, endpoint: Any) -> Deferred[Any]:
        def quiescentCallback(protocol: HTTP11ClientProtocol) -> None:
            self._putConnection(key, protocol)

        callbacks = None
        if http2Available():
            callbacks = (
                lambda c: self._http2Idle(key, c),
                lambda c: self._http2Gone(key, c),
            )
        factory = self._factory(
            quiescentCallback, repr(endpoint), callbacks, self._priorKnowledge(key)
        )
        d: Deferred[Any] = endpoint.connect(factory)
        d.addCallback(_whenReady)
        if self.persistent and callbacks is not None:
            d.addCallback(self._keepHTTP2, key)
        return d

    def _priorKnowledge(self, key: Any) -> bool:
        return (
            self.http2PriorKnowledge and isinstance(key, tuple) and bool(key) and key[0] == b"http"
        )

    def _keepHTTP2(self, connection: Any, key: Any) -> Any:
        if isinstance(connection, H2ClientProtocol):
            shared = self._http2.get(key)
            if shared is None or not shared.acceptingRequests:
                self._http2[key] = connection
            self._speaksHTTP11.discard(key)
        elif connection is not None and _mayNegotiateHTTP2(key):
            self._speaksHTTP11.add(key)
        return connection

    def _negotiated(self, result: Any, key: Any, endpoint: Any) -> None:
        """The first connection to ``key`` is up (or failed): serve the waiting requests."""
        waiting = [d for d in self._negotiating.pop(key, []) if not d.called]
        if isinstance(result, Failure):
            for d in waiting:
                d.errback(result)
            return
        if isinstance(result, H2ClientProtocol) and result.acceptingRequests:
            for d in waiting:
                d.callback(result)
            if not waiting:
                result._maybeIdle()
            return
        if isinstance(result, HTTP11ClientProtocol) and result.state == "QUIESCENT":
            # The first waiting request has this connection; the others
            # get connections of their own.
            if waiting:
                waiting.pop(0).callback(result)
            else:
                self._putConnection(key, result)
        for d in waiting:
            self._getConnection(key, endpoint, self.retryAutomatically).chainDeferred(d)

    def _http2Idle(self, key: Any, connection: H2ClientProtocol) -> None:
        """An HTTP/2 connection carries no stream: keep it for a while, or close it."""
        if not self.persistent or self._http2.get(key) is not connection:
            connection.closeWhenIdle()
            return
        if connection not in self._timeouts:
            self._timeouts[connection] = self._reactor.callLater(
                self.cachedConnectionTimeout, self._http2Expired, key, connection
            )

    def _http2Expired(self, key: Any, connection: H2ClientProtocol) -> None:
        self._timeouts.pop(connection, None)
        if self._http2.get(key) is connection:
            del self._http2[key]
        connection.closeWhenIdle()

    def _http2Gone(self, key: Any, connection: H2ClientProtocol) -> None:
        """An HTTP/2 connection takes no more requests (GOAWAY, closing, lost)."""
        if self._http2.get(key) is connection:
            del self._http2[key]
        timeout = self._timeouts.pop(connection, None)
        if timeout is not None:
            timeout.cancel()

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
        """
        Close every idle connection; the Deferred fires once all are closed.
        HTTP/2 connections still carrying streams close once those end.
        """
        results = []
        for connections in self._connections.values():
            for connection in connections:
                self._timeouts.pop(connection).cancel()
                results.append(connection.abort())
        self._connections = {}
        shared, self._http2 = self._http2, {}
        for h2connection in shared.values():
            timeout = self._timeouts.pop(h2connection, None)
            if timeout is not None:
                timeout.cancel()
            closed = h2connection.closeWhenIdle()
            if not h2connection.activeStreams:
                results.append(closed)
        for timeout in self._timeouts.values():
            timeout.cancel()
        self._timeouts = {}
        return DeferredList(results).addCallback(lambda _: None)


def _whenReady(connected: Any) -> Any:
    """The protocol a selector chose (once TLS is up), or what the endpoint gave."""
    if isinstance(connected, _ClientConnectionSelector):
        return connected.whenReady()
    return connected


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
        key: tuple[Any, ...] = (parsedURI.scheme, parsedURI.host, parsedURI.port)
        if parsedURI.scheme == b"https":
            # Connections made with another agent's TLS policy are not shared.
            key += (self._endpointFactory,)
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
            # As for Agent: connections verified under another policy are not shared.
            key = (
                "https-tunnel",
                self._proxyEndpoint,
                parsedURI.host,
                parsedURI.port,
                self._policy,
            )
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
