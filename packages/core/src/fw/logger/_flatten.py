"""Flattening: rendering an event's format fields ahead of time.

An event that leaves the process (as JSON) loses the objects its format
refers to.  Flattening stores, beside the event, the text of each field of
its ``log_format`` (and the raw value, where it can be serialised), in
``log_flattened``, under keys of the form ``"{name}!{conversion}:{spec}"``
(``/2``, ``/3``... appended for repeats).  The keys are the ones Twisted
writes, so events flattened by either can be rendered by the other.
"""

from __future__ import annotations

from typing import Any

from fw.logger._format import KeyFlattener, flatFormat, formatField, parseFormat, resolveField
from fw.logger._interfaces import LogEvent

__all__ = ["KeyFlattener", "extractField", "flatFormat", "flattenEvent"]


def flattenEvent(event: LogEvent) -> LogEvent:
    """Return a shallow copy of ``event`` with its format fields flattened.

    ``event`` itself is not changed (other observers share it).  A field that
    cannot be rendered is left out; rendering the flattened event then
    reports the event as unformattable, as rendering the original does.
    """
    fmt = event.get("log_format")
    if isinstance(fmt, bytes):
        fmt = fmt.decode("utf-8", "replace")
    if not isinstance(fmt, str):
        return dict(event)
    try:
        parts = parseFormat(fmt)
    except ValueError:
        return dict(event)
    previous = event.get("log_flattened")
    fields: dict[str, Any] = dict(previous) if isinstance(previous, dict) else {}
    keys = KeyFlattener()
    for _, fieldName, formatSpec, conversion in parts:
        if fieldName is None:
            continue
        textKey = keys.flatKey(fieldName, formatSpec, conversion or "s")
        rawKey = keys.flatKey(fieldName, formatSpec, "")
        if textKey in fields:
            continue
        try:
            fields[textKey] = formatField(fieldName, formatSpec, conversion, event)
            fields[rawKey] = resolveField(fieldName, event)
        except Exception:  # noqa: BLE001, S112 - a broken field is left out (see above)
            continue
    flattened = dict(event)
    flattened["log_flattened"] = fields
    return flattened


def extractField(field: str, event: LogEvent) -> Any:
    """Return the value a format field names in an event, flattened or not.

    ``extractField("request.uri", event)`` gives what ``{request.uri}``
    would format.  For an event read back from JSON, only fields used in its
    format can be extracted, and only as the value that was stored.

    Raises:
        KeyError: the field is not there.
        ValueError: ``field`` is not a valid format field.
    """
    [[_, fieldName, formatSpec, conversion]] = parseFormat("{" + field + "}")
    assert fieldName is not None  # a single "{...}" always has a field
    flattened = event.get("log_flattened")
    if isinstance(flattened, dict):
        key = KeyFlattener().flatKey(fieldName, formatSpec, conversion or "")
        if key in flattened:
            return flattened[key]
    try:
        return resolveField(fieldName, event)
    except KeyError:
        raise
    except Exception as e:
        raise KeyError(field) from e
