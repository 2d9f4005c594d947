"""
The sans-IO wire format: messages, names and compression, hostile input,
truncation, EDNS(0), and the UDP/TCP adapters on in-memory transports.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.internet.task import Clock
from fw.internet.testing import StringTransport
from fw.names import dns
from fw.names.error import DNSFormatError, DNSQueryTimeoutError


def sample() -> dns.Message:
    m = dns.Message(id=0x1234, answer=1, auth=1, recDes=1, recAv=1, rCode=dns.OK)
    m.addQuery(b"www.example.com", dns.A)
    m.answers = [
        dns.RRHeader(
            b"www.example.com", dns.CNAME, ttl=300, payload=dns.Record_CNAME(b"web.example.com")
        ),
        dns.RRHeader(b"web.example.com", dns.A, ttl=300, payload=dns.Record_A("192.0.2.7")),
    ]
    m.authority = [
        dns.RRHeader(b"example.com", dns.NS, ttl=3600, payload=dns.Record_NS(b"ns1.example.com"))
    ]
    m.additional = [
        dns.RRHeader(
            b"ns1.example.com", dns.AAAA, ttl=3600, payload=dns.Record_AAAA("2001:db8::53")
        )
    ]
    return m


def parse(data: bytes) -> dns.Message:
    m = dns.Message()
    m.fromStr(data)
    return m


# -- messages ------------------------------------------------------------------


def test_roundTrip() -> None:
    m = sample()
    back = parse(m.toStr())
    assert (back.id, back.answer, back.auth, back.recDes, back.recAv) == (0x1234, 1, 1, 1, 1)
    assert back.queries == [dns.Query(b"www.example.com", dns.A, dns.IN)]
    assert [rr.payload.toText() for rr in back.answers] == ["web.example.com.", "192.0.2.7"]
    assert back.answers[1].payload.dottedQuad() == "192.0.2.7"
    assert back.authority[0].name == dns.Name("EXAMPLE.com.")
    assert back.additional[0].payload == dns.Record_AAAA("2001:db8::53", ttl=3600)


@pytest.mark.parametrize(
    "flag", ["answer", "auth", "trunc", "recDes", "recAv", "authenticData", "checkingDisabled"]
)
def test_eachFlag(flag: str) -> None:
    m = dns.Message(**{flag: 1}, opCode=dns.OP_NOTIFY, rCode=dns.EREFUSED)
    back = parse(m.toStr())
    assert getattr(back, flag) == 1
    others = {"answer", "auth", "trunc", "recDes", "recAv", "authenticData", "checkingDisabled"}
    assert all(getattr(back, f) == 0 for f in others - {flag})
    assert (back.opCode, back.rCode) == (dns.OP_NOTIFY, dns.EREFUSED)


def test_twistedStyleEncodeDecode() -> None:
    """``encode``/``decode`` on file-like objects, as Twisted code does."""
    strio = BytesIO()
    sample().encode(strio)
    strio.seek(0)
    m = dns.Message()
    m.decode(strio)
    assert m.answers[1].payload == dns.Record_A("192.0.2.7", ttl=300)
    # A record encoded alone, then decoded with its length.
    strio = BytesIO()
    dns.Record_MX(10, b"mx.example.com").encode(strio)
    strio.seek(0)
    mx = dns.Record_MX()
    mx.decode(strio, len(strio.getvalue()))
    assert (mx.preference, mx.name, mx.exchange) == (
        10,
        dns.Name("mx.example.com"),
        dns.Name("mx.example.com"),
    )


def test_lookupRecordType() -> None:
    m = dns.Message()
    assert m.lookupRecordType(dns.MX) is dns.Record_MX
    assert m.lookupRecordType(4321) is dns.UnknownRecord
    assert dns.lookupRecordType(dns.HTTPS) is dns.Record_HTTPS


def test_unknownTypeKept() -> None:
    m = dns.Message()
    m.answers.append(dns.RRHeader(b"x.example", 4321, payload=dns.UnknownRecord(b"\x01\x02")))
    back = parse(m.toStr())
    assert back.answers[0].payload.data == b"\x01\x02"
    assert back.answers[0].toText() == "x.example. 0 IN TYPE4321 \\# 2 0102"


def test_repr() -> None:
    assert repr(dns.Record_A("1.2.3.4", 5)) == "<A address=1.2.3.4 ttl=5>"
    assert "MX" in repr(dns.Query("a", dns.MX))


# -- names ---------------------------------------------------------------------------


def test_nameEquality() -> None:
    assert dns.Name("Example.COM.") == dns.Name(b"example.com") == "example.com"
    assert hash(dns.Name("A.b")) == hash(dns.Name("a.B."))
    assert str(dns.Name("bücher.example")) == "xn--bcher-kva.example"
    assert dns.Name("www.example.com").isSubdomainOf("example.com")
    assert not dns.Name("www.badexample.com").isSubdomainOf("example.com")


def test_compressionOnEncode() -> None:
    m = dns.Message()
    for i in range(5):
        m.answers.append(
            dns.RRHeader(
                b"host.example.com", dns.MX, payload=dns.Record_MX(i, b"mail.example.com")
            )
        )
    data = m.toStr()
    assert data.count(b"example") == 1
    assert parse(data).answers[4].payload.name == dns.Name("mail.example.com")


def test_compressionOnDecode() -> None:
    header = bytes.fromhex("0001 0100 0001 0000 0000 0000")
    # question: www.example.com A IN, then a second question pointing into the first
    q1 = b"\x03www\x07example\x03com\x00" + b"\x00\x01\x00\x01"
    q2 = b"\x04mail\xc0\x10" + b"\x00\x0f\x00\x01"
    data = header[:4] + b"\x00\x02" + header[6:] + q1 + q2
    m = parse(data)
    assert [q.name for q in m.queries] == [
        dns.Name("www.example.com"),
        dns.Name("mail.example.com"),
    ]


def test_labelsWithDots() -> None:
    """A label holding a dot survives: escaped in the dotted form."""
    data = (
        dns.Message(id=1).toStr()[:4]
        + b"\x00\x01\x00\x00\x00\x00\x00\x00"
        + b"\x03a.b\x03com\x00\x00\x01\x00\x01"
    )
    m = parse(data)
    assert m.queries[0].name.name == b"a\\.b.com"
    assert m.queries[0].name.labels() == [b"a.b", b"com"]
    assert m.queries[0].name.toText() == "a\\.b.com."
    again = dns.Message()
    again.queries = m.queries
    assert again.toStr()[12:] == data[12:]


def test_encodeRefusesBadNames() -> None:
    with pytest.raises(ValueError):
        dns.Query(b"a" * 64 + b".com").encode(BytesIO())
    with pytest.raises(ValueError):
        dns.Query(b".".join([b"a" * 63] * 4)).encode(BytesIO())
    with pytest.raises(ValueError):
        dns.Query(b"a..b").encode(BytesIO())


# -- hostile input -----------------------------------------------------------------------

_HEADER_1Q = bytes.fromhex("abcd 0100 0001 0000 0000 0000")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"\xc0\x0c\x00\x01\x00\x01", "pointer to itself"),
        (b"\x01a\xc0\x0c\x00\x01\x00\x01", "loop back to the name's start"),
        (b"\xc0\x20\x00\x01\x00\x01", "pointer forwards / past the end"),
        (b"\xc0", "pointer cut in half"),
        (b"\x40abc\x00\x00\x01\x00\x01", "extended label type"),
        (b"\x80abc\x00\x00\x01\x00\x01", "reserved label type"),
        (b"\x05ab", "label past the end"),
        (b"\x03www", "name without its end"),
        (b"".join([b"\x3f" + b"a" * 63] * 4) + b"\x00\x00\x01\x00\x01", "name over 255 octets"),
        (b"\x00\x00\x01", "question cut short"),
        (b"\x00\x00\x01\x00\x01\x00", "trailing garbage"),
    ],
)
def test_hostileNames(body: bytes, why: str) -> None:
    m = dns.Message()
    with pytest.raises(DNSFormatError):
        m.fromStr(_HEADER_1Q + body)
    assert m.id == 0xABCD, "the header is read first, so FORMERR can go to the right ID"


def test_compressionLoopBetweenTwoNames() -> None:
    # two questions whose names point at each other
    header = bytes.fromhex("0001 0100 0002 0000 0000 0000")
    q1 = b"\x01a\xc0\x12" + b"\x00\x01\x00\x01"  # at 12, points at 18 (forwards: refused)
    q2 = b"\x01b\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(DNSFormatError):
        parse(header + q1 + q2)


def test_everyTruncationIsAFormatError() -> None:
    data = sample().toStr()
    for size in range(len(data)):
        with pytest.raises(DNSFormatError):
            parse(data[:size])


def test_badRdataLengths() -> None:
    good = bytearray(sample().toStr())
    m = dns.Message()
    m.answers.append(dns.RRHeader(b"x", dns.A, payload=dns.Record_A("1.2.3.4")))
    data = bytearray(m.toStr())
    data[-5] = 5  # rdlength 5 for an A record, one octet short in the message
    with pytest.raises(DNSFormatError):
        parse(bytes(data))
    data = bytearray(m.toStr()) + b"\x00"
    data[-6] = 5  # A record with 5 octets of rdata
    with pytest.raises(DNSFormatError):
        parse(bytes(data))
    assert parse(bytes(good)).id == 0x1234


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzzRandomBytes(data: bytes) -> None:
    """Any bytes either parse or raise DNSFormatError: nothing else, no hang."""
    try:
        m = parse(data)
    except DNSFormatError:
        return
    m.toStr()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzzMutatedMessages(data: st.DataObject) -> None:
    """Valid messages with octets changed, cut or inserted."""
    raw = bytearray(sample().toStr())
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["set", "cut", "insert"]))
        i = data.draw(st.integers(0, len(raw) - 1))
        if op == "set":
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[i]
        else:
            raw.insert(i, data.draw(st.integers(0, 255)))
    try:
        parse(bytes(raw))
    except DNSFormatError:
        pass
    edns = dns.EDNSMessage()
    try:
        edns.fromStr(bytes(raw))
    except DNSFormatError:
        pass


# -- truncation ----------------------------------------------------------------------------


def bigAnswer(count: int = 40) -> dns.Message:
    m = dns.Message(id=9, answer=1)
    m.addQuery(b"big.example", dns.TXT)
    for i in range(count):
        m.answers.append(
            dns.RRHeader(
                b"big.example", dns.TXT, payload=dns.Record_TXT(b"x" * 50, str(i).encode())
            )
        )
    return m


def test_truncationSetsTC() -> None:
    m = bigAnswer()
    data = m.toStr()
    assert len(data) <= 512
    back = parse(data)
    assert back.trunc == 1
    assert 0 < len(back.answers) < 40
    m.maxSize = 65535
    m.trunc = 0
    assert len(parse(m.toStr()).answers) == 40


def test_droppingOnlyAdditionalNeedsNoTC() -> None:
    m = dns.Message(id=1, answer=1)
    m.answers.append(dns.RRHeader(b"a.example", dns.A, payload=dns.Record_A("1.1.1.1")))
    for i in range(40):
        m.additional.append(
            dns.RRHeader(b"extra%d.example" % i, dns.TXT, payload=dns.Record_TXT(b"y" * 40))
        )
    back = parse(m.toStr())
    assert back.trunc == 0
    assert len(back.answers) == 1
    assert len(back.additional) < 40


def test_ednsTruncationKeepsOPT() -> None:
    m = dns.EDNSMessage(id=3, answer=True, maxSize=600, dnssecOK=True)
    m.queries = bigAnswer().queries
    m.answers = bigAnswer().answers
    data = m.toStr()
    assert len(data) <= 600
    back = dns.EDNSMessage()
    back.fromStr(data)
    assert back.trunc
    assert (back.ednsVersion, back.dnssecOK, back.maxSize) == (0, True, 600)


# -- EDNS ------------------------------------------------------------------------------------


def test_ednsRoundTripAgainstDnspython() -> None:
    import dns.edns as dpedns
    import dns.flags as dpflags
    import dns.message as dnspython

    m = dns.EDNSMessage(id=77, recDes=True, maxSize=1232, dnssecOK=True, rCode=16)
    m.addQuery(b"example.org", dns.AAAA)
    m.options = [
        dns.ClientSubnetOption("192.0.2.0", 24).toOption(),
        dns.CookieOption(b"\x01" * 8).toOption(),
        dns.PaddingOption(7).toOption(),
    ]
    theirs = dnspython.from_wire(m.toStr())
    assert (theirs.edns, theirs.payload) == (0, 1232)
    assert theirs.ednsflags & dpflags.DO
    assert theirs.rcode() == 16  # BADVERS: extended rcode bits in OPT
    ecs = next(o for o in theirs.options if o.otype == dpedns.OptionType.ECS)
    assert (ecs.address, ecs.srclen) == ("192.0.2.0", 24)
    cookie = next(o for o in theirs.options if o.otype == dpedns.OptionType.COOKIE)
    assert cookie.client == b"\x01" * 8
    back = dns.EDNSMessage()
    back.fromStr(theirs.to_wire())
    assert (back.ednsVersion, back.dnssecOK, back.maxSize, back.rCode) == (0, True, 1232, 16)
    subnet = dns.ClientSubnetOption.fromOption(back.option(dns.OPTION_CLIENT_SUBNET))
    assert (str(subnet.address), subnet.sourcePrefixLength) == ("192.0.2.0", 24)
    assert dns.CookieOption.fromOption(back.option(dns.OPTION_COOKIE)).clientCookie == b"\x01" * 8
    assert dns.PaddingOption.fromOption(back.option(dns.OPTION_PADDING)).length == 7


def test_ednsFromDnspython() -> None:
    import dns.edns as dpedns
    import dns.message as dnspython

    q = dnspython.make_query(
        "example.net",
        "MX",
        use_edns=0,
        payload=4000,
        want_dnssec=True,
        options=[dpedns.ECSOption("2001:db8::", 56)],
    )
    m = dns.EDNSMessage()
    m.fromStr(q.to_wire())
    assert (m.maxSize, m.dnssecOK, m.ednsVersion) == (4000, True, 0)
    subnet = dns.ClientSubnetOption.fromOption(m.options[0])
    assert (str(subnet.address), subnet.sourcePrefixLength) == ("2001:db8::", 56)
    plain = dns.Message()
    plain.fromStr(q.to_wire())
    assert plain.additional[0].type == dns.OPT


def test_noEDNS() -> None:
    m = dns.EDNSMessage(ednsVersion=None)
    assert parse(m.toStr()).additional == []
    back = dns.EDNSMessage()
    back.fromStr(dns.Message(id=2).toStr())
    assert back.ednsVersion is None


def test_twoOPTRecordsAreFORMERR() -> None:
    m = dns.Message()
    opt = dns.OPTHeader().toRRHeader()
    m.additional = [opt, opt]
    with pytest.raises(DNSFormatError):
        dns.EDNSMessage().fromStr(m.toStr())


def test_badOptions() -> None:
    with pytest.raises(DNSFormatError):
        dns.ClientSubnetOption.fromOption(dns.OPTVariableOption(8, b"\x00\x01\x18\x00\xc0"))
    with pytest.raises(DNSFormatError):
        dns.CookieOption.fromOption(dns.OPTVariableOption(10, b"short"))
    assert dns.PaddingOption.forBlock(100, 128).length == 24


def test_twistedPrivateNames() -> None:
    assert dns._EDNSMessage is dns.EDNSMessage
    assert dns._OPTHeader is dns.OPTHeader
    assert dns._OPTVariableOption is dns.OPTVariableOption


# -- protocols ------------------------------------------------------------------------------


class Controller:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.made: list[Any] = []
        self.lost: list[Any] = []

    def messageReceived(self, message: Any, protocol: Any, address: Any = None) -> None:
        self.messages.append((message, address))

    def connectionMade(self, protocol: Any) -> None:
        self.made.append(protocol)

    def connectionLost(self, protocol: Any) -> None:
        self.lost.append(protocol)


class FakeUDP:
    def __init__(self) -> None:
        self.written: list[tuple[bytes, Any]] = []

    def write(self, data: bytes, addr: Any = None) -> None:
        self.written.append((data, addr))

    def stopListening(self) -> None:
        pass


def udpProtocol() -> tuple[dns.DNSDatagramProtocol, FakeUDP, Clock, Controller]:
    clock = Clock()
    controller = Controller()
    proto = dns.DNSDatagramProtocol(controller, reactor=clock)
    transport = FakeUDP()
    proto.makeConnection(transport)
    return proto, transport, clock, controller


def answerTo(data: bytes, **changes: Any) -> bytes:
    m = parse(data)
    m.answer = 1
    for k, v in changes.items():
        setattr(m, k, v)
    m.answers = [
        dns.RRHeader(
            m.queries[0].name.name if m.queries else b"x", payload=dns.Record_A("10.0.0.1")
        )
    ]
    return m.toStr()


def test_udpQueryAnswered() -> None:
    proto, transport, clock, _controller = udpProtocol()
    results: list[Any] = []
    proto.query(("127.0.0.1", 53), [dns.Query(b"example.com")]).addBoth(results.append)
    data, addr = transport.written[0]
    assert addr == ("127.0.0.1", 53)
    proto.datagramReceived(answerTo(data), ("127.0.0.1", 53))
    assert results[0].answers[0].payload.dottedQuad() == "10.0.0.1"
    assert clock.getDelayedCalls() == []


def test_udpValidation() -> None:
    """Answers from another address, for another question, or with another ID are ignored."""
    proto, transport, clock, _controller = udpProtocol()
    results: list[Any] = []
    proto.query(("127.0.0.1", 53), [dns.Query(b"example.com")], timeout=5).addBoth(results.append)
    data = transport.written[0][0]
    proto.datagramReceived(answerTo(data), ("127.0.0.2", 53))
    proto.datagramReceived(answerTo(data), ("127.0.0.1", 5353))
    wrong = parse(data)
    wrong.queries = [dns.Query(b"evil.example")]
    proto.datagramReceived(answerTo(wrong.toStr()), ("127.0.0.1", 53))
    other = parse(data)
    other.id = (other.id + 1) % 65536
    proto.datagramReceived(answerTo(other.toStr()), ("127.0.0.1", 53))
    proto.datagramReceived(b"\x00garbage", ("127.0.0.1", 53))
    assert results == []
    clock.advance(5)
    assert isinstance(results[0].value, DNSQueryTimeoutError)
    assert results[0].value.id == parse(data).id


def test_udpQueriesFromOthersGoToController() -> None:
    proto, _transport, _clock, controller = udpProtocol()
    q = dns.Message(id=5)
    q.addQuery(b"x.example")
    proto.datagramReceived(q.toStr(), ("127.0.0.9", 1234))
    assert controller.messages[0][1] == ("127.0.0.9", 1234)


def test_udpIDsAreRandom() -> None:
    proto, transport, clock, _controller = udpProtocol()
    for _ in range(50):
        proto.query(("127.0.0.1", 53), [dns.Query(b"a")])
    ids = {parse(d).id for d, _ in transport.written}
    assert len(ids) > 40
    clock.advance(100)


def test_tcpFramingByteAtATime() -> None:
    clock = Clock()
    controller = Controller()
    proto = dns.DNSProtocol(controller, reactor=clock)
    transport = StringTransport()
    proto.makeConnection(transport)
    assert controller.made == [proto]
    results: list[Any] = []
    proto.query([dns.Query(b"example.com", dns.MX)]).addBoth(results.append)
    written = transport.value()
    assert int.from_bytes(written[:2], "big") == len(written) - 2
    reply = dns.StreamFramer.frame(answerTo(written[2:]))
    for i in range(len(reply)):
        proto.dataReceived(reply[i : i + 1])
    assert results[0].answers[0].payload.dottedQuad() == "10.0.0.1"
    # two messages in one segment, both delivered
    q = dns.Message(id=1)
    proto.dataReceived(dns.StreamFramer.frame(q.toStr()) * 2)
    assert len(controller.messages) == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=5), st.data())
def test_framerAnySplit(messages: list[bytes], data: st.DataObject) -> None:
    """The TCP framer gives back the same messages however the stream is cut."""
    stream = b"".join(dns.StreamFramer.frame(m) for m in messages)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    framer = dns.StreamFramer()
    out: list[bytes] = []
    last = 0
    for cut in [*cuts, len(stream)]:
        out += framer.feed(stream[last:cut])
        last = cut
    assert out == messages


def test_tcpMalformedClosesConnection() -> None:
    proto = dns.DNSProtocol(Controller(), reactor=Clock())
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"\x00\x03abc")
    assert transport.disconnecting


def test_tcpLostFailsQueries() -> None:
    from fw.internet.error import ConnectionLost
    from fw.python.failure import Failure

    controller = Controller()
    clock = Clock()
    proto = dns.DNSProtocol(controller, reactor=clock)
    proto.makeConnection(StringTransport())
    results: list[Any] = []
    proto.query([dns.Query(b"a")]).addBoth(results.append)
    proto.connectionLost(Failure(ConnectionLost()))
    assert results[0].check(ConnectionLost)
    assert controller.lost == [proto]
    assert clock.getDelayedCalls() == []
