"""
CGI (RFC 3875): run scripts as child processes and stream their output.

:class:`CGIScript` runs one executable per request with the RFC 3875
meta-variables in its environment and the request body on its standard
input; the script's header block is parsed with size and count limits
(a malformed or oversized head is answered ``502 Bad Gateway``), and its
body is streamed to the client as it is written, with flow control in both
directions.  :class:`CGIDirectory` serves a directory of scripts and
:class:`FilteredScript` runs a file through an interpreter.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from typing import Any

from zope.interface import implementer

from fw.internet.error import ProcessExitedAlready
from fw.internet.interfaces import IPushProducer
from fw.internet.protocol import ProcessProtocol
from fw.logger import Logger
from fw.python.failure import Failure
from fw.python.filepath import FilePath, InsecurePath
from fw.web import resource
from fw.web._cgi_headers import (
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_SIZE,
    CGIHeaderError,
    CGIHeaderParser,
    buildEnvironment,
)
from fw.web.server import NOT_DONE_YET

__all__ = ["CGIDirectory", "CGIProcessProtocol", "CGIScript", "FilteredScript"]

# How much of the request body goes to the script's stdin per write.
_STDIN_CHUNK = 64 * 1024


def _defaultReactor() -> Any:
    from fw.internet import reactor

    return reactor


def _bodySize(request: Any) -> int:
    content = getattr(request, "content", None)
    if content is None:
        return 0
    position = content.tell()
    size: int = content.seek(0, os.SEEK_END)
    content.seek(position)
    return size


class CGIDirectory(resource.Resource, FilePath[str]):  # type: ignore[misc]
    """
    A directory whose files are CGI scripts; subdirectories are more
    :class:`CGIDirectory` resources.  Listings are refused.
    """

    def __init__(self, pathname: str | os.PathLike[str]) -> None:
        resource.Resource.__init__(self)
        FilePath.__init__(self, os.fspath(pathname))

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def getChild(self, path: bytes, request: Any) -> resource.IResource:
        """The script or subdirectory called ``path``."""
        if not path:
            return resource.NoResource("CGI directories do not support directory listing.")
        try:
            if b"/" in path or b"\x00" in path or path in (b".", b".."):
                raise InsecurePath(repr(path))
            fnp = self.child(os.fsdecode(path))
        except InsecurePath:
            return resource.ForbiddenResource()
        if not fnp.exists():
            return resource.NoResource()
        if fnp.isdir():
            return CGIDirectory(fnp.path)
        return CGIScript(fnp.path)

    def render(self, request: Any) -> bytes:
        """Directory listings are not offered."""
        return resource.NoResource("CGI directories do not support directory listing.").render(
            request
        )


class CGIScript(resource.Resource):
    """
    One CGI script, run for every request it serves; the path below it is
    its ``PATH_INFO``.

    Args:
        filename: the executable.
        registry: ignored; accepted for :class:`~fw.web.static.File`'s
            processors interface.
        reactor: the reactor spawning processes; the global one by default.

    Attributes:
        maxHeaderSize: the longest header block accepted from the script.
        maxHeaderCount: the most header fields accepted from the script.
    """

    isLeaf = True
    maxHeaderSize = DEFAULT_MAX_HEADER_SIZE
    maxHeaderCount = DEFAULT_MAX_HEADER_COUNT

    def __init__(self, filename: str, registry: object = None, reactor: Any = None) -> None:
        super().__init__()
        self.filename = filename
        self._reactor = reactor if reactor is not None else _defaultReactor()

    def render(self, request: Any) -> int:
        """Start the script for ``request``."""
        host = request.getHost()
        client = request.getClientAddress()
        remoteAddr = getattr(client, "host", None)
        remotePort = getattr(client, "port", None)
        user = request.getUser() if hasattr(request, "getUser") else b""
        env = buildEnvironment(
            method=request.method,
            uri=request.uri,
            scriptName=b"/" + b"/".join(request.prepath),
            scriptFilename=os.path.abspath(self.filename),
            postpath=request.postpath,
            headers=list(request.requestHeaders.getAllRawHeaders()),
            serverName=request.getRequestHostname(),
            serverPort=int(getattr(host, "port", 0)),
            serverProtocol=getattr(request, "clientproto", b"HTTP/1.1") or b"HTTP/1.1",
            remoteAddr=remoteAddr if isinstance(remoteAddr, str) else None,
            remotePort=remotePort if isinstance(remotePort, int) else None,
            remoteUser=user or None,
            https=bool(request.isSecure()),
            inherit=os.environ,
        )
        size = _bodySize(request)
        if size and "CONTENT_LENGTH" not in env:
            # A chunked body: RFC 3875 4.1.2 wants its length all the same.
            env["CONTENT_LENGTH"] = str(size)
        # RFC 3875 4.4: a query without "=" is an indexed search whose
        # "+"-separated words become the script's arguments.
        query = request.uri.partition(b"?")[2]
        qargs: list[str] = []
        if query and b"=" not in query:
            qargs = [
                urllib.parse.unquote_to_bytes(word).decode("utf-8", "surrogateescape")
                for word in query.split(b"+")
            ]
        self.runProcess(env, request, qargs)
        return NOT_DONE_YET

    def _protocol(self, request: Any) -> CGIProcessProtocol:
        return CGIProcessProtocol(request, self.maxHeaderSize, self.maxHeaderCount)

    def runProcess(
        self, env: dict[str, str], request: Any, qargs: list[str] | None = None
    ) -> None:
        """Spawn the script with ``env``."""
        self._reactor.spawnProcess(
            self._protocol(request),
            self.filename,
            [self.filename, *(qargs or [])],
            env,
            os.path.dirname(os.path.abspath(self.filename)),
        )


class FilteredScript(CGIScript):
    """
    A file run through an interpreter: ``filter`` is the interpreter's path
    and the file is its first argument (``/usr/bin/python3 script.py``).
    """

    filter = "/usr/bin/cat"

    def runProcess(
        self, env: dict[str, str], request: Any, qargs: list[str] | None = None
    ) -> None:
        """Spawn the interpreter on the script."""
        self._reactor.spawnProcess(
            self._protocol(request),
            self.filter,
            [self.filter, self.filename, *(qargs or [])],
            env,
            os.path.dirname(os.path.abspath(self.filename)),
        )


@implementer(IPushProducer)
class CGIProcessProtocol(ProcessProtocol):
    """
    Talks to one running script on behalf of one request.

    It feeds the request body to the script's stdin, parses the response
    head, then streams the body; it is the request's streaming producer, so
    a slow client pauses the script's output pipe.  If the client goes away
    the script is killed.  Events::

        connectionMade -> outReceived* -> processEnded
    """

    _log = Logger()

    def __init__(
        self,
        request: Any,
        maxHeaderSize: int = DEFAULT_MAX_HEADER_SIZE,
        maxHeaderCount: int = DEFAULT_MAX_HEADER_COUNT,
    ) -> None:
        self.request = request
        self._parser = CGIHeaderParser(maxHeaderSize, maxHeaderCount)
        self._requestDone = False
        self._failed = False
        self._gotOutput = False
        self._headDone = False
        self.errortext = b""

    # -- process events ------------------------------------------------------

    def connectionMade(self) -> None:
        """Register as the producer, send the body to stdin and close it."""
        self.request.registerProducer(self, True)
        self.request.notifyFinish().addErrback(self._clientGone)
        content = getattr(self.request, "content", None)
        assert self.transport is not None
        if content is not None:
            content.seek(0)
            while chunk := content.read(_STDIN_CHUNK):
                self.transport.write(chunk)
        self.transport.closeStdin()

    def errReceived(self, data: bytes) -> None:
        """Log what the script writes to stderr."""
        self.errortext += data
        self._log.warn(
            "CGI script {script} stderr: {text!r}", script=self._scriptName(), text=data[:1000]
        )

    def outReceived(self, data: bytes) -> None:
        """Parse the head, then pass the body through."""
        if self._requestDone or self._failed:
            return
        self._gotOutput = True
        if self._headDone:
            self.request.write(data)
            return
        try:
            rest = self._parser.feed(data)
        except CGIHeaderError as e:
            self._badGateway(str(e))
            return
        if rest is None:
            return
        head = self._parser.head
        assert head is not None
        self._headDone = True
        if head.message is not None:
            self.request.setResponseCode(head.code, head.message)
        else:
            self.request.setResponseCode(head.code)
        for name, value in head.headers:
            self.request.responseHeaders.addRawHeader(name, value)
        if rest:
            self.request.write(rest)

    def processEnded(self, reason: Failure) -> None:
        """Finish the request; a script that never completed its head is a 502."""
        if self._requestDone or self._failed:
            return
        if not self._headDone:
            if not self._gotOutput:
                self._log.error(
                    "CGI script {script} exited without output: {reason}",
                    script=self._scriptName(),
                    reason=reason.getErrorMessage(),
                )
                self._badGateway("script produced no output")
            else:
                self._badGateway("script output ended inside its header block")
            return
        self._finishRequest()

    # -- producer ------------------------------------------------------------

    def pauseProducing(self) -> None:
        """The client is slow: stop reading the script's output."""
        if self.transport is not None:
            self.transport.pauseProducing()  # type: ignore[attr-defined]

    def resumeProducing(self) -> None:
        """The client caught up: read the script's output again."""
        if self.transport is not None:
            self.transport.resumeProducing()  # type: ignore[attr-defined]

    def stopProducing(self) -> None:
        """The connection is gone: kill the script."""
        self._kill()

    # -- helpers -------------------------------------------------------------

    def _scriptName(self) -> str:
        return os.fsdecode(b"/" + b"/".join(getattr(self.request, "prepath", [])))

    def _clientGone(self, reason: Failure) -> None:
        self._requestDone = True
        self._kill()

    def _kill(self) -> None:
        if self.transport is not None:
            with contextlib.suppress(ProcessExitedAlready):
                self.transport.signalProcess("KILL")

    def _badGateway(self, why: str) -> None:
        self._failed = True
        self._log.error("CGI script {script} failed: {why}", script=self._scriptName(), why=why)
        self._kill()
        request = self.request
        request.setResponseCode(502)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        page = resource.ErrorPage(502, "Bad Gateway", "The CGI script's response was invalid.")
        body = page.render(request)
        request.setHeader(b"content-length", b"%d" % len(body))
        request.write(body)
        self._finishRequest()

    def _finishRequest(self) -> None:
        if self._requestDone:
            return
        self._requestDone = True
        self.request.unregisterProducer()
        self.request.finish()
