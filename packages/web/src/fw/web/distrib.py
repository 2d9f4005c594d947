"""
Distributed web serving: one server answers part of its tree with resources
that live in other processes, over Perspective Broker.

- :class:`ResourcePublisher` (in the publishing process) is a PB root that
  renders requests on its own :class:`~fw.web.server.Site`.
- :class:`ResourceSubscription` (in the front server) is a resource that
  forwards each request to a publisher and relays the response.
- :class:`UserDirectory` serves ``/~user/`` style trees: each user's
  ``public_html`` directory, or, for ``user.fwd``, the server that user
  publishes on a UNIX socket in their home directory (``fwd web -u``).

Only plain values cross the wire (the request's method, URI, headers, body
and addresses; the response's status, headers and body chunks), so no
object of either side is unjellied by the other.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from typing import Any

from fw.internet.defer import Deferred
from fw.logger import Logger
from fw.python.failure import Failure
from fw.spread import pb
from fw.web import resource, server, static
from fw.web.http_headers import Headers
from fw.web.server import NOT_DONE_YET

__all__ = ["ResourcePublisher", "ResourceSubscription", "UserDirectory"]

# Banana refuses strings over 640 KiB (fw.spread.banana.SIZE_LIMIT): bodies
# travel in pieces well under that.
_CHUNK = 64 * 1024
# The largest request body forwarded to a publisher.  Bodies travel whole
# in one call, so they must fit one banana string.
MAX_FORWARDED_BODY = 512 * 1024


def _defaultReactor() -> Any:
    from fw.internet import reactor

    return reactor


class _Address:
    """A plain ``host``/``port`` address rebuilt on the publishing side."""

    def __init__(self, type: str, host: str, port: int) -> None:
        self.type = type
        self.host = host
        self.port = port

    def __repr__(self) -> str:
        return f"_Address({self.type!r}, {self.host!r}, {self.port!r})"


def _addressState(address: Any) -> list[Any]:
    return [
        str(getattr(address, "type", "TCP")),
        str(getattr(address, "host", "")),
        int(getattr(address, "port", 0) or 0),
    ]


class _ResponseReceiver(pb.Referenceable):
    """The front server's end: applies what the publisher sends to the request."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.done = False
        request.notifyFinish().addErrback(self._gone)

    def _gone(self, reason: Failure) -> None:
        self.done = True

    def remote_head(self, code: int, message: bytes, headers: list[list[bytes]]) -> None:
        if self.done:
            return
        self.request.setResponseCode(int(code), message or None)
        for name, value in headers:
            self.request.responseHeaders.addRawHeader(name, value)

    def remote_write(self, data: bytes) -> None:
        if not self.done:
            self.request.write(data)

    def remote_finish(self) -> None:
        if not self.done:
            self.done = True
            self.request.finish()

    def remote_abort(self) -> None:
        if not self.done:
            self.done = True
            self.request.loseConnection()


class ResourceSubscription(resource.Resource):
    """
    Forwards requests to the :class:`ResourcePublisher` at ``host:port``
    (``host`` ``"unix"`` makes ``port`` a UNIX socket path).

    Args:
        host: the publisher's host, or ``"unix"``.
        port: its TCP port, or its socket path.
        reactor: the reactor used to connect; the global one by default.
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, host: str, port: int | str, reactor: Any = None) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.reactor = reactor if reactor is not None else _defaultReactor()
        self.publisher: Any = None
        self.waiting: list[tuple[Any, Deferred[Any]]] = []
        self._connecting = False

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.update(publisher=None, waiting=[], _connecting=False)
        return state

    def _connect(self) -> None:
        self._connecting = True
        factory = pb.PBClientFactory()
        if self.host == "unix":
            self.reactor.connectUNIX(str(self.port), factory)
        else:
            self.reactor.connectTCP(self.host, int(self.port), factory)
        factory.getRootObject().addCallbacks(self.connected, self.notConnected)

    def connected(self, publisher: Any) -> None:
        """The publisher's root arrived: send the waiting requests."""
        self._connecting = False
        self.publisher = publisher
        publisher.notifyOnDisconnect(self.booted)
        waiting, self.waiting = self.waiting, []
        for request, _ in waiting:
            self._send(request)

    def notConnected(self, reason: Failure) -> None:
        """The publisher cannot be reached: answer the waiting requests 502."""
        self._connecting = False
        self._log.warn(
            "Cannot reach the publisher at {host}:{port}: {why}",
            host=self.host,
            port=self.port,
            why=reason.getErrorMessage(),
        )
        waiting, self.waiting = self.waiting, []
        for request, _ in waiting:
            _unavailable(request, "Unable to connect to the publishing server.")

    def booted(self, *ignored: object) -> None:
        """The connection closed: reconnect on the next request."""
        self.publisher = None

    def render(self, request: Any) -> int:
        """Forward the request."""
        if self.publisher is None:
            self.waiting.append((request, Deferred()))
            if not self._connecting:
                self._connect()
            return NOT_DONE_YET
        self._send(request)
        return NOT_DONE_YET

    def _send(self, request: Any) -> None:
        content = getattr(request, "content", None)
        body = b""
        if content is not None:
            content.seek(0)
            body = content.read(MAX_FORWARDED_BODY + 1)
            content.seek(0)
        if len(body) > MAX_FORWARDED_BODY:
            _unavailable(
                request, "Request body too large to forward.", 413, b"Request Entity Too Large"
            )
            return
        state = {
            b"method": request.method,
            b"uri": request.uri,
            b"path": request.path,
            b"clientproto": getattr(request, "clientproto", b"HTTP/1.1"),
            b"prepath": list(request.prepath),
            b"postpath": list(request.postpath),
            b"headers": [
                [n, v] for n, vs in request.requestHeaders.getAllRawHeaders() for v in vs
            ],
            b"content": body,
            b"client": _addressState(request.getClientAddress()),
            b"host": _addressState(request.getHost()),
            b"hostname": request.getRequestHostname(),
            b"secure": bool(request.isSecure()),
        }
        receiver = _ResponseReceiver(request)
        d = self.publisher.callRemote("request", state, receiver)
        d.addErrback(self._failed, request, receiver)

    def _failed(self, reason: Failure, request: Any, receiver: _ResponseReceiver) -> None:
        self._log.failure("Forwarding to the publisher failed", reason)
        if not receiver.done:
            receiver.done = True
            if getattr(request, "startedWriting", False):
                request.loseConnection()
            else:
                _unavailable(request, "The publishing server failed.")


def _unavailable(
    request: Any, text: str, code: int = 502, message: bytes = b"Bad Gateway"
) -> None:
    page = resource.ErrorPage(code, message.decode("ascii"), text)
    body = page.render(request)
    request.setResponseCode(code, message)
    request.setHeader(b"content-length", b"%d" % len(body))
    request.write(body)
    request.finish()


class _NullTransport:
    """What the published request's channel offers in place of a socket."""

    def __init__(self, request: _PublishedRequest) -> None:
        self._request = request

    def abortConnection(self) -> None:
        self._request._abort()

    loseConnection = abortConnection

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self._request._producer = (producer, streaming)

    def unregisterProducer(self) -> None:
        self._request._producer = None

    def write(self, data: bytes) -> None:
        raise RuntimeError("published requests write through the receiver")


class _NullChannel:
    def __init__(self, site: Any, request: _PublishedRequest) -> None:
        self.site = site
        self.factory = site
        self.transport = _NullTransport(request)

    def requestDone(self, request: Any) -> None:
        pass


class _PublishedRequest(server.Request):
    """A request rebuilt from a subscription's state; it answers through ``receiver``."""

    def __init__(self, site: Any, state: dict[bytes, Any], receiver: Any) -> None:
        super().__init__(_NullChannel(site, self), False)
        self.site = site
        self._receiver = receiver
        self._producer: tuple[Any, bool] | None = None
        self._headSent = False
        self.method = state[b"method"]
        self.uri = state[b"uri"]
        self.path = state[b"path"]
        self.clientproto = state[b"clientproto"]
        self._head = self.method == b"HEAD"
        self.requestHeaders = Headers()
        for name, value in state[b"headers"]:
            self.requestHeaders.addRawHeader(name, value)
        import io

        self.content = io.BytesIO(state[b"content"])
        self._client = _Address(*state[b"client"])
        self._hostAddress = _Address(*state[b"host"])
        self._hostname = state[b"hostname"]
        self._secure = bool(state[b"secure"])
        from urllib.parse import parse_qs

        query = self.uri.partition(b"?")[2]
        self.args = parse_qs(query, keep_blank_values=True) if query else {}
        # The subscription's own position is the site root here: the
        # remaining path is what the publisher traverses.
        self.sitepath = list(state[b"prepath"])
        self.prepath = []
        self.postpath = list(state[b"postpath"])

    def getClientAddress(self) -> Any:
        """The original client's address."""
        return self._client

    def getHost(self) -> Any:
        """The front server's address."""
        return self._hostAddress

    def getRequestHostname(self) -> bytes:
        """The host name the client asked for."""
        hostname: bytes = self._hostname
        return hostname

    def isSecure(self) -> bool:
        """Whether the client used TLS with the front server."""
        return self._secure

    def _call(self, name: str, *args: Any) -> None:
        try:
            d = self._receiver.callRemote(name, *args)
        except pb.DeadReferenceError:
            self._remoteGone(Failure())
            return
        d.addErrback(self._remoteGone)

    def _remoteGone(self, reason: Failure) -> None:
        # The front server (or its client) went away: stop rendering.
        if not self.finished and not self._disconnected:
            self.connectionLost(reason)

    def _sendHead(self) -> None:
        if self._headSent:
            return
        self._headSent = True
        self.startedWriting = 1
        contentType = self.defaultContentType
        if (
            contentType is not None
            and not self.responseHeaders.hasHeader(b"content-type")
            and self.code not in (204, 304)
        ):
            self.responseHeaders.setRawHeaders(b"content-type", [contentType])
        headers = [[n, v] for n, vs in self.responseHeaders.getAllRawHeaders() for v in vs]
        headers.extend([b"Set-Cookie", cookie] for cookie in getattr(self, "cookies", []))
        self._call("head", self.code, self.code_message, headers)

    def write(self, data: bytes) -> None:
        """Send ``data`` to the front server (the head first)."""
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish was called."
            )
        if self._disconnected:
            return
        encoder = self._encoder
        if encoder is not None:
            data = encoder.encode(data)
        self._sendHead()
        if self._head:
            return
        for i in range(0, len(data), _CHUNK):
            self._call("write", data[i : i + _CHUNK])

    def _writeWhole(self, body: bytes) -> None:
        if (
            not self.startedWriting
            and self._encoder is None
            and not self.responseHeaders.hasHeader(b"content-length")
        ):
            self.setHeader(b"content-length", b"%d" % len(body))
        self.write(body)
        self.finish()

    def finish(self) -> None:
        """End the response on the front server."""
        if self._disconnected or self.finished:
            return
        encoder = self._encoder
        if encoder is not None:
            self._encoder = None
            tail = encoder.finish()
            if tail:
                self._sendHead()
                self._call("write", tail)
        self._sendHead()
        self._call("finish")
        self.finished = 1
        self._drainProducer()
        notifications = self._notifications
        if notifications is not None:
            self._notifications = None
            for d in notifications:
                d.callback(None)

    def _drainProducer(self) -> None:
        self._producer = None

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """
        Run ``producer`` to completion: writes are forwarded as PB calls, so
        a pull producer is simply resumed until it unregisters.
        """
        self.producer = producer
        self._producer = (producer, streaming)
        if not streaming:
            while self._pullable():
                producer.resumeProducing()

    def _pullable(self) -> bool:
        return self._producer is not None and not self.finished and not self._disconnected

    def unregisterProducer(self) -> None:
        """The producer is done."""
        self.producer = None
        self._producer = None

    def loseConnection(self) -> None:
        """Cut the client's connection on the front server."""
        self._abort()

    def _abort(self) -> None:
        if not self.finished:
            self.finished = 1
            self._call("abort")


class ResourcePublisher(pb.Root):
    """
    Publishes ``site``'s resources to :class:`ResourceSubscription`\\ s
    over PB: serve it with ``pb.PBServerFactory(ResourcePublisher(site))``.
    """

    _log = Logger()

    def __init__(self, site: Any) -> None:
        self.site = site

    def remote_request(self, state: dict[bytes, Any], receiver: Any) -> None:
        """Render one forwarded request."""
        request = _PublishedRequest(self.site, state, receiver)
        try:
            resrc = self.site.getResourceFor(request)
            request.render(resrc)
        except Exception:  # noqa: BLE001 - answered 500 and logged by processingFailed
            request.processingFailed(Failure())


class UserDirectory(resource.Resource):
    """
    User home pages: ``/name/`` serves ``~name/public_html``, and
    ``/name.fwd/`` forwards to the server that ``name`` publishes on the
    UNIX socket ``~name/.fwd-web-pb``.

    Args:
        userDatabase: ``getpwnam``-like lookups (the :mod:`pwd` module by
            default).
        reactor: passed to the subscriptions.

    Attributes:
        userDirName: the directory served from each home.
        userSocketName: the socket a user publishes on.
        userSocketSuffix: the name suffix selecting the published server.
    """

    userDirName = "public_html"
    userSocketName = ".fwd-web-pb"
    userSocketSuffix = b".fwd"

    template = """<html>
<head><title>fw.web User Directory</title></head>
<body>
<h1>fw.web User Directory</h1>
<ul>
%(users)s
</ul>
</body>
</html>
"""

    def __init__(self, userDatabase: Any = None, reactor: Any = None) -> None:
        super().__init__()
        self._pwd = userDatabase if userDatabase is not None else pwd
        self.reactor = reactor

    def _users(self) -> list[Any]:
        getpwall: Callable[[], list[Any]] | None = getattr(self._pwd, "getpwall", None)
        return getpwall() if getpwall is not None else []

    def render_GET(self, request: Any) -> bytes:
        """List the users that have a home page."""
        import html

        items = []
        for entry in sorted(self._users(), key=lambda e: e.pw_name):
            name, home = entry.pw_name, entry.pw_dir
            if os.path.isdir(os.path.join(home, self.userDirName)):
                items.append(
                    f'<li><a href="{html.escape(name)}/">{html.escape(name)}</a> (file)</li>'
                )
            if os.path.exists(os.path.join(home, self.userSocketName)):
                link = html.escape(name) + self.userSocketSuffix.decode("ascii")
                items.append(f'<li><a href="{link}/">{html.escape(name)}</a> (server)</li>')
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return (self.template % {"users": "\n".join(items)}).encode("utf-8")

    def getChild(self, name: bytes, request: Any) -> resource.IResource:
        """The user's static directory or published server."""
        if not name:
            return self
        sub = name.endswith(self.userSocketSuffix)
        username = name[: -len(self.userSocketSuffix)] if sub else name
        try:
            entry = self._pwd.getpwnam(os.fsdecode(username))
        except (KeyError, ValueError):
            return resource.NoResource("No such user.")
        home = entry.pw_dir
        if sub:
            socket = os.path.join(home, self.userSocketName)
            return ResourceSubscription("unix", socket, self.reactor)
        directory = os.path.join(home, self.userDirName)
        if not os.path.isdir(directory):
            return resource.NoResource("No such user's page.")
        return static.File(directory)
