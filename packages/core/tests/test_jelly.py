"""Jelly: s-expressions as Twisted makes them, references, and the security options."""

from __future__ import annotations

import datetime
import decimal
import os
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fw.spread import jelly as jellymod
from fw.spread import pb  # noqa: F401 - registers pb's unjellyable classes, fuzzed too
from fw.spread.jelly import (
    DummySecurityOptions,
    InsecureJelly,
    Jellyable,
    MalformedJelly,
    SecurityOptions,
    Unjellyable,
    Unpersistable,
    jelly,
    setUnjellyableForClass,
    unjelly,
)

# What Twisted 26.10's jelly makes of these values.
TWISTED_SEXPS = [
    (None, [b"None"]),
    (True, [b"boolean", b"true"]),
    (False, [b"boolean", b"false"]),
    (7, 7),
    (b"by", b"by"),
    ("str\u00e9", [b"unicode", b"str\xc3\xa9"]),
    ([1, 2], [b"list", 1, 2]),
    ((1, 2), [b"tuple", 1, 2]),
    ({"k": 1}, [b"dictionary", [[b"unicode", b"k"], 1]]),
    ({(1, 2): "x"}, [b"dictionary", [[b"tuple", 1, 2], [b"unicode", b"x"]]]),
    ({1, 2}, [b"set", 1, 2]),
    (frozenset([3]), [b"frozenset", 3]),
    (set(), [b"set"]),
    (datetime.datetime(2024, 1, 2, 3, 4, 5, 6), [b"datetime", b"2024 1 2 3 4 5 6"]),
    (datetime.date(2024, 1, 2), [b"date", b"2024 1 2"]),
    (datetime.time(1, 2, 3, 4), [b"time", b"1 2 3 4"]),
    (datetime.timedelta(1, 2, 3), [b"timedelta", b"1 2 3"]),
    (decimal.Decimal("-1.25"), [b"decimal", -125, -2]),
    (decimal.Decimal("1E+5"), [b"decimal", 1, 5]),
    (decimal.Decimal("0"), [b"decimal", 0, 0]),
]


@pytest.mark.parametrize(("value", "sexp"), TWISTED_SEXPS)
def test_asTwisted(value: Any, sexp: Any) -> None:
    """Values jelly to Twisted's s-expressions, and back."""
    assert jelly(value) == sexp
    result = unjelly(sexp)
    assert result == value
    assert type(result) is type(value)


def test_sharedAndCyclic() -> None:
    """Shared containers and cycles use Twisted's reference numbering."""
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    shared = {"a": cyclic}
    sexp = jelly((shared, shared, cyclic))
    assert sexp == [
        b"tuple",
        [
            b"reference",
            2,
            [
                b"dictionary",
                [[b"unicode", b"a"], [b"reference", 1, [b"list", 1, [b"dereference", 1]]]],
            ],
        ],
        [b"dereference", 2],
        [b"dereference", 1],
    ]
    first, second, third = unjelly(sexp)
    assert first is second
    assert third[1] is third
    assert first["a"] is third


def test_tupleCycle() -> None:
    """A tuple inside its own list is rebuilt, as Twisted jellies it."""
    inner: list[Any] = []
    outer = (inner,)
    inner.append(outer)
    sexp = jelly(outer)
    assert sexp == [b"reference", 1, [b"tuple", [b"list", [b"dereference", 1]]]]
    result = unjelly(sexp)
    assert result[0][0] is result


def test_selfDict() -> None:
    d: dict[str, Any] = {}
    d["self"] = d
    result = unjelly(jelly(d))
    assert result["self"] is result


def test_strAndBytesNotShared() -> None:
    """Strings are not references (as in Twisted); tuples are."""
    s = "abc"
    t = (1,)
    assert jelly([s, s]) == [b"list", [b"unicode", b"abc"], [b"unicode", b"abc"]]
    assert jelly([t, t]) == [b"list", [b"reference", 1, [b"tuple", 1]], [b"dereference", 1]]


def test_cannotJelly() -> None:
    """Values Twisted's peers cannot rebuild are refused when jellying."""
    with pytest.raises(InsecureJelly):
        jelly(decimal.Decimal("NaN"))
    with pytest.raises(InsecureJelly):
        jelly(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    with pytest.raises(InsecureJelly):
        jelly(object(), SecurityOptions())


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


class Shape(Jellyable, Unjellyable):
    def __init__(self, sides: int) -> None:
        self.sides = sides


def test_unknownClassRefused() -> None:
    """An instance of a class nobody allowed is refused, and nothing is imported."""
    sexp = jelly(Point(1, 2))
    assert sexp[0] == f"{__name__}.Point".encode()
    with pytest.raises(InsecureJelly, match="not allowed"):
        unjelly(sexp)
    for evil in (
        [b"os.system", [b"None"]],
        [b"class", b"os.system"],
        [b"module", b"os"],
        [b"function", b"os.system"],
        [b"nosuch.module.Thing", [b"dictionary"]],
    ):
        with pytest.raises(InsecureJelly):
            unjelly(evil)


def test_allowInstancesOf() -> None:
    """A class allowed in the security options is rebuilt."""
    options = SecurityOptions()
    options.allowInstancesOf(Point)
    point = unjelly(jelly(Point(1, 2)), options)
    assert isinstance(point, Point)
    assert (point.x, point.y) == (1, 2)


def test_dummyAllowsEverything() -> None:
    """DummySecurityOptions, for trusted data, rebuilds classes, modules and functions."""
    trusted = DummySecurityOptions()
    import collections

    assert unjelly([b"class", b"collections.OrderedDict"], trusted) is collections.OrderedDict
    with pytest.raises(InsecureJelly):
        unjelly([b"class", b"os.path.join"], trusted)
    assert unjelly([b"module", b"os"], trusted) is os
    assert unjelly([b"function", b"os.path.join"], trusted) is os.path.join
    assert unjelly(jelly(os.path.join), trusted) is os.path.join


def test_setUnjellyableForClass() -> None:
    """Registered classes rebuild, by class or by name, through Jellyable/Unjellyable."""
    setUnjellyableForClass(Shape, Shape)
    shape = unjelly(jelly(Shape(5)), jellymod.globalSecurity)
    assert isinstance(shape, Shape)
    assert shape.sides == 5
    with pytest.raises(InsecureJelly):
        # A new SecurityOptions does not know the registration.
        unjelly(jelly(Shape(5)))


def test_unpersistable() -> None:
    result = unjelly([b"unpersistable", [b"unicode", b"why"]])
    assert isinstance(result, Unpersistable)
    assert "why" in result.reason


@pytest.mark.parametrize(
    "sexp",
    [
        [],
        [1],
        "text",
        [b"unicode", b"\xff"],
        [b"unicode"],
        [b"boolean", b"maybe"],
        [b"dereference", 5],
        [b"reference", 1],
        [b"reference", b"x", [b"list"]],
        [b"list", [b"bogus"]],
        [b"dictionary", [1]],
        [b"dictionary", [[b"list"], 1]],
        [b"set", [b"list"]],
        [b"decimal", 1],
        [b"decimal", 1, b"F"],
        [b"datetime", b"x"],
        [b"datetime", b"2020 13 1 0 0 0 0"],
        [b"date", b"1 2"],
        [b"None", 1],
        [b"reference", 1, [b"reference", 1, [b"list"]]],
        [b"tuple", [b"reference", 1, [b"tuple", [b"dereference", 1]]]],
    ],
)
def test_malformed(sexp: Any) -> None:
    """Malformed s-expressions raise MalformedJelly (an InsecureJelly)."""
    with pytest.raises(InsecureJelly):
        unjelly(sexp)


def test_tooDeep() -> None:
    nested: Any = 1
    for _ in range(300):
        nested = [b"list", nested]
    with pytest.raises(MalformedJelly, match="deep"):
        unjelly(nested)
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(InsecureJelly, match="deep"):
        jelly(deep)


jellyable = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.binary(max_size=10),
        st.text(max_size=10),
        st.dates(),
        st.datetimes(),
        st.decimals(allow_nan=False, allow_infinity=False),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.integers(), st.text(max_size=5)), children, max_size=4),
        st.frozensets(st.integers(), max_size=4),
    ),
    max_leaves=20,
)


@given(jellyable)
@settings(max_examples=200, deadline=None)
def test_roundTrip(value: Any) -> None:
    result = unjelly(jelly(value))
    assert result == value or (
        isinstance(value, decimal.Decimal) and result.is_zero() and value.is_zero()
    )


names = st.sampled_from(
    [
        b"None",
        b"unicode",
        b"boolean",
        b"list",
        b"tuple",
        b"set",
        b"frozenset",
        b"dictionary",
        b"reference",
        b"dereference",
        b"datetime",
        b"date",
        b"time",
        b"timedelta",
        b"decimal",
        b"unpersistable",
        b"class",
        b"module",
        b"function",
        b"os.system",
        b"remote",
        b"twisted.spread.pb.CopyableFailure",
        b"true",
        b"1 2 3",
    ]
)
sexps = st.recursive(
    st.one_of(st.integers(-3, 3), st.floats(), names, st.binary(max_size=4)),
    lambda children: st.builds(
        lambda head, rest: [head, *rest],
        st.one_of(names, children),
        st.lists(children, max_size=4),
    ),
    max_leaves=25,
)


@given(sexps)
@settings(max_examples=300, deadline=None)
@example([b"twisted.spread.pb.CopyableFailure", [b"unicode", b"None"]])
def test_fuzzUnjelly(sexp: Any) -> None:
    """
    Whatever the peer sends, unjelly returns a value or raises InsecureJelly,
    with fw.spread.pb's classes (a CopyableFailure among them) registered.
    """
    try:
        unjelly(sexp, jellymod.globalSecurity)
    except InsecureJelly:
        pass


def test_copyableFailureWithAStateThatIsNotADictionary() -> None:
    """A Failure whose state is not a dictionary is malformed jelly, not a ValueError."""
    for state in ([b"unicode", b"None"], [b"list", 1, 2], 7):
        with pytest.raises(MalformedJelly):
            unjelly([b"twisted.spread.pb.CopyableFailure", state], jellymod.globalSecurity)
