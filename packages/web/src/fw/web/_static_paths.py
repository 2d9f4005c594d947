"""
Pure helpers of :mod:`fw.web.static`: path safety and content types.

Nothing here touches a request; everything is a function of its arguments, so
it can be tested on its own.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "UnsafePath",
    "checkSegment",
    "getTypeAndEncoding",
    "isInside",
    "loadMimeTypes",
]


class UnsafePath(ValueError):
    """
    A path segment from a request would leave the served tree or name
    something no file can be called (``..``, a slash, a NUL...).
    """


# Characters that cannot appear in one segment of a served path.  The
# server percent-decodes each segment after splitting on ``/``, so ``%2f``
# arrives here as a slash and ``%00`` as a NUL: both are refused, as is a
# backslash (a separator on Windows and a classic traversal vector).
_FORBIDDEN = (b"/", b"\\", b"\x00")


def checkSegment(segment: bytes) -> str:
    """
    Check one decoded path segment and return it as a file name.

    Raises:
        UnsafePath: the segment is ``.``, ``..``, or contains a separator or
            a NUL byte.
    """
    if segment in (b".", b".."):
        raise UnsafePath(f"refusing the segment {segment!r}")
    for bad in _FORBIDDEN:
        if bad in segment:
            raise UnsafePath(f"refusing a segment containing {bad!r}")
    # Names are bytes on the wire; the filesystem decoding (with
    # surrogateescape) round-trips any byte sequence to the same file.
    name = os.fsdecode(segment)
    if os.sep in name or (os.altsep is not None and os.altsep in name):
        raise UnsafePath(f"refusing a segment containing a separator: {segment!r}")
    return name


def isInside(root: str, candidate: str) -> bool:
    """
    Whether ``candidate`` is ``root`` or lies below it, after resolving every
    symbolic link in both.
    """
    realRoot = os.path.realpath(root)
    realCandidate = os.path.realpath(candidate)
    if realCandidate == realRoot:
        return True
    return os.path.commonpath([realRoot, realCandidate]) == realRoot


def loadMimeTypes(
    mimetype_locations: Iterable[str] | None = None,
    init: Callable[..., None] = mimetypes.init,
) -> dict[str, str]:
    """
    Build the extension-to-content-type map used by
    :class:`~fw.web.static.File`.

    Args:
        mimetype_locations: ``mime.types`` files to read in addition to the
            system's; ``None`` reads the system's only.
        init: the function that loads the files (``mimetypes.init``).

    Returns:
        A new dictionary from extensions (``".html"``) to types.
    """
    init(list(mimetype_locations) if mimetype_locations is not None else None)
    types = dict(mimetypes.types_map)
    # A few the system tables miss or get wrong for serving.
    types.update(
        {
            ".conf": "text/plain",
            ".diff": "text/plain",
            ".flac": "audio/x-flac",
            ".java": "text/plain",
            ".oz": "text/x-oz",
            ".swf": "application/x-shockwave-flash",
            ".wml": "text/vnd.wap.wml",
            ".xul": "application/vnd.mozilla.xul+xml",
            ".patch": "text/plain",
            ".py": "text/plain",
            ".md": "text/markdown",
            ".mjs": "text/javascript",
            ".js": "text/javascript",
            ".wasm": "application/wasm",
        }
    )
    return types


def getTypeAndEncoding(
    filename: str,
    types: Mapping[str, str],
    encodings: Mapping[str, str],
    defaultType: str,
) -> tuple[str, str | None]:
    """
    The content type and content encoding of a file, from its name.

    ``archive.tar.gz`` is ``application/x-tar`` with the ``gzip`` encoding.

    Returns:
        ``(type, encoding)``; ``encoding`` is ``None`` when there is none.
    """
    base, ext = os.path.splitext(filename)
    ext = ext.lower()
    encoding = encodings.get(ext)
    if encoding is not None:
        base, ext = os.path.splitext(base)
        ext = ext.lower()
    return types.get(ext, defaultType), encoding
