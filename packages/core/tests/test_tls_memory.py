"""TLSMemoryBIOProtocol on in-memory transports: handshake, data, errors, producers, closing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from OpenSSL import SSL
from service_identity import VerificationError
from zope.interface import implementer

from fw.internet import error, ssl
from fw.internet._testing_iosim import (
    IOPump,
    connect,
    connectedServerAndClient,
    makeFakeClient,
    makeFakeServer,
)
from fw.internet.interfaces import (
    IHalfCloseableProtocol,
    IHandshakeListener,
    INegotiated,
    IProtocolNegotiationFactory,
    IPullProducer,
    IPushProducer,
    ISSLTransport,
    ITCPTransport,
)
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.internet.testing import StringTransport
from fw.protocols.tls import (
    TLSError,
    TLSHandshakeError,
    TLSMemoryBIOFactory,
    TLSMemoryBIOProtocol,
)


@dataclass
class PKI:
    ca: ssl.PrivateCertificate
    server: ssl.PrivateCertificate
    other: ssl.PrivateCertificate
    client: ssl.PrivateCertificate
    stranger: ssl.PrivateCertificate


def _issue(ca: ssl.PrivateCertificate, name: str, serial: int) -> ssl.PrivateCertificate:
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName=name)), serial)
    return ssl.PrivateCertificate.fromCertificateAndKeyPair(cert, key)


@pytest.fixture(scope="module")
def pki() -> PKI:
    """A CA, certificates it issued, and a self-signed stranger; made at test time."""
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="fw test CA")
    stranger = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(9, commonName="localhost")
    return PKI(
        ca,
        _issue(ca, "localhost", 2),
        _issue(ca, "other.example", 3),
        _issue(ca, "client.example", 4),
        stranger,
    )


class Recorder(Protocol):
    """Records everything that happens to it."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.reason: Any = None
        self.made = False
        self.events: list[str] = []

    def connectionMade(self) -> None:
        self.made = True
        self.events.append("made")

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        self.events.append("data")

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.events.append("lost")


class Echo(Recorder):
    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        self.transport.write(data)


@implementer(IHandshakeListener)
class HandshakeRecorder(Recorder):
    def handshakeCompleted(self) -> None:
        self.events.append("handshake")


@implementer(IHalfCloseableProtocol)
class HalfCloser(Recorder):
    def readConnectionLost(self) -> None:
        self.events.append("readLost")

    def writeConnectionLost(self) -> None:
        self.events.append("writeLost")


def tlsPair(
    serverOptions: Any,
    clientOptions: Any,
    server: Any = Recorder,
    client: Any = Recorder,
    greet: bool = True,
) -> tuple[TLSMemoryBIOProtocol, TLSMemoryBIOProtocol, IOPump]:
    serverFactory = TLSMemoryBIOFactory(serverOptions, False, Factory.forProtocol(server))
    clientFactory = TLSMemoryBIOFactory(clientOptions, True, Factory.forProtocol(client))
    c, s, pump = connectedServerAndClient(serverFactory, clientFactory, greet=greet)
    return c, s, pump


def clientOptions(pki: PKI, name: str = "localhost", **kw: Any) -> Any:
    return ssl.optionsForClientTLS(name, trustRoot=pki.ca, **kw)


# -- the handshake and data ----------------------------------------------------------


def test_roundTrip(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), server=Echo)
    c.write(b"hello, ")
    c.writeSequence([b"TLS", b"!"])
    pump.flush()
    assert bytes(c.wrappedProtocol.data) == b"hello, TLS!"
    assert bytes(s.wrappedProtocol.data) == b"hello, TLS!"
    peer = ssl.Certificate(c.getPeerCertificate())
    assert peer.getSubject().commonName == "localhost"
    assert s.getPeerCertificate() is None
    assert isinstance(c.getHandle(), SSL.Connection)
    assert c.getHandle().get_protocol_version_name() == "TLSv1.3"


def test_wrapperProvidesTransportInterfaces(pki: PKI) -> None:
    c, s, _pump = tlsPair(pki.server.options(), clientOptions(pki))
    for p in (c, s):
        assert ISSLTransport.providedBy(p)
        assert INegotiated.providedBy(p)
        assert ITCPTransport.providedBy(p)
        assert p.wrappedProtocol.transport is p
        assert p.getPeer() == p.transport.getPeer()
    c.setTcpNoDelay(True)
    assert c.getTcpNoDelay() is True
    assert c.logPrefix() == "Recorder"


def test_writesBeforeHandshakeAreSentAfterIt(pki: PKI) -> None:
    class Greeter(Recorder):
        def connectionMade(self) -> None:
            super().connectionMade()
            self.transport.write(b"early")

    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), client=Greeter, greet=False)
    assert c.wrappedProtocol.made
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == b"early"


def test_handshakeCompletedHook(pki: PKI) -> None:
    _c, s, pump = tlsPair(
        pki.server.options(), clientOptions(pki), server=HandshakeRecorder, client=Echo
    )
    assert s.wrappedProtocol.events == ["made", "handshake"]
    s.write(b"x")
    pump.flush()
    assert s.wrappedProtocol.events == ["made", "handshake", "data"]


def _bytewisePump(c: TLSMemoryBIOProtocol, s: TLSMemoryBIOProtocol, pump: IOPump) -> int:
    """Move every byte on its own until nothing moves; return how many moved."""
    moved = 0
    while True:
        progress = False
        for side, peer in ((pump.clientIO, pump.serverIO), (pump.serverIO, pump.clientIO)):
            out = side.getOutBuffer()
            if out:
                for i in range(len(out)):
                    peer.bufferReceived(out[i : i + 1])
                moved += len(out)
                progress = True
        if not progress:
            return moved


def test_byteAtATime(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), server=Echo, greet=False)
    c.write(b"one byte at a time")
    moved = _bytewisePump(c, s, pump)
    assert moved > 500  # the whole handshake went byte by byte
    assert bytes(c.wrappedProtocol.data) == b"one byte at a time"


def test_oversizedWrite(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    blob = bytes(range(256)) * (4 * 4096)  # 4 MiB in one write
    c.write(blob)
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == blob
    assert len(s.wrappedProtocol.events) >= 16  # in bounded pieces (256 KiB at most)


# -- failures -----------------------------------------------------------------------


def test_garbageInsteadOfClientHello(pki: PKI) -> None:
    serverFactory = TLSMemoryBIOFactory(pki.server.options(), False, Factory.forProtocol(Recorder))
    server = serverFactory.buildProtocol(None)
    transport = StringTransport()
    server.makeConnection(transport)
    server.dataReceived(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert transport.disconnecting
    server.connectionLost(error.ConnectionDone())
    reason = server.wrappedProtocol.reason
    assert reason.check(TLSHandshakeError)
    assert reason.check(SSL.Error)  # as Twisted code expects
    assert str(reason.value) == "TLS handshake failed: http request"


def test_truncatedHandshake(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), greet=False)
    hello = pump.clientIO.getOutBuffer()
    assert hello is not None
    pump.serverIO.bufferReceived(hello[: len(hello) // 2])
    pump.clientIO.loseConnection()
    pump.flush()
    for p in (c, s):
        reason = p.wrappedProtocol.reason
        assert reason.check(error.ConnectionLost)
        assert "handshake" in str(reason.value)


def test_peerClosesMidHandshake(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), greet=False)
    pump.pump()  # ClientHello arrives, the server answers
    pump.serverIO.abortConnection()
    pump.flush()
    assert c.wrappedProtocol.reason.check(error.ConnectionLost)
    assert s.wrappedProtocol.reason.check(error.ConnectionAborted)
    assert c.wrappedProtocol.data == b""


def test_hostnameMismatchRefused(pki: PKI) -> None:
    c, s, _pump = tlsPair(pki.server.options(), clientOptions(pki, "www.example.com"))
    reason = c.wrappedProtocol.reason
    assert reason is not None
    assert reason.check(VerificationError)
    assert s.wrappedProtocol.reason is not None
    assert c.wrappedProtocol.data == b""


def test_untrustedCertificateRefused(pki: PKI) -> None:
    c, s, _pump = tlsPair(pki.stranger.options(), clientOptions(pki))
    reason = c.wrappedProtocol.reason
    assert reason.check(TLSHandshakeError)
    assert "certificate verify failed" in str(reason.value)
    assert "self-signed" in str(reason.value)
    assert s.wrappedProtocol.reason.check(SSL.Error)


def test_ipAddressIsVerified(pki: PKI) -> None:
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = pki.ca.signRequestObject(key.requestObject(ssl.DN(commonName="127.0.0.1")), 20)
    server = ssl.PrivateCertificate.fromCertificateAndKeyPair(cert, key)
    c, _s, pump = tlsPair(server.options(), clientOptions(pki, "127.0.0.1"), server=Echo)
    c.write(b"ip")
    pump.flush()
    assert bytes(c.wrappedProtocol.data) == b"ip"
    c, _s, pump = tlsPair(server.options(), clientOptions(pki, "127.0.0.2"))
    assert c.wrappedProtocol.reason.check(VerificationError)


def test_clientCertificateRequiredAndGiven(pki: PKI) -> None:
    serverOptions = pki.server.options(pki.ca)
    c, s, pump = tlsPair(serverOptions, clientOptions(pki, clientCertificate=pki.client), Echo)
    c.write(b"authenticated")
    pump.flush()
    assert bytes(c.wrappedProtocol.data) == b"authenticated"
    peer = ssl.Certificate.peerFromTransport(s)
    assert peer.getSubject().commonName == "client.example"


def test_clientCertificateRequiredAndMissing(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(pki.ca), clientOptions(pki))
    c.write(b"anybody there?")
    pump.flush()
    assert s.wrappedProtocol.data == b""
    assert s.wrappedProtocol.reason.check(TLSHandshakeError)
    assert "certificate" in str(s.wrappedProtocol.reason.value)
    assert c.wrappedProtocol.reason.check(SSL.Error)


def test_clientCertificateFromOtherAuthorityRefused(pki: PKI) -> None:
    _c, s, pump = tlsPair(
        pki.server.options(pki.ca), clientOptions(pki, clientCertificate=pki.stranger)
    )
    pump.flush()
    assert s.wrappedProtocol.reason.check(TLSHandshakeError)
    assert "certificate verify failed" in str(s.wrappedProtocol.reason.value)


def test_tls12OnlyPeerStillWorks(pki: PKI) -> None:
    client = ssl.optionsForClientTLS(
        "localhost",
        trustRoot=pki.ca,
        extraCertificateOptions={"lowerMaximumSecurityTo": ssl.TLSVersion.TLSv1_2},
    )
    c, _s, pump = tlsPair(pki.server.options(), client, server=Echo)
    assert c.getHandle().get_protocol_version_name() == "TLSv1.2"
    c.write(b"1.2")
    pump.flush()
    assert bytes(c.wrappedProtocol.data) == b"1.2"


def test_tls11Refused(pki: PKI) -> None:
    old = ssl.CertificateOptions(
        insecurelyLowerMinimumTo=ssl.TLSVersion.TLSv1_0,
        lowerMaximumSecurityTo=ssl.TLSVersion.TLSv1_1,
    )
    c, s, _pump = tlsPair(pki.server.options(), old)
    assert s.wrappedProtocol.reason.check(TLSHandshakeError)
    assert "unsupported protocol" in str(s.wrappedProtocol.reason.value)
    # The same client gets TLS 1.1 from a server that insecurely allows it.
    lowered = ssl.CertificateOptions(
        privateKey=pki.server.privateKey.original,
        certificate=pki.server.original,
        insecurelyLowerMinimumTo=ssl.TLSVersion.TLSv1_1,
    )
    c, s, _pump = tlsPair(lowered, old, server=Echo)
    assert c.getHandle().get_protocol_version_name() == "TLSv1.1"


def test_renegotiationRefusedByServer(pki: PKI) -> None:
    # The client side opts out of fw's refusal so that it can ask.
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_max_proto_version(SSL.TLS1_2_VERSION)

    class Raw:
        def getContext(self) -> Any:
            return ctx

    c, s, pump = tlsPair(pki.server.options(), Raw(), server=Echo)
    c.write(b"before")
    pump.flush()
    assert bytes(c.wrappedProtocol.data) == b"before"
    conn = c.getHandle()
    assert conn.renegotiate()
    try:
        conn.do_handshake()
    except SSL.WantReadError:
        pass
    c._flushSendBIO()
    pump.flush()
    reason = s.wrappedProtocol.reason
    assert reason is not None
    assert reason.check(TLSError)
    assert c.wrappedProtocol.reason is not None


# -- ALPN and SNI --------------------------------------------------------------------


def test_alpn(pki: PKI) -> None:
    server = ssl.CertificateOptions(
        privateKey=pki.server.privateKey.original,
        certificate=pki.server.original,
        acceptableProtocols=[b"h2", b"http/1.1"],
    )
    client = clientOptions(pki, acceptableProtocols=[b"http/1.1", b"h2"])
    c, s, _pump = tlsPair(server, client)
    assert c.negotiatedProtocol == b"h2"  # the server's preference wins
    assert s.negotiatedProtocol == b"h2"
    c, s, _pump = tlsPair(server, clientOptions(pki, acceptableProtocols=[b"spdy/3"]))
    assert c.negotiatedProtocol is None
    c, s, _pump = tlsPair(pki.server.options(), clientOptions(pki), greet=False)
    assert c.negotiatedProtocol is None  # not yet


def test_alpnFromProtocolNegotiationFactory(pki: PKI) -> None:
    @implementer(IProtocolNegotiationFactory)
    class Negotiating(ClientFactory):
        protocol = Recorder

        def acceptableProtocols(self) -> list[bytes]:
            return [b"imap"]

    server = ssl.CertificateOptions(
        privateKey=pki.server.privateKey.original,
        certificate=pki.server.original,
        acceptableProtocols=[b"pop3", b"imap"],
    )
    clientFactory = TLSMemoryBIOFactory(clientOptions(pki), True, Negotiating())
    serverFactory = TLSMemoryBIOFactory(server, False, Factory.forProtocol(Recorder))
    c, _s, _pump = connectedServerAndClient(serverFactory, clientFactory)
    assert c.negotiatedProtocol == b"imap"


def test_sni(pki: PKI) -> None:
    sni = ssl.ServerNameIndication(
        {"localhost": pki.server.options(), "*.example": pki.other.options()},
        default=pki.server.options(),
    )
    for name, expected in (("localhost", "localhost"), ("other.example", "other.example")):
        c, s, pump = tlsPair(sni, clientOptions(pki, name), server=Echo)
        c.write(b"sni")
        pump.flush()
        assert bytes(c.wrappedProtocol.data) == b"sni"
        assert ssl.Certificate(c.getPeerCertificate()).getSubject().commonName == expected
        assert s.getHandle().get_servername() == name.encode()


# -- closing -------------------------------------------------------------------------


def test_cleanCloseSendsCloseNotify(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    c.write(b"last words")
    c.loseConnection()
    c.write(b"dropped")
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == b"last words"
    assert s.wrappedProtocol.reason.check(error.ConnectionDone)
    assert c.wrappedProtocol.reason.check(error.ConnectionDone)
    assert s.getHandle().get_shutdown() & SSL.RECEIVED_SHUTDOWN


def test_loseConnectionDuringHandshake(pki: PKI) -> None:
    class Impatient(Recorder):
        def connectionMade(self) -> None:
            self.transport.write(b"bye")
            self.transport.loseConnection()

    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), client=Impatient, greet=False)
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == b"bye"
    assert s.wrappedProtocol.reason.check(error.ConnectionDone)
    assert c.wrappedProtocol.reason.check(error.ConnectionDone)


def test_truncationWithoutCloseNotify(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    c.write(b"partial")
    pump.flush()
    # The client's TCP closes without TLS saying goodbye.
    c.transport.loseConnection()
    pump.flush()
    reason = s.wrappedProtocol.reason
    assert reason.check(error.ConnectionLost)
    assert "close_notify" in str(reason.value)


def test_abortConnection(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    c.write(b"never sent")
    c.abortConnection()
    pump.flush()
    assert c.wrappedProtocol.reason.check(error.ConnectionAborted)
    assert s.wrappedProtocol.data == b""
    assert s.wrappedProtocol.reason.check(error.ConnectionLost)


def test_halfClose(pki: PKI) -> None:
    c, s, pump = tlsPair(
        pki.server.options(), clientOptions(pki), server=HalfCloser, client=HalfCloser
    )
    c.write(b"request")
    c.loseWriteConnection()
    c.write(b"dropped after close_notify")
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == b"request"
    assert s.wrappedProtocol.events[-1] == "readLost"
    assert c.wrappedProtocol.events[-1] == "writeLost"
    assert c.wrappedProtocol.reason is None
    # The server answers after the client's end of input, then closes.
    s.write(b"response")
    s.loseConnection()
    pump.flush()
    assert bytes(c.wrappedProtocol.data) == b"response"
    assert c.wrappedProtocol.reason.check(error.ConnectionDone)
    assert s.wrappedProtocol.reason.check(error.ConnectionDone)


def test_closeNotifyClosesNonHalfCloseableProtocol(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), client=HalfCloser)
    c.loseWriteConnection()
    pump.flush()
    assert s.wrappedProtocol.reason.check(error.ConnectionDone)
    assert c.wrappedProtocol.reason.check(error.ConnectionDone)


# -- producers -----------------------------------------------------------------------


@implementer(IPushProducer)
class PushProducer:
    def __init__(self, transport: Any, chunk: bytes, count: int) -> None:
        self.transport = transport
        self.chunk = chunk
        self.left = count
        self.paused = False
        self.pauses = 0
        self.stopped = False

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False
        while not self.paused and self.left:
            self.left -= 1
            self.transport.write(self.chunk)
        if not self.left:
            self.transport.unregisterProducer()
            self.transport.loseConnection()

    def stopProducing(self) -> None:
        self.stopped = True


@implementer(IPullProducer)
class PullProducer:
    def __init__(self, transport: Any, chunks: list[bytes]) -> None:
        self.transport = transport
        self.chunks = list(chunks)
        self.calls = 0

    def resumeProducing(self) -> None:
        self.calls += 1
        if self.chunks:
            self.transport.write(self.chunks.pop(0))
        else:
            self.transport.unregisterProducer()
            self.transport.loseConnection()

    def stopProducing(self) -> None:
        pass


def test_pushProducerIsHeldDuringHandshakeAndPausedByBackPressure(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), greet=False)
    producer = PushProducer(c, b"x" * 16384, 64)  # 1 MiB
    c.registerProducer(producer, True)
    assert producer.paused  # nothing can be sent before the handshake
    assert pump.clientIO.producer is not None
    pump.flush()
    producer.resumeProducing()  # start it, as an application would
    pump.flush()
    assert producer.pauses >= 2  # the fake transport's 64 KiB buffer filled
    assert len(s.wrappedProtocol.data) == 16384 * 64
    assert s.wrappedProtocol.reason.check(error.ConnectionDone)


def test_pullProducer(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki), greet=False)
    chunks = [bytes([i]) * 30000 for i in range(10)]
    producer = PullProducer(c, chunks)
    c.registerProducer(producer, False)
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == b"".join(chunks)
    assert producer.calls == 11
    assert s.wrappedProtocol.reason.check(error.ConnectionDone)


def test_loseConnectionWaitsForProducer(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    producer = PushProducer(c, b"y" * 1000, 3)
    c.registerProducer(producer, True)
    c.loseConnection()
    pump.flush()
    assert c.wrappedProtocol.reason is None  # still open: the producer is registered
    producer.resumeProducing()  # writes its 3 chunks, unregisters, closes
    pump.flush()
    assert len(s.wrappedProtocol.data) == 3000
    assert c.wrappedProtocol.reason.check(error.ConnectionDone)


def test_secondProducerRefused(pki: PKI) -> None:
    c, _s, _pump = tlsPair(pki.server.options(), clientOptions(pki))
    c.registerProducer(PushProducer(c, b"", 0), True)
    with pytest.raises(RuntimeError):
        c.registerProducer(PushProducer(c, b"", 0), True)


def test_producerStoppedWhenConnectionLost(pki: PKI) -> None:
    c, _s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    producer = PushProducer(c, b"z", 1)
    c.registerProducer(producer, True)
    c.abortConnection()
    pump.flush()
    assert producer.stopped


def test_pauseReading(pki: PKI) -> None:
    c, s, pump = tlsPair(pki.server.options(), clientOptions(pki))
    s.pauseProducing()
    c.write(b"held")
    pump.flush()
    assert s.wrappedProtocol.data == b""
    s.resumeProducing()
    pump.flush()
    assert bytes(s.wrappedProtocol.data) == b"held"


# -- TLS over TLS --------------------------------------------------------------------


def test_tlsInTls(pki: PKI) -> None:
    """The outer TLS connection is the transport of the inner one."""
    innerServer = TLSMemoryBIOFactory(pki.other.options(), False, Factory.forProtocol(Echo))
    innerClient = TLSMemoryBIOFactory(
        clientOptions(pki, "other.example"), True, Factory.forProtocol(Recorder)
    )
    outerServer = TLSMemoryBIOFactory(pki.server.options(), False, innerServer)
    outerClient = TLSMemoryBIOFactory(clientOptions(pki), True, innerClient)
    c, _s, pump = connectedServerAndClient(outerServer, outerClient)
    inner = c.wrappedProtocol
    assert isinstance(inner, TLSMemoryBIOProtocol)
    inner.write(b"nested")
    pump.flush()
    assert bytes(inner.wrappedProtocol.data) == b"nested"
    assert ssl.Certificate(inner.getPeerCertificate()).getSubject().commonName == "other.example"
    assert ssl.Certificate(c.getPeerCertificate()).getSubject().commonName == "localhost"
    inner.loseConnection()
    pump.flush()
    assert inner.wrappedProtocol.reason.check(error.ConnectionDone)


# -- factories -----------------------------------------------------------------------


def test_factoryPassesClientEventsAndRefusals(pki: PKI) -> None:
    events: list[str] = []

    class Watching(ClientFactory):
        def startedConnecting(self, connector: Any) -> None:
            events.append("started")

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
            events.append("failed")

        def clientConnectionLost(self, connector: Any, reason: Any) -> None:
            events.append("lost")

        def buildProtocol(self, addr: Any) -> Any:
            return None

    factory = TLSMemoryBIOFactory(clientOptions(pki), True, Watching())
    factory.startedConnecting(None)  # type: ignore[arg-type]
    factory.clientConnectionFailed(None, None)  # type: ignore[arg-type]
    factory.clientConnectionLost(None, None)  # type: ignore[arg-type]
    assert events == ["started", "failed", "lost"]
    assert factory.buildProtocol(None) is None  # type: ignore[arg-type]
    assert factory.logPrefix() == "Watching (TLS)"


def test_factoryRejectsNonOptions() -> None:
    with pytest.raises(TypeError, match="cannot make TLS server connections"):
        TLSMemoryBIOFactory(object(), False, Factory())


def test_protocolsTracked(pki: PKI) -> None:
    serverFactory = TLSMemoryBIOFactory(pki.server.options(), False, Factory.forProtocol(Echo))
    clientFactory = TLSMemoryBIOFactory(clientOptions(pki), True, Factory.forProtocol(Recorder))
    server = serverFactory.buildProtocol(None)
    client = clientFactory.buildProtocol(None)
    pump = connect(server, makeFakeServer(server), client, makeFakeClient(client))
    assert list(serverFactory.protocols) == [server]
    client.loseConnection()
    pump.flush()
    assert serverFactory.protocols == {}
