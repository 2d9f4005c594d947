"""fw.application.internet and strports: port, client and timer services; ClientService."""

from __future__ import annotations

from typing import Any

import pytest

from fw.application import internet, strports
from fw.application.internet import ClientService, backoffPolicy
from fw.internet.defer import CancelledError, Deferred, fail, succeed
from fw.internet.error import CannotListenError, ConnectionDone, ConnectionRefusedError
from fw.internet.protocol import ClientFactory, Factory, Protocol, ServerFactory
from fw.internet.task import Clock
from fw.internet.testing import MemoryReactor, StringTransport
from fw.python.failure import Failure


def test_tcpServerListensInPrivilegedStart() -> None:
    reactor = MemoryReactor()
    factory = ServerFactory.forProtocol(Protocol)
    s = internet.TCPServer(1234, factory, interface="127.0.0.1", reactor=reactor)
    s.privilegedStartService()
    assert reactor.tcpServers == [(1234, factory, 50, "127.0.0.1")]
    s.startService()
    # Not bound twice.
    assert len(reactor.tcpServers) == 1
    s.stopService()
    assert s._port is None


def test_serverListensInStartWithoutPrivilegedStart() -> None:
    reactor = MemoryReactor()
    s = internet.UNIXServer("/tmp/x.sock", ServerFactory(), reactor=reactor)
    s.startService()
    assert reactor.unixServers[0][0] == "/tmp/x.sock"


def test_udpAndSslServers() -> None:
    reactor = MemoryReactor()
    internet.UDPServer(53, Protocol(), reactor=reactor).startService()
    assert reactor.udpServers[0][0] == 53
    pytest.importorskip("OpenSSL")
    internet.SSLServer(443, ServerFactory(), object(), reactor=reactor).startService()
    assert reactor.sslServers[0][0] == 443


def test_tcpClientConnectsAndDisconnects() -> None:
    reactor = MemoryReactor()
    factory = ClientFactory()
    c = internet.TCPClient("example.com", 79, factory, reactor=reactor)
    c.startService()
    assert reactor.tcpClients[0][:3] == ("example.com", 79, factory)
    c.stopService()
    assert reactor.connectors[0]._disconnected


def test_unixClient() -> None:
    reactor = MemoryReactor()
    internet.UNIXClient("/tmp/sock", ClientFactory(), reactor=reactor).startService()
    assert reactor.unixClients[0][0] == "/tmp/sock"


def test_timerServiceCallsAndStops() -> None:
    clock = Clock()
    calls: list[int] = []
    timer = internet.TimerService(5, calls.append, 1)
    timer.clock = clock
    timer.startService()
    assert calls == [1]
    clock.advance(5)
    clock.advance(5)
    assert calls == [1, 1, 1]
    d = timer.stopService()
    assert d is not None
    assert d.called
    clock.advance(20)
    assert len(calls) == 3


def test_timerServiceWaitsForRunningCall() -> None:
    clock = Clock()
    pending: Deferred[None] = Deferred()
    timer = internet.TimerService(1, lambda: pending)
    timer.clock = clock
    timer.startService()
    d = timer.stopService()
    assert d is not None
    assert not d.called
    pending.callback(None)
    assert d.called


def test_timerServiceFailureIsLoggedAndStops() -> None:
    from fw.logger import capturedLogs

    clock = Clock()

    def boom() -> None:
        raise ValueError("boom")

    timer = internet.TimerService(1, boom)
    timer.clock = clock
    with capturedLogs() as events:
        timer.startService()
    assert any(e.get("log_failure") is not None for e in events)
    d = timer.stopService()
    assert d is not None
    assert d.called


class FakeServerEndpoint:
    def __init__(self, result: Deferred[Any]) -> None:
        self.result = result
        self.factories: list[Any] = []

    def listen(self, factory: Any) -> Deferred[Any]:
        self.factories.append(factory)
        return self.result


class FakePort:
    stopped = False

    def stopListening(self) -> Deferred[None]:
        self.stopped = True
        return succeed(None)


def test_endpointServiceListensAndStops() -> None:
    port = FakePort()
    endpoint = FakeServerEndpoint(succeed(port))
    s = internet.StreamServerEndpointService(endpoint, ServerFactory())
    assert s.listeningPort is None
    s.privilegedStartService()
    s.startService()
    assert len(endpoint.factories) == 1
    assert s.listeningPort is port
    d = s.stopService()
    assert d.called
    assert port.stopped


def test_endpointServiceRaisesSynchronousFailure() -> None:
    endpoint = FakeServerEndpoint(fail(CannotListenError("127.0.0.1", 79, OSError("in use"))))
    s = internet.StreamServerEndpointService(endpoint, ServerFactory())
    with pytest.raises(CannotListenError):
        s.privilegedStartService()


def test_endpointServiceCancelsPendingListenOnStop() -> None:
    cancelled: list[bool] = []
    pending: Deferred[Any] = Deferred(lambda d: cancelled.append(True))
    s = internet.StreamServerEndpointService(FakeServerEndpoint(pending), ServerFactory())
    s.startService()
    d = s.stopService()
    assert cancelled == [True]
    assert d.called


def test_strportsService() -> None:
    reactor = MemoryReactor()
    factory = ServerFactory()
    s = strports.service("tcp:8079:interface=127.0.0.1", factory, reactor=reactor)
    s.privilegedStartService()
    assert reactor.tcpServers[0][0] == 8079
    assert reactor.tcpServers[0][3] == "127.0.0.1"
    with pytest.raises(ValueError):
        strports.service("nonsense-prefix:1", factory, reactor=reactor)


def test_backoffPolicy() -> None:
    policy = backoffPolicy(initialDelay=1.0, maxDelay=10.0, factor=2.0, jitter=lambda: 0.5)
    assert [policy(n) for n in (1, 2, 3, 4, 5, 6)] == [1.5, 2.5, 4.5, 8.5, 10.5, 10.5]
    assert policy(10**6) == 10.5


# -- ClientService


class LosingTransport(StringTransport):
    """Calls connectionLost on loseConnection, as a real transport does soon after."""

    def __init__(self, protocol: Protocol) -> None:
        super().__init__()
        self.protocol = protocol

    def loseConnection(self) -> None:
        super().loseConnection()
        self.protocol.connectionLost(Failure(ConnectionDone()))


class FakeClientEndpoint:
    """Each connect() is answered by the test: succeed() or failAttempt()."""

    def __init__(self) -> None:
        self.attempts: list[tuple[Deferred[Any], Any]] = []

    def connect(self, factory: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.attempts.append((d, factory))
        return d

    def succeed(self) -> Protocol:
        d, factory = self.attempts[-1]
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(LosingTransport(protocol))
        d.callback(protocol)
        return protocol

    def failAttempt(self) -> None:
        d, _ = self.attempts[-1]
        d.errback(ConnectionRefusedError())


def makeClientService(**kw: Any) -> tuple[ClientService, FakeClientEndpoint, Clock]:
    clock = Clock()
    endpoint = FakeClientEndpoint()
    policy = backoffPolicy(initialDelay=1.0, maxDelay=8.0, factor=2.0, jitter=lambda: 0)
    s = ClientService(
        endpoint, Factory.forProtocol(Protocol), retryPolicy=policy, clock=clock, **kw
    )
    return s, endpoint, clock


def test_clientServiceConnectsAndWhenConnected() -> None:
    s, endpoint, _ = makeClientService()
    waiting = s.whenConnected()
    s.startService()
    assert len(endpoint.attempts) == 1
    assert not waiting.called
    protocol = endpoint.succeed()
    assert waiting.result is protocol
    assert s.whenConnected().result is protocol


def test_clientServiceRetriesWithBackoff() -> None:
    s, endpoint, clock = makeClientService()
    s.startService()
    endpoint.failAttempt()
    assert len(endpoint.attempts) == 1
    clock.advance(0.99)
    assert len(endpoint.attempts) == 1
    clock.advance(0.01)
    assert len(endpoint.attempts) == 2
    endpoint.failAttempt()
    clock.advance(1.99)
    assert len(endpoint.attempts) == 2
    clock.advance(0.01)
    assert len(endpoint.attempts) == 3
    endpoint.succeed()
    assert s.whenConnected().called


def test_clientServiceReconnectsAfterLoss() -> None:
    s, endpoint, clock = makeClientService()
    s.startService()
    first = endpoint.succeed()
    first.connectionLost(Failure(ConnectionDone()))
    waiting = s.whenConnected()
    assert not waiting.called
    clock.advance(1)
    assert len(endpoint.attempts) == 2
    second = endpoint.succeed()
    assert waiting.result is second is not first


def test_whenConnectedFailAfterFailures() -> None:
    s, endpoint, clock = makeClientService()
    s.startService()
    waiting = s.whenConnected(failAfterFailures=2)
    patient = s.whenConnected()
    endpoint.failAttempt()
    assert not waiting.called
    clock.advance(1)
    endpoint.failAttempt()
    failures: list[Failure] = []
    waiting.addErrback(failures.append)
    assert failures[0].check(ConnectionRefusedError)
    assert not patient.called
    clock.advance(2)
    endpoint.succeed()
    assert patient.called


def test_whenConnectedIsCancellable() -> None:
    s, endpoint, _ = makeClientService()
    s.startService()
    waiting = s.whenConnected()
    waiting.cancel()
    errors: list[Failure] = []
    waiting.addErrback(errors.append)
    assert errors[0].check(CancelledError)
    endpoint.succeed()  # the cancelled waiter is not fired again


def test_stopServiceCancelsAttemptAndWaiters() -> None:
    s, endpoint, clock = makeClientService()
    s.startService()
    waiting = s.whenConnected()
    d = s.stopService()
    assert d.called
    errors: list[Failure] = []
    waiting.addErrback(errors.append)
    assert errors[0].check(CancelledError)
    clock.advance(100)
    assert len(endpoint.attempts) == 1


def test_stopServiceDuringBackoffCancelsRetry() -> None:
    s, endpoint, clock = makeClientService()
    s.startService()
    endpoint.failAttempt()
    assert s.stopService().called
    clock.advance(100)
    assert len(endpoint.attempts) == 1
    assert clock.getDelayedCalls() == []


def test_stopServiceDisconnectsAndWaits() -> None:
    s, endpoint, clock = makeClientService()
    s.startService()
    protocol = endpoint.succeed()
    d = s.stopService()
    assert d.called
    assert protocol.transport.disconnecting  # type: ignore[union-attr]
    clock.advance(100)
    assert len(endpoint.attempts) == 1


def test_restartAfterStop() -> None:
    s, endpoint, _ = makeClientService()
    s.startService()
    endpoint.succeed()
    s.stopService()
    s.startService()
    assert len(endpoint.attempts) == 2
    protocol = endpoint.succeed()
    assert s.whenConnected().result is protocol


def test_prepareConnection() -> None:
    preparing: list[Deferred[None]] = []

    def prepare(protocol: Protocol) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        preparing.append(d)
        return d

    s, endpoint, _clock = makeClientService(prepareConnection=prepare)
    s.startService()
    waiting = s.whenConnected()
    protocol = endpoint.succeed()
    assert len(preparing) == 1
    assert not waiting.called
    preparing[0].callback(None)
    assert waiting.result is protocol


def test_prepareConnectionFailureDropsAndRetries() -> None:
    calls: list[Protocol] = []

    def prepare(protocol: Protocol) -> None:
        calls.append(protocol)
        if len(calls) == 1:
            raise ValueError("not ready")

    s, endpoint, clock = makeClientService(prepareConnection=prepare)
    s.startService()
    waiting = s.whenConnected()
    first = endpoint.succeed()
    assert first.transport.disconnecting  # type: ignore[union-attr]
    assert not waiting.called
    clock.advance(1)
    second = endpoint.succeed()
    assert waiting.result is second


def test_stopDuringPrepareClosesConnection() -> None:
    s, endpoint, _ = makeClientService(prepareConnection=lambda p: Deferred())
    s.startService()
    protocol = endpoint.succeed()
    d = s.stopService()
    assert protocol.transport.disconnecting  # type: ignore[union-attr]
    assert d.called


def test_clientServiceRealLoopback(reactor: Any, runReactor: Any) -> None:
    """A ClientService connects over real TCP and reconnects when the server drops it."""
    from fw.internet.endpoints import TCP4ClientEndpoint

    accepted: list[Protocol] = []
    lost: list[Deferred[None]] = []

    class Dropper(Protocol):
        def connectionMade(self) -> None:
            accepted.append(self)
            self.gone: Deferred[None] = Deferred()
            lost.append(self.gone)

        def connectionLost(self, reason: Failure | None = None) -> None:  # type: ignore[override]
            self.gone.callback(None)

    port = reactor.listenTCP(0, ServerFactory.forProtocol(Dropper), interface="127.0.0.1")
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    s = ClientService(
        endpoint,
        Factory.forProtocol(Protocol),
        retryPolicy=lambda n: 0.01,
        clock=reactor,
    )

    async def scenario() -> None:
        from fw.internet.task import deferLater

        s.startService()
        first = await s.whenConnected()
        while not accepted:
            await deferLater(reactor, 0.01, lambda: None)
        accepted[0].transport.loseConnection()  # type: ignore[union-attr]
        while s.whenConnected().called and s.whenConnected().result is first:
            await deferLater(reactor, 0.01, lambda: None)
        second = await s.whenConnected()
        assert second is not first
        await s.stopService()
        for d in lost:
            await d
        await port.stopListening()

    runReactor(reactor, scenario)
