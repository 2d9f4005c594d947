"""HTTP dates (RFC 9110 section 5.6.7) and the cached ``Date`` header."""

from __future__ import annotations

import calendar
import time

__all__ = ["datetimeToLogString", "datetimeToString", "stringToDatetime", "timegm"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {name.lower().encode(): i + 1 for i, name in enumerate(_MONTHS)}


def timegm(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """Return the POSIX time of a UTC broken-down time."""
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def datetimeToString(msSinceEpoch: float | None = None) -> bytes:
    """Return ``msSinceEpoch`` (seconds, despite the name; now by default) as an IMF-fixdate."""
    if msSinceEpoch is None:
        msSinceEpoch = time.time()
    t = time.gmtime(msSinceEpoch)
    return (
        f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    ).encode("ascii")


def datetimeToLogString(msSinceEpoch: float | None = None) -> str:
    """Return a time in the access-log format, ``[02/Dec/2026:06:51:35 +0000]``."""
    if msSinceEpoch is None:
        msSinceEpoch = time.time()
    t = time.gmtime(msSinceEpoch)
    return (
        f"[{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000]"
    )


def stringToDatetime(dateString: bytes) -> int:
    """
    Parse an HTTP date (IMF-fixdate, RFC 850 or asctime form) into POSIX time.

    Raises:
        ValueError: ``dateString`` is not an HTTP date.
    """
    parts = dateString.replace(b",", b" ").split()
    try:
        if len(parts) == 6 and parts[5].upper() == b"GMT" and b"-" not in parts[1]:
            day, month, year, clock = parts[1], parts[2], parts[3], parts[4]
        elif len(parts) == 4 and b"-" in parts[1]:  # RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            day, month, year = parts[1].split(b"-")
            clock = parts[2]
            y = int(year)
            year = str(y + (1900 if y >= 70 else 2000) if y < 100 else y).encode()
        elif len(parts) == 5:  # asctime: Sun Nov  6 08:49:37 1994
            month, day, clock, year = parts[1], parts[2], parts[3], parts[4]
        else:
            raise ValueError(f"not an HTTP date: {dateString!r}")
        hour, minute, second = (int(x) for x in clock.split(b":"))
        monthNumber = _MONTH_NUMBERS[month.lower()]
        return timegm(int(year), monthNumber, int(day), hour, minute, second)
    except (KeyError, ValueError, IndexError) as e:
        raise ValueError(f"not an HTTP date: {dateString!r}") from e


class _DateCache:
    """The ``Date`` header value, recomputed at most once a second."""

    __slots__ = ("_line", "_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""
        self._line = b""

    def get(self, now: float) -> bytes:
        """Return the HTTP date of ``now``."""
        second = int(now)
        if second != self._second:
            self._second = second
            self._value = datetimeToString(second)
            self._line = b"Date: " + self._value + b"\r\n"
        return self._value

    def line(self) -> bytes:
        """Return the header line ``Date: <now>\\r\\n``."""
        now = time.time()
        if int(now) != self._second:
            self.get(now)
        return self._line


dateCache = _DateCache()
