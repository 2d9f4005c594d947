"""Rendering events as text.

An event's ``log_format`` is a :pep:`3101` format string whose fields name
keys of the event.  Beyond ``str.format``, a field may call what it names:
``{count()}``, ``{log_source.describe()}`` or ``{items[0].name()}`` call the
object with no arguments and format the result.  Positional fields (``{}``,
``{0}``) are not supported: events have names only.

Formatting is lazy (it happens when an observer wants text) and never raises:
an event that cannot be rendered is described instead, with the error.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from fw.logger._interfaces import LogEvent
from fw.python.reflect import safe_repr, safe_str

__all__ = [
    "KeyFlattener",
    "StringifiableFromEvent",
    "eventAsText",
    "flatFormat",
    "formatEvent",
    "formatEventAsClassicLogText",
    "formatField",
    "formatTime",
    "formatUnformattableEvent",
    "formatWithCall",
    "parseFormat",
    "resolveField",
    "timeFormatRFC3339",
]

#: The time format of :func:`formatTime` by default: RFC 3339 to the second,
#: with the local offset (``2026-01-01T12:00:00+0000``).
timeFormatRFC3339: Final = "%Y-%m-%dT%H:%M:%S%z"

# Nested replacement fields in a format spec (``{x:{width}}``) go this deep,
# as with str.format.
_MAX_SPEC_NESTING: Final = 2

_parser = string.Formatter()

#: One step after the first name of a field: (is an attribute, name or index,
#: call the result).
_Step = tuple[bool, "str | int", bool]


def parseFormat(formatString: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """Split a format string into (literal, field name, spec, conversion) parts.

    Raises:
        ValueError: the format string is malformed.
    """
    return list(_parser.parse(formatString))


def _stripCall(name: str) -> tuple[str, bool]:
    if name.endswith("()"):
        return name[:-2], True
    return name, False


@lru_cache(maxsize=2048)
def _parseFieldName(fieldName: str) -> tuple[str, bool, tuple[_Step, ...]]:
    """Parse ``a.b().c[key]()`` into its first name and the steps after it."""
    length = len(fieldName)
    i = 0
    while i < length and fieldName[i] not in ".[":
        i += 1
    first, callFirst = _stripCall(fieldName[:i])
    if not first:
        raise ValueError(f"Format field {fieldName!r} has no name (fields are named)")
    steps: list[_Step] = []
    while i < length:
        if fieldName[i] == ".":
            j = i + 1
            while j < length and fieldName[j] not in ".[":
                j += 1
            attribute, call = _stripCall(fieldName[i + 1 : j])
            if not attribute:
                raise ValueError(f"Empty attribute in format field {fieldName!r}")
            steps.append((True, attribute, call))
            i = j
        else:
            j = fieldName.find("]", i + 1)
            if j < 0:
                raise ValueError(f"Missing ']' in format field {fieldName!r}")
            key = fieldName[i + 1 : j]
            if not key:
                raise ValueError(f"Empty index in format field {fieldName!r}")
            index: str | int = int(key) if key.isdigit() else key
            j += 1
            call = fieldName.startswith("()", j)
            if call:
                j += 2
            if j < length and fieldName[j] not in ".[":
                raise ValueError(f"Only '.' or '[' may follow ']' in format field {fieldName!r}")
            steps.append((False, index, call))
            i = j
    return first, callFirst, tuple(steps)


def resolveField(fieldName: str, mapping: Mapping[str, Any]) -> Any:
    """Return the value that field ``fieldName`` of a format string names in ``mapping``.

    Raises:
        KeyError: the first name is not in ``mapping``.
        Exception: whatever looking up an attribute or index, or calling, raised.
    """
    first, callFirst, steps = _parseFieldName(fieldName)
    value = mapping[first]
    if callFirst:
        value = value()
    for isAttribute, key, call in steps:
        value = getattr(value, key) if isAttribute else value[key]  # type: ignore[arg-type]
        if call:
            value = value()
    return value


def _convert(value: object, conversion: str | None) -> object:
    if conversion is None:
        return value
    if conversion == "s":
        return str(value)
    if conversion == "r":
        return repr(value)
    if conversion == "a":
        return ascii(value)
    raise ValueError(f"Unknown conversion specifier {conversion!r}")


def formatField(
    fieldName: str,
    formatSpec: str | None,
    conversion: str | None,
    mapping: Mapping[str, Any],
    depth: int = _MAX_SPEC_NESTING,
) -> str:
    """Render one replacement field of a format string."""
    value = _convert(resolveField(fieldName, mapping), conversion)
    if formatSpec and "{" in formatSpec:
        formatSpec = _render(formatSpec, mapping, depth - 1)
    return format(value, formatSpec or "")


def _render(formatString: str, mapping: Mapping[str, Any], depth: int) -> str:
    if depth < 0:
        raise ValueError("Max string recursion exceeded")
    parts: list[str] = []
    for literal, fieldName, formatSpec, conversion in _parser.parse(formatString):
        parts.append(literal)
        if fieldName is not None:
            parts.append(formatField(fieldName, formatSpec, conversion, mapping, depth))
    return "".join(parts)


class KeyFlattener:
    """Makes the ``log_flattened`` key of each field of one format string."""

    def __init__(self) -> None:
        self.keys: dict[str, int] = {}

    def flatKey(self, fieldName: str, formatSpec: str | None, conversion: str | None) -> str:
        """Return the key of the next occurrence of a field.

        Args:
            fieldName: the field's name (``"a.b()"``).
            formatSpec: its format spec, or ``None``.
            conversion: its conversion (``"r"``, ``"s"``), ``""`` for the raw
                value, or ``None``.
        """
        key = f"{fieldName}!{conversion or ''}:{formatSpec or ''}"
        count = self.keys.get(key, 0) + 1
        self.keys[key] = count
        if count != 1:
            key = f"{key}/{count}"
        return key


def flatFormat(event: LogEvent) -> str:
    """Render the format of a flattened event from its ``log_flattened`` texts.

    Raises:
        KeyError: a field's text is missing.
    """
    fields = event["log_flattened"]
    fmt = event.get("log_format")
    if fmt is None:
        return ""
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8")
    keys = KeyFlattener()
    parts: list[str] = []
    for literal, fieldName, formatSpec, conversion in parseFormat(fmt):
        parts.append(literal)
        if fieldName is not None:
            parts.append(str(fields[keys.flatKey(fieldName, formatSpec, conversion or "s")]))
    return "".join(parts)


def formatWithCall(formatString: str, mapping: Mapping[str, Any]) -> str:
    """Format ``formatString`` with the values in ``mapping``.

    Like ``formatString.format_map(mapping)``, but a field ending in ``()``
    (at its end or after any attribute or index) calls the object there.

    Raises:
        Exception: a field is missing or fails; see :func:`formatEvent` for
            the version that never raises.
    """
    return _render(formatString, mapping, _MAX_SPEC_NESTING)


def formatUnformattableEvent(event: LogEvent, error: BaseException) -> str:
    """Describe an event whose format could not be rendered, and why.

    Never raises: every value is rendered with ``safe_repr``.
    """
    try:
        items = ", ".join(f"{safe_repr(k)}: {safe_repr(v)}" for k, v in event.items())
    except Exception as e:  # noqa: BLE001 - a mapping that cannot even be iterated
        items = f"<unreadable event: {safe_str(e)}>"
    return f"Unable to format event {{{items}}}: {safe_str(error)}"


def _formatEvent(event: LogEvent) -> str:
    """Render an event's message; never raise."""
    try:
        if "log_flattened" in event:
            return flatFormat(event)
        fmt = event.get("log_format")
        if fmt is None:
            return ""
        if isinstance(fmt, bytes):
            fmt = fmt.decode("utf-8")
        elif not isinstance(fmt, str):
            raise TypeError(f"Log format must be str, not {fmt!r}")
        return _render(fmt, event, _MAX_SPEC_NESTING)
    except Exception as e:  # noqa: BLE001 - a bad event is described, never raised
        return formatUnformattableEvent(event, e)


def formatEvent(event: LogEvent) -> str:
    """Render an event's ``log_format`` with its fields; ``""`` if it has none.

    Never raises: an event that cannot be formatted gives a message saying
    so, with the event's fields and the error.
    """
    return _formatEvent(event)


def formatTime(
    when: float | None, timeFormat: str | None = timeFormatRFC3339, default: str = "-"
) -> str:
    """Render a time (seconds since the epoch) in the local time zone.

    Args:
        when: the time, or ``None``.
        timeFormat: a :meth:`datetime.datetime.strftime` format; ``None``
            gives ``default``.
        default: the text for a missing time or format.
    """
    if timeFormat is None or when is None:
        return default
    try:
        return datetime.fromtimestamp(when).astimezone().strftime(timeFormat)
    except (OverflowError, OSError, ValueError):
        return default


def _formatTraceback(failure: object) -> str:
    if isinstance(failure, str):
        return failure
    if isinstance(failure, bytes):
        return failure.decode("utf-8", "replace")
    try:
        return str(failure.getTraceback())  # type: ignore[attr-defined]
    except Exception as e:  # noqa: BLE001 - rendering a log line must not raise
        return f"(unable to obtain traceback from event): {safe_str(e)}"


def _formatSystem(event: LogEvent) -> str:
    system = event.get("log_system")
    if system is not None:
        return safe_str(system)
    namespace = event.get("log_namespace", "-")
    level = event.get("log_level")
    try:
        levelName = level.name  # type: ignore[union-attr]
    except AttributeError:
        levelName = "-"
    return f"{safe_str(namespace)}#{safe_str(levelName)}"


def eventAsText(
    event: LogEvent,
    includeTraceback: bool = True,
    includeTimestamp: bool = True,
    includeSystem: bool = True,
    formatTime: Callable[[float | None], str] = formatTime,
) -> str:
    """Render an event as one piece of text.

    The text is ``"{time} [{system}] {message}"``, followed by the
    traceback of ``log_failure`` on the next lines, if there is one.  The
    system is ``log_system`` if the event has one, else
    ``"{log_namespace}#{log_level name}"``.

    Args:
        event: the event.
        includeTraceback: append the traceback of ``log_failure``.
        includeTimestamp: start with the time of ``log_time``.
        includeSystem: include the ``[system]`` part.
        formatTime: renders ``log_time``.

    Returns:
        the text, or ``""`` when the event has neither a message nor a failure.
    """
    eventText = _formatEvent(event)
    if includeTraceback and "log_failure" in event:
        eventText = "\n".join((eventText, _formatTraceback(event["log_failure"])))
    if not eventText:
        return eventText
    prefix = []
    if includeTimestamp:
        prefix.append(formatTime(event.get("log_time")))
    if includeSystem:
        prefix.append(f"[{_formatSystem(event)}]")
    if prefix:
        prefix.append(eventText)
        return " ".join(prefix)
    return eventText


def formatEventAsClassicLogText(
    event: LogEvent, formatTime: Callable[[float | None], str] = formatTime
) -> str | None:
    """Render an event as a line of a classic text log file.

    ``2026-01-01T12:00:00+0000 [system] message`` with a newline; the lines
    of a multi-line message (a traceback) after the first start with a tab.

    Returns:
        the text, or ``None`` for an event with nothing to show.
    """
    eventText = eventAsText(event, formatTime=formatTime)
    if not eventText:
        return None
    return eventText.replace("\n", "\n\t") + "\n"


class StringifiableFromEvent:
    """An object whose ``str`` is an event's message, rendered when asked for.

    Used to hand an event to APIs that take a message object and format it
    only if they need it (stdlib logging, legacy observers).
    """

    __slots__ = ("event",)

    def __init__(self, event: LogEvent) -> None:
        self.event = event

    def __str__(self) -> str:
        return formatEvent(self.event)

    def __bytes__(self) -> bytes:
        return str(self).encode("utf-8")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {formatEvent(self.event)!r}>"
