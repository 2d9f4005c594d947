"""
The client side of SOCKS 4, 4a and 5 as sans-IO state machines: each one
queues its request bytes, is fed the proxy's answers, and says when the
tunnel is open (or raises the proxy's refusal as an exception).

Private: :mod:`fw.protocols.socks` is the public module.

SOCKS 5: ``METHOD -> [LOGIN ->] REPLY -> ESTABLISHED``; SOCKS 4:
``REPLY -> ESTABLISHED``; any error moves to ``FAILED``.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from fw.protocols._socks_codec import (
    AuthMethod,
    Command,
    LoginAuthenticationFailed,
    MethodsNotAcceptedError,
    SOCKS4Reply,
    SOCKSError,
    SOCKSProtocolError,
    encodeAddress,
    errorForReply,
    parseAddress,
)

__all__ = [
    "ClientState",
    "Established",
    "SOCKS4ClientMachine",
    "SOCKS5ClientMachine",
    "normalizeMethods",
]


class ClientState(Enum):
    """Where a client-side SOCKS conversation is."""

    METHOD = "method"
    LOGIN = "login"
    REPLY = "reply"
    ESTABLISHED = "established"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Established:
    """
    The proxy granted the request.

    Attributes:
        host: the address the proxy reports as bound (its outgoing
            connection's local address, usually).
        port: its port.
        trailingData: bytes from the destination that came with the reply.
    """

    host: str
    port: int
    trailingData: bytes


def _asBytes(value: bytes | str, what: str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(data) > 255:
        raise ValueError(f"the {what} is longer than 255 bytes")
    return data


def normalizeMethods(
    methods: Mapping[str, Sequence[bytes | str]],
) -> tuple[bool, tuple[bytes, bytes] | None]:
    """
    Check a client endpoint's ``methods`` argument: ``{"anonymous": ()}``
    and/or ``{"login": (username, password)}``.

    Returns:
        ``(anonymous, login)``: whether to offer no authentication, and the
        credentials to offer (or ``None``).

    Raises:
        ValueError: an unknown method, a bad login, or no method at all.
    """
    anonymous = False
    login: tuple[bytes, bytes] | None = None
    for name, args in methods.items():
        if name == "anonymous":
            if tuple(args):
                raise ValueError("the 'anonymous' method takes no arguments")
            anonymous = True
        elif name == "login":
            values = tuple(args)
            if len(values) != 2:
                raise ValueError("the 'login' method takes (username, password)")
            login = (_asBytes(values[0], "username"), _asBytes(values[1], "password"))
        else:
            raise ValueError(f"unknown SOCKS 5 method {name!r} (use 'anonymous' or 'login')")
    if not anonymous and login is None:
        raise ValueError("no SOCKS 5 authentication method given")
    return anonymous, login


class _ClientMachine:
    version: int

    def __init__(self) -> None:
        self.state = ClientState.REPLY
        self._buffer = bytearray()
        self._outgoing = bytearray()

    def dataToSend(self) -> bytes:
        """The bytes queued for the proxy since the last call."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receiveData(self, data: bytes) -> Established | None:
        """
        Feed the proxy's bytes.

        Returns:
            :class:`Established` once the tunnel is open (the machine takes
            no more data after that), else ``None``.

        Raises:
            SOCKSError: the proxy refused (a :class:`SOCKSReplyError`,
                :class:`MethodsNotAcceptedError`,
                :class:`LoginAuthenticationFailed`) or broke the protocol
                (:class:`SOCKSProtocolError`).
            RuntimeError: the tunnel is open already, or the machine failed.
        """
        if self.state in (ClientState.ESTABLISHED, ClientState.FAILED):
            raise RuntimeError(f"no data is expected in state {self.state.name}")
        self._buffer += data
        try:
            return self._process()
        except SOCKSError:
            self.state = ClientState.FAILED
            self._buffer.clear()
            raise

    def _process(self) -> Established | None:
        raise NotImplementedError


class SOCKS5ClientMachine(_ClientMachine):
    """
    The client side of SOCKS 5: offer methods, log in if asked, request.

    Args:
        host: the destination: an IP literal, or a name the proxy resolves.
        port: the destination port.
        anonymous: offer "no authentication".
        login: offer username/password authentication with these.
        command: the command to request.

    Raises:
        ValueError: a bad host or port, or no method to offer.
    """

    version = 5

    def __init__(
        self,
        host: str,
        port: int,
        anonymous: bool = True,
        login: tuple[bytes, bytes] | None = None,
        command: Command = Command.CONNECT,
    ) -> None:
        super().__init__()
        self._request = bytes([5, command, 0]) + encodeAddress(host, port)
        methods = []
        if anonymous:
            methods.append(AuthMethod.NO_AUTHENTICATION)
        if login is not None:
            methods.append(AuthMethod.USERNAME_PASSWORD)
        if not methods:
            raise ValueError("no SOCKS 5 authentication method to offer")
        self._login = login
        self._methods = methods
        self.state = ClientState.METHOD
        # RFC 1928 section 3: VER NMETHODS METHODS
        self._outgoing += bytes([5, len(methods), *methods])

    def _process(self) -> Established | None:
        buf = self._buffer
        while True:
            if self.state is ClientState.METHOD:
                if len(buf) < 2:
                    return None
                version, method = buf[0], buf[1]
                del buf[:2]
                if version != 5:
                    raise SOCKSProtocolError(f"SOCKS version {version} in the method reply")
                if method == AuthMethod.NO_ACCEPTABLE_METHODS:
                    raise MethodsNotAcceptedError(
                        "the SOCKS proxy accepted none of the methods offered"
                    )
                if method not in self._methods:
                    raise SOCKSProtocolError(f"the proxy chose method {method}, never offered")
                if method == AuthMethod.USERNAME_PASSWORD:
                    assert self._login is not None
                    username, password = self._login
                    # RFC 1929 section 2: VER ULEN UNAME PLEN PASSWD
                    self._outgoing += (
                        bytes([1, len(username)]) + username + bytes([len(password)]) + password
                    )
                    self.state = ClientState.LOGIN
                else:
                    self._outgoing += self._request
                    self.state = ClientState.REPLY
            elif self.state is ClientState.LOGIN:
                if len(buf) < 2:
                    return None
                version, status = buf[0], buf[1]
                del buf[:2]
                if version != 1:
                    raise SOCKSProtocolError(f"username/password reply version {version}")
                if status != 0:
                    raise LoginAuthenticationFailed(status)
                self._outgoing += self._request
                self.state = ClientState.REPLY
            else:
                # RFC 1928 section 6: VER REP RSV ATYP BND.ADDR BND.PORT
                if len(buf) < 4:
                    return None
                if buf[0] != 5:
                    raise SOCKSProtocolError(f"SOCKS version {buf[0]} in the reply")
                if buf[1] != 0:
                    raise errorForReply(5, buf[1])
                parsed = parseAddress(buf, 3)
                if parsed is None:
                    return None
                _, host, port, end = parsed
                trailing = bytes(buf[end:])
                buf.clear()
                self.state = ClientState.ESTABLISHED
                return Established(host, port, trailing)


class SOCKS4ClientMachine(_ClientMachine):
    """
    The client side of SOCKS 4 (an IPv4 destination) and SOCKS 4a (a
    host name, which the proxy resolves).

    Args:
        host: an IPv4 literal or a host name.
        port: the destination port.
        userId: the user id to send.
        command: CONNECT or BIND.

    Raises:
        ValueError: an IPv6 destination (SOCKS 4 has none), a bad port, or
            a user id or name containing NUL.
    """

    version = 4

    def __init__(
        self, host: str, port: int, userId: bytes = b"", command: Command = Command.CONNECT
    ) -> None:
        super().__init__()
        if not 0 <= port <= 0xFFFF:
            raise ValueError(f"port {port} is out of range")
        if b"\x00" in userId:
            raise ValueError("a SOCKS 4 user id cannot contain NUL")
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            name = host.encode("idna")
            if not name or b"\x00" in name:
                raise ValueError(f"{host!r} is not a valid host name") from None
            request = struct.pack("!BBH", 4, command, port) + b"\x00\x00\x00\x01"
            request += userId + b"\x00" + name + b"\x00"
        else:
            if ip.version != 4:
                raise ValueError("SOCKS 4 cannot reach an IPv6 address")
            request = struct.pack("!BBH", 4, command, port) + ip.packed + userId + b"\x00"
        self._outgoing += request

    def _process(self) -> Established | None:
        # VN CD DSTPORT DSTIP
        buf = self._buffer
        if len(buf) < 8:
            return None
        if buf[0] != 0:
            raise SOCKSProtocolError(f"SOCKS 4 reply version {buf[0]}, not 0")
        if buf[1] != SOCKS4Reply.GRANTED:
            raise errorForReply(4, buf[1])
        (port,) = struct.unpack_from("!H", buf, 2)
        host = str(ipaddress.IPv4Address(bytes(buf[4:8])))
        trailing = bytes(buf[8:])
        buf.clear()
        self.state = ClientState.ESTABLISHED
        return Established(host, port, trailing)
