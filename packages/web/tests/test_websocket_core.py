"""
The sans-IO WebSocket machine and handshake helpers, in memory: whole and
byte-at-a-time input, fragmentation, size limits, invalid UTF-8, bad frames.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.web._websocket_core import (
    CloseCode,
    CloseReceived,
    FrameMachine,
    HandshakeError,
    MessageReceived,
    PingReceived,
    PongReceived,
    ProtocolFailed,
    State,
    acceptFor,
    checkHandshakeResponse,
    checkUpgradeRequest,
)


def frame(
    opcode: int, payload: bytes, fin: bool = True, mask: bytes = b"\x01\x02\x03\x04"
) -> bytes:
    """A client (masked) frame built by hand."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def feed(machine: FrameMachine, data: bytes, oneByte: bool) -> list[object]:
    if not oneByte:
        return list(machine.receiveData(data))
    events: list[object] = []
    for i in range(len(data)):
        events += machine.receiveData(data[i : i + 1])
    return events


def test_rfcExampleAccept() -> None:
    # RFC 6455 section 1.3's worked example.
    assert acceptFor(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


GOOD = {
    b"upgrade": [b"websocket"],
    b"connection": [b"keep-alive, Upgrade"],
    b"sec-websocket-key": [b"dGhlIHNhbXBsZSBub25jZQ=="],
    b"sec-websocket-version": [b"13"],
    b"sec-websocket-protocol": [b"chat, superchat"],
}


def test_upgradeRequestValid() -> None:
    up = checkUpgradeRequest(b"GET", b"HTTP/1.1", GOOD)
    assert up.subprotocols == ("chat", "superchat")
    assert up.origin is None


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({b"upgrade": []}, 426),
        ({b"upgrade": [b"h2c"]}, 426),
        ({b"connection": [b"keep-alive"]}, 400),
        ({b"sec-websocket-version": [b"8"]}, 426),
        ({b"sec-websocket-key": []}, 400),
        ({b"sec-websocket-key": [b"short"]}, 400),
        ({b"sec-websocket-key": [b"!!!!"]}, 400),
    ],
)
def test_upgradeRequestInvalid(change: dict[bytes, list[bytes]], status: int) -> None:
    with pytest.raises(HandshakeError) as info:
        checkUpgradeRequest(b"GET", b"HTTP/1.1", {**GOOD, **change})
    assert info.value.status == status


def test_upgradeRequestMethodAndVersion() -> None:
    with pytest.raises(HandshakeError) as info:
        checkUpgradeRequest(b"POST", b"HTTP/1.1", GOOD)
    assert info.value.status == 405
    with pytest.raises(HandshakeError):
        checkUpgradeRequest(b"GET", b"HTTP/1.0", GOOD)


def test_handshakeResponse() -> None:
    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    ok = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + acceptFor(key)
    )
    assert checkHandshakeResponse(ok, key, ()) is None
    assert (
        checkHandshakeResponse(ok + b"\r\nSec-WebSocket-Protocol: chat", key, ["chat"]) == "chat"
    )
    with pytest.raises(HandshakeError):
        checkHandshakeResponse(ok + b"\r\nSec-WebSocket-Protocol: other", key, ["chat"])
    with pytest.raises(HandshakeError):
        checkHandshakeResponse(ok, b"AAAAAAAAAAAAAAAAAAAAAA==", ())
    with pytest.raises(HandshakeError) as info:
        checkHandshakeResponse(b"HTTP/1.1 403 Forbidden", key, ())
    assert info.value.status == 403
    with pytest.raises(HandshakeError):
        checkHandshakeResponse(b"garbage", key, ())


@pytest.mark.parametrize("oneByte", [False, True])
def test_textAndFragments(oneByte: bool) -> None:
    m = FrameMachine(isClient=False)
    data = frame(1, "héllo".encode()) + frame(2, b"ab", fin=False) + frame(0, b"cd", fin=False)
    data += frame(9, b"p") + frame(0, b"ef")
    events = feed(m, data, oneByte)
    assert MessageReceived("héllo", False) in events
    assert MessageReceived(b"abcdef", True) in events
    assert PingReceived(b"p") in events
    # The pong went out, unmasked, opcode 0xA.
    assert m.dataToSend() == b"\x8a\x01p"


@pytest.mark.parametrize("oneByte", [False, True])
def test_invalidUtf8(oneByte: bool) -> None:
    m = FrameMachine(isClient=False)
    events = feed(m, frame(1, b"ok\xff\xfe"), oneByte)
    assert len(events) == 1
    assert isinstance(events[0], ProtocolFailed)
    assert events[0].code == CloseCode.INVALID_PAYLOAD
    assert m.dataToSend()[:1] == b"\x88"
    assert m.state is State.FAILED


def test_invalidUtf8SendsClose1007() -> None:
    m = FrameMachine(isClient=False)
    m.receiveData(frame(1, b"\xc3\x28"))
    out = m.dataToSend()
    assert out[0] == 0x88
    assert struct.unpack("!H", out[2:4])[0] == 1007


@pytest.mark.parametrize("oneByte", [False, True])
def test_tooBig(oneByte: bool) -> None:
    m = FrameMachine(isClient=False, maxMessageSize=10)
    data = frame(2, b"x" * 6, fin=False) + frame(0, b"y" * 6)
    events = feed(m, data, oneByte)
    assert events == [ProtocolFailed(CloseCode.MESSAGE_TOO_BIG, "message larger than 10 bytes")]
    out = m.dataToSend()
    assert struct.unpack("!H", out[2:4])[0] == 1009
    # Nothing more is parsed after the failure.
    assert m.receiveData(frame(1, b"hi")) == []


def test_hugeDeclaredLengthBoundedMemory() -> None:
    m = FrameMachine(isClient=False, maxMessageSize=1000)
    head = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 1 << 40) + b"\0\0\0\0"
    events = m.receiveData(head + b"z" * 2000)
    assert [type(e) for e in events] == [ProtocolFailed]
    assert events[0].code == 1009  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "data",
    [
        bytes([0x81, 0x02, 0x68, 0x69]),  # unmasked client frame
        frame(3, b""),  # reserved opcode
        frame(0, b"x"),  # continuation with nothing to continue
        frame(9, b"x" * 126),  # control frame too long
        frame(9, b"x", fin=False),  # fragmented control frame
        bytes([0xC1]) + frame(1, b"x")[1:],  # RSV1 without an extension
    ],
)
def test_protocolErrors(data: bytes) -> None:
    m = FrameMachine(isClient=False)
    events = m.receiveData(data)
    assert [type(e) for e in events] == [ProtocolFailed]
    assert events[0].code == CloseCode.PROTOCOL_ERROR  # type: ignore[union-attr]


def test_closeHandshakeRemote() -> None:
    m = FrameMachine(isClient=False)
    events = m.receiveData(frame(8, struct.pack("!H", 1001) + b"bye"))
    assert events == [CloseReceived(1001, "bye")]
    out = m.dataToSend()
    assert out[:1] == b"\x88"
    assert struct.unpack("!H", out[2:4])[0] == 1001
    assert m.state is State.CLOSED


def test_closeHandshakeLocal() -> None:
    m = FrameMachine(isClient=False)
    m.close(1000, "done")
    assert m.dataToSend()[:1] == b"\x88"
    assert m.state is State.LOCAL_CLOSING
    with pytest.raises(Exception, match="closing"):
        m.sendMessage("late")
    assert m.receiveData(frame(8, struct.pack("!H", 1000))) == [CloseReceived(1000, "")]
    assert m.state is State.CLOSED
    assert m.dataToSend() == b""


def test_badCloseCode() -> None:
    m = FrameMachine(isClient=False)
    events = m.receiveData(frame(8, struct.pack("!H", 1005)))
    assert [type(e) for e in events] == [ProtocolFailed]


def test_clientMasksServerParses() -> None:
    client = FrameMachine(isClient=True)
    server = FrameMachine(isClient=False)
    client.sendMessage("hi")
    client.sendMessage(b"\x00\x01")
    wire = client.dataToSend()
    assert wire[1] & 0x80  # masked
    assert server.receiveData(wire) == [
        MessageReceived("hi", False),
        MessageReceived(b"\0\1", True),
    ]


@given(st.lists(st.binary(max_size=300), max_size=5), st.data())
def test_anySplit(messages: list[bytes], data: st.DataObject) -> None:
    client = FrameMachine(isClient=True)
    for msg in messages:
        client.sendMessage(msg)
    wire = client.dataToSend()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    server = FrameMachine(isClient=False)
    events: list[object] = []
    prev = 0
    for cut in [*cuts, len(wire)]:
        events += server.receiveData(wire[prev:cut])
        prev = cut
    assert events == [MessageReceived(m, True) for m in messages]


@given(st.binary(max_size=200))
def test_garbageNeverCrashes(junk: bytes) -> None:
    m = FrameMachine(isClient=False, maxMessageSize=100)
    for event in m.receiveData(junk):
        assert isinstance(
            event, (MessageReceived, PingReceived, PongReceived, ProtocolFailed, CloseReceived)
        )
