"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data`` (RFC 7578)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs as _parse_qs

__all__ = ["FormError", "parseContentType", "parseForm", "parse_qs"]

#: Most parts accepted in one multipart body.
MAX_MULTIPART_PARTS = 1000


class FormError(ValueError):
    """A form body is malformed (answered with 400)."""


def parse_qs(
    qs: bytes, keep_blank_values: bool = False, strict_parsing: bool = False
) -> dict[bytes, list[bytes]]:
    """Parse a query string into ``{name: [values]}`` (bytes in, bytes out)."""
    return _parse_qs(qs, keep_blank_values=keep_blank_values, strict_parsing=strict_parsing)


_PARAM = re.compile(rb';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')


def parseContentType(value: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """Split a media type into its lower-cased ``type/subtype`` and parameters."""
    semi = value.find(b";")
    mediaType = (value if semi < 0 else value[:semi]).strip().lower()
    params: dict[bytes, bytes] = {}
    if semi >= 0:
        for name, raw in _PARAM.findall(value[semi:]):
            if raw[:1] == b'"':
                raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
            params[name.lower()] = raw
    return mediaType, params


def _parseMultipart(body: bytes, boundary: bytes) -> dict[bytes, list[bytes]]:
    if not boundary or len(boundary) > 200:
        raise FormError("bad multipart boundary")
    delimiter = b"--" + boundary
    result: dict[bytes, list[bytes]] = {}
    start = body.find(delimiter)
    if start < 0:
        raise FormError("multipart boundary not found")
    pos = start + len(delimiter)
    parts = 0
    while True:
        if body[pos : pos + 2] == b"--":
            return result
        if body[pos : pos + 2] != b"\r\n":
            raise FormError("malformed multipart delimiter")
        pos += 2
        nxt = body.find(b"\r\n" + delimiter, pos)
        if nxt < 0:
            raise FormError("unterminated multipart body")
        part = body[pos:nxt]
        pos = nxt + 2 + len(delimiter)
        parts += 1
        if parts > MAX_MULTIPART_PARTS:
            raise FormError("too many multipart parts")
        headEnd = part.find(b"\r\n\r\n")
        if headEnd < 0:
            if part.startswith(b"\r\n"):
                head, content = b"", part[2:]
            else:
                raise FormError("malformed multipart part")
        else:
            head, content = part[:headEnd], part[headEnd + 4 :]
        name = None
        for line in head.split(b"\r\n"):
            fieldName, _, fieldValue = line.partition(b":")
            if fieldName.strip().lower() == b"content-disposition":
                disposition, params = parseContentType(fieldValue)
                if disposition == b"form-data":
                    name = params.get(b"name")
        if name is not None:
            result.setdefault(name, []).append(content)


def parseForm(contentType: bytes, body: bytes) -> dict[bytes, list[bytes]]:
    """
    Parse a form body of ``contentType``; other types give ``{}``.

    Raises:
        FormError: The body is malformed.
    """
    mediaType, params = parseContentType(contentType)
    if mediaType == b"application/x-www-form-urlencoded":
        return parse_qs(body, keep_blank_values=True)
    if mediaType == b"multipart/form-data":
        return _parseMultipart(body, params.get(b"boundary", b""))
    return {}
