"""fw.python.urlpath.URLPath: parsing, navigation and link resolution."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.python.urlpath import URLPath

URL = "http://example.com/foo/bar?yes=no&no=yes#footer"


@pytest.fixture
def path() -> URLPath:
    return URLPath.fromString(URL)


def test_parts(path: URLPath) -> None:
    assert path.scheme == b"http"
    assert path.netloc == b"example.com"
    assert path.path == b"/foo/bar"
    assert path.query == b"yes=no&no=yes"
    assert path.fragment == b"footer"
    for part in (path.scheme, path.netloc, path.path, path.query, path.fragment):
        assert isinstance(part, bytes)


def test_stringConversion(path: URLPath) -> None:
    assert str(path) == URL
    assert isinstance(str(path), str)
    assert bytes(path) == URL.encode("ascii")
    assert str(URLPath.fromBytes(URL.encode("ascii"))) == URL
    assert repr(path) == (
        "URLPath(scheme=b'http', netloc=b'example.com', path=b'/foo/bar', "
        "query=b'yes=no&no=yes', fragment=b'footer')"
    )


def test_defaults() -> None:
    assert str(URLPath()) == "http://localhost/"
    assert str(URLPath(b"https", b"h:8443", b"/a", b"q=1", b"f")) == "https://h:8443/a?q=1#f"
    with pytest.raises(TypeError):
        URLPath(path="/a")  # type: ignore[arg-type]


def test_typesAreChecked() -> None:
    bad: Any = b"http://example.com/"
    with pytest.raises(ValueError):
        URLPath.fromString(bad)
    with pytest.raises(ValueError):
        URLPath.fromBytes(URL)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        URLPath.fromBytes(None)  # type: ignore[arg-type]


def test_nonASCII() -> None:
    assert str(URLPath.fromBytes(b"http://example.com/\xff\x00")) == "http://example.com/%FF%00"
    iri = URLPath.fromString("http://b\u00fccher.example/\u00e9t\u00e9?q=\u2603#\u00e0")
    assert str(iri) == "http://xn--bcher-kva.example/%C3%A9t%C3%A9?q=%E2%98%83#%C3%A0"
    withUser = URLPath.fromString("http://\u00e9@b\u00fccher.example:81/")
    assert withUser.netloc == b"%C3%A9@xn--bcher-kva.example:81"


def test_pathList() -> None:
    url = URLPath.fromString("http://h/a%20b/c%2Fd/")
    assert url.pathList() == [b"", b"a%20b", b"c%2Fd", b""]
    assert url.pathList(unquote=True) == [b"", b"a b", b"c/d", b""]
    listed = url.pathList()
    listed.append(b"x")
    assert url.pathList() == [b"", b"a%20b", b"c%2Fd", b""]


def test_child(path: URLPath) -> None:
    assert str(path.child(b"hello")) == "http://example.com/foo/bar/hello"
    assert str(path.child(b"hello").child(b"")) == "http://example.com/foo/bar/hello/"
    assert str(path.child(b"hello", keepQuery=True)) == (
        "http://example.com/foo/bar/hello?yes=no&no=yes"
    )
    assert str(path.child(b"").child(b"x")) == "http://example.com/foo/bar/x"


def test_sibling(path: URLPath) -> None:
    assert str(path.sibling(b"baz")) == "http://example.com/foo/baz"
    assert str(path.sibling(b"baz", keepQuery=True)) == "http://example.com/foo/baz?yes=no&no=yes"
    assert str(path.child(b"").sibling(b"baz")) == "http://example.com/foo/bar/baz"


def test_parent(path: URLPath) -> None:
    assert str(path.parent()) == "http://example.com/"
    assert str(path.parent(keepQuery=True)) == "http://example.com/?yes=no&no=yes"
    assert str(path.child(b"").parent()) == "http://example.com/foo/"
    assert str(path.child(b"baz").parent()) == "http://example.com/foo/"
    assert str(path.parent().parent().parent().parent().parent()) == "http://example.com/"
    assert str(URLPath.fromString("http://h/only").parent()) == "http://h/"


def test_here(path: URLPath) -> None:
    assert str(path.here()) == "http://example.com/foo/"
    assert str(path.here(keepQuery=True)) == "http://example.com/foo/?yes=no&no=yes"
    assert str(path.child(b"").here()) == "http://example.com/foo/bar/"


def test_navigationDoesNotMutate(path: URLPath) -> None:
    path.child(b"a")
    path.sibling(b"b")
    path.parent()
    path.here()
    path.click(b"../x")
    assert str(path) == URL


def test_click(path: URLPath) -> None:
    assert str(path.click(b"hello")) == "http://example.com/foo/hello"
    assert str(path.click(b"")) == "http://example.com/foo/bar?yes=no&no=yes"
    assert str(path.click(b"?other")) == "http://example.com/foo/bar?other"
    assert str(path.click(b"#frag")) == "http://example.com/foo/bar?yes=no&no=yes#frag"
    assert str(path.click(b"../../../../hello")) == "http://example.com/hello"
    assert str(path.click(b"/abs/./x/../y")) == "http://example.com/abs/y"
    assert str(path.click(b"https://other.example/z")) == "https://other.example/z"
    assert str(path.click(b"//other.example/z?q")) == "http://other.example/z?q"


# RFC 3986 section 5.4 examples (base http://a/b/c/d;p?q), all but "g:h"
# (URLPath keeps the base host for a scheme without one) and "//g" (an empty
# path becomes "/").
RFC3986 = [
    (b"g", "http://a/b/c/g"),
    (b"./g", "http://a/b/c/g"),
    (b"g/", "http://a/b/c/g/"),
    (b"/g", "http://a/g"),
    (b"?y", "http://a/b/c/d;p?y"),
    (b"g?y", "http://a/b/c/g?y"),
    (b"#s", "http://a/b/c/d;p?q#s"),
    (b"g#s", "http://a/b/c/g#s"),
    (b"g?y#s", "http://a/b/c/g?y#s"),
    (b";x", "http://a/b/c/;x"),
    (b"g;x", "http://a/b/c/g;x"),
    (b"g;x?y#s", "http://a/b/c/g;x?y#s"),
    (b"", "http://a/b/c/d;p?q"),
    (b".", "http://a/b/c/"),
    (b"./", "http://a/b/c/"),
    (b"..", "http://a/b/"),
    (b"../", "http://a/b/"),
    (b"../g", "http://a/b/g"),
    (b"../..", "http://a/"),
    (b"../../", "http://a/"),
    (b"../../g", "http://a/g"),
    (b"../../../g", "http://a/g"),
    (b"../../../../g", "http://a/g"),
    (b"/./g", "http://a/g"),
    (b"/../g", "http://a/g"),
    (b"g.", "http://a/b/c/g."),
    (b".g", "http://a/b/c/.g"),
    (b"g..", "http://a/b/c/g.."),
    (b"..g", "http://a/b/c/..g"),
    (b"./../g", "http://a/b/g"),
    (b"./g/.", "http://a/b/c/g/"),
    (b"g/./h", "http://a/b/c/g/h"),
    (b"g/../h", "http://a/b/c/h"),
    (b"g;x=1/./y", "http://a/b/c/g;x=1/y"),
    (b"g;x=1/../y", "http://a/b/c/y"),
    (b"g?y/./x", "http://a/b/c/g?y/./x"),
    (b"g?y/../x", "http://a/b/c/g?y/../x"),
    (b"g#s/./x", "http://a/b/c/g#s/./x"),
    (b"g#s/../x", "http://a/b/c/g#s/../x"),
    (b"http:g", "http://a/b/c/g"),
]


@pytest.mark.parametrize(("link", "expected"), RFC3986)
def test_clickRFC3986(link: bytes, expected: str) -> None:
    assert str(URLPath.fromString("http://a/b/c/d;p?q").click(link)) == expected


# Non-empty segments: ``urljoin`` collapses empty ones ("a//b"), RFC 3986 does not.
_segment = st.text(alphabet="abc.", min_size=1, max_size=4)


@given(
    base=st.lists(_segment, max_size=5),
    baseSlash=st.booleans(),
    link=st.lists(_segment, min_size=1, max_size=5),
    linkSlash=st.booleans(),
    absolute=st.booleans(),
)
def test_clickMatchesUrljoin(
    base: list[str], baseSlash: bool, link: list[str], linkSlash: bool, absolute: bool
) -> None:
    """Paths resolve as the stdlib's RFC 3986 ``urljoin`` resolves them."""
    baseURL = "http://h/" + "/".join(base) + ("/" if baseSlash and base else "")
    ref = ("/" if absolute else "") + "/".join(link) + ("/" if linkSlash else "")
    expected = urljoin(baseURL, ref)
    if expected == "http://h":
        expected = "http://h/"
    assert str(URLPath.fromString(baseURL).click(ref.encode("ascii"))) == expected


class _FakeRequest:
    def prePathURL(self) -> bytes:
        return b"http://example.com:8080/a/b"


def test_fromRequest() -> None:
    url = URLPath.fromRequest(_FakeRequest())
    assert url.netloc == b"example.com:8080"
    assert str(url.child(b"c")) == "http://example.com:8080/a/b/c"
