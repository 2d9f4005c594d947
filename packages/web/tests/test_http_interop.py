"""
fw.web's HTTP/1.1 server against real, independent clients on 127.0.0.1:
curl, Python's http.client and ``requests``; and hostile raw-socket clients
(slowloris, oversized headers, smuggling, garbage, byte-at-a-time, truncated).
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fw.internet.epollreactor import EPollReactor
from fw.web import server
from fw.web.resource import Resource

pytestmark = pytest.mark.timeout(60)


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"Hello, " + request.path

    def render_POST(self, request: Any) -> bytes:
        data = request.content.read()
        args = b";".join(b"%s=%s" % (k, b",".join(v)) for k, v in sorted(request.args.items()))
        return b"%d:%s|%s" % (len(data), data[:20], args)

    render_PUT = render_POST


class Stream(Resource):
    isLeaf = True

    def __init__(self, reactor: Any) -> None:
        super().__init__()
        self.reactor = reactor

    def render_GET(self, request: Any) -> int:
        def more(i: int) -> None:
            if i == 5:
                request.finish()
                return
            request.write(b"part%d\n" % i)
            self.reactor.callLater(0.01, more, i + 1)

        more(0)
        return server.NOT_DONE_YET


class ServerThread:
    """A Site on 127.0.0.1 served by a reactor running in a thread."""

    def __init__(self, **siteArgs: Any) -> None:
        self.reactor = EPollReactor()
        self.siteArgs = siteArgs
        self.port: Any = None

    def __enter__(self) -> ServerThread:
        ready = threading.Event()

        def setup() -> None:
            root = Resource()
            root.putChild(b"hello", Hello())
            root.putChild(b"stream", Stream(self.reactor))
            self.site = server.Site(root, reactor=self.reactor, **self.siteArgs)
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

    def raw(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.portNumber), timeout=10)
        return s


def recvAll(s: socket.socket, timeout: float = 10) -> bytes:
    """Read until the server closes the connection."""
    s.settimeout(timeout)
    chunks = []
    while True:
        data = s.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


@pytest.fixture
def site() -> Iterator[ServerThread]:
    with ServerThread() as s:
        yield s


def curl(path: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [path, "-s", "--max-time", "20", *args], capture_output=True, timeout=30, check=True
    )


def test_curlKeepAliveAndPipelining(site: ServerThread, requirePeer: Callable[[str], str]) -> None:
    path = requirePeer("curl")
    result = curl(
        path, "-v", "--http1.1", site.url("/hello/a"), site.url("/hello/b"), site.url("/hello/c")
    )
    assert result.stdout == b"Hello, /hello/aHello, /hello/bHello, /hello/c"
    assert result.stderr.count(b"Re-using existing connection") == 2


def test_curlChunkedUploadAnd100Continue(
    site: ServerThread, requirePeer: Callable[[str], str], tmp_path: Any
) -> None:
    path = requirePeer("curl")
    body = tmp_path / "body"
    body.write_bytes(b"x" * 200_000)
    result = curl(
        path,
        "-v",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        f"@{body}",
        site.url("/hello"),
    )
    assert result.stdout.startswith(b"200000:xxxx")
    # curl sends Expect: 100-continue for big bodies and waits for our 100.
    result = curl(path, "-v", "-H", "Expect: 100-continue", "-T", str(body), site.url("/hello"))
    assert b"HTTP/1.1 100 Continue" in result.stderr
    assert result.stdout.startswith(b"200000:")


def test_curlHeadFormAndStreaming(site: ServerThread, requirePeer: Callable[[str], str]) -> None:
    path = requirePeer("curl")
    result = curl(path, "-I", site.url("/hello"))
    assert b"Content-Length: 13" in result.stdout
    assert result.stdout.endswith(b"\r\n\r\n")
    result = curl(path, "-d", "a=1&b=2", site.url("/hello?c=3"))
    assert result.stdout.endswith(b"|a=1;b=2;c=3")
    result = curl(path, "-F", "f=@/etc/hostname", "-F", "g=v", site.url("/hello"))
    assert result.stdout.split(b"|")[1].startswith(b"f=")
    result = curl(path, site.url("/stream"))
    assert result.stdout == b"".join(b"part%d\n" % i for i in range(5))


def test_httpClient(site: ServerThread) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.portNumber, timeout=10)
    try:
        for i in range(3):
            conn.request("GET", f"/hello/{i}")
            response = conn.getresponse()
            assert response.status == 200
            assert response.read() == f"Hello, /hello/{i}".encode()
        conn.request(
            "POST",
            "/hello",
            body=iter([b"ab", b"cd"]),
            encode_chunked=True,
            headers={"Transfer-Encoding": "chunked"},
        )
        response = conn.getresponse()
        assert response.read() == b"4:abcd|"
        conn.request("GET", "/stream")
        response = conn.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.read().count(b"part") == 5
        conn.request("DELETE", "/hello")
        response = conn.getresponse()
        assert response.status == 405
        assert response.getheader("Allow") == "GET, HEAD, POST, PUT"
        response.read()
    finally:
        conn.close()


def test_requests(site: ServerThread) -> None:
    requests = pytest.importorskip("requests")
    with requests.Session() as session:
        r = session.get(site.url("/hello/x"), timeout=10)
        assert r.status_code == 200
        assert r.text == "Hello, /hello/x"
        r = session.post(site.url("/hello"), data={"k": "v w"}, timeout=10)
        assert r.text.endswith("|k=v w")
        r = session.post(
            site.url("/hello"), files={"up": ("a.bin", b"\x00\x01" * 100)}, timeout=10
        )
        assert b"up=" in r.content
        r = session.get(site.url("/missing"), timeout=10)
        assert r.status_code == 404


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (
            b"POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",  # noqa: E501
            400,
        ),
        (
            b"POST /hello HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n",  # noqa: E501
            501,
        ),
        (b"GET /hello HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400),
        (b"GET /hello HTTP/1.1\r\nHost: h\r\nBig: " + b"x" * 20000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"Host: h\r\n\r\n", 431),
    ],
)
def test_hostileRequests(site: ServerThread, request_: bytes, status: int) -> None:
    with site.raw() as s:
        s.sendall(request_)
        response = recvAll(s)
    assert response.startswith(b"HTTP/1.1 %d " % status), response[:80]
    assert b"Connection: close" in response


def test_smugglingDoesNotLeakASecondRequest(site: ServerThread) -> None:
    smuggled = b"GET /hello/smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
    attack = (
        b"POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n%s"  # noqa: E501
        % (5 + len(smuggled), smuggled)
    )
    with site.raw() as s:
        s.sendall(attack)
        response = recvAll(s)
    assert response.count(b"HTTP/1.1") == 1
    assert b"smuggled" not in response


def test_byteAtATimeAndTruncated(site: ServerThread) -> None:
    request = (
        b"POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    )
    with site.raw() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(request)):
            s.sendall(request[i : i + 1])
        response = recvAll(s)
    assert response.endswith(b"3:abc|")
    # Truncated: the client goes away mid-body; the server survives.
    with site.raw() as s:
        s.sendall(b"POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")
    conn = http.client.HTTPConnection("127.0.0.1", site.portNumber, timeout=10)
    conn.request("GET", "/hello")
    assert conn.getresponse().status == 200
    conn.close()


def test_slowlorisIsCutOff() -> None:
    with ServerThread(requestHeaderTimeout=0.5, timeout=5) as site, site.raw() as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: h\r\n")
        start = time.monotonic()
        closed = b""
        try:
            for _ in range(40):
                time.sleep(0.1)
                s.sendall(b"X-Trickle: y\r\n")
        except OSError:
            pass
        closed = recvAll(s, timeout=5)
        assert time.monotonic() - start < 4
        assert closed.startswith(b"HTTP/1.1 408 ")


def test_idleKeepAliveTimeout() -> None:
    with ServerThread(timeout=0.5) as site, site.raw() as s:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
        start = time.monotonic()
        data = recvAll(s, timeout=5)
        assert data.startswith(b"HTTP/1.1 200 OK")
        assert 0.3 < time.monotonic() - start < 4


class SecureSpy(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.getSession()
        return b"secure=%d" % request.isSecure()


def test_httpsWithCurlAndHttpClient(tmp_path: Any, requirePeer: Callable[[str], str]) -> None:
    import ssl as stdlibSSL

    from fw.internet import ssl
    from fw.internet.endpoints import serverFromString

    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="web test CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    (tmp_path / "key.pem").write_bytes(key.dump(ssl.FILETYPE_PEM))
    (tmp_path / "cert.pem").write_bytes(cert.dump(ssl.FILETYPE_PEM))
    (tmp_path / "ca.pem").write_bytes(ca.dump(ssl.FILETYPE_PEM))
    reactor = EPollReactor()
    ready = threading.Event()
    state: dict[str, Any] = {}

    def setup() -> None:
        site = server.Site(SecureSpy(), reactor=reactor)
        state["site"] = site
        description = (
            f"ssl:0:privateKey={tmp_path / 'key.pem'}:certKey={tmp_path / 'cert.pem'}"
            ":interface=127.0.0.1"
        )

        def listening(port: Any) -> None:
            state["port"] = port
            ready.set()

        serverFromString(reactor, description).listen(site).addCallback(listening)

    reactor.callWhenRunning(setup)
    thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False})
    thread.start()
    try:
        assert ready.wait(10)
        portNumber = state["port"].getHost().port
        context = stdlibSSL.create_default_context(cafile=str(tmp_path / "ca.pem"))
        conn = http.client.HTTPSConnection("localhost", portNumber, timeout=10, context=context)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.read() == b"secure=1"
        cookie = response.getheader("Set-Cookie")
        assert cookie.startswith("FW_SECURE_SESSION=")
        assert "Secure" in cookie
        conn.close()
        curl = requirePeer("curl")
        result = subprocess.run(
            [curl, "-s", "--max-time", "20", "--cacert", str(tmp_path / "ca.pem"),
             "--resolve", f"localhost:{portNumber}:127.0.0.1",
             f"https://localhost:{portNumber}/", f"https://localhost:{portNumber}/again"],
            capture_output=True, timeout=30, check=True,
        )  # fmt: skip
        assert result.stdout == b"secure=1secure=1"
    finally:

        def stop() -> None:
            for session in list(state["site"].sessions.values()):
                session.expire()
            state["port"].stopListening()
            reactor.stop()

        reactor.callFromThread(stop)
        thread.join(10)
