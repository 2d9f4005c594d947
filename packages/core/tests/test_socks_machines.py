"""The sans-IO SOCKS machines and codec: whole and byte-at-a-time input, bad, big and cut input."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.protocols.socks import (
    AddressNotSupported,
    AddressType,
    AuthenticationRequested,
    AuthMethod,
    ClientState,
    Command,
    CommandRequested,
    ConnectionRefused,
    Established,
    HostUnreachable,
    LoginAuthenticationFailed,
    MethodsNotAcceptedError,
    Refused,
    Reply,
    ServerFailure,
    ServerState,
    SOCKS4ClientMachine,
    SOCKS4IdentdMismatch,
    SOCKS4Reply,
    SOCKS4RequestRejected,
    SOCKS4ServerMachine,
    SOCKS5ClientMachine,
    SOCKS5ServerMachine,
    SOCKSError,
    SOCKSProtocolError,
    SOCKSReplyError,
    TunnelData,
    UDPDatagram,
    encodeUDPDatagram,
    parseUDPDatagram,
)

SPLITS = pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])


def feed(machine: Any, data: bytes, bytewise: bool) -> list[Any]:
    if not bytewise:
        return list(machine.receiveData(data))
    events: list[Any] = []
    for i in range(len(data)):
        events += machine.receiveData(data[i : i + 1])
    return events


def feedClient(machine: Any, data: bytes, bytewise: bool) -> Established | None:
    if not bytewise:
        result: Established | None = machine.receiveData(data)
        return result
    result = None
    for i in range(len(data)):
        result = machine.receiveData(data[i : i + 1])
        if result is not None:
            rest = data[i + 1 :]
            return Established(result.host, result.port, result.trailingData + rest)
    return result


# -- SOCKS 5 server --------------------------------------------------------------

CONNECT_V4 = b"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"
CONNECT_NAME = b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"
CONNECT_V6 = b"\x05\x01\x00\x04" + bytes(15) + b"\x01" + b"\x00\x16"


@SPLITS
@pytest.mark.parametrize(
    ("request_", "host", "port", "kind"),
    [
        (CONNECT_V4, "127.0.0.1", 80, AddressType.IPV4),
        (CONNECT_NAME, "example.com", 443, AddressType.DOMAIN),
        (CONNECT_V6, "::1", 22, AddressType.IPV6),
    ],
)
def test_v5NoAuthConnect(bytewise: bool, request_: bytes, host: str, port: int, kind: Any) -> None:
    m = SOCKS5ServerMachine()
    assert feed(m, b"\x05\x02\x02\x00", bytewise) == []
    assert m.dataToSend() == b"\x05\x00"
    events = feed(m, request_, bytewise)
    assert events == [CommandRequested(5, Command.CONNECT, host, port, kind)]
    assert m.state is ServerState.DECIDING
    assert m.reply(Reply.SUCCEEDED, "10.0.0.1", 4000) == []
    assert m.dataToSend() == b"\x05\x00\x00\x01\x0a\x00\x00\x01\x0f\xa0"
    assert m.state is ServerState.ESTABLISHED
    assert feed(m, b"hi", False) == [TunnelData(b"hi")]


@SPLITS
def test_v5Login(bytewise: bool) -> None:
    m = SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD,))
    assert feed(m, b"\x05\x01\x02", bytewise) == []
    assert m.dataToSend() == b"\x05\x02"
    events = feed(m, b"\x01\x05alice\x06s3cret", bytewise)
    assert events == [AuthenticationRequested(b"alice", b"s3cret")]
    assert m.state is ServerState.CHECKING
    assert m.authenticationResult(True) == []
    assert m.dataToSend() == b"\x01\x00"
    assert feed(m, CONNECT_NAME, bytewise)[0].host == "example.com"


def test_v5LoginRefused() -> None:
    m = SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD,))
    m.receiveData(b"\x05\x01\x02\x01\x01a\x01b")
    m.dataToSend()
    assert m.authenticationResult(False) == []
    assert m.dataToSend() == b"\x01\x01"
    assert m.state is ServerState.CLOSED
    assert m.receiveData(CONNECT_V4) == []


def test_v5Pipelined() -> None:
    """Greeting, login, request and data in one read: all parsed in order, data held back."""
    m = SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD,))
    events = m.receiveData(b"\x05\x01\x02" + b"\x01\x01u\x01p" + CONNECT_V4 + b"GET /")
    assert events == [AuthenticationRequested(b"u", b"p")]
    events = m.authenticationResult(True)
    assert events == [CommandRequested(5, Command.CONNECT, "127.0.0.1", 80, AddressType.IPV4)]
    assert m.reply(Reply.SUCCEEDED) == [TunnelData(b"GET /")]
    assert m.dataToSend() == b"\x05\x02\x01\x00\x05\x00\x00\x01" + bytes(6)


def test_v5NoAcceptableMethod() -> None:
    m = SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD,))
    [event] = m.receiveData(b"\x05\x01\x00")
    assert isinstance(event, Refused)
    assert m.dataToSend() == b"\x05\xff"
    assert m.state is ServerState.CLOSED


def test_v5ZeroMethods() -> None:
    m = SOCKS5ServerMachine()
    [event] = m.receiveData(b"\x05\x00")
    assert isinstance(event, Refused)
    assert m.dataToSend() == b"\x05\xff"


@pytest.mark.parametrize(
    ("data", "reply"),
    [
        (b"\x04\x01\x00", b""),  # SOCKS 4 to a SOCKS 5 machine
        (b"\x05\x01\x00\x04\x01\x00\x01", b"\x05\x00\x05\x01\x00\x01" + bytes(6)),
        (b"\x05\x01\x00\x05\x01\x00\x03\x00\x00\x50", b"\x05\x00\x05\x01\x00\x01" + bytes(6)),
        (
            b"\x05\x01\x00\x05\x01\x00\x03\x02\xff\xfe\x00\x50",
            b"\x05\x00\x05\x01\x00\x01" + bytes(6),
        ),
    ],
    ids=["version", "request-version", "empty-name", "binary-name"],
)
def test_v5Malformed(data: bytes, reply: bytes) -> None:
    m = SOCKS5ServerMachine()
    with pytest.raises(SOCKSProtocolError):
        m.receiveData(data)
    assert m.dataToSend() == reply
    assert m.state is ServerState.CLOSED


def test_v5LoginVersion() -> None:
    m = SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD,))
    with pytest.raises(SOCKSProtocolError):
        m.receiveData(b"\x05\x01\x02\x02\x01a\x01b")
    assert m.dataToSend() == b"\x05\x02\x01\x01"


def test_v5UnknownAddressType() -> None:
    m = SOCKS5ServerMachine()
    [event] = m.receiveData(b"\x05\x01\x00\x05\x01\x00\x09")
    assert isinstance(event, Refused)
    assert m.dataToSend() == b"\x05\x00\x05\x08\x00\x01" + bytes(6)


@pytest.mark.parametrize("code", [0, 3, 9, 255])
def test_v5CommandNotAllowed(code: int) -> None:
    m = SOCKS5ServerMachine(commands=(Command.CONNECT,))
    req = b"\x05" + bytes([code]) + CONNECT_V4[2:]
    [event] = m.receiveData(b"\x05\x01\x00" + req)
    assert isinstance(event, Refused)
    assert m.dataToSend()[2:4] == b"\x05\x07"


def test_v5Truncated() -> None:
    """Every prefix of a valid conversation waits for more, and says nothing yet."""
    whole = b"\x05\x01\x00" + CONNECT_NAME
    for i in range(3, len(whole)):
        m = SOCKS5ServerMachine()
        events = m.receiveData(whole[:i])
        assert events == []
        assert m.state in (ServerState.REQUEST, ServerState.GREETING)


def test_v5PendingLimit() -> None:
    """Data sent before the reply is bounded: past the limit the connection is dropped."""
    m = SOCKS5ServerMachine(maxPendingData=10)
    m.receiveData(b"\x05\x01\x00" + CONNECT_V4 + b"0123456789")
    with pytest.raises(SOCKSProtocolError, match="more than 10 bytes"):
        m.receiveData(b"x")
    assert m.state is ServerState.CLOSED


def test_v5ReplyFailure() -> None:
    m = SOCKS5ServerMachine()
    m.receiveData(b"\x05\x01\x00" + CONNECT_V4)
    m.dataToSend()
    assert m.reply(Reply.CONNECTION_REFUSED) == []
    assert m.dataToSend() == b"\x05\x05\x00\x01" + bytes(6)
    assert m.state is ServerState.CLOSED


def test_v5Bind() -> None:
    m = SOCKS5ServerMachine()
    m.receiveData(b"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x00")
    m.dataToSend()
    m.reply(Reply.SUCCEEDED, "127.0.0.1", 5000)
    assert m.state is ServerState.BINDING
    assert m.receiveData(b"early") == []
    assert m.reply(Reply.SUCCEEDED, "::1", 6000) == [TunnelData(b"early")]
    out = m.dataToSend()
    assert out == (
        b"\x05\x00\x00\x01\x7f\x00\x00\x01\x13\x88\x05\x00\x00\x04" + bytes(15) + b"\x01\x17\x70"
    )


def test_misuse() -> None:
    """Methods called out of turn are the caller's bug: RuntimeError, not a SOCKS error."""
    m = SOCKS5ServerMachine()
    with pytest.raises(RuntimeError):
        m.reply(Reply.SUCCEEDED)
    with pytest.raises(RuntimeError):
        m.authenticationResult(True)
    with pytest.raises(ValueError, match="unsupported"):
        SOCKS5ServerMachine(methods=(AuthMethod.GSSAPI,))


# -- SOCKS 4 server --------------------------------------------------------------


@SPLITS
def test_v4Connect(bytewise: bool) -> None:
    m = SOCKS4ServerMachine()
    events = feed(m, b"\x04\x01\x00\x50\x0a\x01\x02\x03bob\x00", bytewise)
    assert events == [
        CommandRequested(4, Command.CONNECT, "10.1.2.3", 80, AddressType.IPV4, b"bob")
    ]
    m.reply(SOCKS4Reply.GRANTED, "10.0.0.9", 1234)
    assert m.dataToSend() == b"\x00\x5a\x04\xd2\x0a\x00\x00\x09"
    assert m.state is ServerState.ESTABLISHED


@SPLITS
def test_v4a(bytewise: bool) -> None:
    m = SOCKS4ServerMachine()
    events = feed(m, b"\x04\x01\x01\xbb\x00\x00\x00\x07\x00example.org\x00", bytewise)
    assert events == [
        CommandRequested(4, Command.CONNECT, "example.org", 443, AddressType.DOMAIN, b"")
    ]


def test_v4PipelinedData() -> None:
    m = SOCKS4ServerMachine()
    m.receiveData(b"\x04\x01\x00\x50\x0a\x01\x02\x03\x00hello")
    assert m.reply(SOCKS4Reply.GRANTED) == [TunnelData(b"hello")]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x04\x01\x00\x50\x0a\x01\x02\x03" + b"u" * 300, "user id is longer"),
        (b"\x04\x01\x00\x50\x00\x00\x00\x01\x00" + b"h" * 300, "host name is longer"),
        (b"\x04\x01\x00\x50\x00\x00\x00\x01\x00\x00", "empty"),
        (b"\x04\x01\x00\x50\x00\x00\x00\x01\x00ex\xffm\x00", "ASCII"),
    ],
    ids=["long-user", "long-host", "empty-host", "binary-host"],
)
def test_v4Bad(data: bytes, match: str) -> None:
    m = SOCKS4ServerMachine()
    with pytest.raises(SOCKSProtocolError, match=match):
        m.receiveData(data)
    assert m.dataToSend() == b"\x00\x5b" + bytes(6)
    assert m.state is ServerState.CLOSED


def test_v4OversizedBytewise() -> None:
    """Byte at a time, the limit trips as soon as it is passed, not at the end."""
    m = SOCKS4ServerMachine(maxUserIdLength=8)
    m.receiveData(b"\x04\x01\x00\x50\x0a\x01\x02\x03")
    for _ in range(8):
        m.receiveData(b"u")
    with pytest.raises(SOCKSProtocolError):
        m.receiveData(b"u")


def test_v4WrongVersionAndCommand() -> None:
    m = SOCKS4ServerMachine()
    with pytest.raises(SOCKSProtocolError):
        m.receiveData(b"\x05\x01\x00")
    m = SOCKS4ServerMachine()
    [event] = m.receiveData(b"\x04\x03\x00\x50\x0a\x01\x02\x03\x00")
    assert isinstance(event, Refused)
    assert m.dataToSend() == b"\x00\x5b" + bytes(6)


def test_v4ReplyVersionByte() -> None:
    """``makeReply``'s ``version`` reaches the wire, as in Twisted."""
    m = SOCKS4ServerMachine()
    m.receiveData(b"\x04\x01\x00\x50\x0a\x01\x02\x03\x00")
    m.reply(SOCKS4Reply.REJECTED, "::1", 5, version=4)
    assert m.dataToSend() == b"\x04\x5b\x00\x05" + bytes(4)


# -- clients ---------------------------------------------------------------------


@SPLITS
def test_v5ClientLogin(bytewise: bool) -> None:
    c = SOCKS5ClientMachine("example.com", 443, anonymous=True, login=(b"al", b"pw"))
    assert c.dataToSend() == b"\x05\x02\x00\x02"
    assert feedClient(c, b"\x05\x02", bytewise) is None
    assert c.dataToSend() == b"\x01\x02al\x02pw"
    assert feedClient(c, b"\x01\x00", bytewise) is None
    assert c.dataToSend() == CONNECT_NAME
    result = feedClient(c, b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\xd2tail", bytewise)
    assert result == Established("127.0.0.1", 1234, b"tail")
    assert c.state is ClientState.ESTABLISHED
    with pytest.raises(RuntimeError):
        c.receiveData(b"x")


def test_v5ClientDomainReply() -> None:
    c = SOCKS5ClientMachine("::1", 22)
    assert c.dataToSend() == b"\x05\x01\x00"
    c.receiveData(b"\x05\x00")
    assert c.dataToSend() == CONNECT_V6
    assert c.receiveData(b"\x05\x00\x00\x03\x04host\x00\x10") == Established("host", 16, b"")


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1, ServerFailure),
        (4, HostUnreachable),
        (5, ConnectionRefused),
        (8, AddressNotSupported),
        (42, SOCKSReplyError),
    ],
)
def test_v5ClientReplyErrors(code: int, cls: type[SOCKSReplyError]) -> None:
    c = SOCKS5ClientMachine("127.0.0.1", 80)
    c.receiveData(b"\x05\x00")
    with pytest.raises(cls) as info:
        c.receiveData(b"\x05" + bytes([code]) + b"\x00\x01" + bytes(6))
    assert type(info.value) is cls
    assert info.value.code == code
    assert c.state is ClientState.FAILED


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        (b"\x05\xff", MethodsNotAcceptedError),
        (b"\x04\x00", SOCKSProtocolError),
        (b"\x05\x02", SOCKSProtocolError),  # a method never offered
        (b"\x05\x00\x04\x00\x00\x01", SOCKSProtocolError),
        (b"\x05\x00\x05\x00\x00\x07", SOCKSProtocolError),
    ],
)
def test_v5ClientBadReplies(replies: bytes, error: type[SOCKSError]) -> None:
    c = SOCKS5ClientMachine("127.0.0.1", 80)
    with pytest.raises(error):
        c.receiveData(replies)


def test_v5ClientLoginRefused() -> None:
    c = SOCKS5ClientMachine("h", 1, anonymous=False, login=(b"a", b"b"))
    c.receiveData(b"\x05\x02")
    with pytest.raises(LoginAuthenticationFailed) as info:
        c.receiveData(b"\x01\x01")
    assert info.value.code == 1


def test_clientArguments() -> None:
    with pytest.raises(ValueError, match="valid host name"):
        SOCKS5ClientMachine("a" * 256, 1)
    with pytest.raises(ValueError, match="255"):
        SOCKS5ClientMachine(".".join(["a" * 60] * 5), 1)
    with pytest.raises(ValueError, match="port"):
        SOCKS5ClientMachine("h", 70000)
    with pytest.raises(ValueError, match="no SOCKS 5"):
        SOCKS5ClientMachine("h", 1, anonymous=False)
    with pytest.raises(ValueError, match="IPv6"):
        SOCKS4ClientMachine("::1", 1)
    with pytest.raises(ValueError, match="NUL"):
        SOCKS4ClientMachine("h", 1, b"a\x00")


@SPLITS
def test_v4Client(bytewise: bool) -> None:
    c = SOCKS4ClientMachine("10.0.0.1", 80, b"me")
    assert c.dataToSend() == b"\x04\x01\x00\x50\x0a\x00\x00\x01me\x00"
    c4a = SOCKS4ClientMachine("example.com", 80)
    assert c4a.dataToSend() == b"\x04\x01\x00\x50\x00\x00\x00\x01\x00example.com\x00"
    result = feedClient(c, b"\x00\x5a\x00\x00\x00\x00\x00\x00more", bytewise)
    assert result == Established("0.0.0.0", 0, b"more")


@pytest.mark.parametrize(
    ("code", "cls"),
    [(91, SOCKS4RequestRejected), (93, SOCKS4IdentdMismatch), (7, SOCKSReplyError)],
)
def test_v4ClientErrors(code: int, cls: type[SOCKSReplyError]) -> None:
    c = SOCKS4ClientMachine("10.0.0.1", 80)
    with pytest.raises(cls) as info:
        c.receiveData(bytes([0, code]) + bytes(6))
    assert info.value.code == code
    c = SOCKS4ClientMachine("10.0.0.1", 80)
    with pytest.raises(SOCKSProtocolError):
        c.receiveData(b"\x05\x5a" + bytes(6))


# -- UDP datagrams ---------------------------------------------------------------


def test_udpDatagram() -> None:
    data = encodeUDPDatagram("example.com", 53, b"query")
    assert data == b"\x00\x00\x00\x03\x0bexample.com\x00\x35query"
    assert parseUDPDatagram(data) == UDPDatagram(
        "example.com", 53, b"query", 0, AddressType.DOMAIN
    )
    for bad in (b"", b"\x00\x00\x00", b"\x01\x00\x00\x01" + bytes(6), b"\x00\x00\x00\x01\x01"):
        with pytest.raises(SOCKSProtocolError):
            parseUDPDatagram(bad)


# -- properties ------------------------------------------------------------------

hosts = st.one_of(
    st.ip_addresses().map(str),
    st.from_regex(r"[a-z][a-z0-9-]{0,30}(\.[a-z]{2,10}){0,3}", fullmatch=True),
)


@given(host=hosts, port=st.integers(0, 65535), data=st.binary(max_size=50), cut=st.integers(1, 7))
@settings(max_examples=150, deadline=None)
def test_clientServerRoundTrip(host: str, port: int, data: bytes, cut: int) -> None:
    """Client and server machines agree on any destination, whatever the read sizes."""
    client = SOCKS5ClientMachine(host, port, anonymous=False, login=(b"u", b"p"))
    server = SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD,))
    events: list[Any] = []
    established = None
    for _ in range(10):
        out = client.dataToSend()
        for i in range(0, len(out), cut):
            events += server.receiveData(out[i : i + cut])
        for event in events:
            if isinstance(event, AuthenticationRequested):
                assert (event.username, event.password) == (b"u", b"p")
                server.authenticationResult(True)
            elif isinstance(event, CommandRequested):
                assert event.port == port
                assert event.host.lower() == host.lower() or event.host == str(host)
                server.reply(Reply.SUCCEEDED, "192.0.2.1", 9)
        events = []
        back = server.dataToSend() + (data if server.state is ServerState.ESTABLISHED else b"")
        if server.state is ServerState.ESTABLISHED:
            established = client.receiveData(back)
            break
        if back:
            assert client.receiveData(back) is None
    assert established == Established("192.0.2.1", 9, data)


@given(st.binary(max_size=400))
@settings(max_examples=400, deadline=None)
def test_serverFuzz(data: bytes) -> None:
    """Any input: events, or SOCKSProtocolError; never another exception, never unbounded."""
    for machine in (
        SOCKS5ServerMachine(methods=(AuthMethod.USERNAME_PASSWORD, AuthMethod.NO_AUTHENTICATION)),
        SOCKS4ServerMachine(),
    ):
        try:
            machine.receiveData(data)
        except SOCKSProtocolError:
            assert machine.state is ServerState.CLOSED
        assert len(machine._buffer) <= len(data)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_clientFuzz(data: bytes) -> None:
    for machine in (SOCKS5ClientMachine("h", 1, login=(b"a", b"b")), SOCKS4ClientMachine("h", 1)):
        try:
            machine.receiveData(data)
        except SOCKSError:
            assert machine.state is ClientState.FAILED


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_udpFuzz(data: bytes) -> None:
    try:
        parseUDPDatagram(data)
    except SOCKSProtocolError:
        pass


def test_replyStruct() -> None:
    """The SOCKS 4 reply's port is big-endian, as the request's."""
    m = SOCKS4ServerMachine()
    m.receiveData(b"\x04\x02" + struct.pack("!H", 1) + b"\x01\x02\x03\x04\x00")
    m.reply(SOCKS4Reply.GRANTED, "1.2.3.4", 0x1234)
    assert m.dataToSend() == b"\x00\x5a\x12\x34\x01\x02\x03\x04"
    assert m.state is ServerState.BINDING


def test_publicSurface() -> None:
    """Every exported name is importable and documented."""
    import fw.protocols.socks as socks

    for name in socks.__all__:
        value = getattr(socks, name)
        if callable(value) and not isinstance(value, type(Any)):
            assert getattr(value, "__doc__", None), name
