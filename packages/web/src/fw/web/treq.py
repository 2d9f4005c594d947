"""
A short API for HTTP requests, in the spirit (and with the names) of the
treq library: ``get``, ``post``, ``put``, ``patch``, ``delete``, ``head``,
``request``, and ``content``, ``text_content``, ``json_content``,
``collect`` for bodies.  It replaces Twisted's removed ``getPage``::

    from fw.web import treq

    response = await treq.get("https://example.com/", params={"q": "fw"})
    print(response.code, await treq.text_content(response))
    response = await treq.post(url, json={"a": 1}, auth=("user", "secret"))
    data = await response.json()

Programs written for treq port by replacing ``import treq`` with
``from fw.web import treq``.  Requests use a per-reactor
:class:`~fw.web.client.HTTPConnectionPool` (persistent connections), follow
redirects (``allow_redirects=False`` to stop), decode gzip, and verify
HTTPS servers.
"""

from __future__ import annotations

import codecs
import json as _json
import weakref
from base64 import b64encode
from collections.abc import Callable, Iterable, Mapping
from http.cookiejar import CookieJar
from typing import Any, cast
from urllib.parse import urlencode

from zope.interface import implementer

from fw.internet.defer import Deferred, succeed
from fw.internet.protocol import Protocol
from fw.internet.task import Cooperator
from fw.python.failure import Failure
from fw.web._client_agent import URI, Agent
from fw.web._client_pool import HTTPConnectionPool
from fw.web._client_wrappers import (
    BrowserLikeRedirectAgent,
    ContentDecoderAgent,
    CookieAgent,
    FileBodyProducer,
    GzipDecoder,
    RedirectAgent,
)
from fw.web._newclient import ResponseDone, _BodyTransport
from fw.web.http import PotentialDataLoss
from fw.web.http_headers import Headers
from fw.web.iweb import IBodyProducer

__all__ = [
    "HTTPClient",
    "collect",
    "content",
    "delete",
    "get",
    "head",
    "json_content",
    "options",
    "patch",
    "post",
    "put",
    "request",
    "text_content",
]

_NOTHING = object()

_Params = Mapping[str | bytes, Any] | Iterable[tuple[str | bytes, Any]]


def _bytes(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _pairs(values: Any) -> list[tuple[bytes, bytes]]:
    """Key/value pairs from a mapping or a sequence of pairs; list values repeat the key."""
    items = values.items() if isinstance(values, Mapping) else values
    out = []
    for key, value in items:
        if isinstance(value, list | tuple):
            out += [(_bytes(key), _bytes(v)) for v in value]
        else:
            out.append((_bytes(key), _bytes(value)))
    return out


class _Response:
    """
    A response with treq's conveniences: ``content()``, ``text()``,
    ``json()``, ``collect(f)``, ``history()`` and ``cookies()``; everything
    else (``code``, ``headers``, ``deliverBody``...) is the wrapped
    :class:`~fw.web.iweb.IResponse`'s.
    """

    def __init__(self, original: Any, cookiejar: CookieJar | None) -> None:
        self.original = original
        self._cookiejar = cookiejar

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)

    def __repr__(self) -> str:
        return f"<treq response {self.original.code}>"

    def deliverBody(self, protocol: Any) -> None:
        """
        Deliver the body to ``protocol`` (see IResponse); once the body is
        being buffered (a request not made ``unbuffered``), it is replayed
        from the buffer when it is complete.
        """
        if getattr(self.original, "_fwTreqContent", None) is None:
            self.original.deliverBody(protocol)
            return

        def replay(body: bytes) -> None:
            protocol.makeConnection(_BodyTransport(None))
            protocol.dataReceived(body)
            protocol.connectionLost(Failure(ResponseDone()))

        def failed(reason: Failure) -> None:
            protocol.makeConnection(_BodyTransport(None))
            protocol.connectionLost(reason)

        content(self).addCallbacks(replay, failed)

    def collect(self, collector: Callable[[bytes], object]) -> Deferred[None]:
        """Call ``collector`` with each piece of the body; fire at the end."""
        return collect(self, collector)

    def content(self) -> Deferred[bytes]:
        """The whole body."""
        return content(self)

    def text(self, encoding: str = "ISO-8859-1") -> Deferred[str]:
        """The body as text, in the charset of Content-Type or ``encoding``."""
        return text_content(self, encoding)

    def json(self, **kwargs: Any) -> Deferred[Any]:
        """The body decoded as JSON (``json.loads`` keyword arguments allowed)."""
        return json_content(self, **kwargs)

    def history(self) -> list[Any]:
        """The responses redirected from, oldest first."""
        out = []
        previous = self.original.previousResponse
        while previous is not None:
            out.append(_Response(previous, self._cookiejar))
            previous = previous.previousResponse
        return out[::-1]

    def cookies(self) -> CookieJar:
        """The client's cookie jar after this response."""
        jar = CookieJar()
        if self._cookiejar is not None:
            for cookie in self._cookiejar:
                jar.set_cookie(cookie)
        return jar


class _Collector(Protocol):
    def __init__(self, finished: Deferred[None], collector: Callable[[bytes], object]) -> None:
        self._finished = finished
        self._collector = collector

    def dataReceived(self, data: bytes) -> None:
        if self._finished.called:
            return
        try:
            self._collector(data)
        except Exception:  # noqa: BLE001 - the collector's error fails collect()
            self.transport.stopProducing()  # type: ignore[union-attr]
            self._finished.errback(Failure())

    def connectionLost(self, reason: Failure = Failure(ResponseDone())) -> None:  # noqa: B008
        if self._finished.called:
            return
        # treq treats a body ended by the connection as complete.
        if reason.check(ResponseDone, PotentialDataLoss):
            self._finished.callback(None)
        else:
            self._finished.errback(reason)


def collect(response: Any, collector: Callable[[bytes], object]) -> Deferred[None]:
    """
    Call ``collector`` with each piece of ``response``'s body as it arrives.

    The Deferred fires when the body ends; it fails if the body fails or
    ``collector`` raises (which abandons the body).
    """
    finished: Deferred[None] = Deferred()
    response.deliverBody(_Collector(finished, collector))
    return finished


def content(response: Any) -> Deferred[bytes]:
    """The whole body of ``response`` (it may be asked for more than once)."""
    holder = response.original if isinstance(response, _Response) else response
    cached: Any = getattr(holder, "_fwTreqContent", None)
    if cached is None:
        cached = []
        holder._fwTreqContent = cached
        pieces: list[bytes] = []
        done = collect(holder, pieces.append)

        def share(result: Any) -> Any:
            waiting = list(cached)
            cached.clear()
            holder._fwTreqContent = result
            for d in waiting:
                if isinstance(result, Failure):
                    d.errback(result)
                else:
                    d.callback(result)
            return None

        done.addCallback(lambda _: b"".join(pieces)).addBoth(share)
    elif not isinstance(cached, list):
        d0: Deferred[bytes] = Deferred()
        if isinstance(cached, Failure):
            d0.errback(cached)
        else:
            d0.callback(cast(bytes, cached))
        return d0
    d: Deferred[bytes] = Deferred()
    cached.append(d)
    return d


def _charset(response: Any) -> str | None:
    for value in response.headers.getRawHeaders(b"content-type", []):
        for param in value.split(b";")[1:]:
            name, _, val = param.strip().partition(b"=")
            if name.strip().lower() == b"charset":
                charset: str = val.strip().strip(b'"').decode("ascii", "replace")
                try:
                    codecs.lookup(charset)
                except LookupError:
                    return None
                return charset
    return None


def text_content(response: Any, encoding: str = "ISO-8859-1") -> Deferred[str]:
    """The body as text: decoded by the Content-Type charset, else ``encoding``."""
    charset = _charset(response) or encoding
    return content(response).addCallback(lambda body: body.decode(charset))


def json_content(response: Any, **kwargs: Any) -> Deferred[Any]:
    """The body decoded as UTF-8 JSON (``kwargs`` go to ``json.loads``)."""
    return content(response).addCallback(lambda body: _json.loads(body.decode("utf-8"), **kwargs))


def _quoted(value: str) -> bytes:
    """A multipart parameter value, quoted as browsers do (HTML's form-data encoding)."""
    escaped = value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return b'"' + escaped.encode("utf-8") + b'"'


def _multipart(data: Any, files: Any) -> tuple[bytes, bytes]:
    """A ``multipart/form-data`` body (RFC 7578) and its Content-Type."""
    import mimetypes
    import os

    boundary = b"fw-boundary-" + os.urandom(12).hex().encode("ascii")
    parts: list[bytes] = []
    fields = _pairs(data) if data else []
    for name, value in fields:
        parts.append(
            b"Content-Disposition: form-data; name="
            + _quoted(name.decode("utf-8"))
            + b"\r\n\r\n"
            + value
        )
    items = files.items() if isinstance(files, Mapping) else files
    for name, spec in items:
        if isinstance(spec, tuple):
            filename, *rest = spec
            fileObj = rest[-1]
            contentType = rest[0] if len(rest) == 2 else None
        else:
            fileObj = spec
            filename = os.path.basename(getattr(spec, "name", "") or "") or None
            contentType = None
        if contentType is None:
            guessed = mimetypes.guess_type(filename or "")[0]
            contentType = guessed or "application/octet-stream"
        disposition = b"Content-Disposition: form-data; name=" + _quoted(
            name if isinstance(name, str) else name.decode("utf-8")
        )
        if filename:
            disposition += b"; filename=" + _quoted(filename)
        content = fileObj.read()
        parts.append(
            disposition
            + b"\r\nContent-Type: "
            + _bytes(contentType)
            + b"\r\n\r\n"
            + _bytes(content)
        )
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary + b"--\r\n"
    return body, b"multipart/form-data; boundary=" + boundary


@implementer(IBodyProducer)
class _BytesProducer:
    """A body already in memory: written at once, no cooperator needed."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> Deferred[None]:
        consumer.write(self._body)
        return succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


class HTTPClient:
    """
    Requests through ``agent``, with treq's arguments.

    Args:
        agent: the :class:`~fw.web.iweb.IAgent` to send with.
        cookiejar: cookies sent and kept (a new jar by default).
        data_to_body_producer: turns a file-like ``data`` into a body
            producer (by default a :class:`~fw.web.client.FileBodyProducer`
            reading on the request's reactor).
    """

    def __init__(
        self,
        agent: Any,
        cookiejar: CookieJar | None = None,
        data_to_body_producer: Callable[[Any], Any] | None = None,
    ) -> None:
        self._agent = agent
        self._cookiejar = cookiejar if cookiejar is not None else CookieJar()
        self._dataToBodyProducer = data_to_body_producer

    def get(self, url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
        """A GET request: see :meth:`request`."""
        return self.request("GET", url, **kwargs)

    def head(self, url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
        """A HEAD request: see :meth:`request`."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
        """An OPTIONS request: see :meth:`request`."""
        return self.request("OPTIONS", url, **kwargs)

    def post(self, url: str | bytes, data: Any = None, **kwargs: Any) -> Deferred[_Response]:
        """A POST request: see :meth:`request`."""
        return self.request("POST", url, data=data, **kwargs)

    def put(self, url: str | bytes, data: Any = None, **kwargs: Any) -> Deferred[_Response]:
        """A PUT request: see :meth:`request`."""
        return self.request("PUT", url, data=data, **kwargs)

    def patch(self, url: str | bytes, data: Any = None, **kwargs: Any) -> Deferred[_Response]:
        """A PATCH request: see :meth:`request`."""
        return self.request("PATCH", url, data=data, **kwargs)

    def delete(self, url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
        """A DELETE request: see :meth:`request`."""
        return self.request("DELETE", url, **kwargs)

    def request(
        self,
        method: str | bytes,
        url: str | bytes,
        *,
        headers: Headers | Mapping[Any, Any] | None = None,
        params: Any = None,
        data: Any = None,
        json: Any = _NOTHING,
        files: Any = None,
        auth: tuple[str | bytes, str | bytes] | None = None,
        cookies: Mapping[str, str] | None = None,
        allow_redirects: bool = True,
        browser_like_redirects: bool = False,
        unbuffered: bool = False,
        reactor: Any = None,
        timeout: float | None = None,
    ) -> Deferred[_Response]:
        """
        Send a request; the Deferred fires with the response once its
        headers arrive (with its body already being read unless
        ``unbuffered``).

        Args:
            method: ``"GET"``, ``"POST"``...
            url: the absolute URL (text or bytes).
            headers: a Headers, or a mapping of name to a value or a list of
                values.
            params: query parameters added to the URL (a mapping or pairs).
            data: the body: bytes, a file, an IBodyProducer, or form fields
                (a mapping or pairs, sent as
                ``application/x-www-form-urlencoded``).
            json: a value sent as an ``application/json`` body.
            files: files to upload as ``multipart/form-data`` (with the
                fields of ``data``): a mapping or pairs of field name to a
                file, ``(filename, file)`` or ``(filename, content_type,
                file)``.  The files are read into memory.
            auth: ``(user, password)`` for HTTP Basic authentication.
            cookies: cookies to add to the client's jar for this URL.
            allow_redirects: follow redirects (up to 20).
            browser_like_redirects: turn POST into GET on 301 and 302.
            unbuffered: do not start reading the body now.
            reactor: the reactor (the global one by default).
            timeout: seconds to wait for the response's headers; the
                request is then cancelled (``CancelledError``).
        """
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        methodBytes = _bytes(method).upper()
        urlBytes = _bytes(url)
        if params:
            base, _, fragment = urlBytes.partition(b"#")
            query = urlencode(_pairs(params)).encode("ascii")
            joiner = b"&" if b"?" in base else b"?"
            if base.endswith((b"?", b"&")):
                joiner = b""
            urlBytes = base + joiner + query + (b"#" + fragment if fragment else b"")
        requestHeaders = Headers()
        if isinstance(headers, Headers):
            requestHeaders = headers.copy()
        elif headers is not None:
            for name, value in headers.items():
                values = value if isinstance(value, list | tuple) else [value]
                requestHeaders.setRawHeaders(_bytes(name), [_bytes(v) for v in values])
        bodyProducer: Any = None
        if files is not None:
            if json is not _NOTHING:
                raise ValueError("give files or json, not both")
            body, contentType = _multipart(data, files)
            bodyProducer = _BytesProducer(body)
            requestHeaders.setRawHeaders(b"Content-Type", [contentType])
        elif json is not _NOTHING:
            if data is not None:
                raise ValueError("give data or json, not both")
            body = _json.dumps(json, separators=(",", ":")).encode("utf-8")
            bodyProducer = _BytesProducer(body)
            if not requestHeaders.hasHeader(b"content-type"):
                requestHeaders.setRawHeaders(b"Content-Type", [b"application/json; charset=UTF-8"])
        elif data is not None:
            if isinstance(data, bytes | str):
                bodyProducer = _BytesProducer(_bytes(data))
            elif IBodyProducer.providedBy(data):
                bodyProducer = data
            elif hasattr(data, "read"):
                if self._dataToBodyProducer is not None:
                    bodyProducer = self._dataToBodyProducer(data)
                else:
                    bodyProducer = FileBodyProducer(data, _cooperator(reactor))
            else:
                body = urlencode(_pairs(data)).encode("ascii")
                bodyProducer = _BytesProducer(body)
                if not requestHeaders.hasHeader(b"content-type"):
                    requestHeaders.setRawHeaders(
                        b"Content-Type", [b"application/x-www-form-urlencoded"]
                    )
        if auth is not None:
            user, password = auth
            token = b64encode(_bytes(user) + b":" + _bytes(password))
            requestHeaders.setRawHeaders(b"Authorization", [b"Basic " + token])
        if cookies:
            self._addCookies(urlBytes, cookies)
        agent: Any = CookieAgent(self._agent, self._cookiejar)
        if allow_redirects:
            agent = (BrowserLikeRedirectAgent if browser_like_redirects else RedirectAgent)(agent)
        agent = ContentDecoderAgent(agent, [(b"gzip", GzipDecoder)])
        d: Deferred[Any] = agent.request(methodBytes, urlBytes, requestHeaders, bodyProducer)
        if timeout is not None:
            timer = reactor.callLater(timeout, d.cancel)

            def cancelTimer(result: Any) -> Any:
                if timer.active():
                    timer.cancel()
                return result

            d.addBoth(cancelTimer)

        def wrap(response: Any) -> _Response:
            wrapped = _Response(response, self._cookiejar)
            if not unbuffered:
                content(wrapped).addErrback(lambda f: None)
            return wrapped

        return d.addCallback(wrap)

    def _addCookies(self, url: bytes, cookies: Mapping[str, str]) -> None:
        from http.cookiejar import Cookie

        host = URI.fromBytes(url).host.decode("latin-1")
        for name, value in cookies.items():
            self._cookiejar.set_cookie(
                Cookie(
                    0, name, value, None, False, host, False, False, "/", False,
                    False, None, False, None, None, {},
                )
            )  # fmt: skip


_cooperators: weakref.WeakKeyDictionary[Any, Cooperator] = weakref.WeakKeyDictionary()


def _cooperator(reactor: Any) -> Cooperator:
    """A cooperator running on ``reactor`` (file uploads read on its turns)."""
    cooperator = _cooperators.get(reactor)
    if cooperator is None:
        cooperator = _cooperators[reactor] = Cooperator(
            scheduler=lambda f: reactor.callLater(0.01, f)
        )
    return cooperator


_pools: weakref.WeakKeyDictionary[Any, HTTPConnectionPool] = weakref.WeakKeyDictionary()


def _client(reactor: Any, kwargs: dict[str, Any]) -> tuple[HTTPClient, dict[str, Any]]:
    if reactor is None:
        from fw.internet import reactor as globalReactor

        reactor = globalReactor
    agent = kwargs.pop("agent", None)
    persistent = kwargs.pop("persistent", True)
    if agent is None:
        if persistent:
            pool = kwargs.pop("pool", None) or _pools.get(reactor)
            if pool is None:
                pool = _pools[reactor] = HTTPConnectionPool(reactor)
        else:
            pool = HTTPConnectionPool(reactor, False)
        agent = Agent(reactor, pool=pool)
    client = HTTPClient(agent, cookiejar=kwargs.pop("cookiejar", None))
    kwargs["reactor"] = reactor
    return client, kwargs


def request(method: str | bytes, url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
    """
    Make a request: the arguments of :meth:`HTTPClient.request`, plus
    ``agent`` (an IAgent to use instead of the shared pool's Agent),
    ``persistent`` (keep connections open, true by default) and ``pool``.
    """
    client, kwargs = _client(kwargs.pop("reactor", None), kwargs)
    return client.request(method, url, **kwargs)


def get(url: str | bytes, headers: Any = None, **kwargs: Any) -> Deferred[_Response]:
    """A GET request: see :func:`request`."""
    return request("GET", url, headers=headers, **kwargs)


def head(url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
    """A HEAD request: see :func:`request`."""
    return request("HEAD", url, **kwargs)


def options(url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
    """An OPTIONS request: see :func:`request`."""
    return request("OPTIONS", url, **kwargs)


def post(url: str | bytes, data: Any = None, **kwargs: Any) -> Deferred[_Response]:
    """A POST request: see :func:`request`."""
    return request("POST", url, data=data, **kwargs)


def put(url: str | bytes, data: Any = None, **kwargs: Any) -> Deferred[_Response]:
    """A PUT request: see :func:`request`."""
    return request("PUT", url, data=data, **kwargs)


def patch(url: str | bytes, data: Any = None, **kwargs: Any) -> Deferred[_Response]:
    """A PATCH request: see :func:`request`."""
    return request("PATCH", url, data=data, **kwargs)


def delete(url: str | bytes, **kwargs: Any) -> Deferred[_Response]:
    """A DELETE request: see :func:`request`."""
    return request("DELETE", url, **kwargs)
