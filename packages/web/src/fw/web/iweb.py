"""
Interfaces of fw.web, under Twisted's names.

:class:`IRequest` is what a resource's ``render`` receives;
:class:`~fw.web.resource.IResource` (re-exported here) is what the resource
tree is made of; :class:`IBodyProducer` streams a body, with
:data:`UNKNOWN_LENGTH` when its length is not known in advance.  The client
(:class:`IAgent`, :class:`IResponse`) and template (:class:`IRenderable`,
:class:`ITemplateLoader`) interfaces live here too, as in Twisted.
"""

from __future__ import annotations

from typing import Any

from zope.interface import Attribute, Interface

from fw.internet.interfaces import IPushProducer

__all__ = [
    "UNKNOWN_LENGTH",
    "IAccessLogFormatter",
    "IAgent",
    "IAgentEndpointFactory",
    "IBodyProducer",
    "IClientRequest",
    "ICredentialFactory",
    "IPolicyForHTTPS",
    "IRenderable",
    "IRequest",
    "IResource",
    "IResponse",
    "ITemplateLoader",
    "IUsernameDigestHash",
]

#: The length of a body whose size is not known in advance (sent chunked).
UNKNOWN_LENGTH = "twisted.web.iweb.UNKNOWN_LENGTH"


class IRequest(Interface):
    """
    An HTTP request, as a resource sees it.

    Rendering grammar: ``render(request)`` returns bytes, or
    ``NOT_DONE_YET`` and later ``write(data)* -> finish()``.
    """

    method: bytes = Attribute("The request method, e.g. ``b'GET'``.")
    uri: bytes = Attribute("The full request target, with its query string.")
    path: bytes = Attribute("The path part of ``uri``.")
    args: dict[bytes, list[bytes]] = Attribute("Query and form arguments: name to list of values.")
    prepath: list[bytes] = Attribute("Path segments already consumed by traversal.")
    postpath: list[bytes] = Attribute("Path segments still to traverse.")
    requestHeaders: Any = Attribute("The request's :class:`~fw.web.http_headers.Headers`.")
    responseHeaders: Any = Attribute("The response's :class:`~fw.web.http_headers.Headers`.")
    content: Any = Attribute("A file-like object holding the request body.")
    code: int = Attribute("The response status code.")
    sentLength: int = Attribute("Bytes of response body written so far.")
    clientproto: bytes = Attribute("The request's protocol version, e.g. ``b'HTTP/1.1'``.")

    def getHeader(key: bytes | str) -> bytes | str | None:
        """Return the last value of request header ``key``, or ``None``."""

    def getCookie(key: bytes) -> bytes | None:
        """Return the value of request cookie ``key``, or ``None``."""

    def getAllHeaders() -> dict[bytes, bytes]:
        """Return every request header, lower-cased name to last value."""

    def getRequestHostname() -> bytes:
        """Return the host name the client asked for (the ``Host`` header without port)."""

    def getHost() -> Any:
        """Return the local address the request arrived on."""

    def getClientAddress() -> Any:
        """Return the client's address (the real client behind a PROXY-protocol balancer)."""

    def getClientIP() -> str | None:
        """Return the client's IP address, or ``None`` for a non-IP connection."""

    def getUser() -> bytes:
        """Return the HTTP Basic user name, or ``b''``."""

    def getPassword() -> bytes:
        """Return the HTTP Basic password, or ``b''``."""

    def isSecure() -> bool:
        """Return whether the request arrived over TLS."""

    def getSession(sessionInterface: Any = None) -> Any:
        """Return this client's session, creating one (and its cookie) if needed."""

    def prePathURL() -> bytes:
        """Return the absolute URL of the resource handling this request."""

    def rememberRootURL() -> None:
        """Remember the current prepath as the root URL."""

    def getRootURL() -> bytes | None:
        """Return the URL remembered by :meth:`rememberRootURL`."""

    def finish() -> None:
        """End the response."""

    def write(data: bytes) -> None:
        """Write ``data`` to the response body, sending the head first if needed."""

    def addCookie(
        k: bytes | str,
        v: bytes | str,
        expires: bytes | str | None = None,
        domain: bytes | str | None = None,
        path: bytes | str | None = None,
        max_age: bytes | str | int | None = None,
        comment: bytes | str | None = None,
        secure: bool | None = None,
        httpOnly: bool = False,
        sameSite: str | None = None,
    ) -> None:
        """Set a response cookie."""

    def setResponseCode(code: int, message: bytes | None = None) -> None:
        """Set the response status code and optional reason phrase."""

    def setHeader(name: bytes | str, value: bytes | str) -> None:
        """Set a response header, replacing its earlier values."""

    def redirect(url: bytes | str) -> None:
        """Answer with a 302 redirect to ``url``."""

    def setLastModified(when: float) -> Any:
        """Set ``Last-Modified``; return ``CACHED`` if the client's copy is fresh."""

    def setETag(etag: bytes) -> Any:
        """Set ``ETag``; return ``CACHED`` if the client's copy matches."""

    def setHost(host: bytes, port: int, ssl: bool = False) -> None:
        """Change the host and port this request believes it arrived on."""

    def notifyFinish() -> Any:
        """Return a Deferred firing when the response is finished or the connection lost."""

    def registerProducer(producer: Any, streaming: bool) -> None:
        """Register a producer feeding the response body."""

    def unregisterProducer() -> None:
        """Unregister the response body's producer."""


class IAccessLogFormatter(Interface):
    """A callable turning a finished request into one access-log line."""

    def __call__(timestamp: str, request: IRequest) -> str:
        """Return the log line (without newline) for ``request`` finished at ``timestamp``."""


class ICredentialFactory(Interface):
    """Makes credentials from an HTTP ``Authorization`` header (fw.web.guard)."""

    scheme: bytes = Attribute("The authentication scheme, e.g. ``b'basic'``.")

    def getChallenge(request: IRequest) -> dict[str, Any]:
        """Return the challenge parameters for a ``WWW-Authenticate`` header."""

    def decode(response: bytes, request: IRequest) -> Any:
        """Return credentials decoded from the client's ``response``."""


class IUsernameDigestHash(Interface):
    """Credentials that can check an HTTP Digest hash."""

    def checkHash(digestHash: bytes) -> bool:
        """Return whether ``digestHash`` matches these credentials."""


class IBodyProducer(IPushProducer):
    """
    Produces an HTTP body into a consumer.

    Grammar: ``startProducing(consumer) -> (pauseProducing | resumeProducing)* ->
    fire or fail the returned Deferred``, with ``stopProducing`` allowed at any point.
    """

    length: int | str = Attribute("The body length in bytes, or :data:`UNKNOWN_LENGTH`.")

    def startProducing(consumer: Any) -> Any:
        """Start writing the body to ``consumer``; return a Deferred firing when done."""

    def stopProducing() -> None:
        """Stop producing; the Deferred from ``startProducing`` must not fire afterwards."""


class IRenderable(Interface):
    """An object that renders to a template tree (fw.web.template)."""

    def lookupRenderMethod(name: str) -> Any:
        """Return the render method called ``name``."""

    def render(request: IRequest | None) -> Any:
        """Return the tree this object renders to."""


class ITemplateLoader(Interface):
    """Loads a template (fw.web.template)."""

    def load() -> list[Any]:
        """Return the loaded template as a list of tags."""


class IResponse(Interface):
    """An HTTP response received by a client."""

    version: tuple[bytes, int, int] = Attribute("``(b'HTTP', major, minor)``.")
    code: int = Attribute("The status code.")
    phrase: bytes = Attribute("The reason phrase.")
    headers: Any = Attribute("The response :class:`~fw.web.http_headers.Headers`.")
    length: int | str = Attribute("The body length, or :data:`UNKNOWN_LENGTH`.")
    request: Any = Attribute("The :class:`IClientRequest` this answers.")
    previousResponse: Any = Attribute("The response before a redirect, or ``None``.")

    def deliverBody(protocol: Any) -> None:
        """Deliver the body to ``protocol`` (``dataReceived* -> connectionLost``)."""

    def setPreviousResponse(response: Any) -> None:
        """Set :attr:`previousResponse`."""


class IClientRequest(Interface):
    """A request sent by a client."""

    method: bytes = Attribute("The request method.")
    absoluteURI: bytes | None = Attribute("The absolute URI requested.")
    headers: Any = Attribute("The request :class:`~fw.web.http_headers.Headers`.")


class IAgent(Interface):
    """Issues HTTP requests."""

    def request(
        method: bytes, uri: bytes, headers: Any = None, bodyProducer: IBodyProducer | None = None
    ) -> Any:
        """Return a Deferred firing with an :class:`IResponse`."""


class IPolicyForHTTPS(Interface):
    """Chooses TLS settings for a client connection to a host."""

    def creatorForNetloc(hostname: bytes, port: int) -> Any:
        """Return a client connection creator for ``hostname:port``."""


class IAgentEndpointFactory(Interface):
    """Makes client endpoints for an agent."""

    def endpointForURI(uri: Any) -> Any:
        """Return a stream client endpoint reaching ``uri``."""


from fw.web.resource import IResource  # noqa: E402  (re-export; resource imports nothing from here)
