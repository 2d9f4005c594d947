"""Site, server.Request and HTTPChannel on an in-memory transport with a fake clock."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.internet.address import IPv4Address
from fw.internet.defer import Deferred
from fw.internet.error import ConnectionDone
from fw.internet.task import Clock
from fw.internet.testing import StringTransport
from fw.python.failure import Failure
from fw.web import http
from fw.web.resource import Resource
from fw.web.server import NOT_DONE_YET, Request, Site


@dataclass
class Response:
    code: int
    reason: bytes
    headers: dict[bytes, list[bytes]]
    body: bytes
    chunked: bool = False
    trailers: dict[bytes, bytes] = field(default_factory=dict)

    def header(self, name: bytes) -> bytes | None:
        values = self.headers.get(name)
        return values[-1] if values else None


def parseResponses(data: bytes, head: bool = False) -> list[Response]:
    """A small, strict HTTP/1.1 response parser for checking what the server wrote."""
    out = []
    while data:
        end = data.index(b"\r\n\r\n")
        lines = data[:end].split(b"\r\n")
        data = data[end + 4 :]
        version, code, reason = lines[0].split(b" ", 2)
        assert version == b"HTTP/1.1"
        headers: dict[bytes, list[bytes]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b": ")
            headers.setdefault(name.lower(), []).append(value)
        response = Response(int(code), reason, headers, b"")
        if int(code) < 200:
            out.append(response)
            continue
        if head or int(code) in (204, 304):
            pass
        elif b"transfer-encoding" in headers:
            response.chunked = True
            body = b""
            while True:
                lineEnd = data.index(b"\r\n")
                size = int(data[:lineEnd], 16)
                data = data[lineEnd + 2 :]
                if size == 0:
                    assert data[:2] == b"\r\n"
                    data = data[2:]
                    break
                body += data[:size]
                assert data[size : size + 2] == b"\r\n"
                data = data[size + 2 :]
            response.body = body
        elif b"content-length" in headers:
            length = int(headers[b"content-length"][0])
            response.body = data[:length]
            data = data[length:]
        else:
            response.body, data = data, b""
        out.append(response)
    return out


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"Hello, world!"


class Echo(Resource):
    isLeaf = True

    def render_POST(self, request: Any) -> bytes:
        return request.content.read()

    def render_PUT(self, request: Any) -> bytes:
        return request.content.read()


@dataclass
class Conn:
    site: Site
    channel: Any
    transport: StringTransport
    clock: Clock

    def send(self, data: bytes) -> None:
        self.channel.dataReceived(data)

    def responses(self, head: bool = False) -> list[Response]:
        value = self.transport.value()
        self.transport.clear()
        return parseResponses(value, head)

    def lose(self) -> None:
        self.channel.connectionLost(Failure(ConnectionDone()))


def connect(root: Any, **kwargs: Any) -> Conn:
    clock = Clock()
    site = Site(root, reactor=clock, **kwargs)
    site.startFactory()
    channel = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1234))
    transport = StringTransport(peerAddress=IPv4Address("TCP", "10.1.2.3", 4321))
    channel.makeConnection(transport)
    return Conn(site, channel, transport, clock)


@pytest.fixture
def tree() -> Resource:
    root = Resource()
    root.putChild(b"hello", Hello())
    root.putChild(b"echo", Echo())
    return root


GET = b"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n"


def test_helloWorld(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(GET)
    [r] = conn.responses()
    assert (r.code, r.body) == (200, b"Hello, world!")
    assert r.header(b"content-length") == b"13"
    assert r.header(b"content-type") == b"text/html"
    assert r.header(b"date")
    assert r.header(
        b"server",
    ).startswith(b"fw.web/")
    assert not conn.transport.disconnecting


def test_keepAliveAndPipeliningInOrder(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(
        GET
        + b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        + GET
        + b"GET /missing HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    rs = conn.responses()
    assert [(r.code, r.body) for r in rs[:3]] == [
        (200, b"Hello, world!"),
        (200, b"abc"),
        (200, b"Hello, world!"),
    ]
    assert rs[3].code == 404
    assert not conn.transport.disconnecting


def test_pipelinedAsyncResponsesStayInOrder() -> None:
    pending: list[Any] = []

    class Slow(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            pending.append(request)
            return NOT_DONE_YET

    conn = connect(Slow())
    conn.send(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
    assert len(pending) == 1, "second request must wait for the first"
    assert conn.transport.value() == b""
    pending[0].write(b"one")
    pending[0].finish()
    assert len(pending) == 2
    pending[1].write(b"two")
    pending[1].finish()
    assert [r.body for r in conn.responses()] == [b"one", b"two"]


def test_pipelineBufferPausesReading() -> None:
    pending: list[Any] = []

    class Slow(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            pending.append(request)
            return NOT_DONE_YET

    conn = connect(Slow())
    conn.send(GET * 3000)
    assert conn.transport.producerState == "paused"
    pending[0].finish()
    assert len(pending) == 2  # the next one is answered, and reading pauses again
    assert str(conn.transport.producerState) == "paused"


def test_connectionClose(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(b"GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" + GET)
    [r] = conn.responses()
    assert r.header(b"connection") == b"close"
    assert conn.transport.disconnecting


def test_http10(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(b"GET /hello HTTP/1.0\r\n\r\n")
    [r] = conn.responses()
    assert r.body == b"Hello, world!"
    assert conn.transport.disconnecting
    conn = connect(tree)
    conn.send(b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    [r] = conn.responses()
    assert r.header(b"connection") == b"keep-alive"
    assert not conn.transport.disconnecting


def test_http10StreamingClosesConnection() -> None:
    class Stream(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            request.write(b"a")
            request.write(b"b")
            request.finish()
            return NOT_DONE_YET

    conn = connect(Stream())
    conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    value = conn.transport.value()
    assert value.endswith(b"\r\n\r\nab")
    assert b"Connection: close" in value
    assert conn.transport.disconnecting


def test_chunkedResponse() -> None:
    class Stream(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            request.write(b"hello ")
            request.write(b"")
            request.write(b"world")
            request.finish()
            return NOT_DONE_YET

    conn = connect(Stream())
    conn.send(GET)
    [r] = conn.responses()
    assert r.chunked
    assert r.body == b"hello world"


def test_head(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(b"HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n" + GET)
    value = conn.transport.value()
    first, _, rest = value.partition(b"\r\n\r\n")
    assert b"Content-Length: 13" in first
    assert rest.startswith(b"HTTP/1.1 200 OK")


def test_expectContinue(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(
        b"PUT /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    )
    assert conn.transport.value() == b"HTTP/1.1 100 Continue\r\n\r\n"
    conn.transport.clear()
    conn.send(b"data")
    [r] = conn.responses()
    assert r.body == b"data"


def test_chunkedUploadWithTrailers(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(
        b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"  # noqa: E501
    )
    [r] = conn.responses()
    assert r.body == b"abcde"


def test_largeBodySpoolsToFile(tree: Resource) -> None:
    seen: list[Any] = []

    class Spy(Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            seen.append(request.content)
            return b"%d" % len(request.content.read())

    conn = connect(Spy())
    body = b"x" * 300_000
    conn.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body))
    for i in range(0, len(body), 65536):
        conn.send(body[i : i + 65536])
    [r] = conn.responses()
    assert r.body == b"300000"
    assert not isinstance(seen[0], io.BytesIO)


def test_badRequestsGetClearAnswers(tree: Resource) -> None:
    for data, status in [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",  # noqa: E501
            400,
        ),
        (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 20000, 431),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: br\r\n\r\n", 501),
        (b"\x00\x01garbage\r\n\r\n", 400),
    ]:
        conn = connect(tree)
        conn.send(data)
        [r] = conn.responses()
        assert r.code == status, (data[:40], r)
        assert r.header(b"connection") == b"close"
        assert conn.transport.disconnecting


def test_bodyTooLarge(tree: Resource) -> None:
    conn = connect(tree, maxRequestBodySize=10)
    conn.send(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n")
    [r] = conn.responses()
    assert r.code == 413


def test_badRequestAfterGoodOneIsAnsweredInOrder(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(GET + b"BROKEN\r\n\r\n")
    rs = conn.responses()
    assert [r.code for r in rs] == [200, 400]


def test_notFoundAndMethodNotAllowed(tree: Resource) -> None:
    conn = connect(tree)
    conn.send(b"GET /nope HTTP/1.1\r\nHost: h\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n")
    notFound, notAllowed = conn.responses()
    assert notFound.code == 404
    assert notAllowed.code == 405
    assert notAllowed.header(b"allow") == b"GET, HEAD"


def test_renderErrorsGive500WithoutTraceback() -> None:
    class Broken(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            raise ValueError("secret detail")

    conn = connect(Broken())
    conn.send(GET)
    [r] = conn.responses()
    assert r.code == 500
    assert b"secret detail" not in r.body
    assert not conn.transport.disconnecting
    conn.site.displayTracebacks = True
    conn.send(GET)
    [r] = conn.responses()
    assert r.code == 500
    assert b"secret detail" in r.body
    assert b"ValueError" in r.body


def test_renderReturningWrongTypeIs500() -> None:
    class Wrong(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> str:
            return "text"

    conn = connect(Wrong())
    conn.send(GET)
    assert conn.responses()[0].code == 500


def test_deferredAndCoroutineRendering() -> None:
    waiting: list[Deferred[bytes]] = []

    class Later(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> Deferred[bytes]:
            d: Deferred[bytes] = Deferred()
            waiting.append(d)
            return d

    class Coro(Resource):
        isLeaf = True

        async def render_GET(self, request: Any) -> bytes:
            d: Deferred[bytes] = Deferred()
            waiting.append(d)
            value = await d
            request.setHeader(b"x-coro", b"yes")
            return value + b"!"

    class FailsLater(Resource):
        isLeaf = True

        async def render_GET(self, request: Any) -> bytes:
            raise RuntimeError("nope")

    root = Resource()
    root.putChild(b"later", Later())
    root.putChild(b"coro", Coro())
    root.putChild(b"fails", FailsLater())
    conn = connect(root)
    conn.send(b"GET /later HTTP/1.1\r\nHost: h\r\n\r\n")
    waiting.pop().callback(b"deferred")
    conn.send(b"GET /coro HTTP/1.1\r\nHost: h\r\n\r\n")
    waiting.pop().callback(b"coroutine")
    conn.send(b"GET /fails HTTP/1.1\r\nHost: h\r\n\r\n")
    a, b, c = conn.responses()
    assert a.body == b"deferred"
    assert (b.body, b.header(b"x-coro")) == (b"coroutine!", b"yes")
    assert c.code == 500


def test_notifyFinishAndConnectionLost() -> None:
    requests: list[Any] = []

    class Slow(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            requests.append(request)
            return NOT_DONE_YET

    conn = connect(Slow())
    conn.send(GET)
    d = requests[0].notifyFinish()
    errors: list[Failure] = []
    d.addErrback(errors.append)
    conn.lose()
    assert len(errors) == 1
    with pytest.raises(RuntimeError):
        requests[0].finish()
    requests[0].write(b"ignored")  # no error: the connection is gone


def test_notifyFinishOnSuccess(tree: Resource) -> None:
    conn = connect(tree)
    results: list[Any] = []

    class Spy(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.notifyFinish().addCallback(results.append)
            return b"x"

    conn = connect(Spy())
    conn.send(GET)
    assert results == [None]


def test_requestAttributes() -> None:
    seen: dict[str, Any] = {}

    class Spy(Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            seen.update(
                method=request.method,
                uri=request.uri,
                path=request.path,
                args=request.args,
                prepath=request.prepath,
                postpath=request.postpath,
                host=request.getRequestHostname(),
                client=request.getClientAddress(),
                ip=request.getClientIP(),
                secure=request.isSecure(),
                header=request.getHeader(b"X-Custom"),
                strHeader=request.getHeader("x-custom"),
                cookie=request.getCookie(b"c"),
                user=(request.getUser(), request.getPassword()),
                prePathURL=request.prePathURL(),
            )
            return b""

    root = Resource()
    root.putChild(b"a", Spy())
    conn = connect(root)
    conn.send(
        b"POST /a/b%20c?x=1&x=2&y= HTTP/1.1\r\nHost: example.com:8080\r\nX-Custom: v\r\n"
        b"Cookie: c=cv; d=dv\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nz=3&x=4"
    )
    assert seen["method"] == b"POST"
    assert seen["uri"] == b"/a/b%20c?x=1&x=2&y="
    assert seen["path"] == b"/a/b%20c"
    assert seen["args"] == {b"x": [b"1", b"2", b"4"], b"y": [b""], b"z": [b"3"]}
    assert (seen["prepath"], seen["postpath"]) == ([b"a"], [b"b c"])
    assert seen["host"] == b"example.com"
    assert seen["client"] == IPv4Address("TCP", "10.1.2.3", 4321)
    assert seen["ip"] == "10.1.2.3"
    assert seen["secure"] is False
    assert (seen["header"], seen["strHeader"]) == (b"v", "v")
    assert seen["cookie"] == b"cv"
    assert seen["user"] == (b"user", b"pass")
    assert seen["prePathURL"].startswith(b"http://example.com")


def test_multipartForm() -> None:
    seen: dict[bytes, list[bytes]] = {}

    class Spy(Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            seen.update(request.args)
            return b""

    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nfile\r\ncontent\r\n--XyZ--\r\n"
    )
    conn = connect(Spy())
    conn.send(
        b"POST /?q=1 HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    assert seen == {b"q": [b"1"], b"field": [b"value"], b"file": [b"file\r\ncontent"]}
    conn.send(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=Q\r\nContent-Length: 5\r\n\r\njunk!"  # noqa: E501
    )
    rs = conn.responses()
    assert rs[-1].code == 400


def test_responseHeadersCookiesRedirect() -> None:
    class R(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.setResponseCode(201, b"Made It")
            request.setHeader(b"x-one", b"1")
            request.responseHeaders.addRawHeader("X-Two", "2")
            request.responseHeaders.addRawHeader("X-Two", "3")
            request.addCookie(
                b"k", b"v", path=b"/", max_age=10, httpOnly=True, secure=True, sameSite="strict"
            )
            return b""

    conn = connect(R())
    conn.send(GET)
    [r] = conn.responses()
    assert (r.code, r.reason) == (201, b"Made It")
    assert r.headers[b"x-two"] == [b"2", b"3"]
    assert r.header(b"set-cookie") == b"k=v; Path=/; Max-Age=10; Secure; HttpOnly; SameSite=strict"
    with pytest.raises(ValueError):
        Request(conn.channel).setHeader(b"x", b"a\r\nInjected: yes")
    with pytest.raises(ValueError):
        Request(conn.channel).addCookie(b"k", b"v\r\nx")


def test_redirect() -> None:
    class R(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.redirect(b"/elsewhere")
            return b""

    conn = connect(R())
    conn.send(GET)
    [r] = conn.responses()
    assert (r.code, r.header(b"location")) == (302, b"/elsewhere")


def test_conditionalGet() -> None:
    class R(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            if request.setETag(b'"v1"') == http.CACHED:
                return b""
            return b"fresh"

    conn = connect(R())
    conn.send(b'GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: "v1"\r\n\r\n' + GET)
    notModified, fresh = conn.responses()
    assert notModified.code == 304
    assert notModified.body == b""
    assert fresh.body == b"fresh"
    assert fresh.header(b"etag") == b'"v1"'


def test_streamingProducer() -> None:
    class Producer:
        def __init__(self, request: Any) -> None:
            self.request = request
            self.count = 0
            self.paused = False

        def resumeProducing(self) -> None:
            self.count += 1
            self.request.write(b"%d," % self.count)
            if self.count == 3:
                self.request.unregisterProducer()
                self.request.finish()

        def pauseProducing(self) -> None:
            self.paused = True

        def stopProducing(self) -> None:
            pass

    producers: list[Producer] = []

    class R(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            p = Producer(request)
            producers.append(p)
            request.registerProducer(p, True)
            return NOT_DONE_YET

    conn = connect(R())
    conn.send(GET)
    assert conn.transport.producer is producers[0]
    for _ in range(3):
        producers[0].resumeProducing()
    assert conn.transport.producer is None
    [r] = conn.responses()
    assert r.body == b"1,2,3,"


def test_streamingRequestBody() -> None:
    received: list[bytes] = []
    ends: list[Failure] = []
    requests: list[Any] = []

    class Body:
        def makeConnection(self, transport: Any) -> None:
            self.transport = transport

        def dataReceived(self, data: bytes) -> None:
            received.append(data)

        def connectionLost(self, reason: Failure) -> None:
            ends.append(reason)
            requests[0].write(b"got %d bytes" % sum(map(len, received)))
            requests[0].finish()

    class Upload(Resource):
        isLeaf = True
        streamingRequestBody = True

        def render_PUT(self, request: Any) -> int:
            requests.append(request)
            request.deliverBody(Body())
            return NOT_DONE_YET

    conn = connect(Upload())
    conn.send(b"PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert len(requests) == 1, "rendered as soon as the head arrived"
    conn.send(b"3\r\nabc\r\n")
    assert received == [b"abc"]
    conn.send(b"2\r\nde\r\n0\r\n\r\n" + GET)
    assert ends[0].check(ConnectionDone)
    rs = conn.responses()
    assert rs[0].body == b"got 5 bytes"
    assert rs[1].code == 405  # the next pipelined request is answered too


def test_streamingRequestBodyLost() -> None:
    ends: list[Failure] = []

    class Body:
        def makeConnection(self, transport: Any) -> None:
            pass

        def dataReceived(self, data: bytes) -> None:
            pass

        def connectionLost(self, reason: Failure) -> None:
            ends.append(reason)

    class Upload(Resource):
        isLeaf = True
        streamingRequestBody = True

        def render_POST(self, request: Any) -> int:
            request.deliverBody(Body())
            return NOT_DONE_YET

    conn = connect(Upload())
    conn.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
    conn.lose()
    assert not ends[0].check(ConnectionDone)


def test_idleTimeout(tree: Resource) -> None:
    conn = connect(tree, timeout=30)
    conn.send(GET)
    conn.responses()
    conn.clock.advance(29)
    assert not conn.transport.disconnecting
    conn.clock.advance(2)
    assert conn.transport.disconnecting
    assert conn.transport.value() == b""  # idle: closed silently


def test_slowlorisHeaderTimeout(tree: Resource) -> None:
    conn = connect(tree, timeout=30, requestHeaderTimeout=10)
    conn.send(b"GET / HTTP/1.1\r\n")
    for _ in range(12):
        conn.clock.advance(1)
        if conn.transport.disconnecting:
            break
        conn.send(b"X: y\r\n")  # trickling headers does not extend the deadline
    assert conn.transport.disconnecting
    [r] = conn.responses()
    assert r.code == 408


def test_slowBodyTimeout(tree: Resource) -> None:
    conn = connect(tree, timeout=5)
    conn.send(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")
    conn.clock.advance(4)
    conn.send(b"more")
    conn.clock.advance(4)
    assert not conn.transport.disconnecting
    conn.clock.advance(2)
    assert conn.transport.disconnecting
    assert conn.responses()[0].code == 408


def test_noTimeoutWhileRendering() -> None:
    pending: list[Any] = []

    class Slow(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            pending.append(request)
            return NOT_DONE_YET

    conn = connect(Slow(), timeout=5)
    conn.send(GET)
    conn.clock.advance(100)
    assert not conn.transport.disconnecting
    pending[0].finish()
    conn.clock.advance(6)
    assert conn.transport.disconnecting


def test_connectionLostCancelsTimer(tree: Resource) -> None:
    conn = connect(tree)
    assert conn.clock.getDelayedCalls()
    conn.lose()
    assert not conn.clock.getDelayedCalls()


def test_isSecureOverTLS(tree: Resource) -> None:
    from zope.interface import alsoProvides

    from fw.internet.interfaces import ISSLTransport

    seen: list[bool] = []

    class Spy(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            seen.append(request.isSecure())
            request.getSession()
            return b""

    clock = Clock()
    site = Site(Spy(), reactor=clock)
    channel = site.buildProtocol(None)
    transport = StringTransport()
    alsoProvides(transport, ISSLTransport)
    channel.makeConnection(transport)
    channel.dataReceived(GET)
    assert seen == [True]
    [r] = parseResponses(transport.value())
    assert r.header(b"set-cookie").startswith(b"FW_SECURE_SESSION=")  # type: ignore[union-attr]
    assert b"Secure" in r.header(b"set-cookie")  # type: ignore[operator]
    for session in list(site.sessions.values()):
        session.expire()


@pytest.fixture
def sessionConn() -> Iterator[Conn]:
    class Counter(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            session = request.getSession()
            session.count = getattr(session, "count", 0) + 1
            return b"%d" % session.count

    conn = connect(Counter())
    yield conn
    for session in list(conn.site.sessions.values()):
        session.expire()


def test_sessions(sessionConn: Conn) -> None:
    conn = sessionConn
    conn.send(GET)
    [r] = conn.responses()
    cookie = r.header(b"set-cookie")
    assert cookie is not None
    assert b"HttpOnly" in cookie
    assert b"SameSite=lax" in cookie
    pair = cookie.split(b";")[0]
    conn.send(b"GET / HTTP/1.1\r\nHost: h\r\nCookie: " + pair + b"\r\n\r\n")
    [r] = conn.responses()
    assert r.body == b"2"
    assert r.header(b"set-cookie") is None
    # Unknown session ids get a new session.
    conn.send(b"GET / HTTP/1.1\r\nHost: h\r\nCookie: FW_SESSION=bogus\r\n\r\n")
    [r] = conn.responses()
    assert r.body == b"1"


def test_sessionExpiry(sessionConn: Conn) -> None:
    conn = sessionConn
    conn.send(GET)
    [r] = conn.responses()
    uid = r.header(b"set-cookie").split(b";")[0].split(b"=")[1]  # type: ignore[union-attr]
    session = conn.site.getSession(uid)
    expired: list[bool] = []
    session.notifyOnExpire(lambda: expired.append(True))
    conn.clock.advance(session.sessionTimeout - 1)
    session.touch()
    conn.clock.advance(session.sessionTimeout - 1)
    assert uid in conn.site.sessions
    conn.clock.advance(2)
    assert uid not in conn.site.sessions
    assert expired == [True]


def test_requestFactoryAndCustomProcess() -> None:
    class MyRequest(http.Request):
        def process(self) -> None:
            self.setHeader(b"x-custom", b"1")
            self.write(b"custom " + self.method)
            self.finish()

    clock = Clock()
    factory = http.HTTPFactory(reactor=clock)
    channel = factory.buildProtocol(None)
    channel.requestFactory = MyRequest
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(GET)
    [r] = parseResponses(transport.value())
    assert r.body == b"custom GET"
    assert r.chunked
    channel.connectionLost(Failure(ConnectionDone()))


def test_gzipEncoding() -> None:
    import gzip

    from fw.web.resource import EncodingResourceWrapper
    from fw.web.server import GzipEncoderFactory

    conn = connect(EncodingResourceWrapper(Hello(), [GzipEncoderFactory()]))
    conn.send(b"GET / HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, br\r\n\r\n" + GET)
    zipped, plain = conn.responses()
    assert zipped.header(b"content-encoding") == b"gzip"
    assert gzip.decompress(zipped.body) == b"Hello, world!"
    assert plain.body == b"Hello, world!"


def test_clientAddressBehindHAProxy() -> None:
    from fw.protocols.haproxy import HAProxyWrappingFactory

    seen: list[Any] = []

    class Spy(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            seen.append((request.getClientAddress(), request.getClientIP()))
            return b""

    clock = Clock()
    site = Site(Spy(), reactor=clock)
    wrapper = HAProxyWrappingFactory(site, headerTimeout=None)
    protocol = wrapper.buildProtocol(IPv4Address("TCP", "10.0.0.2", 1000))
    transport = StringTransport(peerAddress=IPv4Address("TCP", "10.0.0.2", 1000))
    protocol.makeConnection(transport)
    protocol.dataReceived(b"PROXY TCP4 203.0.113.9 10.0.0.1 56324 80\r\n" + GET)
    assert seen == [(IPv4Address("TCP", "203.0.113.9", 56324), "203.0.113.9")]
    [r] = parseResponses(transport.value())
    assert r.code == 200


_fuzzPieces = st.sampled_from(
    [
        b"GET / HTTP/1.1\r\n", b"POST /echo HTTP/1.1\r\n", b"Host: h\r\n", b"\r\n", b"\r", b"\n",
        b"Content-Length: 3\r\n", b"Transfer-Encoding: chunked\r\n", b"Expect: 100-continue\r\n",
        b"Connection: close\r\n", b"abc", b"5\r\nhello\r\n", b"0\r\n\r\n", b"\x00", b" ", b":",
        b"HEAD /hello HTTP/1.0\r\n", b"Content-Length: -1\r\n",
    ]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_fuzzPieces, st.binary(max_size=20)), max_size=30), st.integers(1, 40))
def test_channelFuzz(pieces: list[bytes], split: int) -> None:
    """Whatever arrives, in whatever pieces, the channel answers HTTP or closes; it never raises."""  # noqa: E501
    root = Resource()
    root.putChild(b"hello", Hello())
    root.putChild(b"echo", Echo())
    conn = connect(root)
    data = b"".join(pieces)
    for i in range(0, len(data), split):
        conn.send(data[i : i + split])
    conn.clock.advance(100)
    output = conn.transport.value()
    assert output == b"" or output.startswith(b"HTTP/1.1 ")
    conn.lose()
    assert not conn.clock.getDelayedCalls()


def test_detachTransportForTunnels() -> None:
    requests: list[Any] = []

    class Tunnel(Resource):
        isLeaf = True

        def render_CONNECT(self, request: Any) -> int:
            requests.append(request)
            return NOT_DONE_YET

    conn = connect(Tunnel())
    conn.send(
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01early"
    )
    assert requests[0].uri == b"example.com:443"
    assert conn.channel.detachTransport() == b"\x16\x03\x01early"
    assert not conn.clock.getDelayedCalls()
    conn.send(b"more raw bytes")  # no longer parsed as HTTP
    assert conn.transport.value() == b""
    assert not conn.transport.disconnecting


def test_unreadBodyIsDrainedAndConnectionKept() -> None:
    class Early(Resource):
        isLeaf = True
        streamingRequestBody = True

        def render_POST(self, request: Any) -> bytes:
            return b"answered early"

        def render_GET(self, request: Any) -> bytes:
            return b"next"

    conn = connect(Early(), timeout=10)
    conn.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
    [r] = conn.responses()
    assert r.body == b"answered early"
    for _ in range(99):
        conn.send(b"x" * 1000)
    conn.send(GET)
    [r] = conn.responses()
    assert r.body == b"next"
    assert not conn.transport.disconnecting
    # A client that stops sending the rest is timed out quietly.
    conn.send(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")
    conn.responses()
    conn.clock.advance(11)
    assert conn.transport.disconnecting
    assert conn.transport.value() == b""


def test_bigUnreadBodyGetsLingeringClose() -> None:
    class Early(Resource):
        isLeaf = True
        streamingRequestBody = True

        def render_POST(self, request: Any) -> bytes:
            return b"answered early"

    class HalfClosable(StringTransport):
        halfClosed = False
        aborted = False

        def loseWriteConnection(self) -> None:
            self.halfClosed = True

        def abortConnection(self) -> None:
            self.aborted = True

    clock = Clock()
    site = Site(Early(), reactor=clock)
    channel = site.buildProtocol(None)
    channel.maxDrainSize = 1_000_000
    transport = HalfClosable()
    channel.makeConnection(transport)
    channel.dataReceived(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 50000000\r\n\r\nxyz")
    [r] = parseResponses(transport.value())
    assert r.body == b"answered early"
    assert transport.halfClosed
    assert not transport.disconnecting
    channel.dataReceived(b"x" * 100_000)  # discarded
    clock.advance(6)
    assert transport.aborted
    channel.connectionLost(Failure(ConnectionDone()))
    assert not clock.getDelayedCalls()
