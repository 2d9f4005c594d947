"""
The request-independent parts of :mod:`fw.web.wsgi`: the PEP 3333 environ,
``wsgi.input`` and ``wsgi.errors``, and ``start_response`` argument checks.
"""

from __future__ import annotations

import collections
import io
import threading
from collections.abc import Iterable, Iterator
from typing import IO, Any

from fw.logger import Logger

__all__ = ["ErrorStream", "InputStream", "StreamingInput", "buildEnviron", "checkStartResponse"]


def _native(value: bytes) -> str:
    # PEP 3333 "native strings": bytes carried unchanged as latin-1 text.
    return value.decode("latin-1")


def buildEnviron(
    *,
    method: bytes,
    uri: bytes,
    prepath: Iterable[bytes],
    postpath: Iterable[bytes],
    headers: Iterable[tuple[bytes, Iterable[bytes]]],
    serverName: bytes,
    serverPort: int,
    serverProtocol: bytes,
    remoteAddr: str | None,
    remotePort: int | None,
    secure: bool,
    input: IO[bytes] | InputStream | StreamingInput,
    errors: Any,
) -> dict[str, Any]:
    """
    The WSGI environ of a request (PEP 3333, "environ Variables").

    ``SCRIPT_NAME`` is where the application is mounted (the traversed
    path), ``PATH_INFO`` what remains; both are percent-decoded bytes as
    latin-1 text, as PEP 3333 requires.
    """
    pre = list(prepath)
    post = list(postpath)
    query = uri.partition(b"?")[2]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": _native(method),
        "REQUEST_URI": _native(uri),
        "SCRIPT_NAME": _native(b"/" + b"/".join(pre)) if pre else "",
        "PATH_INFO": _native(b"/" + b"/".join(post)) if post else "",
        "QUERY_STRING": _native(query),
        "SERVER_NAME": _native(serverName),
        "SERVER_PORT": str(serverPort),
        "SERVER_PROTOCOL": _native(serverProtocol),
        "REMOTE_ADDR": remoteAddr or "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https" if secure else "http",
        "wsgi.input": input,
        "wsgi.errors": errors,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if remotePort is not None:
        environ["REMOTE_PORT"] = str(remotePort)
    for rawName, values in headers:
        name = rawName.lower()
        if b"_" in name:
            # Would be indistinguishable from the dash form once translated.
            continue
        value = _native(b",".join(values))
        if name == b"content-type":
            environ["CONTENT_TYPE"] = value
        elif name == b"content-length":
            environ["CONTENT_LENGTH"] = value
        else:
            environ["HTTP_" + _native(name).upper().replace("-", "_")] = value
    return environ


class InputStream:
    """
    ``wsgi.input``: the request body as a read-only file (PEP 3333,
    "Input and Error Streams").  Reads never go past the body.
    """

    def __init__(self, wrapped: IO[bytes] | None) -> None:
        self._wrapped: IO[bytes] = wrapped if wrapped is not None else io.BytesIO()

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes; all the rest for ``None`` or a negative size."""
        if size is None or size < 0:
            return self._wrapped.read()
        return self._wrapped.read(size)

    def readline(self, size: int | None = -1) -> bytes:
        """One line, or at most ``size`` bytes of it."""
        if size is None or size < 0:
            return self._wrapped.readline()
        return self._wrapped.readline(size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """The remaining lines (``hint`` limits the total, roughly)."""
        if hint is None or hint < 0:
            return self._wrapped.readlines()
        return self._wrapped.readlines(hint)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._wrapped)


class ErrorStream:
    """``wsgi.errors``: text written here goes to the log."""

    _log = Logger()

    def write(self, data: str) -> None:
        """Log ``data``.

        Raises:
            TypeError: ``data`` is not text (PEP 3333: errors is a text stream).
        """
        if not isinstance(data, str):
            raise TypeError(f"wsgi.errors takes str, not {type(data).__name__}")
        if data.strip():
            self._log.error("WSGI application: {message}", message=data.rstrip("\n"))

    def writelines(self, seq: Iterable[str]) -> None:
        """Log each string."""
        for line in seq:
            self.write(line)

    def flush(self) -> None:
        """Nothing is buffered."""


def checkStartResponse(
    status: object, headers: object
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """
    Check ``start_response``'s arguments and convert them to wire form.

    Returns:
        ``(code, reason, headers)``.

    Raises:
        TypeError: a value has the wrong type (PEP 3333 wants ``str``).
        ValueError: the status is not ``"NNN reason"`` or a header holds a
            line break.
    """
    if not isinstance(status, str):
        raise TypeError(f"status must be str, not {type(status).__name__}")
    if not isinstance(headers, list):
        raise TypeError(f"headers must be a list, not {type(headers).__name__}")
    codeText, _, reason = status.partition(" ")
    if len(codeText) != 3 or not codeText.isdigit():
        raise ValueError(f"malformed status {status!r}")
    wire: list[tuple[bytes, bytes]] = []
    for header in headers:
        if not isinstance(header, tuple) or len(header) != 2:
            raise TypeError(f"each header must be a (name, value) tuple, not {header!r}")
        name, value = header
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"header names and values must be str: {header!r}")
        if any(c in name + value for c in "\r\n\x00"):
            raise ValueError(f"line break in header {name!r}")
        wire.append((name.encode("latin-1"), value.encode("latin-1")))
    return int(codeText), reason.encode("latin-1"), wire


#: Request body bytes buffered for the application before reading from the
#: client pauses: enough for a few large reads, small per connection.
STREAM_HIGH_WATER = 256 * 1024
#: Reading resumes once the application has drained the buffer below this.
STREAM_LOW_WATER = 64 * 1024


class StreamingInput:
    """
    ``wsgi.input`` fed as the request body arrives: the reactor thread
    delivers data (it is the body's protocol, see
    ``Request.deliverBody``), the application's thread reads and blocks
    until data or the end comes.  Reading from the client pauses while
    :data:`STREAM_HIGH_WATER` bytes wait.

    Args:
        callFromThread: runs a callable in the reactor thread.
    """

    def __init__(self, callFromThread: Any) -> None:
        self._callFromThread = callFromThread
        self._condition = threading.Condition()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._ended = False
        self._lost: str | None = None
        self._producer: Any = None
        self._paused = False
        self._discarding = False

    # -- the reactor thread: the body protocol -------------------------------

    def makeConnection(self, producer: Any) -> None:
        """Delivery starts; ``producer`` pauses reading the client."""
        self._producer = producer

    def dataReceived(self, data: bytes) -> None:
        """More of the body."""
        if self._discarding:
            return
        with self._condition:
            self._chunks.append(data)
            self._buffered += len(data)
            pause = self._buffered > STREAM_HIGH_WATER and not self._paused
            if pause:
                self._paused = True
            self._condition.notify_all()
        if pause:
            self._producer.pauseProducing()

    def connectionLost(self, reason: Any) -> None:
        """The body ended (``ConnectionDone``) or the client went away."""
        from fw.internet.error import ConnectionDone

        with self._condition:
            self._ended = True
            if not reason.check(ConnectionDone):
                self._lost = reason.getErrorMessage()
            self._condition.notify_all()

    def discard(self) -> None:
        """
        The application is done: drop what it did not read, and the rest of
        the body as it arrives, so that the connection can carry the next
        request (reactor thread).
        """
        with self._condition:
            self._discarding = True
            self._ended = True
            self._chunks.clear()
            self._buffered = 0
            resume = self._paused
            self._paused = False
            self._condition.notify_all()
        if resume and self._producer is not None:
            self._producer.resumeProducing()

    # -- the application's thread --------------------------------------------

    def _take(self, size: int, untilNewline: bool) -> bytes:
        out: list[bytes] = []
        taken = 0
        with self._condition:
            while True:
                while self._chunks and (size < 0 or taken < size):
                    chunk = self._chunks.popleft()
                    want = len(chunk) if size < 0 else min(len(chunk), size - taken)
                    if untilNewline:
                        newline = chunk.find(b"\n", 0, want)
                        if newline >= 0:
                            want = newline + 1
                    if want < len(chunk):
                        self._chunks.appendleft(chunk[want:])
                    out.append(chunk[:want])
                    taken += want
                    self._buffered -= want
                    if untilNewline and out[-1].endswith(b"\n"):
                        break
                done = (size >= 0 and taken >= size) or (
                    untilNewline and out and out[-1].endswith(b"\n")
                )
                if done or self._ended:
                    break
                if self._paused:
                    # The reader needs more than is buffered: read on.
                    self._paused = False
                    self._callFromThread(self._producer.resumeProducing)
                self._condition.wait()
            if self._lost is not None and not out:
                raise ConnectionError(f"the client went away: {self._lost}")
            resume = self._paused and self._buffered < STREAM_LOW_WATER
            if resume:
                self._paused = False
        if resume:
            self._callFromThread(self._producer.resumeProducing)
        return b"".join(out)

    def read(self, size: int | None = -1) -> bytes:
        """``size`` bytes, fewer only at the end; all the rest for ``None`` or -1."""
        return self._take(-1 if size is None or size < 0 else size, False)

    def readline(self, size: int | None = -1) -> bytes:
        """One line, or at most ``size`` bytes of it."""
        return self._take(-1 if size is None or size < 0 else size, True)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """The remaining lines."""
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line
