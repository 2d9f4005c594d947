"""
The machinery shared by record types: wire reading and writing of rdata
fields, and the text presentation format (RFC 1035 section 5.1, RFC 3597
section 5 for the generic ``\\# length hex`` form).

Each record class lists its rdata as ``_fields``: pairs of an attribute name
and a field kind.  The kinds know how to read, write, present and parse one
field, so most record types are a field list and a constructor.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import ipaddress
import socket
import struct
import time
from collections.abc import Callable
from typing import Any, ClassVar, Self

from fw.names._dns_constants import textToType, typeToText
from fw.names._name import Name, parseName, presentName, readName, writeName
from fw.names.error import DNSFormatError

__all__ = ["RecordBase", "tokenize"]


def tokenize(text: str) -> list[str]:
    """
    Split rdata text into tokens: whitespace separates, ``"..."`` is one token
    (kept with its quotes), parentheses and ``;`` comments are dropped.
    """
    tokens: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n()":
            i += 1
            continue
        if c == ";":
            while i < n and text[i] != "\n":
                i += 1
            continue
        start = i
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                raise ValueError(f"unterminated quoted string in {text!r}")
            i += 1
            tokens.append(text[start:i])
            continue
        while i < n and text[i] not in ' \t\r\n();"':
            i += 2 if text[i] == "\\" else 1
        tokens.append(text[start:i])
    return tokens


def unescapeString(token: str) -> bytes:
    """The octets of a character-string token (quoted or not), ``\\DDD`` and ``\\X`` undone."""
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        token = token[1:-1]
    if "\\" not in token:
        return token.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(token):
        c = token[i]
        if c == "\\" and i + 1 < len(token):
            digits = token[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit():
                value = int(digits)
                if value > 255:
                    raise ValueError(f"bad escape \\{digits}")
                out.append(value)
                i += 4
            else:
                out += token[i + 1].encode("utf-8")
                i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def quoteString(value: bytes) -> str:
    """A character-string in presentation format, quoted, with escapes."""
    out = ['"']
    for c in value:
        if c == 0x22 or c == 0x5C:
            out.append("\\" + chr(c))
        elif 0x20 <= c <= 0x7E:
            out.append(chr(c))
        else:
            out.append(f"\\{c:03d}")
    out.append('"')
    return "".join(out)


def _need(pos: int, size: int, end: int) -> None:
    if pos + size > end:
        raise DNSFormatError("record data truncated")


# -- field kinds ---------------------------------------------------------------


class _Kind:
    """How one rdata field is read, written, presented and parsed."""

    rest: ClassVar[bool] = False

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        raise NotImplementedError

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        raise NotImplementedError

    def present(self, value: Any) -> str:
        raise NotImplementedError

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        """Consume the tokens this field needs from the front of ``tokens``."""
        raise NotImplementedError


class _Int(_Kind):
    def __init__(self, size: int) -> None:
        self.size = size
        self.limit = 1 << (8 * size)

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        _need(pos, self.size, end)
        return int.from_bytes(data[pos : pos + self.size], "big"), pos + self.size

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        out += int(value).to_bytes(self.size, "big")

    def present(self, value: Any) -> str:
        return str(value)

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        value = int(tokens.pop(0))
        if not 0 <= value < self.limit:
            raise ValueError(f"{value} out of range")
        return value


class _Type(_Int):
    def __init__(self) -> None:
        super().__init__(2)

    def present(self, value: Any) -> str:
        return typeToText(value)

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        return textToType(tokens.pop(0))


class _Time(_Int):
    """An RRSIG time: 32-bit seconds, shown as YYYYMMDDHHmmSS (RFC 4034 section 3.2)."""

    def __init__(self) -> None:
        super().__init__(4)

    def present(self, value: Any) -> str:
        return time.strftime("%Y%m%d%H%M%S", time.gmtime(value))

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        token = tokens.pop(0)
        if len(token) == 14 and token.isdigit():
            return calendar.timegm(time.strptime(token, "%Y%m%d%H%M%S")) & 0xFFFFFFFF
        return super().parse([token], origin)


class _NameKind(_Kind):
    def __init__(self, compress: bool) -> None:
        self.compress = compress

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        name, after = readName(data, pos)
        if after > end:
            raise DNSFormatError("name runs past the record data")
        return Name(name), after

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        writeName(out, value.name, compDict if self.compress else None)

    def present(self, value: Any) -> str:
        return presentName(value.name)

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        return Name(parseName(tokens.pop(0), origin))


class _String(_Kind):
    """One character-string: a length octet and up to 255 octets."""

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        _need(pos, 1, end)
        size = data[pos]
        _need(pos + 1, size, end)
        return data[pos + 1 : pos + 1 + size], pos + 1 + size

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        if len(value) > 255:
            raise ValueError("a character-string holds at most 255 octets")
        out.append(len(value))
        out += value

    def present(self, value: Any) -> str:
        return quoteString(value)

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        return unescapeString(tokens.pop(0))


class _Strings(_Kind):
    """Character-strings up to the end of the rdata (TXT, SPF)."""

    rest = True

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        values = []
        while pos < end:
            value, pos = _STRING.read(data, pos, end)
            values.append(value)
        return values, pos

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        for item in value:
            _STRING.write(out, item, compDict)

    def present(self, value: Any) -> str:
        return " ".join(quoteString(v) for v in value)

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        values = [unescapeString(t) for t in tokens]
        tokens.clear()
        return values


class _Blob(_Kind):
    """Octets up to the end of the rdata, presented in hex or base64."""

    rest = True

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        return data[pos:end], end

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        out += value

    def present(self, value: Any) -> str:
        if self.encoding == "hex":
            return value.hex().upper() if value else "-"
        return base64.b64encode(value).decode("ascii") if value else "-"

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        text = "".join(tokens)
        tokens.clear()
        if text in ("", "-"):
            return b""
        try:
            if self.encoding == "hex":
                return bytes.fromhex(text)
            return base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error) as e:
            raise ValueError(f"bad {self.encoding} data {text!r}") from e


_B32_STD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_HEX = b"0123456789ABCDEFGHIJKLMNOPQRSTUV"
_TO_HEX = bytes.maketrans(_B32_STD, _B32_HEX)
_FROM_HEX = bytes.maketrans(_B32_HEX, _B32_STD)


class _SizedBlob(_Kind):
    """Octets after a length octet (NSEC3 salt in hex, next hash in base32hex)."""

    def __init__(self, encoding: str, lengthSize: int = 1) -> None:
        self.encoding = encoding
        self.lengthSize = lengthSize

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        _need(pos, self.lengthSize, end)
        size = int.from_bytes(data[pos : pos + self.lengthSize], "big")
        pos += self.lengthSize
        _need(pos, size, end)
        return data[pos : pos + size], pos + size

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        if len(value) >= 1 << (8 * self.lengthSize):
            raise ValueError("field too long")
        out += len(value).to_bytes(self.lengthSize, "big")
        out += value

    def present(self, value: Any) -> str:
        if self.encoding == "hex":
            return value.hex().upper() if value else "-"
        if self.encoding == "b64":
            return base64.b64encode(value).decode("ascii")
        return base64.b32encode(value).translate(_TO_HEX).rstrip(b"=").decode("ascii")

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        text = tokens.pop(0)
        if self.encoding == "hex":
            return b"" if text == "-" else bytes.fromhex(text)
        if self.encoding == "b64":
            return base64.b64decode(text, validate=True)
        raw = text.upper().encode("ascii").translate(_FROM_HEX)
        raw += b"=" * (-len(raw) % 8)
        return base64.b32decode(raw)


class _Bitmap(_Kind):
    """An NSEC/NSEC3 type bitmap (RFC 4034 section 4.1.2): sorted type numbers."""

    rest = True

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        types: list[int] = []
        last = -1
        while pos < end:
            _need(pos, 2, end)
            window, size = data[pos], data[pos + 1]
            if window <= last or not 1 <= size <= 32:
                raise DNSFormatError("bad type bitmap")
            last = window
            pos += 2
            _need(pos, size, end)
            types.extend(
                window * 256 + i * 8 + bit
                for i, octet in enumerate(data[pos : pos + size])
                for bit in range(8)
                if octet & (0x80 >> bit)
            )
            pos += size
        return types, pos

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        windows: dict[int, bytearray] = {}
        for t in sorted(set(value)):
            bits = windows.setdefault(t >> 8, bytearray(32))
            bits[(t & 0xFF) >> 3] |= 0x80 >> (t & 7)
        for window in sorted(windows):
            bits = windows[window].rstrip(b"\x00")
            out += bytes([window, len(bits)])
            out += bits

    def present(self, value: Any) -> str:
        return " ".join(typeToText(t) for t in sorted(set(value)))

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        types = sorted({textToType(t) for t in tokens})
        tokens.clear()
        return types


class _Address(_Kind):
    def __init__(self, family: socket.AddressFamily) -> None:
        self.family = family
        self.size = 4 if family == socket.AF_INET else 16

    def read(self, data: bytes, pos: int, end: int) -> tuple[Any, int]:
        _need(pos, self.size, end)
        return data[pos : pos + self.size], pos + self.size

    def write(self, out: bytearray, value: Any, compDict: dict[bytes, int] | None) -> None:
        out += value

    def present(self, value: Any) -> str:
        return socket.inet_ntop(self.family, value)

    def parse(self, tokens: list[str], origin: bytes) -> Any:
        return packAddress(self.family, tokens.pop(0))


def packAddress(family: socket.AddressFamily, address: str | bytes) -> bytes:
    """An address in packed form from text (or already packed ``bytes``)."""
    size = 4 if family == socket.AF_INET else 16
    if isinstance(address, bytes):
        if len(address) == size:
            return address
        address = address.decode("ascii")
    try:
        if family == socket.AF_INET:
            return ipaddress.IPv4Address(address).packed
        return ipaddress.IPv6Address(address).packed
    except ipaddress.AddressValueError as e:
        raise ValueError(f"bad address {address!r}") from e


U8 = _Int(1)
U16 = _Int(2)
U32 = _Int(4)
U48 = _Int(6)
TYPE = _Type()
TIME = _Time()
NAME = _NameKind(compress=True)
NAME_NC = _NameKind(compress=False)
_STRING = STRING = _String()
STRINGS = _Strings()
HEX = _Blob("hex")
B64 = _Blob("b64")
HEX8 = _SizedBlob("hex")
B32HEX8 = _SizedBlob("b32hex")
B64_16 = _SizedBlob("b64", 2)
BITMAP = _Bitmap()
IPV4 = _Address(socket.AF_INET)
IPV6 = _Address(socket.AF_INET6)


# -- the record base class --------------------------------------------------------


class RecordBase:
    """
    The base of every record type: ``encode``/``decode`` against a file-like
    message buffer as Twisted's records do, equality by attributes (TTL
    included), and text presentation with :meth:`toText` / :meth:`fromText`.
    """

    TYPE: ClassVar[int] = 0
    fancybasename: ClassVar[str] = ""
    _fields: ClassVar[tuple[tuple[str, _Kind], ...]] = ()
    ttl: int | None

    @property
    def compareAttributes(self) -> tuple[str, ...]:
        """The attributes that equality and hashing look at."""
        return (*(name for name, _ in self._fields), "ttl")

    # wire

    def _encodeRdata(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        for name, kind in self._fields:
            kind.write(out, getattr(self, name), compDict)

    @classmethod
    def _decodeRdata(cls, data: bytes, pos: int, end: int) -> Self:
        record = cls.__new__(cls)
        for name, kind in cls._fields:
            value, pos = kind.read(data, pos, end)
            setattr(record, name, value)
        if pos != end:
            raise DNSFormatError(f"{cls.fancybasename} record data has {end - pos} extra octets")
        record.ttl = None
        return record

    def encode(self, strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write the rdata to the file-like ``strio`` (names compressed with ``compDict``)."""
        base = strio.tell()
        out = bytearray(base)
        self._encodeRdata(out, compDict)
        strio.write(bytes(out[base:]))

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read ``length`` octets of rdata from ``strio`` (a whole message in a ``BytesIO``)."""
        data = strio.getvalue()
        pos = strio.tell()
        end = len(data) if length is None else pos + length
        if end > len(data):
            raise DNSFormatError("record data runs past the end of the message")
        decoded = self._decodeRdata(data, pos, end)
        ttl = getattr(self, "ttl", None)
        self.__dict__.update(decoded.__dict__)
        self.ttl = ttl
        strio.seek(end)

    def toWire(self) -> bytes:
        """The rdata alone, uncompressed."""
        out = bytearray()
        self._encodeRdata(out, None)
        return bytes(out)

    @classmethod
    def fromWire(cls, rdata: bytes, ttl: int | None = None) -> Self:
        """A record from uncompressed rdata; raises :class:`DNSFormatError` if malformed."""
        record = cls._decodeRdata(rdata, 0, len(rdata))
        record.ttl = ttl
        return record

    # text

    def toText(self) -> str:
        """The rdata in presentation (zone file) format."""
        return " ".join(kind.present(getattr(self, name)) for name, kind in self._fields)

    @classmethod
    def _fromTokens(cls, tokens: list[str], origin: bytes) -> Self:
        record = cls.__new__(cls)
        for name, kind in cls._fields:
            if not tokens and not kind.rest:
                raise ValueError(f"{cls.fancybasename} rdata is missing its {name}")
            setattr(record, name, kind.parse(tokens, origin))
        if tokens:
            raise ValueError(f"unexpected {tokens[0]!r} in {cls.fancybasename} rdata")
        return record

    @classmethod
    def fromText(cls, text: str, origin: bytes | str = b"", ttl: int | None = None) -> Self:
        """
        A record from rdata in presentation format.  Relative names are
        completed with ``origin``; the generic ``\\# length hex`` form (RFC 3597
        section 5) is accepted for every type.

        Raises:
            ValueError: the text is not valid rdata for this type.
        """
        base = Name(origin).name
        tokens = tokenize(text)
        if tokens and tokens[0] == "\\#":
            record = cls.fromWire(_genericRdata(tokens), ttl)
        else:
            record = cls._fromTokens(tokens, base)
        record.ttl = ttl
        return record

    # comparison and display

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, a) for a in self.compareAttributes)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self), *(tuple(v) if isinstance(v, list) else v for v in self._key())))

    def __repr__(self) -> str:
        parts = [f"{name}={self._showValue(name)}" for name, _ in self._fields]
        parts.append(f"ttl={self.ttl}")
        return f"<{self.fancybasename} {' '.join(parts)}>"

    __str__ = __repr__

    def _showValue(self, name: str) -> str:
        kind = dict(self._fields)[name]
        value = getattr(self, name)
        if isinstance(kind, _Address):
            return kind.present(value)
        if isinstance(value, Name):
            return str(value)
        return repr(value) if isinstance(value, bytes | list) else str(value)


def _genericRdata(tokens: list[str]) -> bytes:
    if len(tokens) < 2 or not tokens[1].isdigit():
        raise ValueError("generic rdata needs \\# LENGTH HEX")
    size = int(tokens[1])
    data = bytes.fromhex("".join(tokens[2:]))
    if len(data) != size:
        raise ValueError(f"generic rdata says {size} octets but has {len(data)}")
    return data


def genericText(rdata: bytes) -> str:
    """Rdata in RFC 3597's generic form: ``\\# length hex``."""
    return f"\\# {len(rdata)} {rdata.hex().upper()}".rstrip()


def ttlOf(ttl: Any) -> int | None:
    """Accept ``None``, an int, or a Twisted-style duration string (``"1h"``)."""
    if ttl is None or isinstance(ttl, int):
        return ttl
    return str2time(ttl)


_UNITS = {"S": 1, "M": 60, "H": 3600, "D": 86400, "W": 604800, "Y": 31536000}


def str2time(s: str | int | None) -> int | None:
    """Seconds from a duration like ``"10"``, ``"2h"``, ``"1w2d"`` (Twisted's ``dns.str2time``)."""
    if s is None or isinstance(s, int):
        return s
    text = s.strip().upper()
    if text.isdigit():
        return int(text)
    total = 0
    number = ""
    for c in text:
        if c.isdigit():
            number += c
        elif c in _UNITS and number:
            total += int(number) * _UNITS[c]
            number = ""
        else:
            raise ValueError(f"bad duration {s!r}")
    if number:
        total += int(number)
    return total


Unpack = Callable[[bytes, int], tuple[int, ...]]
_unpackU16 = struct.Struct("!H").unpack_from
