"""STARTTLS (``ITLSTransport.startTLS``) and listenSSL/connectSSL on every reactor backend."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from fw.internet import error, ssl
from fw.internet.address import IPv4Address
from fw.internet.defer import Deferred
from fw.internet.interfaces import INegotiated, ISSLTransport, ITLSTransport
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.protocols.tls import TLSMemoryBIOProtocol

_PEER = IPv4Address("TCP", "127.0.0.1", 1)


@pytest.fixture(scope="module")
def pki() -> tuple[ssl.PrivateCertificate, ssl.PrivateCertificate]:
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="STARTTLS CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    return ca, ssl.PrivateCertificate.fromCertificateAndKeyPair(cert, key)


class Lines(Protocol):
    """A tiny line protocol (the framing helpers are not what is tested here)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.lines: list[bytes] = []
        self.ended: Deferred[None] = Deferred()
        self.reason: Any = None

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            self.lines.append(line)
            self.lineReceived(line)

    def lineReceived(self, line: bytes) -> None:
        pass

    def sendLine(self, line: bytes) -> None:
        self.transport.write(line + b"\r\n")

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(None)


class StartTLSServer(Lines):
    """``STARTTLS`` -> ``220 go ahead`` in the clear, then TLS; then echoes ``ECHO`` lines."""

    options: Any = None

    def lineReceived(self, line: bytes) -> None:
        if line == b"STARTTLS":
            self.sendLine(b"220 go ahead")
            self.transport.startTLS(self.options)
            self.wasTLS = ISSLTransport.providedBy(self.transport)
        elif line.startswith(b"ECHO "):
            self.sendLine(line[5:])
        elif line == b"QUIT":
            self.sendLine(b"221 bye")
            self.transport.loseConnection()


class StartTLSClient(Lines):
    options: Any = None

    def connectionMade(self) -> None:
        self.sendLine(b"EHLO")
        self.sendLine(b"STARTTLS")

    def lineReceived(self, line: bytes) -> None:
        if line == b"220 go ahead":
            self.transport.startTLS(self.options)
            # Written after startTLS: encrypted.
            self.sendLine(b"ECHO secret")
        elif line == b"secret":
            self.peer = self.transport.getPeerCertificate()
            self.sendLine(b"QUIT")


def _factories(pki: Any) -> tuple[Factory, ClientFactory, list[Any], list[Any]]:
    ca, server = pki
    servers: list[Any] = []
    clients: list[Any] = []

    class S(StartTLSServer):
        options = server.options()

        def __init__(self) -> None:
            super().__init__()
            servers.append(self)

    class C(StartTLSClient):
        options = ssl.optionsForClientTLS("localhost", trustRoot=ca)

        def __init__(self) -> None:
            super().__init__()
            clients.append(self)

    return Factory.forProtocol(S), ClientFactory.forProtocol(C), servers, clients


def test_starttlsOverTCP(reactor: Any, runReactor: Any, pki: Any) -> None:
    serverFactory, clientFactory, servers, clients = _factories(pki)
    port = reactor.listenTCP(0, serverFactory, interface="127.0.0.1")

    async def run() -> None:
        reactor.connectTCP("127.0.0.1", port.getHost().port, clientFactory)
        while not clients or not servers:
            d: Deferred[None] = Deferred()
            reactor.callLater(0.01, d.callback, None)
            await d
        await clients[0].ended
        await servers[0].ended
        await port.stopListening()

    runReactor(reactor, run)
    client, server = clients[0], servers[0]
    assert server.lines == [b"EHLO", b"STARTTLS", b"ECHO secret", b"QUIT"]
    assert client.lines == [b"220 go ahead", b"secret", b"221 bye"]
    assert server.wasTLS
    assert ssl.Certificate(client.peer).getSubject().commonName == "localhost"
    assert client.reason.check(error.ConnectionDone)
    assert server.reason.check(error.ConnectionDone)


def test_starttlsOverUNIX(reactor: Any, runReactor: Any, pki: Any, tmp_path: Any) -> None:
    serverFactory, clientFactory, servers, clients = _factories(pki)
    path = str(tmp_path / "s.sock")
    port = reactor.listenUNIX(path, serverFactory)

    async def run() -> None:
        reactor.connectUNIX(path, clientFactory)
        while not clients or not servers:
            d: Deferred[None] = Deferred()
            reactor.callLater(0.01, d.callback, None)
            await d
        await clients[0].ended
        await servers[0].ended
        await port.stopListening()

    runReactor(reactor, run)
    assert clients[0].lines == [b"220 go ahead", b"secret", b"221 bye"]


def test_tcpTransportsProvideITLSTransport(reactor: Any) -> None:
    from fw.internet import tcp, unix

    assert ITLSTransport.implementedBy(tcp.Server)
    assert ITLSTransport.implementedBy(tcp.Client)
    assert ITLSTransport.implementedBy(unix.Server)
    a, b = socket.socketpair()
    try:
        transport = tcp.Server(a, Protocol(), _PEER, None, 0, reactor)
        assert ITLSTransport.providedBy(transport)
        assert not ISSLTransport.providedBy(transport)
        assert transport.negotiatedProtocol is None
    finally:
        a.close()
        b.close()


def test_startTLSTwiceRefused(pki: Any) -> None:
    from fw.internet.testing import MemoryReactorClock

    _ca, server = pki
    a, b = socket.socketpair()
    try:
        from fw.internet import tcp

        transport = tcp.Server(a, Protocol(), _PEER, None, 0, MemoryReactorClock())
        transport.connected = True
        transport.startTLS(server.options())
        assert ISSLTransport.providedBy(transport)
        assert INegotiated.providedBy(transport)
        assert isinstance(transport.protocol, TLSMemoryBIOProtocol)
        with pytest.raises(RuntimeError):
            transport.startTLS(server.options())
    finally:
        a.close()
        b.close()


# -- listenSSL / connectSSL ------------------------------------------------------------


class Sink(Protocol):
    def __init__(self) -> None:
        self.received = 0
        self.ended: Deferred[None] = Deferred()
        self.reason: Any = None

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        if self.received >= _BULK:
            self.transport.write(b"done")
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(None)


_BULK = 4 * 1024 * 1024


class Sender(Protocol):
    def __init__(self) -> None:
        self.reply = b""
        self.ended: Deferred[None] = Deferred()
        self.reason: Any = None

    def connectionMade(self) -> None:
        chunk = b"\xa5" * 65536
        for _ in range(_BULK // len(chunk)):
            self.transport.write(chunk)

    def dataReceived(self, data: bytes) -> None:
        self.reply += data

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(None)


def test_listenSSLAndConnectSSL(reactor: Any, runReactor: Any, pki: Any) -> None:
    ca, server = pki
    sinks: list[Sink] = []

    class Factory1(Factory):
        def buildProtocol(self, addr: Any) -> Any:
            sinks.append(Sink())
            return sinks[-1]

    port = reactor.listenSSL(0, Factory1(), server.options(), interface="127.0.0.1")
    sender = Sender()
    options = ssl.optionsForClientTLS("localhost", trustRoot=ca)

    async def run() -> None:
        connector = reactor.connectSSL(
            "127.0.0.1", port.getHost().port, ClientFactory.forProtocol(lambda: sender), options
        )
        assert connector.getDestination().port == port.getHost().port
        await sender.ended
        await sinks[0].ended
        await port.stopListening()

    runReactor(reactor, run)
    assert sinks[0].received == _BULK
    assert sender.reply == b"done"
    assert sender.reason.check(error.ConnectionDone)
    assert sinks[0].reason.check(error.ConnectionDone)
    assert ISSLTransport.providedBy(sender.transport)
