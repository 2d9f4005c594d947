"""ReconnectingClientFactory, ClientCreator, connectProtocol: on fake clocks, then for real."""

from __future__ import annotations

import math
import pickle
import random
from typing import Any

import pytest

from fw.internet import endpoints, error
from fw.internet.address import IPv4Address
from fw.internet.defer import CancelledError, Deferred
from fw.internet.endpoints import TCP4ClientEndpoint
from fw.internet.protocol import (
    ClientCreator,
    Factory,
    Protocol,
    ReconnectingClientFactory,
    connectProtocol,
)
from fw.internet.task import Clock
from fw.internet.testing import MemoryReactorClock, StringTransport
from fw.logger import capturedLogs
from fw.python.failure import Failure

REFUSED = Failure(error.ConnectionRefusedError(111, "Connection refused"))


class Connector:
    """A connector that counts ``connect`` calls and can refuse ``stopConnecting``."""

    def __init__(self, connecting: bool = True) -> None:
        self.connects = 0
        self.stops = 0
        self.connecting = connecting

    def connect(self) -> None:
        self.connects += 1

    def stopConnecting(self) -> None:
        if not self.connecting:
            raise error.NotConnectingError("not connecting")
        self.stops += 1

    def disconnect(self) -> None:
        pass

    def getDestination(self) -> IPv4Address:
        return IPv4Address("TCP", "192.0.2.1", 80)


def reconnecting(**attributes: Any) -> tuple[ReconnectingClientFactory, Clock, Connector]:
    factory = ReconnectingClientFactory()
    factory.clock = Clock()
    factory.jitter = 0
    factory.noisy = False
    for name, value in attributes.items():
        setattr(factory, name, value)
    return factory, factory.clock, Connector()


# -- ReconnectingClientFactory


def test_defaultsAreTwisteds() -> None:
    factory = ReconnectingClientFactory()
    assert factory.maxDelay == 3600
    assert factory.initialDelay == factory.delay == 1.0
    assert factory.factor == pytest.approx(math.e)
    assert factory.jitter == pytest.approx(0.11962656472)
    assert factory.maxRetries is None
    assert factory.retries == 0
    assert factory.continueTrying


def test_retriesWithExponentialBackoff() -> None:
    factory, clock, connector = reconnecting(factor=2.0, initialDelay=1.0, maxDelay=10)
    delays = []
    for expected in (1, 2, 3, 4, 5):
        factory.clientConnectionFailed(connector, REFUSED)
        delays.append(factory.delay)
        [call] = clock.getDelayedCalls()
        clock.advance(call.getTime() - clock.seconds())
        assert connector.connects == expected
    assert delays == [2, 4, 8, 10, 10]
    assert factory.retries == 5


def test_lostConnectionsAreRetriedToo() -> None:
    factory, clock, connector = reconnecting()
    factory.clientConnectionLost(connector, Failure(error.ConnectionLost()))
    assert factory.connector is connector
    clock.advance(factory.delay)
    assert connector.connects == 1


def test_maxRetries() -> None:
    factory, clock, connector = reconnecting(maxRetries=2, factor=1.0)
    for _ in range(3):
        factory.clientConnectionFailed(connector, REFUSED)
        clock.advance(10)
    assert connector.connects == 2
    assert clock.getDelayedCalls() == []


def test_stopTrying() -> None:
    factory, clock, connector = reconnecting()
    factory.clientConnectionFailed(connector, REFUSED)
    assert clock.getDelayedCalls()
    factory.stopTrying()
    assert clock.getDelayedCalls() == []
    assert connector.stops == 1
    assert not factory.continueTrying
    factory.clientConnectionFailed(connector, REFUSED)
    assert clock.getDelayedCalls() == []
    clock.advance(100)
    assert connector.connects == 0


def test_stopTryingWhenNotConnecting() -> None:
    factory, _, _ = reconnecting()
    connector = Connector(connecting=False)
    factory.clientConnectionLost(connector, REFUSED)
    factory.stopTrying()  # the connector's NotConnectingError is not an error here
    assert connector.stops == 0


def test_resetDelay() -> None:
    factory, clock, connector = reconnecting()
    factory.clientConnectionFailed(connector, REFUSED)
    clock.advance(10)
    factory.clientConnectionFailed(connector, REFUSED)
    assert factory.retries == 2
    factory.stopTrying()
    factory.resetDelay()
    assert (factory.delay, factory.retries, factory.continueTrying) == (1.0, 0, True)
    factory.clientConnectionFailed(connector, REFUSED)
    assert factory.delay == pytest.approx(math.e)


def test_retryNeedsAConnector() -> None:
    factory, _, _ = reconnecting()
    with pytest.raises(ValueError, match="no connector"):
        factory.retry()


def test_retryWithAnExplicitConnector() -> None:
    factory, clock, connector = reconnecting()
    factory.retry(connector)
    clock.advance(10)
    assert connector.connects == 1


def test_jitterStaysWithinMaxDelay(monkeypatch: pytest.MonkeyPatch) -> None:
    factory, clock, connector = reconnecting(maxDelay=30)
    factory.jitter = 0.5
    generator = random.Random(1234)
    monkeypatch.setattr(random, "normalvariate", generator.normalvariate)
    delays = []
    for _ in range(40):
        factory.clientConnectionFailed(connector, REFUSED)
        delays.append(factory.delay)
        clock.advance(factory.delay)
    assert all(0 <= d <= 30 for d in delays)
    assert len(set(delays)) > 10  # jittered, not a fixed ladder
    assert max(delays) == 30
    assert connector.connects == 40


def test_noisyLogging() -> None:
    factory, clock, connector = reconnecting(noisy=True, maxRetries=1)
    with capturedLogs() as events:
        factory.clientConnectionFailed(connector, REFUSED)
        clock.advance(10)
        factory.clientConnectionFailed(connector, REFUSED)
        factory.stopTrying()
        factory.retry(connector)
    formats = [e["log_format"] for e in events]
    assert any("will retry in" in f for f in formats)
    assert any("after {retries} retries" in f for f in formats)
    assert any("explicit request" in f for f in formats)


def test_pickleKeepsConfigurationOnly() -> None:
    factory, _, connector = reconnecting(maxDelay=99)
    factory.clientConnectionFailed(connector, REFUSED)
    state = factory.__getstate__()
    for transient in ("connector", "retries", "delay", "continueTrying", "_callID", "clock"):
        assert transient not in state
    assert state["maxDelay"] == 99
    copy = pickle.loads(pickle.dumps(factory))
    assert copy.maxDelay == 99
    assert copy.retries == 0
    assert copy.connector is None


def test_reconnectsForReal(reactor: Any, runReactor: Any) -> None:
    """A server that hangs up at once: the client reconnects twice, then stops trying."""

    class HangUp(Protocol):
        def connectionMade(self) -> None:
            self.transport.loseConnection()

    class Client(Protocol):
        def connectionLost(self, reason: Any) -> None:
            self.factory.lost(self)

    class Counting(ReconnectingClientFactory):
        protocol = Client
        noisy = False
        initialDelay = delay = 0.001
        factor = 1.0
        jitter = 0

        def __init__(self) -> None:
            self.losses = 0
            self.done: Deferred[int] = Deferred()

        def lost(self, client: Any) -> None:
            self.losses += 1
            if self.losses == 3:
                self.stopTrying()

        def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
            super().clientConnectionLost(connector, reason)
            if not self.continueTrying:
                self.done.callback(self.losses)

    async def go() -> Any:
        port = reactor.listenTCP(0, Factory.forProtocol(HangUp), interface="127.0.0.1")
        factory = Counting()
        factory.clock = reactor
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        losses = await factory.done
        await port.stopListening()
        return losses, factory.numPorts

    assert runReactor(reactor, go) == (3, 0)


# -- ClientCreator


class Greeter(Protocol):
    def __init__(self, greeting: bytes, *, times: int = 1) -> None:
        self.greeting = greeting
        self.times = times
        self.made = False

    def connectionMade(self) -> None:
        self.made = True
        self.transport.write(self.greeting * self.times)


def test_clientCreatorConnectTCP() -> None:
    reactor = MemoryReactorClock()
    creator = ClientCreator(reactor, Greeter, b"hi", times=2)
    d = creator.connectTCP("example.com", 80, timeout=5, bindAddress=("192.0.2.9", 0))
    [(host, port, factory, timeout, bindAddress)] = reactor.tcpClients
    assert (host, port, timeout, bindAddress) == ("example.com", 80, 5, ("192.0.2.9", 0))
    protocol = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 80))
    transport = StringTransport()
    protocol.makeConnection(transport)
    results: list[Any] = []
    d.addCallback(results.append)
    assert results == []  # it fires on the next turn, after connectionMade
    reactor.advance(0)
    assert results == [protocol]
    assert protocol.made
    assert transport.value() == b"hihi"


def test_clientCreatorFailure() -> None:
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Greeter, b"hi").connectTCP("example.com", 80)
    factory = reactor.tcpClients[0][2]
    factory.clientConnectionFailed(reactor.connectors[0], REFUSED)
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures == []
    reactor.advance(0)
    assert failures[0].check(error.ConnectionRefusedError)


def test_clientCreatorCancelWhileConnecting() -> None:
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Greeter, b"hi").connectTCP("example.com", 80)
    d.cancel()
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(CancelledError)
    assert reactor.connectors[0]._disconnected


def test_clientCreatorCancelAfterConnecting() -> None:
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Greeter, b"hi").connectTCP("example.com", 80)
    factory = reactor.tcpClients[0][2]
    factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 80)).makeConnection(StringTransport())
    d.cancel()
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(CancelledError)
    assert reactor.getDelayedCalls() == []
    assert reactor.connectors[0]._disconnected


def test_clientCreatorConnectUNIXAndSSL() -> None:
    reactor = MemoryReactorClock()
    creator = ClientCreator(reactor, Greeter, b"hi")
    creator.connectUNIX("/run/x.sock", timeout=3, checkPID=True)
    assert [(a, t, c) for a, _, t, c in reactor.unixClients] == [("/run/x.sock", 3, True)]
    context = object()
    creator.connectSSL("example.com", 443, context, timeout=4)
    [(host, port, _, ctx, timeout, bind)] = reactor.sslClients
    assert (host, port, ctx, timeout, bind) == ("example.com", 443, context, 4, None)


def test_clientCreatorForReal(reactor: Any, runReactor: Any) -> None:
    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data)
            self.transport.loseConnection()

    class Reader(Greeter):
        def __init__(self, greeting: bytes) -> None:
            super().__init__(greeting)
            self.done: Deferred[bytes] = Deferred()
            self.data = b""

        def dataReceived(self, data: bytes) -> None:
            self.data += data

        def connectionLost(self, reason: Any) -> None:
            self.done.callback(self.data)

    async def go() -> Any:
        port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
        creator = ClientCreator(reactor, Reader, b"ping")
        protocol = await creator.connectTCP("127.0.0.1", port.getHost().port)
        assert protocol.made
        data = await protocol.done
        await port.stopListening()
        return data

    assert runReactor(reactor, go) == b"ping"


# -- connectProtocol


def test_connectProtocol() -> None:
    assert endpoints.connectProtocol is connectProtocol
    reactor = MemoryReactorClock()
    protocol = Greeter(b"hello")
    d = connectProtocol(TCP4ClientEndpoint(reactor, "192.0.2.1", 80), protocol)
    factory = reactor.tcpClients[0][2]
    wrapper = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 80))
    transport = StringTransport()
    wrapper.makeConnection(transport)
    results: list[Any] = []
    d.addCallback(results.append)
    assert results == [protocol]
    assert transport.value() == b"hello"


def test_connectProtocolCancelled() -> None:
    reactor = MemoryReactorClock()
    d = connectProtocol(TCP4ClientEndpoint(reactor, "192.0.2.1", 80), Greeter(b"x"))
    d.cancel()
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(error.ConnectingCancelledError)
    assert reactor.connectors[0].stoppedConnecting
