"""
fw.web.proxy: ReverseProxyResource, the forward Proxy and CONNECT tunnels,
against Python's http.server as the upstream and curl / http.client as the
clients.
"""

from __future__ import annotations

import http.client
import http.server
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fw.internet.epollreactor import EPollReactor
from fw.logger import capturedLogs
from fw.web import http as fwhttp
from fw.web import proxy, resource, server


class ServerThread:
    """A Site on 127.0.0.1 served by a reactor running in a thread."""

    def __init__(self, makeRoot: Callable[[Any], Any]) -> None:
        self.reactor = EPollReactor()
        self.makeRoot = makeRoot
        self.port: Any = None

    def __enter__(self) -> ServerThread:
        ready = threading.Event()

        def setup() -> None:
            root = self.makeRoot(self.reactor)
            self.site = root if hasattr(root, "buildProtocol") else server.Site(root)
            self.port = self.reactor.listenTCP(0, self.site, interface="127.0.0.1")
            ready.set()

        self.reactor.callWhenRunning(setup)
        self.thread = threading.Thread(
            target=self.reactor.run, kwargs={"installSignalHandlers": False}
        )
        self.thread.start()
        assert ready.wait(10), "server did not start"
        return self

    @property
    def portNumber(self) -> int:
        return int(self.port.getHost().port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.portNumber}{path}"

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self.port.stopListening()
            self.reactor.stop()

        self.reactor.callFromThread(stop)
        self.thread.join(10)
        assert not self.thread.is_alive()
        if self.reactor.threadpool is not None:
            self.reactor.threadpool.stop()

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, Any, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.portNumber, timeout=10)
        try:
            conn.putrequest(
                method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True
            )
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


BIG = b"0123456789abcdef" * 65536  # 1 MiB


class Upstream(http.server.BaseHTTPRequestHandler):
    """Echoes what it got as JSON; /big sends 1 MiB; /status/N answers N."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/big":
            payload = BIG
            ctype = "application/octet-stream"
        elif self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            payload = json.dumps(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("latin-1"),
                }
            ).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close, X-Hop")
        self.send_header("X-Hop", "hop-by-hop")
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = do_PUT = _answer


@pytest.fixture
def upstream() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def fetch(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.body = response.read()
        return response
    finally:
        conn.close()


@pytest.fixture
def reverse(upstream: int) -> Iterator[ServerThread]:
    def makeRoot(reactor: Any) -> resource.Resource:
        root = resource.Resource()
        root.putChild(b"up", proxy.ReverseProxyResource("127.0.0.1", upstream, b"/base", reactor))
        root.putChild(
            b"down", proxy.ReverseProxyResource("127.0.0.1", _closedPort(), b"", reactor)
        )
        return root

    with ServerThread(makeRoot) as s:
        yield s


def _closedPort() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_reverseProxyRewritesPathAndHost(reverse: ServerThread, upstream: int) -> None:
    response = fetch(
        reverse.portNumber,
        "GET",
        "/up/a%20b/c?x=1&y=2",
        headers={"X-Custom": "yes", "TE": "trailers"},
    )
    assert response.status == 200
    data = json.loads(response.body)
    assert data["path"] == "/base/a%20b/c?x=1&y=2"
    assert data["headers"]["host"] == f"127.0.0.1:{upstream}"
    assert data["headers"]["x-custom"] == "yes"
    assert "te" not in data["headers"]
    assert data["headers"]["connection"] == "close"
    # Hop-by-hop response fields are dropped; repeated ones are kept.
    assert response.headers.get("X-Hop") is None
    assert response.headers.get("Keep-Alive") is None
    assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_reverseProxyPost(reverse: ServerThread) -> None:
    response = fetch(
        reverse.portNumber, "POST", "/up/form", body=b"x" * 100000, headers={"Content-Type": "a/b"}
    )
    data = json.loads(response.body)
    assert data["method"] == "POST"
    assert data["body"] == "x" * 100000
    assert data["headers"]["content-length"] == "100000"


def test_reverseProxyBigBodyAndStatus(reverse: ServerThread) -> None:
    # Dot segments cannot climb out of the upstream prefix.
    for path in ("/up/../big", "/up/%2e%2e/big", "/up/a/./b"):
        assert fetch(reverse.portNumber, "GET", path).status == 400, path
    # An encoded slash stays inside its segment.
    assert json.loads(fetch(reverse.portNumber, "GET", "/up/a%2fb").body)["path"] == "/base/a%2Fb"
    big = fetch(reverse.portNumber, "GET", "/up").body
    assert json.loads(big)["path"] == "/base"


def test_reverseProxyStatusAndHead(reverse: ServerThread, upstream: int) -> None:
    def makeRoot(reactor: Any) -> resource.Resource:
        return proxy.ReverseProxyResource("127.0.0.1", upstream, b"", reactor)

    with ServerThread(makeRoot) as s:
        assert fetch(s.portNumber, "GET", "/status/404").status == 404
        assert fetch(s.portNumber, "GET", "/status/204").status == 204
        assert fetch(s.portNumber, "GET", "/big").body == BIG
        head = fetch(s.portNumber, "HEAD", "/big")
        assert head.body == b""


def test_reverseProxyUpstreamDown(reverse: ServerThread) -> None:
    with capturedLogs():
        assert fetch(reverse.portNumber, "GET", "/down/x").status == 502


def test_reverseProxyBadUpstreamResponse() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def garbage() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=garbage)
    thread.start()
    try:
        with (
            ServerThread(lambda r: proxy.ReverseProxyResource("127.0.0.1", port, b"", r)) as s,
            capturedLogs(),
        ):
            assert fetch(s.portNumber, "GET", "/").status == 502
    finally:
        thread.join(5)
        listener.close()


class AnyPortProxyRequest(proxy.ProxyRequest):
    connectPorts = None


def forwardProxy(reactor: Any, requestClass: type[proxy.ProxyRequest] = proxy.ProxyRequest) -> Any:
    class Channel(proxy.Proxy):
        def requestFactory(self, channel: Any, queued: Any = None) -> proxy.ProxyRequest:  # type: ignore[override]
            return requestClass(channel, queued, reactor=reactor)

    factory = fwhttp.HTTPFactory(reactor=reactor)
    factory.protocol = Channel
    return factory


def test_forwardProxyWithCurl(upstream: int, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    with ServerThread(forwardProxy) as s:
        out = subprocess.run(
            [
                curl,
                "-s",
                "-x",
                f"http://127.0.0.1:{s.portNumber}",
                f"http://127.0.0.1:{upstream}/via/proxy?q=1",
            ],
            capture_output=True,
            timeout=10,
            check=True,
        )
        data = json.loads(out.stdout)
        assert data["path"] == "/via/proxy?q=1"
        assert data["headers"]["host"] == f"127.0.0.1:{upstream}"
        assert "proxy-connection" not in data["headers"]


def test_forwardProxyHttpClient(upstream: int) -> None:
    with ServerThread(forwardProxy) as s:
        response = fetch(s.portNumber, "GET", f"http://127.0.0.1:{upstream}/x")
        assert json.loads(response.body)["path"] == "/x"
        # Not an absolute URI, or not http: refused.
        assert fetch(s.portNumber, "GET", "/relative").status == 400
        assert fetch(s.portNumber, "GET", "ftp://127.0.0.1/x").status == 400


def test_connectTunnelWithCurl(upstream: int, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    with ServerThread(lambda r: forwardProxy(r, AnyPortProxyRequest)) as s:
        out = subprocess.run(
            [
                curl,
                "-s",
                "-p",
                "-x",
                f"http://127.0.0.1:{s.portNumber}",
                f"http://127.0.0.1:{upstream}/tunnelled",
                f"http://127.0.0.1:{upstream}/big",
            ],
            capture_output=True,
            timeout=10,
            check=True,
        )
        data, end = json.JSONDecoder().raw_decode(out.stdout.decode("latin-1"))
        assert data["path"] == "/tunnelled"
        assert out.stdout[end:] == BIG


def test_connectRawSocket(upstream: int) -> None:
    with ServerThread(lambda r: forwardProxy(r, AnyPortProxyRequest)) as s:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        try:
            sock.sendall(f"CONNECT 127.0.0.1:{upstream} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            reply = b""
            while b"\r\n\r\n" not in reply:
                reply += sock.recv(1024)
            assert reply.startswith(b"HTTP/1.1 200 ")
            sock.sendall(b"GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            assert b'"path": "/raw"' in data
        finally:
            sock.close()


@pytest.mark.parametrize(
    ("target", "status"),
    [("127.0.0.1:25", 403), ("127.0.0.1", 400), ("127.0.0.1:99999", 400), (":443", 400)],
)
def test_connectRefused(target: str, status: int) -> None:
    with ServerThread(forwardProxy) as s:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        try:
            sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(1024).startswith(b"HTTP/1.1 %d " % status)
        finally:
            sock.close()


def test_connectUpstreamDown() -> None:
    with ServerThread(lambda r: forwardProxy(r, AnyPortProxyRequest)) as s:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        try:
            sock.sendall(f"CONNECT 127.0.0.1:{_closedPort()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(1024).startswith(b"HTTP/1.1 502 ")
        finally:
            sock.close()


def test_connectCarriesTLS(tmp_path: Any, requirePeer: Callable[[str], str]) -> None:
    # HTTPS through the proxy: curl speaks TLS inside the tunnel to an
    # https upstream (Python's http.server with a self-signed certificate).
    curl = requirePeer("curl")
    openssl = requirePeer("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *(
                openssl,
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ),
            *("-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with ServerThread(lambda r: forwardProxy(r, AnyPortProxyRequest)) as s:
            out = subprocess.run(
                [
                    *(curl, "-s", "-k", "-x", f"http://127.0.0.1:{s.portNumber}"),
                    f"https://127.0.0.1:{httpd.server_address[1]}/secure",
                ],
                capture_output=True,
                timeout=15,
                check=True,
            )
            assert json.loads(out.stdout)["path"] == "/secure"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_connectBytesSentEarlyAreForwarded(upstream: int) -> None:
    # A client may send its first bytes right behind the CONNECT request,
    # before the 200 (as TLS False Start-like clients do).
    with ServerThread(lambda r: forwardProxy(r, AnyPortProxyRequest)) as s:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        try:
            sock.sendall(
                f"CONNECT 127.0.0.1:{upstream} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                + b"GET /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 Connection established\r\n\r\n")
            assert b'"path": "/early"' in data
        finally:
            sock.close()
