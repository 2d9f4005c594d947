"""
The server side of SOCKS 4, 4a and 5 as sans-IO state machines: fed the
client's bytes, they return events (credentials to check, a request to
decide), and turn the server's decisions into the bytes to send.

Private: :mod:`fw.protocols.socks` is the public module.

Each machine moves through :class:`ServerState`; the transitions are::

    SOCKS 5:  GREETING -> [AUTHENTICATING -> CHECKING ->] REQUEST -> DECIDING
    SOCKS 4:                                              REQUEST -> DECIDING
    DECIDING -> ESTABLISHED                 (CONNECT, UDP ASSOCIATE granted)
    DECIDING -> BINDING -> ESTABLISHED      (BIND: two replies)
    any state -> CLOSED                     (refusal or protocol violation)

Nothing but the methods below moves a machine; a method called in a state
not listed for it is the local side's mistake and raises ``RuntimeError``.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from fw.protocols._socks_codec import (
    MAX_DOMAIN_LENGTH,
    UNSPECIFIED,
    AddressType,
    AuthMethod,
    Command,
    Reply,
    SOCKS4Reply,
    SOCKSProtocolError,
    _decodeName,
    encodeAddress,
    parseAddress,
)

__all__ = [
    "DEFAULT_MAX_PENDING_DATA",
    "DEFAULT_MAX_USERID_LENGTH",
    "AuthenticationRequested",
    "CommandRequested",
    "Refused",
    "SOCKS4ServerMachine",
    "SOCKS5ServerMachine",
    "ServerEvent",
    "ServerState",
    "TunnelData",
]

# SOCKS 4 names no limit for the user id; 255 bytes is what SOCKS 5 allows a
# user name (RFC 1929), and keeps a whole request well under one TCP segment.
DEFAULT_MAX_USERID_LENGTH = 255

# Bytes a client may send after its request before the reply: data pipelined
# by an eager client (a TLS ClientHello, an HTTP request).  One 64 KiB read.
DEFAULT_MAX_PENDING_DATA = 65536


class ServerState(Enum):
    """Where a server-side SOCKS conversation is."""

    GREETING = "greeting"
    AUTHENTICATING = "authenticating"
    CHECKING = "checking"
    REQUEST = "request"
    DECIDING = "deciding"
    BINDING = "binding"
    ESTABLISHED = "established"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class AuthenticationRequested:
    """
    The client sent a username and password (RFC 1929); answer with
    :meth:`SOCKS5ServerMachine.authenticationResult`.
    """

    username: bytes
    password: bytes


@dataclass(frozen=True, slots=True)
class CommandRequested:
    """
    The client's request; answer with ``reply``.

    Attributes:
        version: 4 or 5.
        command: what the client asks for.
        host: an IPv4 or IPv6 literal, or a domain name to resolve (SOCKS 4a
            and SOCKS 5).
        port: the destination port.
        addressType: how ``host`` was given.
        userId: the SOCKS 4 user id (``b""`` for SOCKS 5).
    """

    version: int
    command: Command
    host: str
    port: int
    addressType: AddressType
    userId: bytes = b""


@dataclass(frozen=True, slots=True)
class TunnelData:
    """Bytes for the destination, received after the request."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """
    The machine refused the client on its own (no acceptable method, a
    command not allowed, an unknown address type); the refusal is queued
    in :meth:`dataToSend` and the machine is closed.
    """

    reason: str


ServerEvent = AuthenticationRequested | CommandRequested | TunnelData | Refused


class _ServerMachine:
    """What both versions share: buffers, states, and the reply step."""

    version: int

    def __init__(self, commands: Iterable[Command], maxPendingData: int) -> None:
        self.commands = frozenset(commands)
        self.maxPendingData = maxPendingData
        self.state = ServerState.REQUEST
        self.request: CommandRequested | None = None
        self._buffer = bytearray()
        self._outgoing = bytearray()

    def dataToSend(self) -> bytes:
        """The bytes queued for the client since the last call."""
        data = bytes(self._outgoing)
        self._outgoing.clear()
        return data

    def receiveData(self, data: bytes) -> list[ServerEvent]:
        """
        Feed the client's bytes; return the events they complete.

        Raises:
            SOCKSProtocolError: the client broke the protocol; the machine is
                closed, and any error reply is queued in :meth:`dataToSend`.
        """
        if self.state is ServerState.CLOSED:
            return []
        self._buffer += data
        return self._process()

    def _process(self) -> list[ServerEvent]:
        events: list[ServerEvent] = []
        try:
            while True:
                event = self._step()
                if event is None:
                    break
                events.append(event)
                if isinstance(event, Refused | TunnelData):
                    break
        except SOCKSProtocolError:
            self._close()
            raise
        return events

    def _step(self) -> ServerEvent | None:
        if self.state is ServerState.REQUEST:
            return self._parseRequest()
        if self.state is ServerState.ESTABLISHED:
            if not self._buffer:
                return None
            data = bytes(self._buffer)
            self._buffer.clear()
            return TunnelData(data)
        if self.state is not ServerState.CLOSED and len(self._buffer) > self.maxPendingData:
            raise SOCKSProtocolError(
                f"more than {self.maxPendingData} bytes sent before the reply"
            )
        return None

    def _parseRequest(self) -> ServerEvent | None:
        raise NotImplementedError

    def _close(self) -> None:
        self.state = ServerState.CLOSED
        self._buffer.clear()

    def _refuse(self, reply: bytes, reason: str) -> Refused:
        self._outgoing += reply
        self._close()
        return Refused(reason)

    def _expect(self, *states: ServerState) -> None:
        if self.state not in states:
            raise RuntimeError(f"not allowed in state {self.state.name}")

    def _encodeReply(self, code: int, host: str, port: int, version: int | None) -> bytes:
        raise NotImplementedError

    def _succeeded(self, code: int) -> bool:
        raise NotImplementedError

    def reply(
        self, code: int, host: str = UNSPECIFIED, port: int = 0, version: int | None = None
    ) -> list[ServerEvent]:
        """
        Answer the request (or, for BIND, report the incoming connection).

        A success moves to ``ESTABLISHED`` (or to ``BINDING`` after BIND's
        first reply) and returns the bytes the client sent meanwhile as a
        :class:`TunnelData`; a failure closes the machine.

        Args:
            code: a :class:`~fw.protocols.socks.Reply` (SOCKS 5) or
                :class:`~fw.protocols.socks.SOCKS4Reply` (SOCKS 4).
            host: the bound address (the outgoing connection's local address,
                or the listening port's, or BIND's peer).
            port: its port.
            version: the version byte of a SOCKS 4 reply (0, as the protocol
                says, by default).

        Raises:
            RuntimeError: there is no request waiting for a reply.
        """
        self._expect(ServerState.DECIDING, ServerState.BINDING)
        assert self.request is not None
        self._outgoing += self._encodeReply(code, host, port, version)
        if not self._succeeded(code):
            self._close()
            return []
        if self.state is ServerState.DECIDING and self.request.command is Command.BIND:
            self.state = ServerState.BINDING
            return []
        self.state = ServerState.ESTABLISHED
        return self._process()


class SOCKS5ServerMachine(_ServerMachine):
    """
    The server side of SOCKS 5 (RFC 1928) with username/password
    authentication (RFC 1929).

    Args:
        methods: the authentication methods the server accepts, preferred
            first; :attr:`AuthMethod.NO_AUTHENTICATION` and
            :attr:`AuthMethod.USERNAME_PASSWORD` are the ones it implements.
        commands: the commands the server carries out; others are refused
            with reply 7.
        maxPendingData: the most bytes buffered while a decision is pending.
    """

    version = 5

    def __init__(
        self,
        methods: Sequence[AuthMethod] = (AuthMethod.NO_AUTHENTICATION,),
        commands: Iterable[Command] = tuple(Command),
        maxPendingData: int = DEFAULT_MAX_PENDING_DATA,
    ) -> None:
        super().__init__(commands, maxPendingData)
        for method in methods:
            if method not in (AuthMethod.NO_AUTHENTICATION, AuthMethod.USERNAME_PASSWORD):
                raise ValueError(f"unsupported authentication method {method!r}")
        self.methods = tuple(methods)
        self.method: AuthMethod | None = None
        self.state = ServerState.GREETING

    def _step(self) -> ServerEvent | None:
        if self.state is ServerState.GREETING:
            return self._parseGreeting()
        if self.state is ServerState.AUTHENTICATING:
            return self._parseCredentials()
        return super()._step()

    def _parseGreeting(self) -> ServerEvent | None:
        # RFC 1928 section 3: VER NMETHODS METHODS
        buf = self._buffer
        if not buf:
            return None
        if buf[0] != 5:
            raise SOCKSProtocolError(f"SOCKS version {buf[0]} in the greeting, not 5")
        if len(buf) < 2 or len(buf) < 2 + buf[1]:
            return None
        offered = set(buf[2 : 2 + buf[1]])
        del buf[: 2 + buf[1]]
        for method in self.methods:
            if method in offered:
                self.method = method
                self._outgoing += bytes([5, method])
                if method is AuthMethod.USERNAME_PASSWORD:
                    self.state = ServerState.AUTHENTICATING
                else:
                    self.state = ServerState.REQUEST
                return self._step()
        return self._refuse(
            bytes([5, AuthMethod.NO_ACCEPTABLE_METHODS]),
            f"no acceptable authentication method among {sorted(offered)}",
        )

    def _parseCredentials(self) -> ServerEvent | None:
        # RFC 1929 section 2: VER ULEN UNAME PLEN PASSWD
        buf = self._buffer
        if not buf:
            return None
        if buf[0] != 1:
            self._outgoing += b"\x01\x01"
            raise SOCKSProtocolError(f"username/password version {buf[0]}, not 1")
        if len(buf) < 2:
            return None
        ulen = buf[1]
        if len(buf) < 3 + ulen:
            return None
        plen = buf[2 + ulen]
        end = 3 + ulen + plen
        if len(buf) < end:
            return None
        username = bytes(buf[2 : 2 + ulen])
        password = bytes(buf[3 + ulen : end])
        del buf[:end]
        self.state = ServerState.CHECKING
        return AuthenticationRequested(username, password)

    def authenticationResult(self, accepted: bool) -> list[ServerEvent]:
        """
        Answer the credentials: on success go on to the request; on failure
        queue the failure status and close (RFC 1929 section 2).

        Raises:
            RuntimeError: no credentials are waiting for a verdict.
        """
        self._expect(ServerState.CHECKING)
        if not accepted:
            self._outgoing += b"\x01\x01"
            self._close()
            return []
        self._outgoing += b"\x01\x00"
        self.state = ServerState.REQUEST
        return self._process()

    def _parseRequest(self) -> ServerEvent | None:
        # RFC 1928 section 4: VER CMD RSV ATYP DST.ADDR DST.PORT
        buf = self._buffer
        if not buf:
            return None
        if buf[0] != 5:
            self._outgoing += self._encodeReply(Reply.GENERAL_FAILURE, UNSPECIFIED, 0, None)
            raise SOCKSProtocolError(f"SOCKS version {buf[0]} in the request, not 5")
        if len(buf) < 4:
            return None
        if buf[3] not in tuple(AddressType):
            return self._refuse(
                self._encodeReply(Reply.ADDRESS_TYPE_NOT_SUPPORTED, UNSPECIFIED, 0, None),
                f"unknown address type {buf[3]}",
            )
        try:
            parsed = parseAddress(buf, 3)
        except SOCKSProtocolError:
            self._outgoing += self._encodeReply(Reply.GENERAL_FAILURE, UNSPECIFIED, 0, None)
            raise
        if parsed is None:
            return None
        kind, host, port, end = parsed
        code = buf[1]
        del buf[:end]
        if code not in tuple(Command) or Command(code) not in self.commands:
            return self._refuse(
                self._encodeReply(Reply.COMMAND_NOT_SUPPORTED, UNSPECIFIED, 0, None),
                f"command {code} is not supported",
            )
        self.state = ServerState.DECIDING
        self.request = CommandRequested(5, Command(code), host, port, kind)
        return self.request

    def _encodeReply(self, code: int, host: str, port: int, version: int | None) -> bytes:
        # RFC 1928 section 6: VER REP RSV ATYP BND.ADDR BND.PORT
        try:
            address = encodeAddress(host, port)
        except ValueError:
            address = encodeAddress(UNSPECIFIED, 0)
        return bytes([5, code, 0]) + address

    def _succeeded(self, code: int) -> bool:
        return code == Reply.SUCCEEDED


class SOCKS4ServerMachine(_ServerMachine):
    """
    The server side of SOCKS 4 and its 4a extension (a host name after the
    user id, flagged by a destination of ``0.0.0.x``).

    Args:
        commands: the commands the server carries out (CONNECT, BIND);
            others are refused with reply 91.
        maxUserIdLength: the longest user id accepted.
        maxHostnameLength: the longest SOCKS 4a host name accepted.
        maxPendingData: the most bytes buffered while a decision is pending.
    """

    version = 4

    def __init__(
        self,
        commands: Iterable[Command] = (Command.CONNECT, Command.BIND),
        maxUserIdLength: int = DEFAULT_MAX_USERID_LENGTH,
        maxHostnameLength: int = MAX_DOMAIN_LENGTH,
        maxPendingData: int = DEFAULT_MAX_PENDING_DATA,
    ) -> None:
        super().__init__(commands, maxPendingData)
        self.maxUserIdLength = maxUserIdLength
        self.maxHostnameLength = maxHostnameLength

    def _field(self, start: int, limit: int, what: str) -> int | None:
        """The index of the NUL ending a field at ``start``, or ``None`` if not yet here."""
        end = self._buffer.find(b"\x00", start, start + limit + 1)
        if end >= 0:
            return end
        if len(self._buffer) > start + limit:
            self._outgoing += self._encodeReply(SOCKS4Reply.REJECTED, UNSPECIFIED, 0, None)
            raise SOCKSProtocolError(f"the {what} is longer than {limit} bytes")
        return None

    def _parseRequest(self) -> ServerEvent | None:
        # VN CD DSTPORT DSTIP USERID NUL [HOST NUL]
        buf = self._buffer
        if not buf:
            return None
        if buf[0] != 4:
            raise SOCKSProtocolError(f"SOCKS version {buf[0]} in the request, not 4")
        if len(buf) < 8:
            return None
        userEnd = self._field(8, self.maxUserIdLength, "user id")
        if userEnd is None:
            return None
        userId = bytes(buf[8:userEnd])
        code, port = buf[1], struct.unpack_from("!H", buf, 2)[0]
        ip = bytes(buf[4:8])
        if ip[:3] == b"\x00\x00\x00" and ip[3] != 0:
            nameEnd = self._field(userEnd + 1, self.maxHostnameLength, "host name")
            if nameEnd is None:
                return None
            name = bytes(buf[userEnd + 1 : nameEnd])
            if not name:
                self._outgoing += self._encodeReply(SOCKS4Reply.REJECTED, UNSPECIFIED, 0, None)
                raise SOCKSProtocolError("empty SOCKS 4a host name")
            try:
                host = _decodeName(name)
            except SOCKSProtocolError:
                self._outgoing += self._encodeReply(SOCKS4Reply.REJECTED, UNSPECIFIED, 0, None)
                raise
            kind = AddressType.DOMAIN
            end = nameEnd + 1
        else:
            host = str(ipaddress.IPv4Address(ip))
            kind = AddressType.IPV4
            end = userEnd + 1
        del buf[:end]
        if code not in (Command.CONNECT, Command.BIND) or Command(code) not in self.commands:
            return self._refuse(
                self._encodeReply(SOCKS4Reply.REJECTED, UNSPECIFIED, 0, None),
                f"command {code} is not supported",
            )
        self.state = ServerState.DECIDING
        self.request = CommandRequested(4, Command(code), host, port, kind, userId)
        return self.request

    def _encodeReply(self, code: int, host: str, port: int, version: int | None) -> bytes:
        # VN CD DSTPORT DSTIP; an address that is not IPv4 is sent as 0.0.0.0
        try:
            packed = ipaddress.IPv4Address(host).packed
        except ValueError:
            packed = bytes(4)
        return struct.pack("!BBH", version or 0, code, port & 0xFFFF) + packed

    def _succeeded(self, code: int) -> bool:
        return code == SOCKS4Reply.GRANTED
