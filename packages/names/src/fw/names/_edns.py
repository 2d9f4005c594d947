"""
EDNS(0) (RFC 6891): the OPT pseudo-record as :class:`OPTHeader`, a message
that carries EDNS fields as attributes (:class:`EDNSMessage`, Twisted's
``_EDNSMessage``), and the options fw knows: client subnet (RFC 7871),
cookies (RFC 7873) and padding (RFC 7830).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fw.names import _dns_constants as c
from fw.names._dns_message import Message, Query, RRHeader
from fw.names._records_svcb import OPTVariableOption, Record_OPT
from fw.names.error import DNSFormatError

__all__ = [
    "OPTION_CLIENT_SUBNET", "OPTION_COOKIE", "OPTION_PADDING", "ClientSubnetOption",
    "CookieOption", "EDNSMessage", "OPTHeader", "OPTVariableOption", "PaddingOption",
]  # fmt: skip

OPTION_CLIENT_SUBNET = 8
OPTION_COOKIE = 10
OPTION_PADDING = 12

#: The UDP payload size fw advertises by default: RFC 9715 / DNS flag day 2020's 1232.
DEFAULT_UDP_PAYLOAD_SIZE = 1232


class OPTHeader:
    """
    An OPT pseudo-record's fields (RFC 6891 section 6.1.2-6.1.3).

    Args:
        udpPayloadSize: the largest UDP response the sender can take.
        extendedRCODE: the upper 8 bits of the 12-bit response code.
        version: the EDNS version (0).
        dnssecOK: the DO bit (RFC 3225).
        options: the options, as :class:`OPTVariableOption`.
    """

    def __init__(
        self,
        udpPayloadSize: int = 4096,
        extendedRCODE: int = 0,
        version: int = 0,
        dnssecOK: bool = False,
        options: list[OPTVariableOption] | None = None,
    ) -> None:
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCODE = extendedRCODE
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = list(options or [])

    name = b""
    type = c.OPT

    @property
    def ttl(self) -> int:
        """The OPT record's TTL field: extended rcode, version and flags."""
        return (self.extendedRCODE << 24) | (self.version << 16) | (0x8000 if self.dnssecOK else 0)

    def toRRHeader(self) -> RRHeader:
        """The OPT record as an ``RRHeader`` for a message's additional section."""
        return RRHeader(b"", c.OPT, self.udpPayloadSize, self.ttl, Record_OPT(self.options))

    @classmethod
    def fromRRHeader(cls, rrHeader: RRHeader) -> OPTHeader:
        """The fields of an OPT record read from the wire."""
        options = list(getattr(rrHeader.payload, "options", []))
        ttl = rrHeader.ttl
        return cls(
            udpPayloadSize=rrHeader.cls,
            extendedRCODE=ttl >> 24,
            version=(ttl >> 16) & 0xFF,
            dnssecOK=bool(ttl & 0x8000),
            options=options,
        )

    def encode(self, strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write the OPT record to ``strio``."""
        self.toRRHeader().encode(strio, None)

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read an OPT record from ``strio``."""
        from fw.names._dns_message import _readRR

        rr, after = _readRR(strio.getvalue(), strio.tell())
        if rr.type != c.OPT:
            raise DNSFormatError("not an OPT record")
        other = self.fromRRHeader(rr)
        self.__dict__.update(other.__dict__)
        strio.seek(after)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OPTHeader):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<OPTHeader udpPayloadSize={self.udpPayloadSize} "
            f"extendedRCODE={self.extendedRCODE} version={self.version} "
            f"dnssecOK={self.dnssecOK} options={self.options}>"
        )


class ClientSubnetOption:
    """
    The EDNS Client Subnet option (RFC 7871 section 6).

    Args:
        address: the client network, as text (``"192.0.2.0"``).
        sourcePrefixLength: how many leading bits of ``address`` matter.
        scopePrefixLength: set by servers in answers.
    """

    code = OPTION_CLIENT_SUBNET

    def __init__(self, address: str, sourcePrefixLength: int, scopePrefixLength: int = 0) -> None:
        self.address = ipaddress.ip_address(address)
        if sourcePrefixLength > self.address.max_prefixlen:
            raise ValueError("source prefix longer than the address")
        self.sourcePrefixLength = sourcePrefixLength
        self.scopePrefixLength = scopePrefixLength

    def toOption(self) -> OPTVariableOption:
        """The option in wire form; the address is cut to its prefix (section 6)."""
        family = 1 if self.address.version == 4 else 2
        octets = (self.sourcePrefixLength + 7) // 8
        packed = bytearray(self.address.packed[:octets])
        if self.sourcePrefixLength % 8 and packed:
            packed[-1] &= (0xFF << (8 - self.sourcePrefixLength % 8)) & 0xFF
        data = family.to_bytes(2, "big") + bytes([self.sourcePrefixLength, self.scopePrefixLength])
        return OPTVariableOption(self.code, data + bytes(packed))

    @classmethod
    def fromOption(cls, option: OPTVariableOption) -> ClientSubnetOption:
        """Read the option; raises :class:`DNSFormatError` if malformed."""
        data = option.data
        if len(data) < 4:
            raise DNSFormatError("client subnet option truncated")
        family = int.from_bytes(data[:2], "big")
        size = {1: 4, 2: 16}.get(family)
        if size is None:
            raise DNSFormatError(f"client subnet family {family} unknown")
        source, scope = data[2], data[3]
        address = data[4:]
        if source > size * 8 or len(address) != (source + 7) // 8:
            raise DNSFormatError("client subnet address length is wrong")
        packed = address + bytes(size - len(address))
        return cls(str(ipaddress.ip_address(packed)), source, scope)

    def __repr__(self) -> str:
        return (
            f"<ClientSubnetOption {self.address}/{self.sourcePrefixLength} "
            f"scope={self.scopePrefixLength}>"
        )


class CookieOption:
    """
    The DNS Cookie option (RFC 7873 section 4): an 8-octet client cookie and
    an optional 8-32 octet server cookie.
    """

    code = OPTION_COOKIE

    def __init__(self, clientCookie: bytes, serverCookie: bytes = b"") -> None:
        if len(clientCookie) != 8 or not (serverCookie == b"" or 8 <= len(serverCookie) <= 32):
            raise ValueError("cookie lengths: client 8 octets, server 8 to 32")
        self.clientCookie = clientCookie
        self.serverCookie = serverCookie

    def toOption(self) -> OPTVariableOption:
        """The option in wire form."""
        return OPTVariableOption(self.code, self.clientCookie + self.serverCookie)

    @classmethod
    def fromOption(cls, option: OPTVariableOption) -> CookieOption:
        """Read the option; raises :class:`DNSFormatError` if malformed (RFC 7873 5.2.2)."""
        try:
            return cls(option.data[:8], option.data[8:])
        except ValueError as e:
            raise DNSFormatError(str(e)) from e


class PaddingOption:
    """The Padding option (RFC 7830): ``length`` zero octets."""

    code = OPTION_PADDING

    def __init__(self, length: int) -> None:
        self.length = length

    def toOption(self) -> OPTVariableOption:
        """The option in wire form."""
        return OPTVariableOption(self.code, bytes(self.length))

    @classmethod
    def fromOption(cls, option: OPTVariableOption) -> PaddingOption:
        """Read the option."""
        return cls(len(option.data))

    @staticmethod
    def forBlock(messageSize: int, blockSize: int = 468) -> PaddingOption:
        """
        The padding that brings a message of ``messageSize`` octets (without
        the padding option's own 4-octet header) to a multiple of
        ``blockSize`` (RFC 8467 recommends 468 for queries, 128 from clients).
        """
        return PaddingOption(-(messageSize + 4) % blockSize)


class EDNSMessage:
    """
    A message whose EDNS fields are attributes rather than an OPT record in
    the additional section (Twisted's ``_EDNSMessage``).

    ``ednsVersion=None`` means no OPT record at all.  ``maxSize`` is both the
    UDP payload size advertised and the limit ``toStr`` truncates to; the OPT
    record always survives truncation.  ``rCode`` may be an extended (12-bit)
    response code.
    """

    compareAttributes = ("id", "answer", "opCode", "auth", "trunc", "recDes", "recAv",
                         "rCode", "ednsVersion", "dnssecOK", "authenticData",
                         "checkingDisabled", "maxSize", "options", "queries", "answers",
                         "authority", "additional")  # fmt: skip

    def __init__(
        self,
        id: int = 0,
        answer: bool = False,
        opCode: int = c.OP_QUERY,
        auth: bool = False,
        trunc: bool = False,
        recDes: bool = False,
        recAv: bool = False,
        rCode: int = 0,
        ednsVersion: int | None = 0,
        dnssecOK: bool = False,
        authenticData: bool = False,
        checkingDisabled: bool = False,
        maxSize: int = 512,
        queries: list[Query] | None = None,
        answers: list[RRHeader] | None = None,
        authority: list[RRHeader] | None = None,
        additional: list[RRHeader] | None = None,
        options: list[OPTVariableOption] | None = None,
    ) -> None:
        self.id = id
        self.answer = answer
        self.opCode = opCode
        self.auth = auth
        self.trunc = trunc
        self.recDes = recDes
        self.recAv = recAv
        self.rCode = rCode
        self.ednsVersion = ednsVersion
        self.dnssecOK = dnssecOK
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.maxSize = maxSize
        self.queries = list(queries or [])
        self.answers = list(answers or [])
        self.authority = list(authority or [])
        self.additional = list(additional or [])
        self.options = list(options or [])

    def addQuery(self, name: bytes | str, type: int = c.A, cls: int = c.IN) -> None:
        """Add a question."""
        self.queries.append(Query(name, type, cls))

    def _toMessage(self) -> tuple[Message, RRHeader | None]:
        m = Message(
            id=self.id, answer=self.answer, opCode=self.opCode, recDes=self.recDes,
            recAv=self.recAv, auth=self.auth, rCode=self.rCode & 0xF, trunc=self.trunc,
            maxSize=self.maxSize, authenticData=self.authenticData,
            checkingDisabled=self.checkingDisabled,
        )  # fmt: skip
        m.queries, m.answers, m.authority = self.queries, self.answers, self.authority
        m.additional = list(self.additional)
        opt = None
        if self.ednsVersion is not None:
            header = OPTHeader(
                udpPayloadSize=max(self.maxSize, 512), extendedRCODE=self.rCode >> 4,
                version=self.ednsVersion, dnssecOK=self.dnssecOK, options=self.options,
            )  # fmt: skip
            opt = header.toRRHeader()
            m.additional.append(opt)
        return m, opt

    def toStr(self) -> bytes:
        """The message in wire format, truncated to ``maxSize`` (TC set) if need be."""
        m, opt = self._toMessage()
        data = m._build(self.maxSize, keepLast=opt)
        self.trunc = bool(m.trunc)
        return data

    def encode(self, strio: Any) -> None:
        """Write the message to ``strio``."""
        strio.write(self.toStr())

    @classmethod
    def _fromMessage(cls, message: Message) -> EDNSMessage:
        additional: list[RRHeader] = []
        opts: list[RRHeader] = []
        for rr in message.additional:
            (opts if rr.type == c.OPT else additional).append(rr)
        new = cls(
            id=message.id, answer=bool(message.answer), opCode=message.opCode,
            auth=bool(message.auth), trunc=bool(message.trunc), recDes=bool(message.recDes),
            recAv=bool(message.recAv), rCode=message.rCode, ednsVersion=None,
            authenticData=bool(message.authenticData),
            checkingDisabled=bool(message.checkingDisabled), maxSize=message.maxSize,
            queries=message.queries, answers=message.answers, authority=message.authority,
            additional=additional,
        )  # fmt: skip
        if len(opts) > 1:
            # RFC 6891 section 6.1.1: more than one OPT record is a FORMERR.
            raise DNSFormatError("more than one OPT record")
        if opts:
            if opts[0].name.name:
                raise DNSFormatError("OPT record owner must be the root")
            header = OPTHeader.fromRRHeader(opts[0])
            new.ednsVersion = header.version
            new.dnssecOK = header.dnssecOK
            new.maxSize = header.udpPayloadSize
            new.rCode = (header.extendedRCODE << 4) | message.rCode
            new.options = header.options
        return new

    def fromStr(self, data: bytes) -> None:
        """Read the message from wire format; raises :class:`DNSFormatError` if malformed."""
        m = Message()
        try:
            m.fromStr(data)
        finally:
            self.id = m.id
            self.opCode = m.opCode
        self.__dict__.update(self._fromMessage(m).__dict__)

    def decode(self, strio: Any, length: int | None = None) -> None:
        """Read the message from ``strio``."""
        self.fromStr(strio.read() if length is None else strio.read(length))

    def option(self, code: int) -> OPTVariableOption | None:
        """The first option with ``code``, or ``None``."""
        for option in self.options:
            if option.code == code:
                return option
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EDNSMessage):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.compareAttributes)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<EDNSMessage id={self.id} rCode={self.rCode} ednsVersion={self.ednsVersion} "
            f"dnssecOK={self.dnssecOK} maxSize={self.maxSize} queries={self.queries} "
            f"answers={self.answers} authority={self.authority} additional={self.additional}>"
        )
