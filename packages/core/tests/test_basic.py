"""fw.protocols.basic: the sans-IO framers, the receivers over them, FileSender."""

from __future__ import annotations

import io
import socket
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.internet.defer import Deferred
from fw.internet.protocol import Factory
from fw.internet.testing import StringTransport
from fw.internet.threads import deferToThreadPool
from fw.protocols import basic
from fw.protocols.basic import (
    FileSender,
    Int8StringReceiver,
    Int16StringReceiver,
    Int32StringReceiver,
    LengthLimitError,
    LineFramer,
    LineOnlyReceiver,
    LineReceiver,
    LineTooLongError,
    NetstringFramer,
    NetstringParseError,
    NetstringReceiver,
    PrefixedStringFramer,
    StatefulStringProtocol,
    StringTooLongError,
)


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (taken modulo its length, sorted)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(data)]:
        pieces.append(data[last:p])
        last = p
    return pieces


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# -- LineFramer


def drain(framer: LineFramer) -> list[bytes]:
    out = []
    while (line := framer.nextLine()) is not None:
        out.append(line)
    return out


@pytest.mark.parametrize("delimiter", [b"\r\n", b"\n", b"\0", b"END\r\n"])
def test_lineFramerWholeAndBytewise(delimiter: bytes) -> None:
    lines = [b"one", b"", b"three and more", b"x" * 100]
    data = b"".join(line + delimiter for line in lines) + b"partial"
    for pieces in ([data], bytewise(data)):
        framer = LineFramer(delimiter)
        got = []
        for piece in pieces:
            framer.feed(piece)
            got.extend(drain(framer))
        assert got == lines
        assert framer.tail() == b"partial"
        assert framer.takeRest() == b"partial"
        assert len(framer) == 0


@given(
    lines=st.lists(st.binary(max_size=30).filter(lambda b: b"\r\n" not in b), max_size=30),
    cuts=st.lists(st.integers(min_value=0), max_size=40),
)
@settings(max_examples=200, deadline=None)
def test_lineFramerAnySplit(lines: list[bytes], cuts: list[int]) -> None:
    # A line ending in "\r" followed by the delimiter is still that line.
    data = b"".join(line + b"\r\n" for line in lines)
    framer = LineFramer()
    got = []
    for piece in splits(data, cuts):
        framer.feed(piece)
        got.extend(drain(framer))
    expected = data.split(b"\r\n")[:-1]
    assert got == expected


def test_lineFramerRejectsLongLine() -> None:
    framer = LineFramer(b"\n", maxLength=5)
    framer.feed(b"12345\n123456\nok\n")
    assert framer.nextLine() == b"12345"
    with pytest.raises(LineTooLongError) as caught:
        framer.nextLine()
    assert caught.value.data == b"123456"
    # Left in place: the caller decides.
    assert framer.takeRest() == b"123456\nok\n"


def test_lineFramerRejectsLongTail() -> None:
    framer = LineFramer(b"\r\n", maxLength=5)
    # Up to maxLength + len(delimiter) - 1 bytes may still become a line.
    framer.feed(b"123456")
    assert framer.nextLine() is None
    framer.feed(b"7")
    with pytest.raises(LineTooLongError) as caught:
        framer.nextLine()
    assert caught.value.data == b"1234567"


def test_lineFramerTrickledLongLineIsBounded() -> None:
    framer = LineFramer(b"\r\n", maxLength=100)
    for _ in range(101):
        framer.feed(b"a")
        assert framer.nextLine() is None
    framer.feed(b"a")
    with pytest.raises(LineTooLongError):
        framer.nextLine()


def test_lineFramerDelimiterStraddlingPieces() -> None:
    framer = LineFramer(b"<END>")
    for piece in (b"ab<E", b"N", b"D", b">cd<", b"END><EN", b"D>"):
        framer.feed(piece)
    assert drain(framer) == [b"ab", b"cd", b""]


def test_lineFramerChangeDelimiter() -> None:
    framer = LineFramer(b"\r\n")
    framer.feed(b"a\r\nb\nc\n")
    assert framer.nextLine() == b"a"
    framer.delimiter = b"\n"
    assert drain(framer) == [b"b", b"c"]
    with pytest.raises(ValueError):
        framer.delimiter = b""
    with pytest.raises(ValueError):
        LineFramer(b"")


def test_lineFramerTakeLinesAndLen() -> None:
    framer = LineFramer(b"\n")
    framer.feed(b"a\nbb\nccc")
    assert len(framer) == 8
    framer.feed(b"\nd")
    assert framer.takeLines() == [b"a", b"bb", b"ccc"]
    assert framer.tailLength() == 1


def test_lineFramerFeedWhileLinesWait() -> None:
    framer = LineFramer(b"\n")
    framer.feed(b"1\n2\n")
    assert framer.nextLine() == b"1"
    framer.feed(b"3\n4")
    assert drain(framer) == [b"2", b"3"]
    assert framer.takeRest() == b"4"


def test_lineFramerHugeChunk() -> None:
    framer = LineFramer(b"\n")
    framer.feed(b"line\n" * 200_000)
    assert len(framer.takeLines()) == 200_000


# -- NetstringFramer and PrefixedStringFramer


def netstrings(strings: list[bytes]) -> bytes:
    return b"".join(NetstringFramer.encode(s) for s in strings)


def drainStrings(framer: Any) -> list[bytes]:
    out = []
    while (s := framer.nextString()) is not None:
        out.append(s)
    return out


@given(
    strings=st.lists(st.binary(max_size=50), max_size=20),
    cuts=st.lists(st.integers(min_value=0), max_size=40),
)
@settings(max_examples=200, deadline=None)
def test_netstringFramerAnySplit(strings: list[bytes], cuts: list[int]) -> None:
    framer = NetstringFramer()
    got = []
    for piece in splits(netstrings(strings), cuts):
        framer.feed(piece)
        got.extend(drainStrings(framer))
    assert got == strings
    assert len(framer) == 0


def test_netstringFramerBytewise() -> None:
    data = netstrings([b"hello", b"", b"x" * 1000])
    framer = NetstringFramer()
    got = []
    for piece in bytewise(data):
        framer.feed(piece)
        got.extend(drainStrings(framer))
    assert got == [b"hello", b"", b"x" * 1000]


@pytest.mark.parametrize(
    "data",
    [
        b"abc",  # not a length
        b":",  # empty length
        b"-1:",  # sign
        b"01:a,",  # leading zero
        b"3:abc;",  # missing comma
        b"1000000:",  # over the limit
        b"12345678",  # too many digits, no colon yet
        b" 3:abc,",  # leading space
    ],
)
def test_netstringFramerMalformed(data: bytes) -> None:
    framer = NetstringFramer(maxLength=99999)

    def feedAll() -> None:
        for piece in bytewise(data):
            framer.feed(piece)
            drainStrings(framer)

    with pytest.raises(NetstringParseError):
        feedAll()


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_netstringFramerFuzz(data: bytes) -> None:
    # The only exception allowed is the peer-violation error.
    framer = NetstringFramer(maxLength=50)
    framer.feed(data)
    try:
        drainStrings(framer)
    except NetstringParseError:
        pass


def test_netstringFramerTruncated() -> None:
    framer = NetstringFramer()
    framer.feed(b"5:hel")
    assert framer.nextString() is None
    framer.feed(b"lo")
    assert framer.nextString() is None
    framer.feed(b",")
    assert framer.nextString() == b"hello"


@pytest.mark.parametrize("prefix", [1, 2, 4, 8])
def test_prefixedFramerAnySplit(prefix: int) -> None:
    framer = PrefixedStringFramer(prefix, maxLength=300)
    strings = [b"", b"a", b"hello world", b"z" * 250]
    data = b"".join(framer.encode(s) for s in strings)
    for pieces in ([data], bytewise(data), splits(data, [3, 7, 100, 101, 260])):
        framer = PrefixedStringFramer(prefix, maxLength=300)
        got = []
        for piece in pieces:
            framer.feed(piece)
            got.extend(drainStrings(framer))
        assert got == strings


def test_prefixedFramerLimits() -> None:
    framer = PrefixedStringFramer(2, maxLength=10)
    framer.feed(struct.pack("!H", 11) + b"x")
    with pytest.raises(LengthLimitError) as caught:
        framer.nextString()
    assert caught.value.length == 11
    assert framer.takeRest() == struct.pack("!H", 11) + b"x"
    with pytest.raises(StringTooLongError):
        PrefixedStringFramer(1).encode(b"x" * 256)
    assert PrefixedStringFramer(1).encode(b"x" * 255)[:1] == b"\xff"
    with pytest.raises(ValueError):
        PrefixedStringFramer(3)


def test_prefixedFramerLargeStringInManyPieces() -> None:
    framer = PrefixedStringFramer(4, maxLength=10_000_000)
    payload = bytes(range(256)) * 20_000
    data = framer.encode(payload)
    for i in range(0, len(data), 4096):
        framer.feed(data[i : i + 4096])
        if i + 4096 < len(data):
            assert framer.nextString() is None
    assert framer.nextString() == payload


# -- LineReceiver


class Lines(LineReceiver):
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.raw: list[bytes] = []
        self.exceeded: list[bytes] = []

    def lineReceived(self, line: bytes) -> Any:
        self.lines.append(line)

    def rawDataReceived(self, data: bytes) -> Any:
        self.raw.append(data)


def connected(proto: Any) -> StringTransport:
    transport = StringTransport()
    proto.makeConnection(transport)
    return transport


@pytest.mark.parametrize("delimiter", [b"\r\n", b"\n", b"-->"])
def test_lineReceiverWholeAndBytewise(delimiter: bytes) -> None:
    lines = [b"alpha", b"", b"beta gamma", b"d" * 500]
    data = b"".join(line + delimiter for line in lines)
    for pieces in ([data], bytewise(data), splits(data, [1, 5, 9, 300])):
        p = Lines()
        p.delimiter = delimiter
        connected(p)
        for piece in pieces:
            p.dataReceived(piece)
        assert p.lines == lines


def test_sendLine() -> None:
    p = Lines()
    t = connected(p)
    p.sendLine(b"hello")
    p.delimiter = b"\n"
    p.sendLine(b"bye")
    assert t.value() == b"hello\r\nbye\n"


class RawSwitcher(Lines):
    """Reads ``LEN n`` lines, then n raw bytes, then lines again."""

    def __init__(self) -> None:
        super().__init__()
        self.expected = 0
        self.body = b""
        self.bodies: list[bytes] = []

    def lineReceived(self, line: bytes) -> Any:
        if line.startswith(b"LEN "):
            self.expected = int(line[4:])
            self.setRawMode()
        else:
            self.lines.append(line)

    def rawDataReceived(self, data: bytes) -> Any:
        self.body += data
        if len(self.body) >= self.expected:
            body, rest = self.body[: self.expected], self.body[self.expected :]
            self.bodies.append(body)
            self.body = b""
            self.setLineMode(rest)


def test_rawModeSwitchingAnySplit() -> None:
    data = b"a\r\nLEN 5\r\n\r\n\r\nxb\r\nLEN 0\r\nLEN 3\r\nabcc\r\nLEN 2\r\n12"
    for pieces in ([data], bytewise(data), splits(data, [4, 10, 11, 20, 33])):
        p = RawSwitcher()
        connected(p)
        for piece in pieces:
            p.dataReceived(piece)
        assert p.bodies == [b"\r\n\r\nx", b"", b"abc", b"12"]
        assert p.lines == [b"a", b"b", b"c"]


def test_rawModeFromTheStart() -> None:
    p = Lines()
    connected(p)
    p.setRawMode()
    p.dataReceived(b"some\r\nraw")
    p.dataReceived(b"")
    assert p.raw == [b"some\r\nraw"]
    p.setLineMode(b"x\r\ny")
    assert p.lines == [b"x"]
    p.dataReceived(b"\r\n")
    assert p.lines == [b"x", b"y"]


def test_maxLengthExactlyIsAccepted() -> None:
    p = Lines()
    p.MAX_LENGTH = 10
    t = connected(p)
    p.dataReceived(b"0123456789\r\n")
    assert p.lines == [b"0123456789"]
    assert not t.disconnecting


def test_lineLengthExceededClosesByDefault() -> None:
    for pieces in ([b"ok\r\n01234567890\r\nmore\r\n"], bytewise(b"ok\r\n01234567890\r\nmore\r\n")):
        p = Lines()
        p.MAX_LENGTH = 10
        t = connected(p)
        for piece in pieces:
            # A real transport stops reading once closing.
            if not t.disconnecting:
                p.dataReceived(piece)
        assert p.lines == [b"ok"]
        assert t.disconnecting


def test_lineLengthExceededGetsEverythingUndelivered() -> None:
    got = []

    class Keep(Lines):
        MAX_LENGTH = 4

        def lineLengthExceeded(self, line: bytes) -> Any:
            got.append(line)

    p = Keep()
    connected(p)
    p.dataReceived(b"abcdefg\r\nrest\r\n")
    assert got == [b"abcdefg\r\nrest\r\n"]
    # Unterminated data too long to become a line: MAX_LENGTH + len(delimiter).
    q = Keep()
    connected(q)
    q.dataReceived(b"abcde")
    assert got == [b"abcdefg\r\nrest\r\n"]
    q.dataReceived(b"f")
    assert got[-1] == b"abcdef"
    assert q.clearLineBuffer() == b""


def test_unterminatedFloodIsBounded() -> None:
    p = Lines()
    t = connected(p)
    for _ in range(20):
        p.dataReceived(b"x" * 1000)
    assert t.disconnecting
    assert p.lines == []


def test_clearLineBufferInsideLineReceived() -> None:
    taken = []

    class Clearer(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            taken.append(self.clearLineBuffer())

    p = Clearer()
    connected(p)
    p.dataReceived(b"one\r\ntwo\r\nthree")
    assert p.lines == [b"one"]
    assert taken == [b"two\r\nthree"]
    assert p.clearLineBuffer() == b""


def test_noLinesAfterLoseConnection() -> None:
    class Quitter(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            if line == b"quit":
                self.transport.loseConnection()

    p = Quitter()
    connected(p)
    p.dataReceived(b"a\r\nquit\r\nb\r\n")
    assert p.lines == [b"a", b"quit"]


def test_trueReturnStopsDelivery() -> None:
    class Stopper(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            return line == b"stop" and ValueError("stop")

    p = Stopper()
    connected(p)
    result = p.dataReceived(b"a\r\nstop\r\nb\r\n")
    assert isinstance(result, ValueError)
    assert p.lines == [b"a", b"stop"]
    # The rest stays buffered.
    assert p.clearLineBuffer() == b"b\r\n"


def test_pauseAndResume() -> None:
    class Pauser(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            if line == b"pause":
                self.pauseProducing()

    p = Pauser()
    t = connected(p)
    p.dataReceived(b"a\r\npause\r\nb\r\nc")
    assert p.lines == [b"a", b"pause"]
    assert t.producerState == "paused"
    p.dataReceived(b"\r\nd\r\n")
    assert p.lines == [b"a", b"pause"]
    p.resumeProducing()
    assert t.producerState == "producing"
    assert p.lines == [b"a", b"pause", b"b", b"c", b"d"]
    p.stopProducing()
    assert p.paused
    p.dataReceived(b"e\r\n")
    assert p.lines[-1] == b"d"


def test_pausedInRawMode() -> None:
    p = Lines()
    connected(p)
    p.setRawMode()
    p.pauseProducing()
    p.dataReceived(b"held")
    assert p.raw == []
    p.resumeProducing()
    assert p.raw == [b"held"]


def test_delimiterChangedByCallback() -> None:
    class Switch(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            if line == b"switch":
                self.delimiter = b"\n"

    p = Switch()
    connected(p)
    p.dataReceived(b"a\r\nswitch\r\nb\nc\r\nd")
    assert p.lines == [b"a", b"switch", b"b", b"c\r"]


def test_reentrantDataReceived() -> None:
    class Reenter(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            if line == b"inject":
                self.dataReceived(b"injected\r\n")

    p = Reenter()
    connected(p)
    p.dataReceived(b"inject\r\nafter\r\n")
    assert p.lines == [b"inject", b"after", b"injected"]
    p.dataReceived(b"inject\r\n")
    assert p.lines[-2:] == [b"inject", b"injected"]


def test_setRawModeInLineReceivedGetsRest() -> None:
    class OneLine(Lines):
        def lineReceived(self, line: bytes) -> Any:
            self.lines.append(line)
            self.setRawMode()

    p = OneLine()
    connected(p)
    p.dataReceived(b"header\r\nbody\r\nmore")
    assert p.lines == [b"header"]
    assert p.raw == [b"body\r\nmore"]
    p.dataReceived(b"x")
    assert p.raw == [b"body\r\nmore", b"x"]


@given(
    lines=st.lists(st.binary(max_size=20).filter(lambda b: b"\n" not in b), max_size=30),
    cuts=st.lists(st.integers(min_value=0), max_size=30),
)
@settings(max_examples=150, deadline=None)
def test_lineReceiverAnySplit(lines: list[bytes], cuts: list[int]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    p = Lines()
    p.delimiter = b"\n"
    connected(p)
    for piece in splits(data, cuts):
        p.dataReceived(piece)
    assert p.lines == lines


def test_hugeChunk() -> None:
    p = Lines()
    connected(p)
    p.dataReceived(b"0123456789" * 3 + b"\r\n" + b"line\r\n" * 100_000)
    assert len(p.lines) == 100_001


def test_subclassWithoutCallingInit() -> None:
    class Bare(LineReceiver):
        def __init__(self) -> None:
            self.got: list[bytes] = []

        def lineReceived(self, line: bytes) -> None:
            self.got.append(line)

    p = Bare()
    connected(p)
    p.dataReceived(b"x\r\n")
    assert p.got == [b"x"]


# -- LineOnlyReceiver


class OnlyLines(LineOnlyReceiver):
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)


def test_lineOnlyReceiver() -> None:
    data = b"one\r\ntwo\r\n\r\nthree\r\n"
    for pieces in ([data], bytewise(data)):
        p = OnlyLines()
        t = connected(p)
        for piece in pieces:
            p.dataReceived(piece)
        assert p.lines == [b"one", b"two", b"", b"three"]
        p.sendLine(b"reply")
        assert t.value() == b"reply\r\n"


def test_lineOnlyReceiverLimits() -> None:
    p = OnlyLines()
    p.MAX_LENGTH = 3
    t = connected(p)
    p.dataReceived(b"abc\r\nabcd\r\nx\r\n")
    assert p.lines == [b"abc"]
    assert t.disconnecting
    q = OnlyLines()
    q.MAX_LENGTH = 3
    t = connected(q)
    for piece in bytewise(b"abcd"):
        q.dataReceived(piece)
    assert t.disconnecting


def test_lineOnlyReceiverStopsWhenDisconnecting() -> None:
    class Quit(OnlyLines):
        def lineReceived(self, line: bytes) -> None:
            self.lines.append(line)
            self.transport.loseConnection()

    p = Quit()
    connected(p)
    p.dataReceived(b"a\r\nb\r\n")
    assert p.lines == [b"a"]


# -- NetstringReceiver


class Strings(NetstringReceiver):
    def __init__(self) -> None:
        self.strings: list[bytes] = []

    def stringReceived(self, string: bytes) -> None:
        self.strings.append(string)


def test_netstringReceiver() -> None:
    data = b"5:hello,0:,3:a,b,"
    for pieces in ([data], bytewise(data)):
        p = Strings()
        t = connected(p)
        for piece in pieces:
            p.dataReceived(piece)
        assert p.strings == [b"hello", b"", b"a,b"]
        p.sendString(b"reply")
        assert t.value() == b"5:reply,"
        assert not p.brokenPeer


@pytest.mark.parametrize("data", [b"5:hello;", b"x:", b"100000:", b"3:abc,4"])
def test_netstringReceiverBrokenPeer(data: bytes) -> None:
    p = Strings()
    p.MAX_LENGTH = 99999
    t = connected(p)
    p.dataReceived(data + b"3:abc,")
    if data == b"3:abc,4":
        assert p.strings == [b"abc"]
        assert not p.brokenPeer
        return
    assert p.brokenPeer
    assert t.disconnecting
    assert p.strings == []
    p.dataReceived(b"1:a,")
    assert p.strings == []


def test_netstringMaxLengthChangeable() -> None:
    p = Strings()
    p.MAX_LENGTH = 3
    connected(p)
    p.dataReceived(b"3:abc,")
    p.dataReceived(b"4:abcd,")
    assert p.strings == [b"abc"]
    assert p.brokenPeer


# -- IntNStringReceiver


class Int32Strings(Int32StringReceiver):
    def __init__(self) -> None:
        self.strings: list[bytes] = []
        self.exceeded: list[int] = []

    def stringReceived(self, string: bytes) -> None:
        self.strings.append(string)


@pytest.mark.parametrize(
    ("cls", "fmt"),
    [(Int8StringReceiver, "!B"), (Int16StringReceiver, "!H"), (Int32StringReceiver, "!I")],
)
def test_intNStringReceivers(cls: Any, fmt: str) -> None:
    class Receiver(cls):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.strings: list[bytes] = []

        def stringReceived(self, string: bytes) -> None:
            self.strings.append(string)

    strings = [b"", b"a", b"hello" * 20]
    data = b"".join(struct.pack(fmt, len(s)) + s for s in strings)
    for pieces in ([data], bytewise(data)):
        p = Receiver()
        t = connected(p)
        for piece in pieces:
            p.dataReceived(piece)
        assert p.strings == strings
        p.sendString(b"out")
        assert t.value() == struct.pack(fmt, 3) + b"out"
    with pytest.raises(StringTooLongError):
        p.sendString(b"x" * (1 << (8 * struct.calcsize(fmt))))


def test_intNLengthLimitExceeded() -> None:
    p = Int32Strings()
    p.MAX_LENGTH = 10
    t = connected(p)
    p.dataReceived(struct.pack("!I", 3) + b"abc" + struct.pack("!I", 11))
    assert p.strings == [b"abc"]
    assert t.disconnecting

    got = []

    class Custom(Int32Strings):
        MAX_LENGTH = 10

        def lengthLimitExceeded(self, length: int) -> None:
            got.append(length)

    q = Custom()
    connected(q)
    q.dataReceived(struct.pack("!I", 2**32 - 1))
    assert got == [2**32 - 1]


def test_intNPauseAndReentry() -> None:
    class Pauser(Int32Strings):
        def stringReceived(self, string: bytes) -> None:
            self.strings.append(string)
            if string == b"pause":
                self.pauseProducing()
            if string == b"inject":
                self.dataReceived(struct.pack("!I", 1) + b"I")

    p = Pauser()
    connected(p)
    frame = lambda s: struct.pack("!I", len(s)) + s  # noqa: E731
    p.dataReceived(frame(b"a") + frame(b"pause") + frame(b"b"))
    assert p.strings == [b"a", b"pause"]
    p.resumeProducing()
    assert p.strings == [b"a", b"pause", b"b"]
    p.dataReceived(frame(b"inject") + frame(b"c"))
    assert p.strings[-3:] == [b"inject", b"c", b"I"]


def test_intNStopsWhenDisconnecting() -> None:
    class Quit(Int32Strings):
        def stringReceived(self, string: bytes) -> None:
            self.strings.append(string)
            self.transport.loseConnection()

    p = Quit()
    connected(p)
    p.dataReceived((struct.pack("!I", 1) + b"x") * 3)
    assert p.strings == [b"x"]


# -- StatefulStringProtocol


def test_statefulStringProtocol() -> None:
    class Talk(StatefulStringProtocol, NetstringReceiver):
        def __init__(self) -> None:
            self.names: list[bytes] = []

        def proto_init(self, string: bytes) -> str:
            self.names.append(string)
            return "second"

        def proto_second(self, string: bytes) -> str:
            self.names.append(string)
            return "done"

    p = Talk()
    t = connected(p)
    p.dataReceived(b"1:a,")
    assert p.state == "second"
    assert not t.disconnecting
    p.dataReceived(b"1:b,")
    assert p.names == [b"a", b"b"]
    assert p.state == "done"
    assert t.disconnecting


def test_statefulStringProtocolUnknownState() -> None:
    class Talk(StatefulStringProtocol, NetstringReceiver):
        state = "nowhere"

    p = Talk()
    connected(p)
    p.dataReceived(b"1:a,")
    assert p.state == "nowhere"


# -- FileSender


def test_fileSender() -> None:
    data = bytes(range(256)) * 300
    sender = FileSender()
    t = StringTransport()
    d = sender.beginFileTransfer(io.BytesIO(data), t, lambda chunk: chunk.upper())
    assert t.producer is sender
    assert t.streaming is False
    results: list[bytes] = []
    d.addCallback(results.append)
    while t.producer is not None:
        sender.resumeProducing()
    assert t.value() == data.upper()
    assert results == [data.upper()[-1:]]


def test_fileSenderStopped() -> None:
    sender = FileSender()
    t = StringTransport()
    d = sender.beginFileTransfer(io.BytesIO(b"abc"), t)
    errors: list[Any] = []
    d.addErrback(errors.append)
    sender.stopProducing()
    assert len(errors) == 1
    sender.stopProducing()
    assert len(errors) == 1


def test_fileSenderEmptyFile() -> None:
    sender = FileSender()
    t = StringTransport()
    d = sender.beginFileTransfer(io.BytesIO(b""), t)
    results: list[bytes] = []
    d.addCallback(results.append)
    sender.resumeProducing()
    assert results == [b""]
    assert t.producer is None


# -- over real sockets, with a plain Python socket as the peer


class Upper(LineReceiver):
    def lineReceived(self, line: bytes) -> None:
        if line == b"quit":
            self.transport.loseConnection()
        else:
            self.sendLine(line.upper())


def test_lineReceiverOverTCP(reactor: Any, runReactor: Any) -> None:
    def peer(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            # Many lines in one send, one line split across sends.
            s.sendall(b"".join(b"line %d\r\n" % i for i in range(2000)) + b"spl")
            s.sendall(b"it\r\nquit\r\n")
            received = b""
            while chunk := s.recv(65536):
                received += chunk
            return received

    def go() -> Deferred[Any]:
        port = reactor.listenTCP(0, Factory.forProtocol(Upper), interface="127.0.0.1")
        d = deferToThreadPool(reactor, reactor.getThreadPool(), peer, port.getHost().port)

        def stop(received: bytes) -> Any:
            return port.stopListening().addCallback(lambda _: received)

        return d.addCallback(stop)

    received = runReactor(reactor, go)
    expected = b"".join(b"LINE %d\r\n" % i for i in range(2000)) + b"SPLIT\r\n"
    assert received == expected


def test_publicSurface() -> None:
    for name in basic.__all__:
        obj = getattr(basic, name)
        if callable(obj):
            assert obj.__doc__, name
