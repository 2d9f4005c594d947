"""HTTP11ClientProtocol, Response and the agent wrappers, in memory (StringTransport)."""

from __future__ import annotations

import gzip
import io
from http.cookiejar import CookieJar
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet.defer import CancelledError, Deferred, succeed
from fw.internet.error import ConnectionDone, ConnectionLost
from fw.internet.protocol import Protocol
from fw.internet.task import Clock, Cooperator
from fw.internet.testing import StringTransport
from fw.python.failure import Failure
from fw.web.client import (
    UNKNOWN_LENGTH,
    URI,
    Agent,
    BrowserLikeRedirectAgent,
    ContentDecoderAgent,
    CookieAgent,
    FileBodyProducer,
    GzipDecoder,
    HTTP11ClientProtocol,
    HTTPConnectionPool,
    IBodyProducer,
    IResponse,
    PartialDownloadError,
    PotentialDataLoss,
    RedirectAgent,
    Request,
    RequestGenerationFailed,
    RequestNotSent,
    Response,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
    ResponseParseError,
    WrongBodyLength,
    readBody,
)
from fw.web.http_headers import Headers


def result(d: Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


def failure(d: Deferred[Any]) -> Failure:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    assert isinstance(out[0], Failure), f"expected a failure, got {out}"
    return out[0]  # type: ignore[no-any-return]


def noResult(d: Deferred[Any]) -> None:
    out: list[Any] = []

    def look(r: Any) -> Any:
        out.append(r)
        return r

    d.addBoth(look)
    assert not out, f"unexpected result {out}"


def connected(**kw: Any) -> tuple[HTTP11ClientProtocol, StringTransport, list[Any]]:
    quiet: list[Any] = []
    protocol = HTTP11ClientProtocol(quiet.append, **kw)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport, quiet


def get(path: bytes = b"/", persistent: bool = True, **kw: Any) -> Request:
    return Request(b"GET", path, Headers({b"Host": [b"example.com"]}), None, persistent, **kw)


class Collector(Protocol):
    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data.append(data)

    def connectionLost(self, reason: Failure = Failure(ConnectionDone())) -> None:  # noqa: B008
        self.reason = reason


@implementer(IBodyProducer)
class ManualProducer:
    def __init__(self, length: int | str) -> None:
        self.length = length
        self.consumer: Any = None
        self.finished: Deferred[None] = Deferred()
        self.stopped = False

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self.consumer = consumer
        return self.finished

    def stopProducing(self) -> None:
        self.stopped = True

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


# -- the protocol ---------------------------------------------------------------------


def test_requestBytesAndResponse() -> None:
    protocol, transport, quiet = connected()
    d = protocol.request(get(b"/a?b", persistent=False))
    assert transport.value() == (
        b"GET /a?b HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    )
    noResult(d)
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhel")
    response = result(d)
    assert verifyObject(IResponse, response)
    assert (response.code, response.phrase, response.length) == (200, b"OK", 5)
    assert response.headers.getRawHeaders(b"x") == [b"y"]
    assert response.request.method == b"GET"
    body = readBody(response)
    noResult(body)
    protocol.dataReceived(b"lo")
    assert result(body) == b"hello"
    assert transport.disconnecting
    assert quiet == []


def test_persistentConnectionBecomesQuiescent() -> None:
    protocol, transport, quiet = connected()
    for i in range(3):
        transport.clear()
        d = protocol.request(get(b"/%d" % i))
        assert b"Connection" not in transport.value()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d" % i)
        assert result(readBody(result(d))) == b"%d" % i
        assert quiet == [protocol] * (i + 1)
        assert protocol.state == "QUIESCENT"
    assert not transport.disconnecting


def test_busyConnectionRefuses() -> None:
    protocol, _transport, _quiet = connected()
    protocol.request(get())
    assert failure(protocol.request(get())).check(RequestNotSent)


def test_bodyBufferedUntilDeliverBody() -> None:
    protocol, _transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    protocol.dataReceived(b"0\r\n\r\n")
    response = result(d)
    assert response.length is UNKNOWN_LENGTH
    collector = Collector()
    response.deliverBody(collector)
    assert collector.data == [b"abc"]
    assert collector.reason is not None
    assert collector.reason.check(ResponseDone)
    with pytest.raises(RuntimeError):
        response.deliverBody(Collector())


def test_bufferLimitPausesTransport() -> None:
    protocol, transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n")
    response = result(d)
    protocol.dataReceived(b"x" * 1100000)
    assert transport.producerState == "paused"
    response.deliverBody(Collector())
    assert transport.producerState == "producing"


def test_closeDelimitedBodyIsPotentialDataLoss() -> None:
    protocol, _transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.0 200 OK\r\n\r\nsome")
    response = result(d)
    collector = Collector()
    response.deliverBody(collector)
    protocol.connectionLost(Failure(ConnectionDone()))
    assert collector.data == [b"some"]
    assert collector.reason is not None
    assert collector.reason.check(PotentialDataLoss)


def test_readBodyPartialDownload() -> None:
    protocol, _transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.0 200 OK\r\n\r\nsome")
    body = readBody(result(d))
    protocol.connectionLost(Failure(ConnectionDone()))
    error = failure(body).value
    assert isinstance(error, PartialDownloadError)
    assert error.response == b"some"
    assert error.status == b"200"


def test_truncatedBodyFails() -> None:
    protocol, _transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    body = readBody(result(d))
    protocol.connectionLost(Failure(ConnectionLost()))
    error = failure(body).value
    assert isinstance(error, ResponseFailed)
    assert error.reasons[0].check(ConnectionLost)
    assert error.reasons[1].check(ResponseParseError)


def test_connectionLostBeforeResponse() -> None:
    protocol, _transport, _quiet = connected()
    d = protocol.request(get())
    protocol.connectionLost(Failure(ConnectionDone()))
    error = failure(d).value
    assert isinstance(error, ResponseNeverReceived)


def test_malformedStatusLineFailsRequest() -> None:
    protocol, transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"SPDY/3 200 OK\r\n")
    error = failure(d).value
    assert isinstance(error, ResponseFailed)
    assert error.reasons[0].check(ResponseParseError)
    assert transport.disconnected


def test_malformedBodyFailsBody() -> None:
    protocol, transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    body = readBody(result(d))
    protocol.dataReceived(b"nothex\r\n")
    assert failure(body).check(ResponseFailed)
    assert transport.disconnected


def test_oversizedHeadersDropConnection() -> None:
    protocol, transport, _quiet = connected(maxHeaderCount=5)
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\n" + b"A: b\r\n" * 10)
    assert failure(d).check(ResponseFailed)
    assert transport.disconnected


def test_unsolicitedDataAbortsIdleConnection() -> None:
    protocol, transport, _quiet = connected()
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.disconnected


def test_extraBytesAfterResponseNotReused() -> None:
    protocol, transport, quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200")
    assert result(readBody(result(d))) == b"x"
    assert quiet == []
    assert transport.disconnecting


def test_cancelAbortsConnection() -> None:
    protocol, transport, _quiet = connected()
    d = protocol.request(get())
    d.cancel()
    assert failure(d).check(CancelledError)
    assert transport.disconnected
    protocol.connectionLost(Failure(ConnectionLost()))  # no AlreadyCalledError


def test_knownLengthBody() -> None:
    protocol, transport, quiet = connected()
    producer = ManualProducer(5)
    d = protocol.request(Request(b"PUT", b"/", Headers(), producer, True))
    assert b"Content-Length: 5\r\n" in transport.value()
    producer.consumer.write(b"hello")
    producer.finished.callback(None)
    assert transport.value().endswith(b"\r\n\r\nhello")
    protocol.dataReceived(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert result(d).code == 204
    assert quiet == [protocol]


def test_chunkedBody() -> None:
    protocol, transport, _quiet = connected()
    producer = ManualProducer(UNKNOWN_LENGTH)
    protocol.request(Request(b"POST", b"/", Headers(), producer, True))
    producer.consumer.write(b"abc")
    producer.consumer.write(b"")
    producer.consumer.write(b"defgh")
    producer.finished.callback(None)
    head, _, body = transport.value().partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n"


def test_bodyLongerThanLength() -> None:
    protocol, _transport, _quiet = connected()
    producer = ManualProducer(2)
    d = protocol.request(Request(b"POST", b"/", Headers(), producer, True))
    with pytest.raises(WrongBodyLength):
        producer.consumer.write(b"abc")
    producer.finished.callback(None)
    error = failure(d).value
    assert isinstance(error, RequestGenerationFailed)
    assert error.reasons[0].check(WrongBodyLength)


def test_bodyShorterThanLength() -> None:
    protocol, transport, _quiet = connected()
    producer = ManualProducer(10)
    d = protocol.request(Request(b"POST", b"/", Headers(), producer, True))
    producer.consumer.write(b"abc")
    producer.finished.callback(None)
    assert failure(d).check(RequestGenerationFailed)
    assert transport.disconnected


def test_producerFailure() -> None:
    protocol, _transport, _quiet = connected()
    producer = ManualProducer(UNKNOWN_LENGTH)
    d = protocol.request(Request(b"POST", b"/", Headers(), producer, True))
    producer.finished.errback(ValueError("disk on fire"))
    error = failure(d).value
    assert isinstance(error, RequestGenerationFailed)
    assert error.reasons[0].check(ValueError)


def test_earlyResponseStopsProducer() -> None:
    protocol, transport, quiet = connected()
    producer = ManualProducer(UNKNOWN_LENGTH)
    d = protocol.request(Request(b"POST", b"/", Headers(), producer, True))
    protocol.dataReceived(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
    assert result(d).code == 413
    assert producer.stopped
    assert transport.disconnecting
    assert quiet == []


def test_invalidHeaderRefusedLocally() -> None:
    protocol, transport, _quiet = connected()
    request = Request(b"GET /x HTTP/1.1\r\nEvil:", b"/", Headers(), None, True)
    assert failure(protocol.request(request)).check(RequestGenerationFailed)
    assert transport.value() == b""


def test_postWithoutBodySendsZeroLength() -> None:
    protocol, transport, _quiet = connected()
    protocol.request(Request(b"POST", b"/", Headers(), None, True))
    assert b"Content-Length: 0\r\n" in transport.value()


# -- body producers -------------------------------------------------------------------


class ListConsumer:
    def __init__(self) -> None:
        self.data: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.data.append(data)


def cooperator(clock: Clock) -> Cooperator:
    return Cooperator(scheduler=lambda f: clock.callLater(1, f))


def test_fileBodyProducer() -> None:
    clock = Clock()
    producer = FileBodyProducer(io.BytesIO(b"x" * 10), cooperator(clock), readSize=4)
    assert producer.length == 10
    consumer = ListConsumer()
    d = producer.startProducing(consumer)
    for _ in range(10):
        clock.advance(1)
    assert consumer.data == [b"xxxx", b"xxxx", b"xx"]
    assert result(d) is None


def test_fileBodyProducerUnseekableAndStop() -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def tell(self) -> int:
            raise OSError("not seekable")

        def readinto(self, b: Any) -> int:
            b[:1] = b"p"
            return 1

    clock = Clock()
    pipe = Pipe()
    producer = FileBodyProducer(pipe, cooperator(clock))  # type: ignore[arg-type]
    assert producer.length is UNKNOWN_LENGTH
    consumer = ListConsumer()
    d = producer.startProducing(consumer)
    clock.advance(1)
    producer.stopProducing()
    clock.advance(1)
    clock.advance(1)
    noResult(d)
    assert pipe.closed
    assert consumer.data


# -- agents over a fake pool ----------------------------------------------------------


class FakeAgent:
    """Answers each request with the next canned response."""

    def __init__(self, responses: list[Response]) -> None:
        self.responses = responses
        self.requests: list[tuple[bytes, bytes, Headers | None, Any]] = []

    def request(
        self, method: bytes, uri: bytes, headers: Headers | None = None, bodyProducer: Any = None
    ) -> Deferred[Response]:
        self.requests.append((method, uri, headers, bodyProducer))
        return succeed(self.responses.pop(0))


def canned(
    code: int, headers: dict[bytes, list[bytes]] | None = None, body: bytes = b""
) -> Response:
    response = Response((b"HTTP", 1, 1), code, b"X", Headers(headers or {}), None)
    if body:
        response._bodyDataReceived(body)
    response._bodyDataFinished()
    return response


def test_redirectFollowedWithPrevious() -> None:
    first = canned(301, {b"location": [b"/b"]})
    fake = FakeAgent([first, canned(200, body=b"end")])
    response = result(RedirectAgent(fake).request(b"GET", b"http://h.example/a"))
    assert response.code == 200
    assert response.previousResponse is first
    assert fake.requests[1][:2] == (b"GET", b"http://h.example/b")


def test_redirectLimit() -> None:
    fake = FakeAgent([canned(302, {b"location": [b"/x"]}) for _ in range(4)])
    error = failure(RedirectAgent(fake, redirectLimit=3).request(b"GET", b"http://h/")).value
    assert isinstance(error, ResponseFailed)
    assert "InfiniteRedirection" in repr(error)
    assert len(fake.requests) == 4


def test_redirectWithoutLocation() -> None:
    fake = FakeAgent([canned(302)])
    error = failure(RedirectAgent(fake).request(b"GET", b"http://h/")).value
    assert "RedirectWithNoLocation" in repr(error)


def test_postNotRedirectedBy302() -> None:
    fake = FakeAgent([canned(302, {b"location": [b"/x"]})])
    error = failure(RedirectAgent(fake).request(b"POST", b"http://h/")).value
    assert "PageRedirect" in repr(error)
    assert len(fake.requests) == 1


def test_seeOtherTurnsIntoGet() -> None:
    fake = FakeAgent([canned(303, {b"location": [b"http://h/r"]}), canned(200)])
    headers = Headers({b"content-type": [b"text/plain"], b"x-keep": [b"1"]})
    result(RedirectAgent(fake).request(b"POST", b"http://h/", headers, object()))
    method, uri, sent, body = fake.requests[1]
    assert (method, uri, body) == (b"GET", b"http://h/r", None)
    assert sent is not None
    assert not sent.hasHeader(b"content-type")
    assert sent.hasHeader(b"x-keep")


def test_browserLikeRedirectPostToGet() -> None:
    fake = FakeAgent([canned(302, {b"location": [b"/x"]}), canned(200)])
    result(BrowserLikeRedirectAgent(fake).request(b"POST", b"http://h/", None, object()))
    assert fake.requests[1][0] == b"GET"
    assert fake.requests[1][3] is None


def test_307KeepsMethodWithoutBody() -> None:
    fake = FakeAgent([canned(307, {b"location": [b"/x"]}), canned(200)])
    result(BrowserLikeRedirectAgent(fake).request(b"DELETE", b"http://h/"))
    assert fake.requests[1][0] == b"DELETE"


def test_307WithBodyNotFollowed() -> None:
    fake = FakeAgent([canned(307, {b"location": [b"/x"]})])
    error = failure(BrowserLikeRedirectAgent(fake).request(b"POST", b"http://h/", None, object()))
    assert "PageRedirect" in repr(error.value)


def test_crossOriginRedirectDropsCredentials() -> None:
    fake = FakeAgent(
        [
            canned(302, {b"location": [b"http://other.example/"]}),
            canned(302, {b"location": [b"/"]}),
            canned(200),
        ]
    )
    headers = Headers({b"authorization": [b"Basic x"], b"cookie": [b"a=b"], b"x-other": [b"1"]})
    result(RedirectAgent(fake).request(b"GET", b"http://h.example/", headers))
    sent = fake.requests[1][2]
    assert sent is not None
    assert not sent.hasHeader(b"authorization")
    assert not sent.hasHeader(b"cookie")
    assert sent.hasHeader(b"x-other")


def test_extraSensitiveHeaders() -> None:
    fake = FakeAgent([canned(302, {b"location": [b"https://h.example/"]}), canned(200)])
    headers = Headers({b"x-api-key": [b"k"], b"x-other": [b"1"]})
    agent = RedirectAgent(fake, sensitiveHeaderNames=[b"X-API-Key"])
    result(agent.request(b"GET", b"http://h.example/", headers))
    sent = fake.requests[1][2]
    assert sent is not None
    assert not sent.hasHeader(b"x-api-key")
    assert sent.hasHeader(b"x-other")


def test_readBodyCancelAbortsConnection() -> None:
    protocol, transport, _quiet = connected()
    d = protocol.request(get())
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    body = readBody(result(d))
    body.cancel()
    assert failure(body).check(CancelledError)
    assert transport.disconnected


def test_sameOriginRedirectKeepsCredentials() -> None:
    fake = FakeAgent([canned(302, {b"location": [b"/next"]}), canned(200)])
    headers = Headers({b"authorization": [b"Basic x"]})
    result(RedirectAgent(fake).request(b"GET", b"http://h.example/", headers))
    assert fake.requests[1][2].hasHeader(b"authorization")  # type: ignore[union-attr]


def test_gzipDecoding() -> None:
    body = gzip.compress(b"decoded " * 1000)
    fake = FakeAgent(
        [
            canned(
                200, {b"content-encoding": [b"gzip"], b"content-length": [b"%d" % len(body)]}, body
            )
        ]
    )
    agent = ContentDecoderAgent(fake, [(b"gzip", GzipDecoder)])
    response = result(agent.request(b"GET", b"http://h/"))
    assert fake.requests[0][2].getRawHeaders(b"accept-encoding") == [b"gzip"]  # type: ignore[union-attr]
    assert isinstance(response, GzipDecoder)
    assert response.length is UNKNOWN_LENGTH
    assert not response.headers.hasHeader(b"content-encoding")
    assert result(readBody(response)) == b"decoded " * 1000


def test_gzipCorruptFails() -> None:
    fake = FakeAgent([canned(200, {b"content-encoding": [b"gzip"]}, b"not gzip at all")])
    response = result(
        ContentDecoderAgent(fake, [(b"gzip", GzipDecoder)]).request(b"GET", b"http://h/")
    )
    assert failure(readBody(response)).check(ResponseFailed)


def test_gzipTruncatedFails() -> None:
    fake = FakeAgent(
        [canned(200, {b"content-encoding": [b"gzip"]}, gzip.compress(b"abc" * 100)[:-10])]
    )
    response = result(
        ContentDecoderAgent(fake, [(b"gzip", GzipDecoder)]).request(b"GET", b"http://h/")
    )
    assert failure(readBody(response)).check(ResponseFailed)


def test_unknownEncodingLeftAlone() -> None:
    fake = FakeAgent([canned(200, {b"content-encoding": [b"br"]}, b"raw")])
    response = result(
        ContentDecoderAgent(fake, [(b"gzip", GzipDecoder)]).request(b"GET", b"http://h/")
    )
    assert response.headers.getRawHeaders(b"content-encoding") == [b"br"]
    assert result(readBody(response)) == b"raw"


def test_cookieAgent() -> None:
    jar = CookieJar()
    fake = FakeAgent(
        [
            canned(
                200,
                {b"set-cookie": [b"session=abc; Path=/", b"other=1; Domain=elsewhere.example"]},
            ),
            canned(200),
        ]
    )
    agent = CookieAgent(fake, jar)
    result(agent.request(b"GET", b"http://h.example/login"))
    assert [c.name for c in jar] == ["session"]
    result(agent.request(b"GET", b"http://h.example/page"))
    assert fake.requests[1][2].getRawHeaders(b"cookie") == [b"session=abc"]  # type: ignore[union-attr]


# -- URI and the agent, in memory -----------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (b"http://example.com", (b"http", b"example.com", 80, b"/", b"example.com")),
        (b"https://example.com/a?b#c", (b"https", b"example.com", 443, b"/a?b", b"example.com")),
        (b"http://u:p@h:8080/x", (b"http", b"h", 8080, b"/x", b"h:8080")),
        (b"HTTP://[::1]:81/p;q?r", (b"http", b"::1", 81, b"/p;q?r", b"[::1]:81")),
        (b"http://h?only", (b"http", b"h", 80, b"/?only", b"h")),
    ],
)
def test_uri(uri: bytes, expected: tuple[bytes, bytes, int, bytes, bytes]) -> None:
    parsed = URI.fromBytes(uri)
    assert (
        parsed.scheme,
        parsed.host,
        parsed.port,
        parsed.originForm,
        parsed._hostHeader(),
    ) == expected


@pytest.mark.parametrize(
    "uri", [b"/relative", b"http://", b"http://h:99999/", b"http://h:x/", b"http://[::1/"]
)
def test_badURI(uri: bytes) -> None:
    with pytest.raises(ValueError):
        URI.fromBytes(uri)


def test_uriRoundTrip() -> None:
    for uri in [b"http://h:1/a;b?c#d", b"https://h/", b"http://h"]:
        assert URI.fromBytes(uri).toBytes() == uri


class FakeEndpoint:
    def __init__(self) -> None:
        self.protocols: list[HTTP11ClientProtocol] = []
        self.transports: list[StringTransport] = []

    def connect(self, factory: Any) -> Deferred[Any]:
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.protocols.append(protocol)
        self.transports.append(transport)
        return succeed(protocol)


class FakeEndpointFactory:
    def __init__(self) -> None:
        self.endpoint = FakeEndpoint()
        self.uris: list[URI] = []

    def endpointForURI(self, uri: URI) -> FakeEndpoint:
        self.uris.append(uri)
        return self.endpoint


def test_agentReusesPooledConnection() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    factory = FakeEndpointFactory()
    agent = Agent.usingEndpointFactory(clock, factory, pool)
    for _i in range(2):
        d = agent.request(b"GET", b"http://example.com:8080/x")
        protocol = factory.endpoint.protocols[-1]
        assert b"Host: example.com:8080\r\n" in factory.endpoint.transports[-1].value()
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        assert result(d).code == 200
    assert len(factory.endpoint.protocols) == 1
    clock.advance(pool.cachedConnectionTimeout + 1)
    assert factory.endpoint.transports[0].disconnecting
    assert pool._connections == {}


def test_poolRetriesStaleConnection() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    factory = FakeEndpointFactory()
    agent = Agent.usingEndpointFactory(clock, factory, pool)
    d = agent.request(b"GET", b"http://h/")
    factory.endpoint.protocols[0].dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    result(d)
    d = agent.request(b"GET", b"http://h/")
    # The server had closed the idle connection: the request is retried.
    factory.endpoint.protocols[0].connectionLost(Failure(ConnectionDone()))
    assert len(factory.endpoint.protocols) == 2
    factory.endpoint.protocols[1].dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert result(d).code == 200


def test_poolDoesNotRetryPost() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    factory = FakeEndpointFactory()
    agent = Agent.usingEndpointFactory(clock, factory, pool)
    d = agent.request(b"GET", b"http://h/")
    factory.endpoint.protocols[0].dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    result(d)
    d = agent.request(b"POST", b"http://h/")
    factory.endpoint.protocols[0].connectionLost(Failure(ConnectionDone()))
    assert failure(d).check(ResponseNeverReceived)
    assert len(factory.endpoint.protocols) == 1


def test_poolMaxPersistentPerHost() -> None:
    clock = Clock()
    pool = HTTPConnectionPool(clock)
    pool.maxPersistentPerHost = 1
    factory = FakeEndpointFactory()
    agent = Agent.usingEndpointFactory(clock, factory, pool)
    first, second = agent.request(b"GET", b"http://h/"), agent.request(b"GET", b"http://h/")
    for protocol in factory.endpoint.protocols:
        protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    result(first), result(second)
    assert len(pool._connections[(b"http", b"h", 80)]) == 1
    assert factory.endpoint.transports[0].disconnecting


def test_nonPersistentPoolSendsClose() -> None:
    factory = FakeEndpointFactory()
    agent = Agent.usingEndpointFactory(Clock(), factory)
    agent.request(b"GET", b"http://h/")
    assert b"Connection: close\r\n" in factory.endpoint.transports[0].value()


def test_agentRefusesBadScheme() -> None:
    from fw.web.client import SchemeNotSupported

    agent = Agent(Clock())
    assert failure(agent.request(b"GET", b"ftp://h/")).check(SchemeNotSupported)
    assert failure(agent.request(b"GET", b"not a uri")).check(ValueError)


# -- any bytes from the server --------------------------------------------------------


@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from(
                [
                    b"HTTP/1.1 200 OK\r\n",
                    b"Content-Length: 3\r\n",
                    b"Transfer-Encoding: chunked\r\n",
                    b"\r\n",
                    b"3\r\nabc\r\n",
                    b"0\r\n\r\n",
                    b"HTTP/1.1 100 Continue\r\n\r\n",
                ]
            ),
        ),
        max_size=12,
    ),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_fuzzServerBytes(pieces: list[bytes], close: bool) -> None:
    """Whatever a server sends, a request gets a response or ResponseFailed; nothing raises."""
    protocol, transport, _quiet = connected(maxHeaderCount=5, maxLineLength=64)
    d = protocol.request(get())
    outcome: list[Any] = []
    d.addBoth(outcome.append)
    collector = Collector()
    for piece in pieces:
        if transport.disconnected:
            break
        protocol.dataReceived(piece)
        if outcome and not isinstance(outcome[0], Failure) and collector.transport is None:
            outcome[0].deliverBody(collector)
    if close or transport.disconnecting:
        protocol.connectionLost(Failure(ConnectionDone()))
        assert outcome
    if outcome and isinstance(outcome[0], Failure):
        assert outcome[0].check(ResponseFailed)
    elif outcome and (close or transport.disconnecting):
        assert collector.reason is not None
        assert collector.reason.check(ResponseDone, PotentialDataLoss, ResponseFailed)
