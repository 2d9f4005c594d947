"""Tests for fw.protocols.portforward: relaying, flow control both ways, half-close, curl."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fw.internet import defer
from fw.internet.address import IPv4Address
from fw.internet.error import ConnectionRefusedError
from fw.internet.protocol import ClientFactory, Factory, ProcessProtocol, Protocol
from fw.internet.testing import MemoryReactor, StringTransportWithDisconnection
from fw.protocols.portforward import ProxyClient, ProxyFactory, ProxyServer
from fw.python.failure import Failure


class Transport(StringTransportWithDisconnection):
    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True


def pair() -> tuple[MemoryReactor, ProxyServer, Transport, ProxyClient, Transport]:
    """A server side connected in memory, and its client side to the destination."""
    reactor = MemoryReactor()
    factory = ProxyFactory("192.0.2.80", 8080, reactor=reactor)
    server = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 5555))
    assert isinstance(server, ProxyServer)
    serverTransport = Transport()
    serverTransport.protocol = server
    server.makeConnection(serverTransport)
    host, port, clientFactory, _timeout, _bind = reactor.tcpClients[0]
    assert (host, port) == ("192.0.2.80", 8080)
    assert serverTransport.producerState == "paused"
    client = clientFactory.buildProtocol(IPv4Address("TCP", host, port))
    assert isinstance(client, ProxyClient)
    clientTransport = Transport()
    clientTransport.protocol = client
    client.makeConnection(clientTransport)
    return reactor, server, serverTransport, client, clientTransport


def test_relaysBothWays() -> None:
    _, server, serverTransport, client, clientTransport = pair()
    # Reading from the accepted side starts once the destination is up.
    assert serverTransport.producerState == "producing"
    server.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
    assert clientTransport.value() == b"GET / HTTP/1.0\r\n\r\n"
    client.dataReceived(b"HTTP/1.0 200 OK\r\n")
    assert serverTransport.value() == b"HTTP/1.0 200 OK\r\n"


def test_eachSideIsTheOthersProducer() -> None:
    _, _, serverTransport, _, clientTransport = pair()
    assert clientTransport.producer is serverTransport
    assert clientTransport.streaming
    assert serverTransport.producer is clientTransport
    assert serverTransport.streaming


def test_lossClosesThePeer() -> None:
    _, server, serverTransport, client, clientTransport = pair()
    clientTransport.loseConnection()
    assert serverTransport.disconnecting
    assert server.peer is None
    assert client.peer is None


def test_halfCloseIsRelayed() -> None:
    _, server, serverTransport, client, clientTransport = pair()
    server.readConnectionLost()
    # The client finished sending: so does the forwarder, to the destination.
    assert clientTransport.writeClosed
    assert not clientTransport.disconnecting
    client.dataReceived(b"late answer")
    assert serverTransport.value() == b"late answer"
    client.readConnectionLost()
    assert clientTransport.disconnecting
    assert serverTransport.disconnecting


def test_destinationUnreachable() -> None:
    reactor = MemoryReactor()
    server = ProxyFactory("192.0.2.80", 8080, reactor=reactor).buildProtocol(
        IPv4Address("TCP", "192.0.2.1", 5555)
    )
    assert server is not None
    transport = Transport()
    transport.protocol = server
    server.makeConnection(transport)
    clientFactory = reactor.tcpClients[0][2]
    clientFactory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    assert transport.disconnecting


def test_reactorFromTheServerClassAttribute() -> None:
    reactor = MemoryReactor()

    class Server(ProxyServer):
        pass

    Server.reactor = reactor
    factory = ProxyFactory("192.0.2.80", 8080)
    factory.protocol = Server
    server = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 5555))
    assert server is not None
    server.makeConnection(Transport())
    assert reactor.tcpClients[0][:2] == ("192.0.2.80", 8080)


# -- real sockets


def later(reactor: Any, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


def test_backPressureBothWays(reactor: Any, runReactor: Callable[..., Any]) -> None:
    """
    A client writes 4 MB as fast as it can; the destination reads nothing
    for a while.  The forwarder stops reading the client instead of
    buffering: what it holds for the destination stays near the
    transport's high-water mark.  Then everything arrives, intact.
    """
    size = 4 * 1024 * 1024
    payload = os.urandom(1024) * (size // 1024)
    received = bytearray()
    done: defer.Deferred[None] = defer.Deferred()
    slowSide: list[Any] = []

    class SlowReader(Protocol):
        def connectionMade(self) -> None:
            assert self.transport is not None
            # Small kernel buffers, so that 4 MB cannot all hide in them
            # (loopback autotuning may grow a receive buffer to tens of MB).
            self.transport.socket.setsockopt(  # type: ignore[attr-defined]
                socket.SOL_SOCKET, socket.SO_RCVBUF, 65536
            )
            self.transport.pauseProducing()  # type: ignore[attr-defined]
            slowSide.append(self.transport)

        def dataReceived(self, data: bytes) -> None:
            received.extend(data)
            if len(received) >= size and not done.called:
                done.callback(None)

    backend = reactor.listenTCP(0, Factory.forProtocol(SlowReader), interface="127.0.0.1")

    highest = [0]
    clients: list[ProxyClient] = []

    class MeasuringServer(ProxyServer):
        def dataReceived(self, data: bytes) -> None:
            super().dataReceived(data)
            if self.peer is not None:
                buffered = len(getattr(self.peer.transport, "_buffer", b""))
                highest[0] = max(highest[0], buffered)

    class MeasuringClient(ProxyClient):
        def connectionMade(self) -> None:
            self.transport.socket.setsockopt(  # type: ignore[union-attr]
                socket.SOL_SOCKET, socket.SO_SNDBUF, 65536
            )
            clients.append(self)
            super().connectionMade()

    factory = ProxyFactory("127.0.0.1", backend.getHost().port, reactor=reactor)
    factory.protocol = MeasuringServer
    MeasuringServer.clientProtocolFactory = type(
        "F", (MeasuringServer.clientProtocolFactory,), {"protocol": MeasuringClient}
    )
    forwarder = reactor.listenTCP(0, factory, interface="127.0.0.1")

    class FastWriter(Protocol):
        def connectionMade(self) -> None:
            assert self.transport is not None
            self.transport.write(payload)

    async def go() -> None:
        writer = reactor.connectTCP(
            "127.0.0.1", forwarder.getHost().port, ClientFactory.forProtocol(FastWriter)
        )
        # Wait (on a busy machine, a while) for the forwarder's outgoing
        # buffer to fill: then its reading side must be paused.
        for _ in range(300):
            if clients and clients[0].transport.producerPaused:
                break
            await later(reactor, 0.05)
        assert clients, "the forwarder never reached the destination"
        assert clients[0].transport.producerPaused
        held = highest[0]
        slowSide[0].resumeProducing()
        await done
        writer.disconnect()
        await later(reactor, 0.05)
        slowSide[0].loseConnection()
        await forwarder.stopListening()
        await backend.stopListening()
        await later(reactor, 0.05)
        assert held > 0

    runReactor(reactor, go, timeout=20)
    assert bytes(received) == payload
    # One read's worth beyond the high-water mark, at most: not 4 MB.
    assert highest[0] <= 65536 + 65536 + 16384, highest[0]


@pytest.fixture
def httpServer(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    """Python's http.server in a thread, serving one 300 kB file."""
    body = os.urandom(300_000)
    (tmp_path / "blob").write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = Quiet(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], body
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Output(ProcessProtocol):
    def __init__(self) -> None:
        self.out = bytearray()
        self.err = bytearray()
        self.ended: defer.Deferred[Any] = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out.extend(data)

    def errReceived(self, data: bytes) -> None:
        self.err.extend(data)

    def processEnded(self, reason: Failure) -> None:
        self.ended.callback(reason.value)


def test_curlThroughTheForwarder(
    reactor: Any,
    runReactor: Callable[..., Any],
    requirePeer: Callable[[str], str],
    httpServer: tuple[int, bytes],
) -> None:
    """curl fetches a file from Python's http.server through fw's forwarder."""
    curl = requirePeer("curl")
    httpPort, body = httpServer
    forwarder = reactor.listenTCP(
        0, ProxyFactory("127.0.0.1", httpPort, reactor=reactor), interface="127.0.0.1"
    )
    url = f"http://127.0.0.1:{forwarder.getHost().port}/blob"

    async def go() -> Output:
        results = []
        for _ in range(2):
            proto = Output()
            reactor.spawnProcess(
                proto, curl, [curl, "-sS", "--max-time", "10", url], env=dict(os.environ)
            )
            await proto.ended
            results.append(proto)
        await forwarder.stopListening()
        await later(reactor, 0.05)
        return results[-1]

    proto = runReactor(reactor, go, timeout=20)
    assert proto.err == b""
    assert bytes(proto.out) == body
