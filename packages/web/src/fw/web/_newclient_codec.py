"""
The sans-IO core of fw's HTTP/1.1 client (RFC 9112): request bytes out,
response events in.

:class:`ResponseParser` is fed the bytes of one response (``feed``, then
``feedEOF`` when the peer closes) and returns events.  The events of one
response follow this grammar::

    InformationalResponse* -> ResponseHead -> BodyData* -> ResponseEnd

No socket, reactor, clock or logger is involved; the protocol adapter in
:mod:`fw.web._newclient` dispatches the events.  Every size the server
controls is bounded by a parameter; breaking a bound, like any other
malformed input, raises :class:`ResponseParseError`, after which the parser
accepts nothing more.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# -- limits ---------------------------------------------------------------------------

#: Longest status line or header line accepted.  16 KiB is nginx's and
#: Twisted's line limit; real status lines are tens of bytes.
DEFAULT_MAX_LINE_LENGTH = 16384

#: Most header fields in one response.  Apache and nginx refuse requests
#: with more than 100 fields; a response with more is not a real server.
DEFAULT_MAX_HEADER_COUNT = 100

#: Most bytes in a response's whole header section (and, separately, its
#: trailer section): 64 KiB, four times the common per-field limit.
DEFAULT_MAX_HEADER_BYTES = 65536

#: Longest chunk-size line (size plus extensions).  A size in hex is at
#: most 16 digits; 1 KiB leaves room for any sane chunk extension.
DEFAULT_MAX_CHUNK_LINE_LENGTH = 1024

#: Most 1xx interim responses skipped before the final one (each is
#: bounded by the header limits; this bounds their number).
DEFAULT_MAX_INFORMATIONAL = 20


class ResponseParseError(Exception):
    """
    The server sent a response that is not HTTP/1.1 (RFC 9112) or breaks a
    limit: a remote protocol violation.  ``data`` holds the offending bytes
    (possibly shortened).
    """

    def __init__(self, reason: str, data: bytes = b"") -> None:
        super().__init__(reason, data)
        self.reason = reason
        self.data = data[:200]

    def __str__(self) -> str:
        if self.data:
            return f"{self.reason}: {self.data!r}"
        return self.reason


class LocalProtocolError(ValueError):
    """The local side asked for a request that cannot be written on the wire."""


# -- events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InformationalResponse:
    """A 1xx interim response (RFC 9110 section 15.2); it has no body."""

    code: int
    phrase: bytes
    headers: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """
    The status line and header section of the final response.

    ``length`` is the body's size when Content-Length gives it (0 when the
    response has no body), else ``None``.  ``persistent`` says whether the
    connection may carry another request once this response ends.
    """

    version: tuple[bytes, int, int]
    code: int
    phrase: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    length: int | None
    persistent: bool
    closeDelimited: bool


@dataclass(frozen=True, slots=True)
class BodyData:
    """Some bytes of the response body (after removing chunked framing)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ResponseEnd:
    """
    The response is complete.  ``trailers`` are the trailer fields of a
    chunked body; ``persistent`` is final: false when the connection must
    now close.  ``closeDelimited`` is true when the body ended with the
    connection, so truncation cannot be detected (Twisted's
    ``PotentialDataLoss``).
    """

    trailers: tuple[tuple[bytes, bytes], ...] = ()
    persistent: bool = False
    closeDelimited: bool = False


Event = InformationalResponse | ResponseHead | BodyData | ResponseEnd


class _State(enum.Enum):
    STATUS_LINE = "status line"
    HEADERS = "headers"
    BODY_LENGTH = "body (Content-Length)"
    CHUNK_SIZE = "chunk size"
    CHUNK_DATA = "chunk data"
    CHUNK_END = "CRLF after chunk data"
    TRAILERS = "trailers"
    BODY_UNTIL_CLOSE = "body (until close)"
    DONE = "done"
    ERROR = "error"


# RFC 9110 section 5.6.2: token = 1*tchar
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# RFC 9110 section 5.5: field-value chars (VCHAR, obs-text, SP, HTAB).
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?\Z", re.DOTALL)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}\Z")
_DIGITS = re.compile(rb"[0-9]{1,18}\Z")


def isToken(value: bytes) -> bool:
    """Whether ``value`` is an RFC 9110 token (a method or field name)."""
    return _TOKEN.match(value) is not None


class ResponseParser:
    """
    Parse one HTTP/1.x response to a request with method ``method``.

    Args:
        method: the request's method; after ``HEAD`` the response has no
            body, and a 2xx answer to ``CONNECT`` ends at its header section
            (what follows is the tunnel: see :attr:`leftover`).
        maxLineLength: longest status, header or trailer line.
        maxHeaderCount: most fields in the header (or trailer) section.
        maxHeaderBytes: most bytes in the header (or trailer) section.
        maxChunkLineLength: longest chunk-size line.
        maxInformational: most 1xx responses skipped.
    """

    def __init__(
        self,
        method: bytes,
        *,
        maxLineLength: int = DEFAULT_MAX_LINE_LENGTH,
        maxHeaderCount: int = DEFAULT_MAX_HEADER_COUNT,
        maxHeaderBytes: int = DEFAULT_MAX_HEADER_BYTES,
        maxChunkLineLength: int = DEFAULT_MAX_CHUNK_LINE_LENGTH,
        maxInformational: int = DEFAULT_MAX_INFORMATIONAL,
    ) -> None:
        self._method = method.upper()
        self._maxLine = maxLineLength
        self._maxCount = maxHeaderCount
        self._maxBytes = maxHeaderBytes
        self._maxChunkLine = maxChunkLineLength
        self._maxInformational = maxInformational
        self._state = _State.STATUS_LINE
        self._buffer = bytearray()
        self._scanned = 0
        self._fields: list[tuple[bytes, bytes]] = []
        self._sectionBytes = 0
        self._status: tuple[tuple[bytes, int, int], int, bytes] | None = None
        self._remaining = 0
        self._persistent = False
        self._informational = 0
        #: Bytes received after the response ended (a tunnel's first bytes
        #: after a CONNECT, or junk a server sent unasked).
        self.leftover = b""

    @property
    def done(self) -> bool:
        """Whether the response has ended."""
        return self._state is _State.DONE

    @property
    def state(self) -> str:
        """Where the parser is, for error messages."""
        return self._state.value

    def feed(self, data: bytes) -> list[Event]:
        """
        Parse ``data`` (any part of the response) and return the events it
        completes.

        Raises:
            ResponseParseError: the response is malformed or breaks a limit.
        """
        if self._state is _State.ERROR:
            raise ResponseParseError("the parser already failed")
        if self._state is _State.DONE:
            self.leftover += data
            return []
        self._buffer += data
        events: list[Event] = []
        try:
            while self._step(events):
                pass
        except ResponseParseError:
            self._state = _State.ERROR
            self._buffer.clear()
            raise
        return events

    def feedEOF(self) -> list[Event]:
        """
        The server closed the connection: return the final events.

        Raises:
            ResponseParseError: the response was cut short.
        """
        if self._state is _State.BODY_UNTIL_CLOSE:
            self._state = _State.DONE
            return [ResponseEnd((), False, True)]
        if self._state is _State.DONE:
            return []
        state = self._state
        self._state = _State.ERROR
        if state is _State.STATUS_LINE and not self._buffer and self._status is None:
            raise ResponseParseError("connection closed before any response")
        raise ResponseParseError(f"connection closed in the {state.value}")

    # -- the machine -----------------------------------------------------------------

    def _line(self, limit: int) -> bytes | None:
        """Take one CRLF- (or bare LF-) terminated line from the buffer."""
        # Search only the bytes not searched before: a line arriving a byte
        # at a time costs linear time, not quadratic.
        end = self._buffer.find(b"\n", self._scanned)
        if end < 0:
            self._scanned = len(self._buffer)
            if len(self._buffer) > limit:
                raise ResponseParseError(
                    f"{self._state.value} line longer than {limit} bytes",
                    bytes(self._buffer[:64]),
                )
            return None
        if end > limit:
            raise ResponseParseError(
                f"{self._state.value} line longer than {limit} bytes", bytes(self._buffer[:64])
            )
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        self._scanned = 0
        # RFC 9112 section 2.2: a recipient MAY accept a bare LF.
        if line.endswith(b"\r"):
            line = line[:-1]
        return line

    def _step(self, events: list[Event]) -> bool:
        state = self._state
        if state is _State.STATUS_LINE:
            line = self._line(self._maxLine)
            if line is None:
                return False
            self._statusLine(line)
            self._state = _State.HEADERS
            self._fields = []
            self._sectionBytes = 0
            return True
        if state is _State.HEADERS or state is _State.TRAILERS:
            line = self._line(self._maxLine)
            if line is None:
                return False
            if line:
                self._field(line)
                return True
            if state is _State.HEADERS:
                self._endHeaders(events)
            else:
                self._state = _State.DONE
                self._finish(events, ResponseEnd(tuple(self._fields), self._persistent))
            return True
        if state is _State.BODY_LENGTH:
            if not self._buffer:
                return False
            chunk = bytes(self._buffer[: self._remaining])
            del self._buffer[: len(chunk)]
            self._remaining -= len(chunk)
            events.append(BodyData(chunk))
            if self._remaining == 0:
                self._state = _State.DONE
                self._finish(events, ResponseEnd((), self._persistent))
            return True
        if state is _State.CHUNK_SIZE:
            line = self._line(self._maxChunkLine)
            if line is None:
                return False
            # RFC 9112 section 7.1: chunk-size [ chunk-ext ] CRLF
            size = line.split(b";", 1)[0].strip(b" \t")
            if not _HEX.match(size):
                raise ResponseParseError("bad chunk size", line)
            self._remaining = int(size, 16)
            if self._remaining == 0:
                self._state = _State.TRAILERS
                self._fields = []
                self._sectionBytes = 0
            else:
                self._state = _State.CHUNK_DATA
            return True
        if state is _State.CHUNK_DATA:
            if not self._buffer:
                return False
            chunk = bytes(self._buffer[: self._remaining])
            del self._buffer[: len(chunk)]
            self._remaining -= len(chunk)
            events.append(BodyData(chunk))
            if self._remaining == 0:
                self._state = _State.CHUNK_END
            return True
        if state is _State.CHUNK_END:
            line = self._line(2)
            if line is None:
                return False
            if line:
                raise ResponseParseError("chunk data longer than its size", line)
            self._state = _State.CHUNK_SIZE
            return True
        if state is _State.BODY_UNTIL_CLOSE:
            if not self._buffer:
                return False
            events.append(BodyData(bytes(self._buffer)))
            self._buffer.clear()
            return False
        # DONE: the rest is not part of this response.
        if self._buffer:
            self.leftover += bytes(self._buffer)
            self._buffer.clear()
        return False

    def _finish(self, events: list[Event], end: ResponseEnd) -> None:
        events.append(end)
        if self._buffer:
            self.leftover += bytes(self._buffer)
            self._buffer.clear()

    def _statusLine(self, line: bytes) -> None:
        match = _STATUS_LINE.match(line)
        if match is None:
            raise ResponseParseError("bad status line", line)
        major, minor, code, phrase = match.groups()
        if major != b"1":
            raise ResponseParseError("unsupported HTTP version", line)
        if _BAD_VALUE.search(phrase or b""):
            raise ResponseParseError("control character in the reason phrase", line)
        self._status = ((b"HTTP", int(major), int(minor)), int(code), phrase or b"")

    def _field(self, line: bytes) -> None:
        self._sectionBytes += len(line) + 2
        if self._sectionBytes > self._maxBytes:
            raise ResponseParseError(
                f"{self._state.value} section longer than {self._maxBytes} bytes"
            )
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 section 5.2: obsolete line folding; a user agent may
            # replace it with a space.
            if not self._fields:
                raise ResponseParseError("continuation line before any field", line)
            name, value = self._fields[-1]
            self._fields[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" \t"))
            return
        name, colon, value = line.partition(b":")
        if not colon or not isToken(name):
            raise ResponseParseError("bad header line", line)
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value):
            raise ResponseParseError("control character in a header value", line)
        if len(self._fields) >= self._maxCount:
            raise ResponseParseError(
                f"more than {self._maxCount} fields in the {self._state.value}"
            )
        self._fields.append((name, value))

    def _endHeaders(self, events: list[Event]) -> None:
        assert self._status is not None
        version, code, phrase = self._status
        fields = tuple(self._fields)
        if 100 <= code < 200:
            # RFC 9110 section 15.2: interim responses; 101 would switch
            # protocols, which this client never asks for.
            if code == 101:
                raise ResponseParseError("unrequested 101 Switching Protocols")
            self._informational += 1
            if self._informational > self._maxInformational:
                raise ResponseParseError(f"more than {self._maxInformational} 1xx responses")
            events.append(InformationalResponse(code, phrase, fields))
            self._state = _State.STATUS_LINE
            self._status = None
            return
        connection = {
            token.strip().lower()
            for name, value in fields
            if name.lower() == b"connection"
            for token in value.split(b",")
        }
        if version[1:] >= (1, 1):
            persistent = b"close" not in connection
        else:
            persistent = b"keep-alive" in connection and b"close" not in connection
        transferCodings = [
            token.strip().lower()
            for name, value in fields
            if name.lower() == b"transfer-encoding"
            for token in value.split(b",")
            if token.strip()
        ]
        lengths = [value for name, value in fields if name.lower() == b"content-length"]

        def head(length: int | None, keep: bool, closeDelimited: bool = False) -> ResponseHead:
            return ResponseHead(version, code, phrase, fields, length, keep, closeDelimited)

        # RFC 9112 section 6.3, in its order.
        if self._method == b"HEAD" or code in (204, 304):
            self._persistent = persistent
            events.append(head(0, persistent))
            self._state = _State.DONE
            self._finish(events, ResponseEnd((), persistent))
            return
        if self._method == b"CONNECT" and 200 <= code < 300:
            events.append(head(0, False))
            self._state = _State.DONE
            self._finish(events, ResponseEnd((), False))
            return
        if transferCodings:
            if lengths:
                # Both present: Transfer-Encoding wins, and the connection
                # must close after this response (RFC 9112 section 6.1).
                persistent = False
            if transferCodings[-1] == b"chunked":
                if transferCodings.count(b"chunked") > 1:
                    raise ResponseParseError("chunked applied more than once")
                self._persistent = persistent
                events.append(head(None, persistent))
                self._state = _State.CHUNK_SIZE
                return
            self._persistent = False
            events.append(head(None, False, True))
            self._state = _State.BODY_UNTIL_CLOSE
            return
        if lengths:
            values = {v.strip() for value in lengths for v in value.split(b",")}
            if len(values) != 1:
                raise ResponseParseError("conflicting Content-Length values", b", ".join(lengths))
            (value,) = values
            if not _DIGITS.match(value):
                raise ResponseParseError("bad Content-Length", value)
            length = int(value)
            self._persistent = persistent
            events.append(head(length, persistent))
            if length == 0:
                self._state = _State.DONE
                self._finish(events, ResponseEnd((), persistent))
            else:
                self._remaining = length
                self._state = _State.BODY_LENGTH
            return
        self._persistent = False
        events.append(head(None, False, True))
        self._state = _State.BODY_UNTIL_CLOSE


# -- requests -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestHead:
    """The request line and header section of one request."""

    method: bytes
    target: bytes
    headers: Sequence[tuple[bytes, bytes]] = field(default_factory=tuple)


def serializeRequestHead(head: RequestHead) -> bytes:
    """
    The bytes of ``head``'s request line and header section (RFC 9112
    sections 3 and 5), ending with the blank line.

    Raises:
        LocalProtocolError: the method, target or a header cannot be sent
            (it would let a caller inject another request or header).
    """
    if not isToken(head.method):
        raise LocalProtocolError(f"invalid method {head.method!r}")
    if not head.target or re.search(rb"[\x00-\x20\x7f]", head.target):
        raise LocalProtocolError(f"invalid request target {head.target!r}")
    out = [head.method, b" ", head.target, b" HTTP/1.1\r\n"]
    for name, value in head.headers:
        if not isToken(name):
            raise LocalProtocolError(f"invalid header name {name!r}")
        if _BAD_VALUE.search(value):
            raise LocalProtocolError(f"invalid header value {value!r} for {name!r}")
        out += [name, b": ", value, b"\r\n"]
    out.append(b"\r\n")
    return b"".join(out)


def chunk(data: bytes) -> bytes:
    """``data`` framed as one chunk of a chunked body (empty data gives nothing)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def lastChunk(trailers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """The last chunk of a chunked body, with optional trailer fields."""
    out = [b"0\r\n"]
    for name, value in trailers:
        if not isToken(name) or _BAD_VALUE.search(value):
            raise LocalProtocolError(f"invalid trailer {name!r}: {value!r}")
        out += [name, b": ", value, b"\r\n"]
    out.append(b"\r\n")
    return b"".join(out)
