"""Tests for fw.python.log: the classic API over fw.logger."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from fw.logger import (
    LogBeginner,
    LogEvent,
    Logger,
    LoggingFile,
    LogLevel,
    LogPublisher,
    capturedLogs,
    formatEvent,
    formatEventAsClassicLogText,
)
from fw.python import _log, context, log
from fw.python.failure import Failure, NoCurrentExceptionError


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def legacy() -> Iterator[list[log.EventDict]]:
    """The classic events logged during the test, as a classic observer sees them."""
    events: list[log.EventDict] = []
    log.addObserver(events.append)
    yield events
    log.removeObserver(events.append)


def boom() -> Failure:
    try:
        raise ValueError("boom")
    except ValueError:
        return Failure()


# -- msg and err ---------------------------------------------------------------


def test_msg_event_shape() -> None:
    with capturedLogs() as events:
        before = time.time()
        log.msg("hello", "world", system="S", extra=1)
    [event] = events
    assert event["message"] == ("hello", "world")
    assert before <= event["time"] <= time.time()
    assert event["isError"] == 0
    assert event["system"] == "S"
    assert event["extra"] == 1
    # The fw.logger keys, for new-style observers.
    assert event["log_time"] == event["time"]
    assert event["log_level"] is LogLevel.info
    assert event["log_namespace"] == "log_legacy"
    assert event["log_system"] == "S"
    assert event["log_format"] == "{log_text}"
    assert formatEvent(event) == "hello world"
    assert set(event) == {
        "message",
        "time",
        "isError",
        "system",
        "extra",
        "log_time",
        "log_level",
        "log_namespace",
        "log_system",
        "log_format",
        "log_text",
    }


def test_msg_default_system() -> None:
    with capturedLogs() as events:
        log.msg("x")
    assert events[0]["system"] == "-"


def test_msg_with_format() -> None:
    with capturedLogs() as events:
        log.msg(format="%(a)s and %(b)d", a="x", b=2)
        log.msg(format="%(missing)s", a=1)
    assert formatEvent(events[0]) == "x and 2"
    assert formatEvent(events[1]).startswith(
        "Invalid format string or unformattable object in log message: '%(missing)s'"
    )


def test_msg_is_error() -> None:
    with capturedLogs() as events:
        log.msg("bad", isError=1)
    assert events[0]["log_level"] is LogLevel.critical


def test_msg_stdlib_log_level() -> None:
    with capturedLogs() as events:
        log.msg("careful", logLevel=logging.WARNING)
        log.msg("custom", logLevel=15)
        log.msg("not a level", logLevel="loud")
    assert events[0]["log_level"] is LogLevel.warn
    assert events[1]["log_level"] is LogLevel.debug
    assert "log_level" not in events[2]


def test_msg_without_text() -> None:
    with capturedLogs() as events:
        log.msg()
    assert "log_format" not in events[0]
    assert formatEvent(events[0]) == ""


def test_err_current_exception(legacy: list[log.EventDict]) -> None:
    with capturedLogs() as events:
        try:
            raise ValueError("boom")
        except ValueError:
            log.err(None, "while testing")
    [event] = events
    assert event["isError"] == 1
    assert event["why"] == "while testing"
    assert event["message"] == ()
    failure = event["failure"]
    assert failure.check(ValueError)
    # fw.logger observers get the failure, and the traceback once.
    assert event["log_failure"] is failure
    assert event["log_level"] is LogLevel.critical
    assert formatEvent(event) == "while testing"
    text = formatEventAsClassicLogText(event, formatTime=lambda t: "T")
    assert text is not None
    assert text.count("Traceback") == 1
    # Classic observers get the classic text.
    assert log.textFromEventDict(legacy[0]) == "while testing\n" + failure.getTraceback()


def test_err_kinds() -> None:
    failure = boom()
    with capturedLogs() as events:
        log.err(failure)
        log.err(KeyError("k"), "lookup", system="db")
        log.err("just a string")
        log.deferr(failure)
    assert events[0]["failure"] is failure
    assert events[0]["why"] is None
    assert formatEvent(events[0]) == "Unhandled Error"
    assert events[1]["failure"].check(KeyError)
    assert events[1]["system"] == "db"
    assert events[1]["why"] == "lookup"
    assert events[2]["message"] == ("'just a string'",)
    assert events[2]["isError"] == 1
    assert "failure" not in events[2]
    assert events[3]["failure"] is failure
    assert log.deferr is log.err


def test_err_outside_except() -> None:
    with pytest.raises(NoCurrentExceptionError):
        log.err()


# -- classic observers -------------------------------------------------------


def test_legacy_observer_sees_new_events(legacy: list[log.EventDict]) -> None:
    logger = Logger(namespace="new")
    logger.info("hello {x}", x=1)
    logger.error("bad {x}", x=2)
    logger.info("with system", log_system="sys")
    logger.info("new-style message field {message}", message="m")
    info, error, withSystem, messageField = legacy
    assert info["message"] == ()
    assert info["time"] == info["log_time"]
    assert info["system"] == "-"
    assert info["isError"] == 0
    assert info["format"] == "%(log_legacy)s"
    assert log.textFromEventDict(info) == "hello 1"
    assert error["isError"] == 1
    assert log.textFromEventDict(error) == "bad 2"
    assert withSystem["system"] == "sys"
    assert log.textFromEventDict(messageField) == "new-style message field m"


def test_legacy_observer_sees_logger_failures(legacy: list[log.EventDict]) -> None:
    failure = boom()
    Logger().failure("while {doing}", failure, LogLevel.warn, doing="testing")
    [event] = legacy
    assert event["failure"] is failure
    assert event["isError"] == 1
    assert event["why"] == "while testing"


def test_legacy_observer_gets_a_copy(legacy: list[log.EventDict]) -> None:
    with capturedLogs() as events:
        Logger().info("x")
    assert "message" not in events[0]
    assert "message" in legacy[0]


def test_legacy_observer_sees_msg(legacy: list[log.EventDict]) -> None:
    log.msg("plain", system="S")
    [event] = legacy
    assert event["message"] == ("plain",)
    assert event["system"] == "S"
    assert event["isError"] == 0
    assert log.textFromEventDict(event) == "plain"


def test_remove_observer() -> None:
    events: list[log.EventDict] = []
    log.addObserver(events.append)
    assert events.append in _log.theLogPublisher.observers
    log.removeObserver(events.append)
    log.removeObserver(events.append)  # absent: ignored
    log.msg("unseen")
    assert events == []


def test_text_from_event_dict() -> None:
    assert log.textFromEventDict({"message": ("a", 1)}) == "a 1"
    assert log.textFromEventDict({"message": (), "isError": 0}) is None
    assert log.textFromEventDict({"message": (), "format": "%(x)s", "x": 3}) == "3"

    class Broken:
        def getTraceback(self) -> str:
            raise RuntimeError("nope")

    text = log.textFromEventDict({"message": (), "isError": 1, "failure": Broken(), "why": ""})
    assert text == "Unhandled Error\n(unable to obtain traceback): nope"


def test_file_log_observer(utc: None) -> None:
    out = io.StringIO()
    observer = log.FileLogObserver(out)
    observer.emit({"message": ("hi", "there"), "time": 0, "system": "S", "isError": 0})
    observer.emit({"message": (), "time": 0, "system": "S", "isError": 0})  # no text
    failure = boom()
    observer.emit(
        {"message": (), "time": 61, "system": "-", "isError": 1, "failure": failure, "why": "w"}
    )
    expected = "1970-01-01 00:00:00+0000 [S] hi there\n1970-01-01 00:01:01+0000 [-] w\n\t"
    expected += failure.getTraceback().replace("\n", "\n\t") + "\n"
    assert out.getvalue() == expected
    observer.timeFormat = "%H:%M"
    assert observer.formatTime(3600) == "01:00"
    assert observer.getTimezoneOffset(0) == 0


def test_file_log_observer_start_stop(utc: None) -> None:
    out = io.StringIO()
    observer = log.FileLogObserver(out)
    observer.start()
    try:
        Logger(namespace="ns").warn("new {x}", x=1)
        log.msg("old", system="sys")
    finally:
        observer.stop()
    log.msg("not written")
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == ["[-] new 1", "[sys] old"]


def test_python_logging_observer() -> None:
    # Outside the logger tree, where pytest's handlers are.
    logger = logging.Logger("fwtest.legacy", logging.DEBUG)  # noqa: LOG001
    records: list[logging.LogRecord] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Handler())
    observer = log.PythonLoggingObserver("fwtest.legacy")
    assert observer.logger is logging.getLogger("fwtest.legacy")
    observer._newObserver.logger = logger
    observer.start()
    try:
        log.msg("info message")
        log.msg("warning", logLevel=logging.WARNING)
        log.err(boom(), "failed")
        log.msg()  # no text: skipped
    finally:
        observer.stop()
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "info message"),
        (logging.WARNING, "warning"),
        (logging.CRITICAL, "failed"),
    ]
    assert records[2].exc_info is not None


def test_python_logging_observer_default_name() -> None:
    assert log.PythonLoggingObserver().logger is logging.getLogger("fw")


# -- one publisher -------------------------------------------------------------


def test_msg_and_logger_reach_the_same_observers() -> None:
    legacySeen: list[log.EventDict] = []
    log.addObserver(legacySeen.append)
    try:
        with capturedLogs() as newSeen:
            log.msg("classic")
            Logger().info("structured")
    finally:
        log.removeObserver(legacySeen.append)
    assert [formatEvent(e) for e in newSeen] == ["classic", "structured"]
    assert [log.textFromEventDict(e) for e in legacySeen] == ["classic", "structured"]


# -- context -------------------------------------------------------------------


def test_call_with_context_sets_system() -> None:
    def handle() -> str:
        log.msg("inside")
        log.err(ValueError("x"))
        return "result"

    with capturedLogs() as events:
        result = log.callWithContext({"system": "HTTPChannel,3,127.0.0.1"}, handle)
        log.msg("outside")
    assert result == "result"
    assert [e["system"] for e in events] == ["HTTPChannel,3,127.0.0.1"] * 2 + ["-"]
    assert events[0]["log_system"] == "HTTPChannel,3,127.0.0.1"


def test_call_with_context_nests() -> None:
    def inner() -> None:
        log.msg("inner")

    def outer() -> None:
        log.callWithContext({"system": "inner"}, inner)
        log.msg("outer")

    with capturedLogs() as events:
        log.callWithContext({"system": "outer", "user": "alice"}, outer)
    assert [(e["system"], e["user"]) for e in events] == [("inner", "alice"), ("outer", "alice")]
    assert context.get(log.ILogContext) == {"system": "-"}


def test_call_with_context_explicit_system_wins() -> None:
    with capturedLogs() as events:
        log.callWithContext({"system": "ctx"}, log.msg, "x", system="explicit")
    assert events[0]["system"] == "explicit"


class Channel(log.Logger):
    def logPrefix(self) -> str:
        return "Channel,7"


def test_call_with_logger() -> None:
    def work(a: int, b: int) -> int:
        log.msg("working")
        return a + b

    with capturedLogs() as events:
        assert log.callWithLogger(Channel(), work, 1, b=2) == 3
    assert events[0]["system"] == "Channel,7"
    assert log.Logger().logPrefix() == "-"


def test_call_with_logger_logs_errors() -> None:
    def fail() -> None:
        raise RuntimeError("in handler")

    with capturedLogs() as events:
        assert log.callWithLogger(Channel(), fail) is None
    [event] = events
    assert event["system"] == "Channel,7"
    assert event["failure"].check(RuntimeError)
    assert event["isError"] == 1


def test_call_with_logger_buggy_prefix() -> None:
    class Buggy(log.Logger):
        def logPrefix(self) -> str:
            raise RuntimeError("no prefix")

    with capturedLogs() as events:
        assert log.callWithLogger(Buggy(), lambda: 5) == 5
    assert events[0]["system"] == "(buggy logPrefix method)"
    assert events[0]["failure"].check(RuntimeError)


def test_call_with_logger_lets_base_exceptions_through() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt()

    with pytest.raises(KeyboardInterrupt):
        log.callWithLogger(Channel(), interrupted)


# -- files, warnings -----------------------------------------------------------


def test_stdio_onna_stick() -> None:
    with capturedLogs() as events:
        log.logerr.write("line one\nline ")
        log.logerr.write(b"two\n")
        log.logfile.write("out\n")
        log.logfile.writelines(["a", "b"])
    assert [(e["message"], e["isError"], e["printed"]) for e in events] == [
        (("line one",), 1, 1),
        (("line two",), 1, 1),
        (("out",), 0, 1),
        (("a",), 0, 1),
        (("b",), 0, 1),
    ]
    stick = log.StdioOnnaStick()
    assert stick.fileno() == -1
    assert not stick.isatty()
    stick.flush()
    stick.close()
    with pytest.raises(OSError):
        stick.read()


def test_failure_prints_to_logerr_by_default() -> None:
    failure = boom()
    with capturedLogs() as events:
        failure.printTraceback()
    text = "\n".join(e["message"][0] for e in events) + "\n"
    assert text == failure.getTraceback()
    assert all(e["isError"] == 1 for e in events)


def test_discard_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "logfile", log.logfile)
    log.discardLogs()
    assert isinstance(log.logfile, log.NullFile)
    with capturedLogs() as events:
        log.logfile.write("gone\n")
        log.logfile.flush()
        log.logfile.close()
    assert log.logfile.read() == ""
    assert events == []


def test_showwarning_with_file_uses_original() -> None:
    out = io.StringIO()
    log.showwarning("to a file", UserWarning, "f.py", 3, out)
    assert "f.py:3: UserWarning: to a file" in out.getvalue()


# -- starting to log -----------------------------------------------------------


class FakeWarnings:
    def showwarning(self, *args: Any) -> None:
        pass


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> tuple[LogPublisher, SimpleNamespace]:
    """Replace the process's classic publisher by one with a fresh beginner and fake stdio."""
    publisher = LogPublisher()
    stdio = SimpleNamespace(stdout=io.StringIO(), stderr=io.StringIO())
    beginner = LogBeginner(publisher, io.StringIO(), stdio, FakeWarnings())
    classic = log.LogPublisher(publisher, publisher, beginner, FakeWarnings())
    monkeypatch.setattr(_log, "theLogPublisher", classic)
    return publisher, stdio


def test_start_logging_flushes_earlier_messages(
    fresh: tuple[LogPublisher, SimpleNamespace], utc: None
) -> None:
    publisher, stdio = fresh
    log.msg("before", system="early")
    Logger(observer=publisher).info("structured before")
    out = io.StringIO()
    observer = log.startLogging(out)
    assert isinstance(observer, log.FileLogObserver)
    log.msg("after")
    print("printed", file=stdio.stdout)
    messages = [line[len("1970-01-01 00:00:00+0000 ") :] for line in out.getvalue().splitlines()]
    assert messages == [
        "[early] before",
        "[-] structured before",
        "[-] Log opened.",
        "[-] after",
        "[-] printed",
    ]
    assert isinstance(stdio.stdout, LoggingFile)


def test_start_logging_without_stdout(fresh: tuple[LogPublisher, SimpleNamespace]) -> None:
    _, stdio = fresh
    events: list[log.EventDict] = []
    log.startLoggingWithObserver(events.append, setStdout=False)
    assert not isinstance(stdio.stdout, LoggingFile)
    assert [log.textFromEventDict(e) for e in events] == ["Log opened."]
    assert events.append in _log.theLogPublisher.observers


def test_start_logging_to_the_log_itself(fresh: tuple[LogPublisher, SimpleNamespace]) -> None:
    publisher, _ = fresh
    assert log.startLogging(LoggingFile(Logger(observer=publisher))) is None
    assert log.startLogging(log.StdioOnnaStick()) is None


def test_standalone_publisher() -> None:
    classic = log.LogPublisher()
    seen: list[log.EventDict] = []
    classic.addObserver(seen.append)
    classic.msg("alone")
    assert [log.textFromEventDict(e) for e in seen] == ["alone"]
    assert classic.observers == [seen.append]


def test_interfaces() -> None:
    assert log.ILogContext.__doc__
    assert log.ILogObserver.__doc__


def test_public_names() -> None:
    for name in log.__all__:
        assert hasattr(log, name), name


def test_legacy_error_levels_for_new_observers() -> None:
    seen: list[LogEvent] = []
    publisher = LogPublisher(seen.append)
    classic = log.LogPublisher(publisher, publisher)
    classic.msg("plain")
    classic.msg("oops", isError=True)
    assert [e["log_level"] for e in seen] == [LogLevel.info, LogLevel.critical]
