"""
SVCB and HTTPS (RFC 9460), and the OPT pseudo-record's rdata (RFC 6891).
"""

from __future__ import annotations

import base64
import socket
from typing import Any, Self

from fw.names import _dns_constants as c
from fw.names._name import Name, parseName, presentName, readName, writeName
from fw.names._records_base import RecordBase, genericText, packAddress, ttlOf
from fw.names.error import DNSFormatError

__all__ = ["OPTVariableOption", "Record_HTTPS", "Record_OPT", "Record_SVCB"]

_KEYS = {"mandatory": 0, "alpn": 1, "no-default-alpn": 2, "port": 3, "ipv4hint": 4, "ech": 5,
         "ipv6hint": 6, "dohpath": 7, "ohttp": 8, "docpath": 10}  # fmt: skip
_KEY_NAMES = {v: k for k, v in _KEYS.items()}


def _keyName(key: int) -> str:
    return _KEY_NAMES.get(key, f"key{key}")


def _keyNumber(name: str) -> int:
    lower = name.lower()
    if lower in _KEYS:
        return _KEYS[lower]
    if lower.startswith("key") and lower[3:].isdigit() and int(lower[3:]) < 65536:
        return int(lower[3:])
    raise ValueError(f"unknown SvcParamKey {name!r}")


def _splitList(value: str) -> list[str]:
    # comma-separated, with \, escaping a comma (RFC 9460 appendix A.1)
    items, current, i = [], "", 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current += value[i : i + 2]
            i += 2
            continue
        if ch == ",":
            items.append(current)
            current = ""
        else:
            current += ch
        i += 1
    items.append(current)
    return items


def _unescape(value: str) -> bytes:
    from fw.names._records_base import unescapeString

    return unescapeString(value)


def _escape(value: bytes, commas: bool = False) -> str:
    out = []
    for ch in value:
        if commas and ch == 0x2C:
            out.append("\\\\,")
        elif ch in (0x22, 0x5C):
            out.append("\\" + chr(ch))
        elif 0x21 <= ch <= 0x7E:
            out.append(chr(ch))
        else:
            out.append(f"\\{ch:03d}")
    return "".join(out)


def _valueToText(key: int, value: bytes) -> str:
    if key == 0:
        keys = [int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value), 2)]
        return ",".join(_keyName(k) for k in keys)
    if key == 1:
        items, pos = [], 0
        while pos < len(value):
            size = value[pos]
            items.append(_escape(value[pos + 1 : pos + 1 + size], commas=True))
            pos += 1 + size
        return '"' + ",".join(items) + '"'
    if key == 3:
        return str(int.from_bytes(value, "big"))
    if key == 4:
        return ",".join(socket.inet_ntop(socket.AF_INET, value[i : i + 4])
                        for i in range(0, len(value), 4))  # fmt: skip
    if key == 6:
        return ",".join(socket.inet_ntop(socket.AF_INET6, value[i : i + 16])
                        for i in range(0, len(value), 16))  # fmt: skip
    if key == 5:
        return base64.b64encode(value).decode("ascii")
    return '"' + _escape(value) + '"'


def _valueFromText(key: int, text: str) -> bytes:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    if key == 0:
        return b"".join(_keyNumber(k).to_bytes(2, "big") for k in sorted(
            _splitList(text), key=_keyNumber))  # fmt: skip
    if key == 1:
        out = bytearray()
        for item in _splitList(text):
            raw = _unescape(item.replace("\\,", ","))
            out.append(len(raw))
            out += raw
        return bytes(out)
    if key == 3:
        return int(text).to_bytes(2, "big")
    if key == 4:
        return b"".join(packAddress(socket.AF_INET, a) for a in text.split(","))
    if key == 6:
        return b"".join(packAddress(socket.AF_INET6, a) for a in text.split(","))
    if key == 5:
        return base64.b64decode(text, validate=True)
    return _unescape(text)


class Record_SVCB(RecordBase):
    """
    Service binding (RFC 9460): a priority, a target, and parameters as a
    dict of SvcParamKey number to the parameter's wire value.
    """

    TYPE = c.SVCB
    fancybasename = "SVCB"

    def __init__(
        self, priority: int = 0, target: bytes | str | Name = b"",
        params: dict[int, bytes] | None = None, ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.priority = int(priority)
        self.target = Name(target)
        self.params = dict(sorted((params or {}).items()))
        self.ttl = ttlOf(ttl)

    @property
    def compareAttributes(self) -> tuple[str, ...]:
        """The attributes that equality looks at."""
        return ("priority", "target", "params", "ttl")

    def _key(self) -> tuple[Any, ...]:
        return (self.priority, self.target, tuple(self.params.items()), self.ttl)

    def _encodeRdata(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        out += self.priority.to_bytes(2, "big")
        writeName(out, self.target.name, None)
        for key, value in sorted(self.params.items()):
            out += key.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value

    @classmethod
    def _decodeRdata(cls, data: bytes, pos: int, end: int) -> Self:
        if pos + 2 > end:
            raise DNSFormatError("SVCB record data truncated")
        priority = int.from_bytes(data[pos : pos + 2], "big")
        target, pos = readName(data, pos + 2)
        params: dict[int, bytes] = {}
        last = -1
        while pos < end:
            if pos + 4 > end:
                raise DNSFormatError("SVCB parameter truncated")
            key = int.from_bytes(data[pos : pos + 2], "big")
            size = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if key <= last:
                raise DNSFormatError("SVCB parameters out of order")
            last = key
            if pos + 4 + size > end:
                raise DNSFormatError("SVCB parameter runs past the record data")
            params[key] = data[pos + 4 : pos + 4 + size]
            pos += 4 + size
        if pos != end:
            raise DNSFormatError("SVCB record data length is wrong")
        return cls(priority, target, params)

    def toText(self) -> str:
        """``priority target key=value...``."""
        parts = [str(self.priority), presentName(self.target.name)]
        for key, value in self.params.items():
            if key == 2 or (not value and key not in (1,)):
                parts.append(_keyName(key))
            else:
                parts.append(f"{_keyName(key)}={_valueToText(key, value)}")
        return " ".join(parts)

    @classmethod
    def _fromTokens(cls, tokens: list[str], origin: bytes) -> Self:
        if len(tokens) < 2:
            raise ValueError("SVCB rdata needs a priority and a target")
        priority = int(tokens[0])
        target = parseName(tokens[1], origin)
        params: dict[int, bytes] = {}
        rest = tokens[2:]
        i = 0
        while i < len(rest):
            token = rest[i]
            i += 1
            if "=" in token:
                name, value = token.split("=", 1)
                if value == "" and i < len(rest) and rest[i].startswith('"'):
                    value = rest[i]
                    i += 1
            else:
                name, value = token, ""
            key = _keyNumber(name)
            if key in params:
                raise ValueError(f"SvcParamKey {name} given twice")
            params[key] = _valueFromText(key, value) if value else b""
        return cls(priority, target, params)


class Record_HTTPS(Record_SVCB):
    """Service binding for HTTPS origins (RFC 9460 section 9)."""

    TYPE = c.HTTPS
    fancybasename = "HTTPS"


class OPTVariableOption:
    """
    One EDNS option (RFC 6891 section 6.1.2): a code and its data.

    Twisted calls this ``_OPTVariableOption``; both names work.
    """

    __slots__ = ("code", "data")

    def __init__(self, code: int = 0, data: bytes = b"") -> None:
        self.code = code
        self.data = data

    def encode(self, strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write the option to ``strio``."""
        strio.write(self.code.to_bytes(2, "big") + len(self.data).to_bytes(2, "big") + self.data)

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read one option from ``strio``."""
        head = strio.read(4)
        if len(head) != 4:
            raise DNSFormatError("EDNS option truncated")
        self.code = int.from_bytes(head[:2], "big")
        size = int.from_bytes(head[2:], "big")
        self.data = strio.read(size)
        if len(self.data) != size:
            raise DNSFormatError("EDNS option truncated")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OPTVariableOption):
            return NotImplemented
        return (self.code, self.data) == (other.code, other.data)

    def __hash__(self) -> int:
        return hash((self.code, self.data))

    def __repr__(self) -> str:
        return f"<OPTVariableOption code={self.code} data={self.data!r}>"


class Record_OPT(RecordBase):
    """The rdata of an OPT pseudo-record: its EDNS options (RFC 6891 section 6.1.2)."""

    TYPE = c.OPT
    fancybasename = "OPT"

    def __init__(
        self, options: list[OPTVariableOption] | None = None, ttl: int | str | None = None
    ) -> None:
        self.options = list(options or [])
        self.ttl = ttlOf(ttl)

    @property
    def compareAttributes(self) -> tuple[str, ...]:
        """The attributes that equality looks at."""
        return ("options", "ttl")

    def _key(self) -> tuple[Any, ...]:
        return (tuple(self.options), self.ttl)

    def _encodeRdata(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        for option in self.options:
            out += option.code.to_bytes(2, "big") + len(option.data).to_bytes(2, "big")
            out += option.data

    @classmethod
    def _decodeRdata(cls, data: bytes, pos: int, end: int) -> Self:
        options = []
        while pos < end:
            if pos + 4 > end:
                raise DNSFormatError("EDNS option truncated")
            code = int.from_bytes(data[pos : pos + 2], "big")
            size = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if pos + 4 + size > end:
                raise DNSFormatError("EDNS option runs past the record data")
            options.append(OPTVariableOption(code, data[pos + 4 : pos + 4 + size]))
            pos += 4 + size
        return cls(options)

    def toText(self) -> str:
        """The generic ``\\# length hex`` form."""
        return genericText(self.toWire())

    def __repr__(self) -> str:
        return f"<OPT options={self.options!r}>"
