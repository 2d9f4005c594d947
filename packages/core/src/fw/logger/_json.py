"""Events as JSON: one record per event, for files that programs read back.

A JSON log file holds one record per event: the record separator
(``"\\x1e"``, RFC 7464), the event as a JSON object, a newline.  Events are
flattened first (see :mod:`fw.logger._flatten`) so their messages render
without the original objects.  Values JSON cannot hold become
``{"unpersistable": true}``; bytes are decoded as Latin-1; log levels and
failures are tagged with the class UUIDs Twisted uses, so the files of
either can be read by the other.  A failure is stored without live frames:
its exception's class name and message, its frame summaries and its rendered
traceback.  Reading one back never imports anything: the exception class is
the builtin of that name, or a stand-in class with the original's name.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterator
from typing import IO, Any, Final, cast

from fw.logger._file import FileLogObserver
from fw.logger._flatten import flattenEvent
from fw.logger._interfaces import LogEvent, TextWriter
from fw.logger._levels import LogLevel
from fw.logger._logger import Logger
from fw.python.failure import Failure
from fw.python.reflect import safe_repr, safe_str

__all__ = [
    "eventAsJSON",
    "eventFromJSON",
    "eventsFromJSONLogFile",
    "failureAsJSON",
    "failureFromJSON",
    "jsonFileLogObserver",
]

_log = Logger()

#: The record separator of RFC 7464 (JSON text sequences).
RECORD_SEPARATOR: Final = "\x1e"

_LEVEL_UUID: Final = "02e59486-f24d-46ad-8224-3acdf2a5732a"
_FAILURE_UUID: Final = "e76887e2-20ed-49bf-a8f8-ba25cc586f2d"
_UNPERSISTABLE: Final = {"unpersistable": True}

JSONDict = dict[str, Any]


def failureAsJSON(failure: Failure) -> JSONDict:
    """Return a JSON-serialisable description of ``failure``, without live frames."""
    value = failure.value
    state = failure.__getstate__()
    return {
        "type": {
            "__module__": failure.type.__module__,
            "__name__": failure.type.__name__,
            "__qualname__": failure.type.__qualname__,
        },
        "value": {"message": safe_str(value), "args": [_jsonArg(a) for a in value.args]},
        "frames": [
            [name, filename, line, [list(v) for v in localz], [list(v) for v in globalz]]
            for name, filename, line, localz, globalz in state["frames"]
        ],
        "parents": list(state["parents"]),
        "count": failure.count,
        "captureVars": bool(failure.captureVars),
        "_tracebackText": state["_tracebackText"],
    }


def _jsonArg(arg: object) -> object:
    """An exception argument as JSON data: itself if JSON has it, else its ``repr``."""
    if arg is None or isinstance(arg, (str, int, float, bool)):
        return arg
    return safe_repr(arg)


class _SerialisedException(Exception):
    """The base of stand-ins for exception classes of failures read from JSON."""

    _message: str | None = None

    def __str__(self) -> str:
        if self._message is not None:
            return self._message
        return super().__str__()


def _exceptionType(typeInfo: object) -> type[BaseException]:
    """The class named in a serialised failure: a builtin, or a stand-in; never an import."""
    if not isinstance(typeInfo, dict):
        return _SerialisedException
    module = str(typeInfo.get("__module__", "builtins"))
    name = str(typeInfo.get("__name__", "Exception"))
    if module == "builtins":
        candidate = getattr(builtins, name, None)
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            return candidate
    return _standIn(module, name, str(typeInfo.get("__qualname__", name)))


def _standIn(module: str, name: str, qualname: str) -> type[_SerialisedException]:
    standIn = type(name, (_SerialisedException,), {"__module__": module})
    standIn.__qualname__ = qualname
    return standIn


def _exceptionValue(excType: type[BaseException], valueInfo: object) -> BaseException:
    """An instance of ``excType`` with the stored arguments and message, without ``__init__``."""
    value = excType.__new__(excType)
    if isinstance(valueInfo, dict):
        args = valueInfo.get("args")
        if isinstance(args, list):
            value.args = tuple(args)
        message = valueInfo.get("message")
        if isinstance(value, _SerialisedException) and isinstance(message, str):
            value._message = message
    return value


def failureFromJSON(failureDict: JSONDict) -> Failure:
    """Rebuild a :class:`~fw.python.failure.Failure` from :func:`failureAsJSON`'s output.

    Also reads the failures in Twisted's JSON logs.
    """
    excType = _exceptionType(failureDict.get("type"))
    try:
        value = _exceptionValue(excType, failureDict.get("value"))
    except Exception:  # noqa: BLE001 - a builtin that cannot be made without __init__
        excType = _standIn(excType.__module__, excType.__name__, excType.__qualname__)
        value = _exceptionValue(excType, failureDict.get("value"))
    parents = failureDict.get("parents")
    frames = failureDict.get("frames")
    state: JSONDict = {
        "type": excType,
        "value": value,
        "tb": None,
        "count": failureDict.get("count", 0),
        "pickled": 1,
        "captureVars": bool(failureDict.get("captureVars", False)),
        "parents": [str(p) for p in parents] if isinstance(parents, list) else [],
        "frames": [tuple(f) for f in frames] if isinstance(frames, list) else [],
    }
    text = failureDict.get("_tracebackText")
    if isinstance(text, str):
        state["_tracebackText"] = text
    failure = Failure.__new__(Failure)
    failure.__setstate__(state)
    return failure


def _saveHook(obj: object) -> object:
    if isinstance(obj, LogLevel):
        return {"name": obj.name, "__class_uuid__": _LEVEL_UUID}
    if isinstance(obj, Failure):
        return {**failureAsJSON(obj), "__class_uuid__": _FAILURE_UUID}
    if isinstance(obj, bytes):
        return obj.decode("charmap")
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return dict(_UNPERSISTABLE)


def _loadHook(aDict: JSONDict) -> object:
    uuid = aDict.get("__class_uuid__")
    if not isinstance(uuid, str):
        return aDict
    uuid = uuid.lower()
    if uuid == _LEVEL_UUID:
        name = aDict.get("name")
        return LogLevel.__members__.get(name) if isinstance(name, str) else None
    if uuid == _FAILURE_UUID:
        return failureFromJSON(aDict)
    return aDict


def _dumps(obj: object) -> str:
    return json.dumps(obj, default=_saveHook, skipkeys=True)


def eventAsJSON(event: LogEvent) -> str:
    """Return ``event``, flattened, as a JSON object (one line; ``event`` is not changed).

    Never raises: a value that cannot be serialised (even through the
    hooks: a circular structure, say) is stored as ``{"unpersistable": true}``.
    """
    flattened = flattenEvent(event)
    try:
        return _dumps(flattened)
    except (TypeError, ValueError, RecursionError):
        pass
    safe: JSONDict = {}
    for key, value in flattened.items():
        if not isinstance(cast(object, key), str):
            continue
        try:
            _dumps(value)
        except (TypeError, ValueError, RecursionError):
            safe[key] = dict(_UNPERSISTABLE)
        else:
            safe[key] = value
    return _dumps(safe)


def eventFromJSON(eventText: str) -> LogEvent:
    """Rebuild an event from :func:`eventAsJSON`'s output.

    Levels and failures come back as :class:`LogLevel` and
    :class:`~fw.python.failure.Failure`; every other value as JSON data.

    Raises:
        ValueError: ``eventText`` is not a JSON object.
    """
    event = json.loads(eventText, object_hook=_loadHook)
    if not isinstance(event, dict):
        raise ValueError(f"JSON log record is not an object: {eventText!r}")
    return cast(LogEvent, event)


def jsonFileLogObserver(
    outFile: TextWriter, recordSeparator: str = RECORD_SEPARATOR
) -> FileLogObserver:
    """Return an observer writing each event to ``outFile`` as a JSON record.

    Args:
        outFile: a text file.
        recordSeparator: written before each record (after it, a newline).
    """

    def formatEvent(event: LogEvent) -> str:
        return f"{recordSeparator}{eventAsJSON(event)}\n"

    return FileLogObserver(outFile, formatEvent)


def eventsFromJSONLogFile(
    inFile: IO[Any], recordSeparator: str | None = None, bufferSize: int = 4096
) -> Iterator[LogEvent]:
    """Read the events of a JSON log file, in order.

    Records that cannot be read (not UTF-8, not JSON, or cut short: a record
    of a ``"\\x1e"``-separated file that does not end with a newline) are
    skipped, each reported by an error event.

    Args:
        inFile: the file, opened in text or binary mode.
        recordSeparator: what separates records; by default ``"\\x1e"`` if
            the file starts with it, else records are lines.
        bufferSize: how much to read at a time.
    """

    def asBytes(data: str | bytes) -> bytes:
        return data.encode("utf-8") if isinstance(data, str) else data

    def fromRecord(record: bytes) -> LogEvent | None:
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            _log.error("Unable to decode UTF-8 for JSON record: {record!r}", record=record)
            return None
        try:
            return eventFromJSON(text)
        except ValueError:
            _log.error("Unable to read JSON record: {record!r}", record=record)
            return None

    def fromSeparatedRecord(record: bytes) -> LogEvent | None:
        if not record.endswith(b"\n"):
            _log.error("Unable to read truncated JSON record: {record!r}", record=record)
            return None
        return fromRecord(record)

    readRecord: Callable[[bytes], LogEvent | None]
    first = b""
    if recordSeparator is None:
        first = asBytes(inFile.read(1))
        separator = first if first == RECORD_SEPARATOR.encode() else b""
    else:
        separator = asBytes(recordSeparator)
    if separator:
        readRecord = fromSeparatedRecord
    else:
        separator = b"\n"
        readRecord = fromRecord

    buffer = bytearray(first)
    while True:
        data = inFile.read(bufferSize)
        if not data:
            break
        buffer += asBytes(data)
        records = buffer.split(separator)
        buffer = records.pop()
        for record in records:
            if record.strip():
                event = readRecord(bytes(record))
                if event is not None:
                    yield event
    if buffer.strip():
        event = readRecord(bytes(buffer))
        if event is not None:
            yield event
