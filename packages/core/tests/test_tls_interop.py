"""fw's TLS against independent peers on 127.0.0.1: openssl, curl, Python's ssl module."""

from __future__ import annotations

import socket
import ssl as stdlibssl
import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fw.internet import error, ssl
from fw.internet.defer import Deferred
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.internet.threads import deferToThreadPool
from fw.protocols.tls import TLSError, TLSHandshakeError

# Interop is about the peers, not the backends: one backend is enough here
# (test_starttls.py and test_ssl_reactor.py run TLS on every backend).
pytestmark = pytest.mark.parametrize("reactor", ["epoll"], indirect=True)


@dataclass
class Files:
    ca: ssl.PrivateCertificate
    server: ssl.PrivateCertificate
    other: ssl.PrivateCertificate
    client: ssl.PrivateCertificate
    caPem: str
    serverCert: str
    serverKey: str
    clientCert: str
    clientKey: str


def _issue(ca: ssl.PrivateCertificate, name: str, serial: int) -> ssl.PrivateCertificate:
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName=name)), serial)
    return ssl.PrivateCertificate.fromCertificateAndKeyPair(cert, key)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """A CA and certificates made now, written as PEM files for the peers."""
    d = tmp_path_factory.mktemp("pki")
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="interop CA")
    server = _issue(ca, "localhost", 2)
    other = _issue(ca, "other.example", 3)
    client = _issue(ca, "client.example", 4)

    def write(name: str, data: bytes) -> str:
        path = d / name
        path.write_bytes(data)
        return str(path)

    return Files(
        ca,
        server,
        other,
        client,
        write("ca.pem", ca.dump(ssl.FILETYPE_PEM)),
        write("server.pem", server.dump(ssl.FILETYPE_PEM)),
        write("server.key", server.privateKey.dump(ssl.FILETYPE_PEM)),
        write("client.pem", client.dump(ssl.FILETYPE_PEM)),
        write("client.key", client.privateKey.dump(ssl.FILETYPE_PEM)),
    )


def inThread(reactor: Any, f: Any, *args: Any, **kw: Any) -> Deferred[Any]:
    return deferToThreadPool(reactor, reactor.getThreadPool(), f, *args, **kw)


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- fw servers ------------------------------------------------------------------------


class PingServer(Protocol):
    """Answers ``ping`` with ``pong`` and closes; remembers how it ended."""

    def __init__(self) -> None:
        self.ended: Deferred[None] = Deferred()
        self.reason: Any = None
        self.received = b""

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if b"ping\n" in self.received:
            self.transport.write(b"pong\n")
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(None)


class ServerFactory(Factory):
    def __init__(self, protocol: type[PingServer] = PingServer) -> None:
        self.protocol = protocol
        self.built: list[PingServer] = []

    def buildProtocol(self, addr: Any) -> Any:
        p = self.protocol()
        p.factory = self
        self.built.append(p)
        return p


def listen(reactor: Any, options: Any) -> tuple[Any, ServerFactory, int]:
    factory = ServerFactory()
    port = reactor.listenSSL(0, factory, options, interface="127.0.0.1")
    return port, factory, port.getHost().port


def alpnServerOptions(files: Files, protocols: list[bytes]) -> ssl.CertificateOptions:
    return ssl.CertificateOptions(
        privateKey=files.server.privateKey.original,
        certificate=files.server.original,
        acceptableProtocols=protocols,
    )


def test_opensslClientAgainstFwServer(
    reactor: Any, runReactor: Any, requirePeer: Any, files: Files
) -> None:
    openssl = requirePeer("openssl")
    port, factory, number = listen(reactor, alpnServerOptions(files, [b"h2", b"http/1.1"]))
    argv = [openssl, "s_client", "-connect", f"127.0.0.1:{number}", "-CAfile", files.caPem]
    argv += ["-verify_hostname", "localhost", "-verify_return_error", "-alpn", "h2"]
    argv += ["-servername", "localhost", "-ign_eof"]

    async def run() -> subprocess.CompletedProcess[bytes]:
        done = inThread(
            reactor, subprocess.run, argv, input=b"ping\n", capture_output=True, timeout=10
        )
        result = await done
        await factory.built[0].ended
        reason = factory.built[0].reason
        assert reason.check(error.ConnectionDone)
        await port.stopListening()
        return result  # type: ignore[no-any-return]

    result = runReactor(reactor, run)
    out = result.stdout.decode()
    assert "pong" in out
    assert "Verification: OK" in out
    assert "ALPN protocol: h2" in out
    assert "TLSv1.3" in out


def test_opensslRenegotiationRefused(
    reactor: Any, runReactor: Any, requirePeer: Any, files: Files
) -> None:
    openssl = requirePeer("openssl")
    port, factory, number = listen(reactor, files.server.options())
    # TLS 1.3 has no renegotiation; s_client's "R" line asks for one in TLS 1.2.
    argv = [openssl, "s_client", "-connect", f"127.0.0.1:{number}", "-tls1_2"]
    argv += ["-CAfile", files.caPem, "-legacy_renegotiation"]

    async def run() -> Any:
        done = inThread(
            reactor, subprocess.run, argv, input=b"R\n", capture_output=True, timeout=10
        )
        result = await done
        await factory.built[0].ended
        reason = factory.built[0].reason
        await port.stopListening()
        return result, reason

    result, reason = runReactor(reactor, run)
    assert "RENEGOTIATING" in result.stdout.decode() + result.stderr.decode()
    assert reason.check(TLSError), reason
    assert factory.built[0].received == b""


def test_curlAgainstFwServer(
    reactor: Any, runReactor: Any, requirePeer: Any, files: Files
) -> None:
    curl = requirePeer("curl")

    class HTTP(PingServer):
        def dataReceived(self, data: bytes) -> None:
            self.received += data
            if b"\r\n\r\n" in self.received:
                protocol = self.transport.negotiatedProtocol
                body = b"hello over " + (protocol or b"nothing")
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(body), body)
                )
                self.transport.loseConnection()

    factory = ServerFactory(HTTP)
    options = alpnServerOptions(files, [b"h2", b"http/1.1"])
    port = reactor.listenSSL(0, factory, options, interface="127.0.0.1")
    number = port.getHost().port
    argv = [curl, "-sS", "-v", "--http1.1", "--cacert", files.caPem]
    argv += ["--resolve", f"localhost:{number}:127.0.0.1", f"https://localhost:{number}/"]

    async def run() -> subprocess.CompletedProcess[bytes]:
        result = await inThread(reactor, subprocess.run, argv, capture_output=True, timeout=10)
        await factory.built[0].ended
        await port.stopListening()
        return result  # type: ignore[no-any-return]

    result = runReactor(reactor, run)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello over http/1.1"
    assert "ALPN: server accepted http/1.1" in result.stderr.decode()


def _pythonClient(port: int, files: Files, **kw: Any) -> tuple[bytes, dict[str, Any] | None]:
    ctx = stdlibssl.create_default_context(cafile=files.caPem)
    serverName = kw.pop("serverName", "localhost")
    if "certfile" in kw:
        ctx.load_cert_chain(kw.pop("certfile"), kw.pop("keyfile"))
    with warnings.catch_warnings():
        # TLS 1.0 and 1.1 are deprecated: that is what the test checks.
        warnings.simplefilter("ignore", DeprecationWarning)
        for name, value in kw.items():
            setattr(ctx, name, value)
    if ctx.maximum_version <= stdlibssl.TLSVersion.TLSv1_1:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=serverName) as tls,
    ):
        cert = tls.getpeercert()
        tls.sendall(b"ping\n")
        answer = b""
        while chunk := tls.recv(100):
            answer += chunk
        return answer, cert


def _subjectCN(cert: dict[str, Any] | None) -> str:
    assert cert is not None
    for rdn in cert["subject"]:
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    raise AssertionError(cert)


def test_pythonClientAgainstFwServer(reactor: Any, runReactor: Any, files: Files) -> None:
    port, _factory, number = listen(reactor, files.server.options())

    async def run() -> Any:
        result = await inThread(reactor, _pythonClient, number, files)
        await port.stopListening()
        return result

    answer, cert = runReactor(reactor, run)
    assert answer == b"pong\n"
    assert _subjectCN(cert) == "localhost"


def test_sniWithPythonClient(reactor: Any, runReactor: Any, files: Files) -> None:
    sni = ssl.ServerNameIndication(
        {"localhost": files.server.options(), "other.example": files.other.options()},
        default=files.server.options(),
    )
    port, _factory, number = listen(reactor, sni)

    async def run() -> Any:
        first = await inThread(reactor, _pythonClient, number, files)
        second = await inThread(
            reactor, lambda: _pythonClient(number, files, serverName="other.example")
        )
        await port.stopListening()
        return first, second

    (a1, c1), (a2, c2) = runReactor(reactor, run)
    assert (a1, a2) == (b"pong\n", b"pong\n")
    assert _subjectCN(c1) == "localhost"
    assert _subjectCN(c2) == "other.example"


def test_clientCertificateRequiredWithPythonClient(
    reactor: Any, runReactor: Any, files: Files
) -> None:
    port, factory, number = listen(reactor, files.server.options(files.ca))

    def refused() -> str:
        try:
            _pythonClient(number, files)
        except (stdlibssl.SSLError, ConnectionError) as e:
            return str(e)
        return "no error"

    async def run() -> Any:
        accepted = await inThread(
            reactor,
            lambda: _pythonClient(
                number, files, certfile=files.clientCert, keyfile=files.clientKey
            ),
        )
        peer = factory.built[0]
        await peer.ended
        withoutCertificate = await inThread(reactor, refused)
        await factory.built[1].ended
        reason = factory.built[1].reason
        await port.stopListening()
        return accepted, withoutCertificate, reason

    accepted, withoutCertificate, reason = runReactor(reactor, run)
    assert accepted[0] == b"pong\n"
    assert withoutCertificate != "no error"
    assert "certificate" in withoutCertificate
    assert reason.check(TLSHandshakeError)
    assert "peer did not return a certificate" in str(reason.value)


def test_tls11RefusedByDefault(reactor: Any, runReactor: Any, files: Files) -> None:
    port, factory, number = listen(reactor, files.server.options())
    lowered = ssl.CertificateOptions(
        privateKey=files.server.privateKey.original,
        certificate=files.server.original,
        insecurelyLowerMinimumTo=ssl.TLSVersion.TLSv1_1,
    )
    oldPort, _oldFactory, oldNumber = listen(reactor, lowered)
    old = {
        "minimum_version": stdlibssl.TLSVersion.TLSv1,
        "maximum_version": stdlibssl.TLSVersion.TLSv1_1,
    }

    def attempt(n: int) -> str:
        try:
            _pythonClient(n, files, **old)
        except (stdlibssl.SSLError, ConnectionError) as e:
            return f"refused: {e}"
        return "accepted"

    async def run() -> Any:
        default = await inThread(reactor, attempt, number)
        control = await inThread(reactor, attempt, oldNumber)
        await factory.built[0].ended
        reason = factory.built[0].reason
        await port.stopListening()
        await oldPort.stopListening()
        return default, control, reason

    default, control, reason = runReactor(reactor, run)
    assert control == "accepted"  # the client really speaks TLS 1.1...
    assert default.startswith("refused")  # ...and fw's defaults refuse it
    assert reason.check(TLSHandshakeError)
    assert "unsupported protocol" in str(reason.value)


# -- fw clients ------------------------------------------------------------------------


class PingClient(Protocol):
    def __init__(self) -> None:
        self.received = b""
        self.ended: Deferred[None] = Deferred()
        self.reason: Any = None

    def connectionMade(self) -> None:
        self.transport.write(b"ping\n")

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if b"\n" in self.received:
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(None)


def connect(reactor: Any, port: int, options: Any) -> PingClient:
    client = PingClient()
    factory = ClientFactory.forProtocol(lambda: client)
    reactor.connectSSL("127.0.0.1", port, factory, options)
    return client


def test_fwClientAgainstOpensslServer(
    reactor: Any, runReactor: Any, requirePeer: Any, files: Files
) -> None:
    openssl = requirePeer("openssl")
    number = freePort()
    argv = [openssl, "s_server", "-accept", f"127.0.0.1:{number}", "-cert", files.serverCert]
    argv += ["-key", files.serverKey, "-rev", "-naccept", "1", "-alpn", "imap"]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        while line and b"ACCEPT" not in line:
            line = server.stdout.readline()
        options = ssl.optionsForClientTLS(
            "localhost", trustRoot=files.ca, acceptableProtocols=[b"pop3", b"imap"]
        )

        async def run() -> Any:
            client = connect(reactor, number, options)
            await client.ended
            reason = client.reason
            return client, reason

        client, reason = runReactor(reactor, run)
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    assert client.received == b"gnip\n"
    assert reason.check(error.ConnectionDone)


def _pythonServer(files: Files, listener: socket.socket, **kw: Any) -> None:
    ctx = stdlibssl.SSLContext(stdlibssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(kw.get("cert", files.serverCert), kw.get("key", files.serverKey))
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(10)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = tls.recv(100)
                    if not chunk:
                        break
                    data += chunk
                tls.sendall(data.upper())
                tls.unwrap()
        except (stdlibssl.SSLError, OSError):
            pass


def test_fwClientAgainstPythonServer(reactor: Any, runReactor: Any, files: Files) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    number = listener.getsockname()[1]
    thread = threading.Thread(target=_pythonServer, args=(files, listener))
    thread.start()
    try:

        async def run() -> Any:
            client = connect(reactor, number, ssl.optionsForClientTLS("localhost", files.ca))
            await client.ended
            reason = client.reason
            return client, reason

        client, reason = runReactor(reactor, run)
    finally:
        thread.join(10)
        listener.close()
    assert client.received == b"PING\n"
    assert reason.check(error.ConnectionDone)


def test_fwClientRefusesHostnameMismatch(reactor: Any, runReactor: Any, files: Files) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    number = listener.getsockname()[1]
    thread = threading.Thread(target=_pythonServer, args=(files, listener))
    thread.start()
    try:

        async def run() -> Any:
            options = ssl.optionsForClientTLS("www.example.org", files.ca)
            client = connect(reactor, number, options)
            await client.ended
            reason = client.reason
            return client, reason

        client, reason = runReactor(reactor, run)
    finally:
        thread.join(10)
        listener.close()
    from service_identity import VerificationError

    assert reason.check(VerificationError)
    assert client.received == b""


def test_fwClientRefusesUntrustedServer(
    reactor: Any, runReactor: Any, files: Files, tmp_path: Path
) -> None:
    stranger = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(7, commonName="localhost")
    cert, key = tmp_path / "s.pem", tmp_path / "s.key"
    cert.write_bytes(stranger.dump(ssl.FILETYPE_PEM))
    key.write_bytes(stranger.privateKey.dump(ssl.FILETYPE_PEM))
    listener = socket.create_server(("127.0.0.1", 0))
    number = listener.getsockname()[1]
    thread = threading.Thread(
        target=_pythonServer, args=(files, listener), kwargs={"cert": str(cert), "key": str(key)}
    )
    thread.start()
    try:

        async def run() -> Any:
            client = connect(reactor, number, ssl.optionsForClientTLS("localhost", files.ca))
            await client.ended
            return [client.reason]

        [reason] = runReactor(reactor, run)
    finally:
        thread.join(10)
        listener.close()
    assert reason.check(TLSHandshakeError)
    assert "self-signed certificate" in str(reason.value)
