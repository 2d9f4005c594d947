"""Tests for fw.internet.testing's MemoryReactor, MemoryReactorClock and RaisingMemoryReactor."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from zope.interface import implementedBy, implementer
from zope.interface.verify import verifyClass, verifyObject

from fw.internet import error, interfaces
from fw.internet.address import IPv4Address, IPv6Address, UNIXAddress
from fw.internet.protocol import ClientFactory, DatagramProtocol, Factory, Protocol
from fw.internet.testing import (
    MemoryReactor,
    MemoryReactorClock,
    RaisingMemoryReactor,
    SynchronousResolver,
)


class RecordingClientFactory(ClientFactory):
    protocol = Protocol

    def __init__(self) -> None:
        self.started: list[Any] = []

    def startedConnecting(self, connector: interfaces.IConnector) -> None:
        self.started.append(connector)


@pytest.mark.parametrize("klass", [MemoryReactor, MemoryReactorClock, RaisingMemoryReactor])
def test_implements_interfaces(klass: type) -> None:
    provided = list(implementedBy(klass))  # type: ignore[no-untyped-call]
    assert provided
    for iface in provided:
        assert verifyClass(iface, klass)
        assert verifyObject(iface, klass())


def test_memory_reactor_provides_expected() -> None:
    r = MemoryReactor()
    for iface in (
        interfaces.IReactorCore,
        interfaces.IReactorTCP,
        interfaces.IReactorSSL,
        interfaces.IReactorUNIX,
        interfaces.IReactorUDP,
        interfaces.IReactorSocket,
        interfaces.IReactorFDSet,
        interfaces.IReactorPluggableNameResolver,
    ):
        assert iface.providedBy(r), iface
    assert interfaces.IReactorTime.providedBy(MemoryReactorClock())
    assert not interfaces.IReactorTime.providedBy(r)


def test_listen_tcp() -> None:
    r = MemoryReactor()
    f = Factory.forProtocol(Protocol)
    port = r.listenTCP(8080, f)
    port6 = r.listenTCP(0, f, backlog=5, interface="::1")
    local = r.listenTCP(1, f, interface="127.0.0.1")
    assert r.tcpServers == [(8080, f, 50, ""), (0, f, 5, "::1"), (1, f, 50, "127.0.0.1")]
    assert port.getHost() == IPv4Address("TCP", "0.0.0.0", 8080)
    assert port6.getHost() == IPv6Address("TCP", "::1", 0)
    assert local.getHost() == IPv4Address("TCP", "127.0.0.1", 1)
    assert verifyObject(interfaces.IListeningPort, port)
    port.startListening()
    assert port.stopListening() is None


def test_connect_tcp() -> None:
    r = MemoryReactor()
    f = RecordingClientFactory()
    c = r.connectTCP("example.com", 80, f, timeout=5, bindAddress=("0.0.0.0", 0))
    c6 = r.connectTCP("::1", 81, f)
    assert r.tcpClients == [
        ("example.com", 80, f, 5, ("0.0.0.0", 0)),
        ("::1", 81, f, 30, None),
    ]
    assert f.started == [c, c6]
    assert r.connectors == [c, c6]
    assert c.getDestination() == IPv4Address("TCP", "example.com", 80)
    assert c6.getDestination() == IPv6Address("TCP", "::1", 81)
    assert verifyObject(interfaces.IConnector, c)
    c.stopConnecting()
    c.disconnect()
    c.connect()
    assert r.connectors[0].stoppedConnecting
    assert r.connectors[0].connectCalls == 1


def test_ssl() -> None:
    r = MemoryReactor()
    f = RecordingClientFactory()
    ctx: Any = object()
    port = r.listenSSL(443, f, ctx)
    conn = r.connectSSL("h", 443, f, ctx, timeout=3)
    assert r.sslServers == [(443, f, ctx, 50, "")]
    assert r.sslClients == [("h", 443, f, ctx, 3, None)]
    assert port.getHost() == IPv4Address("TCP", "0.0.0.0", 443)
    assert conn.getDestination() == IPv4Address("TCP", "h", 443)
    assert f.started == [conn]


def test_unix() -> None:
    r = MemoryReactor()
    f = RecordingClientFactory()
    port = r.listenUNIX("/tmp/s", f, mode=0o600)
    conn = r.connectUNIX("/tmp/s", f, checkPID=True)
    assert r.unixServers == [("/tmp/s", f, 50, 0o600, False)]
    assert r.unixClients == [("/tmp/s", f, 30, True)]
    assert port.getHost() == UNIXAddress("/tmp/s")
    assert conn.getDestination() == UNIXAddress("/tmp/s")


def test_udp() -> None:
    r = MemoryReactor()
    p = DatagramProtocol()
    port = r.listenUDP(53, p)
    port6 = r.listenUDP(0, p, interface="::", maxPacketSize=512)
    assert r.udpServers == [(53, p, "", 8192), (0, p, "::", 512)]
    assert port.getHost() == IPv4Address("UDP", "0.0.0.0", 53)
    assert port6.getHost() == IPv6Address("UDP", "::", 0)


def test_adopt() -> None:
    r = MemoryReactor()
    f = Factory.forProtocol(Protocol)
    p = DatagramProtocol()
    port = r.adoptStreamPort(5, socket.AF_INET, f)
    port6 = r.adoptStreamPort(6, socket.AF_INET6, f)
    dport = r.adoptDatagramPort(7, socket.AF_INET, p, 100)
    dport6 = r.adoptDatagramPort(8, socket.AF_INET6, p)
    r.adoptStreamConnection(9, socket.AF_INET, f)
    assert r.adoptedPorts == [
        (5, socket.AF_INET, f),
        (6, socket.AF_INET6, f),
        (7, socket.AF_INET, p, 100),
        (8, socket.AF_INET6, p, 8192),
    ]
    assert r.adoptedStreamConnections == [(9, socket.AF_INET, f)]
    assert port.getHost() == IPv4Address("TCP", "0.0.0.0", 1234)
    assert port6.getHost() == IPv6Address("TCP", "::", 1234)
    assert dport.getHost() == IPv4Address("UDP", "0.0.0.0", 1234)
    assert dport6.getHost() == IPv6Address("UDP", "::", 1234)
    with pytest.raises(error.UnsupportedAddressFamily):
        r.adoptStreamPort(1, socket.AF_UNIX, f)
    with pytest.raises(error.UnsupportedAddressFamily):
        r.adoptDatagramPort(1, socket.AF_UNIX, p)


def test_run_stop_crash() -> None:
    r = MemoryReactor()
    order: list[str] = []
    assert r.callWhenRunning(order.append, "early") is None
    assert r.whenRunningHooks == [(order.append, ("early",), {})]
    assert order == []
    r.run()
    assert order == ["early"]
    assert r.hasRun
    assert r.hasStopped
    assert not r.running
    r.callWhenRunning(order.append, "late")
    assert order == ["early", "late"]
    r.crash()
    assert r.running is None
    assert r.hasCrashed
    r.install()
    assert r.hasInstalled


def test_run_reentrant_refused() -> None:
    r = MemoryReactor()
    errors: list[Exception] = []

    def nested() -> None:
        try:
            r.run()
        except RuntimeError as e:
            errors.append(e)

    r.callWhenRunning(nested)
    r.run()
    assert len(errors) == 1


def test_system_event_triggers() -> None:
    r = MemoryReactor()
    t1 = r.addSystemEventTrigger("before", "shutdown", print, "a", sep="")
    t2 = r.addSystemEventTrigger("before", "shutdown", print, "b")
    r.addSystemEventTrigger("after", "startup", print)
    assert r.triggers == {
        "before": {"shutdown": [(print, ("a",), {"sep": ""}), (print, ("b",), {})]},
        "after": {"startup": [(print, (), {})]},
    }
    r.removeSystemEventTrigger(t1)
    assert r.triggers["before"]["shutdown"] == [(print, ("b",), {})]
    with pytest.raises(ValueError):
        r.removeSystemEventTrigger(t1)
    with pytest.raises(ValueError):
        r.removeSystemEventTrigger("nonsense")
    r.removeSystemEventTrigger(t2)
    assert r.triggers["before"]["shutdown"] == []
    with pytest.raises(KeyError):
        r.addSystemEventTrigger("whenever", "shutdown", print)


def test_unimplemented() -> None:
    r = MemoryReactor()
    with pytest.raises(NotImplementedError):
        r.resolve("example.com")
    with pytest.raises(NotImplementedError):
        r.iterate()
    with pytest.raises(NotImplementedError):
        r.fireSystemEvent("shutdown")


def test_fd_set() -> None:
    @implementer(interfaces.IReadWriteDescriptor)
    class FD:
        def fileno(self) -> int:
            return 3

        def logPrefix(self) -> str:
            return "FD"

        def connectionLost(self, reason: object) -> None:
            pass

        def doRead(self) -> None:
            return None

        def doWrite(self) -> None:
            return None

    r = MemoryReactor()
    a, b = FD(), FD()
    r.addReader(a)
    r.addReader(a)
    r.addWriter(a)
    r.addWriter(b)
    assert r.getReaders() == [a]
    assert sorted(map(id, r.getWriters())) == sorted([id(a), id(b)])
    r.removeReader(b)  # not there: ignored
    r.removeWriter(b)
    assert r.getWriters() == [a]
    r.addWriter(b)
    removed = r.removeAll()
    assert sorted(map(id, removed)) == sorted([id(a), id(b)])
    assert r.getReaders() == []
    assert r.getWriters() == []


def test_name_resolver() -> None:
    r = MemoryReactor()
    assert isinstance(r.nameResolver, SynchronousResolver)

    @implementer(interfaces.IResolutionReceiver)
    class Receiver:
        def __init__(self) -> None:
            self.events: list[Any] = []

        def resolutionBegan(self, resolution: interfaces.IHostResolution) -> None:
            self.events.append(("began", resolution.name))
            resolution.cancel()

        def addressResolved(self, address: interfaces.IAddress) -> None:
            self.events.append(("address", address))

        def resolutionComplete(self) -> None:
            self.events.append(("complete",))

    receiver = Receiver()
    resolution = r.nameResolver.resolveHostName(receiver, "example.com", 80)
    assert verifyObject(interfaces.IHostResolution, resolution)
    assert resolution.name == "example.com"
    assert receiver.events == [
        ("began", "example.com"),
        ("address", IPv4Address("TCP", "127.0.0.1", 80)),
        ("complete",),
    ]
    other = SynchronousResolver()
    old = r.installNameResolver(other)
    assert r.nameResolver is other
    assert old is not other


def test_memory_reactor_clock() -> None:
    r = MemoryReactorClock()
    called: list[int] = []
    r.callLater(1, called.append, 1)
    r.advance(1)
    assert called == [1]
    assert r.seconds() == 1
    r.listenTCP(1, Factory())
    assert len(r.tcpServers) == 1


def test_raising_memory_reactor() -> None:
    listenErr = error.CannotListenError("", 80, OSError("in use"))
    connectErr = error.ConnectionRefusedError()
    r = RaisingMemoryReactor(listenErr, connectErr)
    f = RecordingClientFactory()
    p = DatagramProtocol()
    ctx: Any = object()
    listens: list[Callable[[], object]] = [
        lambda: r.listenTCP(80, f),
        lambda: r.listenSSL(80, f, ctx),
        lambda: r.listenUNIX("/s", f),
        lambda: r.listenUDP(53, p),
        lambda: r.adoptStreamPort(3, socket.AF_INET, f),
    ]
    for listen in listens:
        with pytest.raises(error.CannotListenError) as info:
            listen()
        assert info.value is listenErr
    for connect in (
        lambda: r.connectTCP("h", 80, f),
        lambda: r.connectSSL("h", 80, f, ctx),
        lambda: r.connectUNIX("/s", f),
        lambda: r.adoptStreamConnection(3, socket.AF_INET, f),
        lambda: r.adoptDatagramPort(3, socket.AF_INET, p),
    ):
        with pytest.raises(error.ConnectionRefusedError):
            connect()
    assert f.started == []
    other = SynchronousResolver()
    assert r.installNameResolver(other) is not other
    assert r.nameResolver is other


def test_raising_memory_reactor_without_exceptions() -> None:
    r = RaisingMemoryReactor()
    with pytest.raises(RuntimeError, match="listenException"):
        r.listenTCP(1, Factory())
    with pytest.raises(RuntimeError, match="connectException"):
        r.connectTCP("h", 1, ClientFactory())
