"""
EDNS(0) for the server (RFC 6891): reading a query's OPT record, adding one
to the response, and fitting UDP responses to the client's payload size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fw.names import dns

__all__ = [
    "DEFAULT_EDNS_UDP_SIZE",
    "MIN_UDP_SIZE",
    "EDNSInfo",
    "ServerMessage",
    "ednsOf",
    "setBadVersion",
    "setResponseEDNS",
]

#: The UDP payload size the server advertises and the most it sends
#: (1232 octets: the 2020 DNS flag day's size, which avoids IP fragmentation
#: on IPv6's minimum MTU).
DEFAULT_EDNS_UDP_SIZE = 1232

#: The size every client accepts over UDP (RFC 1035 section 4.2.1); EDNS
#: sizes below it are treated as 512 (RFC 6891 section 6.2.3).
MIN_UDP_SIZE = 512

_DO = 0x8000


@dataclass(frozen=True, slots=True)
class EDNSInfo:
    """What a message's OPT record says: payload size, version, DO bit, and how many OPTs."""

    udpSize: int
    version: int
    dnssecOK: bool
    count: int = 1


def ednsOf(message: Any) -> EDNSInfo | None:
    """The EDNS information of ``message``, or ``None`` when it has no OPT record."""
    version: Any = getattr(message, "ednsVersion", _missing)
    if version is not _missing:
        if version is None:
            return None
        return EDNSInfo(
            max(MIN_UDP_SIZE, int(message.maxSize)), int(version), bool(message.dnssecOK)
        )
    opts = [rr for rr in message.additional if rr.type == dns.OPT]
    if not opts:
        return None
    rr = opts[0]
    return EDNSInfo(
        max(MIN_UDP_SIZE, rr.cls), (rr.ttl >> 16) & 0xFF, bool(rr.ttl & _DO), len(opts)
    )


_missing = object()


class ServerMessage(dns.Message):
    """
    A response that keeps its OPT record when cut down to ``maxSize``: the
    OPT goes last, and other records are left out before it is (RFC 6891
    section 7).
    """

    _queryEDNS: int | None = None

    def toStr(self) -> bytes:
        """The message in wire format, at most ``maxSize`` octets."""
        opt = next((rr for rr in self.additional if rr.type == dns.OPT), None)
        if opt is None:
            return super().toStr()
        return self._build(self.maxSize, keepLast=opt)


def setResponseEDNS(response: Any, query: Any, udpSize: int = DEFAULT_EDNS_UDP_SIZE) -> None:
    """
    When ``query`` used EDNS, add an OPT record to ``response`` (advertising
    ``udpSize`` and echoing the DO bit) and remember the client's payload size.
    """
    edns = ednsOf(query)
    if edns is None:
        return
    response._queryEDNS = edns.udpSize
    response.additional = [rr for rr in response.additional if rr.type != dns.OPT]
    response.additional.append(
        dns.RRHeader(b"", dns.OPT, udpSize, _DO if edns.dnssecOK else 0, dns.Record_OPT())
    )


def setBadVersion(response: Any) -> None:
    """Make ``response`` a BADVERS answer (RFC 6891 section 6.1.3): extended rcode 16."""
    response.rCode = dns.EBADVERSION & 0xF
    for rr in response.additional:
        if rr.type == dns.OPT:
            rr.ttl = ((dns.EBADVERSION >> 4) << 24) | (rr.ttl & 0xFFFF)
