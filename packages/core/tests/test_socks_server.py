"""SOCKS server and client adapters on in-memory transports, with a fake reactor and clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error
from fw.internet.address import IPv4Address
from fw.internet.defer import Deferred, fail, succeed
from fw.internet.interfaces import (
    IHostnameResolver,
    IResolutionReceiver,
    IStreamClientEndpoint,
)
from fw.internet.protocol import Factory, Protocol
from fw.internet.testing import AccumulatingProtocol, MemoryReactorClock, StringTransport
from fw.protocols._socks_udp import UDPRelay
from fw.protocols.socks import (
    Command,
    ConnectionNotAllowed,
    HostUnreachable,
    IUsernamePassword,
    LoginAuthenticationFailed,
    SOCKS4ClientEndpoint,
    SOCKS5ClientEndpoint,
    SOCKSProtocolError,
    SOCKSv4,
    SOCKSv4Factory,
    SOCKSv5,
    SOCKSv5Factory,
    UsernamePassword,
    allowAllDestinations,
    allowNetworks,
    refuseInternalDestinations,
)
from fw.python.failure import Failure

CLIENT = IPv4Address("TCP", "192.0.2.7", 40000)
SERVER = IPv4Address("TCP", "198.51.100.1", 1080)
GREETING = b"\x05\x01\x00"
CONNECT_PUBLIC = b"\x05\x01\x00\x01\x08\x08\x04\x05\x00\x50"  # 8.8.4.5:80


@implementer(IHostnameResolver)
class FakeResolver:
    """Resolves every name to ``addresses`` (none: the name does not exist)."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = addresses
        self.asked: list[tuple[str, int, str]] = []

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        self.asked.append((hostName, portNumber, transportSemantics))
        resolutionReceiver.resolutionBegan(None)  # type: ignore[arg-type]
        for a in self.addresses:
            resolutionReceiver.addressResolved(IPv4Address("TCP", a, portNumber))
        resolutionReceiver.resolutionComplete()
        return None


def serve(factory: Any) -> tuple[Any, StringTransport]:
    proto = factory.buildProtocol(CLIENT)
    transport = StringTransport(hostAddress=SERVER, peerAddress=CLIENT)
    proto.makeConnection(transport)
    return proto, transport


def connectOutgoing(reactor: MemoryReactorClock, index: int = -1) -> tuple[Any, StringTransport]:
    """Complete the proxy's outgoing connection in memory."""
    host, port, factory, _timeout, _ = reactor.tcpClients[index]
    proto = factory.buildProtocol(IPv4Address("TCP", host, port))
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "198.51.100.1", 5555),
        peerAddress=IPv4Address("TCP", host, port),
    )
    proto.makeConnection(transport)
    reactor.advance(0)  # ClientCreator fires its Deferred in the next turn
    return proto, transport


# -- SOCKS 5 CONNECT -------------------------------------------------------------


def test_v5ConnectRelays() -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(GREETING + CONNECT_PUBLIC + b"early")
    assert transport.value() == b"\x05\x00"
    assert transport.producerState == "paused"
    [(host, port, _, timeout, _)] = reactor.tcpClients
    assert (host, port, timeout) == ("8.8.4.5", 80, 30.0)
    out, outTransport = connectOutgoing(reactor)
    # RFC 1928: the reply names the address the proxy connected from.
    assert transport.value() == b"\x05\x00\x05\x00\x00\x01\xc6\x33\x64\x01\x15\xb3"
    assert outTransport.value() == b"early"
    assert transport.producerState == "producing"
    # each side pauses the other
    assert transport.producer is outTransport
    assert outTransport.producer is transport
    proto.dataReceived(b"to server")
    out.dataReceived(b"to client")
    assert outTransport.value() == b"earlyto server"
    assert transport.value().endswith(b"to client")
    out.connectionLost(Failure(error.ConnectionDone()))
    assert transport.disconnecting
    assert not reactor.getDelayedCalls()


def test_v5DefaultPolicyRefusesInternal() -> None:
    """By default loopback and private addresses are refused, with reply 2."""
    reactor = MemoryReactorClock()
    for address in (b"\x7f\x00\x00\x01", b"\x0a\x00\x00\x01", b"\xa9\xfe\xa9\xfe"):
        proto, transport = serve(SOCKSv5Factory(reactor=reactor))
        proto.dataReceived(GREETING + b"\x05\x01\x00\x01" + address + b"\x00\x50")
        assert transport.value() == b"\x05\x00\x05\x02\x00\x01" + bytes(6)
        assert transport.disconnecting
    assert reactor.tcpClients == []


def test_v5NameResolvedThenChecked() -> None:
    """A name resolving to loopback is refused: the policy sees the address."""
    reactor = MemoryReactorClock()
    resolver = FakeResolver(["127.0.0.1"])
    reactor.installNameResolver(resolver)
    proto, transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(GREETING + b"\x05\x01\x00\x03\x04evil\x00\x50")
    assert resolver.asked == [("evil", 80, "TCP")]
    assert transport.value().endswith(b"\x05\x02\x00\x01" + bytes(6))
    assert reactor.tcpClients == []
    # with a policy allowing it, the resolved address is what is connected to
    proto, transport = serve(
        SOCKSv5Factory(reactor=reactor, destinationPolicy=allowAllDestinations)
    )
    proto.dataReceived(GREETING + b"\x05\x01\x00\x03\x04evil\x00\x50")
    assert reactor.tcpClients[0][:2] == ("127.0.0.1", 80)


def test_v5UnknownName() -> None:
    reactor = MemoryReactorClock()
    reactor.installNameResolver(FakeResolver([]))
    proto, transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(GREETING + b"\x05\x01\x00\x03\x04nope\x00\x50")
    assert transport.value().endswith(b"\x05\x04\x00\x01" + bytes(6))
    assert transport.disconnecting


@pytest.mark.parametrize(
    ("exception", "code"),
    [
        (error.ConnectionRefusedError(), 5),
        (error.TimeoutError(), 6),
        (error.NoRouteError(), 4),
        (error.ConnectError(), 1),
    ],
)
def test_v5ConnectFails(exception: Exception, code: int) -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(GREETING + CONNECT_PUBLIC)
    factory = reactor.tcpClients[0][2]
    factory.clientConnectionFailed(reactor.connectors[0], Failure(exception))
    reactor.advance(0)
    assert transport.value() == b"\x05\x00\x05" + bytes([code]) + b"\x00\x01" + bytes(6)
    assert transport.disconnecting


def test_v5ClientLeavesWhileConnecting() -> None:
    reactor = MemoryReactorClock()
    proto, _transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(GREETING + CONNECT_PUBLIC)
    proto.connectionLost(Failure(error.ConnectionDone()))
    assert reactor.connectors[0]._disconnected
    assert not reactor.getDelayedCalls()


def test_handshakeTimeout() -> None:
    """A slow client is dropped after the handshake timeout; byte-at-a-time in time is fine."""
    reactor = MemoryReactorClock()
    factory = SOCKSv5Factory(reactor=reactor, handshakeTimeout=10)
    proto, transport = serve(factory)
    for b in GREETING + CONNECT_PUBLIC:
        reactor.advance(0.5)
        proto.dataReceived(bytes([b]))
    assert len(reactor.tcpClients) == 1
    assert not reactor.getDelayedCalls()
    proto, transport = serve(factory)
    proto.dataReceived(GREETING + CONNECT_PUBLIC[:3])
    reactor.advance(10)
    assert transport.disconnecting
    assert len(reactor.tcpClients) == 1


def test_malformedClosesOneConnection() -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
    assert transport.disconnecting
    assert transport.value() == b""
    proto.dataReceived(b"more")  # ignored
    proto.connectionLost(Failure(error.ConnectionDone()))
    assert not reactor.getDelayedCalls()


def test_pendingDataLimit() -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor, maxPendingData=100))
    proto.dataReceived(GREETING + CONNECT_PUBLIC + b"x" * 100)
    assert not transport.disconnecting
    proto.dataReceived(b"x")
    assert transport.disconnecting


def test_commandsDisabled() -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor, commands=[Command.CONNECT]))
    proto.dataReceived(GREETING + b"\x05\x03\x00\x01" + bytes(6))
    assert transport.value() == b"\x05\x00\x05\x07\x00\x01" + bytes(6)
    assert transport.disconnecting


# -- authentication --------------------------------------------------------------


class MemoryChecker:
    """A cred-style checker: ``requestAvatarId`` fails for wrong passwords."""

    credentialInterfaces = (IUsernamePassword,)

    def requestAvatarId(self, credentials: Any) -> Deferred[bytes]:
        assert IUsernamePassword.providedBy(credentials)
        if credentials.username == b"alice" and credentials.checkPassword(b"pw"):
            return succeed(b"alice-avatar")
        return fail(ValueError("unauthorized"))


def login(user: bytes, password: bytes) -> bytes:
    return b"\x05\x01\x02" + bytes([1, len(user)]) + user + bytes([len(password)]) + password


@pytest.mark.parametrize("kind", ["callable", "deferred", "coroutine", "cred"])
def test_v5Login(kind: str) -> None:
    reactor = MemoryReactorClock()
    pending: list[Deferred[bool]] = []

    def syncCheck(u: bytes, p: bytes) -> bool:
        return (u, p) == (b"alice", b"pw")

    def deferredCheck(u: bytes, p: bytes) -> Deferred[bool]:
        d: Deferred[bool] = Deferred()
        pending.append(d)
        return d

    async def coroutineCheck(u: bytes, p: bytes) -> bool:
        return (u, p) == (b"alice", b"pw")

    checker: Any = {
        "callable": syncCheck,
        "deferred": deferredCheck,
        "coroutine": coroutineCheck,
        "cred": MemoryChecker(),
    }[kind]
    factory = SOCKSv5Factory(checker, reactor=reactor)
    for password, ok in ((b"pw", True), (b"bad", False)):
        proto, transport = serve(factory)
        proto.dataReceived(login(b"alice", password) + CONNECT_PUBLIC)
        if kind == "deferred":
            pending.pop().callback(ok)
        if ok:
            assert transport.value() == b"\x05\x02\x01\x00"
            assert isinstance(proto, SOCKSv5)
            assert proto.avatarId == (b"alice-avatar" if kind == "cred" else b"alice")
            assert not transport.disconnecting
        else:
            assert transport.value() == b"\x05\x02\x01\x01"
            assert transport.disconnecting
    assert len(reactor.tcpClients) == 1


def test_v5LoginRequired() -> None:
    """With a checker, a client offering only "no authentication" is refused."""
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(lambda u, p: True, reactor=reactor))
    proto.dataReceived(GREETING)
    assert transport.value() == b"\x05\xff"
    assert transport.disconnecting


def test_brokenChecker() -> None:
    reactor = MemoryReactorClock()

    def broken(u: bytes, p: bytes) -> bool:
        raise RuntimeError("database down")

    proto, transport = serve(SOCKSv5Factory(broken, reactor=reactor))
    proto.dataReceived(login(b"a", b"b"))
    assert transport.value() == b"\x05\x02\x01\x01"
    assert transport.disconnecting


def test_clientLeavesDuringCheck() -> None:
    reactor = MemoryReactorClock()
    d: Deferred[bool] = Deferred()
    proto, _transport = serve(SOCKSv5Factory(lambda u, p: d, reactor=reactor))
    proto.dataReceived(login(b"a", b"b"))
    proto.connectionLost(Failure(error.ConnectionDone()))
    assert d.called  # cancelled
    assert not reactor.getDelayedCalls()


def test_usernamePassword() -> None:
    creds = UsernamePassword(b"u", b"p")
    assert verifyObject(IUsernamePassword, creds)
    assert creds.checkPassword(b"p")
    assert not creds.checkPassword(b"q")
    assert "p" not in repr(creds).replace("UsernamePassword", "")


# -- policies --------------------------------------------------------------------


def test_policies() -> None:
    import ipaddress

    def ip(s: str) -> Any:
        return ipaddress.ip_address(s)

    c = Command.CONNECT
    internals = ["127.0.0.1", "10.1.1.1", "192.168.0.1", "169.254.1.1", "::1", "fe80::1"]
    internals += ["fc00::1", "0.0.0.0", "224.0.0.1", "100.64.0.1", "::ffff:127.0.0.1"]
    for internal in internals:
        assert not refuseInternalDestinations(c, ip(internal), 80), internal
    for public in ("8.8.8.8", "2001:4860:4860::8888", "::ffff:8.8.8.8"):
        assert refuseInternalDestinations(c, ip(public), 80), public
    local = allowNetworks("127.0.0.0/8", "::1")
    assert local(c, ip("127.0.0.2"), 1)
    assert local(c, ip("::ffff:127.0.0.1"), 1)
    assert not local(c, ip("8.8.8.8"), 1)
    with pytest.raises(ValueError):
        allowNetworks("not a network")


# -- SOCKS 4 ---------------------------------------------------------------------


def test_v4ConnectAndAuthorize() -> None:
    reactor = MemoryReactorClock()
    seen: list[tuple[int, str, int, bytes]] = []

    class Picky(SOCKSv4):
        def authorize(self, code: int, server: str, port: int, user: bytes) -> bool:
            seen.append((code, server, port, user))
            return user == b"good"

    factory = SOCKSv4Factory(reactor=reactor)
    factory.protocol = Picky
    proto, transport = serve(factory)
    proto.dataReceived(b"\x04\x01\x00\x50\x08\x08\x04\x05bad\x00")
    assert transport.value() == b"\x00\x5b" + bytes(6)
    assert transport.disconnecting
    proto, transport = serve(factory)
    proto.dataReceived(b"\x04\x01\x00\x50\x08\x08\x04\x05good\x00")
    assert seen == [(1, "8.8.4.5", 80, b"bad"), (1, "8.8.4.5", 80, b"good")]
    _out, outTransport = connectOutgoing(reactor)
    # as Twisted: the reply carries the destination's address
    assert transport.value() == b"\x00\x5a\x00\x50\x08\x08\x04\x05"
    proto.dataReceived(b"hi")
    assert outTransport.value() == b"hi"


def test_v4aResolvedThroughReactor() -> None:
    reactor = MemoryReactorClock()
    resolver = FakeResolver(["8.8.4.9"])
    reactor.installNameResolver(resolver)
    proto, _transport = serve(SOCKSv4Factory(reactor=reactor))
    proto.dataReceived(b"\x04\x01\x00\x50\x00\x00\x00\x01\x00example.com\x00")
    assert resolver.asked == [("example.com", 80, "TCP")]
    assert reactor.tcpClients[0][:2] == ("8.8.4.9", 80)


def test_v4DirectConstruction() -> None:
    """``SOCKSv4(logging, reactor)`` works without a factory, as in Twisted."""
    reactor = MemoryReactorClock()
    proto = SOCKSv4(None, reactor)
    transport = StringTransport(hostAddress=SERVER, peerAddress=CLIENT)
    proto.makeConnection(transport)
    proto.dataReceived(b"\x04\x01\x00\x50\x08\x08\x04\x05\x00")
    assert reactor.tcpClients[0][:2] == ("8.8.4.5", 80)


def test_v4Log(tmp_path: Any) -> None:
    reactor = MemoryReactorClock()
    logFile = tmp_path / "socks.log"
    proto, _transport = serve(SOCKSv4Factory(str(logFile), reactor=reactor))
    proto.dataReceived(b"\x04\x01\x00\x50\x08\x08\x04\x05\x00")
    out, _ = connectOutgoing(reactor)
    proto.dataReceived(b"GET /\r\n")
    out.dataReceived(b"\x00\x01ok")
    text = logFile.read_text()
    assert "192.0.2.7:40000 < 8.8.4.5:80" in text
    assert "47 45 54 20 2F 0D 0A" in text
    assert "GET /.." in text
    assert "192.0.2.7:40000 > 8.8.4.5:80" in text


@pytest.mark.parametrize("version", [4, 5])
def test_bind(version: int) -> None:
    reactor = MemoryReactorClock()
    if version == 4:
        proto, transport = serve(SOCKSv4Factory(reactor=reactor))
        proto.dataReceived(b"\x04\x02\x00\x00\x08\x08\x04\x05\x00")
    else:
        proto, transport = serve(SOCKSv5Factory(reactor=reactor))
        proto.dataReceived(GREETING + b"\x05\x02\x00\x01\x08\x08\x04\x05\x00\x00")
    [(port, factory, _, interface)] = reactor.tcpServers
    assert (port, interface) == (0, "198.51.100.1")
    # the first reply: the listening address (the fake port's is 198.51.100.1:0)
    if version == 4:
        assert transport.value() == b"\x00\x5a\x00\x00\xc6\x33\x64\x01"
    else:
        assert transport.value() == b"\x05\x00\x05\x00\x00\x01\xc6\x33\x64\x01\x00\x00"
    assert len(reactor.getDelayedCalls()) == 1  # the BIND timeout
    # a stranger is refused, and fails the BIND (SOCKS 4 says so)
    if version == 4:
        assert factory.buildProtocol(IPv4Address("TCP", "8.8.4.6", 1)) is None
        assert transport.value().endswith(b"\x00\x5b" + bytes(6))
        assert transport.disconnecting
        return
    incoming = factory.buildProtocol(IPv4Address("TCP", "8.8.4.5", 7000))
    inTransport = StringTransport(peerAddress=IPv4Address("TCP", "8.8.4.5", 7000))
    transport.clear()
    incoming.makeConnection(inTransport)
    assert transport.value() == b"\x05\x00\x00\x01\x08\x08\x04\x05\x1b\x58"
    assert not reactor.getDelayedCalls()
    incoming.dataReceived(b"x")
    assert transport.value().endswith(b"x")


def test_bindTimeout() -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor, bindTimeout=5))
    proto.dataReceived(GREETING + b"\x05\x02\x00\x01\x08\x08\x04\x05\x00\x00")
    reactor.advance(5)
    assert transport.value().endswith(b"\x05\x06\x00\x01" + bytes(6))
    assert transport.disconnecting


# -- UDP ASSOCIATE ---------------------------------------------------------------


class FakeDatagramTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def write(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))


def test_udpAssociateRegistersPort() -> None:
    reactor = MemoryReactorClock()
    proto, transport = serve(SOCKSv5Factory(reactor=reactor))
    proto.dataReceived(GREETING + b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    [(port, relay, interface, _)] = reactor.udpServers
    assert (port, interface) == (0, "198.51.100.1")
    assert isinstance(relay, UDPRelay)
    assert relay.clientHost == "192.0.2.7"
    assert transport.value().endswith(b"\x05\x00\x00\x01\xc6\x33\x64\x01\x00\x00")
    proto.dataReceived(b"ignored")
    assert not transport.disconnecting


def test_udpRelay() -> None:
    reactor = MemoryReactorClock()
    allowed: list[tuple[str, int]] = []

    def policy(host: str, port: int) -> bool:
        allowed.append((host, port))
        return host != "8.8.4.66"

    pending: dict[str, Deferred[Any]] = {}

    def resolve(host: str, port: int) -> Deferred[Any]:
        pending[host] = Deferred()
        return pending[host]

    import ipaddress

    relay = UDPRelay(reactor, "192.0.2.7", 0, policy, resolve, maxPeers=2)
    t = FakeDatagramTransport()
    relay.transport = t  # type: ignore[assignment]
    client = ("192.0.2.7", 5000)
    head = b"\x00\x00\x00\x01\x08\x08\x04\x05\x00\x35"
    relay.datagramReceived(head + b"q1", client)
    assert t.sent == [(b"q1", ("8.8.4.5", 53))]
    # the answer comes back wrapped; strangers are dropped
    relay.datagramReceived(b"a1", ("8.8.4.5", 53))
    relay.datagramReceived(b"spam", ("8.8.4.77", 53))
    relay.datagramReceived(head + b"q2", ("192.0.2.7", 5001))  # another port: not the client
    assert t.sent[1:] == [(head + b"a1", client)]
    # fragments, malformed datagrams and refused destinations are dropped
    relay.datagramReceived(b"\x00\x00\x01" + head[3:] + b"frag", client)
    relay.datagramReceived(b"\x00\x00\x00\x09junk", client)
    relay.datagramReceived(b"\x00\x00\x00\x01\x08\x08\x04\x42\x00\x35x", client)
    assert len(t.sent) == 2
    # names are resolved, then checked
    relay.datagramReceived(b"\x00\x00\x00\x03\x04name\x00\x35q3", client)
    pending["name"].callback([ipaddress.ip_address("8.8.4.8")])
    assert t.sent[-1] == (b"q3", ("8.8.4.8", 53))
    # the peer table is bounded: the oldest is forgotten
    relay.datagramReceived(b"\x00\x00\x00\x01\x08\x08\x04\x09\x00\x35q4", client)
    relay.datagramReceived(b"late", ("8.8.4.5", 53))
    assert t.sent[-1] == (b"q4", ("8.8.4.9", 53))


# -- client endpoints in memory --------------------------------------------------


@implementer(IStreamClientEndpoint)
class MemoryEndpoint:
    """Connects to a SOCKS server protocol in memory, with an IOPump."""

    def __init__(self, serverFactory: Any) -> None:
        self.serverFactory = serverFactory
        self.pumps: list[Any] = []
        self.never = False

    def connect(self, factory: Any) -> Deferred[Any]:
        if self.never:
            return Deferred()
        from fw.internet.testing import connect, makeFakeClient, makeFakeServer

        server = self.serverFactory.buildProtocol(CLIENT)
        client = factory.buildProtocol(SERVER)
        serverTransport = makeFakeServer(server)
        clientTransport = makeFakeClient(client)
        self.pumps.append(connect(server, serverTransport, client, clientTransport, greet=False))
        return succeed(client)


class Target(AccumulatingProtocol):
    pass


def test_endpointThroughFwServerInMemory() -> None:
    reactor = MemoryReactorClock()
    serverFactory = SOCKSv5Factory(
        lambda u, p: u == b"u", reactor=reactor, destinationPolicy=allowAllDestinations
    )
    proxy = MemoryEndpoint(serverFactory)
    endpoint = SOCKS5ClientEndpoint("8.8.4.5", 80, proxy, methods={"login": ("u", "p")})
    assert verifyObject(IStreamClientEndpoint, endpoint)
    factory = Factory.forProtocol(Target)
    d = endpoint.connect(factory)
    pump = proxy.pumps[0]
    pump.flush()
    assert not d.called  # the proxy is connecting
    out, outTransport = connectOutgoing(reactor)
    pump.flush()
    protocol = d.result
    assert isinstance(protocol, Target)
    protocol.transport.write(b"hello")  # type: ignore[union-attr]
    pump.flush()
    assert outTransport.value() == b"hello"
    out.dataReceived(b"back")
    pump.flush()
    assert protocol.data == b"back"


def test_endpointLoginRefused() -> None:
    reactor = MemoryReactorClock()
    proxy = MemoryEndpoint(SOCKSv5Factory(lambda u, p: False, reactor=reactor))
    d = SOCKS5ClientEndpoint("h", 1, proxy, methods={"login": ("u", "p")}).connect(
        Factory.forProtocol(Protocol)
    )
    proxy.pumps[0].flush()
    assert isinstance(d.result.value, LoginAuthenticationFailed)
    d.addErrback(lambda _: None)


def test_endpointRefused() -> None:
    reactor = MemoryReactorClock()
    proxy = MemoryEndpoint(SOCKSv4Factory(reactor=reactor))
    d = SOCKS4ClientEndpoint("127.0.0.1", 1, proxy).connect(Factory.forProtocol(Protocol))
    proxy.pumps[0].flush()
    failure = d.result
    d.addErrback(lambda _: None)
    assert failure.value.code == 91
    reactor2 = MemoryReactorClock()
    reactor2.installNameResolver(FakeResolver([]))
    proxy = MemoryEndpoint(SOCKSv5Factory(reactor=reactor2))
    d = SOCKS5ClientEndpoint("nowhere.invalid", 1, proxy).connect(Factory.forProtocol(Protocol))
    proxy.pumps[0].flush()
    assert isinstance(d.result.value, HostUnreachable)
    d.addErrback(lambda _: None)
    proxy = MemoryEndpoint(SOCKSv5Factory(reactor=reactor2))
    d = SOCKS5ClientEndpoint("10.0.0.1", 1, proxy).connect(Factory.forProtocol(Protocol))
    proxy.pumps[0].flush()
    assert isinstance(d.result.value, ConnectionNotAllowed)
    d.addErrback(lambda _: None)


def test_endpointCancel() -> None:
    reactor = MemoryReactorClock()
    proxy = MemoryEndpoint(SOCKSv5Factory(reactor=reactor))
    proxy.never = True
    d = SOCKS5ClientEndpoint("h", 1, proxy).connect(Factory.forProtocol(Protocol))
    d.cancel()
    assert isinstance(d.result.value, error.ConnectingCancelledError)
    d.addErrback(lambda _: None)
    # during the handshake: the connection to the proxy is aborted
    proxy.never = False
    d = SOCKS5ClientEndpoint("h", 1, proxy).connect(Factory.forProtocol(Protocol))
    d.cancel()
    assert isinstance(d.result.value, error.ConnectingCancelledError)
    d.addErrback(lambda _: None)


def test_endpointProxyClosesEarly() -> None:
    reactor = MemoryReactorClock()
    proxy = MemoryEndpoint(SOCKSv5Factory(reactor=reactor))
    d = SOCKS5ClientEndpoint("8.8.4.5", 1, proxy).connect(Factory.forProtocol(Protocol))
    pump = proxy.pumps[0]
    pump.flush()
    pump.server.transport.loseConnection()
    pump.flush()
    assert isinstance(d.result.value, SOCKSProtocolError)
    d.addErrback(lambda _: None)


def test_endpointFactoryRefuses() -> None:
    reactor = MemoryReactorClock()
    proxy = MemoryEndpoint(SOCKSv5Factory(reactor=reactor, destinationPolicy=allowAllDestinations))

    class Nope(Factory):
        def buildProtocol(self, addr: Any) -> None:
            return None

    d = SOCKS5ClientEndpoint("8.8.4.5", 1, proxy).connect(Nope())
    proxy.pumps[0].flush()
    connectOutgoing(reactor)
    proxy.pumps[0].flush()
    assert isinstance(d.result.value, error.NoProtocol)
    d.addErrback(lambda _: None)


def test_endpointArguments() -> None:
    proxy = MemoryEndpoint(None)
    with pytest.raises(ValueError, match="unknown"):
        SOCKS5ClientEndpoint("h", 1, proxy, methods={"gssapi": ()})
    with pytest.raises(ValueError, match="no SOCKS 5"):
        SOCKS5ClientEndpoint("h", 1, proxy, methods={})
    with pytest.raises(ValueError, match="IPv6"):
        SOCKS4ClientEndpoint("::1", 1, proxy)
    assert "h:1" in repr(SOCKS5ClientEndpoint("h", 1, proxy))
