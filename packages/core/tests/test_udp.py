"""UDP on every reactor backend: echo, connected ports, refusals, limits, multicast."""

from __future__ import annotations

import functools
import os
import socket
import struct
from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.internet import error
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred, gatherResults
from fw.internet.interfaces import (
    IListeningPort,
    IMulticastTransport,
    IReactorMulticast,
    IReactorSocket,
    IReactorUDP,
    IUDPTransport,
)
from fw.internet.protocol import DatagramProtocol
from fw.internet.udp import MulticastPort
from fw.logger import capturedLogs

# An administratively scoped group (RFC 2365), used on the loopback interface only.
GROUP = "239.255.42.99"


class Echo(DatagramProtocol):
    """Sends every datagram back where it came from."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, Any]] = []
        self.stopped: Deferred[None] = Deferred()

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.received.append((data, addr))
        self.transport.write(data, addr)

    def stopProtocol(self) -> None:
        self.stopped.callback(None)


class Receiver(DatagramProtocol):
    """Fires ``next`` with each datagram and its sender; remembers refusals."""

    def __init__(self) -> None:
        self.started: Deferred[None] = Deferred()
        self.waiting: list[Deferred[tuple[bytes, Any]]] = []
        self.queue: list[tuple[bytes, Any]] = []
        self.refused: Deferred[None] = Deferred()
        self.refusals = 0

    def startProtocol(self) -> None:
        self.started.callback(None)

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        if self.waiting:
            self.waiting.pop(0).callback((data, addr))
        else:
            self.queue.append((data, addr))

    def next(self) -> Deferred[tuple[bytes, Any]]:
        if self.queue:
            d: Deferred[tuple[bytes, Any]] = Deferred()
            d.callback(self.queue.pop(0))
            return d
        d = Deferred()
        self.waiting.append(d)
        return d

    def connectionRefused(self) -> None:
        self.refusals += 1
        if not self.refused.called:
            self.refused.callback(None)


def freePort(family: int = socket.AF_INET, host: str = "127.0.0.1") -> int:
    """A UDP port that was free a moment ago, with nothing bound to it now."""
    probe = socket.socket(family, socket.SOCK_DGRAM)
    probe.bind((host, 0))
    number: int = probe.getsockname()[1]
    probe.close()
    return number


def fdCount() -> int:
    return len(os.listdir("/proc/self/fd"))


def stopAll(*ports: Any) -> Deferred[Any]:
    return gatherResults([p.stopListening() for p in ports])


@pytest.mark.parametrize("interface", ["127.0.0.1", "::1"])
def test_echo(reactor: Any, runReactor: Any, interface: str) -> None:
    async def go() -> Any:
        echo = Echo()
        server = reactor.listenUDP(0, echo, interface=interface)
        client = Receiver()
        clientPort = reactor.listenUDP(0, client, interface=interface)
        serverAddr = (interface, server.getHost().port)
        clientAddr = (interface, clientPort.getHost().port)
        clientPort.write(b"hello, fw", serverAddr)
        answer = await client.next()
        await stopAll(server, clientPort)
        await echo.stopped
        return answer, echo.received, serverAddr, clientAddr

    (data, sender), received, serverAddr, clientAddr = runReactor(reactor, go)
    assert data == b"hello, fw"
    assert sender == serverAddr
    assert received == [(b"hello, fw", clientAddr)]


@pytest.mark.parametrize("interface", ["127.0.0.1", "::1"])
def test_getHost(reactor: Any, runReactor: Any, interface: str) -> None:
    def go() -> Any:
        port = reactor.listenUDP(0, DatagramProtocol(), interface=interface)
        host = port.getHost()
        kind = IPv6Address if ":" in interface else IPv4Address
        assert isinstance(host, kind)
        assert host.type == "UDP"
        assert host.host == interface
        assert host.port > 0
        assert isinstance(port.getHandle(), socket.socket)
        assert "(UDP)" in port.logPrefix()
        return port.stopListening().addCallback(lambda _: port)

    port = runReactor(reactor, go)
    with pytest.raises(error.NotListeningError):
        port.getHost()


def test_interfacesProvided(reactor: Any, runReactor: Any) -> None:
    assert IReactorUDP.providedBy(reactor)
    assert IReactorMulticast.providedBy(reactor)
    assert IReactorSocket.providedBy(reactor)

    def go() -> Any:
        port = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        multicast = reactor.listenMulticast(0, DatagramProtocol(), interface="127.0.0.1")
        assert verifyObject(IUDPTransport, port)
        assert verifyObject(IListeningPort, port)
        assert verifyObject(IMulticastTransport, multicast)
        return stopAll(port, multicast)

    runReactor(reactor, go)


def test_protocolLifecycle(reactor: Any, runReactor: Any) -> None:
    calls: list[str] = []

    class Recording(DatagramProtocol):
        def startProtocol(self) -> None:
            calls.append("start")
            assert self.transport is not None

        def stopProtocol(self) -> None:
            calls.append("stop")

    async def go() -> None:
        protocol = Recording()
        port = reactor.listenUDP(0, protocol, interface="127.0.0.1")
        assert protocol.transport is port
        first = port.stopListening()
        second = port.stopListening()
        await gatherResults([first, second])
        assert protocol.transport is None
        # Stopping a stopped port is harmless.
        await port.stopListening()

    runReactor(reactor, go)
    assert calls == ["start", "stop"]


@pytest.mark.parametrize("interface", ["127.0.0.1", "::1"])
def test_connectedPort(reactor: Any, runReactor: Any, interface: str) -> None:
    async def go() -> Any:
        echo = Echo()
        server = reactor.listenUDP(0, echo, interface=interface)
        serverAddr = (interface, server.getHost().port)
        client = Receiver()
        clientPort = reactor.listenUDP(0, client, interface=interface)
        clientPort.connect(*serverAddr)
        with pytest.raises(RuntimeError):
            clientPort.connect(*serverAddr)
        with pytest.raises(error.InvalidAddressError):
            clientPort.write(b"elsewhere", (interface, serverAddr[1] + 1))
        # A stranger's datagrams are not received by a connected port.
        stranger = socket.socket(clientPort.addressFamily, socket.SOCK_DGRAM)
        stranger.sendto(b"spam", (interface, clientPort.getHost().port))
        stranger.close()
        clientPort.write(b"one")
        clientPort.write(b"two", serverAddr)
        answers = [await client.next(), await client.next()]
        await stopAll(server, clientPort)
        return answers

    answers = runReactor(reactor, go)
    assert [data for data, _ in answers] == [b"one", b"two"]


def test_connectNeedsAnAddress(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        port = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        with pytest.raises(error.InvalidAddressError):
            port.connect("localhost", 53)
        return port.stopListening()

    runReactor(reactor, go)


def test_connectionRefused(reactor: Any, runReactor: Any) -> None:
    """A connected port whose peer answers "port unreachable" is told so."""
    closed = freePort()

    def go() -> Any:
        client = Receiver()
        port = reactor.listenUDP(0, client, interface="127.0.0.1")
        port.connect("127.0.0.1", closed)

        def send() -> None:
            # The refusal comes back as an ICMP message, which the kernel may
            # rate-limit: keep knocking until it arrives.
            if client.refused.called or not port.connected:
                return
            port.write(b"anybody?")
            pending.append(reactor.callLater(0.05, send))

        pending: list[Any] = []
        send()

        def done(_: object) -> Any:
            for call in pending:
                if call.active():
                    call.cancel()
            # The port is still listening after a refusal.
            assert port.connected
            return port.stopListening().addCallback(lambda _: client.refusals)

        return client.refused.addCallback(done)

    assert runReactor(reactor, go) >= 1


def test_refusalOnUnconnectedPortIsIgnored(reactor: Any, runReactor: Any) -> None:
    closed = freePort()

    async def go() -> None:
        echo = Echo()
        server = reactor.listenUDP(0, echo, interface="127.0.0.1")
        client = Receiver()
        port = reactor.listenUDP(0, client, interface="127.0.0.1")
        port.write(b"nobody", ("127.0.0.1", closed))
        # The port goes on working, and the protocol hears of no refusal.
        port.write(b"somebody", ("127.0.0.1", server.getHost().port))
        data, _ = await client.next()
        assert data == b"somebody"
        assert client.refusals == 0
        await stopAll(server, port)

    runReactor(reactor, go)


@pytest.mark.parametrize("interface", ["127.0.0.1", "::1"])
def test_oversizedDatagram(reactor: Any, runReactor: Any, interface: str) -> None:
    def go() -> Any:
        port = reactor.listenUDP(0, DatagramProtocol(), interface=interface)
        target = (interface, freePort(port.addressFamily, interface))
        with pytest.raises(error.MessageLengthError):
            port.write(b"x" * 70000, target)
        port.connect(*target)
        with pytest.raises(error.MessageLengthError):
            port.write(b"x" * 70000)
        return port.stopListening()

    runReactor(reactor, go)


def test_datagramLongerThanMaxPacketSizeIsCut(reactor: Any, runReactor: Any) -> None:
    async def go() -> bytes:
        client = Receiver()
        port = reactor.listenUDP(0, client, interface="127.0.0.1", maxPacketSize=10)
        sender = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        sender.write(b"0123456789abcdef", ("127.0.0.1", port.getHost().port))
        data, _ = await client.next()
        await stopAll(port, sender)
        return data

    assert runReactor(reactor, go) == b"0123456789"


def test_writeChecksAddresses(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        v4 = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        v6 = reactor.listenUDP(0, DatagramProtocol(), interface="::1")
        for port, addr in [
            (v4, ("localhost", 9)),
            (v4, ("::1", 9)),
            (v6, ("127.0.0.1", 9)),
            (v6, ("<broadcast>", 9)),
            (v6, ("localhost", 9)),
        ]:
            with pytest.raises(error.InvalidAddressError):
                port.write(b"x", addr)
        with pytest.raises(error.InvalidAddressError):
            v4.write(b"x")
        return stopAll(v4, v6)

    runReactor(reactor, go)


def test_writeSequence(reactor: Any, runReactor: Any) -> None:
    async def go() -> bytes:
        client = Receiver()
        port = reactor.listenUDP(0, client, interface="127.0.0.1")
        port.writeSequence([b"a", b"b", b"c"], ("127.0.0.1", port.getHost().port))
        data, _ = await client.next()
        await port.stopListening()
        return data

    assert runReactor(reactor, go) == b"abc"


def test_cannotListen(reactor: Any, runReactor: Any) -> None:
    with pytest.raises(error.InvalidAddressError):
        reactor.listenUDP(0, DatagramProtocol(), interface="localhost")

    def go() -> Any:
        port = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        protocol = DatagramProtocol()
        with pytest.raises(error.CannotListenError):
            reactor.listenUDP(port.getHost().port, protocol, interface="127.0.0.1")
        assert protocol.transport is None
        return port.stopListening()

    runReactor(reactor, go)


def test_stopListeningFreesThePort(reactor: Any, runReactor: Any) -> None:
    async def go() -> None:
        port = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        number = port.getHost().port
        await port.stopListening()
        again = reactor.listenUDP(number, DatagramProtocol(), interface="127.0.0.1")
        await again.stopListening()

    runReactor(reactor, go)


def test_broadcastAllowed(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        port = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        assert not port.getBroadcastAllowed()
        port.setBroadcastAllowed(True)
        assert port.getBroadcastAllowed()
        port.setBroadcastAllowed(False)
        assert not port.getBroadcastAllowed()
        return port.stopListening()

    runReactor(reactor, go)


def test_thousandDatagramsPingPong(reactor: Any, runReactor: Any) -> None:
    """1000 datagrams, each sent when the echo of the last came back: none lost."""
    count = 1000

    class Pinger(DatagramProtocol):
        def __init__(self, target: tuple[str, int]) -> None:
            self.target = target
            self.answers: list[int] = []
            self.done: Deferred[list[int]] = Deferred()

        def startProtocol(self) -> None:
            self.transport.write(b"0", self.target)

        def datagramReceived(self, data: bytes, addr: Any) -> None:
            self.answers.append(int(data))
            if len(self.answers) < count:
                self.transport.write(b"%d" % len(self.answers), self.target)
            else:
                self.done.callback(self.answers)

    async def go() -> list[int]:
        echo = Echo()
        server = reactor.listenUDP(0, echo, interface="127.0.0.1")
        pinger = Pinger(("127.0.0.1", server.getHost().port))
        client = reactor.listenUDP(0, pinger, interface="127.0.0.1")
        answers = await pinger.done
        await stopAll(server, client)
        return answers

    assert runReactor(reactor, go) == list(range(count))


def test_burstIsReadInBatches(reactor: Any, runReactor: Any) -> None:
    """Datagrams queued before the reactor looks are all read, in order."""

    async def go() -> list[bytes]:
        client = Receiver()
        port = reactor.listenUDP(0, client, interface="127.0.0.1")
        port.maxDatagramsPerRead = 7
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(50):
            sender.sendto(b"%d" % i, ("127.0.0.1", port.getHost().port))
        sender.close()
        datagrams = [(await client.next())[0] for _ in range(50)]
        await port.stopListening()
        return datagrams

    assert runReactor(reactor, go) == [b"%d" % i for i in range(50)]


def test_errorInDatagramReceivedIsLoggedAndCostsOnlyThatDatagram(
    reactor: Any, runReactor: Any
) -> None:
    class Fussy(Receiver):
        def datagramReceived(self, data: bytes, addr: Any) -> None:
            if data == b"bad":
                raise ValueError("I do not like that")
            super().datagramReceived(data, addr)

    async def go() -> bytes:
        fussy = Fussy()
        port = reactor.listenUDP(0, fussy, interface="127.0.0.1")
        sender = reactor.listenUDP(0, DatagramProtocol(), interface="127.0.0.1")
        target = ("127.0.0.1", port.getHost().port)
        sender.write(b"bad", target)
        sender.write(b"good", target)
        data, _ = await fussy.next()
        await stopAll(port, sender)
        return data

    with capturedLogs() as events:
        assert runReactor(reactor, go) == b"good"
    logged = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert [f.type for f in logged] == [ValueError]
    assert len(runReactor.flushLoggedErrors(ValueError)) == 1


def test_stopListeningFromDatagramReceived(reactor: Any, runReactor: Any) -> None:
    class OneShot(DatagramProtocol):
        def __init__(self) -> None:
            self.received: list[bytes] = []
            self.stopped: Deferred[None] = Deferred()

        def datagramReceived(self, data: bytes, addr: Any) -> None:
            self.received.append(data)
            self.transport.stopListening()

        def stopProtocol(self) -> None:
            self.stopped.callback(None)

    async def go() -> list[bytes]:
        protocol = OneShot()
        port = reactor.listenUDP(0, protocol, interface="127.0.0.1")
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for data in (b"1", b"2", b"3"):
            sender.sendto(data, ("127.0.0.1", port.getHost().port))
        sender.close()
        await protocol.stopped
        return protocol.received

    assert runReactor(reactor, go) == [b"1"]


def test_adoptDatagramPort(reactor: Any, runReactor: Any) -> None:
    bound = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bound.bind(("127.0.0.1", 0))
    address = bound.getsockname()

    async def go() -> Any:
        echo = Echo()
        port = reactor.adoptDatagramPort(bound.fileno(), socket.AF_INET, echo)
        assert port.getHost() == IPv4Address("UDP", *address)
        client = Receiver()
        clientPort = reactor.listenUDP(0, client, interface="127.0.0.1")
        clientPort.write(b"adopted", address)
        answer = await client.next()
        await stopAll(port, clientPort)
        return answer[0]

    try:
        assert runReactor(reactor, go) == b"adopted"
        # The caller's descriptor is still its own, and open.
        assert bound.getsockname() == address
    finally:
        bound.close()
    with pytest.raises(error.UnsupportedAddressFamily):
        reactor.adoptDatagramPort(0, socket.AF_UNIX, DatagramProtocol())


def test_noDescriptorLeaks(reactor: Any, runReactor: Any) -> None:
    closed = freePort()

    async def go() -> None:
        for _ in range(200):
            echo = Echo()
            server = reactor.listenUDP(0, echo, interface="127.0.0.1")
            client = Receiver()
            port = reactor.listenUDP(0, client, interface="127.0.0.1")
            port.write(b"ping", ("127.0.0.1", server.getHost().port))
            await client.next()
            with pytest.raises(error.CannotListenError):
                reactor.listenUDP(server.getHost().port, Echo(), interface="127.0.0.1")
            port.connect("127.0.0.1", closed)
            await stopAll(server, port)

    before = fdCount()
    runReactor(reactor, go, timeout=30)
    assert fdCount() == before


# -- multicast


@functools.cache
def loopbackMulticast() -> str | None:
    """Why multicast over the loopback interface does not work here, or None if it does."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.bind(("", 0))
        receiver.setsockopt(
            socket.IPPROTO_IP,
            socket.IP_ADD_MEMBERSHIP,
            socket.inet_aton(GROUP) + socket.inet_aton("127.0.0.1"),
        )
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sender.sendto(b"probe", (GROUP, receiver.getsockname()[1]))
        receiver.settimeout(2)
        receiver.recvfrom(16)
    except OSError as e:
        return f"this host cannot do multicast over the loopback interface: {e}"
    finally:
        receiver.close()
        sender.close()
    return None


@pytest.fixture
def multicast() -> None:
    reason = loopbackMulticast()
    if reason is not None:
        pytest.skip(reason)


def test_multicastOptions(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        port = reactor.listenMulticast(0, DatagramProtocol(), interface="127.0.0.1")
        assert isinstance(port, MulticastPort)
        port.setTTL(4)
        assert port.getTTL() == 4
        with pytest.raises(struct.error):
            port.setTTL(256)
        port.setLoopbackMode(False)
        assert not port.getLoopbackMode()
        port.setLoopbackMode(True)
        assert port.getLoopbackMode()
        assert port.getOutgoingInterface() == "0.0.0.0"

        def check(result: int) -> Any:
            assert result == 1
            assert port.getOutgoingInterface() == "127.0.0.1"
            return port.stopListening()

        return port.setOutgoingInterface("127.0.0.1").addCallback(check)

    runReactor(reactor, go)


def test_multicastSendAndReceive(reactor: Any, runReactor: Any, multicast: None) -> None:
    async def go() -> Any:
        listener = Receiver()
        port = reactor.listenMulticast(0, listener)
        await port.joinGroup(GROUP, "127.0.0.1")
        sender = reactor.listenMulticast(0, Receiver(), interface="127.0.0.1")
        await sender.setOutgoingInterface("127.0.0.1")
        sender.setLoopbackMode(True)
        sender.write(b"to the group", (GROUP, port.getHost().port))
        data, addr = await listener.next()
        senderAddr = ("127.0.0.1", sender.getHost().port)
        await port.leaveGroup(GROUP, "127.0.0.1")
        await stopAll(port, sender)
        return data, addr, senderAddr

    data, addr, senderAddr = runReactor(reactor, go)
    assert data == b"to the group"
    assert addr == senderAddr


def test_multicastListenMultiple(reactor: Any, runReactor: Any, multicast: None) -> None:
    """Two ports on one number, both in the group, both receive its datagrams."""

    async def go() -> list[bytes]:
        first, second = Receiver(), Receiver()
        port1 = reactor.listenMulticast(0, first, listenMultiple=True)
        number = port1.getHost().port
        port2 = reactor.listenMulticast(number, second, listenMultiple=True)
        await port1.joinGroup(GROUP, "127.0.0.1")
        await port2.joinGroup(GROUP, "127.0.0.1")
        sender = reactor.listenMulticast(0, DatagramProtocol(), interface="127.0.0.1")
        await sender.setOutgoingInterface("127.0.0.1")
        sender.write(b"everyone", (GROUP, number))
        got = [(await first.next())[0], (await second.next())[0]]
        await stopAll(port1, port2, sender)
        return got

    assert runReactor(reactor, go) == [b"everyone", b"everyone"]


def test_samePortWithoutListenMultipleIsRefused(reactor: Any, runReactor: Any) -> None:
    def go() -> Any:
        port = reactor.listenMulticast(0, DatagramProtocol())
        with pytest.raises(error.CannotListenError):
            reactor.listenMulticast(port.getHost().port, DatagramProtocol())
        return port.stopListening()

    runReactor(reactor, go)


def test_joinGroupErrors(reactor: Any, runReactor: Any) -> None:
    async def go() -> list[Any]:
        port = reactor.listenMulticast(0, DatagramProtocol())
        failures = []
        # Not a multicast address.
        with pytest.raises(error.MulticastJoinError):
            await port.joinGroup("127.0.0.1", "127.0.0.1")
        # A group never joined cannot be left.
        with pytest.raises(error.MulticastJoinError) as left:
            await port.leaveGroup(GROUP, "127.0.0.1")
        failures.append(left.value)
        await port.stopListening()
        v6 = reactor.listenMulticast(0, DatagramProtocol(), interface="::1")
        with pytest.raises(error.MulticastJoinError):
            await v6.joinGroup("ff02::1")
        await v6.stopListening()
        return failures

    runReactor(reactor, go)
