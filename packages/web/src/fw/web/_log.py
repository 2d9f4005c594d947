"""
The access log: combined log format lines, buffered off the request path.

:class:`AccessLog` only remembers ``(time, request)`` when a request
finishes; lines are formatted and written at most once a second or every
:data:`FLUSH_ENTRIES` requests, so logging costs the hot path one list append.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from fw.web._http_dates import datetimeToLogString

__all__ = ["AccessLog", "combinedLogFormatter", "proxiedLogFormatter"]

#: Buffered entries that trigger a write.
FLUSH_ENTRIES = 1000
#: Seconds between writes of a non-empty buffer.
FLUSH_INTERVAL = 1.0


def _escape(value: bytes | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bytes):
        value = value.decode("ascii", "backslashreplace")
    out = []
    for ch in value:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 256 else ch)
    return "".join(out)


def _line(timestamp: str, request: Any, ip: str) -> str:
    length = request.sentLength
    user = request.getUser() if hasattr(request, "getUser") else b""
    return '{ip} - {user} {ts} "{method} {uri} {proto}" {code} {length} "{ref}" "{agent}"'.format(
        ip=_escape(ip),
        user=_escape(user) if user else "-",
        ts=timestamp,
        method=_escape(request.method),
        uri=_escape(request.uri),
        proto=_escape(request.clientproto),
        code=request.code,
        length=length if length else "-",
        ref=_escape(request.getHeader(b"referer")),
        agent=_escape(request.getHeader(b"user-agent")),
    )


def combinedLogFormatter(timestamp: str, request: Any) -> str:
    """Return ``request`` as a line in the combined log format (Apache's and nginx's)."""
    return _line(timestamp, request, request.getClientIP() or "-")


def proxiedLogFormatter(timestamp: str, request: Any) -> str:
    """Like :func:`combinedLogFormatter`, with the client from the last ``X-Forwarded-For`` hop."""
    forwarded = request.getHeader(b"x-forwarded-for")
    if forwarded:
        ip = forwarded.split(b",")[-1].strip().decode("ascii", "replace")
    else:
        ip = request.getClientIP() or "-"
    return _line(timestamp, request, ip)


class AccessLog:
    """
    A buffered access log writing formatted lines to ``file``.

    Args:
        file: A text file open for appending.
        formatter: ``(timestamp, request) -> line``.
        clock: The reactor used to schedule flushes (``None``: flush on size and close only).
    """

    def __init__(
        self,
        file: IO[str],
        formatter: Callable[[str, Any], str] = combinedLogFormatter,
        clock: Any = None,
    ) -> None:
        self._file = file
        self._formatter = formatter
        self._clock = clock
        self._entries: list[tuple[float, Any]] = []
        self._flushCall: Any = None

    def log(self, request: Any) -> None:
        """Remember ``request`` for the next flush."""
        entries = self._entries
        now = self._clock.seconds() if self._clock is not None else time.time()
        entries.append((now, request))
        if len(entries) >= FLUSH_ENTRIES:
            self.flush()
        elif self._flushCall is None and self._clock is not None:
            self._flushCall = self._clock.callLater(FLUSH_INTERVAL, self._scheduledFlush)

    def _scheduledFlush(self) -> None:
        self._flushCall = None
        self.flush()

    def flush(self) -> None:
        """Format and write every buffered entry."""
        entries, self._entries = self._entries, []
        if not entries:
            return
        formatter = self._formatter
        lines = []
        lastSecond = -1
        stamp = ""
        for when, request in entries:
            second = int(when)
            if second != lastSecond:
                lastSecond = second
                stamp = datetimeToLogString(second)
            lines.append(formatter(stamp, request) + "\n")
        self._file.write("".join(lines))
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        self.flush()
        self._file.close()
