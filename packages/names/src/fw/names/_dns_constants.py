"""
DNS numbers: record types, classes, opcodes and response codes.

The values come from the IANA "Domain Name System (DNS) Parameters"
registry; the names are Twisted's (``A``, ``IN``, ``OP_QUERY``, ``ENAME``).
"""

from __future__ import annotations

__all__ = [
    "A6",
    "AAAA",
    "AFSDB",
    "ALL_RECORDS",
    "ANY",
    "AXFR",
    "CAA",
    "CH",
    "CNAME",
    "CS",
    "DNAME",
    "DNSKEY",
    "DS",
    "EBADVERSION",
    "EFORMAT",
    "ENAME",
    "ENOTIMP",
    "EREFUSED",
    "ESERVER",
    "EXT_QUERIES",
    "HINFO",
    "HS",
    "HTTPS",
    "IN",
    "IXFR",
    "MAILA",
    "MAILB",
    "MB",
    "MD",
    "MF",
    "MG",
    "MINFO",
    "MR",
    "MX",
    "NAPTR",
    "NS",
    "NSEC",
    "NSEC3",
    "NULL",
    "OK",
    "OPT",
    "OP_INVERSE",
    "OP_NOTIFY",
    "OP_QUERY",
    "OP_STATUS",
    "OP_UPDATE",
    "PORT",
    "PTR",
    "QUERY_CLASSES",
    "QUERY_TYPES",
    "REV_CLASSES",
    "REV_TYPES",
    "RP",
    "RRSIG",
    "SOA",
    "SPF",
    "SRV",
    "SSHFP",
    "SVCB",
    "TLSA",
    "TSIG",
    "TXT",
    "WKS",
    "A",
]  # fmt: skip

#: The well-known DNS port.
PORT = 53

(A, NS, MD, MF, CNAME, SOA, MB, MG, MR, NULL, WKS, PTR, HINFO, MINFO, MX, TXT) = range(1, 17)
RP = 17
AFSDB = 18
AAAA = 28
SRV = 33
NAPTR = 35
A6 = 38
DNAME = 39
OPT = 41
DS = 43
SSHFP = 44
RRSIG = 46
NSEC = 47
DNSKEY = 48
NSEC3 = 50
TLSA = 52
SVCB = 64
HTTPS = 65
SPF = 99
TSIG = 250
CAA = 257

# Query-only types (RFC 1035 section 3.2.3, RFC 1995).
IXFR = 251
AXFR = 252
MAILB = 253
MAILA = 254
ALL_RECORDS = 255

#: Record type numbers to their mnemonics.
QUERY_TYPES: dict[int, str] = {
    A: "A", NS: "NS", MD: "MD", MF: "MF", CNAME: "CNAME", SOA: "SOA", MB: "MB", MG: "MG",
    MR: "MR", NULL: "NULL", WKS: "WKS", PTR: "PTR", HINFO: "HINFO", MINFO: "MINFO", MX: "MX",
    TXT: "TXT", RP: "RP", AFSDB: "AFSDB", AAAA: "AAAA", SRV: "SRV", NAPTR: "NAPTR", A6: "A6",
    DNAME: "DNAME", OPT: "OPT", DS: "DS", SSHFP: "SSHFP", RRSIG: "RRSIG", NSEC: "NSEC",
    DNSKEY: "DNSKEY", NSEC3: "NSEC3", TLSA: "TLSA", SVCB: "SVCB", HTTPS: "HTTPS", SPF: "SPF",
    TSIG: "TSIG", CAA: "CAA",
}  # fmt: skip

#: Types that appear only in questions.
EXT_QUERIES: dict[int, str] = {
    IXFR: "IXFR", AXFR: "AXFR", MAILB: "MAILB", MAILA: "MAILA", ALL_RECORDS: "ALL_RECORDS",
}  # fmt: skip

#: Mnemonics (and ``ANY`` / ``*``) to type numbers.
REV_TYPES: dict[str, int] = {v: k for k, v in [*QUERY_TYPES.items(), *EXT_QUERIES.items()]}
REV_TYPES["ANY"] = ALL_RECORDS

IN, CS, CH, HS = range(1, 5)
ANY = 255

#: Class numbers to their mnemonics.
QUERY_CLASSES: dict[int, str] = {IN: "IN", CS: "CS", CH: "CH", HS: "HS", ANY: "ANY"}
REV_CLASSES: dict[str, int] = {v: k for k, v in QUERY_CLASSES.items()}

# Opcodes (RFC 1035 4.1.1, RFC 1996, RFC 2136).
OP_QUERY, OP_INVERSE, OP_STATUS = range(3)
OP_NOTIFY = 4
OP_UPDATE = 5

# Response codes (RFC 1035 4.1.1, RFC 6891 for BADVERS).
OK, EFORMAT, ESERVER, ENAME, ENOTIMP, EREFUSED = range(6)
EBADVERSION = 16


def typeToText(type: int) -> str:
    """The mnemonic for record type ``type``, or ``TYPEnnn`` (RFC 3597)."""
    name = QUERY_TYPES.get(type) or EXT_QUERIES.get(type)
    if name == "ALL_RECORDS":
        return "ANY"
    return name if name else f"TYPE{type}"


def textToType(text: str) -> int:
    """The type number for a mnemonic or ``TYPEnnn`` (RFC 3597); raises ``ValueError``."""
    upper = text.upper()
    if upper in REV_TYPES:
        return REV_TYPES[upper]
    if upper.startswith("TYPE") and upper[4:].isdigit():
        value = int(upper[4:])
        if value < 65536:
            return value
    raise ValueError(f"unknown record type {text!r}")


def classToText(cls: int) -> str:
    """The mnemonic for class ``cls``, or ``CLASSnnn`` (RFC 3597)."""
    return QUERY_CLASSES.get(cls) or f"CLASS{cls}"


def textToClass(text: str) -> int:
    """The class number for a mnemonic or ``CLASSnnn``; raises ``ValueError``."""
    upper = text.upper()
    if upper in REV_CLASSES:
        return REV_CLASSES[upper]
    if upper.startswith("CLASS") and upper[5:].isdigit():
        value = int(upper[5:])
        if value < 65536:
            return value
    raise ValueError(f"unknown class {text!r}")
