"""AMP's wire format, sans-IO: AmpBox.serialize and BoxParser, whole, split anywhere, hostile."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fw.protocols.amp import (
    DEFAULT_MAX_BOX_LENGTH,
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    AmpBox,
    Box,
    BoxParser,
    MalformedAmpBox,
    QuitBox,
    TooLong,
    parse,
    parseString,
)

# What Twisted 26.10's AmpBox.serialize writes for this box: keys sorted.
TWISTED_BYTES = b"\x00\x08_command\x00\x01x\x00\x01a\x00\x011\x00\x01b\x00\x012\x00\x00"


def feedWhole(parser: BoxParser, data: bytes) -> list[AmpBox]:
    parser.feed(data)
    return parser.boxes()


def feedBytewise(parser: BoxParser, data: bytes) -> list[AmpBox]:
    boxes = []
    for i in range(len(data)):
        parser.feed(data[i : i + 1])
        boxes.extend(parser.boxes())
    return boxes


FEEDERS = [feedWhole, feedBytewise]


# -- serialising -------------------------------------------------------------


def test_serializeMatchesTwisted() -> None:
    """Keys are written sorted, each pair length-prefixed, then an empty key."""
    box = AmpBox({b"b": b"2", b"a": b"1", b"_command": b"x"})
    assert box.serialize() == TWISTED_BYTES


def test_emptyBox() -> None:
    assert AmpBox().serialize() == b"\x00\x00"
    assert parseString(b"\x00\x00") == [AmpBox()]


def test_strKeysAreEncoded() -> None:
    """Keyword arguments (and other str keys) become UTF-8 byte keys."""
    box = AmpBox(a=b"1")
    assert box == {b"a": b"1"}
    assert AmpBox({"k\u00e9": b"v"}) == {"k\u00e9".encode(): b"v"}
    assert Box is AmpBox


def test_strValueRefused() -> None:
    box = AmpBox()
    box[b"k"] = "v"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="Unicode value"):
        box.serialize()


def test_nonBytesKeyRefused() -> None:
    box = AmpBox()
    dict.__setitem__(box, 1, b"v")  # type: ignore[index]
    with pytest.raises(TypeError):
        box.serialize()


def test_longestKeyAndValue() -> None:
    """A 255-byte key and a 65535-byte value are the largest allowed; both round-trip."""
    box = AmpBox({b"k" * MAX_KEY_LENGTH: b"v" * MAX_VALUE_LENGTH})
    assert parseString(box.serialize()) == [box]


def test_keyTooLong() -> None:
    with pytest.raises(TooLong) as info:
        AmpBox({b"k" * (MAX_KEY_LENGTH + 1): b""}).serialize()
    assert info.value.isKey
    assert info.value.isLocal
    assert str(info.value) == "local key too long: 256"


def test_valueTooLong() -> None:
    with pytest.raises(TooLong) as info:
        AmpBox({b"k": b"v" * (MAX_VALUE_LENGTH + 1)}).serialize()
    assert not info.value.isKey
    assert info.value.isLocal
    assert info.value.keyName == b"k"
    assert str(info.value) == "local value b'k' too long: 65536"


def test_emptyKeyRefused() -> None:
    """An empty key would end the box early: refused."""
    with pytest.raises(MalformedAmpBox):
        AmpBox({b"": b"x"}).serialize()


def test_copyKeepsClass() -> None:
    box = QuitBox(a=b"1")
    copy = box.copy()
    assert type(copy) is QuitBox
    assert copy == box
    assert copy is not box


def test_repr() -> None:
    assert repr(AmpBox(a=b"1")) == "AmpBox({b'a': b'1'})"


# -- parsing -----------------------------------------------------------------


@pytest.mark.parametrize("feed", FEEDERS)
def test_parseSeveralBoxes(feed: object) -> None:
    boxes = [AmpBox(a=b"1", b=b""), AmpBox(), AmpBox({b"x" * 255: b"y" * 1000})]
    data = b"".join(b.serialize() for b in boxes)
    assert feed(BoxParser(), data) == boxes  # type: ignore[operator]


@pytest.mark.parametrize("feed", FEEDERS)
def test_parseTwistedBytes(feed: object) -> None:
    assert feed(BoxParser(), TWISTED_BYTES) == [  # type: ignore[operator]
        {b"_command": b"x", b"a": b"1", b"b": b"2"}
    ]


def test_duplicateKeyLastWins() -> None:
    data = b"\x00\x01a\x00\x011\x00\x01a\x00\x012\x00\x00"
    assert parseString(data) == [{b"a": b"2"}]


def test_largestValueBytewise() -> None:
    """A 64 KiB value fed a byte at a time is parsed once, correctly."""
    box = AmpBox({b"k": bytes(range(256)) * 255})
    assert feedBytewise(BoxParser(), box.serialize()) == [box]


def test_chunksAcrossBoxes() -> None:
    """Chunks that end mid-length, mid-key and mid-value, across box boundaries."""
    data = (AmpBox(alpha=b"one", beta=b"two").serialize()) * 3
    for size in range(1, 12):
        parser = BoxParser()
        got = []
        for i in range(0, len(data), size):
            parser.feed(data[i : i + size])
            got.extend(parser.boxes())
        assert got == [AmpBox(alpha=b"one", beta=b"two")] * 3
        assert not parser.incomplete


def test_nextBoxOneAtATime() -> None:
    parser = BoxParser()
    parser.feed(AmpBox(a=b"1").serialize() + AmpBox(b=b"2").serialize())
    assert parser.nextBox() == {b"a": b"1"}
    assert parser.nextBox() == {b"b": b"2"}
    assert parser.nextBox() is None


def test_bytearrayAndMemoryviewFed() -> None:
    parser = BoxParser()
    data = AmpBox(a=b"1").serialize()
    parser.feed(bytearray(data[:3]))
    parser.feed(memoryview(data)[3:])  # type: ignore[arg-type]
    assert parser.boxes() == [{b"a": b"1"}]


def test_remoteKeyTooLong() -> None:
    """A key length over 255 is refused as soon as its two bytes arrive."""
    parser = BoxParser()
    parser.feed(b"\x01\x00")
    with pytest.raises(TooLong) as info:
        parser.nextBox()
    assert info.value.isKey
    assert not info.value.isLocal
    assert info.value.length == 256
    # The parser stays failed and keeps nothing.
    parser.feed(b"k" * 1000)
    with pytest.raises(TooLong):
        parser.nextBox()
    assert not parser.incomplete


def test_boxTooLong() -> None:
    """A box past maxBoxLength is refused when the length that crosses it arrives."""
    parser = BoxParser(maxBoxLength=100)
    parser.feed(b"\x00\x01a\x00\x50" + b"v" * 0x50)  # 87 bytes so far
    assert parser.nextBox() is None
    parser.feed(b"\x00\x01b\x00\xff")  # the next value would pass 100 bytes
    with pytest.raises(TooLong) as info:
        parser.nextBox()
    assert not info.value.isLocal
    assert not info.value.isKey


def test_boxTooLongByTerminator() -> None:
    parser = BoxParser(maxBoxLength=7)
    parser.feed(b"\x00\x01a\x00\x01v\x00\x00")  # 8 bytes with its end marker
    with pytest.raises(TooLong):
        parser.nextBox()


def test_defaultBoxLimitAdmitsBigBoxes() -> None:
    """The default admits 64 values of the largest size."""
    box = AmpBox({b"k%02d" % i: b"v" * MAX_VALUE_LENGTH for i in range(64)})
    data = box.serialize()
    assert len(data) <= DEFAULT_MAX_BOX_LENGTH
    assert feedWhole(BoxParser(), data) == [box]


def test_manySmallPairsBounded() -> None:
    """Many tiny pairs cannot make an unbounded box either."""
    parser = BoxParser(maxBoxLength=1000)
    parser.feed(b"\x00\x01k\x00\x00" * 300)
    with pytest.raises(TooLong):
        parser.nextBox()


def test_truncated() -> None:
    data = AmpBox(a=b"1").serialize()
    for cut in range(1, len(data)):
        parser = BoxParser()
        parser.feed(data[:cut])
        assert parser.boxes() == []
        assert parser.incomplete
        with pytest.raises(MalformedAmpBox):
            parseString(data[:cut])


def test_unprocessed() -> None:
    """After a box, the bytes that follow can be taken back (for a protocol switch)."""
    parser = BoxParser()
    parser.feed(AmpBox(a=b"1").serialize() + b"raw")
    parser.feed(b" bytes")
    assert parser.nextBox() == {b"a": b"1"}
    assert parser.unprocessed() == b"raw bytes"
    assert not parser.incomplete
    assert parser.unprocessed() == b""


def test_unprocessedMidBox() -> None:
    parser = BoxParser()
    parser.feed(b"\x00\x01a\x00\x011")
    assert parser.nextBox() is None
    with pytest.raises(MalformedAmpBox):
        parser.unprocessed()


def test_parseFile() -> None:
    data = AmpBox(a=b"1").serialize() + AmpBox(b=b"2").serialize()
    assert parse(io.BytesIO(data)) == [{b"a": b"1"}, {b"b": b"2"}]


# -- properties ----------------------------------------------------------------

keys = st.binary(min_size=1, max_size=MAX_KEY_LENGTH)
values = st.binary(max_size=300)
boxes = st.lists(st.dictionaries(keys, values, max_size=6), max_size=5)


@settings(max_examples=150, deadline=None)
@given(boxes, st.lists(st.integers(min_value=0, max_value=5000), max_size=12))
def test_roundTripSplitAnywhere(items: list[dict[bytes, bytes]], cuts: list[int]) -> None:
    """Any boxes, serialised and split at any points, parse back the same."""
    data = b"".join(AmpBox(item).serialize() for item in items)
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    parser = BoxParser()
    got = []
    for start, end in itertools.pairwise(points):
        parser.feed(data[start:end])
        got.extend(parser.boxes())
    assert got == items
    assert not parser.incomplete


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_fuzzOnlyTooLong(data: bytes, chunk: int) -> None:
    """Arbitrary bytes in arbitrary chunks: boxes, waiting, or TooLong; nothing else."""
    parser = BoxParser(maxBoxLength=1500)
    try:
        for i in range(0, len(data), chunk):
            parser.feed(data[i : i + chunk])
            for box in parser.boxes():
                assert all(0 < len(k) <= MAX_KEY_LENGTH for k in box)
    except TooLong:
        pass
