"""
SOCKS over real loopback sockets, against independent peers: curl and
PySocks / python-socks as clients of fw's servers, pproxy and microsocks as
servers for fw's client endpoints, and fw against itself for BIND and UDP.
"""

from __future__ import annotations

import contextlib
import hmac
import http.server
import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fw.internet import error
from fw.internet.defer import Deferred
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from fw.internet.protocol import Factory, Protocol
from fw.internet.threads import deferToThreadPool
from fw.protocols.socks import (
    ConnectionNotAllowed,
    LoginAuthenticationFailed,
    SOCKS4ClientEndpoint,
    SOCKS5ClientEndpoint,
    SOCKSv4Factory,
    SOCKSv5Factory,
    allowNetworks,
)
from fw.trial.pytestplugin import missingPeer

pytestmark = pytest.mark.timeout(60)

LOCAL = allowNetworks("127.0.0.0/8")


def _requireModule(name: str, distribution: str) -> Any:
    """Import a PyPI peer; skip without it, except in CI (FW_REQUIRE_PEERS=1)."""
    if importlib.util.find_spec(name.split(".")[0]) is None:
        missingPeer(f"the PyPI package {distribution} is not installed")
    return importlib.import_module(name)


def _checker(username: bytes, password: bytes) -> bool:
    return username == b"alice" and hmac.compare_digest(password, b"s3cret")


# -- a destination: Python's HTTP server, in a thread ----------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"hello from {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def httpServer() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fwReactor() -> Iterator[Any]:
    """One reactor backend (the protocol, not the backends, is under test here)."""
    from fw.internet.selectreactor import SelectReactor

    reactor = SelectReactor()
    yield reactor
    for reader in list(reactor._internalReaders):
        reactor.removeReader(reader)
        reader.connectionLost(None)
    if reactor.threadpool is not None:
        reactor.threadpool.stop()


def _inThread(reactor: Any, f: Callable[..., Any], *args: Any) -> Deferred[Any]:
    return deferToThreadPool(reactor, reactor.getThreadPool(), f, *args)


async def _listen(reactor: Any, factory: Any) -> Any:
    return reactor.listenTCP(0, factory, interface="127.0.0.1")


async def _settled(reactor: Any, f: Callable[[Any], Any]) -> Any:
    """Run ``f(reactor)``, then wait until every connection it left has closed."""
    from fw.internet.task import deferLater

    result = await f(reactor)
    deadline = time.monotonic() + 10
    while (reactor.getReaders() or reactor.getWriters()) and time.monotonic() < deadline:
        await deferLater(reactor, 0.01, lambda: None)
    return result


def _run(reactor: Any, runReactor: Any, f: Callable[[Any], Any]) -> Any:
    return runReactor(reactor, lambda: _settled(reactor, f), timeout=30)


# -- curl through fw's servers ---------------------------------------------------


@pytest.mark.parametrize(
    ("option", "factoryKind", "userinfo"),
    [
        ("--socks5", "5", ""),
        ("--socks5-hostname", "5", ""),
        ("--socks5-hostname", "5auth", "alice:s3cret@"),
        ("--socks4", "4", ""),
        ("--socks4a", "4", ""),
    ],
)
def test_curlThroughFwServer(
    fwReactor: Any,
    runReactor: Any,
    requirePeer: Callable[[str], str],
    httpServer: int,
    option: str,
    factoryKind: str,
    userinfo: str,
) -> None:
    curl = requirePeer("curl")
    factory: Any
    if factoryKind == "4":
        factory = SOCKSv4Factory(reactor=fwReactor, destinationPolicy=LOCAL)
    else:
        factory = SOCKSv5Factory(
            _checker if factoryKind == "5auth" else None,
            reactor=fwReactor,
            destinationPolicy=LOCAL,
        )

    def runCurl(args: list[str]) -> str:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    async def go2(reactor: Any) -> str:
        port = await _listen(reactor, factory)
        try:
            proxy = f"{userinfo}127.0.0.1:{port.getHost().port}"
            host = "localhost" if option in ("--socks5-hostname", "--socks4a") else "127.0.0.1"
            url = f"http://{host}:{httpServer}/x"
            args = [curl, "-sS", "--max-time", "10", option, proxy, url]
            return str(await _inThread(reactor, runCurl, args))
        finally:
            await port.stopListening()

    assert _run(fwReactor, runReactor, go2) == "hello from /x\n"


def test_curlRefusedByPolicy(
    fwReactor: Any, runReactor: Any, requirePeer: Callable[[str], str], httpServer: int
) -> None:
    """The default policy refuses loopback: curl sees the refusal."""
    curl = requirePeer("curl")
    factory = SOCKSv5Factory(reactor=fwReactor)

    def runCurl(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)

    async def go(reactor: Any) -> subprocess.CompletedProcess[str]:
        port = await _listen(reactor, factory)
        try:
            proxy = f"127.0.0.1:{port.getHost().port}"
            url = f"http://127.0.0.1:{httpServer}/"
            return await _inThread(reactor, runCurl, [curl, "-sS", "--socks5", proxy, url])  # type: ignore[no-any-return]
        finally:
            await port.stopListening()

    done = _run(fwReactor, runReactor, go)
    assert done.returncode != 0
    assert "not allowed" in done.stderr.lower() or "connection" in done.stderr.lower()


# -- PySocks and python-socks against fw's server --------------------------------


def _httpGetThroughSocket(sock: socket.socket, port: int) -> bytes:
    with sock:
        sock.sendall(f"GET /py HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("version", [4, 5])
def test_pysocksThroughFwServer(
    fwReactor: Any, runReactor: Any, httpServer: int, version: int
) -> None:
    socks = _requireModule("socks", "PySocks")
    if version == 5:
        factory: Any = SOCKSv5Factory(_checker, reactor=fwReactor, destinationPolicy=LOCAL)
    else:
        factory = SOCKSv4Factory(reactor=fwReactor, destinationPolicy=LOCAL)

    def client(proxyPort: int) -> bytes:
        s = socks.socksocket()
        s.settimeout(10)
        if version == 5:
            s.set_proxy(socks.SOCKS5, "127.0.0.1", proxyPort, True, "alice", "s3cret")
        else:
            s.set_proxy(socks.SOCKS4, "127.0.0.1", proxyPort, True)
        s.connect(("localhost", httpServer))
        return _httpGetThroughSocket(s, httpServer)

    async def go(reactor: Any) -> bytes:
        port = await _listen(reactor, factory)
        try:
            return await _inThread(reactor, client, port.getHost().port)  # type: ignore[no-any-return]
        finally:
            await port.stopListening()

    assert _run(fwReactor, runReactor, go).endswith(b"hello from /py\n")


def test_pysocksWrongPassword(fwReactor: Any, runReactor: Any, httpServer: int) -> None:
    socks = _requireModule("socks", "PySocks")
    factory = SOCKSv5Factory(_checker, reactor=fwReactor, destinationPolicy=LOCAL)

    def client(proxyPort: int) -> str:
        s = socks.socksocket()
        s.settimeout(10)
        s.set_proxy(socks.SOCKS5, "127.0.0.1", proxyPort, True, "alice", "wrong")
        with s, pytest.raises(socks.ProxyError) as info:
            s.connect(("127.0.0.1", httpServer))
        return str(info.value)

    async def go(reactor: Any) -> str:
        port = await _listen(reactor, factory)
        try:
            return await _inThread(reactor, client, port.getHost().port)  # type: ignore[no-any-return]
        finally:
            await port.stopListening()

    assert "authentication failed" in _run(fwReactor, runReactor, go).lower()


def test_pythonSocksThroughFwServer(fwReactor: Any, runReactor: Any, httpServer: int) -> None:
    sync = _requireModule("python_socks.sync", "python-socks")

    def client(proxyPort: int) -> bytes:
        proxy = sync.Proxy.from_url(f"socks5://alice:s3cret@127.0.0.1:{proxyPort}", rdns=True)
        s = proxy.connect(dest_host="localhost", dest_port=httpServer, timeout=10)
        return _httpGetThroughSocket(s, httpServer)

    factory = SOCKSv5Factory(_checker, reactor=fwReactor, destinationPolicy=LOCAL)

    async def go(reactor: Any) -> bytes:
        port = await _listen(reactor, factory)
        try:
            return await _inThread(reactor, client, port.getHost().port)  # type: ignore[no-any-return]
        finally:
            await port.stopListening()

    assert _run(fwReactor, runReactor, go).endswith(b"hello from /py\n")


# -- fw's client endpoints through independent servers ---------------------------


class _Get(Protocol):
    """Sends an HTTP/1.0 GET, collects the answer until the server closes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.received = b""
        self.done: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(f"GET {self.path} HTTP/1.0\r\n\r\n".encode())  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:
        self.done.callback(self.received)


def _freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serverProcess(args: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                _, err = process.communicate()
                pytest.fail(f"{args[0]} did not start: {err.decode(errors='replace')}")
            time.sleep(0.02)
        yield
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _pproxyArgs(listen: str) -> list[str]:
    # pproxy picks uvloop when it is installed, and fails with it on Python
    # 3.11 ("no current event loop"): hide uvloop from it.
    code = (
        "import sys; sys.modules['uvloop'] = None; "
        "from pproxy.server import main; sys.argv = ['pproxy'] + sys.argv[1:]; main()"
    )
    return [sys.executable, "-c", code, "-l", listen]


@pytest.fixture
def pproxy() -> Callable[[str], Any]:
    _requireModule("pproxy", "pproxy")

    def start(scheme: str, auth: str = "") -> tuple[Any, int]:
        port = _freePort()
        listen = f"{scheme}://127.0.0.1:{port}" + (f"#{auth}" if auth else "")
        return _serverProcess(_pproxyArgs(listen), port), port

    return start


@pytest.mark.parametrize(
    ("scheme", "kind", "host"),
    [
        ("socks5", "5", "localhost"),
        ("socks5", "5login", "localhost"),
        # pproxy's socks4 has no 4a: it connects to 0.0.0.1 when given a name.
        ("socks4", "4", "127.0.0.1"),
    ],
)
def test_fwClientThroughPproxy(
    fwReactor: Any,
    runReactor: Any,
    httpServer: int,
    pproxy: Callable[..., Any],
    scheme: str,
    kind: str,
    host: str,
) -> None:
    server, port = pproxy(scheme, "alice:s3cret" if kind == "5login" else "")
    proxy = TCP4ClientEndpoint(fwReactor, "127.0.0.1", port)
    endpoint: Any
    if kind == "4":
        endpoint = SOCKS4ClientEndpoint(host, httpServer, proxy)
    elif kind == "5login":
        endpoint = SOCKS5ClientEndpoint(
            host, httpServer, proxy, methods={"login": (b"alice", b"s3cret")}
        )
    else:
        endpoint = SOCKS5ClientEndpoint(host, httpServer, proxy)

    async def go(reactor: Any) -> bytes:
        protocol = await connectProtocol(endpoint, _Get("/pp"))
        return await protocol.done

    with server:
        assert _run(fwReactor, runReactor, go).endswith(b"hello from /pp\n")


@pytest.fixture
def microsocks(requirePeer: Callable[[str], str]) -> Callable[..., Any]:
    program = requirePeer("microsocks")

    def start(*auth: str) -> tuple[Any, int]:
        port = _freePort()
        args = [program, "-i", "127.0.0.1", "-p", str(port)]
        if auth:
            args += ["-u", auth[0], "-P", auth[1]]
        return _serverProcess(args, port), port

    return start


@pytest.mark.parametrize("login", [False, True])
def test_fwClientThroughMicrosocks(
    fwReactor: Any,
    runReactor: Any,
    httpServer: int,
    microsocks: Callable[..., Any],
    login: bool,
) -> None:
    server, port = microsocks(*(("alice", "s3cret") if login else ()))
    proxy = TCP4ClientEndpoint(fwReactor, "127.0.0.1", port)
    methods: dict[str, Any] = {"login": ("alice", "s3cret")} if login else {"anonymous": ()}
    endpoint = SOCKS5ClientEndpoint("localhost", httpServer, proxy, methods=methods)

    async def go(reactor: Any) -> bytes:
        protocol = await connectProtocol(endpoint, _Get("/ms"))
        return await protocol.done

    with server:
        assert _run(fwReactor, runReactor, go).endswith(b"hello from /ms\n")


def test_fwClientWrongPasswordMicrosocks(
    fwReactor: Any, runReactor: Any, httpServer: int, microsocks: Callable[..., Any]
) -> None:
    server, port = microsocks("alice", "s3cret")
    proxy = TCP4ClientEndpoint(fwReactor, "127.0.0.1", port)
    endpoint = SOCKS5ClientEndpoint(
        "127.0.0.1", httpServer, proxy, methods={"login": ("alice", "nope")}
    )

    async def go(reactor: Any) -> list[BaseException]:
        try:
            await connectProtocol(endpoint, _Get("/"))
        except LoginAuthenticationFailed as e:
            return [e]  # (runReactor raises a returned exception)
        raise AssertionError("the login should have failed")

    with server:
        [e] = _run(fwReactor, runReactor, go)
    assert e.code != 0


# -- fw against fw, on every reactor backend -------------------------------------


class _Echo(Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]


class _Collect(Protocol):
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.received = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= self.expected and not self.done.called:
            self.done.callback(self.received)


def test_fwClientThroughFwServer(reactor: Any, runReactor: Any) -> None:
    """256 KiB echoed through fw's SOCKS 5 server by fw's client endpoint."""
    payload = os.urandom(256 * 1024)

    async def go(reactor: Any) -> bytes:
        echo = reactor.listenTCP(0, Factory.forProtocol(_Echo), interface="127.0.0.1")
        socksPort = reactor.listenTCP(
            0,
            SOCKSv5Factory(_checker, reactor=reactor, destinationPolicy=LOCAL),
            interface="127.0.0.1",
        )
        try:
            endpoint = SOCKS5ClientEndpoint(
                "127.0.0.1",
                echo.getHost().port,
                TCP4ClientEndpoint(reactor, "127.0.0.1", socksPort.getHost().port),
                methods={"login": (b"alice", b"s3cret")},
            )
            protocol = await connectProtocol(endpoint, _Collect(len(payload)))
            protocol.transport.write(payload)  # type: ignore[union-attr]
            received = await protocol.done
            protocol.transport.loseConnection()  # type: ignore[union-attr]
            return received
        finally:
            await echo.stopListening()
            await socksPort.stopListening()

    assert _run(reactor, runReactor, go) == payload


def test_fwClientRefusedByFwServer(fwReactor: Any, runReactor: Any) -> None:
    """The default policy refuses loopback: the client fails with reply 2."""

    async def go(reactor: Any) -> list[BaseException]:
        socksPort = reactor.listenTCP(0, SOCKSv5Factory(reactor=reactor), interface="127.0.0.1")
        try:
            endpoint = SOCKS5ClientEndpoint(
                "127.0.0.1", 9, TCP4ClientEndpoint(reactor, "127.0.0.1", socksPort.getHost().port)
            )
            try:
                await connectProtocol(endpoint, Protocol())
            except ConnectionNotAllowed as e:
                return [e]
            raise AssertionError("should have been refused")
        finally:
            await socksPort.stopListening()

    [e] = _run(fwReactor, runReactor, go)
    assert isinstance(e, ConnectionNotAllowed)
    assert e.code == 2


def test_proxyUnreachable(fwReactor: Any, runReactor: Any) -> None:
    """The proxy endpoint's own error comes through unchanged."""
    port = _freePort()

    async def go(reactor: Any) -> list[BaseException]:
        endpoint = SOCKS5ClientEndpoint(
            "example.com", 80, TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        )
        try:
            await connectProtocol(endpoint, Protocol())
        except error.ConnectError as e:
            return [e]
        raise AssertionError("should have failed")

    [e] = _run(fwReactor, runReactor, go)
    assert isinstance(e, error.ConnectionRefusedError)


# -- BIND and UDP ASSOCIATE, from a plain-socket client --------------------------


def _recvExactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        assert chunk, "closed early"
        data += chunk
    return data


@pytest.mark.parametrize("version", [4, 5])
def test_bindWithSocketClient(fwReactor: Any, runReactor: Any, version: int) -> None:
    """BIND: the proxy listens, the expected peer connects, data flows both ways."""
    if version == 5:
        factory: Any = SOCKSv5Factory(reactor=fwReactor, destinationPolicy=LOCAL)
    else:
        factory = SOCKSv4Factory(reactor=fwReactor, destinationPolicy=LOCAL)

    def client(proxyPort: int) -> tuple[bytes, bytes]:
        with socket.create_connection(("127.0.0.1", proxyPort), timeout=10) as control:
            if version == 5:
                control.sendall(b"\x05\x01\x00")
                assert _recvExactly(control, 2) == b"\x05\x00"
                control.sendall(b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x00")
                first = _recvExactly(control, 10)
                assert first[:4] == b"\x05\x00\x00\x01"
            else:
                control.sendall(b"\x04\x02\x00\x00\x7f\x00\x00\x01me\x00")
                first = _recvExactly(control, 8)
                assert first[:2] == b"\x00\x5a"
            if version == 5:  # ... ADDR PORT
                host, port = socket.inet_ntoa(first[4:8]), int.from_bytes(first[8:], "big")
            else:  # VN CD PORT ADDR
                host, port = socket.inet_ntoa(first[4:8]), int.from_bytes(first[2:4], "big")
            with socket.create_connection((host, port), timeout=10) as peer:
                second = _recvExactly(control, len(first))
                control.sendall(b"to peer")
                fromControl = _recvExactly(peer, 7)
                peer.sendall(b"to client")
                fromPeer = _recvExactly(control, 9)
            return second, fromControl + b"|" + fromPeer

    async def go(reactor: Any) -> tuple[bytes, bytes]:
        port = await _listen(reactor, factory)
        try:
            return await _inThread(reactor, client, port.getHost().port)  # type: ignore[no-any-return]
        finally:
            await port.stopListening()

    second, exchanged = _run(fwReactor, runReactor, go)
    assert exchanged == b"to peer|to client"
    granted = b"\x05\x00" if version == 5 else b"\x00\x5a"
    assert second.startswith(granted)
    assert socket.inet_aton("127.0.0.1") in second


def test_udpAssociateWithSocketClient(fwReactor: Any, runReactor: Any) -> None:
    """UDP ASSOCIATE: a datagram goes out unwrapped and its answer comes back wrapped."""
    factory = SOCKSv5Factory(reactor=fwReactor, destinationPolicy=LOCAL)
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    echo.settimeout(10)
    echoPort = echo.getsockname()[1]

    def echoOnce() -> None:
        data, addr = echo.recvfrom(65535)
        echo.sendto(data.upper(), addr)

    def client(proxyPort: int) -> bytes:
        server = threading.Thread(target=echoOnce)
        server.start()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(10)
        with udp, socket.create_connection(("127.0.0.1", proxyPort), timeout=10) as control:
            control.sendall(b"\x05\x01\x00")
            assert _recvExactly(control, 2) == b"\x05\x00"
            port = udp.getsockname()[1]
            control.sendall(b"\x05\x03\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
            reply = _recvExactly(control, 10)
            assert reply[:4] == b"\x05\x00\x00\x01"
            relay = (socket.inet_ntoa(reply[4:8]), int.from_bytes(reply[8:10], "big"))
            header = b"\x00\x00\x00\x01\x7f\x00\x00\x01" + echoPort.to_bytes(2, "big")
            # A fragment is dropped; a whole datagram goes through.
            udp.sendto(b"\x00\x00\x01" + header[3:] + b"fragment", relay)
            udp.sendto(header + b"ping", relay)
            answer, source = udp.recvfrom(65535)
            assert source == relay
        server.join()
        return answer

    async def go(reactor: Any) -> bytes:
        port = await _listen(reactor, factory)
        try:
            return await _inThread(reactor, client, port.getHost().port)  # type: ignore[no-any-return]
        finally:
            await port.stopListening()

    with echo:
        answer = _run(fwReactor, runReactor, go)
    assert answer == b"\x00\x00\x00\x01\x7f\x00\x00\x01" + echoPort.to_bytes(2, "big") + b"PING"
