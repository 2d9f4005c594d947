"""
WSGI (PEP 3333): run a WSGI application (Flask, Django...) as a resource.

The application runs in a thread pool; every response write is handed to the
reactor thread and waits there while the client is not reading (the response
is the request's streaming producer), so a slow client slows the application
instead of filling memory.  ``start_response`` with ``exc_info``, the
``write`` callable, iterables with ``close()`` and errors before or after the
headers are sent follow PEP 3333.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from zope.interface import implementer

from fw.internet.interfaces import IPushProducer
from fw.internet.threads import blockingCallFromThread
from fw.logger import Logger
from fw.python.failure import Failure
from fw.web import resource
from fw.web._wsgi_environ import (
    ErrorStream,
    InputStream,
    StreamingInput,
    buildEnviron,
    checkStartResponse,
)
from fw.web.server import NOT_DONE_YET

__all__ = ["WSGIResource"]

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGIResource(resource.Resource):
    """
    A resource running a WSGI application for every request below it.

    Args:
        reactor: the reactor the server runs on.
        threadpool: the thread pool the application runs in (such as
            ``reactor.getThreadPool()``).
        application: the WSGI application callable.
    """

    isLeaf = True
    #: The application reads the request body (``wsgi.input``) while it
    #: arrives, and reading from the client pauses while it does not read;
    #: set to false to have the whole body received (and spooled) first.
    streamingRequestBody = True

    def __init__(self, reactor: Any, threadpool: Any, application: WSGIApplication) -> None:
        super().__init__()
        self._reactor = reactor
        self._threadpool = threadpool
        self._application = application

    def render(self, request: Any) -> int:
        """Start the application for ``request``."""
        response = _WSGIResponse(
            self._reactor, self._threadpool, self._application, request, self.streamingRequestBody
        )
        response.start()
        return NOT_DONE_YET

    def getChildWithDefault(self, name: bytes, request: Any) -> resource.IResource:
        """
        Every path below is the application's: give the segment back to
        ``postpath`` so that it lands in ``PATH_INFO``.
        """
        request.prepath.pop()
        request.postpath.insert(0, name)
        return self

    def putChild(self, path: bytes, child: resource.IResource) -> None:
        """
        Raises:
            RuntimeError: always; the application owns the whole subtree.
        """
        raise RuntimeError("Cannot put a child on a WSGIResource.")


@implementer(IPushProducer)
class _WSGIResponse:
    """One request's run of the application."""

    _log = Logger()

    def __init__(
        self,
        reactor: Any,
        threadpool: Any,
        application: WSGIApplication,
        request: Any,
        streaming: bool = False,
    ) -> None:
        self.reactor = reactor
        self.threadpool = threadpool
        self.application = application
        self.request = request
        self.started = False
        self.requestFinished = False
        self._status: tuple[int, bytes, list[tuple[bytes, bytes]]] | None = None
        self._writable = threading.Event()
        self._writable.set()
        request.notifyFinish().addBoth(self._requestGone)
        host = request.getHost()
        client = request.getClientAddress()
        remoteAddr = getattr(client, "host", None)
        remotePort = getattr(client, "port", None)
        self.environ = buildEnviron(
            method=request.method,
            uri=request.uri,
            prepath=request.prepath,
            postpath=request.postpath,
            headers=list(request.requestHeaders.getAllRawHeaders()),
            serverName=request.getRequestHostname(),
            serverPort=int(getattr(host, "port", 0)),
            serverProtocol=getattr(request, "clientproto", b"HTTP/1.1") or b"HTTP/1.1",
            remoteAddr=remoteAddr if isinstance(remoteAddr, str) else None,
            remotePort=remotePort if isinstance(remotePort, int) else None,
            secure=bool(request.isSecure()),
            input=self._input(request, streaming),
            errors=ErrorStream(),
        )
        # wsgi.input ends where the body ends, whatever its framing.
        self.environ["wsgi.input_terminated"] = True
        content = getattr(request, "content", None)
        if self._stream is None and content is not None and "CONTENT_LENGTH" not in self.environ:
            # A chunked body: give its length, as applications read by it.
            size = content.seek(0, 2)
            content.seek(0)
            if size:
                self.environ["CONTENT_LENGTH"] = str(size)

    # -- reactor thread ------------------------------------------------------

    def _input(self, request: Any, streaming: bool) -> InputStream | StreamingInput:
        self._stream: StreamingInput | None = None
        deliverBody = getattr(request, "deliverBody", None)
        if streaming and deliverBody is not None:
            stream = StreamingInput(self.reactor.callFromThread)
            try:
                deliverBody(stream)
            except RuntimeError:
                pass  # the body was received whole: read it from content
            else:
                self._stream = stream
                return stream
        return InputStream(_rewound(getattr(request, "content", None)))

    def _discardInput(self) -> None:
        if self._stream is not None:
            self._stream.discard()

    def _requestGone(self, result: object) -> None:
        self.requestFinished = True
        self._writable.set()

    def pauseProducing(self) -> None:
        """The client is not keeping up: hold the application's writes."""
        self._writable.clear()

    def resumeProducing(self) -> None:
        """The client caught up."""
        self._writable.set()

    def stopProducing(self) -> None:
        """The connection is gone."""
        self.requestFinished = True
        self._writable.set()

    def start(self) -> None:
        """Run the application in the thread pool."""
        self.threadpool.callInThread(self.run)

    def _sendResponseHeaders(self) -> None:
        assert self._status is not None
        code, reason, headers = self._status
        self.request.setResponseCode(code, reason or None)
        for name, value in headers:
            # The server owns these (as Twisted's WSGI container does).
            if name.lower() not in (b"server", b"date"):
                self.request.responseHeaders.addRawHeader(name, value)
        self.request.registerProducer(self, True)

    def _writeInReactor(self, data: bytes, started: bool) -> None:
        if self.requestFinished:
            return
        if not started:
            self._sendResponseHeaders()
        self.request.write(data)

    def _finishInReactor(self, started: bool) -> None:
        self._discardInput()
        if self.requestFinished:
            return
        if not started:
            self._sendResponseHeaders()
        self.request.unregisterProducer()
        self.request.finish()

    def _failInReactor(self, failure: Failure, started: bool) -> None:
        self._log.failure("WSGI application error", failure=failure)
        self._discardInput()
        if self.requestFinished:
            return
        if started:
            # Part of the response is on the wire: all we can do is cut it.
            self.request.unregisterProducer()
            loseConnection = getattr(self.request, "loseConnection", None)
            if loseConnection is None:
                loseConnection = self.request.channel.loseConnection
            loseConnection()
            return
        body = b"Internal Server Error"
        self.request.setResponseCode(500)
        self.request.setHeader(b"content-type", b"text/plain")
        self.request.setHeader(b"content-length", b"%d" % len(body))
        self.request.write(body)
        self.request.finish()

    # -- application thread --------------------------------------------------

    def startResponse(
        self, status: str, headers: list[tuple[str, str]], excInfo: _ExcInfo | None = None
    ) -> Callable[[bytes], None]:
        """PEP 3333 ``start_response``."""
        if excInfo is not None:
            try:
                if self.started:
                    raise excInfo[1].with_traceback(excInfo[2])
            finally:
                excInfo = None
        elif self._status is not None:
            raise RuntimeError("start_response called twice without exc_info")
        self._status = checkStartResponse(status, headers)
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333 ``write``: send ``data`` now (headers first if needed)."""
        if not isinstance(data, bytes):
            raise TypeError(f"WSGI application wrote {type(data).__name__}, not bytes")
        if self._status is None:
            raise RuntimeError("application wrote before calling start_response")
        started = self.started
        self.started = True
        blockingCallFromThread(self.reactor, self._writeInReactor, data, started)
        # Flow control: wait while the client is not reading.
        self._writable.wait()

    def run(self) -> None:
        """Call the application and send what it returns (in a pool thread)."""
        try:
            appIterator = self.application(self.environ, self.startResponse)
            try:
                for chunk in appIterator:
                    if chunk:
                        self.write(chunk)
                    if self.requestFinished:
                        break
            finally:
                close = getattr(appIterator, "close", None)
                if close is not None:
                    close()
            if self._status is None:
                raise RuntimeError("application returned without calling start_response")
        except Exception:  # noqa: BLE001 - PEP 3333: the server answers 500 and logs it
            failure = Failure(*sys.exc_info())
            self.reactor.callFromThread(self._failInReactor, failure, self.started)
        else:
            started = self.started
            self.started = True
            self.reactor.callFromThread(self._finishInReactor, started)


def _rewound(content: Any) -> Any:
    if content is not None:
        content.seek(0)
    return content
