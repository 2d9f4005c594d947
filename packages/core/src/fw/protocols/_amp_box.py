"""
AMP's boxes and their wire format, sans-IO.

A box is a set of key/value pairs.  On the wire each pair is the key's length
(a 16-bit big-endian number), the key, the value's length (same), the value;
a key length of zero ends the box::

    box   = pair* 00 00
    pair  = len key len value      ; 1 <= len(key) <= 255, len(value) <= 65535

:class:`BoxParser` turns bytes, split anywhere, into :class:`AmpBox` values;
:meth:`AmpBox.serialize` turns a box into bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, Final, NoReturn

from fw.protocols._amp_errors import MAX_KEY_LENGTH, MAX_VALUE_LENGTH, MalformedAmpBox, TooLong

if TYPE_CHECKING:
    from fw.protocols._amp_interfaces import IBoxSender

__all__ = [
    "DEFAULT_MAX_BOX_LENGTH",
    "AmpBox",
    "Box",
    "BoxParser",
    "QuitBox",
    "parse",
    "parseString",
]

_pack16 = struct.Struct("!H").pack
_TERMINATOR: Final = b"\x00\x00"

#: The longest box :class:`BoxParser` accepts by default, in bytes on the wire.
#: AMP itself does not limit a box's size, only its keys' and values' (a value
#: is at most 64 KiB); this admits a box of 64 values of the largest size, far
#: more than any command's arguments, while bounding what one peer can make
#: this side buffer.
DEFAULT_MAX_BOX_LENGTH: Final = 64 * (2 + MAX_KEY_LENGTH + 2 + MAX_VALUE_LENGTH)


def _asKey(key: bytes | str) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8")
    return key


class AmpBox(dict[bytes, bytes]):
    """
    One AMP box: a dict of byte-string keys to byte-string values.

    Keys given as ``str`` (as keyword arguments are) are encoded to UTF-8;
    values must be ``bytes``.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kw: bytes) -> None:
        super().__init__()
        for key, value in dict(*args, **kw).items():
            self[_asKey(key)] = value

    def copy(self) -> AmpBox:
        """Return a shallow copy, of the same class."""
        new = type(self).__new__(type(self))
        dict.update(new, self)
        return new

    def serialize(self) -> bytes:
        """
        Return this box in AMP's wire format, keys in sorted order.

        Raises:
            TooLong: a key is longer than :data:`MAX_KEY_LENGTH` or a
                value longer than :data:`MAX_VALUE_LENGTH` bytes.
            TypeError: a key or a value is not ``bytes``.
        """
        return serializeBox(self)

    def _sendTo(self, proto: IBoxSender) -> None:
        """Send this box with ``proto``; subclasses do more after sending."""
        proto.sendBox(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


#: Another name of :class:`AmpBox`.
Box = AmpBox


class QuitBox(AmpBox):
    """A box that closes the connection once it has been sent."""

    __slots__ = ()

    def _sendTo(self, proto: IBoxSender) -> None:
        proto.sendBox(self)
        transport = getattr(proto, "transport", None)
        if transport is not None:
            transport.loseConnection()


def serializeBox(box: Mapping[bytes, bytes]) -> bytes:
    """Return ``box`` in AMP's wire format (see :meth:`AmpBox.serialize`)."""
    parts: list[bytes] = []
    append = parts.append
    for key in sorted(box):
        value = box[key]
        if type(key) is not bytes:
            raise TypeError(f"AMP keys must be bytes, not {type(key).__name__}: {key!r}")
        if type(value) is not bytes and not isinstance(value, bytes):
            raise TypeError(f"Unicode value for key {key!r} not allowed: {value!r}")
        keyLength = len(key)
        if keyLength > MAX_KEY_LENGTH or keyLength == 0:
            if keyLength == 0:
                raise MalformedAmpBox("an empty key cannot be sent: it would end the box")
            raise TooLong(True, True, key)
        valueLength = len(value)
        if valueLength > MAX_VALUE_LENGTH:
            raise TooLong(False, True, value, key)
        append(_pack16(keyLength))
        append(key)
        append(_pack16(valueLength))
        append(value)
    append(_TERMINATOR)
    return b"".join(parts)


def _emptyBox() -> AmpBox:
    # A new, empty box, without AmpBox.__init__'s conversions.
    return dict.__new__(AmpBox)


class BoxParser:
    """
    A sans-IO AMP box parser.

    Feed it bytes split anywhere with :meth:`feed`; take the boxes they
    complete, one at a time, with :meth:`nextBox`.  Each byte is examined
    once and copied a bounded number of times, so a box arriving a byte at a
    time costs no more than one arriving whole.

    A peer that sends a key longer than :data:`MAX_KEY_LENGTH` bytes, or a
    box longer than ``maxBoxLength`` bytes, makes :meth:`nextBox` raise
    :class:`TooLong`; the parser then refuses all further input.

    Args:
        maxBoxLength: the longest box accepted, in bytes on the wire.
    """

    def __init__(self, maxBoxLength: int = DEFAULT_MAX_BOX_LENGTH) -> None:
        self.maxBoxLength = maxBoxLength
        # Unparsed bytes are _data[_pos:] followed by the _chunks.
        self._data = b""
        self._pos = 0
        self._chunks: list[bytes] = []
        self._chunkBytes = 0
        self._box: AmpBox | None = None
        self._boxLength = 0
        self._key: bytes | None = None
        self._error: TooLong | None = None

    def feed(self, data: bytes) -> None:
        """Add bytes received; they are parsed by the next :meth:`nextBox` calls."""
        if self._error is not None or not data:
            return
        if self._pos >= len(self._data) and not self._chunks:
            self._data = bytes(data)
            self._pos = 0
        else:
            self._chunks.append(bytes(data))
            self._chunkBytes += len(data)

    @property
    def incomplete(self) -> bool:
        """Whether part of a box has been received but not the rest of it."""
        return (
            bool(self._box)
            or self._key is not None
            or self._pos < len(self._data)
            or bool(self._chunks)
        )

    def unprocessed(self) -> bytes:
        """
        Take the bytes fed but not yet parsed, leaving the parser empty: what
        follows the last box returned, when the connection switches to
        another protocol after it.
        """
        rest = self._data[self._pos :] + b"".join(self._chunks)
        if self._box or self._key is not None:
            raise MalformedAmpBox("a box is partly parsed: its bytes cannot be given back")
        self._data = b""
        self._pos = 0
        self._chunks = []
        self._chunkBytes = 0
        return rest

    def _gather(self, need: int) -> bool:
        # Make _data[_pos:] hold at least ``need`` bytes, if that many were fed.
        have = len(self._data) - self._pos
        if have + self._chunkBytes < need:
            return False
        self._chunks.insert(0, self._data[self._pos :])
        self._data = b"".join(self._chunks)
        self._pos = 0
        self._chunks = []
        self._chunkBytes = 0
        return True

    def nextBox(self) -> AmpBox | None:
        """
        Return the next complete box, or ``None`` until more bytes are fed.

        Raises:
            TooLong: the peer sent a key or a box too long; the connection
                should be dropped.
        """
        if self._error is not None:
            raise self._error
        box = self._box
        if box is None:
            box = self._box = _emptyBox()
            self._boxLength = 0
        # The state lives in locals while parsing, and is saved on the way out.
        data = self._data
        pos = self._pos
        key = self._key
        boxLength = self._boxLength
        limit = self.maxBoxLength
        end = len(data)
        while True:
            if end - pos < 2:
                self._pos, self._key, self._boxLength = pos, key, boxLength
                if not self._gather(2):
                    return None
                data = self._data
                pos = 0
                end = len(data)
            length = (data[pos] << 8) | data[pos + 1]
            if key is None:
                if length == 0:
                    boxLength += 2
                    if boxLength > limit:
                        self._fail(TooLong(False, False, None, length=boxLength))
                    self._pos = pos + 2
                    self._key = None
                    self._box = None
                    return box
                if length > MAX_KEY_LENGTH:
                    self._fail(TooLong(True, False, None, length=length))
            boxLength += 2 + length
            if boxLength > limit:
                self._fail(TooLong(False, False, None, keyName=key, length=boxLength))
            stop = pos + 2 + length
            if stop > end:
                self._pos, self._key, self._boxLength = pos, key, boxLength - 2 - length
                if not self._gather(2 + length):
                    return None
                data = self._data
                pos = 0
                end = len(data)
                stop = 2 + length
            if key is None:
                key = data[pos + 2 : stop]
            else:
                box[key] = data[pos + 2 : stop]
                key = None
            pos = stop

    def _fail(self, error: TooLong) -> NoReturn:
        self._error = error
        self._data = b""
        self._pos = 0
        self._chunks = []
        self._chunkBytes = 0
        self._box = None
        raise error

    def boxes(self) -> list[AmpBox]:
        """Return every box that the bytes fed so far complete (see :meth:`nextBox`)."""
        result = []
        while (box := self.nextBox()) is not None:
            result.append(box)
        return result


def parseString(data: bytes) -> list[AmpBox]:
    """
    Parse ``data``, a sequence of whole boxes in AMP's wire format.

    Raises:
        TooLong: a key is too long.
        MalformedAmpBox: ``data`` ends partway through a box.
    """
    # Any box longer than the data is cut short: no need for another limit.
    parser = BoxParser(maxBoxLength=len(data) + 4 + MAX_VALUE_LENGTH)
    parser.feed(data)
    boxes = parser.boxes()
    if parser.incomplete:
        raise MalformedAmpBox("the data ends partway through a box")
    return boxes


def parse(fileObj: IO[bytes]) -> list[AmpBox]:
    """Parse the whole boxes that ``fileObj`` holds, to its end (see :func:`parseString`)."""
    return parseString(fileObj.read())
