"""
The sans-IO parts of CGI (RFC 3875): the meta-variables given to a script and
the parser of the header block a script writes before its body.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_SIZE",
    "CGIHeaderError",
    "CGIHeaderParser",
    "CGIResponseHead",
    "buildEnvironment",
]

# A script's header block is usually a few hundred bytes.  64 KiB matches
# the largest request head common servers accept, and bounds what a broken
# script can make us buffer before its body starts.
DEFAULT_MAX_HEADER_SIZE = 64 * 1024
# Far above what any real response carries; bounds per-header overhead.
DEFAULT_MAX_HEADER_COUNT = 100


class CGIHeaderError(Exception):
    """
    The script's output is not a valid CGI response head: malformed,
    oversized, or ended before the blank line.  The server answers 502.
    """


@dataclass(frozen=True, slots=True)
class CGIResponseHead:
    """The parsed head of a script's response."""

    #: The status code: from ``Status``, else 302 with ``Location``, else 200.
    code: int
    #: The reason phrase from ``Status``, or ``None``.
    message: bytes | None
    #: The other header fields, in order; ``Status`` is removed.
    headers: tuple[tuple[bytes, bytes], ...]


_TOKEN = frozenset(
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


class CGIHeaderParser:
    """
    Parses a script's header block, fed in pieces of any size.

    :meth:`feed` returns ``None`` until the blank line ending the head has
    arrived, then the bytes after it (the start of the body); :attr:`head`
    is set from then on.  Lines may end with LF or CRLF (RFC 3875 section
    6.3 allows a script either).

    Args:
        maxSize: the longest head accepted, in bytes.
        maxCount: the most header fields accepted.
    """

    def __init__(
        self, maxSize: int = DEFAULT_MAX_HEADER_SIZE, maxCount: int = DEFAULT_MAX_HEADER_COUNT
    ) -> None:
        self.maxSize = maxSize
        self.maxCount = maxCount
        self.head: CGIResponseHead | None = None
        self._buffer = bytearray()
        self._fields: list[tuple[bytes, bytes]] = []
        self._seen = 0

    def feed(self, data: bytes) -> bytes | None:
        """
        Feed output from the script.

        Returns:
            ``None`` while the head is incomplete; then the body bytes that
            followed it (possibly empty).

        Raises:
            CGIHeaderError: the head is malformed or too large.
        """
        if self.head is not None:
            return data
        self._buffer += data
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if self._seen + len(self._buffer) > self.maxSize:
                    raise CGIHeaderError(f"script header block longer than {self.maxSize} bytes")
                return None
            line = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            self._seen += newline + 1
            if self._seen > self.maxSize:
                raise CGIHeaderError(f"script header block longer than {self.maxSize} bytes")
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                self.head = self._finish()
                rest = bytes(self._buffer)
                self._buffer.clear()
                return rest
            self._addLine(line)

    def _addLine(self, line: bytes) -> None:
        if line[:1] in (b" ", b"\t"):
            # Obsolete line folding (RFC 9112 5.2): refuse, as HTTP does.
            raise CGIHeaderError("folded header line in script output")
        name, colon, value = line.partition(b":")
        if not colon or not name or not all(c in _TOKEN for c in name):
            raise CGIHeaderError(f"malformed header line in script output: {line[:60]!r}")
        value = value.strip(b" \t")
        if b"\r" in value or b"\x00" in value:
            raise CGIHeaderError("control character in a script header value")
        if len(self._fields) >= self.maxCount:
            raise CGIHeaderError(f"script sent more than {self.maxCount} header fields")
        self._fields.append((name, value))

    def _finish(self) -> CGIResponseHead:
        code: int | None = None
        message: bytes | None = None
        headers: list[tuple[bytes, bytes]] = []
        hasLocation = False
        for name, value in self._fields:
            lower = name.lower()
            if lower == b"status":
                codeText, _, reason = value.partition(b" ")
                if len(codeText) != 3 or not codeText.isdigit() or not 100 <= int(codeText) <= 599:
                    raise CGIHeaderError(f"bad Status from script: {value[:60]!r}")
                code = int(codeText)
                message = reason.strip() or None
                continue
            if lower == b"location":
                hasLocation = True
            headers.append((name, value))
        if code is None:
            # RFC 3875 6.2.3/6.2.4: a Location without Status is a redirect.
            code = 302 if hasLocation else 200
        return CGIResponseHead(code, message, tuple(headers))


# Request headers given to scripts without the HTTP_ prefix (RFC 3875
# 4.1.2, 4.1.3), and ones never passed: "Proxy" would become HTTP_PROXY,
# which many HTTP libraries read as their proxy setting ("httpoxy",
# CVE-2016-5385); credentials are the server's business (RFC 3875 4.1.18).
_UNPREFIXED = {b"content-type": "CONTENT_TYPE", b"content-length": "CONTENT_LENGTH"}
_NEVER_PASSED = frozenset({b"proxy", b"authorization", b"proxy-authorization"})


def buildEnvironment(
    *,
    method: bytes,
    uri: bytes,
    scriptName: bytes,
    scriptFilename: str,
    postpath: Iterable[bytes],
    headers: Iterable[tuple[bytes, Iterable[bytes]]],
    serverName: bytes,
    serverPort: int,
    serverProtocol: bytes,
    remoteAddr: str | None,
    remotePort: int | None = None,
    remoteUser: bytes | None = None,
    authType: bytes | None = None,
    https: bool = False,
    documentRoot: str | None = None,
    serverSoftware: str = "fw.web",
    inherit: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """
    The environment of a CGI script: RFC 3875 section 4.1 meta-variables
    plus one ``HTTP_*`` variable per request header.

    Bytes become text with :func:`os.fsdecode`, so the script sees the
    exact bytes the client sent.

    Args:
        inherit: variables of the server's own environment to pass on
            (``PATH``, ``PYTHONPATH``...); the meta-variables win over them,
            and ``HTTP_*`` names from it are dropped.
    """
    env: dict[str, str] = {}
    if inherit is not None:
        env = {key: value for key, value in inherit.items() if not key.startswith("HTTP_")}
    d = os.fsdecode
    query = uri.partition(b"?")[2]
    pathInfo = list(postpath)
    env.update(
        {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_SOFTWARE": serverSoftware,
            "SERVER_NAME": d(serverName),
            "SERVER_PORT": str(serverPort),
            "SERVER_PROTOCOL": d(serverProtocol),
            "REQUEST_METHOD": d(method),
            "REQUEST_URI": d(uri),
            "SCRIPT_NAME": d(scriptName),
            "SCRIPT_FILENAME": scriptFilename,
            "QUERY_STRING": d(query),
            "REMOTE_ADDR": remoteAddr or "",
        }
    )
    if remotePort is not None:
        env["REMOTE_PORT"] = str(remotePort)
    if pathInfo:
        info = "/" + "/".join(d(segment) for segment in pathInfo)
        env["PATH_INFO"] = info
        if documentRoot is not None:
            env["PATH_TRANSLATED"] = os.path.join(documentRoot, info.lstrip("/"))
    if remoteUser:
        env["REMOTE_USER"] = d(remoteUser)
    if authType:
        env["AUTH_TYPE"] = d(authType)
    if https:
        env["HTTPS"] = "on"
    for rawName, values in headers:
        name = rawName.lower()
        if name in _NEVER_PASSED or b"_" in name:
            # A header spelled with an underscore would collide with the
            # dash form after translation (X_Forwarded vs X-Forwarded):
            # drop it, as nginx and Apache do.
            continue
        joined = b", ".join(values)
        key = _UNPREFIXED.get(name) or "HTTP_" + d(name).upper().replace("-", "_")
        env[key] = d(joined)
    return env
