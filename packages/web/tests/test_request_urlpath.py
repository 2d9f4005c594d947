"""``server.Request.URLPath()``: the handling resource's URL as a ``URLPath``."""

from __future__ import annotations

from typing import Any

from fw.internet.address import IPv4Address
from fw.internet.task import Clock
from fw.internet.testing import StringTransport
from fw.python.urlpath import URLPath
from fw.web.resource import Resource
from fw.web.server import Site


class _Spy(Resource):
    isLeaf = True

    def __init__(self, seen: list[Any]) -> None:
        super().__init__()
        self.seen = seen

    def render_GET(self, request: Any) -> bytes:
        url = request.URLPath()
        self.seen.append((url, request.prePathURL()))
        return str(url.sibling(b"other")).encode("ascii")


def _get(request: bytes, port: int = 80) -> tuple[list[Any], bytes]:
    seen: list[Any] = []
    root = Resource()
    directory = Resource()
    root.putChild(b"dir", directory)
    directory.putChild(b"page", _Spy(seen))
    directory.putChild(b"p g", _Spy(seen))
    site = Site(root, reactor=Clock())
    site.startFactory()
    channel = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", port))
    assert channel is not None
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "127.0.0.1", port),
        peerAddress=IPv4Address("TCP", "10.0.0.1", 5555),
    )
    channel.makeConnection(transport)
    channel.dataReceived(request)
    return seen, transport.value()


def test_URLPath() -> None:
    seen, response = _get(b"GET /dir/page/rest?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    [(url, prePath)] = seen
    assert isinstance(url, URLPath)
    assert prePath == b"http://example.com/dir/page"
    assert str(url) == "http://example.com/dir/page"
    assert (url.scheme, url.netloc, url.path, url.query) == (
        b"http",
        b"example.com",
        b"/dir/page",
        b"",
    )
    assert str(url.parent()) == "http://example.com/"
    assert response.endswith(b"http://example.com/dir/other")


def test_URLPathKeepsNonDefaultPort() -> None:
    seen, _ = _get(b"GET /dir/page HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", port=8080)
    [(url, prePath)] = seen
    assert prePath == b"http://example.com:8080/dir/page"
    assert url.netloc == b"example.com:8080"
    assert str(url.child(b"x")) == "http://example.com:8080/dir/page/x"


def test_URLPathQuotesSegments() -> None:
    seen, _ = _get(b"GET /dir/p%20g HTTP/1.1\r\nHost: example.com\r\n\r\n")
    url = seen[0][0]
    assert url.path == b"/dir/p%20g"
    assert url.pathList(unquote=True) == [b"", b"dir", b"p g"]
