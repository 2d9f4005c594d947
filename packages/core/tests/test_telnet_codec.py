"""The sans-IO telnet codec: whole, byte at a time, oversized, malformed and truncated input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.protocols.telnet import (
    AYT,
    DM,
    DO,
    ECHO,
    IAC,
    NAWS,
    NOP,
    SB,
    SE,
    TTYPE,
    WILL,
    CommandReceived,
    DataReceived,
    DecoderState,
    SubnegotiationReceived,
    TelnetDecoder,
    TelnetEvent,
    TelnetProtocolError,
    encodeCommand,
    encodeData,
    encodeSubnegotiation,
    escapeIAC,
)


def decode(data: bytes, **kwargs: object) -> list[TelnetEvent]:
    decoder = TelnetDecoder(**kwargs)  # type: ignore[arg-type]
    decoder.receiveData(data)
    return decoder.events()


def decodeBytewise(data: bytes, binary: bool = False) -> list[TelnetEvent]:
    decoder = TelnetDecoder()
    decoder.binary = binary
    events: list[TelnetEvent] = []
    for i in range(len(data)):
        decoder.receiveData(data[i : i + 1])
        events.extend(decoder.events())
    return events


def merged(events: list[TelnetEvent]) -> list[TelnetEvent]:
    """Join adjacent data events: how data is split is not part of the contract."""
    out: list[TelnetEvent] = []
    for event in events:
        if isinstance(event, DataReceived) and out and isinstance(out[-1], DataReceived):
            out[-1] = DataReceived(out[-1].data + event.data)
        else:
            out.append(event)
    return out


SAMPLE = (
    b"hello\xff\xffworld\r\n"
    + IAC
    + WILL
    + ECHO
    + b"a\r\x00b"
    + IAC
    + SB
    + NAWS
    + b"\x00\xff\xff\x00\x18"
    + IAC
    + SE
    + IAC
    + AYT
    + b"end"
)
EXPECTED: list[TelnetEvent] = [
    DataReceived(b"hello\xffworld\n"),
    CommandReceived(WILL, ECHO),
    DataReceived(b"a\rb"),
    SubnegotiationReceived(NAWS, b"\x00\xff\x00\x18"),
    CommandReceived(AYT, None),
    DataReceived(b"end"),
]


def test_wholeInput() -> None:
    assert decode(SAMPLE) == EXPECTED


def test_byteAtATime() -> None:
    assert merged(decodeBytewise(SAMPLE)) == EXPECTED


@pytest.mark.parametrize("split", range(len(SAMPLE) + 1))
def test_everySplitPoint(split: int) -> None:
    decoder = TelnetDecoder()
    decoder.receiveData(SAMPLE[:split])
    events = decoder.events()
    decoder.receiveData(SAMPLE[split:])
    events += decoder.events()
    assert merged(events) == EXPECTED


def test_dataBeforeCommandComesFirst() -> None:
    decoder = TelnetDecoder()
    decoder.receiveData(b"ab" + IAC + NOP + b"cd")
    assert decoder.nextEvent() == DataReceived(b"ab")
    assert decoder.nextEvent() == CommandReceived(NOP, None)
    assert decoder.nextEvent() == DataReceived(b"cd")
    assert decoder.nextEvent() is None


@pytest.mark.parametrize(
    ("wire", "data"),
    [
        (b"a\r\nb", b"a\nb"),
        (b"a\r\x00b", b"a\rb"),
        (b"a\r\r\nb", b"a\r\nb"),
        (b"a\rb", b"a\rb"),  # not allowed: read as a CR then the byte
        (b"a\r" + IAC + IAC, b"a\r\xff"),
        (b"\n", b"\n"),
    ],
)
def test_nvtEndsOfLine(wire: bytes, data: bytes) -> None:
    assert merged(decode(wire)) == [DataReceived(data)]
    assert merged(decodeBytewise(wire)) == [DataReceived(data)]


def test_crThenCommand() -> None:
    assert merged(decode(b"a\r" + IAC + NOP)) == [DataReceived(b"a\r"), CommandReceived(NOP, None)]


def test_binaryModeKeepsCR() -> None:
    decoder = TelnetDecoder()
    decoder.binary = True
    decoder.receiveData(b"a\r\x00\r\nb\xff\xff")
    assert decoder.events() == [DataReceived(b"a\r\x00\r\nb\xff")]
    assert merged(decodeBytewise(b"a\r\x00\xff\xff", binary=True)) == [
        DataReceived(b"a\r\x00\xff")
    ]


def test_strayEndOfSubnegotiationIgnored() -> None:
    assert decode(b"a" + IAC + SE + b"b") == [DataReceived(b"ab")]


@pytest.mark.parametrize("command", [b"\xec", b"\xef", NOP, DM, b"\xf9"])
def test_simpleCommands(command: bytes) -> None:
    assert decode(IAC + command) == [CommandReceived(command, None)]


def test_emptySubnegotiationPayload() -> None:
    assert decode(IAC + SB + TTYPE + IAC + SE) == [SubnegotiationReceived(TTYPE, b"")]


# -- malformed input --------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (IAC + b"A", "not a telnet command"),
        (IAC + b"\x00", "not a telnet command"),
        (IAC + SB + IAC + SE, "without an option"),
        (IAC + SB + NAWS + b"x" + IAC + b"A", "inside a subnegotiation"),
        (IAC + SB + NAWS + IAC + WILL, "inside a subnegotiation"),
    ],
)
def test_malformed(wire: bytes, message: str) -> None:
    for feed in (decode, lambda w: decodeBytewise(w)):
        with pytest.raises(TelnetProtocolError, match=message):
            feed(wire)


def test_malformedDeliversEarlierDataFirst() -> None:
    decoder = TelnetDecoder()
    decoder.receiveData(b"ok" + IAC + b"A")
    assert decoder.nextEvent() == DataReceived(b"ok")
    with pytest.raises(TelnetProtocolError):
        decoder.nextEvent()


def test_malformedDeliversEarlierEventsFirst() -> None:
    decoder = TelnetDecoder()
    decoder.receiveData(b"ok" + IAC + NOP + IAC + b"A" + b"never")
    assert decoder.nextEvent() == DataReceived(b"ok")
    assert decoder.nextEvent() == CommandReceived(NOP, None)
    with pytest.raises(TelnetProtocolError):
        decoder.nextEvent()
    assert decoder.state is DecoderState.ERROR
    # Broken for good: later input is refused too, and not buffered.
    decoder.receiveData(b"more")
    with pytest.raises(TelnetProtocolError):
        decoder.nextEvent()
    assert len(decoder._buffer) == 0


# -- oversized input --------------------------------------------------------


def test_oversizedSubnegotiation() -> None:
    wire = IAC + SB + TTYPE + b"x" * 100 + IAC + SE
    with pytest.raises(TelnetProtocolError, match="longer than 50 bytes"):
        decode(wire, maxSubnegotiationSize=50)


def test_oversizedSubnegotiationByteAtATimeBoundsMemory() -> None:
    decoder = TelnetDecoder(maxSubnegotiationSize=64)
    decoder.receiveData(IAC + SB + TTYPE)
    assert decoder.events() == []
    raised = 0
    for _ in range(1000):
        decoder.receiveData(b"y")
        try:
            decoder.events()
        except TelnetProtocolError:
            raised += 1
        assert len(decoder._sub) <= 64
    assert raised == 1000 - 64 + 1  # from the 65th byte on, and for good
    assert len(decoder._sub) == 0


def test_oversizedByEscapedIAC() -> None:
    decoder = TelnetDecoder(maxSubnegotiationSize=4)
    decoder.receiveData(IAC + SB + TTYPE + (IAC + IAC) * 4)
    with pytest.raises(TelnetProtocolError):
        decoder.events()


def test_subnegotiationAtTheLimit() -> None:
    payload = b"z" * 63
    assert decode(IAC + SB + TTYPE + payload + IAC + SE, maxSubnegotiationSize=64) == [
        SubnegotiationReceived(TTYPE, payload)
    ]


def test_largeDataIsNotBuffered() -> None:
    decoder = TelnetDecoder()
    decoder.receiveData(b"x" * 100_000)
    assert decoder.events() == [DataReceived(b"x" * 100_000)]
    assert len(decoder._buffer) == 0


# -- truncated input --------------------------------------------------------


@pytest.mark.parametrize(
    "prefix",
    [IAC, IAC + WILL, IAC + SB, IAC + SB + NAWS + b"\x00", IAC + SB + NAWS + IAC, b"\r"],
)
def test_truncatedWaitsForMore(prefix: bytes) -> None:
    decoder = TelnetDecoder()
    decoder.receiveData(b"data" + prefix)
    events = decoder.events()
    assert events == [DataReceived(b"data")]
    assert decoder.nextEvent() is None
    assert decoder.state is not DecoderState.DATA


# -- encoding ------------------------------------------------------------


def test_encoders() -> None:
    assert escapeIAC(b"a\xffb") == b"a\xff\xffb"
    assert encodeCommand(DO, ECHO) == IAC + DO + ECHO
    assert encodeCommand(NOP) == IAC + NOP
    assert encodeSubnegotiation(NAWS, b"\x00\xff\x00\x10") == (
        IAC + SB + NAWS + b"\x00\xff\xff\x00\x10" + IAC + SE
    )
    assert encodeSubnegotiation(IAC, b"") == IAC + SB + IAC + IAC + IAC + SE
    assert decode(encodeSubnegotiation(IAC, b"x")) == [SubnegotiationReceived(IAC, b"x")]
    assert encodeData(b"a\nb\r\nc\rd\xff") == b"a\r\nb\r\nc\r\x00d\xff\xff"
    assert encodeData(b"a\nb\r\xff", binary=True) == b"a\nb\r\xff\xff"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_dataRoundTrip(data: bytes) -> None:
    # encodeData keeps every byte: the decoder gives CR LF back as LF, so
    # compare with the NVT reading of the original.
    expected = data.replace(b"\r\n", b"\n")
    assert merged(decode(encodeData(data))) == ([DataReceived(expected)] if data else [])
    assert merged(decodeBytewise(encodeData(data, binary=True), binary=True)) == (
        [DataReceived(data)] if data else []
    )


_events = st.one_of(
    st.binary(min_size=1, max_size=20).map(lambda b: ("data", b)),
    st.sampled_from([NOP, AYT, DM]).map(lambda c: ("cmd", c)),
    st.tuples(st.sampled_from([WILL, DO]), st.binary(min_size=1, max_size=1)).map(
        lambda t: ("neg", t)
    ),
    st.tuples(st.binary(min_size=1, max_size=1), st.binary(max_size=30)).map(lambda t: ("sb", t)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_events, max_size=15), st.data())
def test_structuredRoundTripAnySplit(items: list[tuple[str, object]], data: st.DataObject) -> None:
    wire = b""
    expected: list[TelnetEvent] = []
    for kind, value in items:
        if kind == "data":
            assert isinstance(value, bytes)
            wire += encodeData(value, binary=True)
            expected.append(DataReceived(value))
        elif kind == "cmd":
            assert isinstance(value, bytes)
            wire += encodeCommand(value)
            expected.append(CommandReceived(value, None))
        elif kind == "neg":
            command, option = value  # type: ignore[misc]
            wire += encodeCommand(command, option)
            expected.append(CommandReceived(command, option))
        else:
            option, payload = value  # type: ignore[misc]
            wire += encodeSubnegotiation(option, payload)
            expected.append(SubnegotiationReceived(option, payload))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    decoder = TelnetDecoder()
    decoder.binary = True
    events: list[TelnetEvent] = []
    last = 0
    for cut in [*cuts, len(wire)]:
        decoder.receiveData(wire[last:cut])
        events += decoder.events()
        last = cut
    assert merged(events) == merged(expected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 50))
def test_fuzzOnlyProtocolErrors(wire: bytes, chunk: int) -> None:
    """Arbitrary bytes: the only exception allowed is the remote-violation error."""
    decoder = TelnetDecoder(maxSubnegotiationSize=32)
    try:
        for i in range(0, len(wire), chunk):
            decoder.receiveData(wire[i : i + chunk])
            decoder.events()
    except TelnetProtocolError:
        pass
    assert len(decoder._buffer) <= len(wire)
    assert len(decoder._sub) <= 32
