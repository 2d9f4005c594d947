"""
``Agent``, ``URI`` and the HTTPS policy, with Twisted's names.  The pool is
in :mod:`fw.web._client_pool`, ``ProxyAgent`` in :mod:`fw.web._client_proxy`;
:mod:`fw.web.client` is the public module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from zope.interface import implementer

from fw.internet.defer import Deferred, fail
from fw.internet.endpoints import HostnameEndpoint, wrapClientTLS
from fw.web._client_http2 import defaultALPNProtocols
from fw.web._client_pool import HTTPConnectionPool
from fw.web._newclient import (
    Request,
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
