"""
HTTP header collections: :class:`Headers`, a case-insensitive multi-dict.

Header names compare case-insensitively (RFC 9110 section 5.1).  Names and
values may be given as ``bytes`` or ``str``: a ``str`` name is encoded as
ISO-8859-1 and a ``str`` value as UTF-8, and asking with a ``str`` name returns
``str`` values.  Values containing CR, LF or NUL are refused with
:class:`ValueError`, so no header set through this API can split a response.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import AnyStr, TypeVar, overload

__all__ = ["Headers"]

_T = TypeVar("_T")

# Canonical spellings that str.title() gets wrong.
_CANONICAL = {
    b"content-md5": b"Content-MD5",
    b"dnt": b"DNT",
    b"etag": b"ETag",
    b"p3p": b"P3P",
    b"te": b"TE",
    b"www-authenticate": b"WWW-Authenticate",
    b"x-xss-protection": b"X-XSS-Protection",
    b"websocket": b"WebSocket",
}
_canonicalCache: dict[bytes, bytes] = {}


def _canonicalName(lower: bytes) -> bytes:
    cached = _canonicalCache.get(lower)
    if cached is not None:
        return cached
    special = _CANONICAL.get(lower)
    result = special if special is not None else lower.title()
    if len(_canonicalCache) < 1000:
        _canonicalCache[lower] = result
    return result


# b"content-type" -> b"Content-Type: ", for serializing; bounded like the above.
_linePrefixes: dict[bytes, bytes] = {}


def _linePrefix(lower: bytes) -> bytes:
    prefix = _canonicalName(lower) + b": "
    if len(_linePrefixes) < 1000:
        _linePrefixes[lower] = prefix
    return prefix


def _encodeName(name: bytes | str) -> bytes:
    if isinstance(name, str):
        name = name.encode("iso-8859-1")
    return name.lower()


def _encodeValue(value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode("utf-8")
    if b"\r" in value or b"\n" in value or b"\x00" in value:
        raise ValueError(f"header value contains CR, LF or NUL: {value!r}")
    return value


class Headers:
    """
    A case-insensitive collection of HTTP headers, each name holding a list of values.

    Args:
        rawHeaders: Initial headers: a mapping of name to a sequence of values.
    """

    __slots__ = ("_rawHeaders",)

    def __init__(self, rawHeaders: Mapping[AnyStr, Sequence[AnyStr]] | None = None) -> None:
        self._rawHeaders: dict[bytes, list[bytes]] = {}
        if rawHeaders is not None:
            for name, values in rawHeaders.items():
                self.setRawHeaders(name, values)

    @classmethod
    def _fromParsed(cls, fields: dict[bytes, list[bytes]]) -> Headers:
        """Wrap already validated, lower-cased fields (the parser's output) without copying."""
        headers = cls.__new__(cls)
        headers._rawHeaders = fields
        return headers

    def __repr__(self) -> str:
        return f"Headers({self._rawHeaders!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._rawHeaders == other._rawHeaders
        return NotImplemented

    def __hash__(self) -> int:  # mutable
        raise TypeError("Headers objects are unhashable")

    def copy(self) -> Headers:
        """Return a copy whose value lists are independent of this one's."""
        new = Headers()
        new._rawHeaders = {k: list(v) for k, v in self._rawHeaders.items()}
        return new

    def hasHeader(self, name: bytes | str) -> bool:
        """Return whether a header called ``name`` is present."""
        return _encodeName(name) in self._rawHeaders

    def removeHeader(self, name: bytes | str) -> None:
        """Remove every value of ``name``; absent names are ignored."""
        self._rawHeaders.pop(_encodeName(name), None)

    @overload
    def setRawHeaders(self, name: bytes | str, values: Sequence[bytes]) -> None: ...
    @overload
    def setRawHeaders(self, name: bytes | str, values: Sequence[str]) -> None: ...
    @overload
    def setRawHeaders(self, name: bytes | str, values: Sequence[bytes | str]) -> None: ...
    def setRawHeaders(self, name: bytes | str, values: Sequence[bytes | str]) -> None:
        """
        Replace the values of ``name`` with ``values``.

        Raises:
            TypeError: ``values`` is a single string rather than a sequence.
            ValueError: A value contains CR, LF or NUL.
        """
        if isinstance(values, (bytes, str)):
            raise TypeError(f"Header values for {name!r} must be a sequence, not a string")
        self._rawHeaders[_encodeName(name)] = [_encodeValue(v) for v in values]

    def addRawHeader(self, name: bytes | str, value: bytes | str) -> None:
        """Append ``value`` to the values of ``name``."""
        key = _encodeName(name)
        encoded = _encodeValue(value)
        existing = self._rawHeaders.get(key)
        if existing is None:
            self._rawHeaders[key] = [encoded]
        else:
            existing.append(encoded)

    @overload
    def getRawHeaders(self, name: bytes) -> list[bytes] | None: ...
    @overload
    def getRawHeaders(self, name: bytes, default: _T) -> list[bytes] | _T: ...
    @overload
    def getRawHeaders(self, name: str) -> list[str] | None: ...
    @overload
    def getRawHeaders(self, name: str, default: _T) -> list[str] | _T: ...
    def getRawHeaders(self, name: bytes | str, default: object = None) -> object:
        """
        Return the list of values of ``name``, or ``default`` when it is absent.

        With a ``str`` name the values are decoded from UTF-8.
        """
        if isinstance(name, str):
            values = self._rawHeaders.get(name.encode("iso-8859-1").lower())
            if values is None:
                return default
            return [v.decode("utf-8", "replace") for v in values]
        values = self._rawHeaders.get(name.lower())
        if values is None:
            return default
        return list(values)

    def _getLast(self, lowerName: bytes) -> bytes | None:
        values = self._rawHeaders.get(lowerName)
        return values[-1] if values else None

    def getAllRawHeaders(self) -> Iterator[tuple[bytes, list[bytes]]]:
        """Yield ``(canonical name, values)`` pairs for every header."""
        for name, values in self._rawHeaders.items():
            yield _canonicalName(name), values

    def _serialize(self, out: list[bytes]) -> None:
        """Append ``Name: value\\r\\n`` lines to ``out``."""
        prefixes = _linePrefixes
        for name, values in self._rawHeaders.items():
            prefix = prefixes.get(name)
            if prefix is None:
                prefix = _linePrefix(name)
            if len(values) == 1:
                out.append(prefix + values[0] + b"\r\n")
            else:
                out.extend([prefix + value + b"\r\n" for value in values])

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._rawHeaders)

    def __len__(self) -> int:
        return len(self._rawHeaders)
