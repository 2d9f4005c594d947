"""
A parser for master (zone) files in the syntax of RFC 1035 section 5 with
BIND's extensions, independent of any record classes.

The parser turns text into :class:`ZoneEntry` values: owner name, TTL,
class, type and the record data as tokens.  It understands ``$ORIGIN``,
``$TTL`` (RFC 2308 section 4), ``$INCLUDE`` (confined to a directory),
``@``, relative names, blank owners (the previous owner again),
parentheses spanning lines, ``;`` comments, quoted strings with ``\\``
escapes and BIND's TTL units (``1h30m``).  It does no I/O of its own except
through the ``readInclude`` callable it is given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "MAX_ZONE_FILE_SIZE",
    "ZoneEntry",
    "ZoneSyntaxError",
    "absoluteName",
    "parseTTL",
    "parseZone",
    "readZoneFile",
]

#: The largest zone file read (64 MiB: larger than all but the biggest TLD
#: zones, which are not served from files parsed in Python).
MAX_ZONE_FILE_SIZE = 64 << 20

#: How deeply ``$INCLUDE`` may nest (BIND allows more; eight catches include
#: loops long before they matter and is plenty for real zones).
MAX_INCLUDE_DEPTH = 8

_CLASSES = frozenset({"IN", "CH", "CS", "HS", "ANY", "NONE"})
_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TTL_RE = re.compile(r"^(?:\d+[smhdw]?)+$", re.IGNORECASE)


class ZoneSyntaxError(ValueError):
    """A zone file does not follow the master file syntax."""

    def __init__(self, message: str, filename: str = "<zone>", lineno: int = 0) -> None:
        super().__init__(f"{filename}:{lineno}: {message}")
        self.filename = filename
        self.lineno = lineno


@dataclass(frozen=True, slots=True)
class ZoneEntry:
    """
    One resource record of a zone file, before its data is interpreted.

    Attributes:
        name: the absolute owner name, without the trailing dot, as written.
        ttl: the TTL in seconds.
        cls: the class mnemonic (``"IN"``).
        type: the type mnemonic, upper case (``"A"``, ``"TYPE65280"``).
        rdata: the data tokens; bare words are ``str``, quoted strings are
            ``bytes`` with their escapes decoded.
        origin: the origin in force for this record, to make relative names
            in ``rdata`` absolute (see :func:`absoluteName`).
        filename: the file the record came from.
        lineno: the line the record starts on.
    """

    name: str
    ttl: int
    cls: str
    type: str
    rdata: tuple[str | bytes, ...]
    origin: str
    filename: str = "<zone>"
    lineno: int = 0


def parseTTL(text: str) -> int:
    """
    Parse a TTL: seconds, or BIND's units (``1w2d3h4m5s``, case-insensitive).

    Raises:
        ValueError: ``text`` is not a TTL.
    """
    if not _TTL_RE.match(text):
        raise ValueError(f"not a TTL: {text!r}")
    total = 0
    for number, unit in re.findall(r"(\d+)([smhdw]?)", text, re.IGNORECASE):
        total += int(number) * _TTL_UNITS[unit.lower() or "s"]
    if total > 0x7FFFFFFF:
        # RFC 2181 section 8: TTLs are 31-bit values.
        raise ValueError(f"TTL out of range: {text!r}")
    return total


def absoluteName(name: str, origin: str) -> str:
    """
    Make a name from a zone file absolute: ``@`` is the origin, a name ending
    in an unescaped ``.`` is absolute, any other is relative to ``origin``.
    The result has no trailing dot (the root is ``""``).
    """
    if name == "@":
        return origin
    if _endsWithDot(name):
        return name[:-1]
    if not origin:
        return name
    return f"{name}.{origin}"


def _endsWithDot(name: str) -> bool:
    if not name.endswith("."):
        return False
    backslashes = len(name[:-1]) - len(name[:-1].rstrip("\\"))
    return backslashes % 2 == 0


@dataclass
class _Line:
    tokens: list[str | bytes]
    blankOwner: bool
    lineno: int


def _decodeQuoted(raw: str, filename: str, lineno: int) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\":
            if raw[i + 1 : i + 4].isdigit() and len(raw[i + 1 : i + 4]) == 3:
                value = int(raw[i + 1 : i + 4])
                if value > 255:
                    raise ZoneSyntaxError(f"bad escape \\{raw[i + 1 : i + 4]}", filename, lineno)
                out.append(value)
                i += 4
                continue
            if i + 1 >= len(raw):
                raise ZoneSyntaxError("dangling backslash", filename, lineno)
            out += raw[i + 1].encode("utf-8")
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def _logicalLines(text: str, filename: str) -> Iterator[_Line]:
    """Split text into logical lines: parentheses joined, comments removed."""
    i = 0
    n = len(text)
    lineno = 1
    depth = 0
    current: _Line | None = None
    atLineStart = True
    while i < n:
        c = text[i]
        if c == "\n":
            lineno += 1
            i += 1
            if depth == 0:
                if current is not None and current.tokens:
                    yield current
                current = None
                atLineStart = True
            continue
        if atLineStart and depth == 0:
            current = _Line([], c in " \t", lineno)
            atLineStart = False
        assert current is not None
        if c in " \t\r":
            i += 1
        elif c == ";":
            while i < n and text[i] != "\n":
                i += 1
        elif c == "(":
            depth += 1
            i += 1
        elif c == ")":
            if depth == 0:
                raise ZoneSyntaxError("unbalanced ')'", filename, lineno)
            depth -= 1
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    lineno += 1
                j += 1
            if j >= n:
                raise ZoneSyntaxError("unterminated quoted string", filename, current.lineno)
            current.tokens.append(_decodeQuoted(text[i + 1 : j], filename, lineno))
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n;()"':
                if text[j] == "\\":
                    j += 1
                j += 1
            current.tokens.append(text[i:j])
            i = j
    if depth:
        raise ZoneSyntaxError("unbalanced '('", filename, lineno)
    if current is not None and current.tokens:
        yield current


def _isTTL(token: str) -> bool:
    return bool(_TTL_RE.match(token))


def _isClass(token: str) -> bool:
    upper = token.upper()
    return upper in _CLASSES or (upper.startswith("CLASS") and upper[5:].isdigit())


def parseZone(
    text: str,
    origin: str = "",
    filename: str = "<zone>",
    readInclude: Callable[[str], tuple[str, str]] | None = None,
    defaultTTL: int | None = None,
    _depth: int = 0,
) -> list[ZoneEntry]:
    """
    Parse the text of a zone file.

    Args:
        text: the zone file.
        origin: the initial origin (``$ORIGIN`` changes it), absolute,
            with or without its trailing dot.
        filename: the name used in error messages.
        readInclude: called with a ``$INCLUDE`` file name, returns the
            included text and its file name (for relative includes and
            messages); raises :class:`ZoneSyntaxError` to refuse it.  When
            ``None``, ``$INCLUDE`` is an error.
        defaultTTL: the TTL of records that give none, before any ``$TTL``.

    Returns:
        The records, in file order.  Records without a TTL when no default
        is known take the SOA's minimum field (RFC 1035's rule, BIND's
        behaviour).

    Raises:
        ZoneSyntaxError: the text is not a valid zone file.
    """
    origin = origin[:-1] if _endsWithDot(origin) else origin
    entries: list[ZoneEntry] = []
    owner: str | None = None
    ttlDefault = defaultTTL
    lastTTL: int | None = None
    pending: list[int] = []
    for line in _logicalLines(text, filename):
        tokens = line.tokens
        first = tokens[0]
        if isinstance(first, str) and first.startswith("$") and not line.blankOwner:
            directive = first.upper()
            args = tokens[1:]
            if any(isinstance(a, bytes) for a in args):
                raise ZoneSyntaxError(f"quoted argument to {directive}", filename, line.lineno)
            words = [a for a in args if isinstance(a, str)]
            if directive == "$ORIGIN":
                if len(words) != 1:
                    raise ZoneSyntaxError("$ORIGIN takes one name", filename, line.lineno)
                origin = absoluteName(words[0], origin)
            elif directive == "$TTL":
                if len(words) != 1:
                    raise ZoneSyntaxError("$TTL takes one TTL", filename, line.lineno)
                try:
                    ttlDefault = parseTTL(words[0])
                except ValueError as e:
                    raise ZoneSyntaxError(str(e), filename, line.lineno) from None
            elif directive == "$INCLUDE":
                if not 1 <= len(words) <= 2:
                    raise ZoneSyntaxError(
                        "$INCLUDE takes a file and an origin", filename, line.lineno
                    )
                if readInclude is None:
                    raise ZoneSyntaxError("$INCLUDE is not allowed here", filename, line.lineno)
                if _depth >= MAX_INCLUDE_DEPTH:
                    raise ZoneSyntaxError("$INCLUDE nested too deeply", filename, line.lineno)
                includeOrigin = absoluteName(words[1], origin) if len(words) == 2 else origin
                includedText, includedName = readInclude(words[0])
                entries.extend(
                    parseZone(
                        includedText,
                        includeOrigin,
                        includedName,
                        readInclude,
                        ttlDefault,
                        _depth + 1,
                    )
                )
            else:
                raise ZoneSyntaxError(f"unknown directive {first}", filename, line.lineno)
            continue

        index = 0
        if not line.blankOwner:
            if isinstance(first, bytes):
                raise ZoneSyntaxError("quoted owner name", filename, line.lineno)
            owner = absoluteName(first, origin)
            index = 1
        elif owner is None:
            raise ZoneSyntaxError("no owner name for the first record", filename, line.lineno)
        ttl: int | None = None
        cls: str | None = None
        rrtype: str | None = None
        while index < len(tokens):
            token = tokens[index]
            index += 1
            if isinstance(token, bytes):
                raise ZoneSyntaxError("quoted string where a type belongs", filename, line.lineno)
            if ttl is None and _isTTL(token):
                try:
                    ttl = parseTTL(token)
                except ValueError as e:
                    raise ZoneSyntaxError(str(e), filename, line.lineno) from None
            elif cls is None and _isClass(token):
                cls = token.upper()
            else:
                rrtype = token.upper()
                break
        if rrtype is None:
            raise ZoneSyntaxError("record has no type", filename, line.lineno)
        if ttl is not None:
            lastTTL = ttl
        elif ttlDefault is not None:
            ttl = ttlDefault
        elif lastTTL is not None:
            ttl = lastTTL
        rdata = tuple(tokens[index:])
        if rrtype == "SOA" and ttl is None and len(rdata) == 7 and isinstance(rdata[6], str):
            try:
                ttl = parseTTL(rdata[6])
            except ValueError:
                pass
        if ttl is None:
            pending.append(len(entries))
        entries.append(
            ZoneEntry(owner, ttl or 0, cls or "IN", rrtype, rdata, origin, filename, line.lineno)
        )
    if pending:
        minimum = _soaMinimum(entries)
        if minimum is None:
            entry = entries[pending[0]]
            raise ZoneSyntaxError("record has no TTL and there is no $TTL", filename, entry.lineno)
        for i in pending:
            old = entries[i]
            entries[i] = ZoneEntry(
                old.name,
                minimum,
                old.cls,
                old.type,
                old.rdata,
                old.origin,
                old.filename,
                old.lineno,
            )
    return entries


def _soaMinimum(entries: list[ZoneEntry]) -> int | None:
    for e in entries:
        if e.type == "SOA" and len(e.rdata) == 7 and isinstance(e.rdata[6], str):
            try:
                return parseTTL(e.rdata[6])
            except ValueError:
                return None
    return None


def readZoneFile(
    filename: str, origin: str = "", *, includeRoot: str | None = None
) -> list[ZoneEntry]:
    """
    Read and parse a zone file.

    ``$INCLUDE`` names are relative to ``includeRoot`` (by default the zone
    file's directory, as BIND resolves them against its working directory)
    and must stay inside it: a zone file cannot make the server read files
    elsewhere.

    Raises:
        ZoneSyntaxError: the file is not a valid zone file, is too large,
            or includes a file outside ``includeRoot``.
        OSError: a file cannot be read.
    """
    root = os.path.realpath(includeRoot or os.path.dirname(os.path.abspath(filename)))

    def read(path: str) -> str:
        with open(path, "rb") as f:
            data = f.read(MAX_ZONE_FILE_SIZE + 1)
        if len(data) > MAX_ZONE_FILE_SIZE:
            raise ZoneSyntaxError(f"larger than {MAX_ZONE_FILE_SIZE} bytes", path, 0)
        return data.decode("utf-8", "surrogateescape")

    def readInclude(name: str) -> tuple[str, str]:
        path = os.path.realpath(os.path.join(root, name))
        if os.path.commonpath([root, path]) != root:
            raise ZoneSyntaxError(f"$INCLUDE {name} is outside {root}", filename, 0)
        return read(path), path

    return parseZone(read(filename), origin, filename, readInclude)
