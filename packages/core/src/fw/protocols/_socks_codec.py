"""
SOCKS wire vocabulary shared by the client and the server: the numbers of
SOCKS 4 and 5 (RFC 1928, RFC 1929), the errors, and the encoding of
addresses and of UDP datagram headers.

Private: :mod:`fw.protocols.socks` is the public module.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

__all__ = [
    "MAX_DOMAIN_LENGTH",
    "UNSPECIFIED",
    "AddressNotSupported",
    "AddressType",
    "AuthMethod",
    "Command",
    "CommandNotSupported",
    "ConnectionNotAllowed",
    "ConnectionRefused",
    "HostUnreachable",
    "LoginAuthenticationFailed",
    "MethodsNotAcceptedError",
    "NetworkUnreachable",
    "Reply",
    "SOCKS4IdentdMismatch",
    "SOCKS4IdentdUnreachable",
    "SOCKS4Reply",
    "SOCKS4RequestRejected",
    "SOCKSError",
    "SOCKSProtocolError",
    "SOCKSReplyError",
    "ServerFailure",
    "TTLExpired",
    "UDPDatagram",
    "encodeAddress",
    "encodeUDPDatagram",
    "errorForReply",
    "parseAddress",
    "parseUDPDatagram",
]

# The address of a reply that has none to give.
UNSPECIFIED = "0.0.0.0"  # noqa: S104 - a wire value, not a bind address

# A domain name travels with a one-byte length (RFC 1928 section 5).
MAX_DOMAIN_LENGTH = 255


class AuthMethod(IntEnum):
    """SOCKS 5 authentication methods (RFC 1928 section 3)."""

    NO_AUTHENTICATION = 0x00
    GSSAPI = 0x01
    USERNAME_PASSWORD = 0x02
    NO_ACCEPTABLE_METHODS = 0xFF


class Command(IntEnum):
    """SOCKS request commands; SOCKS 4 uses the first two numbers too."""

    CONNECT = 0x01
    BIND = 0x02
    UDP_ASSOCIATE = 0x03


class AddressType(IntEnum):
    """SOCKS 5 address types (RFC 1928 section 5)."""

    IPV4 = 0x01
    DOMAIN = 0x03
    IPV6 = 0x04


class Reply(IntEnum):
    """SOCKS 5 reply codes (RFC 1928 section 6)."""

    SUCCEEDED = 0x00
    GENERAL_FAILURE = 0x01
    NOT_ALLOWED = 0x02
    NETWORK_UNREACHABLE = 0x03
    HOST_UNREACHABLE = 0x04
    CONNECTION_REFUSED = 0x05
    TTL_EXPIRED = 0x06
    COMMAND_NOT_SUPPORTED = 0x07
    ADDRESS_TYPE_NOT_SUPPORTED = 0x08


class SOCKS4Reply(IntEnum):
    """SOCKS 4 reply codes."""

    GRANTED = 90
    REJECTED = 91
    IDENTD_UNREACHABLE = 92
    IDENTD_MISMATCH = 93


# -- errors ----------------------------------------------------------------------


class SOCKSError(Exception):
    """The base of every SOCKS error."""


class SOCKSProtocolError(SOCKSError):
    """
    The peer broke the SOCKS protocol: a malformed, oversized or truncated
    message, or a message it should not have sent.
    """


class SOCKSReplyError(SOCKSError):
    """
    The proxy refused the request; :attr:`code` is its reply code.

    Attributes:
        code: the reply code from the wire (a :class:`Reply` for SOCKS 5,
            a :class:`SOCKS4Reply` for SOCKS 4, or an unknown number).
    """

    CODE: ClassVar[int] = -1
    MESSAGE: ClassVar[str] = "the SOCKS proxy refused the request"

    def __init__(self, code: int | None = None, message: str | None = None) -> None:
        self.code = self.CODE if code is None else code
        super().__init__(message or f"{self.MESSAGE} (reply code {self.code})")


class ServerFailure(SOCKSReplyError):
    """Reply 1: general SOCKS server failure."""

    CODE = Reply.GENERAL_FAILURE
    MESSAGE = "general SOCKS server failure"


class ConnectionNotAllowed(SOCKSReplyError):
    """Reply 2: the proxy's rules do not allow the connection."""

    CODE = Reply.NOT_ALLOWED
    MESSAGE = "connection not allowed by the proxy's rules"


class NetworkUnreachable(SOCKSReplyError):
    """Reply 3: the network is unreachable from the proxy."""

    CODE = Reply.NETWORK_UNREACHABLE
    MESSAGE = "network unreachable"


class HostUnreachable(SOCKSReplyError):
    """Reply 4: the host is unreachable from the proxy (or its name does not resolve)."""

    CODE = Reply.HOST_UNREACHABLE
    MESSAGE = "host unreachable"


class ConnectionRefused(SOCKSReplyError):
    """Reply 5: the destination refused the proxy's connection."""

    CODE = Reply.CONNECTION_REFUSED
    MESSAGE = "connection refused"


class TTLExpired(SOCKSReplyError):
    """Reply 6: the TTL expired (the proxy timed out connecting)."""

    CODE = Reply.TTL_EXPIRED
    MESSAGE = "TTL expired"


class CommandNotSupported(SOCKSReplyError):
    """Reply 7: the proxy does not support the command."""

    CODE = Reply.COMMAND_NOT_SUPPORTED
    MESSAGE = "command not supported"


class AddressNotSupported(SOCKSReplyError):
    """Reply 8: the proxy does not support the address type."""

    CODE = Reply.ADDRESS_TYPE_NOT_SUPPORTED
    MESSAGE = "address type not supported"


class SOCKS4RequestRejected(SOCKSReplyError):
    """SOCKS 4 reply 91: request rejected or failed."""

    CODE = SOCKS4Reply.REJECTED
    MESSAGE = "request rejected or failed"


class SOCKS4IdentdUnreachable(SOCKSReplyError):
    """SOCKS 4 reply 92: the proxy could not reach the client's identd."""

    CODE = SOCKS4Reply.IDENTD_UNREACHABLE
    MESSAGE = "request rejected: the proxy cannot reach the client's identd"


class SOCKS4IdentdMismatch(SOCKSReplyError):
    """SOCKS 4 reply 93: the client's identd reported a different user id."""

    CODE = SOCKS4Reply.IDENTD_MISMATCH
    MESSAGE = "request rejected: identd reports a different user id"


class MethodsNotAcceptedError(SOCKSError):
    """The SOCKS 5 proxy accepted none of the authentication methods offered."""


class LoginAuthenticationFailed(SOCKSError):
    """
    The SOCKS 5 proxy rejected the username and password (RFC 1929).

    Attributes:
        code: the status byte the proxy answered with (never 0).
    """

    def __init__(self, code: int) -> None:
        super().__init__(f"the SOCKS proxy rejected the username and password (status {code})")
        self.code = code


_ERRORS_5: dict[int, type[SOCKSReplyError]] = {
    cls.CODE: cls
    for cls in (
        ServerFailure,
        ConnectionNotAllowed,
        NetworkUnreachable,
        HostUnreachable,
        ConnectionRefused,
        TTLExpired,
        CommandNotSupported,
        AddressNotSupported,
    )
}
_ERRORS_4: dict[int, type[SOCKSReplyError]] = {
    cls.CODE: cls for cls in (SOCKS4RequestRejected, SOCKS4IdentdUnreachable, SOCKS4IdentdMismatch)
}


def errorForReply(version: int, code: int) -> SOCKSReplyError:
    """
    The exception for a failed reply: a subclass of :class:`SOCKSReplyError`
    named after ``code``, or :class:`SOCKSReplyError` itself for a code no
    RFC assigns.

    Args:
        version: 4 or 5.
        code: the reply code.
    """
    table = _ERRORS_5 if version == 5 else _ERRORS_4
    cls = table.get(code)
    if cls is None:
        return SOCKSReplyError(code)
    return cls()


# -- addresses -------------------------------------------------------------------


def encodeAddress(host: str, port: int) -> bytes:
    """
    ``ATYP ADDR PORT`` for ``host`` and ``port`` (RFC 1928 section 5): an
    IPv4 or IPv6 literal as such, anything else as an IDNA-encoded domain
    name (which the proxy resolves).

    Raises:
        ValueError: the port is out of range, or the name is empty or
            longer than 255 bytes once encoded.
    """
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"port {port} is out of range")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if ip.version == 4:
            return bytes([AddressType.IPV4]) + ip.packed + struct.pack("!H", port)
        return bytes([AddressType.IPV6]) + ip.packed + struct.pack("!H", port)
    try:
        name = host.encode("idna")
    except UnicodeError as e:
        raise ValueError(f"{host!r} is not a valid host name") from e
    if not 0 < len(name) <= MAX_DOMAIN_LENGTH:
        raise ValueError(f"host name {host!r} must be 1 to 255 bytes long")
    return bytes([AddressType.DOMAIN, len(name)]) + name + struct.pack("!H", port)


def parseAddress(data: bytes | bytearray, offset: int) -> tuple[AddressType, str, int, int] | None:
    """
    Parse ``ATYP ADDR PORT`` at ``offset`` in ``data``.

    Returns:
        ``(addressType, host, port, end)``, with ``end`` the offset just past
        the port; or ``None`` when ``data`` ends before the address does.
        A domain name is returned as text, decoded as ASCII.

    Raises:
        SOCKSProtocolError: an unknown address type, an empty domain name,
            or one that is not ASCII.
    """
    if len(data) <= offset:
        return None
    kind = data[offset]
    if kind == AddressType.IPV4:
        end = offset + 1 + 4
        if len(data) < end + 2:
            return None
        host = str(ipaddress.IPv4Address(bytes(data[offset + 1 : end])))
    elif kind == AddressType.IPV6:
        end = offset + 1 + 16
        if len(data) < end + 2:
            return None
        host = str(ipaddress.IPv6Address(bytes(data[offset + 1 : end])))
    elif kind == AddressType.DOMAIN:
        if len(data) < offset + 2:
            return None
        length = data[offset + 1]
        end = offset + 2 + length
        if length == 0:
            raise SOCKSProtocolError("empty domain name")
        if len(data) < end + 2:
            return None
        host = _decodeName(bytes(data[offset + 2 : end]))
    else:
        raise SOCKSProtocolError(f"unknown address type {kind}")
    (port,) = struct.unpack_from("!H", data, end)
    return AddressType(kind), host, port, end + 2


def _decodeName(name: bytes) -> str:
    """A domain name from the wire as text; only printable ASCII is accepted."""
    if not all(0x21 <= b < 0x7F for b in name):
        raise SOCKSProtocolError(f"domain name {name!r} is not printable ASCII")
    return name.decode("ascii")


# -- UDP ASSOCIATE datagrams (RFC 1928 section 7) --------------------------------


@dataclass(frozen=True, slots=True)
class UDPDatagram:
    """
    One datagram relayed by a SOCKS 5 UDP association.

    Attributes:
        host: the destination (from the client) or the source (to the client).
        port: its port.
        data: the payload.
        fragment: the fragment number; 0 for a whole datagram.
        addressType: how ``host`` was written.
    """

    host: str
    port: int
    data: bytes
    fragment: int = 0
    addressType: AddressType = AddressType.IPV4


def encodeUDPDatagram(host: str, port: int, data: bytes, fragment: int = 0) -> bytes:
    """``RSV FRAG ATYP ADDR PORT DATA``: ``data`` with the UDP request header."""
    if not 0 <= fragment <= 0xFF:
        raise ValueError(f"fragment {fragment} is out of range")
    return b"\x00\x00" + bytes([fragment]) + encodeAddress(host, port) + data


def parseUDPDatagram(datagram: bytes) -> UDPDatagram:
    """
    Split a relayed datagram into its header and payload.

    Raises:
        SOCKSProtocolError: the datagram is truncated or malformed.
    """
    if len(datagram) < 4:
        raise SOCKSProtocolError("UDP datagram shorter than its header")
    if datagram[0:2] != b"\x00\x00":
        raise SOCKSProtocolError("UDP datagram with non-zero reserved bytes")
    parsed = parseAddress(datagram, 3)
    if parsed is None:
        raise SOCKSProtocolError("UDP datagram truncated in its address")
    kind, host, port, end = parsed
    return UDPDatagram(host, port, datagram[end:], datagram[2], kind)
