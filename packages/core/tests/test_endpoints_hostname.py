"""
HostnameEndpoint's Happy Eyeballs (RFC 8305), deterministically: a resolver
driven by the test and a MemoryReactorClock whose connection attempts the
test makes succeed or fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from zope.interface import implementer

from fw.internet import error
from fw.internet.address import HostnameAddress, IPv4Address, IPv6Address
from fw.internet.defer import Deferred
from fw.internet.endpoints import HostnameEndpoint, TCP6ClientEndpoint
from fw.internet.interfaces import IHostnameResolver
from fw.internet.protocol import Factory, Protocol
from fw.internet.testing import MemoryReactorClock, StringTransport
from fw.python.failure import Failure


class Resolution:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@implementer(IHostnameResolver)
class ManualResolver:
    """Remembers each request; the test reports addresses to its receiver."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, int, Any]] = []
        self.receiver: Any = None
        self.resolution: Resolution | None = None

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type] | None = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        self.requests.append((hostName, portNumber, addressTypes))
        self.receiver = resolutionReceiver
        self.resolution = Resolution(hostName)
        resolutionReceiver.resolutionBegan(self.resolution)
        return self.resolution

    def give(self, *hosts: str, port: int = 80) -> None:
        for host in hosts:
            kind = IPv6Address if ":" in host else IPv4Address
            self.receiver.addressResolved(kind("TCP", host, port))

    def complete(self) -> None:
        self.receiver.resolutionComplete()


class Race:
    """One HostnameEndpoint.connect on a fake reactor, and the means to drive it."""

    def __init__(self, attemptDelay: float | None = None, **kwargs: Any) -> None:
        self.reactor = MemoryReactorClock()
        self.resolver = ManualResolver()
        self.reactor.installNameResolver(self.resolver)
        self.factory = Factory.forProtocol(Protocol)
        self.endpoint = HostnameEndpoint(
            self.reactor, "example.com", 80, attemptDelay=attemptDelay, **kwargs
        )
        self.d = self.endpoint.connect(self.factory)
        self.outcome: list[Any] = []
        self.d.addBoth(self.outcome.append)

    def hosts(self) -> list[str]:
        """The hosts of the attempts started so far, in order."""
        return [host for host, *_ in self.reactor.tcpClients]

    def succeed(self, index: int) -> StringTransport:
        """Connect attempt ``index``; return its transport."""
        host, port, factory, _, _ = self.reactor.tcpClients[index]
        kind = IPv6Address if ":" in host else IPv4Address
        protocol = factory.buildProtocol(kind("TCP", host, port))
        transport = StringTransport()
        protocol.makeConnection(transport)
        return transport

    def fail(self, index: int, reason: BaseException | None = None) -> None:
        factory = self.reactor.tcpClients[index][2]
        failure = Failure(reason or error.ConnectionRefusedError(111, "Connection refused"))
        factory.clientConnectionFailed(self.reactor.connectors[index], failure)

    def stopped(self) -> list[bool]:
        return [c.stoppedConnecting for c in self.reactor.connectors]


def test_resolvesWithTheReactorsResolver() -> None:
    race = Race()
    assert race.resolver.requests == [("example.com", 80, None)]
    assert not race.outcome


def test_ipv6AddressStartsAnAttemptAtOnce() -> None:
    race = Race()
    race.resolver.give("2001:db8::1")
    assert race.hosts() == ["2001:db8::1"]
    assert race.reactor.tcpClients[0][1] == 80


def test_ipv4AddressWaitsTheResolutionDelay() -> None:
    race = Race()
    race.resolver.give("192.0.2.1")
    assert race.hosts() == []
    race.reactor.advance(0.049)
    assert race.hosts() == []
    race.reactor.advance(0.001)
    assert race.hosts() == ["192.0.2.1"]


def test_ipv6ArrivingDuringTheResolutionDelayGoesFirst() -> None:
    race = Race()
    race.resolver.give("192.0.2.1")
    race.reactor.advance(0.02)
    race.resolver.give("2001:db8::1")
    assert race.hosts() == ["2001:db8::1"]
    # The Resolution Delay's timer is gone; only the attempt delay runs.
    assert [c.getTime() for c in race.reactor.getDelayedCalls()] == [pytest.approx(0.32)]
    race.reactor.advance(0.3)
    assert race.hosts() == ["2001:db8::1", "192.0.2.1"]


def test_completeResolutionStartsIPv4AtOnce() -> None:
    race = Race()
    race.resolver.give("192.0.2.1")
    race.resolver.complete()
    assert race.hosts() == ["192.0.2.1"]


def test_attemptsAlternateFamiliesEveryAttemptDelay() -> None:
    race = Race(attemptDelay=0.25)
    race.resolver.give("2001:db8::1", "2001:db8::2", "2001:db8::3", "192.0.2.1", "192.0.2.2")
    race.resolver.complete()
    seen = [race.hosts()]
    for _ in range(4):
        race.reactor.advance(0.25)
        seen.append(race.hosts())
    assert seen[-1] == ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"]
    assert [len(s) for s in seen] == [1, 2, 3, 4, 5]
    assert not race.stopped()[0]


def test_ipv6FirstEvenWhenResolvedSecond() -> None:
    race = Race()
    race.resolver.give("192.0.2.1", "192.0.2.2", "2001:db8::1")
    race.resolver.complete()
    race.reactor.pump([0.3, 0.3])
    assert race.hosts() == ["2001:db8::1", "192.0.2.1", "192.0.2.2"]


def test_defaultAttemptDelayIsTwistedsOrOurs() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "192.0.2.1")
    race.reactor.advance(0.299)
    assert len(race.hosts()) == 1
    race.reactor.advance(0.001)
    assert len(race.hosts()) == 2


def test_failureOfTheLatestStartsTheNextAtOnce() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "192.0.2.1", "2001:db8::2")
    race.resolver.complete()
    race.reactor.advance(0.1)
    race.fail(0)
    assert race.hosts() == ["2001:db8::1", "192.0.2.1"]
    # The attempt delay starts again from this attempt.
    race.reactor.advance(0.299)
    assert len(race.hosts()) == 2
    race.reactor.advance(0.001)
    assert len(race.hosts()) == 3


def test_failureOfAnOlderAttemptWaitsForTheDelay() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "192.0.2.1", "2001:db8::2")
    race.resolver.complete()
    race.reactor.advance(0.3)
    assert len(race.hosts()) == 2
    race.fail(0)
    assert len(race.hosts()) == 2
    race.reactor.advance(0.3)
    assert len(race.hosts()) == 3


def test_firstSuccessWinsAndTheRestAreCancelled() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2")
    race.reactor.pump([0.3, 0.3])
    assert len(race.hosts()) == 3
    transport = race.succeed(1)
    [protocol] = race.outcome
    assert type(protocol) is Protocol  # the factory's own protocol
    assert protocol.transport is transport
    assert race.stopped() == [True, False, True]
    # No more attempts, no timers left, and the resolution is abandoned.
    assert race.reactor.getDelayedCalls() == []
    race.reactor.advance(10)
    assert len(race.hosts()) == 3
    assert race.resolver.resolution is not None
    assert race.resolver.resolution.cancelled


def test_lateAddressJoinsAtOnceWhenTheDelayHasPassed() -> None:
    race = Race()
    race.resolver.give("2001:db8::1")
    race.reactor.advance(1)
    assert len(race.hosts()) == 1
    race.resolver.give("192.0.2.1")
    assert race.hosts() == ["2001:db8::1", "192.0.2.1"]


def test_lateAddressWaitsForTheDelay() -> None:
    race = Race()
    race.resolver.give("2001:db8::1")
    race.reactor.advance(0.1)
    race.resolver.give("192.0.2.1")
    assert len(race.hosts()) == 1
    race.reactor.advance(0.2)
    assert len(race.hosts()) == 2


def test_repeatedAddressesAreTriedOnce() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "2001:db8::1", "192.0.2.1")
    race.reactor.pump([0.3, 0.3])
    assert race.hosts() == ["2001:db8::1", "192.0.2.1"]
    # Even once tried, an address reported again is not tried again.
    race.resolver.give("192.0.2.1", "2001:db8::1")
    race.resolver.complete()
    race.reactor.advance(5)
    assert race.hosts() == ["2001:db8::1", "192.0.2.1"]


def test_noAddressesIsADNSLookupError() -> None:
    race = Race()
    race.resolver.complete()
    [failure] = race.outcome
    assert failure.check(error.DNSLookupError)
    assert "example.com" in failure.getErrorMessage()
    assert race.reactor.getDelayedCalls() == []


def test_oneAddressFailingGivesItsFailureUnchanged() -> None:
    race = Race()
    race.resolver.give("192.0.2.1")
    race.resolver.complete()
    refused = error.ConnectionRefusedError(111, "Connection refused")
    race.fail(0, refused)
    [failure] = race.outcome
    assert failure.value is refused
    assert race.reactor.getDelayedCalls() == []


def test_everyAddressFailingNamesThemAll() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "192.0.2.1")
    race.resolver.complete()
    race.fail(0, error.NoRouteError(101, "Network is unreachable"))
    race.fail(1, error.ConnectionRefusedError(111, "Connection refused"))
    [failure] = race.outcome
    # The last attempt's type, as in Twisted, and a message naming every address.
    assert failure.check(error.ConnectionRefusedError)
    message = failure.getErrorMessage()
    assert "all 2 attempts to connect to example.com:80 failed" in message
    assert "[2001:db8::1]:80 (Network is unreachable)" in message
    assert "192.0.2.1:80 (Connection refused)" in message
    assert isinstance(failure.value.__cause__, error.ConnectionRefusedError)
    assert race.reactor.getDelayedCalls() == []


def test_failuresWaitForTheResolutionToComplete() -> None:
    race = Race()
    race.resolver.give("2001:db8::1")
    race.fail(0)
    assert race.outcome == []
    race.resolver.give("192.0.2.1")
    assert len(race.hosts()) == 2
    race.fail(1)
    assert race.outcome == []
    race.resolver.complete()
    [failure] = race.outcome
    assert failure.check(error.ConnectionRefusedError)


def test_attemptsGetTheTimeoutAndBindAddress() -> None:
    race = Race(timeout=7, bindAddress="192.0.2.99")
    race.resolver.give("192.0.2.1")
    race.resolver.complete()
    [(host, port, _, timeout, bindAddress)] = race.reactor.tcpClients
    assert (host, port, timeout, bindAddress) == ("192.0.2.1", 80, 7, ("192.0.2.99", 0))


def test_bytesBindAddress() -> None:
    race = Race(bindAddress=(b"192.0.2.99", 1234))
    race.resolver.give("192.0.2.1")
    race.resolver.complete()
    assert race.reactor.tcpClients[0][4] == ("192.0.2.99", 1234)


def test_cancelDuringResolution() -> None:
    race = Race()
    race.resolver.give("192.0.2.1")
    race.d.cancel()
    [failure] = race.outcome
    assert failure.check(error.ConnectingCancelledError)
    assert failure.value.address == HostnameAddress(b"example.com", 80)
    assert race.resolver.resolution is not None
    assert race.resolver.resolution.cancelled
    assert race.reactor.getDelayedCalls() == []
    # Addresses that come after are ignored.
    race.resolver.give("2001:db8::1")
    race.resolver.complete()
    assert race.hosts() == []


def test_cancelDuringAttempts() -> None:
    race = Race()
    race.resolver.give("2001:db8::1", "192.0.2.1", "2001:db8::2")
    race.resolver.complete()
    race.reactor.advance(0.3)
    race.d.cancel()
    [failure] = race.outcome
    assert failure.check(error.ConnectingCancelledError)
    assert race.stopped() == [True, True]
    assert race.reactor.getDelayedCalls() == []
    assert race.resolver.resolution is not None
    assert not race.resolver.resolution.cancelled  # it had completed


def test_factoryRefusingCountsAsAFailedAttempt() -> None:
    race = Race()
    race.factory = Factory()  # buildProtocol raises: no protocol set
    race.d = race.endpoint.connect(race.factory)
    race.outcome = []
    race.d.addBoth(race.outcome.append)
    race.resolver.give("192.0.2.1")
    race.resolver.complete()
    host, port, factory, _, _ = race.reactor.tcpClients[0]
    # The endpoint's factory refuses the connection in turn.
    assert factory.buildProtocol(IPv4Address("TCP", host, port)) is None
    [failure] = race.outcome
    assert failure.check(TypeError)


def test_resolverRaising() -> None:
    @implementer(IHostnameResolver)
    class Broken:
        def resolveHostName(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("resolver broken")

    reactor = MemoryReactorClock()
    reactor.installNameResolver(Broken())
    d = HostnameEndpoint(reactor, "example.com", 80).connect(Factory.forProtocol(Protocol))
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(RuntimeError)


def test_withTheSynchronousResolverOfMemoryReactor() -> None:
    reactor = MemoryReactorClock()
    d: Deferred[Any] = HostnameEndpoint(reactor, "anything.example", 8080).connect(
        Factory.forProtocol(Protocol)
    )
    assert [(h, p) for h, p, *_ in reactor.tcpClients] == [("127.0.0.1", 8080)]
    d.cancel()
    assert reactor.connectors[0].stoppedConnecting


def test_internationalNamesAreResolvedInIDNAForm() -> None:
    reactor = MemoryReactorClock()
    resolver = ManualResolver()
    reactor.installNameResolver(resolver)
    endpoint = HostnameEndpoint(reactor, "bücher.example", 80)
    endpoint.connect(Factory.forProtocol(Protocol))
    assert resolver.requests[0][0] == "xn--bcher-kva.example"
    assert repr(endpoint) == "<HostnameEndpoint xn--bcher-kva.example:80>"
    assert repr(HostnameEndpoint(reactor, b"example.com", 443)) == (
        "<HostnameEndpoint example.com:443>"
    )
    assert repr(HostnameEndpoint(reactor, "::1", 22)) == "<HostnameEndpoint [::1]:22>"


def test_invalidHostnameFails() -> None:
    reactor = MemoryReactorClock()
    endpoint = HostnameEndpoint(reactor, "bad..name\u00e9", 80)
    failures: list[Failure] = []
    endpoint.connect(Factory.forProtocol(Protocol)).addErrback(failures.append)
    assert failures[0].check(ValueError)
    assert "invalid hostname" in failures[0].getErrorMessage()
    assert reactor.tcpClients == []


# -- TCP6ClientEndpoint resolves names through the same resolver


def test_tcp6ClientEndpointAsksForIPv6Only() -> None:
    reactor = MemoryReactorClock()
    resolver = ManualResolver()
    reactor.installNameResolver(resolver)
    d = TCP6ClientEndpoint(reactor, "example.com", 443, timeout=3).connect(
        Factory.forProtocol(Protocol)
    )
    assert resolver.requests == [("example.com", 443, [IPv6Address])]
    resolver.give("2001:db8::7", port=443)
    assert reactor.tcpClients == []  # the connection waits for the resolution to finish
    resolver.complete()
    [(host, port, _, timeout, _)] = reactor.tcpClients
    assert (host, port, timeout) == ("2001:db8::7", 443, 3)
    d.cancel()
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(error.ConnectingCancelledError)
    assert reactor.connectors[0].stoppedConnecting


def test_tcp6ClientEndpointCancelledWhileResolving() -> None:
    reactor = MemoryReactorClock()
    resolver = ManualResolver()
    reactor.installNameResolver(resolver)
    d = TCP6ClientEndpoint(reactor, "example.com", 443).connect(Factory.forProtocol(Protocol))
    d.cancel()
    failures: list[Failure] = []
    d.addErrback(failures.append)
    assert failures[0].check(error.ConnectingCancelledError)
    assert failures[0].value.address == HostnameAddress(b"example.com", 443)
    assert resolver.resolution is not None
    assert resolver.resolution.cancelled
    resolver.give("2001:db8::7")
    resolver.complete()
    assert reactor.tcpClients == []
