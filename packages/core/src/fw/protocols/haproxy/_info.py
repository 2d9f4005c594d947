"""
What a PROXY protocol header says: :class:`ProxyInfo`, its :class:`TLV`
extensions, and the TLV type numbers of the specification.

Private: :mod:`fw.protocols.haproxy` is the public module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fw.internet.address import IPv4Address, IPv6Address, UNIXAddress

__all__ = [
    "PP2_TYPE_ALPN",
    "PP2_TYPE_AUTHORITY",
    "PP2_TYPE_CRC32C",
    "PP2_TYPE_NETNS",
    "PP2_TYPE_NOOP",
    "PP2_TYPE_SSL",
    "PP2_TYPE_UNIQUE_ID",
    "TLV",
    "ProxyAddress",
    "ProxyInfo",
]

# TLV types, from section 2.2.1 of the PROXY protocol specification.
#: The application protocol negotiated (ALPN), as bytes.
PP2_TYPE_ALPN: Final = 0x01
#: The host name the client asked for (TLS SNI or HTTP ``Host``), UTF-8.
PP2_TYPE_AUTHORITY: Final = 0x02
#: A CRC-32C of the whole header; checked by the parser when present.
PP2_TYPE_CRC32C: Final = 0x03
#: Padding, to be ignored.
PP2_TYPE_NOOP: Final = 0x04
#: An opaque identifier of the connection (at most 128 bytes).
PP2_TYPE_UNIQUE_ID: Final = 0x05
#: TLS details: a client flags byte, a 4-byte verify result, then sub-TLVs.
PP2_TYPE_SSL: Final = 0x20
#: The network namespace the connection was accepted in, US-ASCII.
PP2_TYPE_NETNS: Final = 0x30

#: The address types a header can carry.
ProxyAddress = IPv4Address | IPv6Address | UNIXAddress


@dataclass(frozen=True, slots=True)
class TLV:
    """
    One type-length-value extension of a version 2 header.

    Attributes:
        type: the type number (see the ``PP2_TYPE_*`` constants).
        value: the value, as sent.
    """

    type: int
    value: bytes


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    """
    A parsed PROXY protocol header.

    ``source`` and ``destination`` are ``None`` when the header does not give
    the connection's addresses (v1 ``UNKNOWN``, v2 ``LOCAL`` or an
    unspecified family): the connection's own addresses are then the ones
    to use.

    Attributes:
        header: the header's bytes, as received.
        source: the original client's address, or ``None``.
        destination: the address the client connected to, or ``None``.
        tlvs: the version 2 extensions, in the order received.
        version: 1 (text) or 2 (binary).
    """

    header: bytes
    source: ProxyAddress | None
    destination: ProxyAddress | None
    tlvs: tuple[TLV, ...] = field(default=())
    version: int = 1

    def tlv(self, type: int) -> bytes | None:
        """The value of the first extension of ``type``, or ``None``."""
        for t in self.tlvs:
            if t.type == type:
                return t.value
        return None
