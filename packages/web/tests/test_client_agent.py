"""
fw's HTTP client against servers that are not fw, on loopback: Python's
http.server, aiohttp, a raw-socket server for hostile responses, TLS with
Python's ssl module, and a small CONNECT proxy.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import select
import socket
import ssl as stdlib_ssl
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from http.cookiejar import CookieJar
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fw.internet.defer import CancelledError, Deferred
from fw.internet.endpoints import TCP4ClientEndpoint
from fw.internet.task import Cooperator
from fw.trial.pytestplugin import missingPeer
from fw.web import treq
from fw.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    BrowserLikeRedirectAgent,
    ContentDecoderAgent,
    CookieAgent,
    FileBodyProducer,
    GzipDecoder,
    HTTPConnectionPool,
    PartialDownloadError,
    ProxyAgent,
    ProxyTunnelError,
    ResponseFailed,
    ResponseNeverReceived,
    readBody,
)
from fw.web.http_headers import Headers
from fw.web.test._certificates import makeCertificates

pytestmark = pytest.mark.timeout(30)

# The ``reactor`` (epoll, then asyncio) and ``run`` fixtures are in conftest.py.


def coop(reactor: Any) -> Cooperator:
    return Cooperator(scheduler=lambda f: reactor.callLater(0.001, f))


# -- a stdlib http.server peer --------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[tuple[str, int]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self) -> None:
        self.server.connections.add(self.client_address)  # type: ignore[attr-defined]
        path = self.path
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            target = "/echo" if n == 0 else f"/redirect/{n - 1}"
            self._send(302, b"", {"Location": target})
        elif path == "/see-other":
            self._send(303, b"", {"Location": "/echo"})
        elif path == "/gzip":
            self._send(200, gzip.compress(b"squeezed " * 500), {"Content-Encoding": "gzip"})
        elif path == "/set-cookie":
            self._send(200, b"ok", {"Set-Cookie": "flavour=oatmeal; Path=/"})
        elif path == "/no-content":
            self.send_response(204)
            self.end_headers()
        elif path == "/json":
            self._send(200, b'{"caf\xc3\xa9": [1, 2]}', {"Content-Type": "application/json"})
        elif path == "/text":
            self._send(
                200, "h\u00e9llo".encode("utf-16"), {"Content-Type": "text/plain; charset=utf-16"}
            )
        else:
            self.do_echo()

    def do_echo(self) -> None:
        body = self._body()
        reply = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("latin-1"),
        }
        self._send(200, json.dumps(reply).encode(), {"Content-Type": "application/json"})

    def do_POST(self) -> None:
        if self.path == "/see-other":
            self._body()
            self._send(303, b"", {"Location": "/echo"})
        else:
            self.do_echo()

    do_HEAD = do_GET
    do_PUT = do_DELETE = do_PATCH = do_echo


@pytest.fixture
def httpServer() -> Iterator[tuple[str, ThreadingHTTPServer]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.connections = set()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server
    server.shutdown()
    server.server_close()
    thread.join(5)


async def getJSON(
    agent: Any, method: bytes, url: str, headers: Headers | None = None, body: Any = None
) -> Any:
    response = await agent.request(method, url.encode(), headers, body)
    assert response.code == 200
    return json.loads(await readBody(response))


def test_getAndKeepAlive(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, server = httpServer

    async def main() -> list[Any]:
        pool = HTTPConnectionPool(reactor)
        agent = Agent(reactor, pool=pool)
        out = [await getJSON(agent, b"GET", url + f"/echo/{i}?q=1") for i in range(3)]
        await pool.closeCachedConnections()
        return out

    replies = run(reactor, main)
    assert [r["path"] for r in replies] == ["/echo/0?q=1", "/echo/1?q=1", "/echo/2?q=1"]
    assert replies[0]["headers"]["host"] == url.split("//")[1]
    assert len(server.connections) == 1


def test_ipv6(run: Any, reactor: Any) -> None:
    class V6Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    server = V6Server(("::1", 0), Handler)
    server.daemon_threads = True
    server.connections = set()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://[::1]:{server.server_address[1]}"
    try:
        reply = run(reactor, lambda: getJSON(Agent(reactor), b"GET", url + "/v6?x"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert reply["path"] == "/v6?x"
    assert reply["headers"]["host"] == f"[::1]:{server.server_address[1]}"


def test_newConnectionWithoutPool(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, server = httpServer

    async def main() -> None:
        agent = Agent(reactor)
        for _ in range(2):
            reply = await getJSON(agent, b"GET", url + "/echo")
            assert reply["headers"]["connection"] == "close"

    run(reactor, main)
    assert len(server.connections) == 2


def test_bodyProducers(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, _server = httpServer

    class Unseekable(io.BytesIO):
        def seek(self, *args: Any) -> int:
            raise OSError("pipe")

    async def main() -> list[Any]:
        agent = Agent(reactor)
        known = FileBodyProducer(io.BytesIO(b"k" * 100000), coop(reactor), readSize=7000)
        chunked = FileBodyProducer(Unseekable(b"c" * 5000), coop(reactor), readSize=1000)
        return [
            await getJSON(agent, b"POST", url + "/echo", None, known),
            await getJSON(agent, b"PUT", url + "/echo", None, chunked),
        ]

    known, chunked = run(reactor, main)
    assert known["body"] == "k" * 100000
    assert known["headers"]["content-length"] == "100000"
    assert chunked["body"] == "c" * 5000
    assert chunked["headers"]["transfer-encoding"] == "chunked"


def test_headAndNoContent(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, server = httpServer

    async def main() -> None:
        pool = HTTPConnectionPool(reactor)
        agent = Agent(reactor, pool=pool)
        response = await agent.request(b"HEAD", (url + "/gzip").encode())
        assert response.code == 200
        assert await readBody(response) == b""
        response = await agent.request(b"GET", (url + "/no-content").encode())
        assert response.code == 204
        assert await readBody(response) == b""
        assert (await getJSON(agent, b"GET", url + "/echo"))["method"] == "GET"
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(server.connections) == 1


def test_redirects(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, _server = httpServer

    async def main() -> None:
        agent = BrowserLikeRedirectAgent(Agent(reactor))
        response = await agent.request(b"GET", (url + "/redirect/3").encode())
        assert json.loads(await readBody(response))["path"] == "/echo"
        hops = 0
        previous = response.previousResponse
        while previous is not None:
            hops, previous = hops + 1, previous.previousResponse
        assert hops == 4
        failure = None
        try:
            await BrowserLikeRedirectAgent(Agent(reactor), 2).request(
                b"GET", (url + "/redirect/5").encode()
            )
        except ResponseFailed as e:
            failure = e
        assert failure is not None
        assert "InfiniteRedirection" in repr(failure)

    run(reactor, main)


def test_cookiesAndGzip(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, _server = httpServer
    jar = CookieJar()

    async def main() -> None:
        agent = ContentDecoderAgent(CookieAgent(Agent(reactor), jar), [(b"gzip", GzipDecoder)])
        response = await agent.request(b"GET", (url + "/set-cookie").encode())
        await readBody(response)
        reply = json.loads(await readBody(await agent.request(b"GET", (url + "/echo").encode())))
        assert reply["headers"]["cookie"] == "flavour=oatmeal"
        assert reply["headers"]["accept-encoding"] == "gzip"
        response = await agent.request(b"GET", (url + "/gzip").encode())
        assert await readBody(response) == b"squeezed " * 500

    run(reactor, main)


def test_treq(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, _server = httpServer

    async def main() -> None:
        kw: dict[str, Any] = {"reactor": reactor, "persistent": False}
        response = await treq.get(url + "/echo", params={"a": "1", "b": ["x", "y"]}, **kw)
        reply = await response.json()
        assert reply["path"] == "/echo?a=1&b=x&b=y"
        reply = await treq.json_content(await treq.post(url + "/echo", json={"k": [1]}, **kw))
        assert reply["body"] == '{"k":[1]}'
        assert reply["headers"]["content-type"].startswith("application/json")
        reply = await (
            await treq.put(url + "/echo", data={"f": "v w"}, auth=("u", "p"), **kw)
        ).json()
        assert reply["body"] == "f=v+w"
        assert reply["method"] == "PUT"
        assert reply["headers"]["authorization"] == "Basic dTpw"
        reply = await (await treq.delete(url + "/echo", headers={"X-A": "b"}, **kw)).json()
        assert reply["method"] == "DELETE"
        assert reply["headers"]["x-a"] == "b"
        response = await treq.get(url + "/json", **kw)
        assert await treq.json_content(response) == {"caf\u00e9": [1, 2]}
        assert await treq.content(response) == b'{"caf\xc3\xa9": [1, 2]}'
        assert await treq.text_content(await treq.get(url + "/text", **kw)) == "h\u00e9llo"
        response = await treq.post(url + "/see-other", data=b"raw", **kw)
        assert (await response.json())["method"] == "GET"
        assert len(response.history()) == 1
        response = await treq.get(url + "/redirect/1", allow_redirects=False, **kw)
        assert response.code == 302
        await response.content()
        response = await treq.get(url + "/gzip", **kw)
        assert await response.content() == b"squeezed " * 500
        pieces: list[bytes] = []
        await treq.collect(response, pieces.append)
        assert b"".join(pieces) == b"squeezed " * 500

    run(reactor, main)


def test_treqSharedPool(run: Any, reactor: Any, httpServer: tuple[str, Any]) -> None:
    url, server = httpServer

    async def main() -> None:
        for _ in range(3):
            await (await treq.get(url + "/echo", reactor=reactor)).content()
        await treq._pools[reactor].closeCachedConnections()

    run(reactor, main)
    assert len(server.connections) == 1


# -- hostile and unusual responses from a raw socket ---------------------------------


class RawServer:
    """Accepts connections and answers each with a scripted function of the socket."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.requests: list[bytes] = []
        self._script = script
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def readRequest(self, conn: socket.socket) -> bytes:
        data = b""
        conn.settimeout(5)
        while b"\r\n\r\n" not in data:
            more = conn.recv(4096)
            if not more:
                break
            data += more
        self.requests.append(data)
        return data

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.readRequest(conn)
            self._script(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for thread in self._threads:
            thread.join(5)
        self.listener.close()


@pytest.fixture
def rawServer() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    servers: list[RawServer] = []

    def make(script: Callable[[socket.socket], None]) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def send(data: bytes, byteAtATime: bool = False) -> Callable[[socket.socket], None]:
    def script(conn: socket.socket) -> None:
        if byteAtATime:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                conn.sendall(data[i : i + 1])
                if i % 16 == 0:
                    time.sleep(0.001)
        else:
            conn.sendall(data)

    return script


async def fetch(reactor: Any, url: str) -> tuple[Any, bytes]:
    response = await Agent(reactor).request(b"GET", url.encode())
    return response, await readBody(response)


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n"
)


@pytest.mark.parametrize("byteAtATime", [False, True], ids=["whole", "bytewise"])
def test_chunkedWithTrailers(run: Any, reactor: Any, rawServer: Any, byteAtATime: bool) -> None:
    server = rawServer(send(CHUNKED, byteAtATime))
    _response, body = run(reactor, lambda: fetch(reactor, server.url))
    assert body == b"Wikipedia in\r\n\r\nchunks."
    assert server.requests[0].startswith(b"GET / HTTP/1.1\r\n")


def test_closeDelimited(run: Any, reactor: Any, rawServer: Any) -> None:
    server = rawServer(send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"))

    async def main() -> Any:
        response = await Agent(reactor).request(b"GET", server.url.encode())
        try:
            await readBody(response)
        except PartialDownloadError as e:
            return e.response
        raise AssertionError("readBody should report possible data loss")

    async def withTreq() -> bytes:
        # treq, like treq, takes a body ended by the connection as complete.
        return await treq.content(await treq.get(server.url, reactor=reactor, persistent=False))

    assert run(reactor, lambda: gatherBoth(main(), withTreq())) == [b"until the end"] * 2


async def gatherBoth(*coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
    return [await c for c in coroutines]


def test_oneXXSkipped(run: Any, reactor: Any, rawServer: Any) -> None:
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = rawServer(send(data, True))
    response, body = run(reactor, lambda: fetch(reactor, server.url))
    assert (response.code, body) == (200, b"ok")


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    ],
    ids=["length", "chunked"],
)
def test_truncatedBody(run: Any, reactor: Any, rawServer: Any, data: bytes) -> None:
    server = rawServer(send(data))
    with pytest.raises(ResponseFailed):
        run(reactor, lambda: fetch(reactor, server.url))


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 OK\r\n\r\n",
        b"\x00\x01\x02 binary junk\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 500 + b"\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"x" * 100000,
    ],
    ids=[
        "conflicting-length",
        "bad-status",
        "junk",
        "long-header",
        "many-headers",
        "endless-line",
    ],
)
def test_malformedResponse(run: Any, reactor: Any, rawServer: Any, data: bytes) -> None:
    def script(conn: socket.socket) -> None:
        send(data)(conn)
        conn.settimeout(5)
        conn.recv(1)  # hold the connection until the client drops it

    server = rawServer(script)

    with pytest.raises(ResponseFailed, match="ResponseParseError"):
        run(reactor, lambda: fetch(reactor, server.url))


def test_noResponse(run: Any, reactor: Any, rawServer: Any) -> None:
    server = rawServer(lambda conn: None)
    with pytest.raises(ResponseNeverReceived):
        run(reactor, lambda: fetch(reactor, server.url))


def test_slowResponseTimesOut(run: Any, reactor: Any, rawServer: Any) -> None:
    release = threading.Event()
    server = rawServer(lambda conn: release.wait(5))

    async def main() -> None:
        started = reactor.seconds()
        try:
            await treq.get(server.url, reactor=reactor, timeout=0.2, persistent=False)
        except CancelledError:
            assert reactor.seconds() - started < 3
            return
        raise AssertionError("no timeout")

    try:
        run(reactor, main)
    finally:
        release.set()


def test_staleConnectionRetried(run: Any, reactor: Any, rawServer: Any) -> None:
    """The server closes each kept-alive connection after one response; GETs are retried."""
    server = rawServer(send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))

    async def main() -> list[bytes]:
        pool = HTTPConnectionPool(reactor)
        agent = Agent(reactor, pool=pool)
        bodies = []
        for _ in range(3):
            response = await agent.request(b"GET", server.url.encode())
            bodies.append(await readBody(response))
            await deferLater(reactor, 0.05)
        await pool.closeCachedConnections()
        return bodies

    assert run(reactor, main) == [b"ok"] * 3
    assert len(server.requests) == 3


def deferLater(reactor: Any, delay: float) -> Deferred[None]:
    d: Deferred[None] = Deferred()
    reactor.callLater(delay, d.callback, None)
    return d


def test_bigBodyFlowControl(run: Any, reactor: Any, rawServer: Any) -> None:
    size = 8 * 1024 * 1024
    server = rawServer(send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"z" * size))
    _response, body = run(reactor, lambda: fetch(reactor, server.url))
    assert len(body) == size


# -- aiohttp --------------------------------------------------------------------------


@pytest.fixture
def aiohttpServer() -> Iterator[str]:
    aiohttp = pytest.importorskip("aiohttp")
    from aiohttp import web

    async def stream(request: Any) -> Any:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(5):
            await response.write(b"part%d " % i)
        await response.write_eof()
        return response

    async def echo(request: Any) -> Any:
        body = await request.read()
        return web.json_response({"method": request.method, "body": body.decode(), "n": len(body)})

    async def upload(request: Any) -> Any:
        form = await request.post()
        out = {}
        for name, value in form.items():
            if isinstance(value, str):
                out[name] = value
            elif isinstance(value, bytes | bytearray):
                out[name] = ["", "", value.decode()]
            else:
                out[name] = [value.filename, value.content_type, value.file.read().decode()]
        return web.json_response(out)

    app = web.Application()
    app.router.add_get("/stream", stream)
    app.router.add_post("/upload", upload)
    app.router.add_route("*", "/echo", echo)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()
    del aiohttp


def test_aiohttp(run: Any, reactor: Any, aiohttpServer: str) -> None:
    async def main() -> None:
        pool = HTTPConnectionPool(reactor)
        agent = Agent(reactor, pool=pool)
        response = await agent.request(b"GET", (aiohttpServer + "/stream").encode())
        assert response.headers.getRawHeaders(b"transfer-encoding") == [b"chunked"]
        assert await readBody(response) == b"part0 part1 part2 part3 part4 "
        producer = FileBodyProducer(io.BytesIO(b"q" * 300000), coop(reactor))
        response = await agent.request(b"POST", (aiohttpServer + "/echo").encode(), None, producer)
        assert json.loads(await readBody(response))["n"] == 300000
        reply = await (
            await treq.patch(aiohttpServer + "/echo", json=[1], reactor=reactor, agent=agent)
        ).json()
        assert reply == {"method": "PATCH", "body": "[1]", "n": 3}
        response = await treq.post(
            aiohttpServer + "/upload",
            data={"title": 'a "quoted"\nname'},
            files={"doc": ("notes.txt", io.BytesIO(b"file body")), "raw": io.BytesIO(b"xyz")},
            reactor=reactor,
            agent=agent,
        )
        assert response.code == 200, await response.text()
        assert await response.json() == {
            "title": 'a "quoted"\nname',
            "doc": ["notes.txt", "text/plain", "file body"],
            "raw": ["", "", "xyz"],
        }
        await pool.closeCachedConnections()

    run(reactor, main)


# -- TLS ------------------------------------------------------------------------------


@pytest.fixture
def tlsServer(tmp_path: Any) -> Iterator[tuple[str, bytes, ThreadingHTTPServer]]:
    pytest.importorskip("OpenSSL")
    caPem, certPath, keyPath = makeCertificates(tmp_path, ["127.0.0.1"])
    context = stdlib_ssl.SSLContext(stdlib_ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certPath, keyPath)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.connections = set()  # type: ignore[attr-defined]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", caPem, server
    server.shutdown()
    server.server_close()
    thread.join(5)


def policyTrusting(caPem: bytes) -> BrowserLikePolicyForHTTPS:
    from fw.internet import ssl

    return BrowserLikePolicyForHTTPS(
        ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(caPem)])
    )


def test_https(run: Any, reactor: Any, tlsServer: tuple[str, bytes, Any]) -> None:
    url, caPem, server = tlsServer

    async def main() -> None:
        pool = HTTPConnectionPool(reactor)
        agent = Agent(reactor, policyTrusting(caPem), pool=pool)
        for _ in range(2):
            assert (await getJSON(agent, b"GET", url + "/echo"))["path"] == "/echo"
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(server.connections) == 1


def test_httpsVerifiedByDefault(run: Any, reactor: Any, tlsServer: tuple[str, bytes, Any]) -> None:
    url, _caPem, _server = tlsServer

    with pytest.raises(Exception, match=r"(?i)certificate|verify"):
        run(reactor, lambda: Agent(reactor).request(b"GET", (url + "/echo").encode()))


def test_httpsWrongHostName(run: Any, reactor: Any, tmp_path: Any) -> None:
    pytest.importorskip("OpenSSL")
    caPem, certPath, keyPath = makeCertificates(tmp_path, ["other.example"])
    context = stdlib_ssl.SSLContext(stdlib_ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certPath, keyPath)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{server.server_address[1]}/"

    async def main() -> None:
        try:
            await Agent(reactor, policyTrusting(caPem)).request(b"GET", url.encode())
        except Exception:
            return
        raise AssertionError("a certificate for another name was accepted")

    try:
        run(reactor, main)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- proxies --------------------------------------------------------------------------


class ConnectProxy:
    """A tiny forward proxy: CONNECT tunnels, and absolute-form requests answered itself."""

    def __init__(self, allow: bool = True) -> None:
        self.allow = allow
        self.requestLines: list[bytes] = []
        self.server = RawServer(self._script)
        self.server.readRequest = lambda conn: b""  # type: ignore[method-assign]

    def _script(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            more = conn.recv(4096)
            if not more:
                return
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        line = head.split(b"\r\n")[0]
        self.requestLines.append(head)
        method, target, _ = line.split(b" ")
        if method != b"CONNECT":
            body = b"proxied " + target
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(body), body)
            )
            return
        if not self.allow:
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = target.rpartition(b":")
        upstream = socket.create_connection((host.decode(), int(port)), timeout=5)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        try:
            while True:
                ready, _, _ = select.select([conn, upstream], [], [], 5)
                if not ready:
                    return
                for sock in ready:
                    other = upstream if sock is conn else conn
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    other.sendall(chunk)
        finally:
            upstream.close()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    instance = ConnectProxy()
    yield instance
    instance.server.close()


def test_httpThroughProxy(run: Any, reactor: Any, proxy: ConnectProxy) -> None:
    async def main() -> bytes:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", proxy.server.port)
        agent = ProxyAgent(
            endpoint, reactor, proxyHeaders=Headers({b"Proxy-Authorization": [b"Basic eDp5"]})
        )
        response = await agent.request(b"GET", b"http://example.invalid:8080/path?q#frag")
        return await readBody(response)

    assert run(reactor, main) == b"proxied http://example.invalid:8080/path?q"
    assert b"Proxy-Authorization: Basic eDp5" in proxy.requestLines[0]
    assert b"Host: example.invalid:8080" in proxy.requestLines[0]


def test_httpsThroughConnectTunnel(
    run: Any, reactor: Any, proxy: ConnectProxy, tlsServer: tuple[str, bytes, Any]
) -> None:
    url, caPem, server = tlsServer

    async def main() -> None:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", proxy.server.port)
        pool = HTTPConnectionPool(reactor)
        agent = ProxyAgent(endpoint, reactor, pool, contextFactory=policyTrusting(caPem))
        for _ in range(2):
            reply = await getJSON(agent, b"GET", url + "/echo")
            assert reply["path"] == "/echo"
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(proxy.requestLines) == 1
    assert proxy.requestLines[0].startswith(
        b"CONNECT 127.0.0.1:%d HTTP/1.1" % server.server_address[1]
    )


def test_connectRefused(run: Any, reactor: Any, proxy: ConnectProxy) -> None:
    proxy.allow = False

    async def main() -> None:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", proxy.server.port)
        await ProxyAgent(endpoint, reactor).request(b"GET", b"https://127.0.0.1:1/")

    with pytest.raises(ProxyTunnelError) as caught:
        run(reactor, main)
    assert caught.value.code == 403


# -- nginx ----------------------------------------------------------------------------


def nginxPath() -> str:
    """nginx (in sbin, off a user's PATH), or a skip (a failure when FW_REQUIRE_PEERS=1)."""
    import shutil

    path = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if path is None:
        missingPeer("peer program 'nginx' is not installed")
    return path


@pytest.fixture
def nginx(tmp_path: Any) -> Iterator[str]:
    import subprocess

    program = nginxPath()
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.txt").write_bytes(b"nginx says hello\n" * 200)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    temp = tmp_path / "temp"
    temp.mkdir()
    (tmp_path / "logs").mkdir()  # nginx opens its default error log there first
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"""
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type text/plain;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 0;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location = /old {{ return 301 /index.txt; }}
    }}
}}
"""
    )
    process = subprocess.Popen(
        [program, "-p", str(tmp_path), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(5)


def test_nginx(run: Any, reactor: Any, nginx: str) -> None:
    expected = b"nginx says hello\n" * 200

    async def main() -> None:
        pool = HTTPConnectionPool(reactor)
        plain = Agent(reactor, pool=pool)
        response = await plain.request(b"GET", (nginx + "/index.txt").encode())
        assert response.length == len(expected)
        assert await readBody(response) == expected
        response = await plain.request(b"HEAD", (nginx + "/index.txt").encode())
        assert await readBody(response) == b""
        response = await plain.request(b"GET", (nginx + "/missing").encode())
        assert response.code == 404
        await readBody(response)
        # gzip on the fly: nginx sends it chunked.
        agent = BrowserLikeRedirectAgent(ContentDecoderAgent(plain, [(b"gzip", GzipDecoder)]))
        response = await agent.request(b"GET", (nginx + "/old").encode())
        assert response.previousResponse.code == 301
        assert await readBody(response) == expected
        raw = await plain.request(
            b"GET", (nginx + "/index.txt").encode(), Headers({b"Accept-Encoding": [b"gzip"]})
        )
        assert raw.headers.getRawHeaders(b"transfer-encoding") == [b"chunked"]
        assert gzip.decompress(await readBody(raw)) == expected
        await pool.closeCachedConnections()

    run(reactor, main)
