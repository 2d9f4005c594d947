"""
The HTTP client's connection pool: ``HTTPConnectionPool`` keeps HTTP/1.1
connections between requests and one shared HTTP/2 connection per origin.
Private: :mod:`fw.web.client` is the public module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fw.internet._interfaces_core import IDelayedCall
from fw.internet.defer import CancelledError, Deferred, DeferredList, succeed
from fw.internet.protocol import Factory
from fw.python.failure import Failure
from fw.web._client_http2 import H2ClientProtocol, http2Available
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
