"""
Sans-IO framers: byte streams in, lines and length-prefixed strings out.

Nothing here knows about transports, reactors or clocks.  Each framer is fed
bytes with ``feed`` and hands back complete frames one at a time; the
protocol classes in :mod:`fw.protocols.basic` are thin adapters over them.

All three keep their work linear in the bytes received, however the stream
is cut: a chunk carrying thousands of lines is split once, a long frame
arriving in many small pieces is joined once, and bytes already searched are
not searched again.
"""

from __future__ import annotations

import struct
from typing import ClassVar

__all__ = [
    "FramingError",
    "LengthLimitError",
    "LineFramer",
    "LineTooLongError",
    "NetstringFramer",
    "NetstringParseError",
    "PrefixedStringFramer",
    "StringTooLongError",
]


class FramingError(Exception):
    """The peer broke the framing: the connection cannot go on."""


class LineTooLongError(FramingError):
    """
    A line, or the unterminated data waiting to become one, is longer than
    the limit.

    Attributes:
        data: the offending line, or the unterminated data.
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(f"line too long: {len(data)} bytes")
        self.data = data


class NetstringParseError(FramingError, ValueError):
    """The peer sent something that is not a valid netstring."""


class LengthLimitError(FramingError):
    """
    A length prefix announced a string longer than the limit.

    Attributes:
        length: the announced length.
    """

    def __init__(self, length: int) -> None:
        super().__init__(f"announced length {length} is over the limit")
        self.length = length


class StringTooLongError(AssertionError):
    """
    Local misuse: a string too long for its length prefix was given to
    ``sendString``.
    """


# -- lines -------------------------------------------------------------------


class LineFramer:
    """
    Splits a byte stream into lines ended by ``delimiter``.

    Complete lines are split off in one pass per :meth:`feed` and kept until
    :meth:`nextLine` takes them; the unterminated tail is kept in pieces and
    joined only once a delimiter arrives, so a long line trickling in byte by
    byte costs linear time.

    Args:
        delimiter: the line terminator (any non-empty bytes).
        maxLength: the longest line accepted, without its delimiter.
    """

    __slots__ = ("_edge", "_lines", "_parts", "_partsLength", "_splitWith", "maxLength")

    def __init__(self, delimiter: bytes = b"\r\n", maxLength: int = 16384) -> None:
        if not delimiter:
            raise ValueError("the delimiter must not be empty")
        self.maxLength = maxLength
        # Complete lines, the next one last (so that list.pop() takes it).
        self._lines: list[bytes] = []
        # The delimiter that _lines and _parts were split with.
        self._splitWith = delimiter
        # The unterminated tail, in pieces none of which holds a delimiter.
        self._parts: list[bytes] = []
        self._partsLength = 0
        # The tail's last len(delimiter) - 1 bytes: a delimiter may straddle
        # the end of the tail and the start of the next piece.
        self._edge = b""

    @property
    def delimiter(self) -> bytes:
        """The line terminator; setting it re-splits what is buffered."""
        return self._splitWith

    @delimiter.setter
    def delimiter(self, value: bytes) -> None:
        if not value:
            raise ValueError("the delimiter must not be empty")
        if value == self._splitWith:
            return
        rest = self.takeRest()
        self._splitWith = value
        self.feed(rest)

    def __len__(self) -> int:
        """The number of bytes buffered, complete lines and tail together."""
        d = len(self._splitWith)
        return sum(len(line) + d for line in self._lines) + self._partsLength

    def feed(self, data: bytes) -> None:
        """Add received bytes; complete lines become available to :meth:`nextLine`."""
        if not data:
            return
        delim = self._splitWith
        d = len(delim)
        parts = self._parts
        if parts:
            if delim not in data and (d == 1 or delim not in self._edge + data[: d - 1]):
                parts.append(data)
                self._partsLength += len(data)
                if d > 1:
                    self._edge = (self._edge + data)[1 - d :] if len(data) < d else data[1 - d :]
                return
            data = b"".join(parts) + data
            parts.clear()
            self._partsLength = 0
            self._edge = b""
        elif delim not in data:
            parts.append(data)
            self._partsLength = len(data)
            if d > 1:
                self._edge = data[1 - d :]
            return
        found = data.split(delim)
        tail = found.pop()
        if tail:
            parts.append(tail)
            self._partsLength = len(tail)
            if d > 1:
                self._edge = tail[1 - d :]
        found.reverse()
        lines = self._lines
        if lines:
            # Lines still waiting (the consumer paused): the new ones go after them.
            found.extend(lines)
            lines[:] = found
        else:
            lines[:] = found

    def nextLine(self) -> bytes | None:
        """
        Take the next complete line, without its delimiter, or ``None`` when
        there is none yet.

        Raises:
            LineTooLongError: the next line is longer than :attr:`maxLength`
                (its ``data`` is the line), or there is no complete line and
                the tail is too long to become one.  The buffer is left as it
                was; call :meth:`takeRest` to drop it.
        """
        lines = self._lines
        if lines:
            if len(lines[-1]) > self.maxLength:
                raise LineTooLongError(lines[-1])
            return lines.pop()
        if self._partsLength >= self.maxLength + len(self._splitWith):
            raise LineTooLongError(b"".join(self._parts))
        return None

    def takeLines(self) -> list[bytes]:
        """Take all complete lines at once, in order, unchecked against :attr:`maxLength`."""
        lines = self._lines
        lines.reverse()
        taken = lines[:]
        lines.clear()
        return taken

    def tail(self) -> bytes:
        """The unterminated data after the last complete line (left in place)."""
        parts = self._parts
        if len(parts) > 1:
            joined = b"".join(parts)
            parts[:] = [joined]
        return parts[0] if parts else b""

    def tailLength(self) -> int:
        """The length of :meth:`tail`."""
        return self._partsLength

    def takeRest(self) -> bytes:
        """Take everything buffered, complete lines (with delimiters) and tail."""
        lines = self._lines
        delim = self._splitWith
        if lines:
            lines.reverse()
            lines.append(b"")
            rest = delim.join(lines) + b"".join(self._parts)
            lines.clear()
        else:
            rest = b"".join(self._parts)
        self._parts.clear()
        self._partsLength = 0
        self._edge = b""
        return rest


# -- length-prefixed strings -------------------------------------------------


class _Chunks:
    """
    A buffer that appends without copying and joins only what a frame needs.

    ``_buf[_pos:]`` is the data being parsed; ``_more`` holds later pieces
    not yet joined to it.
    """

    __slots__ = ("_buf", "_more", "_moreLength", "_pos")

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0
        self._more: list[bytes] = []
        self._moreLength = 0

    def __len__(self) -> int:
        return len(self._buf) - self._pos + self._moreLength

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if self._pos >= len(self._buf) and not self._more:
            self._buf = data
            self._pos = 0
        else:
            self._more.append(data)
            self._moreLength += len(data)

    def _gather(self, needed: int) -> bool:
        # Make _buf[_pos:] hold at least ``needed`` bytes, if that many are
        # buffered: join the pending pieces (each byte is joined O(1) times).
        if len(self) < needed:
            return False
        self._more.insert(0, self._buf[self._pos :])
        self._buf = b"".join(self._more)
        self._pos = 0
        self._more.clear()
        self._moreLength = 0
        return True

    def takeAll(self) -> bytes:
        self._gather(0)
        rest = self._buf
        self._buf = b""
        self._pos = 0
        return rest


class PrefixedStringFramer:
    """
    Splits a stream of strings each preceded by a fixed-size unsigned
    big-endian length (the framing of ``Int8/16/32StringReceiver``).

    Args:
        prefixLength: the size of the length prefix: 1, 2 or 4 bytes.
        maxLength: the longest string accepted.
    """

    __slots__ = ("_chunks", "_unpack", "maxLength", "prefixLength")

    _FORMATS: ClassVar[dict[int, str]] = {1: "!B", 2: "!H", 4: "!I", 8: "!Q"}

    def __init__(self, prefixLength: int = 4, maxLength: int = 99999) -> None:
        if prefixLength not in self._FORMATS:
            raise ValueError(f"unsupported prefix length {prefixLength}")
        self.prefixLength = prefixLength
        self.maxLength = maxLength
        self._unpack = struct.Struct(self._FORMATS[prefixLength]).unpack_from
        self._chunks = _Chunks()

    def __len__(self) -> int:
        """The number of bytes buffered."""
        return len(self._chunks)

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._chunks.feed(data)

    def nextString(self) -> bytes | None:
        """
        Take the next complete string, or ``None`` when there is none yet.

        Raises:
            LengthLimitError: the next prefix announces more than
                :attr:`maxLength` bytes; the buffer is left as it was.
        """
        c = self._chunks
        p = self.prefixLength
        if len(c._buf) - c._pos < p and not c._gather(p):
            return None
        (length,) = self._unpack(c._buf, c._pos)
        if length > self.maxLength:
            raise LengthLimitError(length)
        end = c._pos + p + length
        if end > len(c._buf):
            if not c._gather(p + length):
                return None
            end = p + length
        string = c._buf[end - length : end]
        c._pos = end
        return string

    def takeRest(self) -> bytes:
        """Take everything buffered and not yet returned."""
        return self._chunks.takeAll()

    def encode(self, string: bytes) -> bytes:
        """
        Frame ``string``.

        Raises:
            StringTooLongError: ``string`` does not fit the prefix.
        """
        if len(string) >= 1 << (8 * self.prefixLength):
            raise StringTooLongError(
                f"a {len(string)}-byte string does not fit a {self.prefixLength}-byte prefix"
            )
        return struct.pack(self._FORMATS[self.prefixLength], len(string)) + string


class NetstringFramer:
    """
    Splits a stream of netstrings (``<length>:<data>,``, D. J. Bernstein's
    format: the length in decimal ASCII without leading zeros).

    Args:
        maxLength: the longest string accepted.
    """

    __slots__ = ("_chunks", "_length", "maxLength")

    def __init__(self, maxLength: int = 99999) -> None:
        self.maxLength = maxLength
        self._chunks = _Chunks()
        # The length of the string being received, once its header is parsed.
        self._length = -1

    def __len__(self) -> int:
        """The number of bytes buffered (after any header already parsed)."""
        return len(self._chunks)

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._chunks.feed(data)

    def _parseHeader(self) -> bool:
        c = self._chunks
        digits = len(str(self.maxLength))
        if not c._gather(digits + 1):
            c._gather(len(c))
        buf, pos = c._buf, c._pos
        colon = buf.find(b":", pos, pos + digits + 1)
        header = buf[pos : pos + digits + 1] if colon < 0 else buf[pos:colon]
        if colon < 0:
            # Fail early on garbage, without waiting for a whole header.
            if not header.isdigit() and header:
                raise NetstringParseError(f"invalid netstring length {header[:20]!r}")
            if len(header) > digits:
                raise NetstringParseError(
                    f"netstring length has more than {digits} digits (limit {self.maxLength})"
                )
            if len(header) > 1 and header[:1] == b"0":
                raise NetstringParseError("netstring length with a leading zero")
            return False
        if not header.isdigit():
            raise NetstringParseError(f"invalid netstring length {header[:20]!r}")
        if len(header) > 1 and header[:1] == b"0":
            raise NetstringParseError("netstring length with a leading zero")
        length = int(header)
        if length > self.maxLength:
            raise NetstringParseError(
                f"netstring of {length} bytes is over the limit of {self.maxLength}"
            )
        c._pos = colon + 1
        self._length = length
        return True

    def nextString(self) -> bytes | None:
        """
        Take the next complete string, or ``None`` when there is none yet.

        Raises:
            NetstringParseError: the data is not a netstring, or announces
                more than :attr:`maxLength` bytes.
        """
        if self._length < 0 and not self._parseHeader():
            return None
        c = self._chunks
        length = self._length
        end = c._pos + length
        if end >= len(c._buf):
            if not c._gather(length + 1):
                return None
            end = length
        if c._buf[end] != 0x2C:  # b","
            raise NetstringParseError("netstring not followed by a comma")
        string = c._buf[c._pos : end]
        c._pos = end + 1
        self._length = -1
        return string

    def takeRest(self) -> bytes:
        """Take everything buffered and not yet returned (after a parsed header)."""
        self._length = -1
        return self._chunks.takeAll()

    @staticmethod
    def encode(string: bytes) -> bytes:
        """Frame ``string`` as a netstring."""
        return b"%d:%b," % (len(string), string)
