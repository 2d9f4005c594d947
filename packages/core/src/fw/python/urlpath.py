"""
URL paths you can navigate: :class:`URLPath`.

A :class:`URLPath` holds an absolute URL as five ASCII byte strings
(``scheme``, ``netloc``, ``path``, ``query``, ``fragment``) and builds the
URLs around it: :meth:`~URLPath.child`, :meth:`~URLPath.sibling`,
:meth:`~URLPath.parent`, :meth:`~URLPath.here` and :meth:`~URLPath.click`
(resolving a link the way a browser does, RFC 3986 section 5.2).

``fw.web``'s ``Request.URLPath()`` returns the URL of the resource handling
a request as a :class:`URLPath`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes, urlsplit, urlunsplit

__all__ = ["URLPath"]

# Every ASCII character except NUL stays as it is when a URL is built from
# text or bytes; NUL and everything outside ASCII is percent-encoded.
_SAFE_ASCII = "".join(chr(code) for code in range(1, 128))
_SAFE_ASCII_BYTES = _SAFE_ASCII.encode("ascii")


def _asciiHost(host: str) -> str:
    """Encode a (possibly internationalised) host name for a URI."""
    if host.isascii():
        return host
    return host.encode("idna").decode("ascii")


def _asciiNetloc(netloc: str) -> str:
    """Make ``[userinfo@]host[:port]`` ASCII: IDNA for the host, percent-encoding for the rest."""
    if netloc.isascii():
        return netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, port = hostport, ""
    else:
        host, colon, portNumber = hostport.partition(":")
        port = colon + portNumber
    return quote(userinfo, safe=_SAFE_ASCII) + at + _asciiHost(host) + port


def _removeDotSegments(path: bytes) -> bytes:
    """
    Resolve ``.`` and ``..`` segments of ``path`` (RFC 3986 section 5.2.4).

    A ``..`` never climbs above the root; a path ending in ``.`` or ``..``
    ends with ``/``.
    """
    segments = path.split(b"/")
    kept: list[bytes] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == b"." or segment == b"..":
            if segment == b".." and (len(kept) > 1 or (kept and kept[0] != b"")):
                kept.pop()
            if index == last:
                kept.append(b"")
        else:
            kept.append(segment)
    return b"/".join(kept)


class URLPath:
    """
    An absolute URL split into its parts, each an ASCII :class:`bytes`.

    Navigation methods return new objects and never change this one.  By
    default they drop the query string; pass ``keepQuery=True`` to keep it.
    Path segments given to :meth:`child` and :meth:`sibling` are used as
    they are: quote them first if they may contain ``/``, ``?``, ``#`` or
    ``%``.

    Args:
        scheme: The scheme, ``b"http"`` when empty.
        netloc: ``[userinfo@]host[:port]``.
        path: The path, ``b"/"`` when empty.
        query: The query string, without ``?``.
        fragment: The fragment, without ``#``.
    """

    scheme: bytes
    netloc: bytes
    path: bytes
    query: bytes
    fragment: bytes

    def __init__(
        self,
        scheme: bytes = b"",
        netloc: bytes = b"localhost",
        path: bytes = b"",
        query: bytes = b"",
        fragment: bytes = b"",
    ) -> None:
        for name, value in (
            ("scheme", scheme),
            ("netloc", netloc),
            ("path", path),
            ("query", query),
            ("fragment", fragment),
        ):
            if not isinstance(value, bytes):
                raise TypeError(f"URLPath {name} must be bytes, not {type(value).__name__}")
        self.scheme = scheme or b"http"
        self.netloc = netloc
        self.path = path or b"/"
        self.query = query
        self.fragment = fragment

    # -- construction ---------------------------------------------------------

    @classmethod
    def fromString(cls, url: str) -> URLPath:
        """
        Parse a URL (or IRI) given as text.

        Non-ASCII host names are IDNA-encoded; other non-ASCII characters
        are UTF-8 percent-encoded.

        Raises:
            ValueError: ``url`` is not a :class:`str`.
        """
        if not isinstance(url, str):
            raise ValueError("'url' must be a str")
        parts = urlsplit(url)
        return cls(
            scheme=parts.scheme.encode("ascii"),
            netloc=_asciiNetloc(parts.netloc).encode("ascii"),
            path=quote(parts.path, safe=_SAFE_ASCII).encode("ascii"),
            query=quote(parts.query, safe=_SAFE_ASCII).encode("ascii"),
            fragment=quote(parts.fragment, safe=_SAFE_ASCII).encode("ascii"),
        )

    @classmethod
    def fromBytes(cls, url: bytes) -> URLPath:
        """
        Parse a URL given as bytes; bytes outside ASCII (and NUL) are
        percent-encoded.

        Raises:
            ValueError: ``url`` is not :class:`bytes`.
        """
        if not isinstance(url, bytes):
            raise ValueError("'url' must be bytes")
        return cls.fromString(quote_from_bytes(url, safe=_SAFE_ASCII_BYTES))

    @classmethod
    def fromRequest(cls, request: Any) -> URLPath:
        """The URL of the resource handling ``request`` (its ``prePathURL()``)."""
        return cls.fromBytes(request.prePathURL())

    # -- paths ----------------------------------------------------------------

    def pathList(self, unquote: bool = False, copy: bool = True) -> list[bytes]:
        """
        The path split at ``/``; the first element is ``b""`` for an
        absolute path.

        Args:
            unquote: Percent-decode each segment.
            copy: Kept for Twisted compatibility; a new list is always returned.
        """
        segments = self.path.split(b"/")
        if unquote:
            return [unquote_to_bytes(segment) for segment in segments]
        return segments

    def _withPath(self, segments: list[bytes], keepQuery: bool) -> URLPath:
        query = self.query if keepQuery else b""
        return URLPath(self.scheme, self.netloc, b"/".join(segments), query)

    def sibling(self, path: bytes, keepQuery: bool = False) -> URLPath:
        """The URL of ``path`` in the same directory (its last segment replaced)."""
        segments = self.pathList()
        segments[-1] = path
        return self._withPath(segments, keepQuery)

    def child(self, path: bytes, keepQuery: bool = False) -> URLPath:
        """The URL of ``path`` below this one."""
        segments = self.pathList()
        if segments[-1] == b"":
            segments[-1] = path
        else:
            segments.append(path)
        return self._withPath(segments, keepQuery)

    def parent(self, keepQuery: bool = False) -> URLPath:
        """
        The directory above this URL's directory: ``/a/b/c`` and ``/a/b/``
        both have the parent ``/a/``.  The root is its own parent.
        """
        segments = self.pathList()
        if segments[-1] == b"":
            if len(segments) > 2:
                del segments[-2]
        else:
            segments.pop()
            if len(segments) > 1:
                segments[-1] = b""
            else:
                segments.append(b"")
        return self._withPath(segments, keepQuery)

    def here(self, keepQuery: bool = False) -> URLPath:
        """The directory this URL is in: ``/a/b`` gives ``/a/``, ``/a/b/`` gives itself."""
        segments = self.pathList()
        if segments[-1] != b"":
            segments[-1] = b""
        return self._withPath(segments, keepQuery)

    def click(self, st: bytes) -> URLPath:
        """
        Resolve the link ``st`` relative to this URL, as following it from
        this page would.

        A link without a scheme or host takes this URL's; an empty link (or
        one that is only ``?query`` or ``#fragment``) keeps this path; a
        relative path replaces the last segment; ``.`` and ``..`` segments
        are then resolved.
        """
        scheme, netloc, path, query, fragment = urlsplit(st)
        if not scheme:
            scheme = self.scheme
        if not netloc:
            netloc = self.netloc
            if not path:
                path = self.path
                if not query:
                    query = self.query
            elif not path.startswith(b"/"):
                segments = self.pathList()
                segments[-1] = path
                path = b"/".join(segments)
        return URLPath(scheme, netloc, _removeDotSegments(path), query, fragment)

    # -- conversion -----------------------------------------------------------

    def __bytes__(self) -> bytes:
        """The URL as ASCII bytes."""
        return urlunsplit((self.scheme, self.netloc, self.path, self.query, self.fragment))

    def __str__(self) -> str:
        """The URL as text."""
        return bytes(self).decode("ascii")

    def __repr__(self) -> str:
        return (
            f"URLPath(scheme={self.scheme!r}, netloc={self.netloc!r}, path={self.path!r}, "
            f"query={self.query!r}, fragment={self.fragment!r})"
        )
