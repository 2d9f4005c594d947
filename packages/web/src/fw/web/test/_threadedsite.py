"""
A :class:`~fw.web.server.Site` served on 127.0.0.1 by a reactor running in a
thread of its own, for tests that talk to it with blocking clients
(``http.client``, curl, ``requests``) from the test's thread.

Usage::

    with ServerThread(lambda reactor: MyRootResource()) as s:
        status, headers, body = s.get("/path")
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from typing import Any

from fw.internet._posixbase import _platformDefault
from fw.web import server

__all__ = ["ServerThread"]


class ServerThread:
    """
    A Site on 127.0.0.1 served by a reactor running in a thread.

    Args:
        makeRoot: called with the server's reactor, in its thread; returns
            the root resource.
        tls: TLS context options (with ALPN for HTTP/2, say) to serve HTTPS,
            or None for plain HTTP.
        timeOut: the Site's idle timeout in seconds, if not its default.
    """

    def __init__(
        self, makeRoot: Callable[[Any], Any], tls: Any = None, timeOut: float | None = None
    ) -> None:
        self.reactor = _platformDefault()()
        self.makeRoot = makeRoot
        self.tls = tls
        self.timeOut = timeOut
        self.port: Any = None

    def __enter__(self) -> ServerThread:
        ready = threading.Event()

        def setup() -> None:
            self.site = server.Site(self.makeRoot(self.reactor), reactor=self.reactor)
            if self.timeOut is not None:
                self.site.timeOut = self.timeOut
            if self.tls is None:
                self.port = self.reactor.listenTCP(0, self.site, interface="127.0.0.1")
            else:
                self.port = self.reactor.listenSSL(0, self.site, self.tls, interface="127.0.0.1")
            ready.set()

        self.reactor.callWhenRunning(setup)
        self.thread = threading.Thread(
            target=self.reactor.run, kwargs={"installSignalHandlers": False}
        )
        self.thread.start()
        assert ready.wait(10), "server did not start"
        return self

    @property
    def portNumber(self) -> int:
        return int(self.port.getHost().port)

    def url(self, path: str) -> str:
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://127.0.0.1:{self.portNumber}{path}"

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self.port.stopListening()
            self.reactor.stop()

        self.reactor.callFromThread(stop)
        self.thread.join(10)
        assert not self.thread.is_alive()
        if self.reactor.threadpool is not None:
            self.reactor.threadpool.stop()

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, Any, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.portNumber, timeout=10)
        try:
            conn.putrequest(
                method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True
            )
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()
