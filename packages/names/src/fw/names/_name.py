"""
Domain names on the wire (RFC 1035 section 4.1.4) and in text.

A :class:`Name` keeps its labels joined by dots as ``bytes``; a label that
itself holds a dot or a backslash is kept escaped (``a\\.b``), as in zone
files.  Reading a name follows compression pointers only backwards, each
strictly before the last, so a loop or a pointer past the end is a
:class:`~fw.names.error.DNSFormatError` and never a hang.
"""

from __future__ import annotations

from typing import Any

from fw.names.error import DNSFormatError

__all__ = ["MAX_LABEL", "MAX_NAME", "Name"]

#: The longest label, in octets (RFC 1035 section 2.3.4).
MAX_LABEL = 63
#: The longest name on the wire, length octets and root included (RFC 1035 2.3.4).
MAX_NAME = 255


def _escapeLabel(label: bytes) -> bytes:
    return label.replace(b"\\", b"\\\\").replace(b".", b"\\.")


def endsWithDot(name: bytes) -> bool:
    """Whether ``name`` ends with an unescaped dot: ``a.`` and ``a\\\\.`` do, ``a\\.`` does not."""
    if not name.endswith(b"."):
        return False
    backslashes = len(name) - 1 - len(name[:-1].rstrip(b"\\"))
    return backslashes % 2 == 0


def splitLabels(name: bytes) -> list[bytes]:
    """Split a dotted name into its raw labels, undoing ``\\.`` and ``\\\\`` escapes."""
    if not name or name == b".":
        return []
    if endsWithDot(name):
        name = name[:-1]
    if b"\\" not in name:
        return name.split(b".")
    labels: list[bytes] = []
    current = bytearray()
    i = 0
    n = len(name)
    while i < n:
        c = name[i]
        if c == 0x5C and i + 1 < n:  # backslash
            nxt = name[i + 1 : i + 4]
            if nxt.isdigit() and len(nxt) == 3:
                current.append(int(nxt) & 0xFF)
                i += 4
                continue
            current.append(name[i + 1])
            i += 2
            continue
        if c == 0x2E:
            labels.append(bytes(current))
            current = bytearray()
        else:
            current.append(c)
        i += 1
    labels.append(bytes(current))
    return labels


def joinLabels(labels: list[bytes]) -> bytes:
    """Join raw labels into a dotted name, escaping dots and backslashes in them."""
    return b".".join(_escapeLabel(x) if (b"." in x or b"\\" in x) else x for x in labels)


def readName(
    data: bytes, pos: int, cache: dict[int, tuple[bytes, int]] | None = None
) -> tuple[bytes, int]:
    """
    Read the name at ``pos`` of a whole message.

    ``cache``, shared by the reads of one message, maps offsets to the names
    (and their wire sizes) already read from there, so a compression pointer
    to one is not followed again.

    Returns:
        the dotted name (without a trailing dot) and the offset after it.

    Raises:
        DNSFormatError: the name is truncated, too long, has a bad label type,
            or a compression pointer that does not point strictly backwards.
    """
    labels: list[bytes] = []
    offsets: list[int] = []
    after = -1
    total = 1
    limit = pos
    n = len(data)
    tail: bytes | None = None
    tailSize = 0
    while True:
        if pos >= n:
            raise DNSFormatError("name runs past the end of the message")
        length = data[pos]
        if length == 0:
            pos += 1
            break
        if length >= 0xC0:
            if pos + 1 >= n:
                raise DNSFormatError("compression pointer runs past the end of the message")
            target = ((length & 0x3F) << 8) | data[pos + 1]
            if after < 0:
                after = pos + 2
            if target >= limit:
                raise DNSFormatError("compression pointer does not point backwards")
            if cache is not None:
                hit = cache.get(target)
                if hit is not None:
                    tail, tailSize = hit
                    if total - 1 + tailSize > MAX_NAME:
                        raise DNSFormatError("name longer than 255 octets")
                    break
            limit = pos = target
            continue
        if length > MAX_LABEL:
            raise DNSFormatError(f"unsupported label type 0x{length:02x}")
        end = pos + 1 + length
        if end > n:
            raise DNSFormatError("label runs past the end of the message")
        total += length + 1
        if total > MAX_NAME:
            raise DNSFormatError("name longer than 255 octets")
        labels.append(data[pos + 1 : end])
        offsets.append(pos)
        pos = end
    if after < 0:
        after = pos
    joined = b".".join(labels)
    if b"\\" in joined or joined.count(b".") > len(labels) - 1:
        labels = [_escapeLabel(x) for x in labels]
        joined = b".".join(labels)
    if tail is not None:
        joined = joined + b"." + tail if labels and tail else joined or tail
    if cache is not None and offsets:
        # every label read starts a suffix of this name: remember them all
        start = 0
        size = total + (tailSize - 1 if tail is not None else 0)
        for offset, label in zip(offsets, labels, strict=True):
            cache[offset] = (joined[start:], size)
            start += len(label) + 1
            size -= data[offset] + 1
    return joined, after


# Names written recently, prepared for writing: their labels with length
# octets, and their lower-cased suffixes (the compression keys).  Bounded:
# cleared when full, so a peer's many names cost memory only up to this.
_PREPARED: dict[bytes, tuple[list[bytes], list[bytes], bytes]] = {}
_PREPARED_MAX = 4096


def _prepare(name: bytes) -> tuple[list[bytes], list[bytes], bytes]:
    if b"\\" in name:
        labels = splitLabels(name)
        suffixes = [joinLabels(labels[i:]).lower() for i in range(len(labels))]
    else:
        stripped = name[:-1] if name[-1] == 0x2E else name
        labels = stripped.split(b".")
        lower = stripped.lower()
        suffixes = []
        start = 0
        for label in labels:
            suffixes.append(lower[start:])
            start += len(label) + 1
    size = 1
    for label in labels:
        size += len(label) + 1
        if not 0 < len(label) <= MAX_LABEL:
            raise ValueError(f"bad label length {len(label)} in {name!r}")
    if size > MAX_NAME:
        raise ValueError(f"name longer than 255 octets: {name!r}")
    pieces = [bytes([len(label)]) + label for label in labels]
    prepared = (pieces, suffixes, b"".join(pieces) + b"\x00")
    if len(_PREPARED) >= _PREPARED_MAX:
        _PREPARED.clear()
    _PREPARED[name] = prepared
    return prepared


def writeName(out: bytearray, name: bytes, compDict: dict[bytes, int] | None) -> None:
    """
    Append ``name`` in wire format to ``out``, compressing against ``compDict``.

    ``compDict`` maps lower-cased dotted suffixes to their offsets in ``out``
    (offsets are positions in the whole message); new suffixes are added.

    Raises:
        ValueError: a label is empty or longer than 63 octets, or the name
            longer than 255 octets.
    """
    if not name or name == b".":
        out.append(0)
        return
    prepared = _PREPARED.get(name)
    if prepared is None:
        prepared = _prepare(name)
    pieces, suffixes, whole = prepared
    if compDict is None:
        out += whole
        return
    for piece, suffix in zip(pieces, suffixes, strict=True):
        where = compDict.get(suffix)
        if where is not None:
            out += (0xC000 | where).to_bytes(2, "big")
            return
        position = len(out)
        if position < 0x4000:
            compDict[suffix] = position
        out += piece
    out.append(0)


def _toBytes(name: Any) -> bytes:
    if isinstance(name, Name):
        return name.name
    if isinstance(name, bytes):
        raw = name
    elif isinstance(name, bytearray | memoryview):
        raw = bytes(name)
    elif isinstance(name, str):
        try:
            raw = name.encode("ascii")
        except UnicodeEncodeError:
            raw = ".".join(
                label.encode("idna").decode("ascii") if label else "" for label in name.split(".")
            ).encode("ascii")
    else:
        raise TypeError(f"a name must be bytes or str, not {type(name).__name__}")
    if len(raw) > 1 and endsWithDot(raw):
        raw = raw[:-1]
    elif raw == b".":
        raw = b""
    return raw


class Name:
    """
    A domain name.

    ``Name("www.example.com")`` and ``Name(b"www.example.com.")`` are equal
    (comparison ignores ASCII case and the trailing dot); ``name.name`` is the
    dotted form as ``bytes``, ``str(name)`` as text.  Non-ASCII text is
    encoded with IDNA.
    """

    __slots__ = ("name",)

    def __init__(self, name: bytes | str | Name = b"") -> None:
        self.name: bytes = _toBytes(name)

    def encode(self, strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write the name in wire format to ``strio``, compressing with ``compDict``."""
        base = strio.tell()
        out = bytearray(base)
        writeName(out, self.name, compDict)
        strio.write(bytes(out[base:]))

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read a name from ``strio`` (a whole message in a ``BytesIO``), following pointers."""
        data = strio.getvalue()
        self.name, after = readName(data, strio.tell())
        strio.seek(after)

    def labels(self) -> list[bytes]:
        """The raw labels, most specific first."""
        return splitLabels(self.name)

    def isSubdomainOf(self, other: bytes | str | Name) -> bool:
        """Whether this name is ``other`` or below it."""
        mine = self.name.lower()
        theirs = _toBytes(other).lower()
        if not theirs:
            return True
        return mine == theirs or mine.endswith(b"." + theirs)

    def toText(self) -> str:
        """The absolute name in presentation format (``www.example.com.``)."""
        return presentName(self.name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Name):
            return self.name.lower() == other.name.lower()
        if isinstance(other, bytes | str):
            return self.name.lower() == _toBytes(other).lower()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name.lower())

    def __str__(self) -> str:
        return self.name.decode("ascii", "backslashreplace")

    def __repr__(self) -> str:
        return f"Name({str(self)!r})"


def presentName(name: bytes) -> str:
    """An absolute dotted name in presentation format, non-printable octets as ``\\DDD``."""
    if not name:
        return "."
    out = []
    i = 0
    while i < len(name):
        c = name[i]
        if c == 0x5C and i + 1 < len(name):  # an escaped dot or backslash stays escaped
            out.append("\\" + chr(name[i + 1]))
            i += 2
            continue
        if 0x21 <= c <= 0x7E and c not in b'"();@$':
            out.append(chr(c))
        else:
            out.append(f"\\{c:03d}")
        i += 1
    return "".join(out) + "."


def parseName(text: str, origin: bytes = b"") -> bytes:
    """
    A dotted name from presentation format: ``@`` is ``origin``, a name not
    ending in an unescaped dot is relative to ``origin``; ``\\DDD`` and ``\\X``
    escapes are kept escaped in the result.
    """
    if text == "@":
        return origin
    raw = _unescapeText(text)
    if endsWithDot(raw):
        return raw[:-1]
    if not origin:
        return raw
    return raw + b"." + origin


def _unescapeText(text: str) -> bytes:
    # \DDD decimal escapes become the octet, escaped again if it is a dot or a backslash
    if "\\" not in text:
        return text.encode("ascii")
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            digits = text[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit():
                value = int(digits)
                if value > 255:
                    raise ValueError(f"bad escape \\{digits}")
                i += 4
            else:
                value = ord(text[i + 1])
                i += 2
            if value in (0x2E, 0x5C):
                out += b"\\" + bytes([value])
            else:
                out.append(value)
            continue
        out += c.encode("ascii")
        i += 1
    return bytes(out)
