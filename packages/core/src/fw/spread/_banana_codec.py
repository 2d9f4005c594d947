"""
Banana, the byte encoding under Perspective Broker, as a sans-IO codec.

Every element is a header and, for strings and floats, a body::

    element = prefix type [body]
    prefix  = digit*                ; base-128 digits, least significant first,
                                    ; each byte < 0x80 (at most 64 of them)
    type    = 0x80 LIST             ; prefix = number of elements that follow
            | 0x81 INT              ; prefix = the value (>= 0)
            | 0x82 STRING           ; prefix = length; body = the bytes
            | 0x83 NEG              ; prefix = minus the value
            | 0x84 FLOAT            ; no prefix; body = 8 bytes, IEEE double, big-endian
            | 0x85 LONGINT          ; prefix = the value (> 2**31 - 1)
            | 0x86 LONGNEG          ; prefix = minus the value (< -2**31)
            | 0x87 VOCAB            ; prefix = number of a word in the dialect's vocabulary

:func:`encode` turns a value into bytes; :class:`BananaDecoder` turns bytes,
split anywhere, into values.  Neither does any I/O.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "FLOAT",
    "INT",
    "LIST",
    "LONGINT",
    "LONGNEG",
    "NEG",
    "PB_VOCABULARY",
    "PREFIX_LIMIT",
    "SIZE_LIMIT",
    "STRING",
    "VOCAB",
    "BananaDecoder",
    "BananaError",
    "b1282int",
    "encode",
    "int2b128",
]

LIST: Final = b"\x80"
INT: Final = b"\x81"
STRING: Final = b"\x82"
NEG: Final = b"\x83"
FLOAT: Final = b"\x84"
LONGINT: Final = b"\x85"
LONGNEG: Final = b"\x86"
VOCAB: Final = b"\x87"

HIGH_BIT_SET: Final = b"\x80"

#: The longest string, and the longest list, either side accepts (640 KiB,
#: Twisted's limit: a peer sending more is cut off by a Twisted peer too).
SIZE_LIMIT: Final = 640 * 1024

#: The most base-128 digits a header may have (Twisted's limit): 64 digits
#: hold any integer below 2**448.
PREFIX_LIMIT: Final = 64

#: How deeply lists may nest, by default.  Twisted does not limit nesting;
#: PB's own messages use five levels, and a jellied value about two per
#: container, so 200 admits data nested a hundred containers deep while
#: keeping decoding, and the recursion of unjellying, bounded.
DEFAULT_MAX_DEPTH: Final = 200

_INT_LIMIT: Final = 2**31
# The largest magnitude PREFIX_LIMIT digits can carry.
_LONG_LIMIT: Final = 128**PREFIX_LIMIT - 1

#: The words of the "pb" dialect: a word's number goes on the wire, as a
#: VOCAB element, instead of the word itself.
PB_VOCABULARY: Final[Mapping[bytes, int]] = {
    word: number
    for number, word in enumerate(
        [
            # jelly's types
            b"None",
            b"class",
            b"dereference",
            b"reference",
            b"dictionary",
            b"function",
            b"instance",
            b"list",
            b"module",
            b"persistent",
            b"tuple",
            b"unpersistable",
            # PB's types
            b"copy",
            b"cache",
            b"cached",
            b"remote",
            b"local",
            b"lcache",
            # PB's messages
            b"version",
            b"login",
            b"password",
            b"challenge",
            b"logged_in",
            b"not_logged_in",
            b"cachemessage",
            b"message",
            b"answer",
            b"error",
            b"decref",
            b"decache",
            b"uncache",
        ],
        start=1,
    )
}


class BananaError(Exception):
    """
    Data that Banana cannot encode, or bytes from a peer that break its rules
    (an unknown type byte, an over-long header, string or list, nesting past
    the limit).  A :class:`~fw.spread.banana.Banana` connection receiving
    such bytes is closed.
    """


def int2b128(integer: int, stream: Any) -> None:
    """
    Write ``integer`` (at least 0) as base-128 digits, least significant
    first, by calling ``stream`` with each chunk of bytes.
    """
    stream(_digits(integer))


def b1282int(st: bytes) -> int:
    """Return the integer the base-128 digits ``st`` stand for."""
    value = 0
    for place, digit in enumerate(st):
        value |= digit << (7 * place)
    return value


def _digits(integer: int) -> bytes:
    if integer == 0:
        return b"\x00"
    out = bytearray()
    while integer:
        out.append(integer & 0x7F)
        integer >>= 7
    return bytes(out)


_pack_double = struct.Struct("!d").pack
_unpack_double = struct.Struct("!d").unpack


def encode(
    obj: object,
    vocabulary: Mapping[bytes, int] | None = None,
    *,
    sizeLimit: int = SIZE_LIMIT,
    maxDepth: int = DEFAULT_MAX_DEPTH,
) -> bytes:
    """
    Return ``obj`` in Banana's encoding.

    Args:
        obj: ``bytes``, ``int``, ``float``, or a list or tuple of those
            (nested).
        vocabulary: the dialect's words: ``bytes`` equal to one of them are
            sent as its number.
        sizeLimit: the longest string or list to send (the peer refuses
            longer ones).
        maxDepth: how deeply lists may nest.

    Raises:
        BananaError: ``obj`` contains something Banana cannot carry: a
            ``str``, an integer of 2**448 or more in size, a string or list
            longer than ``sizeLimit``, nesting deeper than ``maxDepth``.
    """
    out: list[bytes] = []
    _encodeInto(obj, out, vocabulary or {}, sizeLimit, maxDepth, 0)
    return b"".join(out)


def _encodeInto(
    obj: object,
    out: list[bytes],
    vocabulary: Mapping[bytes, int],
    sizeLimit: int,
    maxDepth: int,
    depth: int,
) -> None:
    kind = type(obj)
    if kind is list or kind is tuple:
        items: list[Any] | tuple[Any, ...] = obj  # type: ignore[assignment]
        if depth >= maxDepth:
            raise BananaError(f"lists nested more than {maxDepth} deep cannot be sent")
        if len(items) > sizeLimit:
            raise BananaError(f"a list of {len(items)} elements is too long to send")
        out.append(_digits(len(items)) + LIST)
        for item in items:
            _encodeInto(item, out, vocabulary, sizeLimit, maxDepth, depth + 1)
    elif kind is bytes:
        data: bytes = obj  # type: ignore[assignment]
        number = vocabulary.get(data)
        if number is not None:
            out.append(_digits(number) + VOCAB)
            return
        if len(data) > sizeLimit:
            raise BananaError(f"a string of {len(data)} bytes is too long to send")
        out.append(_digits(len(data)) + STRING)
        out.append(data)
    elif isinstance(obj, int):
        value = int(obj)
        if 0 <= value < _INT_LIMIT:
            out.append(_digits(value) + INT)
        elif -_INT_LIMIT <= value < 0:
            out.append(_digits(-value) + NEG)
        elif _INT_LIMIT <= value <= _LONG_LIMIT:
            out.append(_digits(value) + LONGINT)
        elif -_LONG_LIMIT <= value < -_INT_LIMIT:
            out.append(_digits(-value) + LONGNEG)
        else:
            raise BananaError(f"an integer of {value.bit_length()} bits is too large to send")
    elif kind is float:
        out.append(FLOAT + _pack_double(obj))
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _encodeInto(bytes(obj), out, vocabulary, sizeLimit, maxDepth, depth)
    elif isinstance(obj, (list, tuple)):
        _encodeInto(list(obj), out, vocabulary, sizeLimit, maxDepth, depth)
    elif isinstance(obj, float):
        _encodeInto(float(obj), out, vocabulary, sizeLimit, maxDepth, depth)
    else:
        raise BananaError(f"Banana cannot send {type(obj).__qualname__} objects: {obj!r:.100}")


# A header ends at its first byte with the high bit set.
_TYPE_BYTE = re.compile(b"[\x80-\xff]")


class _Need:
    """The decoder needs more bytes before it can return another value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`BananaDecoder.nextExpression` when the bytes so far
#: hold no complete expression.
NEED_DATA: Final = _Need()


class BananaDecoder:
    """
    Turns bytes, split anywhere, into Banana expressions.

    Feed bytes with :meth:`receiveData`, then call :meth:`nextExpression`
    until it returns :data:`NEED_DATA`.  Each expression is an ``int``,
    ``float``, ``bytes`` or a (nested) ``list``.  Once a :class:`BananaError`
    has been raised the decoder stays broken: every later call raises it
    again.

    Memory is bounded: a header is at most ``prefixLimit`` bytes, a string
    or list at most ``sizeLimit`` long, lists nest at most ``maxDepth``
    deep; the decoder buffers one string at most plus what it has decoded
    of the current expression.

    Args:
        vocabulary: the dialect's words by number, for VOCAB elements (none
            for the "none" dialect: VOCAB elements are then an error).
        sizeLimit: the longest string or list accepted.
        prefixLimit: the longest header accepted, in bytes.
        maxDepth: how deeply lists may nest.
    """

    def __init__(
        self,
        vocabulary: Mapping[int, bytes] | None = None,
        *,
        sizeLimit: int = SIZE_LIMIT,
        prefixLimit: int = PREFIX_LIMIT,
        maxDepth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.vocabulary: Mapping[int, bytes] = vocabulary or {}
        self.sizeLimit = sizeLimit
        self.prefixLimit = prefixLimit
        self.maxDepth = maxDepth
        self._buffer = bytearray()
        # The lists being filled, innermost last, each with how many more
        # elements it takes.
        self._stack: list[tuple[list[Any], int]] = []
        self._error: BananaError | None = None

    def receiveData(self, data: bytes) -> None:
        """Add ``data`` to the bytes waiting to be decoded (dropped once broken)."""
        if self._error is None:
            self._buffer += data

    @property
    def pending(self) -> int:
        """How many received bytes are not yet part of a returned expression."""
        return len(self._buffer)

    def nextExpression(self) -> Any:
        """
        Return the next complete expression, or :data:`NEED_DATA`.

        Raises:
            BananaError: the bytes break Banana's rules or its limits.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except BananaError as e:
            self._error = e
            self._buffer.clear()
            self._stack.clear()
            raise

    def _fail(self, message: str) -> BananaError:
        return BananaError(message)

    def _next(self) -> Any:
        buffer = self._buffer
        stack = self._stack
        pos = 0
        try:
            while True:
                match = _TYPE_BYTE.search(buffer, pos, pos + self.prefixLimit + 1)
                if match is None:
                    if len(buffer) - pos > self.prefixLimit:
                        raise self._fail(
                            f"Security precaution: longer than {self.prefixLimit} bytes "
                            "worth of prefix"
                        )
                    return NEED_DATA
                typeAt = match.start()
                typeByte = buffer[typeAt]
                header = buffer[pos:typeAt]
                number = 0
                for place, digit in enumerate(header):
                    number |= digit << (7 * place)
                start = typeAt + 1
                value: Any
                if typeByte == 0x80:  # LIST
                    if number > self.sizeLimit:
                        raise self._fail(
                            f"Security precaution: list of {number} elements is too long"
                        )
                    if len(stack) >= self.maxDepth:
                        raise self._fail(
                            f"Security precaution: lists nested more than {self.maxDepth} deep"
                        )
                    pos = start
                    if number:
                        stack.append(([], number))
                        continue
                    value = []
                elif typeByte == 0x81 or typeByte == 0x85:  # INT, LONGINT
                    value = number
                    pos = start
                elif typeByte == 0x83 or typeByte == 0x86:  # NEG, LONGNEG
                    value = -number
                    pos = start
                elif typeByte == 0x82:  # STRING
                    if number > self.sizeLimit:
                        raise self._fail(
                            f"Security precaution: string of {number} bytes is too long"
                        )
                    end = start + number
                    if len(buffer) < end:
                        return NEED_DATA
                    value = bytes(buffer[start:end])
                    pos = end
                elif typeByte == 0x84:  # FLOAT
                    if header:
                        raise self._fail("a float element must not have a prefix")
                    end = start + 8
                    if len(buffer) < end:
                        return NEED_DATA
                    (value,) = _unpack_double(buffer[start:end])
                    pos = end
                elif typeByte == 0x87:  # VOCAB
                    word = self.vocabulary.get(number)
                    if word is None:
                        raise self._fail(f"unknown vocabulary word number {number}")
                    value = word
                    pos = start
                else:
                    raise self._fail(f"invalid type byte 0x{typeByte:02x}")
                # A complete value: it ends the lists it completes.
                while stack:
                    items, remaining = stack[-1]
                    items.append(value)
                    remaining -= 1
                    if remaining:
                        stack[-1] = (items, remaining)
                        break
                    stack.pop()
                    value = items
                else:
                    return value
        finally:
            # Everything before pos is decoded (into the stack or the result).
            if pos:
                del buffer[:pos]
