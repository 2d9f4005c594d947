"""
Messages (RFC 1035 section 4): the header, ``Query``, ``RRHeader`` and
``Message`` with its four sections.

Parsing works on the whole message at once; any malformed, truncated or
hostile input raises :class:`~fw.names.error.DNSFormatError` with the header
already read into the message, so a server can still answer FORMERR to the
right ID.
"""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any

from zope.interface import implementer

from fw.names import _dns_constants as c
from fw.names._name import Name, presentName, readName, writeName
from fw.names._records import RECORD_TYPES, IEncodable, UnknownRecord
from fw.names._records_base import RecordBase
from fw.names.error import DNSFormatError

__all__ = ["Message", "Query", "RRHeader"]

_HEADER = struct.Struct("!HBBHHHH")
_FIXED = struct.Struct("!HHIH")
_QFIXED = struct.Struct("!HH")


@implementer(IEncodable)
class Query:
    """
    A question: a name, a type and a class.

    Args:
        name: the domain name asked about.
        type: the record type (``dns.A``...).
        cls: the class (``dns.IN``).
    """

    __slots__ = ("cls", "name", "type")

    def __init__(self, name: bytes | str | Name = b"", type: int = c.A, cls: int = c.IN) -> None:
        self.name = Name(name)
        self.type = type
        self.cls = cls

    def encode(self, strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write the question to ``strio``."""
        base = strio.tell()
        out = bytearray(base)
        self._write(out, compDict)
        strio.write(bytes(out[base:]))

    def _write(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        writeName(out, self.name.name, compDict)
        out += _QFIXED.pack(self.type, self.cls)

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read a question from ``strio`` (a whole message in a ``BytesIO``)."""
        data = strio.getvalue()
        query, after = _readQuery(data, strio.tell())
        self.name, self.type, self.cls = query.name, query.type, query.cls
        strio.seek(after)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return (self.name, self.type, self.cls) == (other.name, other.type, other.cls)

    def __hash__(self) -> int:
        return hash((self.name, self.type, self.cls))

    def __repr__(self) -> str:
        return f"Query({str(self.name)!r}, {c.typeToText(self.type)}, {c.classToText(self.cls)})"

    __str__ = __repr__


def _readQuery(
    data: bytes, pos: int, cache: dict[int, tuple[bytes, int]] | None = None
) -> tuple[Query, int]:
    name, pos = readName(data, pos, cache)
    if pos + 4 > len(data):
        raise DNSFormatError("question truncated")
    type, cls = _QFIXED.unpack_from(data, pos)
    query = Query.__new__(Query)
    query.name = Name.__new__(Name)
    query.name.name = name
    query.type, query.cls = type, cls
    return query, pos + 4


@implementer(IEncodable)
class RRHeader:
    """
    A resource record: owner name, type, class, TTL and its rdata (``payload``,
    a ``Record_*`` instance).

    Args:
        auth: whether this record is authoritative data (used by servers to
            set the AA bit).
    """

    __slots__ = ("auth", "cls", "name", "payload", "rdlength", "ttl", "type")

    cachedResponse = None

    def __init__(
        self,
        name: bytes | str | Name = b"",
        type: int = c.A,
        cls: int = c.IN,
        ttl: int = 0,
        payload: Any = None,
        auth: bool = False,
    ) -> None:
        if ttl < 0 or ttl > 0xFFFFFFFF:
            raise ValueError(f"TTL {ttl} out of range")
        self.name = Name(name)
        self.type = type
        self.cls = cls
        self.ttl = ttl
        self.payload = payload
        self.auth = auth
        self.rdlength: int | None = None

    def encode(self, strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write the record (its payload included) to ``strio``."""
        base = strio.tell()
        out = bytearray(base)
        self._write(out, compDict)
        strio.write(bytes(out[base:]))

    def _write(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        writeName(out, self.name.name, compDict)
        start = len(out) + 10
        out += _FIXED.pack(self.type, self.cls, self.ttl, 0)
        if self.payload is not None:
            if isinstance(self.payload, RecordBase):
                self.payload._encodeRdata(out, compDict)
            else:
                tail = BytesIO()
                tail.write(bytes(out))
                self.payload.encode(tail, compDict)
                out[:] = tail.getvalue()
        size = len(out) - start
        if size > 0xFFFF:
            raise ValueError("record data longer than 65535 octets")
        out[start - 2 : start] = size.to_bytes(2, "big")
        self.rdlength = size

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read the record header from ``strio``; the caller reads the payload (as in Twisted)."""
        data = strio.getvalue()
        name, pos = readName(data, strio.tell())
        if pos + 10 > len(data):
            raise DNSFormatError("record header truncated")
        self.name = Name(name)
        self.type, self.cls, self.ttl, self.rdlength = _FIXED.unpack_from(data, pos)
        strio.seek(pos + 10)

    def isAuthoritative(self) -> bool:
        """Whether this record is authoritative."""
        return bool(self.auth)

    def toText(self) -> str:
        """The record as a zone file line: ``name ttl class type rdata``."""
        payload = self.payload
        rdata = payload.toText() if payload is not None else ""
        return (
            f"{presentName(self.name.name)} {self.ttl} {c.classToText(self.cls)} "
            f"{c.typeToText(self.type)} {rdata}"
        ).rstrip()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RRHeader):
            return NotImplemented
        return (self.name, self.type, self.cls, self.ttl, self.payload) == (
            other.name, other.type, other.cls, other.ttl, other.payload,
        )  # fmt: skip

    def __hash__(self) -> int:
        return hash((self.name, self.type, self.cls, self.ttl))

    def __repr__(self) -> str:
        return (
            f"<RR name={self.name} type={c.typeToText(self.type)} "
            f"class={c.classToText(self.cls)} ttl={self.ttl}s auth={bool(self.auth)}>"
        )

    __str__ = __repr__


def lookupRecordType(type: int) -> type[RecordBase]:
    """The record class for type number ``type`` (``UnknownRecord`` if fw has none)."""
    return RECORD_TYPES.get(type, UnknownRecord)


def _readRR(
    data: bytes, pos: int, cache: dict[int, tuple[bytes, int]] | None = None
) -> tuple[RRHeader, int]:
    name, pos = readName(data, pos, cache)
    if pos + 10 > len(data):
        raise DNSFormatError("record header truncated")
    type, cls, ttl, rdlength = _FIXED.unpack_from(data, pos)
    pos += 10
    end = pos + rdlength
    if end > len(data):
        raise DNSFormatError("record data runs past the end of the message")
    header = RRHeader.__new__(RRHeader)
    header.name = Name.__new__(Name)
    header.name.name = name
    header.type, header.cls, header.ttl, header.rdlength = type, cls, ttl, rdlength
    header.auth = False
    recordClass = RECORD_TYPES.get(type, UnknownRecord)
    if rdlength == 0 and type not in (c.OPT, c.TXT, c.SPF, c.NSEC3, c.NULL):
        # An empty rdata is an UPDATE's "delete" form (RFC 2136 section 2.5) or an
        # NXRRSET prerequisite; keep it without interpreting.
        payload: Any = UnknownRecord(b"")
    else:
        payload = recordClass._decodeRdata(data, pos, end)
    payload.ttl = ttl
    header.payload = payload
    return header, end


class Message:
    """
    A DNS message: the header flags and four sections.

    ``toStr()``/``fromStr(bytes)`` give and take the wire form;
    ``encode``/``decode`` work on a file-like object as Twisted's do.
    ``maxSize`` bounds what ``toStr`` produces: records that do not fit are
    left out whole and TC is set (RFC 2181 section 9).
    """

    headerSize = 12

    def __init__(
        self,
        id: int = 0,
        answer: int | bool = 0,
        opCode: int = c.OP_QUERY,
        recDes: int | bool = 0,
        recAv: int | bool = 0,
        auth: int | bool = 0,
        rCode: int = c.OK,
        trunc: int | bool = 0,
        maxSize: int = 512,
        authenticData: int | bool = 0,
        checkingDisabled: int | bool = 0,
    ) -> None:
        self.id = id
        self.answer = answer
        self.opCode = opCode
        self.recDes = recDes
        self.recAv = recAv
        self.auth = auth
        self.rCode = rCode
        self.trunc = trunc
        self.maxSize = maxSize
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.queries: list[Query] = []
        self.answers: list[RRHeader] = []
        self.authority: list[RRHeader] = []
        self.additional: list[RRHeader] = []

    def addQuery(self, name: bytes | str | Name, type: int = c.A, cls: int = c.IN) -> None:
        """Add a question."""
        self.queries.append(Query(name, type, cls))

    def lookupRecordType(self, type: int) -> type[RecordBase]:
        """The record class for ``type``: ``UnknownRecord`` for a type fw does not parse."""
        return RECORD_TYPES.get(type, UnknownRecord)

    # -- wire ----------------------------------------------------------------

    def _flags(self) -> tuple[int, int]:
        byte3 = (
            (0x80 if self.answer else 0) | ((self.opCode & 0xF) << 3)
            | (0x04 if self.auth else 0) | (0x02 if self.trunc else 0)
            | (0x01 if self.recDes else 0)
        )  # fmt: skip
        byte4 = (
            (0x80 if self.recAv else 0) | (0x20 if self.authenticData else 0)
            | (0x10 if self.checkingDisabled else 0) | (self.rCode & 0xF)
        )  # fmt: skip
        return byte3, byte4

    def toStr(self) -> bytes:
        """The message in wire format."""
        return self._build(self.maxSize)

    def _build(self, maxSize: int, keepLast: RRHeader | None = None) -> bytes:
        limit = maxSize if maxSize and maxSize > 0 else 0xFFFF
        # The usual case first: everything fits.  ``keepLast``, when given, is
        # the last additional record, so writing in order keeps it last.
        out = bytearray(12)
        compDict: dict[bytes, int] = {}
        for q in self.queries:
            q._write(out, compDict)
        for section in (self.answers, self.authority, self.additional):
            for rr in section:
                rr._write(out, compDict)
        if len(out) <= limit and (keepLast is None or self.additional[-1:] == [keepLast]):
            byte3, byte4 = self._flags()
            counts = (len(self.queries), len(self.answers), len(self.authority),
                      len(self.additional))  # fmt: skip
            _HEADER.pack_into(out, 0, self.id, byte3, byte4, *counts)
            return bytes(out)
        return self._buildTruncated(limit, keepLast)

    def _buildTruncated(self, limit: int, keepLast: RRHeader | None) -> bytes:
        out = bytearray(12)
        compDict: dict[bytes, int] = {}
        for q in self.queries:
            q._write(out, compDict)
        counts = [len(self.queries), 0, 0, 0]
        reserve = 0
        if keepLast is not None:
            scratch = bytearray(12)
            keepLast._write(scratch, None)
            reserve = len(scratch) - 12
        truncated = False
        for index, section in enumerate((self.answers, self.authority, self.additional), 1):
            for rr in section:
                if rr is keepLast:
                    continue
                mark = len(out)
                rr._write(out, compDict)
                if len(out) + reserve > limit:
                    del out[mark:]
                    for key in [k for k, v in compDict.items() if v >= mark]:
                        del compDict[key]
                    # Dropping additional data alone needs no TC (RFC 2181 section 9).
                    truncated = truncated or index < 3
                    if index < 3:
                        break
                    continue
                counts[index] += 1
            if truncated:
                break
        if keepLast is not None:
            keepLast._write(out, compDict)
            counts[3] += 1
        if truncated:
            self.trunc = 1
        byte3, byte4 = self._flags()
        _HEADER.pack_into(out, 0, self.id, byte3, byte4, *counts)
        return bytes(out)

    def fromStr(self, data: bytes) -> None:
        """
        Read the message from its wire form, replacing what this one held.

        Raises:
            DNSFormatError: the message is malformed (the header, if complete,
                has been read into this message).
        """
        if len(data) < 12:
            raise DNSFormatError("message shorter than its header")
        data = bytes(data)
        self.id, byte3, byte4, qd, an, ns, ar = _HEADER.unpack_from(data, 0)
        self.answer = (byte3 >> 7) & 1
        self.opCode = (byte3 >> 3) & 0xF
        self.auth = (byte3 >> 2) & 1
        self.trunc = (byte3 >> 1) & 1
        self.recDes = byte3 & 1
        self.recAv = (byte4 >> 7) & 1
        self.authenticData = (byte4 >> 5) & 1
        self.checkingDisabled = (byte4 >> 4) & 1
        self.rCode = byte4 & 0xF
        self.queries, self.answers, self.authority, self.additional = [], [], [], []
        pos = 12
        queries = self.queries
        cache: dict[int, tuple[bytes, int]] = {}
        for _ in range(qd):
            query, pos = _readQuery(data, pos, cache)
            queries.append(query)
        for count, section in ((an, self.answers), (ns, self.authority), (ar, self.additional)):
            for _ in range(count):
                rr, pos = _readRR(data, pos, cache)
                section.append(rr)
        if pos != len(data):
            raise DNSFormatError(f"{len(data) - pos} octets after the last record")

    def encode(self, strio: Any) -> None:
        """Write the message to the file-like ``strio``."""
        strio.write(self.toStr())

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read the message from ``strio`` (all that remains in it)."""
        self.fromStr(strio.read() if length is None else strio.read(length))

    def parseRecords(self, strio: Any) -> None:
        """Compatibility no-op: ``fromStr`` parses every section at once."""

    # -- comparison and display ------------------------------------------------

    _compare = ("id", "answer", "opCode", "recDes", "recAv", "auth", "rCode", "trunc",
                "maxSize", "authenticData", "checkingDisabled", "queries", "answers",
                "authority", "additional")  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message) or type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self._compare)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        flags = [f for f in ("answer", "auth", "trunc", "recDes", "recAv", "authenticData",
                             "checkingDisabled") if getattr(self, f)]  # fmt: skip
        return (
            f"<Message id={self.id} rCode={self.rCode} opCode={self.opCode} "
            f"flags={','.join(flags)} queries={self.queries} answers={self.answers} "
            f"authority={self.authority} additional={self.additional}>"
        )
