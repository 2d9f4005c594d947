"""
PROXY protocol version 1: the human-readable header, a single line such as
``PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\\r\\n``.

Private: :mod:`fw.protocols.haproxy` is the public module.
"""

from __future__ import annotations

import ipaddress
from typing import ClassVar, Final

from fw.internet.address import IPv4Address, IPv6Address
from fw.protocols.haproxy._exceptions import (
    InvalidNetworkProtocol,
    InvalidProxyHeader,
    MissingAddressData,
)
from fw.protocols.haproxy._info import ProxyInfo

__all__ = ["V1Parser"]


class V1Parser:
    """
    A sans-IO parser of one version 1 header.

    Feed it the connection's first bytes, in pieces of any size, with
    :meth:`feed`; it answers once the header line is complete, with the
    parsed header and the bytes after it.  It rejects a header as soon as
    it can tell it is invalid, and never buffers more than
    :attr:`MAX_LENGTH` bytes.
    """

    #: The signature every version 1 header starts with.
    PREFIX: ClassVar[bytes] = b"PROXY "
    #: The longest header, CRLF included (section 2.1 of the specification:
    #: "a 108-byte buffer is always enough", 107 bytes plus a NUL).
    MAX_LENGTH: ClassVar[int] = 107

    _FAMILIES: Final = {b"TCP4": 4, b"TCP6": 6}

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> tuple[ProxyInfo | None, bytes]:
        """
        Add ``data`` to what was received.

        Returns:
            ``(info, rest)`` once the header is complete, ``rest`` being the
            bytes that follow it; ``(None, b"")`` while it is incomplete.

        Raises:
            InvalidProxyHeader: the bytes are not a valid header, or it is
                longer than :attr:`MAX_LENGTH`.
            InvalidNetworkProtocol: the family is not TCP4, TCP6 or UNKNOWN.
            MissingAddressData: addresses or ports are missing.
        """
        self.buffer += data
        buffer = self.buffer
        prefix = self.PREFIX
        if buffer[: len(prefix)] != prefix[: len(buffer)]:
            raise InvalidProxyHeader(
                f"a PROXY v1 header starts with {prefix!r}, not {buffer[: len(prefix)]!r}"
            )
        end = buffer.find(b"\n", 0, self.MAX_LENGTH)
        if end == -1:
            if len(buffer) >= self.MAX_LENGTH:
                raise InvalidProxyHeader(
                    f"no end of line in the first {self.MAX_LENGTH} bytes of a PROXY v1 header"
                )
            return None, b""
        line, rest = buffer[: end + 1], buffer[end + 1 :]
        self.buffer = b""
        return self.parse(line), rest

    @classmethod
    def parse(cls, line: bytes) -> ProxyInfo:
        """
        Parse one complete header line (CRLF included).

        Raises:
            InvalidProxyHeader: the line is not a valid header.
            InvalidNetworkProtocol: the family is not TCP4, TCP6 or UNKNOWN.
            MissingAddressData: addresses or ports are missing.
        """
        if len(line) > cls.MAX_LENGTH:
            raise InvalidProxyHeader(f"a PROXY v1 header is at most {cls.MAX_LENGTH} bytes")
        if not line.startswith(cls.PREFIX):
            raise InvalidProxyHeader(f"a PROXY v1 header starts with {cls.PREFIX!r}")
        if not line.endswith(b"\r\n") or b"\n" in line[:-1] or b"\r" in line[:-2]:
            raise InvalidProxyHeader("a PROXY v1 header is one line ending with CRLF")
        fields = line[len(cls.PREFIX) : -2].split(b" ")
        family = fields[0]
        if family == b"UNKNOWN":
            # Section 2.1: whatever follows UNKNOWN is ignored, and the
            # connection's own addresses are used.
            return ProxyInfo(line, None, None)
        version = cls._FAMILIES.get(family)
        if version is None:
            raise InvalidNetworkProtocol(
                f"unknown PROXY v1 family {family!r} (TCP4, TCP6 and UNKNOWN are defined)"
            )
        if len(fields) < 5:
            raise MissingAddressData(
                f"a {family.decode()} PROXY v1 header needs two addresses and two ports"
            )
        if len(fields) > 5:
            raise InvalidProxyHeader(
                "a PROXY v1 header has fields after the ports, or double spaces"
            )
        source = cls._address(version, fields[1], fields[3])
        destination = cls._address(version, fields[2], fields[4])
        return ProxyInfo(line, source, destination)

    @staticmethod
    def _address(version: int, host: bytes, port: bytes) -> IPv4Address | IPv6Address:
        try:
            text = host.decode("ascii")
            parsed = ipaddress.ip_address(text)
        except ValueError:
            raise InvalidProxyHeader(f"{host!r} is not an IP address") from None
        if parsed.version != version:
            raise InvalidProxyHeader(f"{host!r} is not an IPv{version} address")
        # Section 2.1: ports are decimal numbers from 0 to 65535.
        if not (port.isdigit() and 1 <= len(port) <= 5 and int(port) <= 65535):
            raise InvalidProxyHeader(f"{port!r} is not a port number")
        if version == 4:
            return IPv4Address("TCP", str(parsed), int(port))
        return IPv6Address("TCP", str(parsed), int(port))
