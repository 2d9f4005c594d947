"""Tests for fw.protocols.policies: wrapping, throttling, limits, timeouts, traffic logging."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from zope.interface import implementer

from fw.internet import defer
from fw.internet.address import IPv4Address, UNIXAddress
from fw.internet.interfaces import (
    IConsumer,
    IHalfCloseableProtocol,
    IPushProducer,
    ITCPTransport,
    ITransport,
)
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.internet.task import Clock
from fw.internet.testing import StringTransport, StringTransportWithDisconnection
from fw.logger import capturedLogs
from fw.protocols.policies import (
    LimitConnectionsByPeer,
    LimitTotalConnectionsFactory,
    ProtocolWrapper,
    SpewingFactory,
    ThrottlingFactory,
    TimeoutFactory,
    TimeoutMixin,
    TrafficLoggingFactory,
    WrappingFactory,
)
from fw.python.failure import Failure


def peer(host: str = "192.0.2.1", port: int = 1234) -> IPv4Address:
    return IPv4Address("TCP", host, port)


class Recorder(Protocol):
    """Records everything that happens to it."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.data = b""

    def connectionMade(self) -> None:
        self.events.append("made")

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        self.events.append(("data", data))

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.events.append("lost")


@implementer(IHalfCloseableProtocol)
class HalfCloser(Recorder):
    def readConnectionLost(self) -> None:
        self.events.append("readLost")

    def writeConnectionLost(self) -> None:
        self.events.append("writeLost")


@implementer(ITCPTransport)
class TCPStringTransport(StringTransportWithDisconnection):
    """A string transport that says it is TCP, with the TCP-only methods."""

    noDelay = False
    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True

    def getTcpNoDelay(self) -> bool:
        return self.noDelay

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.noDelay = enabled

    def getTcpKeepAlive(self) -> bool:
        return False

    def setTcpKeepAlive(self, enabled: bool) -> None:
        pass


def connect(factory: Any, addr: Any = None, transport: Any = None) -> tuple[Any, Any]:
    """Build a protocol from ``factory`` and connect it to a string transport."""
    p = factory.buildProtocol(addr if addr is not None else peer())
    assert p is not None
    t = transport if transport is not None else TCPStringTransport(peerAddress=addr)
    t.protocol = p
    p.makeConnection(t)
    return p, t


# -- ProtocolWrapper / WrappingFactory


def test_wrapperPassesDataBothWays() -> None:
    class Upper(Protocol):
        def dataReceived(self, data: bytes) -> None:
            assert self.transport is not None
            self.transport.write(data.upper())
            self.transport.writeSequence([b"-", b"!"])

    wrapper, transport = connect(WrappingFactory(Factory.forProtocol(Upper)))
    wrapper.dataReceived(b"abc")
    assert transport.value() == b"ABC-!"
    assert isinstance(wrapper.wrappedProtocol, Upper)
    assert wrapper.wrappedProtocol.transport is wrapper


def test_wrapperProvidesTheTransportsInterfaces() -> None:
    wrapper, transport = connect(WrappingFactory(Factory.forProtocol(Recorder)))
    for interface in (ITCPTransport, ITransport, IConsumer, IPushProducer):
        assert interface.providedBy(transport)
        assert interface.providedBy(wrapper), interface
    # Unrelated attributes are looked up on the transport.
    wrapper.setTcpNoDelay(True)
    assert transport.noDelay is True
    assert wrapper.getTcpNoDelay() is True
    with pytest.raises(AttributeError):
        wrapper.noSuchMethod  # noqa: B018


def test_wrapperOverPlainTransportIsNotTCP() -> None:
    wrapper, _ = connect(
        WrappingFactory(Factory.forProtocol(Recorder)), transport=StringTransport()
    )
    assert ITransport.providedBy(wrapper)
    assert not ITCPTransport.providedBy(wrapper)


def test_halfCloseIsPassedThrough() -> None:
    wrapper, transport = connect(WrappingFactory(Factory.forProtocol(HalfCloser)))
    assert IHalfCloseableProtocol.providedBy(wrapper)
    wrapper.readConnectionLost()
    wrapper.writeConnectionLost()
    assert wrapper.wrappedProtocol.events[-2:] == ["readLost", "writeLost"]
    # The wrapped protocol half-closes through the wrapper.
    wrapper.wrappedProtocol.transport.loseWriteConnection()
    assert transport.writeClosed


def test_notHalfCloseableWrappedMeansNotHalfCloseableWrapper() -> None:
    wrapper, transport = connect(WrappingFactory(Factory.forProtocol(Recorder)))
    assert not IHalfCloseableProtocol.providedBy(wrapper)
    # Even if called, end of input closes the connection.
    wrapper.readConnectionLost()
    assert transport.disconnecting
    assert wrapper.wrappedProtocol.events[-1] == "lost"


def test_producersArePassedThrough() -> None:
    wrapper, transport = connect(WrappingFactory(Factory.forProtocol(Recorder)))
    producer = object()
    wrapper.wrappedProtocol.transport.registerProducer(producer, True)
    assert transport.producer is producer
    assert transport.streaming is True
    wrapper.wrappedProtocol.transport.unregisterProducer()
    assert transport.producer is None
    # Pausing the wrapper (as a producer) pauses the transport.
    wrapper.pauseProducing()
    assert transport.producerState == "paused"
    wrapper.resumeProducing()
    assert transport.producerState == "producing"


def test_addressesAndLogPrefix() -> None:
    class Named(Recorder):
        def logPrefix(self) -> str:
            return "named-one"

    wrapper, transport = connect(WrappingFactory(Factory.forProtocol(Named)), peer("192.0.2.9"))
    assert wrapper.getPeer() == peer("192.0.2.9")
    assert wrapper.getHost() == transport.getHost()
    assert wrapper.logPrefix() == "named-one"
    factory = WrappingFactory(Factory.forProtocol(Named))
    assert factory.logPrefix() == "Factory"


def test_wrappingFactoryRegistersAndForgetsProtocols() -> None:
    factory = WrappingFactory(Factory.forProtocol(Recorder))
    wrapper, transport = connect(factory)
    assert list(factory.protocols) == [wrapper]
    transport.loseConnection()
    assert factory.protocols == {}
    assert wrapper.wrappedProtocol.events == ["made", "lost"]


def test_wrappingFactoryRefusesWhenWrappedRefuses() -> None:
    class Refusing(Factory):
        def buildProtocol(self, addr: Any) -> None:
            return None

    assert WrappingFactory(Refusing()).buildProtocol(peer()) is None


def test_wrappingFactoryPassesFactoryEventsOn() -> None:
    events: list[str] = []

    class Client(ClientFactory):
        protocol = Recorder

        def startFactory(self) -> None:
            events.append("start")

        def stopFactory(self) -> None:
            events.append("stop")

        def startedConnecting(self, connector: Any) -> None:
            events.append("connecting")

        def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
            events.append("failed")

        def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
            events.append("lost")

    factory = WrappingFactory(Client())
    factory.doStart()
    factory.startedConnecting(None)  # type: ignore[arg-type]
    factory.clientConnectionFailed(None, Failure(ValueError()))  # type: ignore[arg-type]
    factory.clientConnectionLost(None, Failure(ValueError()))  # type: ignore[arg-type]
    factory.doStop()
    assert events == ["start", "connecting", "failed", "lost", "stop"]


def test_nestedWrappers() -> None:
    inner = WrappingFactory(Factory.forProtocol(HalfCloser))
    outer = WrappingFactory(inner)
    wrapper, _transport = connect(outer)
    assert IHalfCloseableProtocol.providedBy(wrapper)
    assert ITCPTransport.providedBy(wrapper.wrappedProtocol)
    wrapper.dataReceived(b"x")
    wrapper.readConnectionLost()
    assert wrapper.wrappedProtocol.wrappedProtocol.events[-2:] == [("data", b"x"), "readLost"]


# -- ThrottlingFactory


class Pushing(Recorder):
    """Registers a streaming producer with its transport on connection."""

    def connectionMade(self) -> None:
        super().connectionMade()
        self.producer = StringTransport()  # records its producerState
        assert self.transport is not None
        self.transport.registerProducer(self.producer, True)  # type: ignore[attr-defined]


def test_readThrottling() -> None:
    clock = Clock()
    factory = ThrottlingFactory(Factory.forProtocol(Recorder), readLimit=10, clock=clock)
    wrapper, transport = connect(factory)
    wrapper.dataReceived(b"x" * 30)
    assert wrapper.wrappedProtocol.data == b"x" * 30
    assert transport.producerState == "producing"
    clock.advance(1)
    # 30 bytes at 10 bytes/s: 2 seconds over the budget.
    assert transport.producerState == "paused"
    clock.advance(1.9)
    assert transport.producerState == "paused"
    clock.advance(0.2)
    assert transport.producerState == "producing"
    transport.loseConnection()
    assert clock.getDelayedCalls() == []


def test_readThrottlingKeepsTheProtocolsOwnPause() -> None:
    clock = Clock()
    factory = ThrottlingFactory(Factory.forProtocol(Recorder), readLimit=10, clock=clock)
    wrapper, transport = connect(factory)
    wrapper.dataReceived(b"x" * 30)
    clock.advance(1)
    wrapper.wrappedProtocol.transport.pauseProducing()
    clock.advance(3)
    # The throttle lifted, but the protocol paused reading itself.
    assert transport.producerState == "paused"
    wrapper.wrappedProtocol.transport.resumeProducing()
    assert transport.producerState == "producing"
    transport.loseConnection()


def test_writeThrottling() -> None:
    clock = Clock()
    factory = ThrottlingFactory(Factory.forProtocol(Pushing), writeLimit=10, clock=clock)
    wrapper, transport = connect(factory)
    producer = wrapper.wrappedProtocol.producer
    wrapper.wrappedProtocol.transport.write(b"y" * 25)
    wrapper.wrappedProtocol.transport.writeSequence([b"y" * 5])
    assert transport.value() == b"y" * 30
    clock.advance(1)
    assert producer.producerState == "paused"
    clock.advance(2.01)
    assert producer.producerState == "producing"
    transport.loseConnection()


def test_writeThrottleKeepsTheTransportsPause() -> None:
    """A producer the transport paused (full buffer) is not resumed by the throttle lifting."""
    clock = Clock()
    factory = ThrottlingFactory(Factory.forProtocol(Pushing), writeLimit=10, clock=clock)
    wrapper, transport = connect(factory)
    producer = wrapper.wrappedProtocol.producer
    gate = transport.producer
    wrapper.wrappedProtocol.transport.write(b"y" * 30)
    clock.advance(1)
    gate.pauseProducing()  # the transport's buffer is full
    clock.advance(3)
    assert producer.producerState == "paused"
    gate.resumeProducing()
    assert producer.producerState == "producing"
    transport.loseConnection()


def test_writeThrottleHoldsPullProducerRequests() -> None:
    clock = Clock()
    pulls: list[int] = []

    class Pull:
        def resumeProducing(self) -> None:
            pulls.append(1)

        def stopProducing(self) -> None:
            pass

    factory = ThrottlingFactory(Factory.forProtocol(Recorder), writeLimit=10, clock=clock)
    wrapper, transport = connect(factory)
    wrapper.wrappedProtocol.transport.registerProducer(Pull(), False)
    wrapper.write(b"z" * 20)
    clock.advance(1)
    transport.producer.resumeProducing()
    assert pulls == []
    clock.advance(1.01)
    assert pulls == [1]
    transport.loseConnection()


def test_newConnectionsGetTheThrottleInForce() -> None:
    clock = Clock()
    factory = ThrottlingFactory(Factory.forProtocol(Recorder), readLimit=10, clock=clock)
    first, firstTransport = connect(factory)
    first.dataReceived(b"x" * 50)
    clock.advance(1)
    _second, secondTransport = connect(factory)
    assert secondTransport.producerState == "paused"
    clock.advance(4.01)
    assert secondTransport.producerState == "producing"
    firstTransport.loseConnection()
    secondTransport.loseConnection()
    assert factory.connectionCount == 0
    assert clock.getDelayedCalls() == []


def test_maxConnectionCount() -> None:
    factory = ThrottlingFactory(Factory.forProtocol(Recorder), maxConnectionCount=2, clock=Clock())
    _, t1 = connect(factory)
    connect(factory)
    with capturedLogs() as events:
        assert factory.buildProtocol(peer()) is None
    assert any(
        "connections is the limit" in str(e.get("log_format")) and e["count"] == 2 for e in events
    )
    t1.loseConnection()
    assert factory.buildProtocol(peer()) is not None


def test_maxConnectionRate() -> None:
    clock = Clock()
    factory = ThrottlingFactory(
        Factory.forProtocol(Recorder), maxConnectionRate=2, period=1.0, clock=clock
    )
    assert factory.buildProtocol(peer()) is not None
    assert factory.buildProtocol(peer()) is not None
    assert factory.buildProtocol(peer()) is None
    clock.advance(1.01)
    assert factory.buildProtocol(peer()) is not None


def test_throttlingOverRealSockets(reactor: Any, runReactor: Callable[..., Any]) -> None:
    """
    Reading is held back for real: 40 kB arriving in the first 50 ms window
    at 100 kB/s stops reading for 0.35 s, so a second 40 kB sent 0.1 s in
    cannot arrive sooner.
    """
    size = 80_000
    received = bytearray()
    done: defer.Deferred[None] = defer.Deferred()

    class Sink(Protocol):
        def dataReceived(self, data: bytes) -> None:
            received.extend(data)
            if len(received) >= size and not done.called:
                done.callback(None)

    factory = ThrottlingFactory(
        Factory.forProtocol(Sink), readLimit=100_000, period=0.05, clock=reactor
    )
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    class Source(Protocol):
        def connectionMade(self) -> None:
            assert self.transport is not None
            self.transport.write(b"s" * (size // 2))
            reactor.callLater(0.1, self.transport.write, b"s" * (size // 2))

    async def go() -> float:
        start = time.monotonic()
        client = reactor.connectTCP(
            "127.0.0.1", port.getHost().port, ClientFactory.forProtocol(Source)
        )
        await done
        elapsed = time.monotonic() - start
        client.disconnect()
        for p in list(factory.protocols):
            p.transport.loseConnection()
        await port.stopListening()
        # Let both sides see the close.
        d: defer.Deferred[None] = defer.Deferred()
        reactor.callLater(0.05, d.callback, None)
        await d
        return elapsed

    elapsed = runReactor(reactor, go)
    assert bytes(received) == b"s" * size
    assert elapsed >= 0.3
    assert factory.connectionCount == 0


# -- connection limits


def test_limitConnectionsByPeer() -> None:
    factory = LimitConnectionsByPeer(Factory.forProtocol(Recorder))
    factory.maxConnectionsPerPeer = 2
    factory.doStart()
    _a1, ta1 = connect(factory, peer("192.0.2.1", 1))
    connect(factory, peer("192.0.2.1", 2))
    assert factory.buildProtocol(peer("192.0.2.1", 3)) is None
    # Another host is counted apart.
    connect(factory, peer("192.0.2.2", 1))
    assert factory.peerConnections == {"192.0.2.1": 2, "192.0.2.2": 1}
    ta1.loseConnection()
    assert factory.peerConnections["192.0.2.1"] == 1
    connect(factory, peer("192.0.2.1", 4))
    # UNIX peers count as one.
    connect(factory, UNIXAddress(b"/tmp/a"), StringTransportWithDisconnection())
    assert factory.peerConnections["UNIXAddress"] == 1


def test_limitTotalConnections() -> None:
    class Busy(Protocol):
        def connectionMade(self) -> None:
            assert self.transport is not None
            self.transport.write(b"too busy\r\n")
            self.transport.loseConnection()

    factory = LimitTotalConnectionsFactory()
    factory.protocol = Recorder
    factory.connectionLimit = 2
    p1, t1 = connect(factory)
    connect(factory)
    assert factory.connectionCount == 2
    assert factory.buildProtocol(peer()) is None
    factory.overflowProtocol = Busy
    busy, busyTransport = connect(factory)
    assert busyTransport.value() == b"too busy\r\n"
    assert factory.connectionCount == 2
    assert isinstance(busy, ProtocolWrapper)
    t1.loseConnection()
    assert factory.connectionCount == 1
    assert p1.wrappedProtocol.factory is factory


def test_limitTotalConnectionsUnlimited() -> None:
    factory = LimitTotalConnectionsFactory()
    factory.protocol = Recorder
    for _ in range(20):
        connect(factory)
    assert factory.connectionCount == 20


# -- timeouts


class Timed(TimeoutMixin, Recorder):
    timedOut = False

    def connectionMade(self) -> None:
        super().connectionMade()
        self.setTimeout(10)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        super().dataReceived(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.setTimeout(None)
        super().connectionLost(reason)


def test_timeoutMixin() -> None:
    clock = Clock()
    p = Timed()
    p.clock = clock
    transport = StringTransport()
    p.makeConnection(transport)
    clock.advance(9)
    p.dataReceived(b"x")
    clock.advance(9)
    assert not transport.disconnecting
    clock.advance(1)
    assert transport.disconnecting
    assert clock.getDelayedCalls() == []


def test_timeoutMixinSetTimeout() -> None:
    clock = Clock()
    called: list[int] = []

    class T(TimeoutMixin):
        def callLater(self, period: float, func: Callable[[], object]) -> Any:
            return clock.callLater(period, func)

        def timeoutConnection(self) -> None:
            called.append(1)

    t = T()
    assert t.setTimeout(5) is None
    assert t.setTimeout(2) == 5
    clock.advance(1.5)
    t.resetTimeout()
    clock.advance(1.5)
    assert called == []
    assert t.setTimeout(None) == 2
    assert clock.getDelayedCalls() == []
    t.resetTimeout()  # no timeout: nothing happens
    t.setTimeout(1)
    clock.advance(1)
    assert called == [1]
    # After it fired, setting a new one works.
    t.setTimeout(1)
    clock.advance(1)
    assert called == [1, 1]


def test_timeoutFactory() -> None:
    clock = Clock()
    factory = TimeoutFactory(Factory.forProtocol(Recorder), timeoutPeriod=5, clock=clock)
    wrapper, transport = connect(factory)
    clock.advance(4)
    wrapper.dataReceived(b"a")
    clock.advance(4)
    wrapper.wrappedProtocol.transport.write(b"b")
    clock.advance(4)
    assert not transport.disconnecting
    clock.advance(1)
    assert transport.disconnecting
    assert wrapper.wrappedProtocol.events[-1] == "lost"
    assert clock.getDelayedCalls() == []


def test_timeoutFactoryCancelledOnLoss() -> None:
    clock = Clock()
    factory = TimeoutFactory(Factory.forProtocol(Recorder), timeoutPeriod=5, clock=clock)
    wrapper, transport = connect(factory)
    transport.loseConnection()
    assert clock.getDelayedCalls() == []
    assert wrapper.timeoutCall is None


# -- logging


def test_trafficLogging() -> None:
    logs: list[io.StringIO] = []

    class InMemory(TrafficLoggingFactory):
        def open(self, name: str) -> Any:
            assert name == f"traffic-{len(logs) + 1}"
            logs.append(io.StringIO())
            return logs[-1]

    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            assert self.transport is not None
            self.transport.write(data)
            self.transport.writeSequence([b"a", b"b"])
            if data == b"bye":
                self.transport.loseConnection()

    factory = InMemory(Factory.forProtocol(Echo), "traffic", lengthLimit=20)
    wrapper, _transport = connect(factory)
    wrapper.dataReceived(b"hello")
    wrapper.dataReceived(b"x" * 40)
    wrapper.dataReceived(b"bye")
    assert logs[0].getvalue().splitlines() == [
        "*",
        "C 1: b'hello'",
        "S 1: b'hello'",
        "SV 1: [b'a', b'b']",
        "C 1: b'xxxxxxxx<... elided>'",
        "S 1: b'xxxxxxxx<... elided>'",
        "SV 1: [b'a', b'b']",
        "C 1: b'bye'",
        "S 1: b'bye'",
        "SV 1: [b'a', b'b']",
        "S 1: *",
        "C 1: 'Connection was closed cleanly: Bye..'",
    ]
    connect(factory)
    assert len(logs) == 2
    assert logs[1].getvalue() == "*\n"
    factory.resetCounter()
    logs.clear()
    connect(factory)
    assert logs[0].getvalue() == "*\n"


def test_trafficLoggingToFiles(tmp_path: Path) -> None:
    factory = TrafficLoggingFactory(Factory.forProtocol(Recorder), str(tmp_path / "log"))
    wrapper, transport = connect(factory)
    wrapper.dataReceived(b"ping")
    transport.loseConnection()
    assert wrapper.logfile.closed
    assert (tmp_path / "log-1").read_text().splitlines() == [
        "*",
        "C 1: b'ping'",
        "C 1: 'Connection was closed cleanly: Bye..'",
    ]


def test_spewing() -> None:
    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            assert self.transport is not None
            self.transport.write(data)

    with capturedLogs() as events:
        wrapper, transport = connect(SpewingFactory(Factory.forProtocol(Echo)))
        wrapper.dataReceived(b"hi")
    assert transport.value() == b"hi"
    spew = [e for e in events if e.get("log_namespace") == "fw.protocols.policies.spew"]
    assert [(e["log_format"], e["data"]) for e in spew] == [
        ("Received: {data!r}", b"hi"),
        ("Sending: {data!r}", b"hi"),
    ]
