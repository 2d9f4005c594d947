"""
fw.web's HTTP/2 server (fw.web._http2) on 127.0.0.1 against independent
clients: curl (h2c prior knowledge, and TLS with ALPN), httpx, nghttp/h2load
when installed, and a raw client on the ``h2`` library for flow control and
the abuse limits (too many streams, rapid reset, PING flood, oversized
headers, CONTINUATION flood, garbage, byte-at-a-time).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("h2")

import h2.config
import h2.connection
import h2.events
import h2.settings
from hyperframe.frame import ContinuationFrame, HeadersFrame

from fw.web import server, static
from fw.web.resource import Resource
from fw.web.test._streaming import Hang, Pusher, SlowUpload
from fw.web.test._threadedsite import ServerThread

pytestmark = pytest.mark.timeout(60)

BIG = bytes(range(256)) * 4096  # 1 MiB


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"x-proto", request.clientproto)
        query: bytes = request.args.get(b"q", [b"-"])[0]
        path: bytes = request.path
        return b"hello " + path + b" " + query

    def render_POST(self, request: Any) -> bytes:
        data = request.content.read()
        return b"got %d %s" % (len(data), request.getHeader(b"content-type") or b"-")


class H2Site(ServerThread):
    """fw's Site for these tests, on 127.0.0.1 (plain, or TLS with ALPN), in a thread."""

    def __init__(self, tls: Any = None) -> None:
        super().__init__(self.makeTree, tls)
        self.state: dict[str, Any] = {}
        self.directory = tempfile.mkdtemp()
        with open(os.path.join(self.directory, "big.bin"), "wb") as f:
            f.write(BIG)

    def makeTree(self, reactor: Any) -> Resource:
        root = Resource()
        root.putChild(b"hello", Hello())
        root.putChild(b"hang", Hang(self.state))
        root.putChild(b"upload", SlowUpload(reactor, pause=0.5))
        root.putChild(b"push", Pusher(reactor, self.state))
        root.putChild(b"big", static.Data(BIG, "application/octet-stream"))
        root.putChild(b"files", static.File(self.directory))
        return root

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            shutil.rmtree(self.directory)


@pytest.fixture(name="site")
def siteFixture() -> Iterator[H2Site]:
    with H2Site() as s:
        yield s


@pytest.fixture(name="certs")
def certsFixture(tmp_path: Any) -> dict[str, Any]:
    from fw.internet import ssl

    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="h2 test CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    (tmp_path / "ca.pem").write_bytes(ca.dump(ssl.FILETYPE_PEM))
    options = ssl.CertificateOptions(
        privateKey=key.original,
        certificate=cert.original,
        acceptableProtocols=[b"h2", b"http/1.1"],
    )
    return {"options": options, "ca": str(tmp_path / "ca.pem")}


# -- a raw client on the h2 library ------------------------------------------


class RawClient:
    def __init__(self, port: int, settings: dict[Any, int] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.terminated: Any = None

    def close(self) -> None:
        self.sock.close()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def headers(self, path: str, method: str = "GET") -> list[tuple[bytes, bytes]]:
        return [
            (b":method", method.encode()),
            (b":path", path.encode()),
            (b":scheme", b"http"),
            (b":authority", b"127.0.0.1"),
        ]

    def get(self, path: str) -> int:
        sid: int = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, self.headers(path), end_stream=True)
        self.flush()
        return sid

    def read(self) -> list[Any] | None:
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return None
        if not data:
            return None
        events = self.conn.receive_data(data)
        for event in events:
            if isinstance(event, h2.events.ConnectionTerminated):
                self.terminated = event
        self.flush()
        return list(events)

    def responses(self, sids: list[int], ack: bool = True) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {sid: {"body": b"", "headers": {}} for sid in sids}
        open_ = set(sids)
        while open_:
            events = self.read()
            assert events is not None, "connection closed"
            for event in events:
                sid = getattr(event, "stream_id", None)
                if sid not in out:
                    continue
                if isinstance(event, h2.events.ResponseReceived):
                    out[sid]["headers"] = dict(event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    out[sid]["body"] += event.data
                    if ack:
                        self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
                elif isinstance(event, h2.events.StreamEnded):
                    open_.discard(sid)
                elif isinstance(event, h2.events.StreamReset):
                    out[sid]["reset"] = event.error_code
                    open_.discard(sid)
            self.flush()
        return out

    def untilClosed(self) -> Any:
        """Read until the server closes; return its GOAWAY (or ``None``)."""
        while True:
            try:
                events = self.read()
            except h2.exceptions.ProtocolError:
                continue
            if events is None:
                return self.terminated


# -- real clients -----------------------------------------------------------------


def test_curlPriorKnowledgeH2c(site: H2Site, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    base = f"http://127.0.0.1:{site.portNumber}"
    result = subprocess.run(
        [curl, "-sS", "--http2-prior-knowledge", "-D", "-", f"{base}/hello?q=1"],
        capture_output=True,
        timeout=20,
        check=True,
    )
    assert result.stdout.startswith(b"HTTP/2 200")
    assert b"x-proto: HTTP/2" in result.stdout
    assert result.stdout.endswith(b"hello /hello 1")
    big = subprocess.run(
        [curl, "-sS", "--http2-prior-knowledge", f"{base}/big"],
        capture_output=True,
        timeout=20,
        check=True,
    )
    assert big.stdout == BIG
    body = b"a" * 300000
    post = subprocess.run(
        [curl, "-sS", "--http2-prior-knowledge", "--data-binary", "@-", f"{base}/hello"],
        input=body,
        capture_output=True,
        timeout=20,
        check=True,
    )
    assert post.stdout == b"got 300000 application/x-www-form-urlencoded"
    # HTTP/1.1 still works on the same port.
    plain = subprocess.run(
        [curl, "-sS", "--http1.1", f"{base}/hello"], capture_output=True, timeout=20, check=True
    )
    assert plain.stdout == b"hello /hello -"


def test_curlOverTLSWithALPN(certs: dict[str, Any], requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    with H2Site(tls=certs["options"]) as site:
        url = f"https://localhost:{site.portNumber}/hello"
        resolve = f"localhost:{site.portNumber}:127.0.0.1"
        for flag, version in (("--http2", b"2"), ("--http1.1", b"1.1")):
            args = [curl, "-sS", flag, "--cacert", certs["ca"], "--resolve", resolve]
            args.extend(["-w", " %{http_version}", url])
            result = subprocess.run(
                args,
                capture_output=True,
                timeout=20,
                check=True,
            )
            assert result.stdout == b"hello /hello - " + version


def test_httpxOverTLS(certs: dict[str, Any]) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    import ssl as stdlibSSL

    with H2Site(tls=certs["options"]) as site:
        context = stdlibSSL.create_default_context(cafile=certs["ca"])
        base = f"https://localhost:{site.portNumber}"
        with httpx.Client(http2=True, verify=context, timeout=10) as client:
            for i in range(5):
                response = client.get(f"{base}/hello", params={"q": str(i)})
                assert response.http_version == "HTTP/2"
                assert response.content == b"hello /hello %d" % i
            response = client.post(f"{base}/hello", content=b"x" * 1000)
            assert response.content == b"got 1000 -"
            assert client.get(f"{base}/big").content == BIG
            assert client.get(f"{base}/nothing").status_code == 404


def test_h2loadManyStreams(site: H2Site, requirePeer: Callable[[str], str]) -> None:
    h2load = requirePeer("h2load")
    result = subprocess.run(
        [h2load, "-n", "400", "-c", "2", "-m", "20", f"http://127.0.0.1:{site.portNumber}/hello"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    out = result.stdout.decode()
    assert "400 succeeded, 0 failed, 0 errored" in out, out


def test_nghttp(site: H2Site, requirePeer: Callable[[str], str]) -> None:
    nghttp = requirePeer("nghttp")
    result = subprocess.run(
        [nghttp, f"http://127.0.0.1:{site.portNumber}/big"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    assert result.stdout == BIG


# -- raw h2 client: protocol behaviour ----------------------------------------------


def test_multiplexedStreams(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        sids = [client.get(f"/hello?q={i}") for i in range(30)]
        responses = client.responses(sids)
        for i, sid in enumerate(sids):
            assert responses[sid]["headers"][b":status"] == b"200"
            assert responses[sid]["body"] == b"hello /hello %d" % i
        assert client.conn.remote_settings.max_concurrent_streams == 100
        assert client.conn.remote_settings.enable_push == 0
    finally:
        client.close()


def test_smallWindowFlowControl(site: H2Site) -> None:
    """The server never exceeds a 1000-byte window (h2 would raise if it did)."""
    settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000}
    client = RawClient(site.portNumber, settings)
    try:
        sids = [client.get("/big"), client.get("/files/big.bin")]
        responses = client.responses(sids)
        for sid in sids:
            assert responses[sid]["body"] == BIG
    finally:
        client.close()


def test_slowReaderPausesProducer(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        sid = client.get("/push")
        received = 0
        # Read without acknowledging: at most the 65535-byte initial window arrives.
        client.sock.settimeout(0.5)
        try:
            while True:
                events = client.read()
                assert events is not None
                for event in events:
                    if isinstance(event, h2.events.DataReceived):
                        received += len(event.data)
        except TimeoutError:
            pass
        assert received == 65535
        assert site.state["paused"] is True
        assert site.state["sent"] < 4 * 1024 * 1024
        client.sock.settimeout(10)
        client.conn.acknowledge_received_data(received, sid)
        client.flush()
        rest = client.responses([sid])[sid]
        assert received + len(rest["body"]) == 4 * 1024 * 1024
        assert site.state["pauses"] >= 1
    finally:
        client.close()


def test_slowConsumerHoldsTheUploadBack(site: H2Site) -> None:
    """A paused request body reopens no window: the client must wait."""
    client = RawClient(site.portNumber)
    try:
        client.conn.send_headers(1, client.headers("/upload", "POST"))
        client.flush()
        body = 300000
        sent = 0
        start = time.monotonic()
        firstWait = None
        while sent < body:
            window = client.conn.local_flow_control_window(1)
            if window > 0:
                size = min(window, 16384, body - sent)
                client.conn.send_data(1, b"u" * size, end_stream=sent + size == body)
                client.flush()
                sent += size
                continue
            if firstWait is None:
                firstWait = time.monotonic()
            assert client.read() is not None
        assert firstWait is not None
        assert firstWait - start < 0.3
        assert time.monotonic() - firstWait >= 0.4
        response = client.responses([1])[1]
        assert response["body"] == b"got 300000"
    finally:
        client.close()


def test_byteAtATime(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        client.conn.send_headers(1, client.headers("/hello?q=b"), end_stream=True)
        data = client.conn.data_to_send()
        for i in range(len(data)):
            client.sock.sendall(data[i : i + 1])
        assert client.responses([1])[1]["body"] == b"hello /hello b"
    finally:
        client.close()


def test_prefaceByteAtATime(site: H2Site) -> None:
    sock = socket.create_connection(("127.0.0.1", site.portNumber), timeout=10)
    try:
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        conn = h2.connection.H2Connection(config=config)
        conn.initiate_connection()
        conn.send_headers(1, RawClient.headers(None, "/hello"), end_stream=True)  # type: ignore[arg-type]
        for byte in conn.data_to_send():
            sock.sendall(bytes([byte]))
        body = b""
        while not body.endswith(b"hello /hello -"):
            data = sock.recv(65536)
            assert data
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    body += event.data
    finally:
        sock.close()


def test_requestBodyTooLarge() -> None:
    with H2Site() as site:
        site.site.maxRequestBodySize = 1000
        client = RawClient(site.portNumber)
        try:
            client.conn.send_headers(1, client.headers("/hello", "POST"))
            client.conn.send_data(1, b"x" * 5000, end_stream=True)
            client.flush()
            response = client.responses([1])[1]
            assert response["headers"][b":status"] == b"413"
            # The connection is still usable.
            sid = client.get("/hello")
            assert client.responses([sid])[sid]["body"] == b"hello /hello -"
        finally:
            client.close()


# -- abuse -----------------------------------------------------------------------


def test_tooManyConcurrentStreams(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        # Sent before the server's SETTINGS are read, so the client does not self-limit.
        for i in range(101):
            if i == 100:
                # Let the server take the first 100 in (they hang, open).
                client.flush()
                threading.Event().wait(0.3)
            sid = client.conn.get_next_available_stream_id()
            client.conn.send_headers(sid, client.headers("/hang"), end_stream=True)
        client.flush()
        goaway = client.untilClosed()
        assert goaway is not None
        assert goaway.error_code == h2.errors.ErrorCodes.PROTOCOL_ERROR
    finally:
        client.close()
    # Every hanging request heard that its connection went away.
    deadline = 50
    while site.state.get("lost", 0) < 100 and deadline:
        threading.Event().wait(0.1)
        deadline -= 1
    assert site.state.get("lost") == 100


def test_rapidReset(site: H2Site) -> None:
    """CVE-2023-44487: HEADERS then RST_STREAM, over and over, gets ENHANCE_YOUR_CALM."""
    client = RawClient(site.portNumber)
    try:
        for _ in range(400):
            sid = client.conn.get_next_available_stream_id()
            client.conn.send_headers(sid, client.headers("/hang"), end_stream=True)
            client.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        client.flush()
        goaway = client.untilClosed()
        assert goaway is not None
        assert goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    finally:
        client.close()


def test_aFewResetsAreFine(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        for _ in range(20):
            sid = client.get("/hang")
            client.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        sid = client.get("/hello")
        assert client.responses([sid])[sid]["body"] == b"hello /hello -"
    finally:
        client.close()


def test_pingFlood(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        for i in range(1000):
            client.conn.ping(i.to_bytes(8, "big"))
        client.flush()
        goaway = client.untilClosed()
        assert goaway is not None
        assert goaway.error_code == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM
    finally:
        client.close()


def test_oversizedHeaderList(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        headers = client.headers("/hello") + [(b"x-big-%d" % i, b"v" * 4000) for i in range(40)]
        client.conn.send_headers(1, headers, end_stream=True)
        client.flush()
        goaway = client.untilClosed()
        assert goaway is not None
        assert goaway.error_code != h2.errors.ErrorCodes.NO_ERROR
    finally:
        client.close()


def test_continuationFlood(site: H2Site) -> None:
    client = RawClient(site.portNumber)
    try:
        head = HeadersFrame(1)
        head.data = client.conn.encoder.encode(client.headers("/hello"))
        head.flags.add("END_STREAM")
        frames = [head.serialize()]
        for _ in range(200):
            cont = ContinuationFrame(1)
            cont.data = b"\x00" * 0  # empty fragments: cheap to send, costly to buffer
            frames.append(cont.serialize())
        client.sock.sendall(b"".join(frames))
        goaway = client.untilClosed()
        assert goaway is not None
        assert goaway.error_code != h2.errors.ErrorCodes.NO_ERROR
    finally:
        client.close()


def test_garbageAfterPreface(site: H2Site) -> None:
    sock = socket.create_connection(("127.0.0.1", site.portNumber), timeout=10)
    try:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        # SETTINGS first, then a GOAWAY (type 7).
        assert b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" in data
    finally:
        sock.close()
    # The server is still serving.
    client = RawClient(site.portNumber)
    try:
        sid = client.get("/hello")
        assert client.responses([sid])[sid]["body"] == b"hello /hello -"
    finally:
        client.close()


def test_truncatedPreface(site: H2Site) -> None:
    sock = socket.create_connection(("127.0.0.1", site.portNumber), timeout=10)
    sock.sendall(b"PRI * HTTP/2")
    sock.close()
    client = RawClient(site.portNumber)
    try:
        sid = client.get("/hello")
        assert client.responses([sid])[sid]["body"] == b"hello /hello -"
    finally:
        client.close()


# -- sans-IO: the channel over a fake transport, no sockets ---------------------------


def memoryChannel() -> tuple[Any, Any, Any]:
    from fw.internet.testing import MemoryReactorClock, StringTransport

    clock = MemoryReactorClock()
    root = Resource()
    root.putChild(b"hello", Hello())
    site = server.Site(root, reactor=clock)
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport, clock


def clientBytes(path: str = "/hello") -> bytes:
    config = h2.config.H2Configuration(client_side=True, header_encoding=None)
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    conn.send_headers(1, RawClient.headers(None, path), end_stream=True)  # type: ignore[arg-type]
    return bytes(conn.data_to_send())


def test_memoryRequestAndIdleTimeout() -> None:
    channel, transport, clock = memoryChannel()
    channel.dataReceived(clientBytes())
    config = h2.config.H2Configuration(client_side=True, header_encoding=None)
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    conn.send_headers(1, RawClient.headers(None, "/hello"), end_stream=True)  # type: ignore[arg-type]
    seen = len(transport.value())
    events = conn.receive_data(transport.value())
    body = b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived))
    assert body == b"hello /hello -"
    assert not transport.disconnecting
    clock.advance(channel.timeOut + 1)
    assert transport.disconnecting
    last = conn.receive_data(transport.value()[seen:])
    assert any(isinstance(e, h2.events.ConnectionTerminated) for e in last)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=40))
def test_fuzzNeverCrashes(garbage: bytes, split: int) -> None:
    """Random bytes after a valid start: an answer or a GOAWAY, never an exception."""
    channel, transport, _ = memoryChannel()
    data = clientBytes() + garbage
    for i in range(0, len(data), split):
        channel.dataReceived(data[i : i + split])
    channel.connectionLost(None)
    assert transport.value().startswith(b"\x00\x00")  # our SETTINGS frame first
