"""Telnet, TelnetTransport and the telnet application protocols, on in-memory transports."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet.defer import Deferred, fail, succeed
from fw.internet.error import ConnectionDone
from fw.internet.testing import StringTransport, connectedServerAndClient
from fw.logger import capturedLogs
from fw.protocols import telnet
from fw.protocols.telnet import (
    AYT,
    BINARY,
    DO,
    DONT,
    ECHO,
    EDIT,
    IAC,
    LINEMODE,
    MODE,
    MODE_ACK,
    NAWS,
    NOP,
    SB,
    SE,
    SGA,
    TRAPSIG,
    TTYPE,
    TTYPE_IS,
    TTYPE_SEND,
    WILL,
    WONT,
    AlreadyDisabled,
    AlreadyEnabled,
    AlreadyNegotiating,
    AuthenticatingTelnetProtocol,
    ITelnetProtocol,
    ITelnetTransport,
    OptionRefused,
    QState,
    StatefulTelnetProtocol,
    Telnet,
    TelnetProtocol,
    TelnetTransport,
    UsernamePassword,
)
from fw.python.failure import Failure


class Recorder(TelnetProtocol):
    """Records every call; accepts the options in ``local`` and ``remote``."""

    def __init__(self, local: tuple[bytes, ...] = (), remote: tuple[bytes, ...] = ()) -> None:
        self.local, self.remote = local, remote
        self.calls: list[tuple[Any, ...]] = []
        self.data = b""
        self.lost: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(
        self, reason: Failure = telnet.TelnetProtocol.connectionLost.__defaults__[0]
    ) -> None:  # type: ignore[index]
        self.lost = reason

    def unhandledCommand(self, command: bytes, argument: bytes | None) -> None:
        self.calls.append(("command", command, argument))

    def enableLocal(self, option: bytes) -> bool:
        self.calls.append(("enableLocal", option))
        return option in self.local

    def enableRemote(self, option: bytes) -> bool:
        self.calls.append(("enableRemote", option))
        return option in self.remote

    def disableLocal(self, option: bytes) -> None:
        self.calls.append(("disableLocal", option))

    def disableRemote(self, option: bytes) -> None:
        self.calls.append(("disableRemote", option))

    def windowSizeReceived(self, width: int, height: int) -> None:
        self.calls.append(("naws", width, height))

    def terminalTypeReceived(self, terminalType: bytes) -> None:
        self.calls.append(("ttype", terminalType))

    def linemodeModeReceived(self, mask: int) -> None:
        self.calls.append(("mode", mask))


def connect(protocol: Any) -> tuple[TelnetTransport, StringTransport]:
    telnetTransport = TelnetTransport(lambda: protocol)
    wire = StringTransport()
    telnetTransport.makeConnection(wire)
    return telnetTransport, wire


def sent(wire: StringTransport) -> bytes:
    value = wire.value()
    wire.clear()
    return value


def test_interfaces() -> None:
    proto = Recorder()
    transport, _ = connect(proto)
    assert verifyObject(ITelnetTransport, transport)
    assert verifyObject(ITelnetProtocol, proto)
    assert proto.transport is transport


def test_publicSurface() -> None:
    import inspect

    for name in telnet.__all__:
        assert hasattr(telnet, name), name
        value = getattr(telnet, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, f"{name} has no docstring"
    for name in ("IAC", "WILL", "WONT", "DO", "DONT", "SB", "SE", "NOP", "DM", "BRK", "IP"):
        assert len(getattr(telnet, name)) == 1
    for name in ("AO", "AYT", "EC", "EL", "GA", "ECHO", "SGA", "NAWS", "LINEMODE", "TTYPE"):
        assert len(getattr(telnet, name)) == 1


def test_protocolMustProvideITelnetProtocol() -> None:
    from fw.internet.protocol import Protocol

    transport = TelnetTransport(Protocol)
    with pytest.raises(TypeError, match="ITelnetProtocol"):
        transport.makeConnection(StringTransport())


def test_factoryIsPassedOn() -> None:
    proto = Recorder()
    transport = TelnetTransport(lambda: proto)
    marker: Any = object()
    transport.factory = marker
    transport.makeConnection(StringTransport())
    assert proto.factory is marker


# -- negotiation through the Twisted API ------------------------------------


def test_willAccepted() -> None:
    proto = Recorder()
    transport, wire = connect(proto)
    d = transport.will(ECHO)
    assert sent(wire) == IAC + WILL + ECHO
    state = transport.getOptionState(ECHO)
    assert (state.us.state, state.us.negotiating, state.us.onResult) == ("no", True, d)
    assert str(state.us) == "no*"
    results: list[object] = []
    d.addCallback(results.append)
    transport.dataReceived(IAC + DO + ECHO)
    assert results == [True]
    assert (state.us.state, state.us.negotiating, state.us.onResult) == ("yes", False, None)
    # Twisted calls enableLocal to confirm, its answer ignored.
    assert proto.calls == [("enableLocal", ECHO)]
    assert sent(wire) == b""
    assert "us=yes" in repr(state)


def test_doRefused() -> None:
    transport, wire = connect(Recorder())
    d = transport.do(SGA)
    assert sent(wire) == IAC + DO + SGA
    failures: list[Failure] = []
    d.addErrback(failures.append)
    transport.dataReceived(IAC + WONT + SGA)
    assert failures[0].check(OptionRefused)
    assert "OptionRefused" in str(failures[0].value)
    assert transport.getOptionState(SGA).him.state == "no"


def test_alreadyEnabledDisabledNegotiating() -> None:
    transport, _wire = connect(Recorder(local=(ECHO,)))
    errors: list[type[BaseException]] = []

    def check(d: Deferred[bool]) -> None:
        d.addErrback(lambda f: errors.append(type(f.value)))

    check(transport.wont(ECHO))
    check(transport.dont(ECHO))
    d = transport.will(ECHO)
    check(transport.will(ECHO))
    check(transport.wont(ECHO))
    transport.dataReceived(IAC + DO + ECHO)
    check(transport.will(ECHO))
    assert errors == [
        AlreadyDisabled,
        AlreadyDisabled,
        AlreadyNegotiating,
        AlreadyNegotiating,
        AlreadyEnabled,
    ]
    assert d.called


def test_peerInitiatedAskThenDisable() -> None:
    proto = Recorder(local=(SGA,), remote=(NAWS,))
    transport, wire = connect(proto)
    transport.dataReceived(
        IAC + DO + SGA + IAC + WILL + NAWS + IAC + WILL + ECHO + IAC + DO + TTYPE
    )
    assert (
        sent(wire) == IAC + WILL + SGA + IAC + DO + NAWS + IAC + DONT + ECHO + IAC + WONT + TTYPE
    )
    assert proto.calls == [
        ("enableLocal", SGA),
        ("enableRemote", NAWS),
        ("enableRemote", ECHO),
        ("enableLocal", TTYPE),
    ]
    proto.calls.clear()
    transport.dataReceived(IAC + DONT + SGA + IAC + WONT + NAWS)
    assert sent(wire) == IAC + WONT + SGA + IAC + DONT + NAWS
    assert proto.calls == [("disableLocal", SGA), ("disableRemote", NAWS)]


def test_ourDisableAcknowledged() -> None:
    proto = Recorder(remote=(NAWS,))
    transport, wire = connect(proto)
    transport.dataReceived(IAC + WILL + NAWS)
    sent(wire)
    d = transport.dont(NAWS)
    assert sent(wire) == IAC + DONT + NAWS
    assert transport.getOptionState(NAWS).him.state == "yes"
    assert transport.getOptionState(NAWS).him.qstate is QState.WANTNO
    transport.dataReceived(IAC + WONT + NAWS)
    assert d.called
    assert d.result is True
    assert proto.calls[-1] == ("disableRemote", NAWS)


def test_repeatedRequestsDoNotLoop() -> None:
    transport, wire = connect(Recorder(local=(ECHO,)))
    transport.dataReceived(IAC + DO + ECHO)
    assert sent(wire) == IAC + WILL + ECHO
    transport.dataReceived((IAC + DO + ECHO) * 5)
    assert sent(wire) == b""


def test_connectionLostFailsPendingNegotiations() -> None:
    proto = Recorder()
    transport, _wire = connect(proto)
    d1, d2 = transport.will(ECHO), transport.do(NAWS)
    failures: list[Failure] = []
    d1.addErrback(failures.append)
    d2.addErrback(failures.append)
    transport.connectionLost(Failure(ConnectionDone()))
    assert [f.check(ConnectionDone) for f in failures] == [ConnectionDone, ConnectionDone]
    assert proto.lost is not None
    assert proto.lost.check(ConnectionDone)
    assert transport.protocol is None


# -- commands and subnegotiations ---------------------------------------------


def test_unhandledCommandAndCommandMap() -> None:
    proto = Recorder()
    transport, _ = connect(proto)
    transport.dataReceived(b"a" + IAC + AYT + b"b")
    assert proto.calls == [("command", AYT, None)]
    assert proto.data == b"ab"
    seen: list[object] = []
    transport.commandMap[NOP] = seen.append
    transport.dataReceived(IAC + NOP)
    assert seen == [None]


def test_negotiationMapGetsListOfBytes() -> None:
    transport, _ = connect(Recorder())
    seen: list[list[bytes]] = []
    transport.negotiationMap[TTYPE] = seen.append
    transport.dataReceived(IAC + SB + TTYPE + TTYPE_IS + b"VT" + IAC + SE)
    assert seen == [[b"\x00", b"V", b"T"]]


def test_standardSubnegotiations() -> None:
    proto = Recorder()
    transport, wire = connect(proto)
    transport.dataReceived(IAC + SB + NAWS + b"\x00\x50\x00\x18" + IAC + SE)
    transport.dataReceived(IAC + SB + NAWS + b"\x01\xff\xff\x00\x18" + IAC + SE)
    transport.dataReceived(IAC + SB + NAWS + b"\x00" + IAC + SE)  # wrong size: ignored
    transport.dataReceived(IAC + SB + TTYPE + TTYPE_IS + b"XTERM" + IAC + SE)
    transport.dataReceived(IAC + SB + LINEMODE + MODE + bytes([EDIT | MODE_ACK]) + IAC + SE)
    assert proto.calls == [
        ("naws", 80, 24),
        ("naws", 0x1FF, 24),
        ("ttype", b"XTERM"),
        ("mode", EDIT | MODE_ACK),
    ]
    # A TTYPE SEND is not answered by default...
    transport.dataReceived(IAC + SB + TTYPE + TTYPE_SEND + IAC + SE)
    assert sent(wire) == b""


def test_terminalTypeRequested() -> None:
    class Client(TelnetProtocol):
        def terminalTypeRequested(self) -> bytes:
            return b"VT100"

    transport, wire = connect(Client())
    transport.dataReceived(IAC + SB + TTYPE + TTYPE_SEND + IAC + SE)
    assert sent(wire) == IAC + SB + TTYPE + TTYPE_IS + b"VT100" + IAC + SE


def test_requestNegotiationEscapes() -> None:
    transport, wire = connect(Recorder())
    transport.requestNegotiation(NAWS, struct.pack("!HH", 255, 24))
    assert sent(wire) == IAC + SB + NAWS + b"\x00\xff\xff\x00\x18" + IAC + SE
    transport.requestNegotiation(LINEMODE, MODE + bytes([EDIT | TRAPSIG]))
    assert sent(wire) == IAC + SB + LINEMODE + b"\x01\x03" + IAC + SE
    transport.sendCommand(AYT)
    assert sent(wire) == IAC + AYT


# -- data ------------------------------------------------------------------


def test_writeEscapesAndTranslatesLineEnds() -> None:
    transport, wire = connect(Recorder())
    transport.write(b"a\xffb\nc\r\n")
    transport.writeSequence([b"x\r", b"y"])
    assert sent(wire) == b"a\xff\xffb\r\nc\r\nx\r\x00y"


def test_binaryMode() -> None:
    proto = Recorder(local=(BINARY,), remote=(BINARY,))
    transport, wire = connect(proto)
    transport.dataReceived(IAC + DO + BINARY + IAC + WILL + BINARY)
    assert sent(wire) == IAC + WILL + BINARY + IAC + DO + BINARY
    transport.write(b"a\r\nb\xff")
    assert sent(wire) == b"a\r\nb\xff\xff"
    transport.dataReceived(b"x\r\x00y\r\n")
    assert proto.data == b"x\r\x00y\r\n"
    transport.dataReceived(IAC + WONT + BINARY + IAC + DONT + BINARY)
    transport.write(b"\n")
    assert sent(wire).endswith(b"\r\n")
    transport.dataReceived(b"\r\n")
    assert proto.data.endswith(b"\r\n\n")


def test_byteAtATime() -> None:
    proto = Recorder(remote=(NAWS,))
    transport, wire = connect(proto)
    stream = (
        b"he\xff\xffllo\r\n"
        + IAC
        + WILL
        + NAWS
        + IAC
        + SB
        + NAWS
        + b"\x00\x50\x00\x19"
        + IAC
        + SE
        + b"x\r\x00"
    )
    for i in range(len(stream)):
        transport.dataReceived(stream[i : i + 1])
    assert proto.data == b"he\xffllo\nx\r"
    assert proto.calls == [("enableRemote", NAWS), ("naws", 80, 25)]
    assert sent(wire) == IAC + DO + NAWS


def test_stateNames() -> None:
    transport, _ = connect(Recorder())
    assert transport.state == "data"
    transport.dataReceived(IAC)
    assert transport.state == "escaped"
    transport.dataReceived(SB)
    assert transport.state == "subnegotiation"


@pytest.mark.parametrize(
    "wire",
    [IAC + b"A", IAC + SB + NAWS + b"x" * 5000 + IAC + SE, IAC + SB + NAWS + IAC + b"Q"],
)
def test_protocolViolationClosesConnection(wire: bytes) -> None:
    proto = Recorder()
    transport, lower = connect(proto)
    with capturedLogs() as events:
        transport.dataReceived(b"before" + wire + b"after")
        transport.dataReceived(b"ignored")
    assert lower.disconnecting
    assert proto.data == b"before"
    assert any("broke the protocol" in str(e.get("log_format")) for e in events)


def test_plainTelnetRefusesOptions() -> None:
    class Plain(Telnet):
        pass

    proto = Plain()
    wire = StringTransport()
    proto.makeConnection(wire)
    proto.dataReceived(IAC + WILL + ECHO + IAC + DO + SGA)
    assert wire.value() == IAC + DONT + ECHO + IAC + WONT + SGA
    with pytest.raises(NotImplementedError):
        proto.disableLocal(ECHO)
    with pytest.raises(NotImplementedError):
        proto.disableRemote(ECHO)


def test_transportPassThrough() -> None:
    transport, lower = connect(Recorder())
    assert transport.getHost() == lower.getHost()
    assert transport.getPeer() == lower.getPeer()
    transport.loseConnection()
    assert transport.disconnecting
    assert lower.disconnecting
    transport.abortConnection()
    assert lower.disconnected


# -- fw server and fw client, in memory ----------------------------------------


def test_fwClientAndServerNegotiate() -> None:
    class Server(TelnetProtocol):
        def connectionMade(self) -> None:
            self.results: list[object] = []
            t: Any = self.transport
            t.will(ECHO).addCallback(self.results.append)
            t.do(NAWS).addCallback(self.results.append)
            t.do(TTYPE).addErrback(lambda f: self.results.append(f.type))

        def windowSizeReceived(self, width: int, height: int) -> None:
            self.results.append((width, height))

    class Client(TelnetProtocol):
        def enableRemote(self, option: bytes) -> bool:
            return option == ECHO

        def enableLocal(self, option: bytes) -> bool:
            if option == NAWS:
                t: Any = self.transport
                t.requestNegotiation(NAWS, struct.pack("!HH", 132, 43))
            return option == NAWS

    server = Server()
    client, serverT, pump = connectedServerAndClient(
        lambda: TelnetTransport(lambda: server), lambda: TelnetTransport(Client)
    )
    pump.flush()
    # The client sent its size as it agreed, before its WILL.
    assert server.results == [True, (132, 43), True, OptionRefused]
    assert client.getOptionState(ECHO).him.state == "yes"
    assert serverT.getOptionState(NAWS).him.state == "yes"


# -- StatefulTelnetProtocol -------------------------------------------------


class Stateful(StatefulTelnetProtocol):
    state = "First"

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    def telnet_First(self, line: bytes) -> str:
        self.seen.append(("First", line))
        return "Second"

    def telnet_Second(self, line: bytes) -> str | None:
        self.seen.append(("Second", line))
        if line == b"back":
            return "First"
        return None


def test_statefulLines() -> None:
    proto = Stateful()
    transport, _ = connect(proto)
    transport.dataReceived(b"one\r\ntwo\r\x00back\nthree\r")
    transport.dataReceived(b"\nfour")
    assert proto.seen == [
        ("First", b"one"),
        ("Second", b"two"),
        ("Second", b"back"),
        ("First", b"three"),
    ]
    assert proto.clearLineBuffer() == b"four"


def test_statefulByteAtATimeAndBinaryCRLF() -> None:
    proto = Stateful()
    proto.makeConnection(StringTransport())
    # Straight bytes (as after binary mode): CR LF split across reads is one end of line.
    for byte in b"a\r\nb\rc\n\r\n":
        proto.dataReceived(bytes([byte]))
    assert [line for _, line in proto.seen] == [b"a", b"b", b"c", b""]


class Lines(StatefulTelnetProtocol):
    state = "Read"

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def telnet_Read(self, line: bytes) -> None:
        self.lines.append(line)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
            st.sampled_from([b"\n", b"\r\n", b"\r"]),
        ),
        max_size=10,
    ),
    st.lists(st.integers(0, 200), max_size=8),
)
def test_statefulLinesAnySplit(lines: list[tuple[bytes, bytes]], cuts: list[int]) -> None:
    """Lines with any of the three ends, read in any pieces, come out the same."""
    stream = b"".join(line + end for line, end in lines)
    proto = Lines()
    proto.makeConnection(StringTransport())
    last = 0
    for cut in [*sorted(c for c in cuts if c <= len(stream)), len(stream)]:
        proto.dataReceived(stream[last:cut])
        last = cut
    expected: list[bytes] = []
    previousCR = False
    for line, end in lines:
        if previousCR and line == b"" and end == b"\n":
            # A line ended by CR, then an empty one ended by LF: that is CR LF,
            # one end of line.
            previousCR = False
            continue
        expected.append(line)
        previousCR = end == b"\r"
    assert proto.lines == expected


def test_statefulStateChangedAndReturned() -> None:
    class Confused(StatefulTelnetProtocol):
        state = "A"

        def telnet_A(self, line: bytes) -> str:
            self.state = "B"
            return "C"

    proto = Confused()
    proto.makeConnection(StringTransport())
    with capturedLogs() as events:
        proto.dataReceived(b"x\n")
    assert proto.state == "B"
    assert events


def test_statefulDiscardAndSendLine() -> None:
    proto = StatefulTelnetProtocol()
    _transport, wire = connect(proto)
    proto.dataReceived(b"nothing happens\n")
    proto.sendLine(b"hi")
    assert wire.value() == b"hi\r\n"


def test_statefulLineTooLong() -> None:
    proto = Stateful()
    proto.MAX_LENGTH = 10
    transport, wire = connect(proto)
    transport.dataReceived(b"ok\n" + b"x" * 11)
    assert proto.seen == [("First", b"ok")]
    assert wire.disconnecting
    proto2 = Stateful()
    proto2.MAX_LENGTH = 10
    transport2, wire2 = connect(proto2)
    transport2.dataReceived(b"y" * 20 + b"\nz\n")
    assert proto2.seen == []
    assert wire2.disconnecting


def test_statefulStopsAfterDisconnect() -> None:
    class Quitter(StatefulTelnetProtocol):
        state = "Cmd"

        def __init__(self) -> None:
            self.lines: list[bytes] = []

        def telnet_Cmd(self, line: bytes) -> None:
            self.lines.append(line)
            if line == b"quit":
                self.transport.loseConnection()  # type: ignore[union-attr]

    proto = Quitter()
    transport, _ = connect(proto)
    transport.dataReceived(b"a\nquit\nb\n")
    assert proto.lines == [b"a", b"quit"]


# -- AuthenticatingTelnetProtocol ----------------------------------------------


@implementer(ITelnetProtocol)
class Avatar(Recorder):
    pass


class Portal:
    """A tiny portal: one user, synchronous or not."""

    def __init__(self, synchronous: bool = True) -> None:
        self.synchronous = synchronous
        self.pending: list[Deferred[Any]] = []
        self.avatar = Avatar()
        self.loggedOut = 0
        self.credentials: list[Any] = []

    def logout(self) -> None:
        self.loggedOut += 1

    def login(self, credentials: Any, mind: Any, *interfaces: Any) -> Deferred[Any]:
        self.credentials.append(credentials)
        assert interfaces == (ITelnetProtocol,)
        if credentials.username == b"alice" and credentials.checkPassword(b"secret"):
            result: Deferred[Any] = succeed((ITelnetProtocol, self.avatar, self.logout))
        else:
            result = fail(PermissionError("bad login"))
        if self.synchronous:
            return result
        d: Deferred[Any] = Deferred()
        self.pending.append(d)
        return d.addCallback(lambda _: result)


def test_authenticationSucceeds() -> None:
    portal = Portal()
    proto = AuthenticatingTelnetProtocol(portal)
    transport, wire = connect(proto)
    assert sent(wire) == b"Username: "
    transport.dataReceived(b"alice\r\n")
    assert sent(wire) == IAC + WILL + ECHO + b"Password: "
    transport.dataReceived(IAC + DO + ECHO)
    assert transport.getOptionState(ECHO).us.state == "yes"
    transport.dataReceived(b"secret\r\nls\r\n")
    assert sent(wire) == IAC + WONT + ECHO
    transport.dataReceived(IAC + DONT + ECHO)
    assert transport.getOptionState(ECHO).us.state == "no"
    assert proto.state == "Command"
    avatar = portal.avatar
    assert avatar.transport is transport
    # Typed ahead of the login, then typed after: all the avatar's.
    transport.dataReceived(b"pwd\r\n")
    assert avatar.data == b"ls\npwd\n"
    transport.dataReceived(IAC + AYT)
    assert avatar.calls[-1] == ("command", AYT, None)
    transport.connectionLost(Failure(ConnectionDone()))
    assert avatar.lost is not None
    assert portal.loggedOut == 1
    creds = portal.credentials[0]
    assert (creds.username, creds.password) == (b"alice", b"secret")


def test_authenticationFailsThenRetries() -> None:
    portal = Portal()
    proto = AuthenticatingTelnetProtocol(portal)
    transport, wire = connect(proto)
    transport.dataReceived(b"alice\r\n" + IAC + DO + ECHO + b"wrong\r\n")
    out = sent(wire)
    assert out.endswith(b"\r\nAuthentication failed\r\nUsername: ")
    assert proto.state == "User"
    transport.dataReceived(IAC + DONT + ECHO + b"alice\r\n")
    assert sent(wire) == IAC + WILL + ECHO + b"Password: "
    transport.dataReceived(IAC + DO + ECHO + b"secret\r\n")
    assert proto.state == "Command"


def test_authenticationWhenPeerRefusesEcho() -> None:
    portal = Portal()
    proto = AuthenticatingTelnetProtocol(portal)
    transport, _wire = connect(proto)
    transport.dataReceived(b"alice\r\n" + IAC + DONT + ECHO + b"secret\r\n")
    assert proto.state == "Command"


def test_authenticationAsynchronousAndLinesWhileChecking() -> None:
    portal = Portal(synchronous=False)
    proto = AuthenticatingTelnetProtocol(portal)
    transport, _wire = connect(proto)
    transport.dataReceived(b"alice\r\nsecret\r\n")
    assert proto.state == "Discard"
    transport.dataReceived(b"dropped\r\n")
    portal.pending[0].callback(None)
    assert proto.state == "Command"
    assert portal.avatar.data == b""


def test_connectionLostWhileChecking() -> None:
    portal = Portal(synchronous=False)
    proto = AuthenticatingTelnetProtocol(portal)
    transport, _wire = connect(proto)
    transport.dataReceived(b"alice\r\nsecret\r\n")
    transport.connectionLost(Failure(ConnectionDone()))
    portal.pending[0].callback(None)
    assert portal.loggedOut == 1
    assert portal.avatar.transport is None


def test_usernamePasswordCredentials() -> None:
    creds = UsernamePassword(b"bob", b"pw")
    assert creds.checkPassword(b"pw")
    assert not creds.checkPassword(b"px")
