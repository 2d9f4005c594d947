"""
``ProxyAgent`` through a real forward proxy, tinyproxy, on loopback: https
URIs go through one ``CONNECT`` tunnel with TLS verified end to end and
speak HTTP/2 when the origin picks ``h2`` by ALPN (nghttpd, and fw's own
Site, which can tell how a request arrived); http URIs are absolute-form
HTTP/1.1 requests to the proxy.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("h2")
pytest.importorskip("OpenSSL")
pytest.importorskip("service_identity")

from service_identity import VerificationError
from zope.interface import implementer

from fw.internet.defer import Deferred, succeed
from fw.internet.endpoints import TCP4ClientEndpoint
from fw.internet.ssl import TLSHandshakeError
from fw.web.client import (
    BrowserLikePolicyForHTTPS,
    HTTPConnectionPool,
    ProxyAgent,
    ProxyTunnelError,
    ResponseNeverReceived,
    readBody,
)
from fw.web.iweb import IBodyProducer
from fw.web.resource import Resource
from fw.web.test._certificates import makeCertificates
from fw.web.test._peers import freePort, waitForPort
from fw.web.test._threadedsite import ServerThread

pytestmark = pytest.mark.timeout(60)

# -- certificates (conftest.py has the reactor, epoll then asyncio) --------------------------


@pytest.fixture(name="run")
def runFixture(run: Callable[..., Any]) -> Callable[..., Any]:
    """fw-web's ``run``, with time for two TLS handshakes and HTTP/2's GOAWAY on closing."""
    return functools.partial(run, timeout=15, grace=0.1)


class Certificates:
    """A CA made for the test, and a certificate and key it signed for some names."""

    def __init__(self, directory: Path, names: list[str]) -> None:
        directory.mkdir()
        self.caPem, self.certPath, self.keyPath = makeCertificates(directory, names)

    def policy(self) -> BrowserLikePolicyForHTTPS:
        """A client policy trusting only this CA (and checking host names)."""
        from fw.internet import ssl

        root = ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(self.caPem)])
        return BrowserLikePolicyForHTTPS(root)

    def serverOptions(self, protocols: list[bytes]) -> Any:
        """TLS server options with this certificate, offering ``protocols`` by ALPN."""
        from fw.internet import ssl

        return ssl.CertificateOptions(
            privateKey=ssl.KeyPair.load(
                Path(self.keyPath).read_bytes(), ssl.FILETYPE_PEM
            ).original,
            certificate=ssl.Certificate.loadPEM(Path(self.certPath).read_bytes()).original,
            acceptableProtocols=protocols,
        )


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    return Certificates(tmp_path / "certs", ["127.0.0.1", "localhost"])


# -- the peers ------------------------------------------------------------------------


def startPeer(argv: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start a server program, its output to ``log``; return once it listens on ``port``."""
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    try:
        waitForPort(port, process)
    except BaseException:
        stopPeer(process)
        raise
    return process


def stopPeer(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class Tinyproxy:
    """tinyproxy, in the foreground, with a configuration of its own, on 127.0.0.1."""

    def __init__(self, program: str, directory: Path, connectPorts: tuple[int, ...] = ()) -> None:
        directory.mkdir()
        self.port = freePort()
        self.log = directory / "tinyproxy.log"
        config = directory / "tinyproxy.conf"
        # Without ConnectPort lines, CONNECT to any port (the origins' are random).
        config.write_text(
            f"Listen 127.0.0.1\nPort {self.port}\nAllow 127.0.0.1\nTimeout 30\n"
            f'LogFile "{self.log}"\nLogLevel Connect\nPidFile "{directory}/tinyproxy.pid"\n'
            + "".join(f"ConnectPort {port}\n" for port in connectPorts)
        )
        self.process = startPeer(
            [program, "-d", "-c", str(config)], self.port, directory / "output.txt"
        )

    def endpoint(self, reactor: Any) -> TCP4ClientEndpoint:
        return TCP4ClientEndpoint(reactor, "127.0.0.1", self.port, timeout=5)

    def requestLines(self) -> list[str]:
        """The request lines tinyproxy received, from its log ("GET http://...", "CONNECT ...")."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [
            m.group(1)
            for m in map(re.compile(r"Request \(file descriptor \d+\): (.*)").search, lines)
            if m
        ]

    def stop(self) -> None:
        stopPeer(self.process)


@pytest.fixture
def tinyproxy(tmp_path: Path, requirePeer: Callable[[str], str]) -> Iterator[Tinyproxy]:
    proxy = Tinyproxy(requirePeer("tinyproxy"), tmp_path / "tinyproxy")
    yield proxy
    proxy.stop()


FILE = b"from nghttpd, through a tunnel\n" * 2000


def startNghttpd(program: str, directory: Path, certs: Certificates) -> tuple[int, Any]:
    """nghttpd serving ``FILE`` as /file.txt over TLS (h2 only), echoing uploads."""
    www = directory / "www"
    www.mkdir(parents=True)
    (www / "file.txt").write_bytes(FILE)
    port = freePort()
    argv = [program, "-a", "127.0.0.1", "-d", str(www), "--echo-upload", str(port)]
    argv += [certs.keyPath, certs.certPath]
    return port, startPeer(argv, port, directory / "nghttpd.txt")


class Where(Resource):
    """Answers with the protocol the request arrived by; notes the client's port."""

    isLeaf = True

    def __init__(self, seen: list[tuple[bytes, int]]) -> None:
        super().__init__()
        self.seen = seen

    def render_GET(self, request: Any) -> bytes:
        proto: bytes = request.clientproto
        self.seen.append((proto, request.getClientAddress().port))
        return b"%s %s" % (proto, request.uri)


class Origin(ServerThread):
    """fw's Site on 127.0.0.1 in a thread, answering every path with :class:`Where`."""

    def __init__(self, tls: Any = None) -> None:
        super().__init__(lambda reactor: Where(self.seen), tls)
        self.seen: list[tuple[bytes, int]] = []

    def __enter__(self) -> Origin:
        super().__enter__()
        return self

    def target(self, path: str) -> bytes:
        return self.url(path).encode()


def proxyAgent(
    reactor: Any, proxy: Tinyproxy, certs: Certificates
) -> tuple[ProxyAgent, HTTPConnectionPool]:
    pool = HTTPConnectionPool(reactor)
    agent = ProxyAgent(proxy.endpoint(reactor), reactor, pool, contextFactory=certs.policy())
    return agent, pool


@implementer(IBodyProducer)
class Producer:
    """A body producer writing ``size`` bytes at once."""

    def __init__(self, size: int) -> None:
        self.length = size

    def startProducing(self, consumer: Any) -> Deferred[None]:
        consumer.write(b"u" * self.length)
        return succeed(None)

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


# -- https through the tunnel ----------------------------------------------------------


def test_http2ToNghttpdThroughTinyproxy(
    run: Any,
    reactor: Any,
    tinyproxy: Tinyproxy,
    certs: Certificates,
    tmp_path: Path,
    requirePeer: Callable[[str], str],
) -> None:
    port, nghttpd = startNghttpd(requirePeer("nghttpd"), tmp_path / "nghttpd", certs)
    url = f"https://127.0.0.1:{port}"

    async def main() -> None:
        agent, pool = proxyAgent(reactor, tinyproxy, certs)
        ds = [agent.request(b"GET", f"{url}/file.txt?{i}".encode()) for i in range(8)]
        for d in ds:
            response = await d
            assert response.version == (b"HTTP", 2, 0)
            assert response.code == 200
            assert await readBody(response) == FILE
        # A body larger than the stream's first window, both ways through the tunnel.
        response = await agent.request(b"POST", f"{url}/echo".encode(), None, Producer(300000))
        assert response.version == (b"HTTP", 2, 0)
        assert await readBody(response) == b"u" * 300000
        assert len(pool._http2) == 1
        await pool.closeCachedConnections()

    try:
        run(reactor, main)
    finally:
        stopPeer(nghttpd)
    # Every request went through one tunnel.
    assert tinyproxy.requestLines() == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]


def test_http2ToFwSiteThroughTinyproxy(
    run: Any, reactor: Any, tinyproxy: Tinyproxy, certs: Certificates
) -> None:
    with Origin(certs.serverOptions([b"h2", b"http/1.1"])) as origin:
        port = origin.portNumber

        async def main() -> None:
            agent, pool = proxyAgent(reactor, tinyproxy, certs)
            ds = [agent.request(b"GET", origin.target(f"/where?{i}")) for i in range(10)]
            for i, d in enumerate(ds):
                response = await d
                assert response.version == (b"HTTP", 2, 0)
                assert await readBody(response) == b"HTTP/2 /where?%d" % i
            # Later requests reuse the tunnel too.
            response = await agent.request(b"GET", origin.target("/again"))
            assert await readBody(response) == b"HTTP/2 /again"
            await pool.closeCachedConnections()

        run(reactor, main)
    assert len(origin.seen) == 11
    assert {proto for proto, _ in origin.seen} == {b"HTTP/2"}
    # One connection from the proxy to the origin: one tunnel.
    assert len({port for _, port in origin.seen}) == 1
    assert tinyproxy.requestLines() == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]


def test_http11OriginThroughTinyproxy(
    run: Any, reactor: Any, tinyproxy: Tinyproxy, certs: Certificates
) -> None:
    """An origin that picks http/1.1 by ALPN gets HTTP/1.1 in the tunnel, kept alive."""
    with Origin(certs.serverOptions([b"http/1.1"])) as origin:

        async def main() -> None:
            agent, pool = proxyAgent(reactor, tinyproxy, certs)
            for i in range(3):
                response = await agent.request(b"GET", origin.target(f"/one?{i}"))
                assert response.version == (b"HTTP", 1, 1)
                assert await readBody(response) == b"HTTP/1.1 /one?%d" % i
            assert not pool._http2
            await pool.closeCachedConnections()

        run(reactor, main)
    assert len({port for _, port in origin.seen}) == 1
    assert len(tinyproxy.requestLines()) == 1


def test_tunnelVerifiesTheOriginsName(
    run: Any,
    reactor: Any,
    tinyproxy: Tinyproxy,
    certs: Certificates,
    tmp_path: Path,
    requirePeer: Callable[[str], str],
) -> None:
    """The certificate's CA is trusted, but it names another host: the request fails."""
    other = Certificates(tmp_path / "other", ["other.example"])
    port, nghttpd = startNghttpd(requirePeer("nghttpd"), tmp_path / "nghttpd", other)

    async def main() -> list[Any]:
        agent, pool = proxyAgent(reactor, tinyproxy, other)
        try:
            await agent.request(b"GET", f"https://127.0.0.1:{port}/file.txt".encode())
        except ResponseNeverReceived as e:
            return [reason.value for reason in e.reasons]
        finally:
            await pool.closeCachedConnections()
        raise AssertionError("a certificate for another name was accepted")

    try:
        errors = run(reactor, main)
    finally:
        stopPeer(nghttpd)
    assert [type(error) for error in errors] == [VerificationError]
    assert "127.0.0.1" in str(errors[0])
    # The tunnel was opened; TLS inside it refused the origin.
    assert tinyproxy.requestLines() == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]


def test_agentsWithOtherPoliciesDoNotShareATunnel(
    run: Any, reactor: Any, tinyproxy: Tinyproxy, certs: Certificates, tmp_path: Path
) -> None:
    """
    Two ProxyAgents on one pool and one proxy endpoint: the one that does not
    trust the origin's CA gets no connection the other one verified.
    """
    stranger = Certificates(tmp_path / "stranger", ["127.0.0.1"])
    with Origin(certs.serverOptions([b"h2", b"http/1.1"])) as origin:

        async def main() -> list[Any]:
            pool = HTTPConnectionPool(reactor)
            endpoint = tinyproxy.endpoint(reactor)
            trusting = ProxyAgent(endpoint, reactor, pool, contextFactory=certs.policy())
            suspicious = ProxyAgent(endpoint, reactor, pool, contextFactory=stranger.policy())
            response = await trusting.request(b"GET", origin.target("/first"))
            assert response.version == (b"HTTP", 2, 0)
            # The verified HTTP/2 connection is open while the other agent asks.
            try:
                await suspicious.request(b"GET", origin.target("/second"))
            except ResponseNeverReceived as e:
                return [reason.value for reason in e.reasons]
            finally:
                await readBody(response)
                await pool.closeCachedConnections()
            raise AssertionError("a connection verified under another policy was reused")

        errors = run(reactor, main)
    assert [type(error) for error in errors] == [TLSHandshakeError]
    assert "certificate verify failed" in str(errors[0])
    assert [proto for proto, _ in origin.seen] == [b"HTTP/2"]


def test_refusedTunnelFailsEveryWaitingRequest(
    run: Any, reactor: Any, certs: Certificates, tmp_path: Path, requirePeer: Callable[[str], str]
) -> None:
    """tinyproxy refuses CONNECT to the origin's port: each request awaiting the tunnel fails."""
    port = freePort()
    proxy = Tinyproxy(requirePeer("tinyproxy"), tmp_path / "refusing", connectPorts=(port + 1,))

    async def main() -> list[int]:
        agent, pool = proxyAgent(reactor, proxy, certs)
        ds = [agent.request(b"GET", f"https://127.0.0.1:{port}/{i}".encode()) for i in range(4)]
        codes = []
        for d in ds:
            try:
                await d
            except ProxyTunnelError as e:
                codes.append(e.code)
        assert not pool._http2
        await pool.closeCachedConnections()
        return codes

    try:
        assert run(reactor, main) == [403] * 4
    finally:
        proxy.stop()
    assert proxy.requestLines() == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"]


# -- http through the proxy ------------------------------------------------------------


def test_plainHTTPStaysHTTP11(
    run: Any, reactor: Any, tinyproxy: Tinyproxy, certs: Certificates
) -> None:
    """
    http URIs are absolute-form HTTP/1.1 requests to the proxy, even from a
    pool that speaks HTTP/2 to an https origin through the same proxy, and
    that would speak cleartext HTTP/2 to http origins by prior knowledge.
    """
    with Origin() as plain, Origin(certs.serverOptions([b"h2", b"http/1.1"])) as secure:
        plainURLs = [plain.url(f"/plain?{i}") for i in range(3)]
        securePort = secure.portNumber

        async def main() -> None:
            agent, pool = proxyAgent(reactor, tinyproxy, certs)
            pool.http2PriorKnowledge = True
            ds = [agent.request(b"GET", plain.target(f"/plain?{i}")) for i in range(3)]
            ds.append(agent.request(b"GET", secure.target("/secure")))
            responses = [await d for d in ds]
            bodies = [await readBody(r) for r in responses]
            for response in responses[:3]:
                assert response.version[:2] == (b"HTTP", 1)
            assert [b.split(b" ")[1] for b in bodies[:3]] == [b"/plain?%d" % i for i in range(3)]
            assert responses[3].version == (b"HTTP", 2, 0)
            assert bodies[3] == b"HTTP/2 /secure"
            assert [key[0] for key in pool._http2] == ["https-tunnel"]
            await pool.closeCachedConnections()

        run(reactor, main)
    assert len(plain.seen) == 3
    assert {proto for proto, _ in plain.seen} <= {b"HTTP/1.0", b"HTTP/1.1"}
    lines = tinyproxy.requestLines()
    assert sorted(lines) == sorted(
        [f"GET {url} HTTP/1.1" for url in plainURLs] + [f"CONNECT 127.0.0.1:{securePort} HTTP/1.1"]
    )
