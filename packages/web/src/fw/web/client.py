"""
fw's HTTP client, with Twisted's ``twisted.web.client`` names.

:class:`Agent` sends requests; :func:`readBody` collects a body; wrappers
add redirects (:class:`RedirectAgent`, :class:`BrowserLikeRedirectAgent`),
decompression (:class:`ContentDecoderAgent` with :class:`GzipDecoder`) and
cookies (:class:`CookieAgent`); :class:`ProxyAgent` goes through an HTTP
proxy (https by a ``CONNECT`` tunnel); :class:`HTTPConnectionPool` keeps
connections open between requests::

    from fw.web.client import Agent, HTTPConnectionPool, readBody

    agent = Agent(reactor, pool=HTTPConnectionPool(reactor))
    response = await agent.request(b"GET", b"https://example.com/")
    body = await readBody(response)

HTTPS servers are verified (chain and host name) by default.  Over https
the agent offers HTTP/2 by ALPN (with the ``h2`` library, fw-web's
``http2`` extra) and speaks it when the server chooses it, multiplexing
concurrent requests to one origin on one pooled connection; otherwise it
speaks HTTP/1.1.  For a shorter API
see :mod:`fw.web.treq`.
"""

from __future__ import annotations

from fw.web._client_agent import URI, Agent, BrowserLikePolicyForHTTPS
from fw.web._client_http2_errors import (
    HTTP2ConnectionTerminated,
    HTTP2HeadersTooLarge,
    HTTP2ProtocolError,
    HTTP2RequestRefused,
    HTTP2StreamReset,
)
from fw.web._client_pool import HTTPConnectionPool
from fw.web._client_proxy import ProxyAgent, ProxyTunnelError
from fw.web._client_wrappers import (
    BrowserLikeRedirectAgent,
    ContentDecoderAgent,
    CookieAgent,
    FileBodyProducer,
    GzipDecoder,
    PartialDownloadError,
    RedirectAgent,
    readBody,
)
from fw.web._newclient import (
    HTTP11ClientProtocol,
    Request,
    RequestGenerationFailed,
    RequestNotSent,
    RequestTransmissionFailed,
    Response,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
    WrongBodyLength,
)
from fw.web._newclient_codec import ResponseParseError
from fw.web.error import (
    InfiniteRedirection,
    PageRedirect,
    RedirectWithNoLocation,
    SchemeNotSupported,
)
from fw.web.http import PotentialDataLoss
from fw.web.iweb import (
    UNKNOWN_LENGTH,
    IAgent,
    IAgentEndpointFactory,
    IBodyProducer,
    IClientRequest,
    IPolicyForHTTPS,
    IResponse,
)

__all__ = [
    "UNKNOWN_LENGTH",
    "URI",
    "Agent",
    "BrowserLikePolicyForHTTPS",
    "BrowserLikeRedirectAgent",
    "ContentDecoderAgent",
    "CookieAgent",
    "FileBodyProducer",
    "GzipDecoder",
    "HTTP2ConnectionTerminated",
    "HTTP2HeadersTooLarge",
    "HTTP2ProtocolError",
    "HTTP2RequestRefused",
    "HTTP2StreamReset",
    "HTTP11ClientProtocol",
    "HTTPConnectionPool",
    "IAgent",
    "IAgentEndpointFactory",
    "IBodyProducer",
    "IClientRequest",
    "IPolicyForHTTPS",
    "IResponse",
    "InfiniteRedirection",
    "PageRedirect",
    "PartialDownloadError",
    "PotentialDataLoss",
    "ProxyAgent",
    "ProxyTunnelError",
    "RedirectAgent",
    "RedirectWithNoLocation",
    "Request",
    "RequestGenerationFailed",
    "RequestNotSent",
    "RequestTransmissionFailed",
    "Response",
    "ResponseDone",
    "ResponseFailed",
    "ResponseNeverReceived",
    "ResponseParseError",
    "SchemeNotSupported",
    "WrongBodyLength",
    "readBody",
]
