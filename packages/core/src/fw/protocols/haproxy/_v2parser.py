"""
PROXY protocol version 2: the binary header, with its type-length-value
extensions.

Private: :mod:`fw.protocols.haproxy` is the public module.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import ClassVar, Final, Literal

from fw.internet.address import IPv4Address, IPv6Address, UNIXAddress
from fw.protocols.haproxy._exceptions import (
    InvalidNetworkProtocol,
    InvalidProxyHeader,
    MissingAddressData,
)
from fw.protocols.haproxy._info import PP2_TYPE_CRC32C, TLV, ProxyAddress, ProxyInfo

__all__ = ["V2Parser", "crc32c"]


def _crcTable() -> tuple[int, ...]:
    # CRC-32C (Castagnoli), reflected polynomial 0x82F63B78 (RFC 3720, B.4).
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE: Final = _crcTable()


def crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) checksum of ``data``, as the PROXY protocol uses it."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class V2Parser:
    """
    A sans-IO parser of one version 2 header.

    Feed it the connection's first bytes, in pieces of any size, with
    :meth:`feed`; it answers once the whole header is in, with the parsed
    header and the bytes after it.  A header announcing more than
    ``maxLength`` bytes of addresses and extensions is refused at once, so
    the parser never buffers more than ``16 + maxLength`` bytes.

    Args:
        maxLength: the most bytes of addresses and extensions accepted.
    """

    #: The signature every version 2 header starts with (section 2.2).
    PREFIX: ClassVar[bytes] = b"\r\n\r\n\x00\r\nQUIT\n"
    #: The default ``maxLength``.  The wire allows 65535; the largest
    #: address block is 216 bytes (two UNIX paths), and the TLVs proxies
    #: send (ALPN, SNI, TLS details, unique IDs of at most 128 bytes, cloud
    #: endpoint IDs) fit in a few hundred more, so 4096 leaves room while
    #: bounding what a hostile header can make each connection hold.
    MAX_LENGTH: ClassVar[int] = 4096

    # Address family (high nibble of byte 14) -> address block length.
    _ADDRESS_LENGTHS: Final = {0x0: 0, 0x1: 12, 0x2: 36, 0x3: 216}
    _FAMILY_NAMES: Final = {0x0: "UNSPEC", 0x1: "INET", 0x2: "INET6", 0x3: "UNIX"}
    _TRANSPORTS: Final = {0x0: None, 0x1: "TCP", 0x2: "UDP"}

    def __init__(self, maxLength: int | None = None) -> None:
        self.maxLength = self.MAX_LENGTH if maxLength is None else maxLength
        self.buffer = b""

    def feed(self, data: bytes) -> tuple[ProxyInfo | None, bytes]:
        """
        Add ``data`` to what was received.

        Returns:
            ``(info, rest)`` once the header is complete, ``rest`` being the
            bytes that follow it; ``(None, b"")`` while it is incomplete.

        Raises:
            InvalidProxyHeader: the bytes are not a valid header, or it is
                longer than ``maxLength`` allows.
            InvalidNetworkProtocol: unknown address family or transport.
            MissingAddressData: too short for its family's addresses.
        """
        self.buffer += data
        buffer = self.buffer
        prefix = self.PREFIX
        if buffer[: len(prefix)] != prefix[: len(buffer)]:
            raise InvalidProxyHeader("the bytes received do not start with the PROXY v2 signature")
        if len(buffer) < 16:
            if len(buffer) >= 13:
                self._checkVersion(buffer[12])
            return None, b""
        self._checkVersion(buffer[12])
        (length,) = struct.unpack_from("!H", buffer, 14)
        if length > self.maxLength:
            raise InvalidProxyHeader(
                f"the PROXY v2 header announces {length} bytes of addresses and "
                f"extensions; at most {self.maxLength} are accepted"
            )
        if len(buffer) < 16 + length:
            return None, b""
        header, rest = buffer[: 16 + length], buffer[16 + length :]
        self.buffer = b""
        return self.parse(header, self.maxLength), rest

    @staticmethod
    def _checkVersion(byte: int) -> None:
        if byte >> 4 != 0x2:
            raise InvalidProxyHeader(f"PROXY protocol version {byte >> 4} is not 2")
        if byte & 0xF not in (0x0, 0x1):
            raise InvalidProxyHeader(f"PROXY v2 command {byte & 0xF} is neither LOCAL nor PROXY")

    @classmethod
    def parse(cls, header: bytes, maxLength: int | None = None) -> ProxyInfo:
        """
        Parse one complete header.

        Raises:
            InvalidProxyHeader: the bytes are not a valid header.
            InvalidNetworkProtocol: unknown address family or transport.
            MissingAddressData: too short for its family's addresses.
        """
        limit = cls.MAX_LENGTH if maxLength is None else maxLength
        if len(header) < 16 or not header.startswith(cls.PREFIX):
            raise InvalidProxyHeader("not a PROXY v2 header")
        cls._checkVersion(header[12])
        local = header[12] & 0xF == 0x0
        (length,) = struct.unpack_from("!H", header, 14)
        if length > limit:
            raise InvalidProxyHeader(f"PROXY v2 header longer than {limit} bytes")
        if len(header) != 16 + length:
            raise InvalidProxyHeader(
                f"the PROXY v2 header announces {length} bytes after its first 16, "
                f"but {len(header) - 16} are given"
            )
        familyNumber, transportNumber = header[13] >> 4, header[13] & 0xF
        if familyNumber not in cls._ADDRESS_LENGTHS:
            raise InvalidNetworkProtocol(f"unknown PROXY v2 address family {familyNumber}")
        if transportNumber not in cls._TRANSPORTS:
            raise InvalidNetworkProtocol(f"unknown PROXY v2 transport protocol {transportNumber}")
        block = header[16:]
        addressLength = cls._ADDRESS_LENGTHS[familyNumber]
        if len(block) < addressLength:
            if local:
                # Section 2.2: a LOCAL header's addresses are ignored anyway.
                return ProxyInfo(header, None, None, (), 2)
            raise MissingAddressData(
                f"a PROXY v2 {cls._FAMILY_NAMES[familyNumber]} header needs "
                f"{addressLength} bytes of addresses, not {len(block)}"
            )
        if familyNumber == 0x0:
            # Section 2.2: with an unspecified family the receiver ignores
            # the whole block, whatever it holds.
            return ProxyInfo(header, None, None, (), 2)
        tlvs = cls._parseTLVs(header, 16 + addressLength)
        source: ProxyAddress | None = None
        destination: ProxyAddress | None = None
        transport = cls._TRANSPORTS[transportNumber]
        # LOCAL (health checks from the proxy itself) and unspecified
        # families or transports mean: use the connection's own addresses.
        if not local and transport is not None:
            source, destination = cls._addresses(familyNumber, transport, block)
        return ProxyInfo(header, source, destination, tlvs, 2)

    @staticmethod
    def _addresses(family: int, transport: str, block: bytes) -> tuple[ProxyAddress, ProxyAddress]:
        kind: Literal["TCP", "UDP"] = "TCP" if transport == "TCP" else "UDP"
        if family == 0x1:
            src, dst, sport, dport = struct.unpack_from("!4s4sHH", block)
            return (
                IPv4Address(kind, str(ipaddress.IPv4Address(src)), sport),
                IPv4Address(kind, str(ipaddress.IPv4Address(dst)), dport),
            )
        if family == 0x2:
            src, dst, sport, dport = struct.unpack_from("!16s16sHH", block)
            return (
                IPv6Address(kind, str(ipaddress.IPv6Address(src)), sport),
                IPv6Address(kind, str(ipaddress.IPv6Address(dst)), dport),
            )
        return _unixPath(block[:108]), _unixPath(block[108:216])

    @staticmethod
    def _parseTLVs(header: bytes, offset: int) -> tuple[TLV, ...]:
        tlvs: list[TLV] = []
        end = len(header)
        while offset < end:
            if end - offset < 3:
                raise InvalidProxyHeader("a PROXY v2 extension (TLV) is cut short")
            kind = header[offset]
            (length,) = struct.unpack_from("!H", header, offset + 1)
            start = offset + 3
            if start + length > end:
                raise InvalidProxyHeader(
                    f"a PROXY v2 extension (TLV type {kind:#04x}) runs past the header"
                )
            value = header[start : start + length]
            if kind == PP2_TYPE_CRC32C:
                _checkCRC(header, start, value)
            tlvs.append(TLV(kind, value))
            offset = start + length
        return tuple(tlvs)


def _checkCRC(header: bytes, start: int, value: bytes) -> None:
    # Section 2.2.3: the checksum covers the whole header with the
    # checksum's own 4 bytes zeroed.
    if len(value) != 4:
        raise InvalidProxyHeader("a PROXY v2 CRC32C extension is 4 bytes long")
    zeroed = header[:start] + b"\x00\x00\x00\x00" + header[start + 4 :]
    (expected,) = struct.unpack("!I", value)
    if crc32c(zeroed) != expected:
        raise InvalidProxyHeader("the PROXY v2 header's CRC32C checksum does not match")


def _unixPath(raw: bytes) -> UNIXAddress:
    # 108 bytes, NUL-padded; a leading NUL is Linux's abstract namespace.
    if raw.startswith(b"\x00"):
        return UNIXAddress(raw.rstrip(b"\x00"))
    return UNIXAddress(raw.split(b"\x00", 1)[0])
