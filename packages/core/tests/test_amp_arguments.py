"""AMP argument types and Command declarations: the spellings Twisted's AMP uses, and errors."""

# Commands declare their arguments as Twisted's do, in class-level lists.
# ruff: noqa: RUF012

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.protocols import amp
from fw.python.filepath import FilePath


def zone(**kw: float) -> datetime.timezone:
    return datetime.timezone(datetime.timedelta(**kw))


# -- spellings (each observed from Twisted 26.10) --------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (1.5, b"1.5"),
        (float("nan"), b"nan"),
        (float("inf"), b"inf"),
        (float("-inf"), b"-inf"),
        (1e100, b"1e+100"),
        (0.1, b"0.1"),
        (-0.0, b"-0.0"),
        (3, b"3.0"),
    ],
)
def test_floatSpelling(value: float, wire: bytes) -> None:
    assert amp.Float().toString(value) == wire


@pytest.mark.parametrize("wire", [b"nan", b"NaN", b"inf", b"-inf", b"Infinity", b"1e5"])
def test_floatParsing(wire: bytes) -> None:
    value = amp.Float().fromString(wire)
    assert math.isnan(value) or value == float(wire.decode())


def test_floatRefusesNonNumbers() -> None:
    with pytest.raises(TypeError):
        amp.Float().toString("1.5")
    with pytest.raises(TypeError):
        amp.Float().toString(True)
    with pytest.raises(ValueError):
        amp.Float().fromString(b"one")


@given(st.floats())
def test_floatRoundTrip(value: float) -> None:
    back = amp.Float().fromString(amp.Float().toString(value))
    assert (math.isnan(back) and math.isnan(value)) or (
        back == value and math.copysign(1, back) == math.copysign(1, value)
    )


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("1.10", b"1.10"),
        ("NaN", b"NaN"),
        ("-Infinity", b"-Infinity"),
        ("sNaN", b"sNaN"),
        ("1E+3", b"1E+3"),
        ("-0", b"-0"),
    ],
)
def test_decimalSpelling(text: str, wire: bytes) -> None:
    d = amp.Decimal()
    assert d.toString(decimal.Decimal(text)) == wire
    assert str(d.fromString(wire)) == text


@pytest.mark.parametrize("value", [1, 1.5, "1"])
def test_decimalOnlyDecimals(value: Any) -> None:
    with pytest.raises(ValueError, match=r"only encode instances of decimal\.Decimal"):
        amp.Decimal().toString(value)


def test_integer() -> None:
    i = amp.Integer()
    assert i.toString(2**70) == b"1180591620717411303424"
    assert i.toString(-5) == b"-5"
    assert i.fromString(b"-12") == -12
    with pytest.raises(ValueError):
        i.fromString(b"twelve")


def test_stringAndUnicode() -> None:
    assert amp.String().toString(b"\x00\xff") == b"\x00\xff"
    assert amp.String().fromString(b"\x00\xff") == b"\x00\xff"
    assert amp.Unicode().toString("\u00e9\u2603") == "\u00e9\u2603".encode()
    assert amp.Unicode().fromString(b"\xc3\xa9") == "\u00e9"
    with pytest.raises(UnicodeDecodeError):
        amp.Unicode().fromString(b"\xff")


def test_boolean() -> None:
    b = amp.Boolean()
    assert (b.toString(True), b.toString(False), b.toString(0)) == (b"True", b"False", b"False")
    assert b.fromString(b"True") is True
    assert b.fromString(b"False") is False
    with pytest.raises(TypeError, match="Bad boolean value: b'true'"):
        b.fromString(b"true")


def test_path() -> None:
    p = amp.Path()
    assert p.toString(FilePath("/tmp/\u00e9")) == b"/tmp/\xc3\xa9"
    assert p.toString(FilePath(b"/tmp/x")) == b"/tmp/x"
    back = p.fromString(b"/tmp/\xc3\xa9")
    assert isinstance(back, FilePath)
    assert back.path == "/tmp/\u00e9"


@pytest.mark.parametrize(
    ("when", "wire"),
    [
        (
            datetime.datetime(2012, 1, 23, 12, 34, 56, 54321, tzinfo=zone(hours=-1, minutes=-23)),
            b"2012-01-23T12:34:56.054321-01:23",
        ),
        # Twisted writes a zero offset with a minus sign.
        (
            datetime.datetime(2012, 1, 23, 12, 34, 56, tzinfo=amp.utc),
            b"2012-01-23T12:34:56.000000-00:00",
        ),
        (
            datetime.datetime(1, 1, 1, tzinfo=zone(hours=5, minutes=30)),
            b"0001-01-01T00:00:00.000000+05:30",
        ),
        # Seconds of offset are rounded down to whole minutes.
        (
            datetime.datetime(2000, 1, 1, tzinfo=zone(seconds=-30)),
            b"2000-01-01T00:00:00.000000-00:01",
        ),
        (
            datetime.datetime(2000, 1, 1, tzinfo=zone(seconds=90)),
            b"2000-01-01T00:00:00.000000+00:01",
        ),
        (
            datetime.datetime(2000, 1, 1, tzinfo=zone(seconds=59)),
            b"2000-01-01T00:00:00.000000-00:00",
        ),
    ],
)
def test_dateTimeSpelling(when: datetime.datetime, wire: bytes) -> None:
    assert amp.DateTime().toString(when) == wire


@pytest.mark.parametrize(
    ("wire", "offset"),
    [
        (b"2012-01-23T12:34:56.054321-01:23", datetime.timedelta(hours=-1, minutes=-23)),
        (b"2012-01-23T12:34:56.054321+00:00", datetime.timedelta(0)),
        (b"2012-01-23T12:34:56.054321-00:00", datetime.timedelta(0)),
        (b"2012-01-23T12:34:56.054321+23:59", datetime.timedelta(hours=23, minutes=59)),
    ],
)
def test_dateTimeParsing(wire: bytes, offset: datetime.timedelta) -> None:
    when = amp.DateTime().fromString(wire)
    assert when.utcoffset() == offset
    assert (when.year, when.month, when.day, when.microsecond) == (2012, 1, 23, 54321)


@pytest.mark.parametrize(
    "wire",
    [
        b"2012-01-23T12:34:56.054321",
        b"2012-01-23T12:34:56.054321Z00:00",
        b"2012-01-23T12:34:56.054321+24:00",
        b"2012-01-23T12:34:56.05432a+01:00",
        b"2012-01-23T12:34:56.054321+01:00 ",
        b"2012-13-23T12:34:56.054321+01:00",
        b"2012-01-23X12:34:56.054321+01:00",
        b"+012-01-23T12:34:56.054321+01:00",
        b"",
    ],
)
def test_dateTimeMalformed(wire: bytes) -> None:
    with pytest.raises(ValueError):
        amp.DateTime().fromString(wire)


def test_dateTimeNaiveRefused() -> None:
    with pytest.raises(ValueError, match="naive"):
        amp.DateTime().toString(datetime.datetime(2012, 1, 1))


@settings(max_examples=100)
@given(
    st.datetimes(timezones=st.builds(zone, minutes=st.integers(min_value=-1439, max_value=1439)))
)
def test_dateTimeRoundTrip(when: datetime.datetime) -> None:
    back = amp.DateTime().fromString(amp.DateTime().toString(when))
    assert back == when
    assert back.utcoffset() == when.utcoffset()


def test_listOf() -> None:
    assert amp.ListOf(amp.Integer()).toString([1, 22]) == b"\x00\x011\x00\x0222"
    assert amp.ListOf(amp.Unicode()).toString(["\u00e9", ""]) == b"\x00\x02\xc3\xa9\x00\x00"
    assert amp.ListOf(amp.Integer()).fromString(b"\x00\x011\x00\x0222") == [1, 22]
    assert amp.ListOf(amp.Integer()).fromString(b"") == []


@pytest.mark.parametrize("wire", [b"\x00", b"\x00\x05ab"])
def test_listOfTruncated(wire: bytes) -> None:
    with pytest.raises(amp.MalformedAmpBox):
        amp.ListOf(amp.String()).fromString(wire)


def test_listOfItemTooLong() -> None:
    with pytest.raises(amp.TooLong):
        amp.ListOf(amp.String()).toString([b"x" * 65536])


def test_ampList() -> None:
    arg = amp.AmpList([(b"a", amp.Integer()), (b"b", amp.Unicode(optional=True))])
    wire = arg.toStringProto([{"a": 1, "b": "x"}, {"a": 2}], None)
    assert wire == b"\x00\x01a\x00\x011\x00\x01b\x00\x01x\x00\x00\x00\x01a\x00\x012\x00\x00"
    assert arg.fromStringProto(wire, None) == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]
    assert arg.fromString(b"") == []
    assert arg.toString([]) == b""
    with pytest.raises(amp.MalformedAmpBox):
        arg.fromString(wire[:-1])


def test_argumentBaseNotImplemented() -> None:
    with pytest.raises(NotImplementedError):
        amp.Argument().toString(1)
    with pytest.raises(NotImplementedError):
        amp.Argument().fromString(b"1")


# -- commands ------------------------------------------------------------------


class Keywords(amp.Command):
    arguments = [
        (b"from", amp.Integer()),
        (b"x-y", amp.Integer()),
        (b"opt", amp.Integer(optional=True)),
    ]
    response = [(b"class", amp.Unicode())]


def test_pythonNames() -> None:
    """Dashes become underscores; keywords are title-cased, both ways."""
    box = Keywords.makeArguments({"From": 1, "x_y": 2}, None)
    assert box == {b"from": b"1", b"x-y": b"2"}
    assert Keywords.parseArguments(box, None) == {"From": 1, "x_y": 2, "opt": None}
    assert Keywords.parseResponse(amp.AmpBox({b"class": b"c"}), None) == {"Class": "c"}
    assert "from" in amp.PYTHON_KEYWORDS


def test_extraBoxKeysIgnored() -> None:
    box = amp.AmpBox({b"from": b"1", b"x-y": b"2", b"extra": b"4"})
    assert Keywords.parseArguments(box, None) == {"From": 1, "x_y": 2, "opt": None}


def test_unknownArgumentRefused() -> None:
    with pytest.raises(amp.InvalidSignature, match="zz is not a valid argument"):
        Keywords.makeArguments({"From": 1, "x_y": 2, "zz": 3}, None)


def test_missingArgumentRefused() -> None:
    with pytest.raises(amp.InvalidSignature, match="forgot From, x_y for b'Keywords'"):
        Keywords()


def test_missingRequiredValueInBox() -> None:
    with pytest.raises(KeyError):
        Keywords.parseArguments(amp.AmpBox({b"from": b"1"}), None)


def test_commandNames() -> None:
    class Custom(amp.Command):
        commandName = b"custom-name"

    assert Keywords.commandName == b"Keywords"
    assert Custom.commandName == b"custom-name"
    with pytest.raises(TypeError, match="Command names must be byte strings"):

        class Bad(amp.Command):
            commandName = "text"  # type: ignore[assignment]


def test_strArgumentNamesRefused() -> None:
    with pytest.raises(TypeError, match="Argument names must be byte strings"):

        class Bad(amp.Command):
            arguments = [("a", amp.Integer())]  # type: ignore[list-item]


class Base(amp.Command):
    errors = {KeyError: b"KEY"}
    fatalErrors = {OSError: b"OS"}


class Derived(Base):
    errors = {ValueError: b"VALUE"}


def test_errorTables() -> None:
    """Errors accumulate from base commands; allErrors and reverseErrors include fatal ones."""
    assert Derived.allErrors == {KeyError: b"KEY", ValueError: b"VALUE", OSError: b"OS"}
    assert Derived.reverseErrors == {b"KEY": KeyError, b"VALUE": ValueError, b"OS": OSError}
    assert Derived.fatalErrors == {OSError: b"OS"}


def test_errorsStr() -> None:
    assert str(amp.RemoteAmpError(b"X", "desc")) == "Code<X>: desc"
    assert str(amp.UnknownRemoteError("d")) == "Code<UNKNOWN>: d"
    assert amp.UnknownRemoteError("d").errorCode == amp.UNKNOWN_ERROR_CODE
    assert issubclass(amp.UnknownRemoteError, amp.RemoteAmpError)
    assert issubclass(amp.IncompatibleVersions, amp.AmpError)
    assert not issubclass(amp.ProtocolSwitched, amp.AmpError)
    assert amp.PROTOCOL_ERRORS[amp.UNHANDLED_ERROR_CODE] is amp.UnhandledCommand


def test_publicSurface() -> None:
    """Every exported name exists and has a docstring (or is a constant)."""
    for name in amp.__all__:
        obj = getattr(amp, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__doc__, name
