"""
The record types: one class per RR type, named as in Twisted
(``Record_A``, ``Record_MX``...), with ``UnknownRecord`` for the rest
(RFC 3597).  Names in rdata are compressed on output only for the types
RFC 3597 section 4 allows (those of RFC 1035); all are decompressed on input.
"""

from __future__ import annotations

import base64
import socket
from typing import Any, ClassVar, Self

from zope.interface import Attribute, Interface, implementer

from fw.names import _dns_constants as c
from fw.names._name import Name, readName, writeName
from fw.names._records_base import (
    B32HEX8,
    B64,
    B64_16,
    BITMAP,
    HEX,
    HEX8,
    IPV4,
    IPV6,
    NAME,
    NAME_NC,
    STRING,
    STRINGS,
    TIME,
    U8,
    U16,
    U32,
    U48,
    RecordBase,
    genericText,
    packAddress,
    quoteString,
    ttlOf,
    unescapeString,
)
from fw.names._records_base import (
    TYPE as TYPEKIND,
)
from fw.names.error import DNSFormatError

__all__ = [
    "RECORD_TYPES",
    "IEncodable",
    "IRecord",
    "Record_A",
    "Record_AAAA",
    "Record_AFSDB",
    "Record_CAA",
    "Record_CNAME",
    "Record_DNAME",
    "Record_DNSKEY",
    "Record_DS",
    "Record_HINFO",
    "Record_HTTPS",
    "Record_MB",
    "Record_MD",
    "Record_MF",
    "Record_MG",
    "Record_MINFO",
    "Record_MR",
    "Record_MX",
    "Record_NAPTR",
    "Record_NS",
    "Record_NSEC",
    "Record_NSEC3",
    "Record_NULL",
    "Record_OPT",
    "Record_PTR",
    "Record_RP",
    "Record_RRSIG",
    "Record_SOA",
    "Record_SPF",
    "Record_SRV",
    "Record_SSHFP",
    "Record_SVCB",
    "Record_TLSA",
    "Record_TSIG",
    "Record_TXT",
    "SimpleRecord",
    "UnknownRecord",
]  # fmt: skip


class IEncodable(Interface):
    """Something that can be written to and read from the wire."""

    def encode(strio: Any, compDict: dict[bytes, int] | None = None) -> None:
        """Write to the file-like ``strio``, compressing names with ``compDict``."""

    def decode(strio: Any, length: int | None = None) -> None:
        """Read from ``strio``, ``length`` octets if given."""


class IRecord(IEncodable):
    """The rdata of a resource record."""

    TYPE = Attribute("The record type number.")
    ttl = Attribute("The time to live, in seconds, or None.")


@implementer(IRecord)
class Record_A(RecordBase):
    """
    An IPv4 address (RFC 1035 section 3.4.1).  ``address`` holds the four
    packed octets; :meth:`dottedQuad` gives the text form.
    """

    TYPE = c.A
    fancybasename = "A"
    _fields = (("address", IPV4),)

    def __init__(
        self,
        address: str | bytes = "0.0.0.0",  # noqa: S104 (Twisted's default; not a bind)
        ttl: int | str | None = None,
    ) -> None:
        self.address = packAddress(socket.AF_INET, address)
        self.ttl = ttlOf(ttl)

    def dottedQuad(self) -> str:
        """The address as text."""
        return socket.inet_ntoa(self.address)

    def _encodeRdata(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        out += self.address

    @classmethod
    def _decodeRdata(cls, data: bytes, pos: int, end: int) -> Self:
        if end - pos != 4:
            raise DNSFormatError("A record data must be 4 octets")
        record = cls.__new__(cls)
        record.address = data[pos:end]
        record.ttl = None
        return record


@implementer(IRecord)
class Record_AAAA(RecordBase):
    """An IPv6 address (RFC 3596); ``address`` holds the 16 packed octets."""

    TYPE = c.AAAA
    fancybasename = "AAAA"
    _fields = (("address", IPV6),)

    def __init__(self, address: str | bytes = "::", ttl: int | str | None = None) -> None:
        self.address = packAddress(socket.AF_INET6, address)
        self.ttl = ttlOf(ttl)

    @classmethod
    def _decodeRdata(cls, data: bytes, pos: int, end: int) -> Self:
        if end - pos != 16:
            raise DNSFormatError("AAAA record data must be 16 octets")
        record = cls.__new__(cls)
        record.address = data[pos:end]
        record.ttl = None
        return record


class SimpleRecord(RecordBase):
    """A record whose rdata is one domain name (NS, CNAME, PTR...)."""

    _fields = (("name", NAME),)
    _compress: ClassVar[bool] = True

    def __init__(self, name: bytes | str | Name = b"", ttl: int | str | None = None) -> None:
        self.name = Name(name)
        self.ttl = ttlOf(ttl)

    def _encodeRdata(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        writeName(out, self.name.name, compDict if self._compress else None)

    @classmethod
    def _decodeRdata(cls, data: bytes, pos: int, end: int) -> Self:
        name, after = readName(data, pos)
        if after != end:
            raise DNSFormatError(f"{cls.fancybasename} record data length is wrong")
        record = cls.__new__(cls)
        record.name = Name(name)
        record.ttl = None
        return record


@implementer(IRecord)
class Record_NS(SimpleRecord):
    """An authoritative name server (RFC 1035 section 3.3.11)."""

    TYPE = c.NS
    fancybasename = "NS"


@implementer(IRecord)
class Record_CNAME(SimpleRecord):
    """The canonical name of an alias (RFC 1035 section 3.3.1)."""

    TYPE = c.CNAME
    fancybasename = "CNAME"


@implementer(IRecord)
class Record_PTR(SimpleRecord):
    """A pointer to another name, as in reverse lookups (RFC 1035 section 3.3.12)."""

    TYPE = c.PTR
    fancybasename = "PTR"


@implementer(IRecord)
class Record_DNAME(SimpleRecord):
    """Redirection of a whole subtree (RFC 6672); its name is not compressed."""

    TYPE = c.DNAME
    fancybasename = "DNAME"
    _compress = False
    _fields = (("name", NAME_NC),)


@implementer(IRecord)
class Record_MD(SimpleRecord):
    """A mail destination (obsolete, RFC 1035 section 3.3.4)."""

    TYPE = c.MD
    fancybasename = "MD"


@implementer(IRecord)
class Record_MF(SimpleRecord):
    """A mail forwarder (obsolete, RFC 1035 section 3.3.5)."""

    TYPE = c.MF
    fancybasename = "MF"


@implementer(IRecord)
class Record_MB(SimpleRecord):
    """A mailbox domain name (experimental, RFC 1035 section 3.3.3)."""

    TYPE = c.MB
    fancybasename = "MB"


@implementer(IRecord)
class Record_MG(SimpleRecord):
    """A mail group member (experimental, RFC 1035 section 3.3.6)."""

    TYPE = c.MG
    fancybasename = "MG"


@implementer(IRecord)
class Record_MR(SimpleRecord):
    """A mail rename domain name (experimental, RFC 1035 section 3.3.8)."""

    TYPE = c.MR
    fancybasename = "MR"


@implementer(IRecord)
class Record_SOA(RecordBase):
    """The start of a zone of authority (RFC 1035 section 3.3.13)."""

    TYPE = c.SOA
    fancybasename = "SOA"
    _fields = (("mname", NAME), ("rname", NAME), ("serial", U32), ("refresh", U32),
               ("retry", U32), ("expire", U32), ("minimum", U32))  # fmt: skip

    def __init__(
        self,
        mname: bytes | str | Name = b"",
        rname: bytes | str | Name = b"",
        serial: int = 0,
        refresh: int | str = 0,
        retry: int | str = 0,
        expire: int | str = 0,
        minimum: int | str = 0,
        ttl: int | str | None = None,
    ) -> None:
        self.mname, self.rname = Name(mname), Name(rname)
        self.serial = int(serial)
        self.refresh = ttlOf(refresh) or 0
        self.retry = ttlOf(retry) or 0
        self.expire = ttlOf(expire) or 0
        self.minimum = ttlOf(minimum) or 0
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_NULL(RecordBase):
    """Any octets (RFC 1035 section 3.3.10); presented in the generic form."""

    TYPE = c.NULL
    fancybasename = "NULL"
    _fields = (("payload", HEX),)

    def __init__(self, payload: bytes | None = None, ttl: int | str | None = None) -> None:
        self.payload = payload or b""
        self.ttl = ttlOf(ttl)

    def toText(self) -> str:
        """The generic ``\\# length hex`` form."""
        return genericText(self.payload)


@implementer(IRecord)
class Record_HINFO(RecordBase):
    """Host information: CPU and operating system (RFC 1035 section 3.3.2)."""

    TYPE = c.HINFO
    fancybasename = "HINFO"
    _fields = (("cpu", STRING), ("os", STRING))

    def __init__(self, cpu: bytes = b"", os: bytes = b"", ttl: int | str | None = None) -> None:
        self.cpu, self.os = cpu, os
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_MINFO(RecordBase):
    """Mailbox information (experimental, RFC 1035 section 3.3.7)."""

    TYPE = c.MINFO
    fancybasename = "MINFO"
    _fields = (("rmailbx", NAME), ("emailbx", NAME))

    def __init__(
        self,
        rmailbx: bytes | str | Name = b"",
        emailbx: bytes | str | Name = b"",
        ttl: int | str | None = None,
    ) -> None:
        self.rmailbx, self.emailbx = Name(rmailbx), Name(emailbx)
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_MX(RecordBase):
    """A mail exchange and its preference (RFC 1035 section 3.3.9)."""

    TYPE = c.MX
    fancybasename = "MX"
    _fields = (("preference", U16), ("name", NAME))

    def __init__(
        self, preference: int = 0, name: bytes | str | Name = b"", ttl: int | str | None = None
    ) -> None:
        self.preference = int(preference)
        self.name = Name(name)
        self.ttl = ttlOf(ttl)

    @property
    def exchange(self) -> Name:
        """The mail exchange (the same as ``name``)."""
        return self.name


def _strings(data: tuple[bytes | str, ...]) -> list[bytes]:
    return [d.encode("utf-8") if isinstance(d, str) else d for d in data]


@implementer(IRecord)
class Record_TXT(RecordBase):
    """Text: one or more character-strings (RFC 1035 section 3.3.14)."""

    TYPE = c.TXT
    fancybasename = "TXT"
    _fields = (("data", STRINGS),)

    def __init__(self, *data: bytes | str, ttl: int | str | None = None) -> None:
        self.data = _strings(data)
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_SPF(Record_TXT):
    """An SPF policy in its own type (RFC 4408, since obsoleted for TXT)."""

    TYPE = c.SPF
    fancybasename = "SPF"


@implementer(IRecord)
class Record_RP(RecordBase):
    """A responsible person: a mailbox and a TXT name (RFC 1183 section 2.2)."""

    TYPE = c.RP
    fancybasename = "RP"
    _fields = (("mbox", NAME_NC), ("txt", NAME_NC))

    def __init__(
        self, mbox: bytes | str | Name = b"", txt: bytes | str | Name = b"",
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.mbox, self.txt = Name(mbox), Name(txt)
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_AFSDB(RecordBase):
    """An AFS database location (RFC 1183 section 1)."""

    TYPE = c.AFSDB
    fancybasename = "AFSDB"
    _fields = (("subtype", U16), ("hostname", NAME_NC))

    def __init__(
        self, subtype: int = 0, hostname: bytes | str | Name = b"", ttl: int | str | None = None
    ) -> None:
        self.subtype = int(subtype)
        self.hostname = Name(hostname)
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_SRV(RecordBase):
    """The location of a service (RFC 2782); the target is never compressed."""

    TYPE = c.SRV
    fancybasename = "SRV"
    _fields = (("priority", U16), ("weight", U16), ("port", U16), ("target", NAME_NC))

    def __init__(
        self, priority: int = 0, weight: int = 0, port: int = 0,
        target: bytes | str | Name = b"", ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.priority, self.weight, self.port = int(priority), int(weight), int(port)
        self.target = Name(target)
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_NAPTR(RecordBase):
    """A naming authority pointer (RFC 3403 section 4.1)."""

    TYPE = c.NAPTR
    fancybasename = "NAPTR"
    _fields = (("order", U16), ("preference", U16), ("flags", STRING), ("service", STRING),
               ("regexp", STRING), ("replacement", NAME_NC))  # fmt: skip

    def __init__(
        self, order: int = 0, preference: int = 0, flags: bytes = b"", service: bytes = b"",
        regexp: bytes = b"", replacement: bytes | str | Name = b"", ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.order, self.preference = int(order), int(preference)
        self.flags, self.service, self.regexp = flags, service, regexp
        self.replacement = Name(replacement)
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_SSHFP(RecordBase):
    """An SSH host key fingerprint (RFC 4255)."""

    TYPE = c.SSHFP
    fancybasename = "SSHFP"
    _fields = (("algorithm", U8), ("fingerprintType", U8), ("fingerprint", HEX))

    ALGORITHM_RSA = 1
    ALGORITHM_DSS = 2
    ALGORITHM_ECDSA = 3
    ALGORITHM_Ed25519 = 4
    FINGERPRINT_TYPE_SHA1 = 1
    FINGERPRINT_TYPE_SHA256 = 2

    def __init__(
        self, algorithm: int = 0, fingerprintType: int = 0, fingerprint: bytes = b"",
        ttl: int | str | None = 0,
    ) -> None:  # fmt: skip
        self.algorithm, self.fingerprintType = int(algorithm), int(fingerprintType)
        self.fingerprint = fingerprint
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_CAA(RecordBase):
    """A certification authority authorization (RFC 8659)."""

    TYPE = c.CAA
    fancybasename = "CAA"
    _fields = (("flags", U8), ("tag", STRING), ("value", HEX))

    def __init__(
        self, flags: int = 0, tag: bytes = b"issue", value: bytes = b"",
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.flags, self.tag, self.value = int(flags), tag, value
        self.ttl = ttlOf(ttl)

    def _encodeRdata(self, out: bytearray, compDict: dict[bytes, int] | None) -> None:
        if not 0 < len(self.tag) <= 255:
            raise ValueError("a CAA tag needs 1 to 255 octets")
        super()._encodeRdata(out, compDict)

    def toText(self) -> str:
        """``flags tag "value"``."""
        return f"{self.flags} {self.tag.decode('ascii', 'replace')} {quoteString(self.value)}"

    @classmethod
    def _fromTokens(cls, tokens: list[str], origin: bytes) -> Self:
        if len(tokens) != 3:
            raise ValueError("CAA rdata is: flags tag value")
        return cls(U8.parse(tokens, origin), tokens[0].encode("ascii"), unescapeString(tokens[1]))


@implementer(IRecord)
class Record_TLSA(RecordBase):
    """A TLS certificate association (RFC 6698)."""

    TYPE = c.TLSA
    fancybasename = "TLSA"
    _fields = (("usage", U8), ("selector", U8), ("matchingType", U8),
               ("certificateAssociationData", HEX))  # fmt: skip

    def __init__(
        self, usage: int = 0, selector: int = 0, matchingType: int = 0,
        certificateAssociationData: bytes = b"", ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.usage, self.selector, self.matchingType = int(usage), int(selector), int(matchingType)
        self.certificateAssociationData = certificateAssociationData
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_DNSKEY(RecordBase):
    """A DNSSEC public key (RFC 4034 section 2)."""

    TYPE = c.DNSKEY
    fancybasename = "DNSKEY"
    _fields = (("flags", U16), ("protocol", U8), ("algorithm", U8), ("key", B64))

    def __init__(
        self, flags: int = 256, protocol: int = 3, algorithm: int = 0, key: bytes = b"",
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.flags, self.protocol, self.algorithm = int(flags), int(protocol), int(algorithm)
        self.key = key
        self.ttl = ttlOf(ttl)

    def keyTag(self) -> int:
        """The key tag (RFC 4034 appendix B) that DS and RRSIG records refer to."""
        rdata = self.toWire()
        total = 0
        for i, octet in enumerate(rdata):
            total += octet if i & 1 else octet << 8
        total += (total >> 16) & 0xFFFF
        return total & 0xFFFF


@implementer(IRecord)
class Record_DS(RecordBase):
    """A delegation signer: the digest of a child zone's key (RFC 4034 section 5)."""

    TYPE = c.DS
    fancybasename = "DS"
    _fields = (("keyTag", U16), ("algorithm", U8), ("digestType", U8), ("digest", HEX))

    def __init__(
        self, keyTag: int = 0, algorithm: int = 0, digestType: int = 0, digest: bytes = b"",
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.keyTag, self.algorithm, self.digestType = int(keyTag), int(algorithm), int(digestType)
        self.digest = digest
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_RRSIG(RecordBase):
    """A DNSSEC signature over an RRset (RFC 4034 section 3)."""

    TYPE = c.RRSIG
    fancybasename = "RRSIG"
    _fields = (("typeCovered", TYPEKIND), ("algorithm", U8), ("labels", U8), ("originalTTL", U32),
               ("expiration", TIME), ("inception", TIME), ("keyTag", U16),
               ("signersName", NAME_NC), ("signature", B64))  # fmt: skip

    def __init__(
        self, typeCovered: int = c.A, algorithm: int = 0, labels: int = 0, originalTTL: int = 0,
        expiration: int = 0, inception: int = 0, keyTag: int = 0,
        signersName: bytes | str | Name = b"", signature: bytes = b"",
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.typeCovered, self.algorithm, self.labels = typeCovered, algorithm, labels
        self.originalTTL, self.expiration, self.inception = originalTTL, expiration, inception
        self.keyTag = keyTag
        self.signersName = Name(signersName)
        self.signature = signature
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_NSEC(RecordBase):
    """Authenticated denial: the next name and the types here (RFC 4034 section 4)."""

    TYPE = c.NSEC
    fancybasename = "NSEC"
    _fields = (("nextDomainName", NAME_NC), ("types", BITMAP))

    def __init__(
        self, nextDomainName: bytes | str | Name = b"", types: list[int] | None = None,
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.nextDomainName = Name(nextDomainName)
        self.types = sorted(set(types or []))
        self.ttl = ttlOf(ttl)


@implementer(IRecord)
class Record_NSEC3(RecordBase):
    """Hashed authenticated denial (RFC 5155 section 3)."""

    TYPE = c.NSEC3
    fancybasename = "NSEC3"
    _fields = (("hashAlgorithm", U8), ("flags", U8), ("iterations", U16), ("salt", HEX8),
               ("nextHashedOwnerName", B32HEX8), ("types", BITMAP))  # fmt: skip

    def __init__(
        self, hashAlgorithm: int = 1, flags: int = 0, iterations: int = 0, salt: bytes = b"",
        nextHashedOwnerName: bytes = b"", types: list[int] | None = None,
        ttl: int | str | None = None,
    ) -> None:  # fmt: skip
        self.hashAlgorithm, self.flags, self.iterations = hashAlgorithm, flags, iterations
        self.salt, self.nextHashedOwnerName = salt, nextHashedOwnerName
        self.types = sorted(set(types or []))
        self.ttl = ttlOf(ttl)


_RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4,
           "REFUSED": 5, "YXDOMAIN": 6, "YXRRSET": 7, "NXRRSET": 8, "NOTAUTH": 9,
           "NOTZONE": 10, "DSOTYPENI": 11, "BADSIG": 16, "BADKEY": 17, "BADTIME": 18,
           "BADMODE": 19, "BADNAME": 20, "BADALG": 21, "BADTRUNC": 22,
           "BADCOOKIE": 23}  # fmt: skip
_RCODE_NAMES = {v: k for k, v in _RCODES.items()}
_RCODES["BADVERS"] = 16


def _rcodeText(value: int) -> str:
    return _RCODE_NAMES.get(value, str(value))


def _rcodeNumber(text: str) -> int:
    if text.isdigit():
        return int(text)
    try:
        return _RCODES[text.upper()]
    except KeyError:
        raise ValueError(f"unknown TSIG error {text!r}") from None


@implementer(IRecord)
class Record_TSIG(RecordBase):
    """A transaction signature (RFC 8945); it lives only in a message's additional section."""

    TYPE = c.TSIG
    fancybasename = "TSIG"
    _fields = (("algorithm", NAME_NC), ("timeSigned", U48), ("fudge", U16), ("MAC", B64_16),
               ("originalID", U16), ("error", U16), ("otherData", B64_16))  # fmt: skip

    def __init__(
        self, algorithm: bytes | str | Name | None = None, timeSigned: int | None = None,
        fudge: int = 5, originalID: int = 0, error: int = c.OK, otherData: bytes = b"",
        MAC: bytes = b"", ttl: int | str | None = 0,
    ) -> None:  # fmt: skip
        self.algorithm = Name(algorithm or b"")
        self.timeSigned = timeSigned or 0
        self.fudge, self.originalID, self.error = fudge, originalID, error
        self.otherData, self.MAC = otherData, MAC
        self.ttl = ttlOf(ttl)

    def toText(self) -> str:
        """``algorithm time fudge maclen mac id error otherlen [other]`` (as BIND shows it)."""
        mac = base64.b64encode(self.MAC).decode("ascii") if self.MAC else '""'
        parts = [self.algorithm.toText(), str(self.timeSigned), str(self.fudge),
                 str(len(self.MAC)), mac, str(self.originalID), _rcodeText(self.error),
                 str(len(self.otherData))]  # fmt: skip
        if self.otherData:
            parts.append(base64.b64encode(self.otherData).decode("ascii"))
        return " ".join(parts)

    @classmethod
    def _fromTokens(cls, tokens: list[str], origin: bytes) -> Self:
        if len(tokens) < 8:
            raise ValueError(
                "TSIG rdata is: algorithm time fudge maclen mac id error otherlen [other]"
            )
        algorithm = NAME_NC.parse(tokens, origin)
        timeSigned, fudge, macSize = int(tokens[0]), int(tokens[1]), int(tokens[2])
        macText = tokens[3]
        mac = b"" if macText in ('""', "-") else base64.b64decode(macText, validate=True)
        if len(mac) != macSize:
            raise ValueError("TSIG MAC length does not match")
        originalID, error, otherSize = int(tokens[4]), _rcodeNumber(tokens[5]), int(tokens[6])
        other = base64.b64decode("".join(tokens[7:]), validate=True) if otherSize else b""
        if len(other) != otherSize:
            raise ValueError("TSIG other data length does not match")
        return cls(algorithm, timeSigned, fudge, originalID, error, other, mac)


@implementer(IRecord)
class UnknownRecord(RecordBase):
    """
    A record of a type fw does not parse: its rdata kept as octets
    (RFC 3597), presented as ``\\# length hex``.
    """

    fancybasename = "UNKNOWN"
    _fields = (("data", HEX),)

    def __init__(self, data: bytes = b"", ttl: int | str | None = None) -> None:
        self.data = data
        self.ttl = ttlOf(ttl)

    def toText(self) -> str:
        """The generic ``\\# length hex`` form."""
        return genericText(self.data)

    @classmethod
    def _fromTokens(cls, tokens: list[str], origin: bytes) -> Self:
        raise ValueError("unknown record types take only the generic \\# form")


from fw.names._records_svcb import Record_HTTPS, Record_OPT, Record_SVCB  # noqa: E402

for _cls in (Record_SVCB, Record_HTTPS, Record_OPT):
    implementer(IRecord)(_cls)

#: Every record type fw parses, by type number.
RECORD_TYPES: dict[int, type[RecordBase]] = {
    cls.TYPE: cls
    for cls in (
        Record_A, Record_AAAA, Record_NS, Record_CNAME, Record_PTR, Record_DNAME, Record_MD,
        Record_MF, Record_MB, Record_MG, Record_MR, Record_SOA, Record_NULL, Record_HINFO,
        Record_MINFO, Record_MX, Record_TXT, Record_SPF, Record_RP, Record_AFSDB, Record_SRV,
        Record_NAPTR, Record_SSHFP, Record_CAA, Record_TLSA, Record_DNSKEY, Record_DS,
        Record_RRSIG, Record_NSEC, Record_NSEC3, Record_TSIG, Record_SVCB, Record_HTTPS,
        Record_OPT,
    )
}  # fmt: skip
