"""Tests for fw.logger: levels, the Logger, formatting and the publisher."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fw.logger
from fw.logger import (
    InvalidLogLevelError,
    LogEvent,
    Logger,
    LogLevel,
    LogPublisher,
    _loggerFor,
    capturedLogs,
    eventAsText,
    extractField,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
    globalLogPublisher,
)
from fw.logger._observer import MAX_REENTRANT_DEPTH
from fw.python.failure import Failure, NoCurrentExceptionError


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the test with the local time zone set to UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def collector() -> tuple[list[LogEvent], LogPublisher]:
    events: list[LogEvent] = []
    return events, LogPublisher(events.append)


# -- levels ------------------------------------------------------------------


def test_levels_are_ordered() -> None:
    levels = list(LogLevel.iterconstants())
    assert [lv.name for lv in levels] == ["debug", "info", "warn", "error", "critical"]
    assert levels == sorted(levels)
    assert LogLevel.debug < LogLevel.info <= LogLevel.info < LogLevel.critical
    assert LogLevel.error > LogLevel.warn >= LogLevel.warn
    assert max(levels) is LogLevel.critical


def test_level_with_name() -> None:
    assert LogLevel.levelWithName("warn") is LogLevel.warn
    assert LogLevel.lookupByName("error") is LogLevel.error
    with pytest.raises(InvalidLogLevelError) as info:
        LogLevel.levelWithName("loud")
    assert info.value.level == "loud"
    assert "loud" in str(info.value)


def test_level_repr_and_comparison_with_others() -> None:
    assert repr(LogLevel.info) == "<LogLevel=info>"
    with pytest.raises(TypeError):
        _ = LogLevel.info < 3


# -- Logger ------------------------------------------------------------------


def test_emit_builds_event() -> None:
    events, publisher = collector()
    source = object()
    log = Logger(namespace="a.b", source=source, observer=publisher)
    before = time.time()
    log.emit(LogLevel.warn, "hello {who}", who="world")
    after = time.time()
    [event] = events
    assert event["log_logger"] is log
    assert event["log_level"] is LogLevel.warn
    assert event["log_namespace"] == "a.b"
    assert event["log_source"] is source
    assert event["log_format"] == "hello {who}"
    assert before <= event["log_time"] <= after
    assert event["who"] == "world"
    assert formatEvent(event) == "hello world"


@pytest.mark.parametrize("level", list(LogLevel))
def test_level_methods(level: LogLevel) -> None:
    events, publisher = collector()
    log = Logger(observer=publisher)
    getattr(log, level.name)("x {y}", y=1)
    assert events[0]["log_level"] is level
    assert events[0]["y"] == 1


def test_default_namespace_is_calling_module() -> None:
    assert Logger().namespace == __name__


def test_default_observer_is_global_publisher() -> None:
    log = Logger()
    assert log.observer is globalLogPublisher
    with capturedLogs() as events:
        log.info("to the world")
    assert [e["log_format"] for e in events] == ["to the world"]


class Thing:
    log = Logger()

    def work(self) -> None:
        self.log.info("working")


def test_logger_as_descriptor() -> None:
    thing = Thing()
    assert thing.log.namespace == f"{__name__}.Thing"
    assert thing.log.source is thing
    assert Thing.log.source is Thing
    assert Thing.log.namespace == f"{__name__}.Thing"
    with capturedLogs() as events:
        thing.work()
    assert events[0]["log_source"] is thing


def test_descriptor_keeps_observer() -> None:
    events, publisher = collector()

    class Other:
        log = Logger(observer=publisher)

    Other().log.info("x")
    assert len(events) == 1


def test_logger_for() -> None:
    thing = Thing()
    log = _loggerFor(thing)
    assert log.namespace == f"{__name__}.Thing"
    assert log.source is thing


def test_logger_repr() -> None:
    assert repr(Logger(namespace="x.y")) == "<Logger 'x.y'>"


def test_invalid_level_logs_a_failure() -> None:
    events, publisher = collector()
    log = Logger(observer=publisher)
    log.emit("loud", "nope")  # type: ignore[arg-type]
    [event] = events
    assert event["log_level"] is LogLevel.critical
    assert event["invalidLevel"] == "loud"
    assert isinstance(event["log_failure"].value, InvalidLogLevelError)
    assert "loud" in formatEvent(event)


def test_failure_uses_current_exception() -> None:
    events, publisher = collector()
    log = Logger(observer=publisher)
    try:
        raise ValueError("bad")
    except ValueError:
        log.failure("while {doing}", doing="testing")
    [event] = events
    assert event["log_level"] is LogLevel.critical
    assert event["log_failure"].check(ValueError)
    assert formatEvent(event) == "while testing"


def test_failure_with_given_failure_and_level() -> None:
    events, publisher = collector()
    failure = Failure(KeyError("k"))
    Logger(observer=publisher).failure("x", failure, LogLevel.warn)
    assert events[0]["log_failure"] is failure
    assert events[0]["log_level"] is LogLevel.warn


def test_failure_outside_except_raises() -> None:
    with pytest.raises(NoCurrentExceptionError):
        Logger(observer=lambda e: None).failure("x")


def test_failures_handled() -> None:
    events, publisher = collector()
    log = Logger(observer=publisher)
    with log.failuresHandled("frobbing {knob}", knob=3) as op:
        pass
    assert op.succeeded
    assert not op.failed
    assert op.failure is None
    assert events == []

    with log.failuresHandled("frobbing {knob}", LogLevel.error, knob=3) as op:
        raise RuntimeError("stuck")
    assert op.failed
    assert not op.succeeded
    assert op.failure is not None
    assert op.failure.check(RuntimeError)
    [event] = events
    assert event["log_level"] is LogLevel.error
    assert event["log_failure"] is op.failure
    assert formatEvent(event) == "frobbing 3"


def test_failures_handled_lets_base_exceptions_through() -> None:
    events, publisher = collector()
    log = Logger(observer=publisher)
    with pytest.raises(KeyboardInterrupt), log.failuresHandled("x"):
        raise KeyboardInterrupt()
    assert events == []


def test_failure_handler_is_reusable() -> None:
    events, publisher = collector()
    handler = Logger(observer=publisher).failureHandler("in loop")
    for i in range(3):
        with handler:
            if i != 1:
                raise ValueError(i)
    assert [e["log_failure"].value.args for e in events] == [(0,), (2,)]
    assert all(e["log_format"] == "in loop" for e in events)
    with pytest.raises(SystemExit), handler:
        raise SystemExit(1)


def test_log_trace() -> None:
    events, publisher = collector()
    outer = LogPublisher(publisher)
    log = Logger(observer=outer)
    trace: list[tuple[object, object]] = []
    log.info("x", log_trace=trace)
    assert trace == [(log, outer), (outer, publisher), (publisher, events.append)]


# -- formatting --------------------------------------------------------------


class Widget:
    name = "w"
    parts = ("a", "b")

    def describe(self) -> str:
        return "a widget"

    def child(self) -> Widget:
        return self


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("plain", "plain"),
        ("{n}", "3"),
        ("{n:>4}|", "   3|"),
        ("{n:{width}}|", "   3|"),
        ("{s!r}", "'text'"),
        ("{s!a}", "'text'"),
        ("{w.name}", "w"),
        ("{w.describe()}", "a widget"),
        ("{w.child().child().name}", "w"),
        ("{w.parts[1]}", "b"),
        ("{d[key]}", "value"),
        ("{f()}", "called"),
        ("{fs[0]()}", "in list"),
        ("{{literal}}", "{literal}"),
    ],
)
def test_format_fields(fmt: str, expected: str) -> None:
    event = {
        "log_format": fmt,
        "n": 3,
        "width": 4,
        "s": "text",
        "w": Widget(),
        "d": {"key": "value"},
        "f": lambda: "called",
        "fs": [lambda: "in list"],
    }
    assert formatEvent(event) == expected


def test_bytes_format() -> None:
    assert formatEvent({"log_format": b"caf\xc3\xa9 {x}", "x": 1}) == "café 1"


def test_no_format() -> None:
    assert formatEvent({"log_format": None}) == ""
    assert formatEvent({}) == ""


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")


@pytest.mark.parametrize(
    ("fmt", "error"),
    [
        ("{missing}", "missing"),
        ("{w.nothing}", "nothing"),
        ("{w.describe}{w.name()}", "not callable"),
        ("{unbalanced", "expected '}'"),
        ("{}", "no name"),
        ("{0}", "0"),
        ("{w.}", "Empty attribute"),
        ("{d[key}", "expected '}'"),
        ("{d[]}", "Empty index"),
        ("{d[key]x}", "follow ']'"),
        ("{bad}", "no str"),
        ("{n!x}", "conversion"),
        ("{n:{width:{width:{width}}}}", "recursion"),
    ],
)
def test_bad_format_never_raises(fmt: str, error: str) -> None:
    event = {
        "log_format": fmt,
        "w": Widget(),
        "d": {"key": 1},
        "bad": BadRepr(),
        "n": 1,
        "width": 2,
    }
    text = formatEvent(event)
    assert text.startswith("Unable to format event ")
    assert error in text


def test_non_string_format() -> None:
    text = formatEvent({"log_format": 42})
    assert text.startswith("Unable to format event ")
    assert "Log format must be str" in text


def test_formatting_is_lazy() -> None:
    calls = []

    class Expensive:
        def __format__(self, spec: str) -> str:
            calls.append(spec)
            return "expensive"

    events, publisher = collector()
    log = Logger(observer=publisher)
    log.info("{e}", e=Expensive())
    assert calls == []
    assert formatEvent(events[0]) == "expensive"
    assert calls == [""]


def test_format_time(utc: None) -> None:
    assert formatTime(0) == "1970-01-01T00:00:00+0000"
    assert formatTime(86400.5, "%Y/%m/%d %H") == "1970/01/02 00"
    assert formatTime(None) == "-"
    assert formatTime(0, None) == "-"
    assert formatTime(None, default="?") == "?"
    assert formatTime(1e20) == "-"


def test_format_time_uses_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "EST+5")
    time.tzset()
    try:
        assert formatTime(0) == "1969-12-31T19:00:00-0500"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_event_as_text(utc: None) -> None:
    event = {
        "log_format": "hi {x}",
        "x": 1,
        "log_time": 0,
        "log_namespace": "ns",
        "log_level": LogLevel.warn,
    }
    assert eventAsText(event) == "1970-01-01T00:00:00+0000 [ns#warn] hi 1"
    assert eventAsText(event, includeTimestamp=False) == "[ns#warn] hi 1"
    assert eventAsText(event, includeSystem=False) == "1970-01-01T00:00:00+0000 hi 1"
    assert eventAsText(event, includeSystem=False, includeTimestamp=False) == "hi 1"
    assert eventAsText({**event, "log_system": "sys"}, includeTimestamp=False) == "[sys] hi 1"
    assert eventAsText({"log_format": "x"}) == "- [-#-] x"
    assert eventAsText({}) == ""


def test_event_as_text_with_failure() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        failure = Failure()
    event = {"log_format": "oops", "log_failure": failure}
    text = eventAsText(event, includeTimestamp=False, includeSystem=False)
    assert text == "oops\n" + failure.getTraceback()
    assert eventAsText(event, includeTraceback=False, includeSystem=False) == "- oops"
    assert eventAsText({"log_failure": "a traceback string"}, includeSystem=False).endswith(
        "\na traceback string"
    )

    class Broken:
        def getTraceback(self) -> str:
            raise RuntimeError("nope")

    text = eventAsText({"log_failure": Broken()}, includeSystem=False, includeTimestamp=False)
    assert text == "\n(unable to obtain traceback from event): nope"


def test_classic_log_text(utc: None) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        failure = Failure()
    event = {
        "log_format": "oops {x}",
        "x": 2,
        "log_time": 0,
        "log_namespace": "ns",
        "log_level": LogLevel.critical,
        "log_failure": failure,
    }
    text = formatEventAsClassicLogText(event)
    assert text == (
        "1970-01-01T00:00:00+0000 [ns#critical] oops 2\n\t"
        + failure.getTraceback().replace("\n", "\n\t")
        + "\n"
    )
    assert formatEventAsClassicLogText({"log_format": None}) is None
    assert (
        formatEventAsClassicLogText({"log_format": "a\nb"}, formatTime=lambda t: "T")
        == "T [-#-] a\n\tb\n"
    )


def test_extract_field() -> None:
    event = {"log_format": "{w.name}", "w": Widget(), "n": 5}
    assert extractField("w.name", event) == "w"
    assert extractField("w.describe()", event) == "a widget"
    assert extractField("n", event) == 5
    with pytest.raises(KeyError):
        extractField("missing", event)
    with pytest.raises(KeyError):
        extractField("w.nothing", event)
    flattened = {"log_flattened": {"n!:": 7}, "log_format": "{n}"}
    assert extractField("n", flattened) == 7


# -- the publisher -----------------------------------------------------------


def test_publisher_add_remove() -> None:
    a: list[LogEvent] = []
    b: list[LogEvent] = []
    publisher = LogPublisher(a.append)
    publisher.addObserver(b.append)
    publisher.addObserver(b.append)  # no duplicate
    publisher({"n": 1})
    publisher.removeObserver(a.append)
    publisher.removeObserver(a.append)  # absent: ignored
    publisher({"n": 2})
    assert [e["n"] for e in a] == [1]
    assert [e["n"] for e in b] == [1, 2]
    assert "1 observer" in repr(publisher)


def test_publisher_refuses_non_callable() -> None:
    with pytest.raises(TypeError):
        LogPublisher().addObserver(42)  # type: ignore[arg-type]


def test_publisher_shares_the_event() -> None:
    a: list[LogEvent] = []
    b: list[LogEvent] = []
    publisher = LogPublisher(a.append, b.append)
    event = {"x": 1}
    publisher(event)
    assert a[0] is event
    assert b[0] is event


def test_broken_observer_is_reported_to_others() -> None:
    seen: list[LogEvent] = []
    calls = []

    def broken(event: LogEvent) -> None:
        calls.append(event)
        raise RuntimeError("observer bug")

    publisher = LogPublisher(broken, seen.append)
    log = Logger(observer=publisher)
    log.info("first")  # the emitter is not affected
    assert seen[0].get("log_format") == "first"
    report = seen[1]
    assert report["log_level"] is LogLevel.critical
    assert report["observer"] is broken
    assert report["log_failure"].check(RuntimeError)
    assert "raised an exception" in formatEvent(report)
    assert len(calls) == 1  # the report did not go to the broken observer

    # It stays registered, and keeps failing without affecting the others.
    log.info("second")
    assert len(calls) == 2
    assert [formatEvent(e) for e in seen if "observer" not in e] == ["first", "second"]


def test_two_broken_observers() -> None:
    seen: list[LogEvent] = []

    def broken1(event: LogEvent) -> None:
        raise RuntimeError("one")

    def broken2(event: LogEvent) -> None:
        raise RuntimeError("two")

    publisher = LogPublisher(broken1, broken2, seen.append)
    publisher({"log_format": "x"})
    reports = [e for e in seen if "observer" in e]
    assert {e["observer"] for e in reports} == {broken1, broken2}


def test_base_exceptions_from_observers_propagate() -> None:
    def interrupted(event: LogEvent) -> None:
        raise KeyboardInterrupt()

    publisher = LogPublisher(interrupted)
    with pytest.raises(KeyboardInterrupt):
        publisher({})
    # The publisher is usable again afterwards.
    seen: list[LogEvent] = []
    publisher.removeObserver(interrupted)
    publisher.addObserver(seen.append)
    publisher({"n": 1})
    assert seen == [{"n": 1}]


def test_reentrant_emit_is_delivered_after_current_event() -> None:
    publisher = LogPublisher()
    log = Logger(observer=publisher)
    first: list[str] = []
    second: list[str] = []

    def reacting(event: LogEvent) -> None:
        first.append(formatEvent(event))
        if event.get("log_format") == "outer":
            log.info("inner")
            assert first == ["outer"]  # not delivered re-entrantly

    def recording(event: LogEvent) -> None:
        second.append(formatEvent(event))

    publisher.addObserver(reacting)
    publisher.addObserver(recording)
    log.info("outer")
    assert first == ["outer", "inner"]
    assert second == ["outer", "inner"]


def test_observer_changes_during_dispatch() -> None:
    publisher = LogPublisher()
    late: list[LogEvent] = []

    def adder(event: LogEvent) -> None:
        publisher.addObserver(late.append)
        publisher.removeObserver(adder)

    publisher.addObserver(adder)
    publisher({"n": 1})
    publisher({"n": 2})
    assert [e["n"] for e in late] == [2]


def test_feedback_loop_is_bounded() -> None:
    publisher = LogPublisher()
    log = Logger(observer=publisher)
    seen: list[LogEvent] = []

    def echo(event: LogEvent) -> None:
        seen.append(event)
        log.info("echo of {n}", n=event.get("n", 0) + 1)

    publisher.addObserver(echo)
    log.info("start", n=0)
    # The start event, MAX_REENTRANT_DEPTH echoes, then the report of drops.
    echoes = [e for e in seen if "count" not in e]
    assert len(echoes) == 1 + MAX_REENTRANT_DEPTH
    [report] = [e for e in seen if "count" in e]
    assert report["log_level"] is LogLevel.error
    assert report["count"] == 1
    assert "Dropped 1 log event" in formatEvent(report)
    # The publisher works normally afterwards.
    seen.clear()
    publisher.removeObserver(echo)
    publisher.addObserver(seen.append)
    log.info("after")
    assert [formatEvent(e) for e in seen] == ["after"]


def test_publishing_from_threads() -> None:
    seen: list[LogEvent] = []
    lock = threading.Lock()

    def observer(event: LogEvent) -> None:
        with lock:
            seen.append(event)

    publisher = LogPublisher(observer)
    log = Logger(observer=publisher)

    def work(name: str) -> None:
        for i in range(200):
            log.info("{name} {i}", name=name, i=i)

    threads = [threading.Thread(target=work, args=(str(n),)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 800
    for n in range(4):
        assert [e["i"] for e in seen if e["name"] == str(n)] == list(range(200))


def test_captured_logs_stops_capturing() -> None:
    log = Logger()
    with capturedLogs() as events:
        log.info("in")
    log.info("out")
    assert [e["log_format"] for e in events] == ["in"]


def test_captured_logs_of_a_publisher() -> None:
    publisher = LogPublisher()
    with capturedLogs(publisher) as events:
        Logger(observer=publisher).info("x")
        Logger().info("elsewhere")
    assert [e["log_format"] for e in events] == ["x"]


# -- the public surface ------------------------------------------------------


def test_public_names() -> None:
    for name in fw.logger.__all__:
        obj: Any = getattr(fw.logger, name)
        if name in ("LogEvent", "globalLogPublisher", "globalLogBeginner", "timeFormatRFC3339"):
            continue
        assert obj.__doc__, name


# -- properties ----------------------------------------------------------------

_values = st.one_of(st.integers(), st.text(), st.none(), st.lists(st.integers()), st.floats())


@given(fmt=st.text(), values=st.dictionaries(st.sampled_from(["a", "b", "c"]), _values))
def test_formatting_never_raises(fmt: str, values: dict[str, Any]) -> None:
    assert isinstance(formatEvent({"log_format": fmt, **values}), str)


@given(
    parts=st.lists(
        st.one_of(
            st.text(alphabet=st.characters(blacklist_characters="{}")),
            st.sampled_from(["{a}", "{b!r}", "{c:>6}", "{{", "}}", "{a!s:^4}"]),
        )
    ),
    a=st.integers(),
    b=st.text(),
    c=st.integers(),
)
def test_formatting_matches_str_format(parts: list[str], a: int, b: str, c: int) -> None:
    fmt = "".join(parts)
    values = {"a": a, "b": b, "c": c}
    assert formatEvent({"log_format": fmt, **values}) == fmt.format_map(values)
