"""Tests for fw.protocols.haproxy: the v1 and v2 parsers, the wrapper, the endpoint prefix."""

from __future__ import annotations

import itertools
import socket
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from fw.internet.address import IPv4Address, IPv6Address, UNIXAddress
from fw.internet.endpoints import TCP4ServerEndpoint, serverFromString
from fw.internet.interfaces import (
    IHalfCloseableProtocol,
    IStreamServerEndpointStringParser,
    ITCPTransport,
)
from fw.internet.protocol import Factory, Protocol
from fw.internet.task import Clock
from fw.internet.testing import MemoryReactor, StringTransportWithDisconnection
from fw.plugin import iterPluginEntries
from fw.protocols.haproxy import (
    PP2_TYPE_ALPN,
    PP2_TYPE_AUTHORITY,
    PP2_TYPE_CRC32C,
    PP2_TYPE_UNIQUE_ID,
    TLV,
    HAProxyProtocolWrapper,
    HAProxyServerParser,
    HAProxyWrappingFactory,
    InvalidNetworkProtocol,
    InvalidProxyHeader,
    MissingAddressData,
    ProxyHeaderParser,
    ProxyInfo,
    V1Parser,
    V2Parser,
    crc32c,
    proxyEndpoint,
    unparseEndpoint,
)
from fw.protocols.haproxy._parser import haproxyServerParser
from fw.python.failure import Failure

SIG = V2Parser.PREFIX


def feedAll(parser: Any, data: bytes, bytewise: bool) -> tuple[ProxyInfo | None, bytes]:
    if not bytewise:
        return parser.feed(data)  # type: ignore[no-any-return]
    result: tuple[ProxyInfo | None, bytes] = (None, b"")
    for i in range(len(data)):
        result = parser.feed(data[i : i + 1])
        if result[0] is not None:
            return result[0], result[1] + data[i + 1 :]
    return result


both = pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])

# -- version 1


@both
def test_v1TCP4(bytewise: bool) -> None:
    line = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
    info, rest = feedAll(V1Parser(), line + b"GET /", bytewise)
    assert info == ProxyInfo(
        line, IPv4Address("TCP", "192.0.2.1", 56324), IPv4Address("TCP", "198.51.100.2", 443)
    )
    assert rest == b"GET /"


@both
def test_v1TCP6(bytewise: bool) -> None:
    line = b"PROXY TCP6 2001:db8::1 ::1 65535 0\r\n"
    info, rest = feedAll(V1Parser(), line, bytewise)
    assert info is not None
    assert info.source == IPv6Address("TCP", "2001:db8::1", 65535)
    assert info.destination == IPv6Address("TCP", "::1", 0)
    assert rest == b""


@pytest.mark.parametrize("line", [b"PROXY UNKNOWN\r\n", b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"])
def test_v1Unknown(line: bytes) -> None:
    assert V1Parser.parse(line) == ProxyInfo(line, None, None)


def test_v1LongestHeader() -> None:
    line = (
        b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        b"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"
    )
    assert len(line) == 104
    unknown = b"PROXY UNKNOWN " + b"x" * 91 + b"\r\n"
    assert len(unknown) == V1Parser.MAX_LENGTH
    assert V1Parser().feed(line)[0] is not None
    assert V1Parser().feed(unknown)[0] == ProxyInfo(unknown, None, None)


def test_v1TooLong() -> None:
    parser = V1Parser()
    data = b"PROXY UNKNOWN " + b"x" * 200
    for i in range(106):
        assert parser.feed(data[i : i + 1]) == (None, b"")
    # Refused as soon as the 107th byte is in, not later.
    with pytest.raises(InvalidProxyHeader, match="no end of line in the first 107 bytes"):
        parser.feed(data[106:107])
    with pytest.raises(InvalidProxyHeader, match="no end of line in the first 107 bytes"):
        V1Parser().feed(data)


@pytest.mark.parametrize("first", [b"G", b"GET / HTTP/1.1\r\n", b"PROXX", b"proxy "])
def test_v1WrongStartIsRefusedAtOnce(first: bytes) -> None:
    with pytest.raises(InvalidProxyHeader, match="starts with"):
        V1Parser().feed(first)


@pytest.mark.parametrize(
    ("line", "error", "match"),
    [
        (b"PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", InvalidNetworkProtocol, "unknown PROXY v1 family"),
        (b"PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", InvalidNetworkProtocol, "family"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", MissingAddressData, "two ports"),
        (b"PROXY TCP4\r\n", MissingAddressData, "two addresses"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", InvalidProxyHeader, "after the ports"),
        (b"PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n", InvalidProxyHeader, "double spaces"),
        (b"PROXY TCP4 1.2.3.400 1.2.3.4 1 2\r\n", InvalidProxyHeader, "not an IP address"),
        (b"PROXY TCP4 ::1 1.2.3.4 1 2\r\n", InvalidProxyHeader, "not an IPv4 address"),
        (b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", InvalidProxyHeader, "not an IPv6 address"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n", InvalidProxyHeader, "not a port"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n", InvalidProxyHeader, "not a port"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 1 x\r\n", InvalidProxyHeader, "not a port"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n", InvalidProxyHeader, "CRLF"),
        (b"PROXY TCP4 1.2.3.4\r1.2.3.4 1 2\r\n", InvalidProxyHeader, "CRLF"),
        (b"PROXY TCP4 \xff.2.3.4 1.2.3.4 1 2\r\n", InvalidProxyHeader, "not an IP address"),
    ],
)
def test_v1Invalid(line: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        V1Parser().feed(line)


# -- version 2


def v2(
    command: int = 1,
    family: int = 1,
    transport: int = 1,
    addresses: bytes = b"",
    tlvs: bytes = b"",
    length: int | None = None,
    version: int = 2,
) -> bytes:
    body = addresses + tlvs
    n = len(body) if length is None else length
    return (
        SIG
        + bytes([(version << 4) | command, (family << 4) | transport])
        + struct.pack("!H", n)
        + body
    )


def tlv(kind: int, value: bytes) -> bytes:
    return bytes([kind]) + struct.pack("!H", len(value)) + value


IPV4 = socket.inet_aton("192.0.2.1") + socket.inet_aton("198.51.100.2") + struct.pack("!HH", 5, 6)


@both
def test_v2TCP4(bytewise: bool) -> None:
    header = v2(addresses=IPV4)
    info, rest = feedAll(V2Parser(), header + b"\x00after", bytewise)
    assert info == ProxyInfo(
        header,
        IPv4Address("TCP", "192.0.2.1", 5),
        IPv4Address("TCP", "198.51.100.2", 6),
        (),
        2,
    )
    assert rest == b"\x00after"


@both
def test_v2TCP6WithTLVs(bytewise: bool) -> None:
    addresses = (
        socket.inet_pton(socket.AF_INET6, "2001:db8::7")
        + socket.inet_pton(socket.AF_INET6, "::1")
        + struct.pack("!HH", 40000, 443)
    )
    tlvs = tlv(PP2_TYPE_ALPN, b"h2") + tlv(PP2_TYPE_AUTHORITY, b"example.com") + tlv(0xE0, b"")
    info, _ = feedAll(V2Parser(), v2(family=2, addresses=addresses, tlvs=tlvs), bytewise)
    assert info is not None
    assert info.source == IPv6Address("TCP", "2001:db8::7", 40000)
    assert info.destination == IPv6Address("TCP", "::1", 443)
    assert info.tlvs == (
        TLV(PP2_TYPE_ALPN, b"h2"),
        TLV(PP2_TYPE_AUTHORITY, b"example.com"),
        TLV(0xE0, b""),
    )
    assert info.tlv(PP2_TYPE_AUTHORITY) == b"example.com"
    assert info.tlv(PP2_TYPE_UNIQUE_ID) is None


def test_v2UDPAndUnix() -> None:
    info = V2Parser.parse(v2(transport=2, addresses=IPV4))
    assert info.source == IPv4Address("UDP", "192.0.2.1", 5)
    unix = b"/run/a.sock".ljust(108, b"\x00") + b"\x00abstract".ljust(108, b"\x00")
    info = V2Parser.parse(v2(family=3, addresses=unix))
    assert info.source == UNIXAddress(b"/run/a.sock")
    assert info.destination == UNIXAddress(b"\x00abstract")


@pytest.mark.parametrize(
    "header",
    [
        v2(command=0, family=0, transport=0),  # a health check
        v2(command=0, addresses=IPV4),
        v2(command=0, addresses=b"short"),
        v2(family=0, transport=0, addresses=b"whatever"),
        v2(transport=0, addresses=IPV4),
    ],
)
def test_v2WithoutAddresses(header: bytes) -> None:
    info = V2Parser.parse(header)
    assert (info.source, info.destination, info.version) == (None, None, 2)


def test_v2Checksum() -> None:
    crcAt = len(v2(addresses=IPV4, tlvs=tlv(PP2_TYPE_ALPN, b"h2"))) + 3
    zeroed = v2(addresses=IPV4, tlvs=tlv(PP2_TYPE_ALPN, b"h2") + tlv(PP2_TYPE_CRC32C, bytes(4)))
    good = zeroed[:crcAt] + struct.pack("!I", crc32c(zeroed)) + zeroed[crcAt + 4 :]
    assert V2Parser.parse(good).tlv(PP2_TYPE_CRC32C) == good[crcAt:]
    bad = good[:20] + b"\xff" + good[21:]
    with pytest.raises(InvalidProxyHeader, match="CRC32C"):
        V2Parser.parse(bad)
    with pytest.raises(InvalidProxyHeader, match="4 bytes"):
        V2Parser.parse(v2(addresses=IPV4, tlvs=tlv(PP2_TYPE_CRC32C, b"abc")))


def test_v2LengthLimit() -> None:
    parser = V2Parser()
    with pytest.raises(InvalidProxyHeader, match="announces 5000 bytes"):
        # Refused once the length is in: the 5000 bytes are never awaited.
        parser.feed(v2(addresses=IPV4, length=5000)[:16])
    assert V2Parser(maxLength=10000).feed(v2(addresses=IPV4, length=5000))[0] is None
    with pytest.raises(InvalidProxyHeader, match="at most 8"):
        V2Parser(maxLength=8).feed(v2(addresses=IPV4))


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (b"\r\n\r\n\x00\r\nQUIX", InvalidProxyHeader, "signature"),
        (SIG + b"\x11", InvalidProxyHeader, "version 1 is not 2"),
        (SIG + b"\x22", InvalidProxyHeader, "command 2"),
        (v2(family=4, addresses=IPV4), InvalidNetworkProtocol, "address family 4"),
        (v2(transport=3, addresses=IPV4), InvalidNetworkProtocol, "transport protocol 3"),
        (v2(addresses=IPV4[:11]), MissingAddressData, "needs 12 bytes"),
        (v2(family=2, addresses=IPV4), MissingAddressData, "needs 36 bytes"),
        (v2(family=3, addresses=b"x" * 200), MissingAddressData, "needs 216 bytes"),
        (v2(addresses=IPV4, tlvs=b"\x01\x00"), InvalidProxyHeader, "cut short"),
        (v2(addresses=IPV4, tlvs=b"\x01\x00\x05ab"), InvalidProxyHeader, "runs past"),
    ],
)
def test_v2Invalid(data: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        V2Parser().feed(data)


def test_v2ParseChecksTheLength() -> None:
    with pytest.raises(InvalidProxyHeader, match="announces 12 bytes"):
        V2Parser.parse(v2(addresses=IPV4) + b"extra")
    with pytest.raises(InvalidProxyHeader, match="not a PROXY v2 header"):
        V2Parser.parse(b"PROXY UNKNOWN\r\n")


# -- either version, hypothesis


def test_headerParserChoosesTheVersion() -> None:
    assert ProxyHeaderParser().feed(b"PROXY UNKNOWN\r\nrest") == (
        ProxyInfo(b"PROXY UNKNOWN\r\n", None, None),
        b"rest",
    )
    assert ProxyHeaderParser().feed(v2(addresses=IPV4))[0] is not None
    assert ProxyHeaderParser().feed(b"") == (None, b"")
    with pytest.raises(InvalidProxyHeader, match="does not start with a PROXY header"):
        ProxyHeaderParser().feed(b"\x16\x03\x01")
    with pytest.raises(InvalidProxyHeader):
        ProxyHeaderParser(versions=(2,)).feed(b"P")


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_garbageOnlyRaisesInvalidProxyHeader(data: bytes, chunk: int) -> None:
    for prefix in (b"", b"PROXY ", SIG, SIG + b"\x21"):
        parser = ProxyHeaderParser(maxV2Length=256)
        stream = prefix + data
        try:
            for i in range(0, len(stream), chunk):
                info, _ = parser.feed(stream[i : i + chunk])
                if info is not None:
                    break
        except InvalidProxyHeader:
            pass
        assert parser.parser is None or len(parser.parser.buffer) <= 16 + 256 + chunk


@given(
    st.sampled_from([1, 2]),
    st.binary(min_size=4, max_size=4),
    st.binary(min_size=4, max_size=4),
    st.integers(0, 65535),
    st.integers(0, 65535),
    st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), max_size=5),
    st.lists(st.integers(0, 400), max_size=6),
)
def test_v2SplitAnywhere(
    transport: int,
    src: bytes,
    dst: bytes,
    sport: int,
    dport: int,
    tlvs: list[tuple[int, bytes]],
    cuts: list[int],
) -> None:
    tlvs = [(k, v) for k, v in tlvs if k != PP2_TYPE_CRC32C]
    header = v2(
        transport=transport,
        addresses=src + dst + struct.pack("!HH", sport, dport),
        tlvs=b"".join(tlv(k, v) for k, v in tlvs),
    )
    stream = header + b"payload"
    parser = ProxyHeaderParser()
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    info: ProxyInfo | None = None
    rest = b""
    for a, b in itertools.pairwise(points):
        if info is None:
            info, rest = parser.feed(stream[a:b])
        else:
            rest += stream[a:b]
    assert info is not None
    assert rest == b"payload"
    assert info.header == header
    assert info.tlvs == tuple(TLV(k, v) for k, v in tlvs)
    kind = "TCP" if transport == 1 else "UDP"
    assert info.source == IPv4Address(kind, socket.inet_ntoa(src), sport)
    assert info.destination == IPv4Address(kind, socket.inet_ntoa(dst), dport)


# -- the wrapper


class Recorder(Protocol):
    def __init__(self) -> None:
        self.events: list[Any] = []

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.events.append(("made", self.transport.getPeer(), self.transport.getHost()))

    def dataReceived(self, data: bytes) -> None:
        self.events.append(("data", data))

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.events.append("lost")


class RecordingFactory(Factory):
    protocol = Recorder

    def __init__(self) -> None:
        self.addresses: list[Any] = []
        self.built: list[Recorder] = []

    def buildProtocol(self, addr: Any) -> Any:
        self.addresses.append(addr)
        p = super().buildProtocol(addr)
        self.built.append(p)  # type: ignore[arg-type]
        return p


REAL_PEER = IPv4Address("TCP", "10.1.1.1", 33333)


def connected(
    factory: HAProxyWrappingFactory,
) -> tuple[HAProxyProtocolWrapper, StringTransportWithDisconnection]:
    wrapper = factory.buildProtocol(REAL_PEER)
    transport = StringTransportWithDisconnection(peerAddress=REAL_PEER)
    transport.protocol = wrapper
    wrapper.makeConnection(transport)
    return wrapper, transport


@both
def test_wrapperGivesTheRealAddresses(bytewise: bool) -> None:
    inner = RecordingFactory()
    wrapper, transport = connected(HAProxyWrappingFactory(inner))
    data = b"PROXY TCP4 203.0.113.9 198.51.100.2 40000 443\r\nhello"
    for piece in [data[i : i + 1] for i in range(len(data))] if bytewise else [data]:
        wrapper.dataReceived(piece)
    client = IPv4Address("TCP", "203.0.113.9", 40000)
    server = IPv4Address("TCP", "198.51.100.2", 443)
    # The wrapped protocol is built, and connected, only once the header is in.
    assert inner.addresses == [client]
    recorder = inner.built[0]
    assert recorder.events[0] == ("made", client, server)
    assert b"".join(e[1] for e in recorder.events[1:]) == b"hello"
    assert wrapper.proxyInfo is not None
    assert wrapper.proxyInfo.source == client
    transport.loseConnection()
    assert recorder.events[-1] == "lost"


def test_wrapperUsesTheConnectionsAddressesWhenTheHeaderHasNone() -> None:
    inner = RecordingFactory()
    wrapper, transport = connected(HAProxyWrappingFactory(inner))
    wrapper.dataReceived(v2(command=0, family=0, transport=0) + b"x")
    assert inner.built[0].events[0] == ("made", REAL_PEER, transport.getHost())


def test_wrapperPassesInterfacesThrough() -> None:
    class HalfCloser(Recorder):
        pass

    from zope.interface import classImplements

    classImplements(HalfCloser, IHalfCloseableProtocol)
    HalfCloser.readConnectionLost = lambda self: self.events.append("readLost")  # type: ignore[attr-defined]
    HalfCloser.writeConnectionLost = lambda self: None  # type: ignore[attr-defined]
    inner = Factory.forProtocol(HalfCloser)
    wrapper, _transport = connected(HAProxyWrappingFactory(inner))
    # Before the header, end of input closes the connection.
    assert not IHalfCloseableProtocol.providedBy(wrapper)
    wrapper.dataReceived(b"PROXY UNKNOWN\r\n")
    assert IHalfCloseableProtocol.providedBy(wrapper)
    wrapper.readConnectionLost()
    assert wrapper.wrappedProtocol.events[-1] == "readLost"


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\n\r\n",
        b"PROXY " + b"A" * 200,
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
        v2(addresses=IPV4, length=60000),
        v2(family=9),
    ],
)
def test_invalidHeaderDropsTheConnection(garbage: bytes) -> None:
    inner = RecordingFactory()
    wrapper, transport = connected(HAProxyWrappingFactory(inner))
    for i in range(len(garbage)):
        wrapper.dataReceived(garbage[i : i + 1])
    assert not transport.connected
    # The wrapped factory never heard of it.
    assert inner.addresses == []
    # A good connection on the same factory is unaffected.
    good, _goodTransport = connected(wrapper.factory)
    good.dataReceived(b"PROXY UNKNOWN\r\nok")
    assert inner.built[0].events[-1] == ("data", b"ok")


def test_headerTimeout() -> None:
    clock = Clock()
    inner = RecordingFactory()
    factory = HAProxyWrappingFactory(inner, headerTimeout=5, clock=clock)
    slow, slowTransport = connected(factory)
    slow.dataReceived(b"PROXY TCP4")
    fast, fastTransport = connected(factory)
    fast.dataReceived(b"PROXY UNKNOWN\r\n")
    clock.advance(5)
    assert not slowTransport.connected
    assert fastTransport.connected
    assert clock.getDelayedCalls() == []
    assert len(inner.built) == 1


def test_wrappedFactoryRefusing() -> None:
    class Refusing(Factory):
        def buildProtocol(self, addr: Any) -> None:
            return None

    wrapper, transport = connected(HAProxyWrappingFactory(Refusing()))
    wrapper.dataReceived(b"PROXY UNKNOWN\r\nignored")
    assert not transport.connected


def test_wrapperWithAGivenProtocol() -> None:
    """Twisted's way: the wrapped protocol given to the constructor."""
    recorder = Recorder()
    factory = HAProxyWrappingFactory(Factory.forProtocol(Recorder))
    wrapper = HAProxyProtocolWrapper(factory, recorder)
    transport = StringTransportWithDisconnection(peerAddress=REAL_PEER)
    transport.protocol = wrapper
    wrapper.makeConnection(transport)
    assert recorder.events == []
    wrapper.dataReceived(b"PROXY TCP6 ::2 ::3 1 2\r\n")
    assert recorder.events == [
        ("made", IPv6Address("TCP", "::2", 1), IPv6Address("TCP", "::3", 2))
    ]
    assert ITCPTransport.providedBy(wrapper) is ITCPTransport.providedBy(transport)


def test_lostBeforeTheHeader() -> None:
    inner = RecordingFactory()
    wrapper, transport = connected(HAProxyWrappingFactory(inner))
    wrapper.dataReceived(b"PRO")
    transport.loseConnection()
    assert inner.addresses == []
    assert wrapper.factory.protocols == {}


# -- endpoints


def test_proxyEndpoint() -> None:
    reactor = MemoryReactor()
    endpoint = proxyEndpoint(TCP4ServerEndpoint(reactor, 8080, interface="127.0.0.1"))
    inner = RecordingFactory()
    endpoint.listen(inner)
    port, factory, _backlog, interface = reactor.tcpServers[0]
    assert (port, interface) == (8080, "127.0.0.1")
    assert isinstance(factory, HAProxyWrappingFactory)
    assert factory.wrappedFactory is inner


def test_unparseEndpoint() -> None:
    assert unparseEndpoint(["tcp", "80"], {"interface": "::1"}) == r"tcp:80:interface=\:\:1"
    assert unparseEndpoint([], {}) == ""


def test_parserObject() -> None:
    assert verifyObject(IStreamServerEndpointStringParser, haproxyServerParser)
    assert haproxyServerParser.prefix == "haproxy"
    assert isinstance(haproxyServerParser, HAProxyServerParser)
    reactor = MemoryReactor()
    endpoint = haproxyServerParser.parseStreamServer(reactor, "tcp", "8080", interface="::1")
    endpoint.listen(RecordingFactory())
    assert reactor.tcpServers[0][0] == 8080
    assert reactor.tcpServers[0][3] == "::1"
    with pytest.raises(ValueError, match="needs an endpoint to wrap"):
        haproxyServerParser.parseStreamServer(reactor)


def test_fwCoreRegistersThePrefix() -> None:
    """fw-core's own pyproject.toml declares the ``haproxy`` prefix."""
    entries = [
        e for e in iterPluginEntries(IStreamServerEndpointStringParser) if e.name == "haproxy"
    ]
    assert [(e.value, e.distribution) for e in entries] == [
        ("fw.protocols.haproxy._parser:haproxyServerParser", "fw-core")
    ]


def test_serverFromString() -> None:
    reactor = MemoryReactor()
    endpoint = serverFromString(reactor, r"haproxy:tcp:8080:interface=127.0.0.1")
    inner = RecordingFactory()
    endpoint.listen(inner)
    port, factory, _, interface = reactor.tcpServers[0]
    assert (port, interface) == (8080, "127.0.0.1")
    assert isinstance(factory, HAProxyWrappingFactory)
    with pytest.raises(ValueError, match="invalid endpoint description 'haproxy:'"):
        serverFromString(reactor, "haproxy:")
