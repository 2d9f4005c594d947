"""Tests for fw.logger's observers: filtering, history, files, JSON, stdlib, I/O, the beginner."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fw.logger import (
    FileLogObserver,
    FilteringLogObserver,
    LimitedHistoryLogObserver,
    LogBeginner,
    LogEvent,
    Logger,
    LoggingFile,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    PredicateResult,
    STDLibLogHandler,
    STDLibLogObserver,
    capturedLogs,
    eventAsJSON,
    eventAsText,
    eventFromJSON,
    eventsFromJSONLogFile,
    extractField,
    formatEvent,
    globalLogBeginner,
    globalLogPublisher,
    jsonFileLogObserver,
    textFileLogObserver,
)
from fw.logger._global import DEFAULT_BUFFER_SIZE
from fw.python.failure import Failure


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def event(
    fmt: str = "x", level: LogLevel = LogLevel.info, namespace: str = "ns", **kw: Any
) -> LogEvent:
    return {
        "log_format": fmt,
        "log_level": level,
        "log_namespace": namespace,
        "log_time": 0.0,
        "log_source": None,
        **kw,
    }


# -- filtering ---------------------------------------------------------------


def const(result: PredicateResult) -> Any:
    return lambda event: result


@pytest.mark.parametrize(
    ("results", "logged"),
    [
        ([], True),
        ([PredicateResult.maybe], True),
        ([PredicateResult.no], False),
        ([PredicateResult.yes, PredicateResult.no], True),
        ([PredicateResult.maybe, PredicateResult.no], False),
        ([PredicateResult.no, PredicateResult.yes], False),
        ([PredicateResult.maybe, PredicateResult.maybe, PredicateResult.yes], True),
    ],
)
def test_filtering_predicates(results: list[PredicateResult], logged: bool) -> None:
    yes: list[LogEvent] = []
    no: list[LogEvent] = []
    observer = FilteringLogObserver(yes.append, [const(r) for r in results], no.append)
    observer(event())
    assert (len(yes), len(no)) == ((1, 0) if logged else (0, 1))


def test_filtering_default_negative_observer_drops() -> None:
    yes: list[LogEvent] = []
    FilteringLogObserver(yes.append, [const(PredicateResult.no)])(event())
    assert yes == []


def test_filtering_bad_predicate_result() -> None:
    observer = FilteringLogObserver(lambda e: None, [lambda e: True])  # type: ignore[list-item, return-value]
    with pytest.raises(TypeError, match="Invalid predicate result"):
        observer(event())


def test_filtering_trace() -> None:
    yes: list[LogEvent] = []
    observer = FilteringLogObserver(yes.append, [])
    trace: list[tuple[object, object]] = []
    observer(event(log_trace=trace))
    assert trace == [(observer, yes.append)]


def test_level_predicate_by_namespace() -> None:
    predicate = LogLevelFilterPredicate()
    assert predicate.defaultLogLevel is LogLevel.info
    predicate.setLogLevelForNamespace("a", LogLevel.error)
    predicate.setLogLevelForNamespace("a.b", LogLevel.debug)
    assert predicate.logLevelForNamespace("a") is LogLevel.error
    assert predicate.logLevelForNamespace("a.c.d") is LogLevel.error
    assert predicate.logLevelForNamespace("a.b") is LogLevel.debug
    assert predicate.logLevelForNamespace("a.b.c") is LogLevel.debug
    assert predicate.logLevelForNamespace("ab") is LogLevel.info
    assert predicate.logLevelForNamespace(None) is LogLevel.info
    assert predicate.logLevelForNamespace("") is LogLevel.info

    assert predicate(event(level=LogLevel.warn, namespace="a.x")) is PredicateResult.no
    assert predicate(event(level=LogLevel.error, namespace="a.x")) is PredicateResult.maybe
    assert predicate(event(level=LogLevel.debug, namespace="a.b.x")) is PredicateResult.maybe
    assert predicate(event(level=LogLevel.debug, namespace="other")) is PredicateResult.no
    assert predicate(event(level=LogLevel.info, namespace="other")) is PredicateResult.maybe
    assert predicate({"log_namespace": "a"}) is PredicateResult.no  # no level
    assert predicate({"log_level": LogLevel.info}) is PredicateResult.maybe  # no namespace

    predicate.defaultLogLevel = LogLevel.warn
    assert predicate.logLevelForNamespace("other") is LogLevel.warn
    predicate.clearLogLevels()
    assert predicate.logLevelForNamespace("a.b") is LogLevel.warn


def test_level_predicate_refuses_non_levels() -> None:
    predicate = LogLevelFilterPredicate()
    with pytest.raises(Exception, match="Invalid log level"):
        predicate.setLogLevelForNamespace("a", "debug")  # type: ignore[arg-type]


def test_filtering_by_namespace_and_level_end_to_end() -> None:
    kept: list[LogEvent] = []
    predicate = LogLevelFilterPredicate(LogLevel.warn)
    predicate.setLogLevelForNamespace("noisy", LogLevel.critical)
    predicate.setLogLevelForNamespace("debugged", LogLevel.debug)
    publisher = LogPublisher(FilteringLogObserver(kept.append, [predicate]))
    for namespace in ("app", "noisy.part", "debugged"):
        log = Logger(namespace=namespace, observer=publisher)
        for level in LogLevel:
            log.emit(level, "{ns} {lvl}", ns=namespace, lvl=level.name)
    assert [formatEvent(e) for e in kept] == [
        "app warn",
        "app error",
        "app critical",
        "noisy.part critical",
        "debugged debug",
        "debugged info",
        "debugged warn",
        "debugged error",
        "debugged critical",
    ]


# -- history -----------------------------------------------------------------


def test_limited_history() -> None:
    history = LimitedHistoryLogObserver(3)
    for n in range(5):
        history({"n": n})
    replayed: list[LogEvent] = []
    history.replayTo(replayed.append)
    assert [e["n"] for e in replayed] == [2, 3, 4]


def test_limited_history_replay_to_self_is_safe() -> None:
    history = LimitedHistoryLogObserver(3)
    history({"n": 0})
    history.replayTo(history)
    replayed: list[LogEvent] = []
    history.replayTo(replayed.append)
    assert [e["n"] for e in replayed] == [0, 0]


# -- files -------------------------------------------------------------------


class RecordingFile(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_file_observer() -> None:
    out = RecordingFile()
    observer = FileLogObserver(out, lambda e: e.get("text"))
    observer({"text": "one\n"})
    observer({"text": None})
    observer({"text": ""})
    observer({"text": "two\n"})
    assert out.getvalue() == "one\ntwo\n"
    assert out.flushes == 2


def test_file_observer_without_flush() -> None:
    class Sink:
        def __init__(self) -> None:
            self.data: list[str] = []

        def write(self, text: str) -> None:
            self.data.append(text)

    sink = Sink()
    FileLogObserver(sink, lambda e: "x")({})
    assert sink.data == ["x"]


def test_text_file_observer(utc: None) -> None:
    out = io.StringIO()
    observer = textFileLogObserver(out)
    observer(event("hello {who}", who="you", log_time=60.0))
    observer(event("two\nlines", log_system="sys"))
    observer({"log_format": None})
    assert out.getvalue() == (
        "1970-01-01T00:01:00+0000 [ns#info] hello you\n"
        "1970-01-01T00:00:00+0000 [sys] two\n\tlines\n"
    )


def test_text_file_observer_time_format(utc: None) -> None:
    out = io.StringIO()
    textFileLogObserver(out, timeFormat="%H:%M")(event("x"))
    textFileLogObserver(out, timeFormat=None)(event("y"))
    assert out.getvalue() == "00:00 [ns#info] x\n- [ns#info] y\n"


# -- JSON --------------------------------------------------------------------


def raising() -> Failure:
    try:
        {"present": 1}["missing"]
    except KeyError:
        return Failure()
    raise AssertionError("unreachable")


class CustomError(Exception):
    pass


def test_json_round_trip() -> None:
    original = event(
        "{greeting}, {who!r} {n:03d} {obj.attr}",
        greeting="hello",
        who="world",
        n=7,
        obj=SimpleNamespace(attr="value"),
        data=b"\xff\x00",
        items=(1, 2),
        log_logger=Logger(namespace="ns"),
    )
    text = eventAsJSON(original)
    assert "\n" not in text
    assert "log_flattened" not in original  # the event itself is unchanged
    loaded = eventFromJSON(text)
    assert loaded["log_level"] is LogLevel.info
    assert loaded["log_namespace"] == "ns"
    assert loaded["greeting"] == "hello"
    assert loaded["data"] == "\xff\x00"
    assert loaded["items"] == [1, 2]
    assert loaded["obj"] == {"unpersistable": True}
    assert loaded["log_logger"] == {"unpersistable": True}
    assert formatEvent(loaded) == formatEvent(original) == "hello, 'world' 007 value"
    assert extractField("obj.attr", loaded) == "value"
    assert extractField("n", loaded) == 7


def test_json_round_trip_twice() -> None:
    original = event("{a} {b.c}", a=1, b=SimpleNamespace(c="deep"), log_failure=raising())
    once = eventFromJSON(eventAsJSON(original))
    twice = eventFromJSON(eventAsJSON(once))
    assert formatEvent(twice) == formatEvent(original) == "1 deep"
    assert eventAsText(twice) == eventAsText(original)


def test_json_round_trip_with_failure() -> None:
    failure = raising()
    original = event("lookup failed", log_failure=failure)
    loaded = eventFromJSON(eventAsJSON(original))
    restored = loaded["log_failure"]
    assert isinstance(restored, Failure)
    assert restored.type is KeyError
    assert restored.check(KeyError)
    assert restored.check(LookupError)
    assert restored.getErrorMessage() == "'missing'"
    assert restored.getTraceback() == failure.getTraceback()
    assert restored.tb is None
    assert [f[0] for f in restored.frames] == ["raising"]
    assert eventAsText(loaded) == eventAsText(original)


def test_json_failure_of_custom_exception_type() -> None:
    try:
        raise CustomError("custom", 3)
    except CustomError:
        failure = Failure()
    loaded = eventFromJSON(eventAsJSON(event("x", log_failure=failure)))
    restored = loaded["log_failure"]
    assert restored.type is not CustomError  # nothing is imported when reading
    assert restored.type.__name__ == "CustomError"
    assert restored.type.__module__ == __name__
    assert restored.check(CustomError)
    assert restored.check(Exception)
    assert restored.getErrorMessage() == "('custom', 3)"
    assert "CustomError" in restored.getTraceback()


def test_json_unserialisable_values_never_raise() -> None:
    loop: list[Any] = []
    loop.append(loop)
    original = event("x", loop=loop, fine=1)
    original["weird key"] = 2
    original[3] = "int key"  # type: ignore[index]
    loaded = eventFromJSON(eventAsJSON(original))
    assert loaded["loop"] == {"unpersistable": True}
    assert loaded["fine"] == 1
    assert loaded["weird key"] == 2


def test_json_bad_format_is_not_fatal() -> None:
    original = event("{missing} and {present}", present=1)
    loaded = eventFromJSON(eventAsJSON(original))
    assert formatEvent(loaded).startswith("Unable to format event")
    assert formatEvent(eventFromJSON(eventAsJSON(event("{", x=1)))).startswith("Unable")


def test_json_unknown_class_uuid_is_kept_as_data() -> None:
    loaded = eventFromJSON('{"x": {"__class_uuid__": "00000000-0000-0000-0000-000000000000"}}')
    assert loaded["x"] == {"__class_uuid__": "00000000-0000-0000-0000-000000000000"}


def test_event_from_json_refuses_non_objects() -> None:
    with pytest.raises(ValueError, match="not an object"):
        eventFromJSON("[1, 2]")
    with pytest.raises(ValueError):
        eventFromJSON("{nope")


def test_json_file_observer() -> None:
    out = io.StringIO()
    observer = jsonFileLogObserver(out)
    observer(event("one"))
    observer(event("two"))
    text = out.getvalue()
    records = text.split("\x1e")
    assert records[0] == ""
    assert all(r.endswith("\n") for r in records[1:])
    assert [json.loads(r)["log_format"] for r in records[1:]] == ["one", "two"]
    other = io.StringIO()
    jsonFileLogObserver(other, recordSeparator="")(event("three"))
    assert other.getvalue().count("\n") == 1


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("bufferSize", [1, 7, 4096])
def test_events_from_json_log_file(binary: bool, bufferSize: int) -> None:
    out = io.StringIO()
    observer = jsonFileLogObserver(out)
    for n in range(3):
        observer(event("n={n}", n=n, text="é\n\x1e"))
    data = out.getvalue()
    inFile: Any = io.BytesIO(data.encode("utf-8")) if binary else io.StringIO(data)
    loaded = list(eventsFromJSONLogFile(inFile, bufferSize=bufferSize))
    assert [formatEvent(e) for e in loaded] == ["n=0", "n=1", "n=2"]
    assert loaded[0]["text"] == "é\n\x1e"


def test_events_from_json_lines_file() -> None:
    lines = "".join(eventAsJSON(event(f"line {n}")) + "\n" for n in range(3))
    loaded = list(eventsFromJSONLogFile(io.StringIO(lines + "\n")))
    assert [formatEvent(e) for e in loaded] == ["line 0", "line 1", "line 2"]
    # Without a final newline too.
    loaded = list(eventsFromJSONLogFile(io.StringIO(lines.rstrip("\n"))))
    assert len(loaded) == 3


def test_events_from_json_explicit_separator() -> None:
    data = "|".join(eventAsJSON(event(f"r{n}")) + "\n" for n in range(2))
    loaded = list(eventsFromJSONLogFile(io.StringIO(data), recordSeparator="|"))
    assert [formatEvent(e) for e in loaded] == ["r0", "r1"]


def test_events_from_json_bad_records_are_reported() -> None:
    good = eventAsJSON(event("good"))
    data = (
        b"\x1e" + good.encode() + b"\n"
        + b"\x1e{not json}\n"
        + b"\x1e\xff\xfe\n"
        + b"\x1e" + good.encode()  # truncated: no newline
        + b"\x1e" + good.encode() + b"\n"
    )  # fmt: skip
    with capturedLogs() as errors:
        loaded = list(eventsFromJSONLogFile(io.BytesIO(data)))
    assert [formatEvent(e) for e in loaded] == ["good", "good"]
    messages = [formatEvent(e) for e in errors]
    assert len(messages) == 3
    assert messages[0].startswith("Unable to read JSON record: b'{not json}")
    assert messages[1].startswith("Unable to decode UTF-8 for JSON record")
    assert messages[2].startswith("Unable to read truncated JSON record")
    assert all(e["log_level"] is LogLevel.error for e in errors)


def test_events_from_json_empty_file() -> None:
    assert list(eventsFromJSONLogFile(io.StringIO(""))) == []


# Written by Twisted 26.10's jsonFileLogObserver.
TWISTED_RECORDS = (
    '\x1e{"log_failure": {"count": 1, "type": {"__module__": "builtins", "__name__": "KeyError"}, '
    '"value": {"unpersistable": true}, "captureVars": false, "tb": null, "parents": '
    '["builtins.KeyError", "builtins.LookupError", "builtins.Exception", '
    '"builtins.BaseException", "builtins.object"], "stack": [], "frames": [["<module>", '
    '"/tmp/t2.py", 4, [], []]], "pickled": 1, "__class_uuid__": '
    '"e76887e2-20ed-49bf-a8f8-ba25cc586f2d"}, "key": "k", "log_logger": {"unpersistable": '
    'true}, "log_level": {"name": "critical", "__class_uuid__": '
    '"02e59486-f24d-46ad-8224-3acdf2a5732a"}, "log_namespace": "tw.ns", "log_source": null, '
    '"log_format": "lookup of {key!r} failed", "log_time": 1700000000.0, "log_flattened": '
    '{"key!r:": "\'k\'", "key!:": "k"}}\n'
    '\x1e{"name": "world", "log_logger": {"unpersistable": true}, "log_level": {"name": '
    '"warn", "__class_uuid__": "02e59486-f24d-46ad-8224-3acdf2a5732a"}, "log_namespace": '
    '"tw.ns", "log_source": null, "log_format": "hello {name}", "log_time": 1700000000.0, '
    '"log_flattened": {"name!s:": "world", "name!:": "world"}}\n'
)


def test_reads_twisted_json_logs() -> None:
    failed, hello = eventsFromJSONLogFile(io.StringIO(TWISTED_RECORDS))
    assert failed["log_level"] is LogLevel.critical
    assert formatEvent(failed) == "lookup of 'k' failed"
    failure = failed["log_failure"]
    assert failure.check(KeyError)
    assert failure.type is KeyError
    assert "KeyError" in failure.getTraceback()
    assert hello["log_level"] is LogLevel.warn
    assert formatEvent(hello) == "hello world"


# -- stdlib logging, both ways -------------------------------------------------


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def stdlibLogger() -> tuple[logging.Logger, RecordingHandler]:
    """A stdlib logger outside the logger tree (where pytest's own handlers are)."""
    logger = logging.Logger("fwtest.stdlib", logging.DEBUG)  # noqa: LOG001
    handler = RecordingHandler()
    logger.addHandler(handler)
    return logger, handler


def observerFor(logger: logging.Logger) -> STDLibLogObserver:
    observer = STDLibLogObserver(logger.name)
    observer.logger = logger
    return observer


def test_stdlib_observer_logger_name() -> None:
    assert STDLibLogObserver().logger is logging.getLogger("fw")
    assert STDLibLogObserver("other.name").logger is logging.getLogger("other.name")


def test_stdlib_observer(stdlibLogger: tuple[logging.Logger, RecordingHandler]) -> None:
    logger, handler = stdlibLogger
    log = Logger(namespace="app", observer=LogPublisher(observerFor(logger)))
    for level in LogLevel:
        log.emit(level, "{name} message", name=level.name)
    assert [(r.levelno, r.getMessage()) for r in handler.records] == [
        (logging.DEBUG, "debug message"),
        (logging.INFO, "info message"),
        (logging.WARNING, "warn message"),
        (logging.ERROR, "error message"),
        (logging.CRITICAL, "critical message"),
    ]
    record = handler.records[0]
    assert record.name == "fwtest.stdlib"
    assert record.pathname == __file__  # the code that logged, not the machinery
    assert record.funcName == "test_stdlib_observer"
    assert record.fw_event["log_namespace"] == "app"  # type: ignore[attr-defined]


def test_stdlib_observer_failure_and_time(
    stdlibLogger: tuple[logging.Logger, RecordingHandler],
) -> None:
    logger, handler = stdlibLogger
    observer = observerFor(logger)
    failure = raising()
    observer(event("failed", LogLevel.error, log_failure=failure, log_time=1234.5))
    [record] = handler.records
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError
    assert record.created == 1234.5
    assert record.msecs == 500.0
    text = logging.Formatter().format(record)
    assert text.startswith("failed\nTraceback")
    assert "KeyError: 'missing'" in text


def test_stdlib_observer_respects_levels_and_laziness(
    stdlibLogger: tuple[logging.Logger, RecordingHandler],
) -> None:
    logger, handler = stdlibLogger
    logger.setLevel(logging.WARNING)
    formatted = []

    class Spy:
        def __format__(self, spec: str) -> str:
            formatted.append(spec)
            return "spy"

    observer = observerFor(logger)
    observer(event("{s}", LogLevel.info, s=Spy()))
    assert handler.records == []
    assert formatted == []
    observer(event("{s}", LogLevel.warn, s=Spy()))
    assert formatted == []  # rendered only when the handler formats
    assert handler.records[0].getMessage() == "spy"


def test_stdlib_handler(stdlibLogger: tuple[logging.Logger, RecordingHandler]) -> None:
    logger, _ = stdlibLogger
    events: list[LogEvent] = []
    logger.addHandler(STDLibLogHandler(events.append))
    logger.debug("d %s", 1)
    logger.info("i")
    logger.warning("w")
    logger.error("e")
    logger.critical("c")
    logger.log(25, "between info and warning")
    logger.setLevel(1)
    logger.log(5, "below debug")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed %s", "here")
    logger.info("stack", stack_info=True)
    levels = [e["log_level"] for e in events]
    assert levels == [
        LogLevel.debug,
        LogLevel.info,
        LogLevel.warn,
        LogLevel.error,
        LogLevel.critical,
        LogLevel.info,
        LogLevel.debug,
        LogLevel.error,
        LogLevel.info,
    ]
    assert formatEvent(events[0]) == "d 1"
    assert events[0]["log_namespace"] == "fwtest.stdlib"
    assert isinstance(events[0]["log_stdlib_record"], logging.LogRecord)
    assert events[0]["log_time"] == events[0]["log_stdlib_record"].created
    failed = events[7]
    assert formatEvent(failed) == "failed here"
    assert failed["log_failure"].check(ValueError)
    assert "Stack (most recent call last)" in formatEvent(events[8])


def test_stdlib_handler_defaults_to_global_publisher(
    stdlibLogger: tuple[logging.Logger, RecordingHandler],
) -> None:
    logger, _ = stdlibLogger
    logger.addHandler(STDLibLogHandler())
    with capturedLogs() as events:
        logger.warning("to fw")
    assert [formatEvent(e) for e in events] == ["to fw"]


def test_stdlib_handler_bad_record(
    stdlibLogger: tuple[logging.Logger, RecordingHandler], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, _ = stdlibLogger
    events: list[LogEvent] = []
    fwHandler = STDLibLogHandler(events.append)
    errors: list[logging.LogRecord] = []
    monkeypatch.setattr(fwHandler, "handleError", errors.append)
    record = logger.makeRecord(logger.name, logging.INFO, "f.py", 1, "%d", ("nan",), None)
    fwHandler.handle(record)
    assert events == []
    assert len(errors) == 1


def test_stdlib_both_ways_do_not_loop(
    stdlibLogger: tuple[logging.Logger, RecordingHandler],
) -> None:
    logger, handler = stdlibLogger
    fwEvents: list[LogEvent] = []
    publisher = LogPublisher(fwEvents.append, observerFor(logger))
    logger.addHandler(STDLibLogHandler(publisher))
    Logger(namespace="fw side", observer=publisher).info("from fw")
    logger.info("from stdlib")
    assert [formatEvent(e) for e in fwEvents] == ["from fw", "from stdlib"]
    assert [r.getMessage() for r in handler.records] == ["from fw", "from stdlib"]


# -- LoggingFile ---------------------------------------------------------------


def test_logging_file() -> None:
    events: list[LogEvent] = []
    log = Logger(namespace="stdout", observer=events.append)
    f = LoggingFile(log, LogLevel.warn, encoding="utf-8")
    assert f.write("one\ntw") == 6
    f.write("o\n")
    f.write(b"caf\xc3\xa9\n\n")
    f.writelines(["a\n", "b"])
    f.flush()
    assert [e["log_io"] for e in events] == ["one", "two", "café", "", "a"]
    assert all(e["log_level"] is LogLevel.warn for e in events)
    assert formatEvent(events[0]) == "one"
    assert f.encoding == "utf-8"
    assert f.name == repr(f) == "<LoggingFile stdout#warn>"
    assert f.fileno() == -1
    assert not f.isatty()
    assert f.writable()
    assert not f.readable()
    assert not f.seekable()
    wasClosed = f.closed
    assert not wasClosed
    with pytest.raises(OSError, match="unsupported"):
        f.read()
    with pytest.raises(OSError, match="unsupported"):
        f.seek(0)
    f.close()
    assert f.closed
    with pytest.raises(ValueError, match="closed"):
        f.write("x\n")


def test_logging_file_print() -> None:
    events: list[LogEvent] = []
    f = LoggingFile(Logger(namespace="stdout", observer=events.append))
    print("hello", "world", file=f)
    assert [e["log_io"] for e in events] == ["hello world"]
    assert events[0]["log_level"] is LogLevel.info
    assert f.encoding == sys.getdefaultencoding()


# -- the beginner --------------------------------------------------------------


class FakeWarnings:
    def showwarning(self, *args: Any) -> None:
        raise AssertionError("replaced once logging begins")


def makeBeginner(
    bufferSize: int | None = None,
) -> tuple[LogBeginner, LogPublisher, io.StringIO, SimpleNamespace, FakeWarnings]:
    publisher = LogPublisher()
    errors = io.StringIO()
    stdio = SimpleNamespace(stdout=io.StringIO(), stderr=io.StringIO())
    warningsModule = FakeWarnings()
    beginner = LogBeginner(publisher, errors, stdio, warningsModule, bufferSize)
    return beginner, publisher, errors, stdio, warningsModule


def test_beginner_buffers_and_replays() -> None:
    beginner, publisher, _, _, _ = makeBeginner()
    log = Logger(observer=publisher)
    for n in range(3):
        log.info("early {n}", n=n)
    seen: list[LogEvent] = []
    beginner.beginLoggingTo([seen.append], redirectStandardIO=False)
    log.info("late")
    assert [formatEvent(e) for e in seen] == ["early 0", "early 1", "early 2", "late"]


def test_beginner_buffer_is_bounded() -> None:
    beginner, publisher, _, _, _ = makeBeginner(bufferSize=3)
    log = Logger(observer=publisher)
    for n in range(10):
        log.info("{n}", n=n)
    seen: list[LogEvent] = []
    beginner.beginLoggingTo([seen.append], redirectStandardIO=False)
    assert [formatEvent(e) for e in seen] == ["7", "8", "9"]


def test_beginner_default_buffer_size() -> None:
    assert DEFAULT_BUFFER_SIZE == 200
    beginner, publisher, _, _, _ = makeBeginner()
    log = Logger(observer=publisher)
    for n in range(DEFAULT_BUFFER_SIZE + 50):
        log.info("{n}", n=n)
    seen: list[LogEvent] = []
    beginner.beginLoggingTo([seen.append], redirectStandardIO=False)
    assert len(seen) == DEFAULT_BUFFER_SIZE
    assert formatEvent(seen[0]) == "50"


def test_beginner_discard_buffer() -> None:
    beginner, publisher, _, _, _ = makeBeginner()
    Logger(observer=publisher).info("early")
    seen: list[LogEvent] = []
    beginner.beginLoggingTo([seen.append], discardBuffer=True, redirectStandardIO=False)
    assert seen == []


def test_beginner_replays_only_to_new_observers() -> None:
    beginner, publisher, _, _, _ = makeBeginner()
    earlier: list[LogEvent] = []
    publisher.addObserver(earlier.append)
    Logger(observer=publisher).info("early")
    seen: list[LogEvent] = []
    beginner.beginLoggingTo([seen.append], redirectStandardIO=False)
    assert len(earlier) == 1
    assert len(seen) == 1


def test_beginner_writes_critical_events_before_beginning() -> None:
    beginner, publisher, errors, _, _ = makeBeginner()
    log = Logger(observer=publisher)
    log.error("not critical")
    try:
        raise ValueError("bad")
    except ValueError:
        log.failure("start-up failed")
    text = errors.getvalue()
    assert text.startswith("start-up failed\nTraceback (most recent call last):")
    assert "not critical" not in text
    beginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
    log.critical("after")
    assert "after" not in errors.getvalue()


def test_beginner_routes_warnings() -> None:
    beginner, publisher, _, _, warningsModule = makeBeginner()
    beginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
    assert warningsModule.showwarning == beginner.showwarning
    with capturedLogs(publisher) as events:
        beginner.showwarning(DeprecationWarning("old"), DeprecationWarning, "f.py", 3)
    [warning] = events
    assert warning["log_level"] is LogLevel.warn
    assert formatEvent(warning) == "f.py:3: builtins.DeprecationWarning: old"
    target = io.StringIO()
    beginner.showwarning("to a file", UserWarning, "g.py", 4, target, None)
    assert target.getvalue() == "g.py:4: UserWarning: to a file\n"

    class ClosedPipe:
        def write(self, text: str) -> None:
            raise BrokenPipeError()

    beginner.showwarning("lost", UserWarning, "g.py", 5, ClosedPipe())  # type: ignore[arg-type]


def test_beginner_redirects_standard_io() -> None:
    beginner, _, _, stdio, _ = makeBeginner()
    seen: list[LogEvent] = []
    beginner.beginLoggingTo([seen.append])
    assert isinstance(stdio.stdout, LoggingFile)
    assert isinstance(stdio.stderr, LoggingFile)
    print("printed", file=stdio.stdout)
    print("complained", file=stdio.stderr)
    assert [(e["log_namespace"], e["log_level"], formatEvent(e)) for e in seen] == [
        ("stdout", LogLevel.info, "printed"),
        ("stderr", LogLevel.error, "complained"),
    ]


def test_beginner_twice_warns() -> None:
    beginner, _, _, stdio, _ = makeBeginner()
    first: list[LogEvent] = []
    second: list[LogEvent] = []
    beginner.beginLoggingTo([first.append], redirectStandardIO=False)
    beginner.beginLoggingTo([second.append])
    [warning] = [e for e in first if e["log_level"] is LogLevel.warn]
    text = formatEvent(warning)
    assert text.count(__file__) == 2
    assert "already began" in text
    assert second == [warning]
    stdout = stdio.stdout
    beginner.beginLoggingTo([], redirectStandardIO=True)
    assert stdio.stdout is stdout  # not wrapped twice


def test_global_beginner() -> None:
    assert isinstance(globalLogBeginner, LogBeginner)
    assert globalLogBeginner._publisher is globalLogPublisher


def test_beginner_error_stream_defaults_to_current_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher = LogPublisher()
    LogBeginner(publisher, None, SimpleNamespace(), FakeWarnings())
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    Logger(observer=publisher).critical("dying")
    assert stderr.getvalue() == "dying\n"


def test_warnings_are_logged_through_the_warnings_module() -> None:
    publisher = LogPublisher()
    original = warnings.showwarning
    realBeginner = LogBeginner(publisher, io.StringIO(), SimpleNamespace(), warnings)
    try:
        realBeginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
        with capturedLogs(publisher) as events, warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = realBeginner.showwarning
            warnings.warn("careful", UserWarning, stacklevel=1)
    finally:
        warnings.showwarning = original
    [warning] = events
    assert formatEvent(warning).endswith("builtins.UserWarning: careful")
    assert warning["filename"] == __file__


def test_json_failure_of_exception_group() -> None:
    try:
        raise ExceptionGroup("several", [ValueError("a"), KeyError("b")])
    except ExceptionGroup:
        failure = Failure()
    restored = eventFromJSON(eventAsJSON(event("x", log_failure=failure)))["log_failure"]
    assert restored.type.__name__ == "ExceptionGroup"
    assert restored.check(ExceptionGroup)
    assert restored.getErrorMessage() == failure.getErrorMessage()
