"""
``ProxyAgent``: requests through an HTTP proxy, https ones through a
``CONNECT`` tunnel with TLS verified end to end.  Private:
:mod:`fw.web.client` is the public module.
"""

from __future__ import annotations

from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_protocol import IStreamClientEndpoint
from fw.internet.defer import Deferred, fail
from fw.internet.endpoints import wrapClientTLS
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Factory, Protocol
from fw.python.failure import Failure
from fw.web._client_agent import URI, BrowserLikePolicyForHTTPS, _AgentBase, _requestHeaders
from fw.web._client_pool import HTTPConnectionPool
from fw.web._newclient_codec import (
    RequestHead,
    ResponseHead,
    ResponseParseError,
    ResponseParser,
    serializeRequestHead,
)
from fw.web.error import SchemeNotSupported
from fw.web.http_headers import Headers
from fw.web.iweb import IAgent

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
