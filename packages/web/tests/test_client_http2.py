"""
fw's HTTP client over HTTP/2 (``Agent`` with ALPN ``h2``), against real
servers on loopback with certificates made here: nginx, nghttpd, fw's own
HTTP/2 server, and hand-written hostile servers on the ``h2`` library or raw
bytes; plus the connection adapter on an in-memory transport, fed one byte
at a time and with arbitrary bytes.
"""

from __future__ import annotations

import functools
import os
import socket
import ssl as stdlib_ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("h2")

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

from fw.internet.defer import CancelledError, Deferred
from fw.internet.testing import StringTransport
from fw.python.failure import Failure
from fw.web import _client_http2, server, static
from fw.web._client_http2 import H2ClientProtocol
from fw.web._client_http2_errors import (
    HTTP2ConnectionTerminated,
    HTTP2HeadersTooLarge,
    HTTP2ProtocolError,
    HTTP2RequestRefused,
    HTTP2StreamReset,
)
from fw.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    HTTPConnectionPool,
    Request,
    RequestGenerationFailed,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
    readBody,
)
from fw.web.http_headers import Headers
from fw.web.iweb import UNKNOWN_LENGTH
from fw.web.resource import Resource
from fw.web.test._certificates import makeCertificates
from fw.web.test._peers import freePort, waitForPort
from fw.web.test._streaming import Hang, Pusher, SlowUpload
from fw.web.test._threadedsite import ServerThread

pytestmark = pytest.mark.timeout(30)

BIG = bytes(range(256)) * 16384  # 4 MiB


# -- certificates -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: Any) -> dict[str, Any]:
    """A CA and a server certificate for 127.0.0.1 and localhost, made now."""
    from fw.internet import ssl

    tmp = tmp_path_factory.mktemp("h2certs")
    caPem, certPath, keyPath = makeCertificates(tmp, ["127.0.0.1", "localhost"])
    certPem, keyPem = Path(certPath).read_bytes(), Path(keyPath).read_bytes()

    def serverOptions(protocols: list[bytes]) -> Any:
        return ssl.CertificateOptions(
            privateKey=ssl.KeyPair.load(keyPem, ssl.FILETYPE_PEM).original,
            certificate=ssl.Certificate.loadPEM(certPem).original,
            acceptableProtocols=protocols,
        )

    return {
        "ca": caPem,
        "cert": certPath,
        "key": keyPath,
        "serverOptions": serverOptions,
        "policy": BrowserLikePolicyForHTTPS(
            ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(caPem)])
        ),
    }


# -- running the client's reactor ---------------------------------------------------


@pytest.fixture(name="run")
def runFixture(run: Callable[..., Any]) -> Callable[..., Any]:
    """fw-web's ``run``, with more time: TLS set-up, and HTTP/2 connections closing with GOAWAY."""
    return functools.partial(run, timeout=15, grace=0.1)


def sleep(reactor: Any, seconds: float) -> Deferred[None]:
    d: Deferred[None] = Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


class BytesProducer:
    """An IBodyProducer writing ``total`` bytes in 16 KiB pieces, honouring pauses."""

    def __init__(self, reactor: Any, total: int, length: Any = UNKNOWN_LENGTH) -> None:
        self.reactor = reactor
        self.total = total
        self.length = length
        self.sent = 0
        self.paused = False
        self.pauses = 0
        self.stopped = False
        self.consumer: Any = None
        self.done: Deferred[None] = Deferred()

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self.consumer = consumer
        self.reactor.callLater(0, self._step)
        return self.done

    def _step(self) -> None:
        while not self.paused and not self.stopped and self.sent < self.total:
            size = min(16384, self.total - self.sent)
            self.sent += size
            self.consumer.write(b"p" * size)
        if self.sent >= self.total and not self.done.called:
            self.done.callback(None)

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False
        self.reactor.callLater(0, self._step)

    def stopProducing(self) -> None:
        self.stopped = True


class Collector:
    """A body protocol that can pause its transport."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.transport: Any = None
        self.reason: Failure | None = None
        self.done: Deferred[None] = Deferred()

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure) -> None:
        self.reason = reason
        self.done.callback(None)


# -- fw's own HTTP/2 server ---------------------------------------------------------


class Hello(Resource):
    isLeaf = True

    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__()
        self.state = state

    def render_GET(self, request: Any) -> bytes:
        self.state.setdefault("ports", set()).add(request.getClientAddress().port)
        request.setHeader(b"x-proto", request.clientproto)
        return b"hello " + request.uri

    def render_POST(self, request: Any) -> bytes:
        self.state.setdefault("ports", set()).add(request.getClientAddress().port)
        return b"got %d" % len(request.content.read())


class Reset(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> int:
        request.transport.abortConnection()
        return server.NOT_DONE_YET


class FwServer(ServerThread):
    """fw's Site for these tests on 127.0.0.1 (TLS with ALPN, or clear text), in a thread."""

    def __init__(self, tls: Any, timeOut: float | None = None) -> None:
        super().__init__(self.makeTree, tls, timeOut)
        self.state: dict[str, Any] = {}

    def makeTree(self, reactor: Any) -> Resource:
        root = Resource()
        root.putChild(b"hello", Hello(self.state))
        root.putChild(b"hang", Hang(self.state))
        root.putChild(b"reset", Reset())
        root.putChild(b"push", Pusher(reactor, self.state, size=len(BIG)))
        root.putChild(b"upload", SlowUpload(reactor, pause=0.2))
        root.putChild(b"big", static.Data(BIG, "application/octet-stream"))
        return root

    def url(self, path: str) -> bytes:  # type: ignore[override]
        return super().url(path).encode()


@pytest.fixture
def fwServer(certs: dict[str, Any]) -> Iterator[FwServer]:
    with FwServer(certs["serverOptions"]([b"h2", b"http/1.1"])) as s:
        yield s


def h2Agent(reactor: Any, certs: dict[str, Any]) -> tuple[Agent, HTTPConnectionPool]:
    pool = HTTPConnectionPool(reactor)
    return Agent(reactor, certs["policy"], pool=pool), pool


def test_getOverHTTP2(run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer) -> None:
    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        response = await agent.request(b"GET", fwServer.url("/hello?q=1"))
        assert response.version == (b"HTTP", 2, 0)
        assert response.code == 200
        assert response.phrase == b"OK"
        assert response.headers.getRawHeaders(b"x-proto") == [b"HTTP/2"]
        assert response.request.method == b"GET"
        assert await readBody(response) == b"hello /hello?q=1"
        # deliverBody with a protocol of our own.
        response = await agent.request(b"GET", fwServer.url("/hello"))
        collector = Collector()
        response.deliverBody(collector)
        await collector.done
        assert bytes(collector.data) == b"hello /hello"
        assert collector.reason is not None
        assert collector.reason.check(ResponseDone)
        response = await agent.request(b"HEAD", fwServer.url("/hello"))
        assert response.length == 0
        assert await readBody(response) == b""
        response = await agent.request(b"GET", fwServer.url("/missing"))
        assert response.code == 404
        await readBody(response)
        # A body of a known length.
        producer = BytesProducer(reactor, 1000, 1000)
        response = await agent.request(b"POST", fwServer.url("/hello"), None, producer)
        assert await readBody(response) == b"got 1000"
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(fwServer.state["ports"]) == 1


def test_concurrentRequestsShareOneConnection(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer
) -> None:
    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        ds = [agent.request(b"GET", fwServer.url(f"/hello?q={i}")) for i in range(20)]
        for i, d in enumerate(ds):
            response = await d
            assert response.version == (b"HTTP", 2, 0)
            assert await readBody(response) == b"hello /hello?q=%d" % i
        assert len(pool._http2) == 1
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(fwServer.state["ports"]) == 1


def test_largeBodyAndPausedConsumer(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer
) -> None:
    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        response = await agent.request(b"GET", fwServer.url("/big"))
        assert response.length == len(BIG)
        assert await readBody(response) == BIG
        # A paused consumer stops the acknowledgements: the server's windows
        # close and its producer is paused.
        response = await agent.request(b"GET", fwServer.url("/push"))
        collector = Collector()
        response.deliverBody(collector)
        collector.transport.pauseProducing()
        await sleep(reactor, 0.4)
        assert fwServer.state["paused"] is True
        held = len(collector.data)
        assert held < 1024 * 1024
        collector.transport.resumeProducing()
        await collector.done
        assert len(collector.data) == len(BIG)
        assert fwServer.state["pauses"] >= 1
        await pool.closeCachedConnections()

    run(reactor, main)


def test_streamingUploadFlowControl(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer
) -> None:
    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        producer = BytesProducer(reactor, 1024 * 1024)
        response = await agent.request(b"POST", fwServer.url("/upload"), None, producer)
        assert await readBody(response) == b"got %d" % (1024 * 1024)
        # The server held the body back: the windows closed and the producer waited.
        assert producer.pauses >= 1
        await pool.closeCachedConnections()

    run(reactor, main)


def test_serverResetsOneStream(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer
) -> None:
    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        first = agent.request(b"GET", fwServer.url("/hello"))
        reset = agent.request(b"GET", fwServer.url("/reset"))
        with pytest.raises(ResponseNeverReceived) as info:
            await reset
        error = info.value.reasons[0].value
        assert isinstance(error, HTTP2StreamReset)
        assert error.errorCode == h2.errors.ErrorCodes.INTERNAL_ERROR
        assert "INTERNAL_ERROR" in str(error)
        assert await readBody(await first) == b"hello /hello"
        response = await agent.request(b"GET", fwServer.url("/hello?after"))
        assert await readBody(response) == b"hello /hello?after"
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(fwServer.state["ports"]) == 1


def test_cancelResetsTheStreamOnly(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer
) -> None:
    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        await readBody(await agent.request(b"GET", fwServer.url("/hello")))
        hanging = agent.request(b"GET", fwServer.url("/hang"))
        other = agent.request(b"GET", fwServer.url("/hello?other"))
        await sleep(reactor, 0.1)
        hanging.cancel()
        with pytest.raises(CancelledError):
            await hanging
        assert await readBody(await other) == b"hello /hello?other"
        await sleep(reactor, 0.1)
        assert fwServer.state.get("lost") == 1
        await pool.closeCachedConnections()

    run(reactor, main)
    assert len(fwServer.state["ports"]) == 1


def test_idleServerGoAwayThenNewConnection(run: Any, reactor: Any, certs: dict[str, Any]) -> None:
    with FwServer(certs["serverOptions"]([b"h2"]), timeOut=0.2) as fw:

        async def main() -> None:
            agent, pool = h2Agent(reactor, certs)
            await readBody(await agent.request(b"GET", fw.url("/hello")))
            await sleep(reactor, 0.5)  # the server sends GOAWAY and closes
            assert pool._http2 == {}
            response = await agent.request(b"GET", fw.url("/hello"))
            assert response.version == (b"HTTP", 2, 0)
            await readBody(response)
            await pool.closeCachedConnections()

        run(reactor, main)
        assert len(fw.state["ports"]) == 2


def test_http11OnlyServer(run: Any, reactor: Any, certs: dict[str, Any]) -> None:
    with FwServer(certs["serverOptions"]([b"http/1.1"])) as fw:

        async def main() -> None:
            agent, pool = h2Agent(reactor, certs)
            ds = [agent.request(b"GET", fw.url(f"/hello?{i}")) for i in range(3)]
            for d in ds:
                response = await d
                assert response.version == (b"HTTP", 1, 1)
                await readBody(response)
            assert pool._http2 == {}
            await pool.closeCachedConnections()

        run(reactor, main)


def test_withoutH2OnlyHTTP11IsOffered(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer, monkeypatch: Any
) -> None:
    monkeypatch.setattr(_client_http2, "_H2_AVAILABLE", False)
    assert _client_http2.defaultALPNProtocols() == [b"http/1.1"]
    from fw.internet import ssl

    policy = BrowserLikePolicyForHTTPS(
        ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(certs["ca"])])
    )

    async def main() -> None:
        response = await Agent(reactor, policy).request(b"GET", fwServer.url("/hello"))
        assert response.version == (b"HTTP", 1, 1)
        await readBody(response)

    run(reactor, main)


def test_nonPersistentPool(
    run: Any, reactor: Any, certs: dict[str, Any], fwServer: FwServer
) -> None:
    """Without a pool each request has its own HTTP/2 connection, closed after it."""

    async def main() -> None:
        agent = Agent(reactor, certs["policy"])
        for _ in range(2):
            response = await agent.request(b"GET", fwServer.url("/hello"))
            assert response.version == (b"HTTP", 2, 0)
            await readBody(response)

    run(reactor, main)
    assert len(fwServer.state["ports"]) == 2


def test_priorKnowledgeCleartext(run: Any, reactor: Any) -> None:
    with FwServer(None) as fw:

        async def main() -> None:
            pool = HTTPConnectionPool(reactor)
            pool.http2PriorKnowledge = True
            agent = Agent(reactor, pool=pool)
            ds = [agent.request(b"GET", fw.url(f"/hello?{i}")) for i in range(5)]
            for d in ds:
                response = await d
                assert response.version == (b"HTTP", 2, 0)
                await readBody(response)
            await pool.closeCachedConnections()

        run(reactor, main)
        assert len(fw.state["ports"]) == 1


# -- nginx ---------------------------------------------------------------------------


def nginxPath(requirePeer: Callable[[str], str]) -> str:
    import shutil

    found = shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:" + os.environ["PATH"])
    return found if found is not None else requirePeer("nginx")


def test_nginx(
    run: Any, reactor: Any, certs: dict[str, Any], tmp_path: Any, requirePeer: Callable[[str], str]
) -> None:
    program = nginxPath(requirePeer)
    www = tmp_path / "www"
    www.mkdir()
    expected = b"nginx over h2\n" * 5000
    (www / "index.txt").write_bytes(expected)
    port = freePort()
    temp = tmp_path / "temp"
    temp.mkdir()
    (tmp_path / "logs").mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"""
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    log_format conn '$connection $connection_requests $server_protocol $request_uri';
    access_log {tmp_path}/access.log conn;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {certs["cert"]};
        ssl_certificate_key {certs["key"]};
        root {www};
    }}
}}
"""
    )
    process = subprocess.Popen(
        [program, "-p", str(tmp_path), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        waitForPort(port, process)

        async def main() -> None:
            agent, pool = h2Agent(reactor, certs)
            url = f"https://127.0.0.1:{port}/index.txt".encode()
            ds = [agent.request(b"GET", url + b"?%d" % i) for i in range(8)]
            for d in ds:
                response = await d
                assert response.version == (b"HTTP", 2, 0)
                assert response.length == len(expected)
                assert await readBody(response) == expected
            response = await agent.request(b"GET", f"https://127.0.0.1:{port}/none".encode())
            assert response.code == 404
            await readBody(response)
            await pool.closeCachedConnections()

        run(reactor, main)
    finally:
        process.terminate()
        process.wait(5)
    lines = [line.split() for line in (tmp_path / "access.log").read_text().splitlines()]
    assert len(lines) == 9
    assert {line[2] for line in lines} == {"HTTP/2.0"}
    # One connection carried every request.
    assert len({line[0] for line in lines}) == 1


# -- nghttpd -------------------------------------------------------------------------


def test_nghttpd(
    run: Any, reactor: Any, certs: dict[str, Any], tmp_path: Any, requirePeer: Callable[[str], str]
) -> None:
    program = requirePeer("nghttpd")
    (tmp_path / "file.txt").write_bytes(b"from nghttpd\n" * 1000)
    port = freePort()
    process = subprocess.Popen(
        [
            program,
            "-a",
            "127.0.0.1",
            "-d",
            str(tmp_path),
            "--echo-upload",
            str(port),
            certs["key"],
            certs["cert"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        waitForPort(port, process)

        async def main() -> None:
            agent, pool = h2Agent(reactor, certs)
            response = await agent.request(b"GET", f"https://127.0.0.1:{port}/file.txt".encode())
            assert response.version == (b"HTTP", 2, 0)
            assert await readBody(response) == b"from nghttpd\n" * 1000
            producer = BytesProducer(reactor, 200000)
            response = await agent.request(
                b"POST", f"https://127.0.0.1:{port}/echo".encode(), None, producer
            )
            assert response.code == 200
            assert await readBody(response) == b"p" * 200000
            await pool.closeCachedConnections()

        run(reactor, main)
    finally:
        process.terminate()
        process.wait(5)


# -- hand-written servers ------------------------------------------------------------


class ScriptedServer:
    """
    A TLS server on 127.0.0.1 choosing ``h2``, running ``handler(sock, n)``
    for its ``n``-th connection in a thread.
    """

    def __init__(self, certs: dict[str, Any], handler: Callable[[Any, int], None]) -> None:
        context = stdlib_ssl.SSLContext(stdlib_ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs["cert"], certs["key"])
        context.set_alpn_protocols(["h2"])
        self.context = context
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path: str) -> bytes:
        return f"https://127.0.0.1:{self.port}{path}".encode()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            n = self.connections
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock, n), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket, n: int) -> None:
        raw.settimeout(10)
        try:
            with self.context.wrap_socket(raw, server_side=True) as sock:
                self.handler(sock, n)
        except (OSError, EOFError):
            pass
        except BaseException as e:
            self.errors.append(e)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)
        for thread in self.threads:
            thread.join(5)
        assert not self.errors, self.errors


class H2Peer:
    """A server-side h2 connection on a socket, for scripted servers."""

    def __init__(self, sock: Any, settings: dict[int, int] | None = None) -> None:
        self.sock = sock
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def events(self) -> list[Any]:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        events = self.conn.receive_data(data)
        self.flush()
        return list(events)

    def requests(self, count: int) -> list[Any]:
        """Wait for ``count`` complete requests; return their RequestReceived events."""
        received: dict[int, Any] = {}
        ended: set[int] = set()
        while len(ended) < count:
            for event in self.events():
                if isinstance(event, h2.events.RequestReceived):
                    received[event.stream_id] = event
                    if event.stream_ended is not None:
                        ended.add(event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended.add(event.stream_id)
                elif isinstance(event, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(
                        event.flow_controlled_length, event.stream_id
                    )
        return [received[sid] for sid in sorted(received)]

    def respond(self, streamID: int, body: bytes, extra: list[Any] | None = None) -> None:
        headers = [(b":status", b"200"), (b"content-length", b"%d" % len(body))]
        self.conn.send_headers(streamID, headers + (extra or []))
        self.conn.send_data(streamID, body, end_stream=True)
        self.flush()

    def drain(self) -> None:
        """Read until the client closes."""
        try:
            while True:
                self.events()
        except (EOFError, OSError, h2.exceptions.ProtocolError):
            pass


@pytest.fixture
def scripted(certs: dict[str, Any]) -> Iterator[Callable[[Callable[[Any, int], None]], Any]]:
    servers: list[ScriptedServer] = []

    def make(handler: Callable[[Any, int], None]) -> ScriptedServer:
        s = ScriptedServer(certs, handler)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def test_goAwayRetriesUnprocessedStreams(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        if n == 0:
            # Process the first stream only; the others are refused by GOAWAY.
            first = peer.requests(3)[0].stream_id
            peer.respond(first, b"first")
            peer.conn.close_connection(last_stream_id=first)
            peer.flush()
        else:
            (again,) = peer.requests(1)
            peer.respond(again.stream_id, b"again " + dict(again.headers)[b":path"])
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        ds = [agent.request(b"GET", srv.url(f"/{i}")) for i in range(2)]
        producer = BytesProducer(reactor, 10, 10)
        post = agent.request(b"POST", srv.url("/post"), None, producer)
        assert await readBody(await ds[0]) == b"first"
        # A GET without a body is retried on a new connection; the POST is not.
        assert await readBody(await ds[1]) == b"again /1"
        with pytest.raises(HTTP2RequestRefused, match="GOAWAY"):
            await post
        await pool.closeCachedConnections()

    run(reactor, main)
    assert srv.connections == 2


def test_refusedStreamRetried(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        (first,) = peer.requests(1)
        peer.conn.reset_stream(first.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
        peer.flush()
        (second,) = peer.requests(1)
        peer.respond(second.stream_id, b"second try")
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        response = await agent.request(b"GET", srv.url("/"))
        assert await readBody(response) == b"second try"
        await pool.closeCachedConnections()

    run(reactor, main)
    assert srv.connections == 1


def test_maxConcurrentStreamsRespected(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    seen: list[int] = []

    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock, {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2})
        (warm,) = peer.requests(1)
        peer.respond(warm.stream_id, b"warm")
        served = 0
        while served < 5:
            # h2 refuses a third concurrent stream itself (TooManyStreamsError).
            requests = peer.requests(min(2, 5 - served))
            seen.append(len(requests))
            for event in requests:
                peer.respond(event.stream_id, b"ok")
            served += len(requests)
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        # Let the server's SETTINGS arrive first.
        assert await readBody(await agent.request(b"GET", srv.url("/warm"))) == b"warm"
        ds = [agent.request(b"GET", srv.url(f"/{i}")) for i in range(5)]
        bodies = [await readBody(await d) for d in ds]
        assert bodies == [b"ok"] * 5
        await pool.closeCachedConnections()

    run(reactor, main)
    assert srv.connections == 1
    assert max(seen) <= 2


def test_responseHeadersTooLargeFailsThatStream(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        first, second = peer.requests(2)
        big = [(b"x-big-%d" % i, b"v" * 1000) for i in range(80)]  # ~ 80 KiB
        peer.conn.send_headers(first.stream_id, [(b":status", b"200"), *big])
        peer.flush()
        peer.respond(second.stream_id, b"fine")
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        first = agent.request(b"GET", srv.url("/big-headers"))
        second = agent.request(b"GET", srv.url("/fine"))
        with pytest.raises(ResponseFailed) as info:
            await first
        assert info.value.reasons[0].check(HTTP2HeadersTooLarge)
        assert await readBody(await second) == b"fine"
        await pool.closeCachedConnections()

    run(reactor, main)


def test_hugeHeaderBlockEndsTheConnection(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        first, second = peer.requests(2)
        peer.respond(second.stream_id, b"fine")
        huge = [(b"x-huge-%d" % i, b"v" * 4000) for i in range(80)]  # ~ 320 KiB
        peer.conn.send_headers(first.stream_id, [(b":status", b"200"), *huge])
        peer.flush()
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        first = agent.request(b"GET", srv.url("/huge"))
        second = agent.request(b"GET", srv.url("/fine"))
        assert await readBody(await second) == b"fine"
        with pytest.raises(ResponseNeverReceived) as info:
            await first
        error = info.value.reasons[0].value
        assert isinstance(error, HTTP2ProtocolError)
        assert "header" in str(error).lower()
        await pool.closeCachedConnections()

    run(reactor, main)


def test_garbageAfterPreface(run: Any, reactor: Any, certs: dict[str, Any], scripted: Any) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        peer.requests(1)
        sock.sendall(b"\x00\x00\x04\x09\x00\x00\x00\x00\x07garbage!" + b"\xff" * 100)
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        with pytest.raises(ResponseNeverReceived) as info:
            await agent.request(b"GET", srv.url("/"))
        assert info.value.reasons[0].check(HTTP2ProtocolError)
        await pool.closeCachedConnections()

    run(reactor, main)


def test_dataBeyondTheWindow(run: Any, reactor: Any, certs: dict[str, Any], scripted: Any) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        (request,) = peer.requests(1)
        sid = request.stream_id
        peer.conn.send_headers(sid, [(b":status", b"200")])
        peer.flush()
        # DATA frames written by hand, past the client's 256 KiB stream window.
        frame = b"d" * 16384
        header = len(frame).to_bytes(3, "big") + b"\x00\x00" + sid.to_bytes(4, "big")
        try:
            for _ in range(40):
                sock.sendall(header + frame)
        except OSError:
            return
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        response = await agent.request(b"GET", srv.url("/"))
        collector = Collector()
        response.deliverBody(collector)
        collector.transport.pauseProducing()  # no acknowledgements at all
        await collector.done
        assert collector.reason is not None
        assert collector.reason.check(ResponseFailed)
        inner = collector.reason.value.reasons[0]
        assert inner.check(HTTP2ProtocolError)
        assert inner.value.errorCode == h2.errors.ErrorCodes.FLOW_CONTROL_ERROR
        assert len(collector.data) <= 256 * 1024
        await pool.closeCachedConnections()

    run(reactor, main)


def test_connectionLostMidBody(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        (request,) = peer.requests(1)
        peer.conn.send_headers(request.stream_id, [(b":status", b"200")])
        peer.conn.send_data(request.stream_id, b"partial")
        peer.flush()
        sock.close()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        response = await agent.request(b"GET", srv.url("/"))
        with pytest.raises(ResponseFailed):
            await readBody(response)
        await pool.closeCachedConnections()

    run(reactor, main)


def test_goAwayWithErrorFailsStreams(
    run: Any, reactor: Any, certs: dict[str, Any], scripted: Any
) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        (request,) = peer.requests(1)
        peer.conn.close_connection(
            error_code=h2.errors.ErrorCodes.INTERNAL_ERROR, last_stream_id=request.stream_id
        )
        peer.flush()
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        with pytest.raises(ResponseNeverReceived) as info:
            await agent.request(b"POST", srv.url("/"))
        error = info.value.reasons[0].value
        assert isinstance(error, HTTP2ConnectionTerminated)
        assert error.errorCode == h2.errors.ErrorCodes.INTERNAL_ERROR
        await pool.closeCachedConnections()

    run(reactor, main)


def test_trailersAccepted(run: Any, reactor: Any, certs: dict[str, Any], scripted: Any) -> None:
    def handler(sock: Any, n: int) -> None:
        peer = H2Peer(sock)
        (request,) = peer.requests(1)
        peer.conn.send_headers(request.stream_id, [(b":status", b"200")])
        peer.conn.send_data(request.stream_id, b"body")
        peer.conn.send_headers(request.stream_id, [(b"x-checksum", b"abc")], end_stream=True)
        peer.flush()
        peer.drain()

    srv = scripted(handler)

    async def main() -> None:
        agent, pool = h2Agent(reactor, certs)
        response = await agent.request(b"GET", srv.url("/"))
        assert await readBody(response) == b"body"
        await pool.closeCachedConnections()

    run(reactor, main)


# -- the adapter in memory -----------------------------------------------------------


class MemoryPair:
    """An H2ClientProtocol on a StringTransport, and an h2 server connection."""

    def __init__(self) -> None:
        self.quiet: list[Any] = []
        self.client = H2ClientProtocol(self.quiet.append)
        self.transport = StringTransport()
        self.client.makeConnection(self.transport)
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.server = h2.connection.H2Connection(config=config)
        self.server.initiate_connection()

    def toServer(self) -> list[Any]:
        data = self.transport.value()
        self.transport.clear()
        return list(self.server.receive_data(data)) if data else []

    def toClient(self, byteAtATime: bool = False) -> None:
        data = self.server.data_to_send()
        if byteAtATime:
            for i in range(len(data)):
                self.client.dataReceived(data[i : i + 1])
        else:
            self.client.dataReceived(data)


def getRequest(path: bytes = b"/", method: bytes = b"GET", producer: Any = None) -> Request:
    headers = Headers({b"Host": [b"example.com"], b"Connection": [b"close"]})
    return Request(method, path, headers, producer, True, b"https://example.com" + path)


@pytest.mark.parametrize("byteAtATime", [False, True])
def test_memoryRequestResponse(byteAtATime: bool) -> None:
    pair = MemoryPair()
    d = pair.client.request(getRequest(b"/a?b"))
    events = pair.toServer()
    received = [e for e in events if isinstance(e, h2.events.RequestReceived)]
    assert len(received) == 1
    fields = dict(received[0].headers)
    assert fields[b":authority"] == b"example.com"
    assert fields[b":path"] == b"/a?b"
    assert fields[b":scheme"] == b"https"
    assert b"connection" not in fields
    assert b"host" not in fields
    sid = received[0].stream_id
    pair.server.send_headers(sid, [(b":status", b"201"), (b"x-a", b"1")])
    pair.server.send_data(sid, b"hello")
    pair.server.send_headers(sid, [(b"x-trailer", b"t")], end_stream=True)
    pair.toClient(byteAtATime)
    results: list[Any] = []
    d.addBoth(results.append)
    response = results[0]
    assert response.code == 201
    assert response.headers.getRawHeaders(b"x-a") == [b"1"]
    collector = Collector()
    response.deliverBody(collector)
    assert bytes(collector.data) == b"hello"
    assert collector.reason is not None
    assert collector.reason.check(ResponseDone)
    assert pair.quiet == [pair.client]


def test_memoryWrongBodyLength() -> None:
    pair = MemoryPair()

    class Short:
        length = 10

        def startProducing(self, consumer: Any) -> Deferred[None]:
            consumer.write(b"abc")
            d: Deferred[None] = Deferred()
            d.callback(None)
            return d

        def stopProducing(self) -> None:
            pass

        def pauseProducing(self) -> None:
            pass

        def resumeProducing(self) -> None:
            pass

    results: list[Any] = []
    pair.client.request(getRequest(b"/", b"POST", Short())).addBoth(results.append)
    assert isinstance(results[0], Failure)
    assert results[0].check(RequestGenerationFailed)
    events = pair.toServer()
    assert any(isinstance(e, h2.events.StreamReset) for e in events)


frameish = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"\x00\x00\x00\x04\x00\x00\x00\x00\x00",  # SETTINGS
            b"\x00\x00\x00\x04\x01\x00\x00\x00\x00",  # SETTINGS ACK
            b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"pingping",
            b"\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x08",  # RST_STREAM 1
            b"\x00\x00\x05\x00\x01\x00\x00\x00\x01hello",  # DATA 1 END_STREAM
            b"\x00\x00\x01\x01\x04\x00\x00\x00\x01\x88",  # HEADERS 1 :status 200
            b"\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
        ]
    ),
)


@given(st.lists(frameish, max_size=10), st.booleans())
@settings(max_examples=150, deadline=None)
def test_memoryFuzzServerBytes(pieces: list[bytes], lose: bool) -> None:
    """Whatever a server sends, requests end in a response or the ResponseFailed family."""
    pair = MemoryPair()
    outcome: list[Any] = []
    pair.client.request(getRequest()).addBoth(outcome.append)
    collector = Collector()
    for piece in pieces:
        pair.client.dataReceived(piece)
        if outcome and not isinstance(outcome[0], Failure) and collector.transport is None:
            outcome[0].deliverBody(collector)
    if lose or pair.transport.disconnecting:
        pair.client.connectionLost(Failure(ConnectionError("gone")))
        assert outcome
    if outcome and isinstance(outcome[0], Failure):
        assert outcome[0].check(ResponseFailed, HTTP2RequestRefused)
    if collector.reason is not None:
        assert collector.reason.check(ResponseDone, ResponseFailed)
