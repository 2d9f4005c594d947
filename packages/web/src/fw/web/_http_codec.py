"""
The sans-IO HTTP/1.1 server codec (RFC 9112): a request parser and response framing helpers.

:class:`RequestParser` is fed bytes with :meth:`RequestParser.feed` and
yields events with :meth:`RequestParser.nextEvent`; it never touches a
socket, a clock or a logger.  Event grammar for one request::

    RequestHead -> (BodyData* -> EndOfRequest)?

(a head with ``bodyLength == 0`` has no body events) after which the parser
pauses (``PAUSED``) until
:meth:`RequestParser.startNextRequest`, so pipelined requests are parsed
one at a time and answered in order.  A peer violating the protocol or a
limit gets a :class:`ParseError` event carrying the HTTP status to answer
with; the parser is then dead and the connection must be closed.
"""

from __future__ import annotations

import enum
import re
from typing import Final, NamedTuple

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "BodyData",
    "EndOfRequest",
    "ParseError",
    "RequestHead",
    "RequestParser",
]

# Defaults for every peer-controlled size; HTTPFactory exposes each of them.
#: Longest request line (method, target, version).  8 KiB is the common
#: server default (Apache's LimitRequestLine, nginx's large_client_header_buffers).
DEFAULT_MAX_REQUEST_LINE = 8190
#: Largest header section (and trailer section), in bytes: 16 KiB as Twisted.
DEFAULT_MAX_HEADER_SIZE = 16384
#: Most header fields in one request: 100 as Apache's LimitRequestFields.
DEFAULT_MAX_HEADERS = 100
#: Largest request body: 100 MiB; bigger uploads should raise it explicitly.
DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024
#: Longest chunk-size line (size and extensions).
_MAX_CHUNK_LINE = 1024
#: Most empty lines tolerated before a request line (RFC 9112 section 2.2).
_MAX_LEADING_EMPTY = 8


class _Marker(enum.Enum):
    NEED_DATA = "NEED_DATA"
    PAUSED = "PAUSED"


#: :meth:`RequestParser.nextEvent` result: more bytes are needed.
NEED_DATA: Final = _Marker.NEED_DATA
#: :meth:`RequestParser.nextEvent` result: a request ended; call ``startNextRequest``.
PAUSED: Final = _Marker.PAUSED


class RequestHead(NamedTuple):
    """
    A request line and header section.

    Events are immutable named tuples: they are made on every request, and a
    tuple is the cheapest immutable value Python builds.

    ``bodyLength`` is the Content-Length, ``None`` for a chunked body, 0 for none.
    ``fields`` maps lower-cased names to values in arrival order.
    """

    method: bytes
    target: bytes
    version: bytes
    fields: dict[bytes, list[bytes]]
    keepAlive: bool
    expectContinue: bool
    bodyLength: int | None


class BodyData(NamedTuple):
    """A piece of the request body (chunked framing already removed)."""

    data: bytes


class EndOfRequest(NamedTuple):
    """The request body is complete; ``trailers`` holds trailer fields (lower-cased)."""

    trailers: dict[bytes, list[bytes]]


class ParseError(NamedTuple):
    """
    The peer violated HTTP/1.1 or a limit: answer ``status`` and close the connection.

    ``reason`` is a short, safe-to-show explanation.
    """

    status: int
    reason: str


_END_OF_BODY = EndOfRequest({})
_newTuple = tuple.__new__

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(_TOKEN + rb" ([^\x00-\x20\x7f]+) HTTP/([0-9])\.([0-9])")
# Every header line: token ":" then field content (HTAB, SP, VCHAR, obs-text),
# ending in CRLF.  This one match rejects obs-fold (RFC 9112 section 5.2),
# whitespace before the colon (section 5.1), bare CR or LF and NUL/CTLs.
_FIELD_LINES = re.compile(rb"(?:" + _TOKEN + rb":[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*")
# The common case in one match: a whole HTTP/1.x head, request line to the
# empty line.  Anything it does not match (an incomplete head, leading empty
# lines, another version, garbage) takes the step-by-step path, which finds
# the right error.
_WHOLE_HEAD = re.compile(
    rb"(" + _TOKEN + rb") ([^\x00-\x20\x7f]+) HTTP/1\.([0-9])\r\n"
    rb"((?:" + _TOKEN + rb":[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*)\r\n"
)
_DIGITS = re.compile(rb"[0-9]+")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?")


def _splitFields(block: bytes, maxHeaders: int) -> dict[bytes, list[bytes]] | None:
    """
    Split a validated header block (``name:value\\r\\n`` lines) into lower-cased
    names and their values in order; ``None`` if it has more than ``maxHeaders`` lines.
    """
    lines = block.split(b"\r\n")
    lines.pop()  # the empty string after the last CRLF
    if len(lines) > maxHeaders:
        return None
    fields: dict[bytes, list[bytes]] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.lower()
        value = value.strip(b" \t")
        existing = fields.get(name)
        if existing is None:
            fields[name] = [value]
        else:
            existing.append(value)
    return fields


class _State(enum.Enum):
    HEAD = enum.auto()
    BODY = enum.auto()
    CHUNK_SIZE = enum.auto()
    CHUNK_DATA = enum.auto()
    CHUNK_END = enum.auto()
    TRAILERS = enum.auto()
    DONE = enum.auto()
    ERROR = enum.auto()


_HEAD = _State.HEAD


class RequestParser:
    """
    Parses HTTP/1.1 requests from bytes.

    Args:
        maxRequestLine: Longest request line; longer answers 414.
        maxHeaderSize: Largest header (or trailer) section; larger answers 431.
        maxHeaders: Most header fields; more answers 431.
        maxBodySize: Largest body; larger answers 413.
    """

    __slots__ = (
        "_bodySeen",
        "_buffer",
        "_leading",
        "_remaining",
        "_scanned",
        "_state",
        "maxBodySize",
        "maxHeaderSize",
        "maxHeaders",
        "maxRequestLine",
    )

    def __init__(
        self,
        maxRequestLine: int = DEFAULT_MAX_REQUEST_LINE,
        maxHeaderSize: int = DEFAULT_MAX_HEADER_SIZE,
        maxHeaders: int = DEFAULT_MAX_HEADERS,
        maxBodySize: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self._buffer = b""
        self._scanned = 0
        self._leading = 0
        self._remaining = 0
        self._bodySeen = 0
        self._state = _HEAD
        self.maxRequestLine = maxRequestLine
        self.maxHeaderSize = maxHeaderSize
        self.maxHeaders = maxHeaders
        self.maxBodySize = maxBodySize

    @property
    def buffered(self) -> int:
        """Bytes received and not yet turned into events."""
        return len(self._buffer)

    @property
    def idle(self) -> bool:
        """Whether the parser waits for a new request with nothing buffered."""
        return self._state is _HEAD and not self._buffer

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        if self._buffer:
            self._buffer += data
        else:
            self._buffer = data

    def startNextRequest(self) -> None:
        """Allow parsing the next (pipelined) request after ``EndOfRequest``."""
        if self._state is _State.DONE:
            self._state = _HEAD

    def nextEvent(self) -> RequestHead | BodyData | EndOfRequest | ParseError | _Marker:
        """Return the next event, ``NEED_DATA`` or ``PAUSED``."""
        state = self._state
        if state is _HEAD:
            return self._parseHead()
        if state is _State.BODY:
            return self._parseBody()
        if state is _State.DONE:
            return PAUSED
        if state is _State.ERROR:
            return NEED_DATA
        return self._parseChunked()

    def _error(self, status: int, reason: str) -> ParseError:
        self._state = _State.ERROR
        self._buffer = b""
        return ParseError(status, reason)

    def _parseHead(self) -> RequestHead | ParseError | _Marker:
        buf = self._buffer
        if not buf:
            return NEED_DATA
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return self._incompleteHead(buf)
        match = _WHOLE_HEAD.fullmatch(buf, 0, end + 4)
        if match is None:
            return self._parseHeadStepwise(buf, end)
        blockStart, blockEnd = match.span(4)
        if blockStart - 2 > self.maxRequestLine:
            return self._error(414, "Request line too long")
        if blockEnd - blockStart > self.maxHeaderSize:
            return self._error(431, "Header section too large")
        self._buffer = buf[end + 4 :]
        self._scanned = 0
        self._leading = 0
        method, target, minor, block = match.groups()
        fields = _splitFields(block, self.maxHeaders) if block else {}
        if fields is None:
            return self._error(431, "Too many header fields")
        http11 = minor != b"0"
        return self._frame(method, target, b"HTTP/1.1" if http11 else b"HTTP/1.0", http11, fields)

    def _parseHeadStepwise(self, buf: bytes, end: int) -> RequestHead | ParseError | _Marker:
        # A complete head (ending at ``end``) that is not a plain HTTP/1.x
        # one: find what is wrong with it, or skip empty lines before it.
        if buf[:2] == b"\r\n":
            return self._skipEmptyLines(buf)
        lineEnd = buf.find(b"\r\n")
        if lineEnd > self.maxRequestLine:
            return self._error(414, "Request line too long")
        if end - lineEnd > self.maxHeaderSize:
            return self._error(431, "Header section too large")
        match = _REQUEST_LINE.fullmatch(buf, 0, lineEnd)
        if match is None:
            return self._error(400, "Malformed request line")
        if lineEnd == end:
            block = b""
        else:
            block = buf[lineEnd + 2 : end + 2]
            if _FIELD_LINES.fullmatch(block) is None:
                return self._error(400, "Malformed header field")
        self._buffer = buf[end + 4 :]
        self._scanned = 0
        self._leading = 0
        major = match.group(2)
        if major != b"1":
            return self._error(505, "HTTP version not supported")
        minor = match.group(3)
        method = buf[: match.start(1) - 1]
        target = match.group(1)
        fields = _splitFields(block, self.maxHeaders) if block else {}
        if fields is None:
            return self._error(431, "Too many header fields")
        http11 = minor != b"0"
        return self._frame(method, target, b"HTTP/1.1" if http11 else b"HTTP/1.0", http11, fields)

    def _skipEmptyLines(self, buf: bytes) -> RequestHead | ParseError | _Marker:
        # RFC 9112 section 2.2: ignore (a few) empty lines before a request line.
        while buf[:2] == b"\r\n":
            buf = buf[2:]
            self._leading += 1
            if self._leading > _MAX_LEADING_EMPTY:
                return self._error(400, "Too many empty lines")
        self._buffer = buf
        self._scanned = 0
        return self._parseHead()

    def _incompleteHead(self, buf: bytes) -> RequestHead | ParseError | _Marker:
        if buf[:2] == b"\r\n":
            return self._skipEmptyLines(buf)
        # Bounds on an incomplete head allow one byte more than the limits: a
        # final CR may start the CRLF that ends the line (or the section).
        lineEnd = buf.find(b"\r\n")
        if lineEnd < 0:
            if len(buf) > self.maxRequestLine + 1:
                return self._error(414, "Request line too long")
        elif lineEnd > self.maxRequestLine:
            return self._error(414, "Request line too long")
        elif len(buf) - lineEnd > self.maxHeaderSize + 3:
            return self._error(431, "Header section too large")
        # Reject garbage early rather than waiting for a header section;
        # scan only what is new, so byte-at-a-time input stays linear.
        start = max(self._scanned - 1, 0)
        if start and buf[start - 1 : start + 1] == b"\r\n":
            start += 1
        segment = buf[start:]
        if b"\x00" in segment or b"\n" in segment.replace(b"\r\n", b""):
            return self._error(400, "Malformed request")
        self._scanned = len(buf)
        return NEED_DATA

    def _frame(
        self,
        method: bytes,
        target: bytes,
        version: bytes,
        http11: bool,
        fields: dict[bytes, list[bytes]],
    ) -> RequestHead | ParseError:
        # Host: exactly one on HTTP/1.1 (RFC 9112 section 3.2).
        hosts = fields.get(b"host")
        if hosts is None:
            if http11:
                return self._error(400, "Missing Host header")
        elif len(hosts) > 1:
            return self._error(400, "Multiple Host headers")
        connection = fields.get(b"connection")
        if connection is None:
            keepAlive = http11
        else:
            tokens = {t.strip().lower() for v in connection for t in v.split(b",")}
            if b"close" in tokens:
                keepAlive = False
            else:
                keepAlive = http11 or b"keep-alive" in tokens
        expectContinue = False
        expect = fields.get(b"expect")
        if expect is not None:
            if len(expect) == 1 and expect[0].lower() == b"100-continue":
                expectContinue = http11
            else:
                return self._error(417, "Unsupported expectation")
        te = fields.get(b"transfer-encoding")
        cl = fields.get(b"content-length")
        length: int | None = 0
        if te is not None:
            # RFC 9112 section 6.1: both headers is a smuggling attempt; TE in
            # HTTP/1.0 means the framing cannot be trusted.
            if cl is not None:
                return self._error(400, "Both Content-Length and Transfer-Encoding")
            if not http11:
                return self._error(400, "Transfer-Encoding in HTTP/1.0")
            codings = [t.strip(b" \t").lower() for v in te for t in v.split(b",")]
            if codings != [b"chunked"]:
                # chunked must be last and only once (RFC 9112 section 6.1).
                if b"chunked" in codings[:-1] or not all(codings):
                    return self._error(400, "Malformed Transfer-Encoding")
                return self._error(501, "Unsupported transfer coding")
            length = None
            self._state = _State.CHUNK_SIZE
            self._bodySeen = 0
        elif cl is not None:
            values = {t.strip(b" \t") for v in cl for t in v.split(b",")}
            if len(values) != 1:
                return self._error(400, "Conflicting Content-Length")
            value = values.pop()
            if _DIGITS.fullmatch(value) is None or len(value) > 18:
                return self._error(400, "Malformed Content-Length")
            length = int(value)
            if length > self.maxBodySize:
                return self._error(413, "Request body too large")
            if length:
                self._state = _State.BODY
                self._remaining = length
            else:
                self._state = _State.DONE
        else:
            self._state = _State.DONE
        # tuple.__new__ directly: the generated RequestHead.__new__ is a Python
        # function, and this runs once per request.
        return _newTuple(
            RequestHead, (method, target, version, fields, keepAlive, expectContinue, length)
        )

    def _parseBody(self) -> BodyData | EndOfRequest | _Marker:
        buf = self._buffer
        if not buf:
            if self._remaining == 0:
                self._state = _State.DONE
                return _END_OF_BODY
            return NEED_DATA
        remaining = self._remaining
        if remaining == 0:
            self._state = _State.DONE
            return _END_OF_BODY
        if len(buf) <= remaining:
            self._buffer = b""
            self._remaining = remaining - len(buf)
            return BodyData(buf)
        self._buffer = buf[remaining:]
        self._remaining = 0
        return BodyData(buf[:remaining])

    def _parseChunked(self) -> BodyData | EndOfRequest | ParseError | _Marker:
        state = self._state
        buf = self._buffer
        if state is _State.CHUNK_SIZE:
            lineEnd = buf.find(b"\r\n")
            if lineEnd < 0:
                if len(buf) > _MAX_CHUNK_LINE:
                    return self._error(400, "Chunk size line too long")
                if b"\n" in buf:
                    return self._error(400, "Malformed chunk size")
                return NEED_DATA
            if lineEnd > _MAX_CHUNK_LINE:
                return self._error(400, "Chunk size line too long")
            match = _CHUNK_LINE.fullmatch(buf, 0, lineEnd)
            if match is None:
                return self._error(400, "Malformed chunk size")
            size = int(match.group(1), 16)
            self._buffer = buf[lineEnd + 2 :]
            if size == 0:
                self._state = _State.TRAILERS
                return self._parseChunked()
            self._bodySeen += size
            if self._bodySeen > self.maxBodySize:
                return self._error(413, "Request body too large")
            self._remaining = size
            self._state = _State.CHUNK_DATA
            return self._parseChunked()
        if state is _State.CHUNK_DATA:
            if not buf:
                return NEED_DATA
            remaining = self._remaining
            if len(buf) <= remaining:
                self._buffer = b""
                self._remaining = remaining - len(buf)
                if self._remaining == 0:
                    self._state = _State.CHUNK_END
                return BodyData(buf)
            self._buffer = buf[remaining:]
            self._remaining = 0
            self._state = _State.CHUNK_END
            return BodyData(buf[:remaining])
        if state is _State.CHUNK_END:
            if len(buf) < 2:
                if buf and buf != b"\r":
                    return self._error(400, "Missing CRLF after chunk data")
                return NEED_DATA
            if buf[:2] != b"\r\n":
                return self._error(400, "Missing CRLF after chunk data")
            self._buffer = buf[2:]
            self._state = _State.CHUNK_SIZE
            return self._parseChunked()
        # Trailer section: field lines then an empty line (RFC 9112 section 7.1.2).
        if buf[:2] == b"\r\n":
            self._buffer = buf[2:]
            self._state = _State.DONE
            return _END_OF_BODY
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self.maxHeaderSize:
                return self._error(431, "Trailer section too large")
            if len(buf) >= 2 and b"\n" in buf.replace(b"\r\n", b""):
                return self._error(400, "Malformed trailer field")
            return NEED_DATA
        if end > self.maxHeaderSize:
            return self._error(431, "Trailer section too large")
        block = buf[: end + 2]
        if _FIELD_LINES.fullmatch(block) is None:
            return self._error(400, "Malformed trailer field")
        lines = block.split(b"\r\n")
        lines.pop()
        if len(lines) > self.maxHeaders:
            return self._error(431, "Too many trailer fields")
        trailers: dict[bytes, list[bytes]] = {}
        for line in lines:
            name, _, value = line.partition(b":")
            trailers.setdefault(name.lower(), []).append(value.strip(b" \t"))
        self._buffer = buf[end + 4 :]
        self._state = _State.DONE
        return EndOfRequest(trailers)
