"""
fw.web.websocket on 127.0.0.1 against an independent implementation (the
``websockets`` library) both ways, plus raw-socket tests for byte-at-a-time
input, oversized messages, invalid UTF-8, bad handshakes and back-pressure.
"""

from __future__ import annotations

import base64
import os
import queue
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest

from fw.internet.defer import Deferred
from fw.internet.epollreactor import EPollReactor
from fw.python.failure import Failure
from fw.web import resource, server
from fw.web.websocket import (
    HandshakeError,
    WebSocketProtocol,
    WebSocketResource,
    connectWebSocket,
)

websockets = pytest.importorskip("websockets")
from websockets.sync.client import connect as wsConnect  # noqa: E402
from websockets.sync.server import serve as wsServe  # noqa: E402

pytestmark = pytest.mark.timeout(30)


class Echo(WebSocketProtocol):
    lost: ClassVar[list[tuple[int | None, str]]] = []

    def messageReceived(self, data: str | bytes, isBinary: bool) -> None:
        if data == "close-me":
            self.close(4000, "asked")
        else:
            self.sendMessage(data)

    def connectionLost(self, reason: Failure) -> None:
        Echo.lost.append((self.closeCode, self.closeReason))


class Flood(WebSocketProtocol):
    """Streams 64 KiB messages while the transport lets it (a push producer)."""

    instances: ClassVar[list[Flood]] = []

    def connectionMade(self) -> None:
        self.paused = 0
        self.sent = 0
        self.running = True
        Flood.instances.append(self)
        self.transport.registerProducer(self, True)
        self._reactor.callLater(0, self.resumeProducing)

    def pauseProducing(self) -> None:
        self.paused += 1
        self.running = False

    def resumeProducing(self) -> None:
        self.running = True
        while self.running and self.sent < 400 and self.transport is not None:
            self.sendMessage(b"x" * 65536)
            self.sent += 1
        if self.sent >= 400 and self.transport is not None:
            self.transport.unregisterProducer()
            self.close()

    def stopProducing(self) -> None:
        self.running = False


class KeepAlive(Echo):
    autoPingInterval = 0.1
    instances: ClassVar[list[KeepAlive]] = []

    def connectionMade(self) -> None:
        self.pongs = 0
        KeepAlive.instances.append(self)

    def pongReceived(self, payload: bytes) -> None:
        self.pongs += 1


class ServerThread:
    def __init__(self) -> None:
        self.reactor = EPollReactor()

    def __enter__(self) -> ServerThread:
        ready = threading.Event()

        def setup() -> None:
            root = resource.Resource()
            r = self.reactor
            root.putChild(b"echo", WebSocketResource(Echo, reactor=r))
            root.putChild(b"chat", WebSocketResource(Echo, subprotocols=["v2", "v1"], reactor=r))
            root.putChild(b"small", WebSocketResource(Echo, maxMessageSize=1000, reactor=r))
            root.putChild(
                b"strict",
                WebSocketResource(Echo, checkOrigin=lambda req, o: o == "https://ok", reactor=r),
            )
            root.putChild(b"flood", WebSocketResource(Flood, reactor=r))
            root.putChild(b"keepalive", WebSocketResource(KeepAlive, reactor=r))
            self.port = self.reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
            ready.set()

        self.reactor.callWhenRunning(setup)
        self.thread = threading.Thread(
            target=self.reactor.run, kwargs={"installSignalHandlers": False}
        )
        self.thread.start()
        assert ready.wait(10)
        return self

    @property
    def portNumber(self) -> int:
        return int(self.port.getHost().port)

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.portNumber}{path}"

    def call(self, fn: Callable[[], Deferred[Any]], timeout: float = 10) -> Any:
        """Run ``fn`` in the reactor thread; return its Deferred's result."""
        out: queue.Queue[tuple[bool, Any]] = queue.Queue()

        def run() -> None:
            d = fn()
            d.addCallbacks(lambda r: out.put((True, r)), lambda f: out.put((False, f)))

        self.reactor.callFromThread(run)
        ok, value = out.get(timeout=timeout)
        if not ok:
            value.raiseException()
        return value

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self.port.stopListening()
            self.reactor.stop()

        self.reactor.callFromThread(stop)
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def srv() -> Iterator[ServerThread]:
    Echo.lost = []
    Flood.instances = []
    KeepAlive.instances = []
    with ServerThread() as s:
        yield s


# -- websockets client -> fw server -------------------------------------------


def test_websocketsClientEcho(srv: ServerThread) -> None:
    with wsConnect(srv.url("/echo"), open_timeout=5, close_timeout=5) as ws:
        ws.send("héllo")
        assert ws.recv(timeout=5) == "héllo"
        ws.send(b"\x00\xff")
        assert ws.recv(timeout=5) == b"\x00\xff"
        ws.send(["frag", "mented"])  # one message in several frames
        assert ws.recv(timeout=5) == "fragmented"
        big = os.urandom(300_000)
        ws.send(big)
        assert ws.recv(timeout=5) == big
        assert ws.ping(b"hi").wait(5)
    assert ws.close_code == 1000


def test_serverInitiatedClose(srv: ServerThread) -> None:
    with wsConnect(srv.url("/echo"), open_timeout=5, close_timeout=5) as ws:
        ws.send("close-me")
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            ws.recv(timeout=5)
    assert ws.close_code == 4000
    assert ws.close_reason == "asked"


def test_subprotocolNegotiation(srv: ServerThread) -> None:
    with wsConnect(srv.url("/chat"), subprotocols=["v1", "v2"], open_timeout=5) as ws:
        assert ws.subprotocol == "v2"
    with wsConnect(srv.url("/chat"), subprotocols=["v1"], open_timeout=5) as ws:
        assert ws.subprotocol == "v1"


def test_tooBigClosesWith1009(srv: ServerThread) -> None:
    with wsConnect(srv.url("/small"), open_timeout=5, close_timeout=5) as ws:
        ws.send(b"y" * 900)
        assert ws.recv(timeout=5) == b"y" * 900
        ws.send(b"y" * 1001)
        with pytest.raises(websockets.exceptions.ConnectionClosedError):
            ws.recv(timeout=5)
    assert ws.protocol.close_rcvd is not None
    assert ws.protocol.close_rcvd.code == 1009


def test_originCheck(srv: ServerThread) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus) as info:
        wsConnect(srv.url("/strict"), origin="https://evil", open_timeout=5)
    assert info.value.response.status_code == 403
    with wsConnect(srv.url("/strict"), origin="https://ok", open_timeout=5) as ws:
        ws.send("ok")
        assert ws.recv(timeout=5) == "ok"
    # The default check refuses a cross-origin browser.
    with pytest.raises(websockets.exceptions.InvalidStatus):
        wsConnect(srv.url("/echo"), origin="http://elsewhere.example", open_timeout=5)
    with wsConnect(
        srv.url("/echo"), origin=f"http://127.0.0.1:{srv.portNumber}", open_timeout=5
    ) as ws:
        ws.send("same")
        assert ws.recv(timeout=5) == "same"


def test_keepAlivePings(srv: ServerThread) -> None:
    with wsConnect(srv.url("/keepalive"), open_timeout=5, close_timeout=5) as ws:
        # websockets answers pings by itself while we wait on recv.
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"
    assert KeepAlive.instances[0].pongs >= 2


def test_keepAliveDropsSilentPeer(srv: ServerThread) -> None:
    sock, _ = rawConnect(srv, "/keepalive")
    opcode, payload = readFrame(sock)  # a ping we never answer
    assert (opcode, payload) == (9, b"fw-keepalive")
    rest = b""
    try:
        while chunk := sock.recv(4096):
            rest += chunk
    except ConnectionResetError:
        pass
    sock.close()
    for _ in range(100):
        if Echo.lost:
            break
        threading.Event().wait(0.05)
    assert Echo.lost == [(1006, "")]


# -- raw sockets ----------------------------------------------------------------


def rawConnect(
    srv: ServerThread, path: str = "/echo", extra: bytes = b""
) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", srv.portNumber), timeout=5)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n" + extra
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, head
        head += chunk
    return sock, head


def clientFrame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0xFE]) + struct.pack("!H", n)
    else:
        head += bytes([0xFF]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def readFrame(sock: socket.socket) -> tuple[int, bytes]:
    def exact(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            assert chunk, "connection closed mid-frame"
            buf += chunk
        return buf

    b0, b1 = exact(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", exact(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", exact(8))
    return b0 & 0x0F, exact(n)


def test_byteAtATime(srv: ServerThread) -> None:
    sock = socket.create_connection(("127.0.0.1", srv.portNumber), timeout=5)
    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    request = (
        b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    data = request + clientFrame(1, b"slow", fin=False) + clientFrame(0, b"ly")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(data)):
        sock.send(data[i : i + 1])
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert readFrame(sock) == (1, b"slowly")
    sock.close()


def test_framesPipelinedWithHandshake(srv: ServerThread) -> None:
    sock, head = rawConnect(srv, extra=clientFrame(2, b"early"))
    assert head.startswith(b"HTTP/1.1 101 ")
    assert readFrame(sock) == (2, b"early")
    sock.close()


def test_invalidUtf8Closes1007(srv: ServerThread) -> None:
    sock, _ = rawConnect(srv)
    sock.sendall(clientFrame(1, b"bad \xff text"))
    opcode, payload = readFrame(sock)
    assert opcode == 8
    assert struct.unpack("!H", payload[:2])[0] == 1007
    assert sock.recv(10) == b""  # then the server drops the connection
    sock.close()


def test_protocolErrorCloses1002(srv: ServerThread) -> None:
    sock, _ = rawConnect(srv)
    sock.sendall(b"\x81\x02hi")  # unmasked frame from a client
    opcode, payload = readFrame(sock)
    assert opcode == 8
    assert struct.unpack("!H", payload[:2])[0] == 1002
    assert sock.recv(10) == b""
    sock.close()


def test_hugeFrameHeader1009(srv: ServerThread) -> None:
    sock, _ = rawConnect(srv, "/small")
    sock.sendall(b"\x82\xff" + struct.pack("!Q", 1 << 50) + b"mask" + b"z" * 5000)
    opcode, payload = readFrame(sock)
    assert opcode == 8
    assert struct.unpack("!H", payload[:2])[0] == 1009
    sock.close()


def test_abruptDisconnectGives1006(srv: ServerThread) -> None:
    sock, _ = rawConnect(srv)
    sock.close()
    for _ in range(100):
        if Echo.lost:
            break
        threading.Event().wait(0.05)
    assert Echo.lost == [(1006, "")]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (
            (
                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                b"dGhlIHNhbXBsZSBub25jZQ==\r\n"
            ),
            426,
        ),
        (
            (
                b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                b"dGhlIHNhbXBsZSBub25jZQ==\r\n"
            ),
            400,
        ),
        (
            (
                b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 7\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            ),
            426,
        ),
        (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", 400),
        (
            (
                b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Key: tooshort\r\n"
            ),
            400,
        ),
    ],
)
def test_badHandshakes(srv: ServerThread, headers: bytes, status: int) -> None:
    sock = socket.create_connection(("127.0.0.1", srv.portNumber), timeout=5)
    sock.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 %d " % status), answer
    if status == 426:
        assert b"sec-websocket-version: 13" in answer.lower()
    sock.close()


def test_backPressure(srv: ServerThread) -> None:
    sock, _ = rawConnect(srv, "/flood")
    # Do not read for a while: the server's transport buffer fills and the
    # producer must be paused rather than buffering all 25 MiB.
    for _ in range(100):
        if Flood.instances and Flood.instances[0].paused:
            break
        threading.Event().wait(0.05)
    flood = Flood.instances[0]
    assert flood.paused >= 1
    assert flood.sent < 400
    # Now read everything: the producer resumes and finishes.
    total = 0
    while True:
        opcode, _payload = readFrame(sock)
        if opcode == 8:
            break
        total += 1
    assert total == 400
    sock.close()


# -- fw client --------------------------------------------------------------------


class Collect(WebSocketProtocol):
    def connectionMade(self) -> None:
        self.received: list[str | bytes] = []
        self.waiting: Deferred[str | bytes] | None = None
        self.closed: Deferred[int | None] = Deferred()

    def messageReceived(self, data: str | bytes, isBinary: bool) -> None:
        d, self.waiting = self.waiting, None
        if d is not None:
            d.callback(data)
        else:
            self.received.append(data)

    def next(self) -> Deferred[str | bytes]:
        if self.received:
            from fw.internet.defer import succeed

            return succeed(self.received.pop(0))
        self.waiting = Deferred()
        return self.waiting

    def connectionLost(self, reason: Failure) -> None:
        self.closed.callback(self.closeCode)


def roundTrip(srv: ServerThread, url: str, **kw: Any) -> tuple[list[Any], int | None, Any]:
    """Connect with fw's client, send three messages, close; return what came back."""
    results: list[Any] = []

    def go() -> Deferred[Any]:
        async def flow() -> Any:
            proto = await connectWebSocket(srv.reactor, url, Collect, **kw)
            assert isinstance(proto, Collect)
            proto.sendMessage("text ✓")
            results.append(await proto.next())
            proto.sendMessage(b"\x00bin")
            results.append(await proto.next())
            proto.sendMessage(os.urandom(1) * 200_000)
            results.append(len(await proto.next()))
            proto.close(1000, "bye")
            code = await proto.closed
            return code, proto.subprotocol

        return Deferred.fromCoroutine(flow())

    code, sub = srv.call(go)
    return results, code, sub


def test_fwClientFwServer(srv: ServerThread) -> None:
    results, code, sub = roundTrip(srv, srv.url("/chat"), subprotocols=["v1"])
    assert results == ["text ✓", b"\x00bin", 200_000]
    assert code == 1000
    assert sub == "v1"


@pytest.fixture
def wsServer() -> Iterator[int]:
    def handler(conn: Any) -> None:
        for message in conn:
            conn.send(message)

    with wsServe(handler, "127.0.0.1", 0, subprotocols=["v1"]) as s:
        t = threading.Thread(target=s.serve_forever)
        t.start()
        try:
            yield s.socket.getsockname()[1]
        finally:
            s.shutdown()
            t.join(10)


def test_fwClientWebsocketsServer(srv: ServerThread, wsServer: int) -> None:
    results, code, sub = roundTrip(srv, f"ws://127.0.0.1:{wsServer}/", subprotocols=["v1"])
    assert results == ["text ✓", b"\x00bin", 200_000]
    assert code == 1000
    assert sub == "v1"


def test_fwClientRejected(srv: ServerThread) -> None:
    with pytest.raises(HandshakeError) as info:
        srv.call(lambda: connectWebSocket(srv.reactor, srv.url("/strict"), Collect, origin="x"))
    assert info.value.status == 403


def test_fwClientNotWebSocket(srv: ServerThread) -> None:
    with pytest.raises(HandshakeError) as info:
        srv.call(lambda: connectWebSocket(srv.reactor, srv.url("/missing"), Collect))
    assert info.value.status == 404


def test_fwClientRefused(srv: ServerThread) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(Exception, match=r"(?i)refused"):
        srv.call(lambda: connectWebSocket(srv.reactor, f"ws://127.0.0.1:{port}/", Collect))


# -- wss:// ----------------------------------------------------------------------


def makeCA(tmp: Any) -> tuple[bytes, str, str]:
    """A throwaway CA and a 127.0.0.1 certificate it signs (CA PEM, cert path, key path)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    end = start + datetime.timedelta(days=2)
    caKey, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(name("ws CA"), name("ws CA"), caKey.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(caKey, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder(name("ws CA"), name("127.0.0.1"), key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(caKey, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tmp / "c.pem").write_bytes(leaf.public_bytes(pem))
    (tmp / "k.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca.public_bytes(pem), str(tmp / "c.pem"), str(tmp / "k.pem")


@pytest.fixture
def wssServer(tmp_path: Any) -> Iterator[tuple[int, bytes]]:
    import ssl as stdlibSSL

    caPem, cert, key = makeCA(tmp_path)
    context = stdlibSSL.SSLContext(stdlibSSL.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handler(conn: Any) -> None:
        for message in conn:
            conn.send(message)

    with wsServe(handler, "127.0.0.1", 0, ssl=context) as s:
        t = threading.Thread(target=s.serve_forever)
        t.start()
        try:
            yield s.socket.getsockname()[1], caPem
        finally:
            s.shutdown()
            t.join(10)


def test_fwClientWss(srv: ServerThread, wssServer: tuple[int, bytes]) -> None:
    from fw.internet import ssl

    port, caPem = wssServer
    options = ssl.optionsForClientTLS(
        "127.0.0.1", trustRoot=ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(caPem)])
    )
    results, code, _ = roundTrip(srv, f"wss://127.0.0.1:{port}/", contextFactory=options)
    assert results == ["text ✓", b"\x00bin", 200_000]
    assert code == 1000


def test_fwClientWssUntrusted(srv: ServerThread, wssServer: tuple[int, bytes]) -> None:
    # The default options verify against the system roots: our CA is not one.
    port, _ = wssServer
    with pytest.raises(Exception, match="certificate verify failed"):
        srv.call(lambda: connectWebSocket(srv.reactor, f"wss://127.0.0.1:{port}/", Collect))


# -- fw client against a hand-written server ------------------------------------


@pytest.fixture
def rawServer() -> Iterator[tuple[int, list[bytes]]]:
    """
    A one-shot server that answers the handshake and a text frame one byte
    at a time, then a close frame; ``replies[0]`` selects a broken answer.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    mode: list[bytes] = [b"good"]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            from fw.web._websocket_core import acceptFor

            if mode[0] == b"huge":
                answer = b"HTTP/1.1 101 OK\r\nX: " + b"a" * 40000
            else:
                answer = (
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
                    b"Connection: upgrade\r\nSec-WebSocket-Accept: "
                    + acceptFor(key)
                    + b"\r\n\r\n"
                    + b"\x81\x05hello"
                    + b"\x88\x02\x03\xe8"
                )
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                for i in range(len(answer)):
                    conn.send(answer[i : i + 1])
                while conn.recv(4096):
                    pass
            except OSError:
                pass

    t = threading.Thread(target=serve)
    t.start()
    try:
        yield listener.getsockname()[1], mode
    finally:
        t.join(10)
        listener.close()


def test_fwClientByteAtATime(srv: ServerThread, rawServer: tuple[int, list[bytes]]) -> None:
    port, _ = rawServer

    def go() -> Deferred[Any]:
        async def flow() -> Any:
            proto = await connectWebSocket(srv.reactor, f"ws://127.0.0.1:{port}/", Collect)
            assert isinstance(proto, Collect)
            first = await proto.next()
            proto.closeTimeout = 0.5  # the server never drops TCP by itself here
            code = await proto.closed
            return first, code

        return Deferred.fromCoroutine(flow())

    assert srv.call(go) == ("hello", 1000)


def test_fwClientHugeHandshake(srv: ServerThread, rawServer: tuple[int, list[bytes]]) -> None:
    port, mode = rawServer
    mode[0] = b"huge"
    with pytest.raises(HandshakeError, match="too large"):
        srv.call(lambda: connectWebSocket(srv.reactor, f"ws://127.0.0.1:{port}/", Collect))
