"""fw.web.http_headers.Headers: a case-insensitive multi-dict of bytes or str."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.web.http_headers import Headers


def test_caseInsensitive() -> None:
    h = Headers({b"Content-Type": [b"text/plain"]})
    assert h.getRawHeaders(b"content-type") == [b"text/plain"]
    assert h.getRawHeaders(b"CONTENT-TYPE") == [b"text/plain"]
    assert h.hasHeader("Content-type")


def test_strNamesGiveStrValues() -> None:
    h = Headers()
    h.setRawHeaders("X-Name", ["välue"])
    assert h.getRawHeaders(b"x-name") == ["välue".encode()]
    assert h.getRawHeaders("x-name") == ["välue"]


def test_multipleValuesAndOrder() -> None:
    h = Headers()
    h.addRawHeader(b"Set-Cookie", b"a=1")
    h.addRawHeader("set-cookie", "b=2")
    assert h.getRawHeaders(b"set-cookie") == [b"a=1", b"b=2"]
    h.setRawHeaders(b"set-cookie", [b"c=3"])
    assert h.getRawHeaders(b"set-cookie") == [b"c=3"]


def test_defaultAndRemove() -> None:
    h = Headers()
    assert h.getRawHeaders(b"missing") is None
    assert h.getRawHeaders(b"missing", []) == []
    h.addRawHeader(b"x", b"1")
    h.removeHeader(b"X")
    h.removeHeader(b"never-there")
    assert not h.hasHeader(b"x")


def test_canonicalNames() -> None:
    h = Headers(
        {
            b"content-md5": [b"x"],
            b"www-authenticate": [b"y"],
            b"x-foo-bar": [b"z"],
            b"etag": [b"e"],
        }
    )
    names = dict(h.getAllRawHeaders())
    assert set(names) == {b"Content-MD5", b"WWW-Authenticate", b"X-Foo-Bar", b"ETag"}


def test_injectionRefused() -> None:
    h = Headers()
    for bad in (b"a\r\nb: c", b"a\nb", b"a\rb", b"a\x00b"):
        with pytest.raises(ValueError):
            h.addRawHeader(b"x", bad)
        with pytest.raises(ValueError):
            h.setRawHeaders(b"x", [bad])


def test_singleStringIsNotASequence() -> None:
    with pytest.raises(TypeError):
        Headers().setRawHeaders(b"x", b"value")  # type: ignore[call-overload]


def test_copyAndEquality() -> None:
    h = Headers({b"a": [b"1"]})
    c = h.copy()
    assert c == h
    c.addRawHeader(b"a", b"2")
    assert h.getRawHeaders(b"a") == [b"1"]
    assert c != h
    returned = h.getRawHeaders(b"a")
    assert returned is not None
    returned.append(b"mutated")
    assert h.getRawHeaders(b"a") == [b"1"]


@given(
    st.lists(
        st.tuples(
            st.text(alphabet="abcXYZ-", min_size=1, max_size=8),
            st.binary(max_size=10).filter(lambda b: not set(b) & {0, 10, 13}),
        )
    )
)
def test_addThenGetMatchesModel(pairs: list[tuple[str, bytes]]) -> None:
    h = Headers()
    model: dict[str, list[bytes]] = {}
    for name, value in pairs:
        h.addRawHeader(name, value)
        model.setdefault(name.lower(), []).append(value)
    for name, values in model.items():
        assert h.getRawHeaders(name.upper().encode()) == values
