"""TLS endpoints: ssl:/tls: descriptions, SSL4 endpoints, wrapClientTLS over TCP and UNIX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fw.internet import error, ssl
from fw.internet._endpoints_tls import sslClientParser, sslServerParser, tlsClientParser
from fw.internet.defer import Deferred
from fw.internet.endpoints import (
    SSL4ClientEndpoint,
    SSL4ServerEndpoint,
    TCP4ClientEndpoint,
    UNIXClientEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
    wrapClientTLS,
)
from fw.internet.protocol import Factory, Protocol

pytestmark = pytest.mark.parametrize("reactor", ["epoll"], indirect=True)


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("pem")
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="endpoint CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    ckey = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    ccert = ca.signRequestObject(ckey.requestObject(ssl.DN(commonName="client")), 3)
    for name in ("roots", "badroots", "emptyroots"):
        (d / name).mkdir()
    files = {
        "key": key.dump(ssl.FILETYPE_PEM),
        "cert": cert.dump(ssl.FILETYPE_PEM),
        "both": cert.dump(ssl.FILETYPE_PEM) + key.dump(ssl.FILETYPE_PEM),
        "roots/ca.pem": ca.dump(ssl.FILETYPE_PEM),
        "ckey": ckey.dump(ssl.FILETYPE_PEM),
        "ccert": ccert.dump(ssl.FILETYPE_PEM),
        "garbage": b"not a PEM file\n",
        "badroots/bad.pem": b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "emptyroots/readme.txt": b"nothing here\n",
    }
    paths = {}
    for name, data in files.items():
        (d / name).write_bytes(data)
        paths[name] = str(d / name)
    for name in ("roots", "badroots", "emptyroots"):
        paths[name] = str(d / name)
    paths["dir"] = str(d)
    return paths


_serversEnded: list[Deferred[None]] = []


class Echo(Protocol):
    def connectionMade(self) -> None:
        self.ended: Deferred[None] = Deferred()
        _serversEnded.append(self.ended)

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)

    def connectionLost(self, reason: Any) -> None:
        self.ended.callback(None)


async def _serversClosed() -> None:
    while _serversEnded:
        await _serversEnded.pop()


class Asker(Protocol):
    def __init__(self) -> None:
        self.answer = b""
        self.ended: Deferred[None] = Deferred()
        self.reason: Any = None

    def connectionMade(self) -> None:
        self.transport.write(b"question")

    def dataReceived(self, data: bytes) -> None:
        self.answer += data
        if self.answer == b"question":
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(None)


def _roundTrip(reactor: Any, runReactor: Any, server: Any, makeClient: Any) -> Asker:
    async def run() -> Asker:
        port = await server.listen(Factory.forProtocol(Echo))
        client = makeClient(port.getHost().port)
        asker = await connectProtocol(client, Asker())
        await asker.ended
        await _serversClosed()
        await port.stopListening()
        return asker

    asker: Asker = runReactor(reactor, run)
    return asker


def test_sslServerAndTlsClientDescriptions(
    reactor: Any, runReactor: Any, pem: dict[str, str]
) -> None:
    server = sslServerParser.parseStreamServer(
        reactor, "0", privateKey=pem["key"], certKey=pem["cert"], interface="127.0.0.1"
    )
    assert isinstance(server, SSL4ServerEndpoint)
    asker = _roundTrip(
        reactor,
        runReactor,
        server,
        lambda port: tlsClientParser.parseStreamClient(
            reactor, "localhost", str(port), trustRoots=pem["roots"]
        ),
    )
    assert asker.answer == b"question"
    assert asker.reason.check(error.ConnectionDone)
    assert ssl.Certificate(asker.transport.getPeerCertificate()).getSubject().CN == "localhost"


def test_sslClientDescription(reactor: Any, runReactor: Any, pem: dict[str, str]) -> None:
    server = sslServerParser.parseStreamServer(
        reactor, "0", privateKey=pem["both"], interface="127.0.0.1"
    )
    asker = _roundTrip(
        reactor,
        runReactor,
        server,
        lambda port: sslClientParser.parseStreamClient(
            reactor,
            host="127.0.0.1",
            port=str(port),
            hostname="localhost",
            caCertsDir=pem["roots"],
        ),
    )
    assert asker.answer == b"question"


def test_sslClientVerifiesByDefault(reactor: Any, runReactor: Any, pem: dict[str, str]) -> None:
    """Without caCertsDir, the system's authorities are used: our test CA is not one."""
    server = sslServerParser.parseStreamServer(
        reactor, "0", privateKey=pem["key"], certKey=pem["cert"], interface="127.0.0.1"
    )
    asker = _roundTrip(
        reactor,
        runReactor,
        server,
        lambda port: sslClientParser.parseStreamClient(
            reactor, host="127.0.0.1", port=str(port), hostname="localhost"
        ),
    )
    assert asker.answer == b""
    assert asker.reason.check(ssl.TLSHandshakeError)


def test_tlsClientWithClientCertificate(
    reactor: Any, runReactor: Any, pem: dict[str, str]
) -> None:
    ca = ssl.Certificate.loadPEM(Path(pem["roots/ca.pem"]).read_bytes())
    cert = ssl.PrivateCertificate.loadPEM(Path(pem["both"]).read_bytes())
    server = SSL4ServerEndpoint(reactor, 0, cert.options(ca), interface="127.0.0.1")
    asker = _roundTrip(
        reactor,
        runReactor,
        server,
        lambda port: tlsClientParser.parseStreamClient(
            reactor,
            "localhost",
            str(port),
            trustRoots=pem["roots"],
            certificate=pem["ccert"],
            privateKey=pem["ckey"],
        ),
    )
    assert asker.answer == b"question"


@pytest.mark.parametrize("how", ["wrapClientTLS", "SSL4ClientEndpoint"])
def test_wrapClientTLSOverTCPAndSSL4Client(
    reactor: Any, runReactor: Any, pem: dict[str, str], how: str
) -> None:
    ca = ssl.Certificate.loadPEM(Path(pem["roots/ca.pem"]).read_bytes())
    cert = ssl.PrivateCertificate.loadPEM(Path(pem["both"]).read_bytes())
    options = ssl.optionsForClientTLS("localhost", trustRoot=ca)

    def make(port: int) -> Any:
        if how == "wrapClientTLS":
            return wrapClientTLS(options, TCP4ClientEndpoint(reactor, "127.0.0.1", port))
        return SSL4ClientEndpoint(reactor, "127.0.0.1", port, options)

    server = SSL4ServerEndpoint(reactor, 0, cert.options(), interface="127.0.0.1")
    asker = _roundTrip(reactor, runReactor, server, make)
    assert asker.answer == b"question"


def test_wrapClientTLSOverUNIX(
    reactor: Any, runReactor: Any, pem: dict[str, str], tmp_path: Path
) -> None:
    """TLS over a UNIX socket: the wrapper needs no TCP."""
    from fw.protocols.tls import TLSMemoryBIOFactory

    ca = ssl.Certificate.loadPEM(Path(pem["roots/ca.pem"]).read_bytes())
    cert = ssl.PrivateCertificate.loadPEM(Path(pem["both"]).read_bytes())
    path = str(tmp_path / "tls.sock")

    async def run() -> Asker:
        port = reactor.listenUNIX(
            path, TLSMemoryBIOFactory(cert.options(), False, Factory.forProtocol(Echo))
        )
        endpoint = wrapClientTLS(
            ssl.optionsForClientTLS("localhost", trustRoot=ca), UNIXClientEndpoint(reactor, path)
        )
        asker = await connectProtocol(endpoint, Asker())
        await asker.ended
        await _serversClosed()
        await port.stopListening()
        return asker

    asker = runReactor(reactor, run)
    assert asker.answer == b"question"
    assert asker.reason.check(error.ConnectionDone)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "needs 'port' and 'privateKey'"),
        ({"port": "0", "privateKey": "/nonexistent/key.pem"}, "cannot read privateKey"),
        ({"port": "0", "privateKey": "{garbage}"}, "no readable PEM private key"),
        ({"port": "0", "privateKey": "{key}"}, "no PEM certificate"),
        ({"port": "0", "privateKey": "{key}", "certKey": "{ccert}"}, "does not match"),
        ({"port": "0", "privateKey": "{both}", "sslmethod": "TLSv1_METHOD"}, "sslmethod"),
        ({"port": "x", "privateKey": "{both}"}, "port must be an integer"),
        ({"port": "0", "privateKey": "{both}", "dhParameters": "/nope"}, "cannot read"),
    ],
)
def test_sslServerDescriptionErrors(
    reactor: Any, pem: dict[str, str], fields: dict[str, str], message: str
) -> None:
    filled = {k: v.format(**pem) for k, v in fields.items()}
    with pytest.raises(ValueError, match=message):
        sslServerParser.parseStreamServer(reactor, **filled)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": "localhost"}, "needs 'port'"),
        ({"host": "", "port": "443"}, "non-empty host"),
        ({"host": "a", "port": "443", "trustRoots": "/nonexistent"}, "cannot list trustRoots"),
        ({"host": "a", "port": "443", "trustRoots": "{badroots}"}, "holds an unreadable"),
        ({"host": "a", "port": "443", "trustRoots": "{emptyroots}"}, "no PEM certificate"),
        ({"host": "a", "port": "443", "certificate": "{ccert}"}, "needs its 'privateKey'"),
        ({"host": "a", "port": "443", "colour": "blue"}, "no parameter 'colour'"),
    ],
)
def test_tlsClientDescriptionErrors(
    reactor: Any, pem: dict[str, str], fields: dict[str, str], message: str
) -> None:
    filled = {k: v.format(**pem) for k, v in fields.items()}
    with pytest.raises(ValueError, match=message):
        tlsClientParser.parseStreamClient(reactor, **filled)


def test_descriptionsThroughPluginRegistry(reactor: Any, pem: dict[str, str]) -> None:
    """
    ``ssl``/``tls`` are entry points of fw-core (``fw.endpoints.server`` and
    ``fw.endpoints.client``), found by serverFromString/clientFromString.
    """
    server = serverFromString(
        reactor, f"ssl:0:privateKey={pem['key']}:certKey={pem['cert']}:interface=127.0.0.1"
    )
    assert isinstance(server, SSL4ServerEndpoint)
    client = clientFromString(reactor, f"tls:localhost:443:trustRoots={pem['roots']}")
    assert "TLS over" in repr(client)
    client = clientFromString(reactor, f"ssl:host=localhost:port=443:caCertsDir={pem['roots']}")
    assert isinstance(client, SSL4ClientEndpoint)
