"""
The sans-IO part of fw.web.websocket: handshake checks and a frame-level
state machine over :mod:`wsproto` that reassembles fragmented messages
under a size limit.  Nothing here touches a socket, a reactor or a clock.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError

# RFC 6455 section 1.3: the fixed GUID appended to the client's key.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: Default limit on one reassembled message.  1 MiB holds any chat or RPC
#: message while bounding what one peer can make a server buffer.
DEFAULT_MAX_MESSAGE_SIZE = 1 << 20

#: Limit on the HTTP head of a handshake response the client reads; the
#: handshake answer is a handful of headers, 16 KiB is generous.
MAX_HANDSHAKE_SIZE = 16 * 1024


class CloseCode:
    """The RFC 6455 section 7.4.1 close status codes fw uses."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005
    ABNORMAL = 1006
    INVALID_PAYLOAD = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011


class WebSocketError(Exception):
    """Base error of fw.web.websocket."""


class HandshakeError(WebSocketError):
    """
    The opening handshake failed.

    Attributes:
        status: The HTTP status the server answers (or received), ``0`` if
            none applies.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class WebSocketProtocolError(WebSocketError):
    """The peer broke RFC 6455; ``code`` is the close code sent for it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def makeKey() -> bytes:
    """A fresh random ``Sec-WebSocket-Key`` value (16 random bytes, base64)."""
    return base64.b64encode(os.urandom(16))


def acceptFor(key: bytes) -> bytes:
    """The ``Sec-WebSocket-Accept`` value answering ``key`` (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key + _GUID, usedforsecurity=False).digest())


def _tokens(values: Iterable[bytes]) -> list[bytes]:
    return [t.strip().lower() for v in values for t in v.split(b",") if t.strip()]


@dataclass(frozen=True, slots=True)
class UpgradeRequest:
    """What a valid client handshake asked for."""

    key: bytes
    subprotocols: tuple[str, ...]
    origin: str | None


def checkUpgradeRequest(
    method: bytes,
    version: bytes,
    header: dict[bytes, list[bytes]],
) -> UpgradeRequest:
    """
    Validate a client's opening handshake (RFC 6455 section 4.2.1).

    Args:
        method: The request method.
        version: The HTTP version, e.g. ``b"HTTP/1.1"``.
        header: Lower-cased header names to their raw values.

    Raises:
        HandshakeError: with ``status`` 400 (or 405, or 426 for a wrong
            version) when the request is not a valid upgrade.
    """
    if method != b"GET":
        raise HandshakeError("WebSocket handshake must use GET", 405)
    if version != b"HTTP/1.1":
        raise HandshakeError("WebSocket handshake needs HTTP/1.1")
    if b"websocket" not in _tokens(header.get(b"upgrade", [])):
        raise HandshakeError("missing 'Upgrade: websocket'", 426)
    if b"upgrade" not in _tokens(header.get(b"connection", [])):
        raise HandshakeError("missing 'Connection: Upgrade'")
    versions = header.get(b"sec-websocket-version", [])
    if [v.strip() for v in versions] != [b"13"]:
        raise HandshakeError("unsupported Sec-WebSocket-Version", 426)
    keys = header.get(b"sec-websocket-key", [])
    if len(keys) != 1:
        raise HandshakeError("missing Sec-WebSocket-Key")
    key = keys[0].strip()
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise HandshakeError("malformed Sec-WebSocket-Key")
    offered = tuple(
        t.strip().decode("ascii", "replace")
        for v in header.get(b"sec-websocket-protocol", [])
        for t in v.split(b",")
        if t.strip()
    )
    origins = header.get(b"origin")
    origin = origins[0].decode("ascii", "replace") if origins else None
    return UpgradeRequest(key, offered, origin)


def selectSubprotocol(offered: Sequence[str], supported: Sequence[str]) -> str | None:
    """The first of the server's ``supported`` subprotocols the client offered."""
    for name in supported:
        if name in offered:
            return name
    return None


def clientHandshake(
    host: str,
    path: str,
    key: bytes,
    subprotocols: Sequence[str] = (),
    origin: str | None = None,
    extraHeaders: Sequence[tuple[bytes, bytes]] = (),
) -> bytes:
    """The bytes of a client opening handshake."""
    lines = [
        b"GET " + path.encode("ascii") + b" HTTP/1.1",
        b"Host: " + host.encode("idna"),
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + key,
        b"Sec-WebSocket-Version: 13",
    ]
    if subprotocols:
        lines.append(b"Sec-WebSocket-Protocol: " + ", ".join(subprotocols).encode("ascii"))
    if origin is not None:
        lines.append(b"Origin: " + origin.encode("ascii"))
    for name, value in extraHeaders:
        if b"\r" in name + value or b"\n" in name + value:
            raise ValueError("header contains a line break")
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def checkHandshakeResponse(head: bytes, key: bytes, subprotocols: Sequence[str]) -> str | None:
    """
    Validate a server's handshake answer (the head without the final blank
    line); return the chosen subprotocol.

    Raises:
        HandshakeError: the answer is not a valid 101 for ``key``; ``status``
            is the HTTP status received (0 if unparsable).
    """
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HandshakeError("malformed handshake response", 0)
    status = int(parts[1])
    if status != 101:
        raise HandshakeError(f"server answered {status} instead of 101", status)
    header: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise HandshakeError("malformed handshake header line", status)
        header.setdefault(name.strip().lower(), []).append(value.strip())
    if b"websocket" not in _tokens(header.get(b"upgrade", [])):
        raise HandshakeError("response lacks 'Upgrade: websocket'", status)
    if b"upgrade" not in _tokens(header.get(b"connection", [])):
        raise HandshakeError("response lacks 'Connection: Upgrade'", status)
    if header.get(b"sec-websocket-accept") != [acceptFor(key)]:
        raise HandshakeError("wrong Sec-WebSocket-Accept", status)
    if header.get(b"sec-websocket-extensions"):
        raise HandshakeError("server chose an extension that was not offered", status)
    chosen = header.get(b"sec-websocket-protocol")
    if not chosen:
        return None
    chosenName = chosen[0].decode("ascii", "replace")
    if len(chosen) != 1 or chosenName not in subprotocols:
        raise HandshakeError("server chose a subprotocol that was not offered", status)
    return chosenName


# -- frames ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A complete (reassembled) message."""

    data: str | bytes
    isBinary: bool


@dataclass(frozen=True, slots=True)
class PingReceived:
    """A ping; the pong has already been queued by the machine."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class PongReceived:
    """A pong."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer sent a close frame; the reply (if due) is already queued."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ProtocolFailed:
    """
    The peer broke the protocol; a close frame with ``code`` has been queued
    and the connection must be dropped after sending it.
    """

    code: int
    reason: str


Event = MessageReceived | PingReceived | PongReceived | CloseReceived | ProtocolFailed


class State(Enum):
    """Where a :class:`FrameMachine` is."""

    OPEN = "open"
    LOCAL_CLOSING = "local-closing"
    CLOSED = "closed"
    FAILED = "failed"


class FrameMachine:
    """
    Frames in, events out, for one side of an open WebSocket.

    Feed received bytes with :meth:`receiveData`; take the resulting events
    from its return value and the bytes to send from :meth:`dataToSend`.

    Args:
        isClient: ``True`` for the client side (which masks its frames).
        maxMessageSize: Largest reassembled message accepted, in bytes
            (UTF-8 bytes for text); larger ones fail the connection with
            close code 1009.
    """

    def __init__(self, isClient: bool, maxMessageSize: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        kind = ConnectionType.CLIENT if isClient else ConnectionType.SERVER
        self._conn = Connection(kind)
        self.maxMessageSize = maxMessageSize
        self._parts: list[bytes] = []
        self._size = 0
        self._binary = False
        self._out = bytearray()
        self.state = State.OPEN

    def dataToSend(self) -> bytes:
        """The bytes queued for the peer since the last call."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def _send(self, event: object) -> None:
        self._out += self._conn.send(event)  # type: ignore[arg-type]

    def sendMessage(self, data: str | bytes) -> None:
        """Queue a message: ``str`` goes as text, ``bytes`` as binary."""
        if self.state is not State.OPEN:
            raise WebSocketError("cannot send a message on a closing WebSocket")
        if isinstance(data, str):
            self._send(TextMessage(data=data))
        else:
            self._send(BytesMessage(data=bytes(data)))

    def ping(self, payload: bytes = b"") -> None:
        """Queue a ping (payload at most 125 bytes)."""
        if len(payload) > 125:
            raise ValueError("ping payload is limited to 125 bytes")
        if self.state is State.OPEN:
            self._send(Ping(payload=payload))

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        """Queue a close frame; a second call does nothing."""
        if self.state is not State.OPEN:
            return
        if len(reason.encode("utf-8")) > 123:
            raise ValueError("close reason is limited to 123 UTF-8 bytes")
        self._send(CloseConnection(code=code, reason=reason or None))
        self.state = State.LOCAL_CLOSING

    def _fail(self, code: int, reason: str) -> ProtocolFailed:
        if self._conn.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self._send(CloseConnection(code=code, reason=reason[:100] or None))
        self.state = State.FAILED
        self._parts.clear()
        return ProtocolFailed(code, reason)

    def receiveData(self, data: bytes) -> list[Event]:
        """Feed received bytes; return the events they complete."""
        if self.state in (State.CLOSED, State.FAILED) or not data:
            return []
        try:
            self._conn.receive_data(data)
        except LocalProtocolError:
            return []
        return list(self._events())

    def _events(self) -> Iterator[Event]:
        for event in self._conn.events():
            if isinstance(event, (TextMessage, BytesMessage)):
                isBinary = isinstance(event, BytesMessage)
                chunk = (
                    event.data.encode("utf-8") if isinstance(event, TextMessage) else event.data
                )
                self._binary = isBinary
                self._size += len(chunk)
                if self._size > self.maxMessageSize:
                    yield self._fail(
                        CloseCode.MESSAGE_TOO_BIG,
                        f"message larger than {self.maxMessageSize} bytes",
                    )
                    return
                self._parts.append(bytes(chunk))
                if event.message_finished:
                    whole = b"".join(self._parts)
                    self._parts.clear()
                    self._size = 0
                    if isBinary:
                        yield MessageReceived(whole, True)
                    else:
                        yield MessageReceived(whole.decode("utf-8"), False)
            elif isinstance(event, Ping):
                if self._conn.state is ConnectionState.OPEN:
                    self._send(event.response())
                yield PingReceived(bytes(event.payload))
            elif isinstance(event, Pong):
                yield PongReceived(bytes(event.payload))
            elif isinstance(event, CloseConnection):
                if self._conn.state is ConnectionState.OPEN:
                    # wsproto reports a parse failure as a close event
                    # without changing state: the peer is at fault.
                    yield self._fail(event.code, event.reason or "protocol error")
                    return
                if self._conn.state is ConnectionState.REMOTE_CLOSING:
                    code = event.code
                    if code == CloseCode.NO_STATUS:
                        self._send(CloseConnection(code=CloseCode.NORMAL))
                    else:
                        self._send(event.response())
                self.state = State.CLOSED
                yield CloseReceived(int(event.code), event.reason or "")
                return
