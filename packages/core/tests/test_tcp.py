"""TCP on every reactor backend: listening, connecting, transfer, closing, errors, limits."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from zope.interface import implementer

from fw.internet import error
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred, DeferredList, gatherResults
from fw.internet.interfaces import IPushProducer, ITCPTransport
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.logger import capturedLogs


def fdCount() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("interface", ["127.0.0.1", "::1"])
def test_echo(reactor: Any, runReactor: Any, interface: str, streams: Any) -> None:
    payload = b"hello, fw" * 1000

    def go() -> Any:
        factory = streams.RecordingFactory()
        port = reactor.listenTCP(0, factory, interface=interface)
        host = port.getHost()
        assert isinstance(host, IPv6Address if ":" in interface else IPv4Address)
        assert host.port > 0
        client = streams.Collector(payload, closeAfter=len(payload))
        reactor.connectTCP(interface, host.port, streams.OneShotClientFactory(client))
        return client.done.addCallback(lambda data: streams.finish(port, factory, data))

    assert runReactor(reactor, go) == payload


def test_transportDetails(reactor: Any, runReactor: Any, streams: Any) -> None:
    def go() -> Any:
        factory = streams.RecordingFactory()
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        client = streams.Collector()
        reactor.connectTCP("127.0.0.1", port.getHost().port, streams.OneShotClientFactory(client))

        def check(transport: Any) -> Any:
            assert ITCPTransport.providedBy(transport)
            assert transport.getPeer() == IPv4Address("TCP", "127.0.0.1", port.getHost().port)
            assert transport.getHost().host == "127.0.0.1"
            transport.setTcpNoDelay(True)
            assert transport.getTcpNoDelay()
            transport.setTcpKeepAlive(True)
            assert transport.getTcpKeepAlive()
            assert isinstance(transport.getHandle(), socket.socket)
            transport.loseConnection()
            return client.done

        return client.made.addCallback(check).addCallback(
            lambda _: streams.finish(port, factory, None)
        )

    runReactor(reactor, go)


def test_bulkTransferIntegrity(reactor: Any, runReactor: Any, streams: Any) -> None:
    """8 MiB through a connection whose reader is as fast as it likes, checked byte for byte."""
    payload = os.urandom(256 * 1024) * 32

    def go() -> Any:
        factory = streams.RecordingFactory()
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        client = streams.Collector(payload, closeAfter=len(payload))
        reactor.connectTCP("127.0.0.1", port.getHost().port, streams.OneShotClientFactory(client))
        return client.done.addCallback(lambda data: streams.finish(port, factory, data))

    assert runReactor(reactor, go, timeout=30) == payload


def test_loseConnectionFlushesFirst(reactor: Any, runReactor: Any, streams: Any) -> None:
    payload = b"x" * (4 * 1024 * 1024)

    class WriteAndClose(streams.Echo):
        def connectionMade(self) -> None:
            self.transport.write(payload)
            self.transport.loseConnection()

    def go() -> Any:
        factory = streams.RecordingFactory(WriteAndClose)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        client = streams.Collector()
        reactor.connectTCP("127.0.0.1", port.getHost().port, streams.OneShotClientFactory(client))
        return client.done.addCallback(lambda data: streams.finish(port, factory, data))

    data = runReactor(reactor, go, timeout=30)
    assert len(data) == len(payload)


def test_cleanCloseReasons(reactor: Any, runReactor: Any, streams: Any) -> None:
    def go() -> Any:
        server = streams.Collector()
        port = reactor.listenTCP(0, Factory.forProtocol(lambda: server), interface="127.0.0.1")
        client = streams.Collector(b"bye")
        factory = streams.OneShotClientFactory(client)
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        client.made.addCallback(lambda t: t.loseConnection())
        return gatherResults([server.done, client.done, factory.lost]).addCallback(
            lambda results: port.stopListening().addCallback(lambda _: (server, client, results))
        )

    server, client, (serverData, _, (lost,)) = runReactor(reactor, go)
    assert serverData == b"bye"
    assert server.reason.check(error.ConnectionDone)
    assert client.reason.check(error.ConnectionDone)
    assert lost.check(error.ConnectionDone)


def test_abortConnection(reactor: Any, runReactor: Any, streams: Any) -> None:
    def go() -> Any:
        server = streams.Collector()
        port = reactor.listenTCP(0, Factory.forProtocol(lambda: server), interface="127.0.0.1")
        client = streams.Collector()
        reactor.connectTCP("127.0.0.1", port.getHost().port, streams.OneShotClientFactory(client))

        def abort(transport: Any) -> Any:
            transport.write(b"never mind" * 100000)
            transport.abortConnection()
            return gatherResults([client.done, server.done])

        return client.made.addCallback(abort).addCallback(
            lambda _: port.stopListening().addCallback(lambda _: (client.reason,))
        )

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectionAborted)


def test_halfClose(reactor: Any, runReactor: Any, streams: Any) -> None:
    def go() -> Any:
        factory = streams.RecordingFactory(streams.HalfCloser)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        client = streams.Asker()
        reactor.connectTCP("127.0.0.1", port.getHost().port, streams.OneShotClientFactory(client))
        return client.done.addCallback(
            lambda data: streams.finish(port, factory, (data, client.writeClosed))
        )

    data, writeClosed = runReactor(reactor, go)
    assert data == b"got question"
    assert writeClosed.called


def test_connectionRefused(reactor: Any, runReactor: Any, streams: Any) -> None:
    # A port that was just free and has nothing listening.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    def go() -> Any:
        factory = streams.OneShotClientFactory(streams.Collector())
        reactor.connectTCP("127.0.0.1", port, factory)
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectionRefusedError)


def test_factoryDecliningTheConnection(reactor: Any, runReactor: Any, streams: Any) -> None:
    """A client factory whose buildProtocol returns None hears NoProtocol."""

    class Declining(ClientFactory):
        def __init__(self) -> None:
            self.failed: Deferred[Any] = Deferred()

        def buildProtocol(self, addr: Any) -> None:
            return None

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
            self.failed.callback((reason,))

    async def go() -> Any:
        accepted: Deferred[None] = Deferred()

        class Accepting(streams.RecordingFactory):
            def buildProtocol(self, addr: Any) -> Any:
                p = super().buildProtocol(addr)
                accepted.callback(None)
                return p

        server = Accepting(streams.Echo)
        port = reactor.listenTCP(0, server, interface="127.0.0.1")
        factory = Declining()
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        reason = await factory.failed
        # The server saw the connection arrive and then close.
        await accepted
        return await streams.finish(port, server, reason)

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.NoProtocol)


def test_unknownHost(reactor: Any, runReactor: Any, streams: Any) -> None:
    def go() -> Any:
        factory = streams.OneShotClientFactory(streams.Collector())
        reactor.connectTCP("no-such-host.invalid", 80, factory)
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.DNSLookupError)


def test_cannotListenOnUsedPort(reactor: Any, runReactor: Any, streams: Any) -> None:
    def go() -> Any:
        port = reactor.listenTCP(0, streams.RecordingFactory(), interface="127.0.0.1")
        with pytest.raises(error.CannotListenError):
            reactor.listenTCP(
                port.getHost().port, streams.RecordingFactory(), interface="127.0.0.1"
            )
        return port.stopListening()

    runReactor(reactor, go)


def test_errorInDataReceivedCostsOnlyThatConnection(
    reactor: Any, runReactor: Any, streams: Any
) -> None:
    class Fussy(streams.Echo):
        def dataReceived(self, data: bytes) -> None:
            if data == b"bad":
                raise ValueError("I do not like that")
            self.transport.write(data)

    def go() -> Any:
        factory = streams.RecordingFactory(Fussy)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        portNumber = port.getHost().port
        bad = streams.Collector(b"bad")
        good = streams.Collector(b"good", closeAfter=4)
        reactor.connectTCP("127.0.0.1", portNumber, streams.OneShotClientFactory(bad))
        reactor.connectTCP("127.0.0.1", portNumber, streams.OneShotClientFactory(good))
        return DeferredList([bad.done, good.done]).addCallback(
            lambda results: streams.finish(port, factory, results)
        )

    with capturedLogs() as events:
        [(_, badData), (_, goodData)] = runReactor(reactor, go)
    assert badData == b""
    assert goodData == b"good"
    logged = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert [f.type for f in logged] == [ValueError]
    assert len(runReactor.flushLoggedErrors(ValueError)) == 1


def test_pushProducerIsPausedBySlowReader(reactor: Any, runReactor: Any, streams: Any) -> None:
    """A producer writing as fast as it is let is paused, and memory stays bounded."""
    total = 16 * 1024 * 1024
    chunk = b"z" * 65536

    @implementer(IPushProducer)
    class Firehose(Protocol):
        def connectionMade(self) -> None:
            self.sent = 0
            self.paused = False
            self.pauses = 0
            self.maxBuffered = 0
            self.transport.registerProducer(self, True)
            self.resumeProducing()

        def pauseProducing(self) -> None:
            self.paused = True
            self.pauses += 1

        def resumeProducing(self) -> None:
            self.paused = False
            while not self.paused and self.sent < total:
                self.transport.write(chunk)
                self.sent += len(chunk)
                self.maxBuffered = max(self.maxBuffered, len(self.transport._buffer))
            if self.sent >= total and not self.paused:
                self.transport.unregisterProducer()
                self.transport.loseConnection()

        def stopProducing(self) -> None:
            self.paused = True

    class SlowReader(streams.Collector):
        def connectionMade(self) -> None:
            super().connectionMade()
            self.transport.pauseProducing()
            reactor.callLater(0.2, self.transport.resumeProducing)

    def go() -> Any:
        server = Firehose()
        port = reactor.listenTCP(0, Factory.forProtocol(lambda: server), interface="127.0.0.1")
        client = SlowReader()
        reactor.connectTCP("127.0.0.1", port.getHost().port, streams.OneShotClientFactory(client))
        return client.done.addCallback(
            lambda data: port.stopListening().addCallback(lambda _: (len(data), server))
        )

    received, server = runReactor(reactor, go, timeout=60)
    assert received == total
    assert server.pauses > 0
    # Paused above the high-water mark: at most one chunk past it.
    assert server.maxBuffered <= 65536 + len(chunk)


def test_noDescriptorLeaks(reactor: Any, runReactor: Any, streams: Any) -> None:
    cycles = 300

    def go() -> Any:
        factory = streams.RecordingFactory()
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        portNumber = port.getHost().port
        refused = socket.socket()
        refused.bind(("127.0.0.1", 0))
        refusedPort = refused.getsockname()[1]
        refused.close()

        async def cycle() -> None:
            for i in range(cycles):
                client = streams.Collector(b"ping", closeAfter=4)
                reactor.connectTCP("127.0.0.1", portNumber, streams.OneShotClientFactory(client))
                await client.done
                if i % 10 == 0:
                    failing = streams.OneShotClientFactory(streams.Collector())
                    reactor.connectTCP("127.0.0.1", refusedPort, failing)
                    await failing.failed
            await streams.finish(port, factory, None)

        return cycle()

    before = fdCount()
    runReactor(reactor, go, timeout=60)
    assert fdCount() == before


def test_stopListeningFreesThePort(reactor: Any, runReactor: Any, streams: Any) -> None:
    async def go() -> None:
        port = reactor.listenTCP(0, streams.RecordingFactory(), interface="127.0.0.1")
        number = port.getHost().port
        await port.stopListening()
        again = reactor.listenTCP(number, streams.RecordingFactory(), interface="127.0.0.1")
        await again.stopListening()

    runReactor(reactor, go)


def test_connectorCanReconnect(reactor: Any, runReactor: Any, streams: Any) -> None:
    class Twice(ClientFactory):
        protocol = streams.Collector

        def __init__(self) -> None:
            self.lost = 0
            self.done: Deferred[int] = Deferred()

        def buildProtocol(self, addr: Any) -> Protocol:
            p = streams.Collector(b"x", closeAfter=1)
            p.factory = self
            return p

        def clientConnectionLost(self, connector: Any, reason: Any) -> None:
            self.lost += 1
            if self.lost < 2:
                connector.connect()
            else:
                self.done.callback(self.lost)

    async def go() -> int:
        server = streams.RecordingFactory()
        port = reactor.listenTCP(0, server, interface="127.0.0.1")
        factory = Twice()
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        lost = await factory.done
        return await streams.finish(port, server, lost)

    assert runReactor(reactor, go) == 2


def test_adoptedListeningSocket(reactor: Any, runReactor: Any, streams: Any) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)

    async def go() -> bytes:
        factory = streams.RecordingFactory()
        port = reactor.adoptStreamPort(listener.fileno(), socket.AF_INET, factory)
        client = streams.Collector(b"adopted", closeAfter=7)
        reactor.connectTCP(
            "127.0.0.1", listener.getsockname()[1], streams.OneShotClientFactory(client)
        )
        data = await client.done
        return await streams.finish(port, factory, data)

    try:
        assert runReactor(reactor, go) == b"adopted"
    finally:
        listener.close()
