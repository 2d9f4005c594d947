"""
Pure helpers of :mod:`fw.web.static`: byte ranges and conditional requests
(RFC 9110 sections 13 and 14).
"""

from __future__ import annotations

import email.utils
import enum
import os
from collections.abc import Sequence

__all__ = [
    "MAX_RANGES",
    "Condition",
    "RangeNotSatisfiable",
    "evaluateConditions",
    "ifRangeMatches",
    "makeETag",
    "multipartLayout",
    "parseRange",
    "resolveRanges",
]

# A client asking for hundreds of small, overlapping ranges makes the server
# do far more work than sending the file (CVE-2011-3192, "Apache Killer").
# Browsers and download managers ask for one, media players for a few; above
# this many, the Range header is ignored and the whole file is sent.
MAX_RANGES = 32


class RangeNotSatisfiable(ValueError):
    """No requested range overlaps the representation (answer 416)."""


def parseRange(header: bytes) -> list[tuple[int | None, int | None]]:
    """
    Parse a ``Range`` header (RFC 9110 section 14.1.2).

    Returns:
        ``(first, last)`` pairs: ``(0, 499)``, ``(500, None)`` for ``500-``,
        ``(None, 500)`` for the suffix ``-500``.

    Raises:
        ValueError: the header is malformed, uses a unit other than
            ``bytes`` or holds more than :data:`MAX_RANGES` ranges; the
            caller ignores the header, as section 14.2 allows.
    """
    unit, sep, spec = header.partition(b"=")
    if not sep or unit.strip().lower() != b"bytes":
        raise ValueError(f"unsupported range unit in {header[:40]!r}")
    ranges: list[tuple[int | None, int | None]] = []
    for part in spec.split(b","):
        part = part.strip(b" \t")
        if not part:
            # RFC 9110 5.6.1: empty list elements are tolerated.
            continue
        if len(ranges) >= MAX_RANGES:
            raise ValueError("too many ranges")
        first, dash, last = part.partition(b"-")
        if not dash:
            raise ValueError(f"malformed range {part[:40]!r}")
        first, last = first.strip(b" \t"), last.strip(b" \t")
        if not first:
            if not _isDigits(last):
                raise ValueError(f"malformed suffix range {part[:40]!r}")
            ranges.append((None, int(last)))
            continue
        if not _isDigits(first) or (last and not _isDigits(last)):
            raise ValueError(f"malformed range {part[:40]!r}")
        start = int(first)
        end = int(last) if last else None
        if end is not None and end < start:
            raise ValueError(f"range ends before it starts: {part[:40]!r}")
        ranges.append((start, end))
    if not ranges:
        raise ValueError("empty range set")
    return ranges


def _isDigits(value: bytes) -> bool:
    # bytes.isdigit() is ASCII-only, unlike str.isdigit(); the length bound
    # keeps int() from chewing on a megabyte of digits.
    return 0 < len(value) <= 20 and value.isdigit()


def resolveRanges(
    ranges: Sequence[tuple[int | None, int | None]], size: int
) -> list[tuple[int, int]]:
    """
    Turn parsed ranges into ``(start, stop)`` offsets (``stop`` exclusive)
    for a representation of ``size`` bytes, dropping the unsatisfiable ones.

    Raises:
        RangeNotSatisfiable: none of the ranges overlaps the representation.
    """
    result: list[tuple[int, int]] = []
    for first, last in ranges:
        if first is None:
            assert last is not None
            if last == 0 or size == 0:
                continue
            result.append((max(0, size - last), size))
        else:
            if first >= size:
                continue
            stop = size if last is None else min(last + 1, size)
            result.append((first, stop))
    if not result:
        raise RangeNotSatisfiable(f"no range within {size} bytes")
    return result


def makeETag(stat: os.stat_result) -> bytes:
    """
    A strong entity tag for a file, from its inode, size and modification
    time in nanoseconds.
    """
    return b'"%x-%x-%x"' % (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _etagList(header: bytes) -> list[bytes]:
    return [tag.strip(b" \t") for tag in header.split(b",") if tag.strip(b" \t")]


def _weakMatch(tags: list[bytes], etag: bytes) -> bool:
    # RFC 9110 8.8.3.2: weak comparison ignores the W/ prefix.
    bare = etag.removeprefix(b"W/")
    return any(tag == b"*" or tag.removeprefix(b"W/") == bare for tag in tags)


def _strongMatch(tags: list[bytes], etag: bytes) -> bool:
    if etag.startswith(b"W/"):
        return False
    return any(tag == b"*" or tag == etag for tag in tags)


def _parseDate(value: bytes) -> int | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return None
    return int(parsed.timestamp())


class Condition(enum.Enum):
    """The outcome of evaluating a request's preconditions."""

    #: Go on and send the representation.
    PROCEED = "proceed"
    #: Answer ``304 Not Modified``.
    NOT_MODIFIED = "not-modified"
    #: Answer ``412 Precondition Failed``.
    PRECONDITION_FAILED = "precondition-failed"


def evaluateConditions(
    method: bytes,
    etag: bytes,
    lastModified: float,
    ifMatch: bytes | None = None,
    ifUnmodifiedSince: bytes | None = None,
    ifNoneMatch: bytes | None = None,
    ifModifiedSince: bytes | None = None,
) -> Condition:
    """
    Evaluate conditional request headers in the order of RFC 9110 section
    13.2.2.

    Args:
        method: the request method; only ``GET`` and ``HEAD`` can be
            answered with 304.
        etag: the representation's current entity tag.
        lastModified: its modification time, in seconds since the epoch.
    """
    mtime = int(lastModified)
    if ifMatch is not None:
        if not _strongMatch(_etagList(ifMatch), etag):
            return Condition.PRECONDITION_FAILED
    elif ifUnmodifiedSince is not None:
        since = _parseDate(ifUnmodifiedSince)
        if since is not None and mtime > since:
            return Condition.PRECONDITION_FAILED
    if ifNoneMatch is not None:
        if _weakMatch(_etagList(ifNoneMatch), etag):
            if method in (b"GET", b"HEAD"):
                return Condition.NOT_MODIFIED
            return Condition.PRECONDITION_FAILED
    elif ifModifiedSince is not None and method in (b"GET", b"HEAD"):
        since = _parseDate(ifModifiedSince)
        if since is not None and mtime <= since:
            return Condition.NOT_MODIFIED
    return Condition.PROCEED


def ifRangeMatches(ifRange: bytes, etag: bytes, lastModified: float) -> bool:
    """
    Whether an ``If-Range`` validator still matches (RFC 9110 section
    13.1.5): an entity tag must match strongly, a date exactly.
    """
    value = ifRange.strip(b" \t")
    if value.startswith((b'"', b"W/")):
        return _strongMatch([value], etag)
    since = _parseDate(value)
    return since is not None and since == int(lastModified)


def multipartLayout(
    ranges: Sequence[tuple[int, int]], size: int, contentType: bytes, boundary: bytes
) -> tuple[list[tuple[bytes, int, int]], bytes, int]:
    """
    Lay out a ``multipart/byteranges`` body (RFC 9110 section 14.6).

    Returns:
        ``(parts, trailer, length)``: each part is ``(header, start, stop)``
        where ``header`` goes before bytes ``start:stop`` of the file;
        ``trailer`` closes the body; ``length`` is the whole body's length.
    """
    parts: list[tuple[bytes, int, int]] = []
    length = 0
    for start, stop in ranges:
        header = b"\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n" % (
            boundary,
            contentType,
            start,
            stop - 1,
            size,
        )
        parts.append((header, start, stop))
        length += len(header) + (stop - start)
    trailer = b"\r\n--%s--\r\n" % (boundary,)
    return parts, trailer, length + len(trailer)
