"""Banana: the encoding (byte for byte as Twisted's), its limits, and its protocol."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.internet.testing import StringTransport
from fw.spread import banana
from fw.spread.banana import (
    NEED_DATA,
    PB_VOCABULARY,
    SIZE_LIMIT,
    Banana,
    BananaDecoder,
    BananaError,
    decode,
    encode,
)

_PB_INCOMING = {number: word for word, number in PB_VOCABULARY.items()}

# Byte strings Twisted 26.10's Banana produces for these values.
TWISTED_ENCODINGS = [
    (0, b"\x00\x81"),
    (1, b"\x01\x81"),
    (127, b"\x7f\x81"),
    (128, b"\x00\x01\x81"),
    (2**31 - 1, b"\x7f\x7f\x7f\x7f\x07\x81"),
    (2**31, b"\x00\x00\x00\x00\x08\x85"),
    (-1, b"\x01\x83"),
    (-(2**31), b"\x00\x00\x00\x00\x08\x83"),
    (-(2**31) - 1, b"\x01\x00\x00\x00\x08\x86"),
    (2**448 - 1, b"\x7f" * 64 + b"\x85"),
    (-(2**448) + 1, b"\x7f" * 64 + b"\x86"),
    (1.0, b"\x84?\xf0\x00\x00\x00\x00\x00\x00"),
    (float("inf"), b"\x84\x7f\xf0\x00\x00\x00\x00\x00\x00"),
    (-0.0, b"\x84\x80\x00\x00\x00\x00\x00\x00\x00"),
    (b"", b"\x00\x82"),
    (b"pb", b"\x02\x82pb"),
    ([], b"\x00\x80"),
    ([[]], b"\x01\x80\x00\x80"),
    ([b"pb", b"none"], b"\x02\x80\x02\x82pb\x04\x82none"),
]


@pytest.mark.parametrize(("value", "wire"), TWISTED_ENCODINGS)
def test_encodeAsTwisted(value: Any, wire: bytes) -> None:
    """Values encode to exactly the bytes Twisted sends."""
    assert encode(value) == wire
    assert decode(wire) == value


def test_vocabulary() -> None:
    """In the "pb" dialect, PB's words travel as numbers, as in Twisted's table."""
    assert encode(b"version", PB_VOCABULARY) == b"\x13\x87"
    assert encode(b"None", PB_VOCABULARY) == b"\x01\x87"
    assert encode(b"uncache", PB_VOCABULARY) == b"\x1f\x87"
    assert encode(b"unicode", PB_VOCABULARY) == b"\x07\x82unicode"
    assert len(PB_VOCABULARY) == 31
    message = [b"message", 1, b"root", b"echo", 1, [b"tuple"], [b"dictionary"]]
    wire = encode(message, PB_VOCABULARY)
    assert wire.startswith(b"\x07\x80\x1a\x87")
    assert decode(wire, dialect=b"pb") == message
    with pytest.raises(BananaError, match="vocabulary"):
        decode(wire)


def test_cannotEncode() -> None:
    """Values Banana cannot carry raise BananaError before anything is sent."""
    with pytest.raises(BananaError, match="str"):
        encode("text")
    with pytest.raises(BananaError, match="too large"):
        encode(2**448)
    with pytest.raises(BananaError, match="too long"):
        encode(b"x" * (SIZE_LIMIT + 1))
    nested: list[Any] = []
    for _ in range(300):
        nested = [nested]
    with pytest.raises(BananaError, match="nested"):
        encode(nested)
    assert encode((1, 2)) == encode([1, 2])
    assert encode(True) == encode(1)


def _decodeAll(data: bytes, chunk: int = 0, **kw: Any) -> list[Any]:
    decoder = BananaDecoder(_PB_INCOMING, **kw)
    out: list[Any] = []
    pieces = [data] if chunk == 0 else [data[i : i + chunk] for i in range(len(data))]
    for piece in pieces:
        decoder.receiveData(piece)
        while (item := decoder.nextExpression()) is not NEED_DATA:
            out.append(item)
    assert decoder.pending == 0
    return out


def test_byteAtATime() -> None:
    """Expressions split anywhere decode the same as whole."""
    values = [value for value, _ in TWISTED_ENCODINGS if value == value]
    data = b"".join(encode(v) for v in values) + encode(
        [b"message", [b"x" * 300, -5, 2.5]], PB_VOCABULARY
    )
    whole = _decodeAll(data)
    assert whole == [*values, [b"message", [b"x" * 300, -5, 2.5]]]
    assert _decodeAll(data, chunk=1) == whole


def test_truncated() -> None:
    """A truncated expression waits for more bytes."""
    data = encode([b"abc", 1.5, [1, 2]])
    for end in range(len(data)):
        decoder = BananaDecoder()
        decoder.receiveData(data[:end])
        assert decoder.nextExpression() is NEED_DATA


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01" * 65 + b"\x81", "prefix"),
        (b"\x01" * 65, "prefix"),
        (b"\x01\xff", "type byte"),
        (b"\x01\x88", "type byte"),
        (b"\x7f\x87", "vocabulary"),
        (b"\x01\x00\x28\x82", "too long"),
        (b"\x01\x00\x28\x80", "too long"),
        (b"\x01\x84" + b"\x00" * 8, "prefix"),
        (b"\x01\x80" * 201 + b"\x01\x81", "nested"),
    ],
)
def test_hostile(data: bytes, message: str) -> None:
    """Bytes breaking the rules or the limits raise BananaError, and keep raising it."""
    decoder = BananaDecoder(_PB_INCOMING)
    decoder.receiveData(data)
    with pytest.raises(BananaError, match=message):
        decoder.nextExpression()
    decoder.receiveData(encode(1))
    with pytest.raises(BananaError):
        decoder.nextExpression()
    assert decoder.pending == 0


def test_limitsAtTheEdge() -> None:
    """A string and a list of exactly SIZE_LIMIT pass; the deepest nesting allowed passes."""
    data = b"\x00\x00\x28\x82" + b"a" * SIZE_LIMIT
    assert decode(data) == b"a" * SIZE_LIMIT
    nested: list[Any] = [1]
    for _ in range(banana.DEFAULT_MAX_DEPTH - 1):
        nested = [nested]
    assert decode(encode(nested)) == nested
    decoder = BananaDecoder(sizeLimit=10, maxDepth=2)
    decoder.receiveData(encode([[1]]))
    assert decoder.nextExpression() == [[1]]
    decoder.receiveData(encode(b"x" * 11))
    with pytest.raises(BananaError):
        decoder.nextExpression()


def test_bufferIsBounded() -> None:
    """A header with no end is refused as soon as it passes the prefix limit."""
    decoder = BananaDecoder()
    for _ in range(64):
        decoder.receiveData(b"\x01")
        assert decoder.nextExpression() is NEED_DATA
    decoder.receiveData(b"\x01")
    with pytest.raises(BananaError):
        decoder.nextExpression()


banana_values = st.recursive(
    st.one_of(
        st.integers(min_value=-(2**448) + 1, max_value=2**448 - 1),
        st.floats(allow_nan=False),
        st.binary(max_size=40),
        st.sampled_from(list(PB_VOCABULARY)),
    ),
    lambda children: st.lists(children, max_size=6),
    max_leaves=30,
)


@given(banana_values, st.integers(min_value=1, max_value=7))
@settings(max_examples=200, deadline=None)
def test_roundTrip(value: Any, chunk: int) -> None:
    """Every encodable value decodes back, however the bytes are split."""
    data = encode(value, PB_VOCABULARY)
    decoder = BananaDecoder(_PB_INCOMING)
    out: list[Any] = []
    for i in range(0, len(data), chunk):
        decoder.receiveData(data[i : i + chunk])
        while (item := decoder.nextExpression()) is not NEED_DATA:
            out.append(item)
    assert out == [value]


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
@settings(max_examples=400, deadline=None)
def test_fuzzDecoder(data: bytes, chunk: int) -> None:
    """Arbitrary bytes give expressions or BananaError, nothing else."""
    decoder = BananaDecoder(_PB_INCOMING, sizeLimit=1000, maxDepth=20)
    try:
        for i in range(0, len(data), chunk):
            decoder.receiveData(data[i : i + chunk])
            while decoder.nextExpression() is not NEED_DATA:
                pass
    except BananaError:
        pass


class _Recorder(Banana):
    def __init__(self, isClient: int) -> None:
        super().__init__(isClient)
        self.received: list[Any] = []
        self.ready = 0

    def connectionReady(self) -> None:
        self.ready += 1

    def expressionReceived(self, lst: Any) -> None:
        self.received.append(lst)


def _connected(isClient: int) -> tuple[_Recorder, StringTransport]:
    proto = _Recorder(isClient)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def test_serverOffersDialects() -> None:
    """The server sends its dialects, then uses the one the client picks."""
    server, transport = _connected(0)
    assert transport.value() == encode([b"pb", b"none"])
    transport.clear()
    server.dataReceived(encode(b"pb") + encode([b"version", 6], PB_VOCABULARY))
    assert server.currentDialect == b"pb"
    assert server.ready == 1
    assert server.received == [[b"version", 6]]
    server.sendEncoded([b"answer", 1, b"x"])
    assert transport.value() == b"\x03\x80\x1b\x87\x01\x81\x01\x82x"


def test_clientPicksDialect() -> None:
    """The client answers the server's list with the first dialect it knows too."""
    client, transport = _connected(1)
    assert transport.value() == b""
    client.dataReceived(encode([b"zz", b"none", b"pb"]))
    assert transport.value() == encode(b"pb")
    assert client.currentDialect == b"pb"
    assert client.ready == 1


@pytest.mark.parametrize(
    ("isClient", "data"),
    [
        (0, encode(b"klingon")),
        (0, encode([b"pb"])),
        (1, encode(b"pb")),
        (1, encode([b"klingon"])),
        (0, b"\x01\xff"),
        (1, b"\x01" * 100),
    ],
)
def test_badNegotiationClosesConnection(isClient: int, data: bytes) -> None:
    """A broken negotiation, or garbage, closes the connection."""
    proto, transport = _connected(isClient)
    proto.dataReceived(data)
    assert transport.disconnecting
    assert proto.ready == 0
    proto.dataReceived(encode(b"pb"))
    assert proto.received == []


def test_garbageAfterNegotiationClosesConnection() -> None:
    """Hostile bytes after the negotiation close the connection; earlier expressions count."""
    server, transport = _connected(0)
    server.dataReceived(encode(b"pb") + encode([1]) + b"\x01\x00\x28\x82" + encode([2]))
    assert server.received == [[1]]
    assert transport.disconnecting
