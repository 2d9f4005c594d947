"""
The sans-IO telnet codec: bytes in, events out (RFC 854, RFC 855).

:class:`TelnetDecoder` splits what the peer sends into application data,
commands (``IAC NOP``, ``IAC WILL ECHO``...) and subnegotiations
(``IAC SB NAWS ... IAC SE``), undoing the ``IAC IAC`` escape and the NVT
end-of-line conventions.  The ``encode*`` functions do the reverse.  Nothing
here touches a socket, a clock or a logger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from fw.protocols._telnet_constants import (
    IAC,
    NEGOTIATION_COMMANDS,
    SB,
    SE,
    SIMPLE_COMMANDS,
)
from fw.protocols._telnet_errors import TelnetProtocolError

__all__ = [
    "DEFAULT_MAX_SUBNEGOTIATION_SIZE",
    "CommandReceived",
    "DataReceived",
    "DecoderState",
    "SubnegotiationReceived",
    "TelnetDecoder",
    "TelnetEvent",
    "encodeCommand",
    "encodeData",
    "encodeSubnegotiation",
    "escapeIAC",
]

#: The longest subnegotiation payload (option byte included, after
#: unescaping) accepted from a peer.  The standard payloads are tiny (NAWS:
#: 4 bytes, TTYPE: at most 41 (RFC 1091), a LINEMODE SLC table: 3 bytes per
#: function, about 90); 4 KiB leaves room for NEW-ENVIRON variable lists
#: while bounding what a peer can make us buffer.
DEFAULT_MAX_SUBNEGOTIATION_SIZE = 4096

_IAC = IAC[0]
_SE = SE[0]
_SB = SB[0]
_CR = 0x0D
_LF = 0x0A
_NUL = 0x00
# The first byte of interest to the parser in NVT (non-binary) data.
_SPECIAL = re.compile(b"[\xff\r]")
_SIMPLE = frozenset(c[0] for c in SIMPLE_COMMANDS)
_NEGOTIATION = frozenset(c[0] for c in NEGOTIATION_COMMANDS)


@dataclass(frozen=True, slots=True)
class DataReceived:
    """
    Application data, unescaped: ``IAC IAC`` became one 255 byte, and (out
    of binary mode) ``CR LF`` became ``LF`` and ``CR NUL`` became ``CR``.
    """

    data: bytes


@dataclass(frozen=True, slots=True)
class CommandReceived:
    """
    A command: ``command`` is its byte (``WILL``, ``NOP``, ``AYT``...);
    ``argument`` the option byte of ``WILL``/``WONT``/``DO``/``DONT``,
    ``None`` for the others.
    """

    command: bytes
    argument: bytes | None


@dataclass(frozen=True, slots=True)
class SubnegotiationReceived:
    """``IAC SB option data IAC SE``, with ``data`` unescaped."""

    option: bytes
    data: bytes


TelnetEvent = DataReceived | CommandReceived | SubnegotiationReceived


class DecoderState(Enum):
    """Where the decoder is in the byte stream (values are Twisted's state names)."""

    DATA = "data"
    ESCAPED = "escaped"
    COMMAND = "command"
    NEWLINE = "newline"
    SUBNEGOTIATION = "subnegotiation"
    SUBNEGOTIATION_ESCAPED = "subnegotiation-escaped"
    ERROR = "error"


class TelnetDecoder:
    """
    Turns the bytes a telnet peer sends into :data:`TelnetEvent` values.

    Feed bytes with :meth:`receiveData` in pieces of any size, then call
    :meth:`nextEvent` until it returns ``None``.  Input may be split
    anywhere: an incomplete command or subnegotiation waits for the rest.
    Application data is delivered as soon as it is known, in as few events as
    possible.

    A peer's violation of the protocol (an ``IAC`` followed by a byte that is
    no command, a subnegotiation without an option or longer than
    ``maxSubnegotiationSize``, an ``IAC`` inside a subnegotiation followed by
    neither ``IAC`` nor ``SE``) raises :class:`TelnetProtocolError` from
    :meth:`nextEvent`, after the events that came before it; the decoder is
    then unusable and the connection should be closed.

    Attributes:
        binary: when true, the peer sends in binary mode (RFC 856): ``CR``
            is an ordinary byte.  Only ``IAC`` is special.
        maxSubnegotiationSize: the subnegotiation size limit.
    """

    def __init__(self, maxSubnegotiationSize: int = DEFAULT_MAX_SUBNEGOTIATION_SIZE) -> None:
        self.binary = False
        self.maxSubnegotiationSize = maxSubnegotiationSize
        self._state = DecoderState.DATA
        self._buffer = bytearray()
        self._pos = 0
        self._data = bytearray()
        self._command = 0
        self._sub = bytearray()
        self._pending: TelnetEvent | None = None
        self._error: TelnetProtocolError | None = None

    @property
    def state(self) -> DecoderState:
        """The decoder's current state."""
        return self._state

    def receiveData(self, data: bytes) -> None:
        """Add bytes received from the peer; :meth:`nextEvent` parses them."""
        if self._error is None:
            self._buffer += data

    def events(self) -> list[TelnetEvent]:
        """Return every event :meth:`nextEvent` can give now (it may raise as that does)."""
        found: list[TelnetEvent] = []
        while (event := self.nextEvent()) is not None:
            found.append(event)
        return found

    def _fail(self, message: str) -> TelnetProtocolError:
        self._state = DecoderState.ERROR
        self._buffer.clear()
        self._pos = 0
        self._sub.clear()
        self._error = TelnetProtocolError(message)
        return self._error

    def _flush(self, event: TelnetEvent) -> TelnetEvent:
        # Data parsed before ``event`` goes first.
        if self._data:
            self._pending = event
            return self._takeData()
        return event

    def _takeData(self) -> DataReceived:
        data = DataReceived(bytes(self._data))
        self._data.clear()
        return data

    def nextEvent(self) -> TelnetEvent | None:
        """
        Parse and return the next event, or ``None`` when more bytes are needed.

        Raises:
            TelnetProtocolError: the peer broke the protocol (again, on every
                later call).
        """
        if self._pending is not None:
            event, self._pending = self._pending, None
            return event
        if self._error is not None:
            raise self._error
        try:
            return self._parse()
        except TelnetProtocolError:
            # The data before the violation is still delivered, then the error.
            if self._data:
                return self._takeData()
            raise
        finally:
            if self._pos:
                del self._buffer[: self._pos]
                self._pos = 0

    def _parse(self) -> TelnetEvent | None:
        buf = self._buffer
        size = len(buf)
        pos = self._pos
        while pos < size:
            state = self._state
            if state is DecoderState.DATA:
                if self.binary:
                    end = buf.find(_IAC, pos)
                else:
                    match = _SPECIAL.search(buf, pos)
                    end = -1 if match is None else match.start()
                if end < 0:
                    self._data += buf[pos:]
                    pos = size
                    break
                self._data += buf[pos:end]
                self._state = DecoderState.ESCAPED if buf[end] == _IAC else DecoderState.NEWLINE
                pos = end + 1
            elif state is DecoderState.NEWLINE:
                # RFC 854: CR is followed by LF (end of line) or NUL (a bare CR).
                byte = buf[pos]
                if byte == _LF:
                    self._data.append(_LF)
                    self._state = DecoderState.DATA
                    pos += 1
                elif byte == _NUL:
                    self._data.append(_CR)
                    self._state = DecoderState.DATA
                    pos += 1
                elif byte == _CR:
                    # A CR on its own, then a new CR to interpret.
                    self._data.append(_CR)
                    pos += 1
                else:
                    # Not allowed, but most plainly read as a CR then that byte
                    # (which may be IAC, parsed as usual).
                    self._data.append(_CR)
                    self._state = DecoderState.DATA
            elif state is DecoderState.ESCAPED:
                byte = buf[pos]
                pos += 1
                if byte == _IAC:
                    self._data.append(_IAC)
                    self._state = DecoderState.DATA
                elif byte == _SB:
                    self._state = DecoderState.SUBNEGOTIATION
                elif byte in _NEGOTIATION:
                    self._command = byte
                    self._state = DecoderState.COMMAND
                elif byte in _SIMPLE:
                    self._state = DecoderState.DATA
                    self._pos = pos
                    return self._flush(CommandReceived(bytes([byte]), None))
                elif byte == _SE:
                    # SE outside a subnegotiation means nothing: ignored.
                    self._state = DecoderState.DATA
                else:
                    self._pos = pos
                    raise self._fail(
                        f"IAC followed by 0x{byte:02x}, which is not a telnet command"
                    )
            elif state is DecoderState.COMMAND:
                option = buf[pos]
                pos += 1
                self._state = DecoderState.DATA
                self._pos = pos
                return self._flush(CommandReceived(bytes([self._command]), bytes([option])))
            elif state is DecoderState.SUBNEGOTIATION:
                end = buf.find(_IAC, pos)
                stop = size if end < 0 else end
                self._sub += buf[pos:stop]
                if len(self._sub) > self.maxSubnegotiationSize:
                    self._pos = stop
                    raise self._fail(
                        f"subnegotiation longer than {self.maxSubnegotiationSize} bytes"
                    )
                if end < 0:
                    pos = size
                    break
                pos = end + 1
                self._state = DecoderState.SUBNEGOTIATION_ESCAPED
            else:  # SUBNEGOTIATION_ESCAPED
                byte = buf[pos]
                pos += 1
                if byte == _IAC:
                    self._sub.append(_IAC)
                    self._state = DecoderState.SUBNEGOTIATION
                    if len(self._sub) > self.maxSubnegotiationSize:
                        self._pos = pos
                        raise self._fail(
                            f"subnegotiation longer than {self.maxSubnegotiationSize} bytes"
                        )
                elif byte == _SE:
                    self._state = DecoderState.DATA
                    payload = bytes(self._sub)
                    self._sub.clear()
                    self._pos = pos
                    if not payload:
                        raise self._fail("subnegotiation without an option (IAC SB IAC SE)")
                    return self._flush(SubnegotiationReceived(payload[:1], payload[1:]))
                else:
                    self._pos = pos
                    raise self._fail(
                        f"IAC followed by 0x{byte:02x} inside a subnegotiation"
                        " (only IAC IAC and IAC SE are allowed)"
                    )
        self._pos = pos
        if self._data:
            return self._takeData()
        return None


# -- encoding -----------------------------------------------------------------

_NVT_NEWLINE = re.compile(b"\r\n|\r|\n")


def _nvtNewline(match: re.Match[bytes]) -> bytes:
    return b"\r\0" if match.group() == b"\r" else b"\r\n"


def escapeIAC(data: bytes) -> bytes:
    """Double every 255 byte, so that the peer reads it as data."""
    return data.replace(IAC, IAC + IAC)


def encodeData(data: bytes, binary: bool = False) -> bytes:
    """
    Encode application data for the wire.

    ``IAC`` is doubled.  Out of binary mode, ends of line follow the NVT
    rules of RFC 854: ``CR LF`` and a bare ``LF`` become ``CR LF``, a bare
    ``CR`` becomes ``CR NUL``.  A ``CR`` ending ``data`` is taken as bare.

    Args:
        data: the application's bytes.
        binary: this side sends in binary mode (RFC 856): only ``IAC`` is
            changed.
    """
    data = escapeIAC(data)
    if binary or (b"\r" not in data and b"\n" not in data):
        return data
    return _NVT_NEWLINE.sub(_nvtNewline, data)


def encodeCommand(command: bytes, option: bytes | None = None) -> bytes:
    """Return ``IAC command [option]``."""
    return IAC + command + (option or b"")


def encodeSubnegotiation(option: bytes, data: bytes) -> bytes:
    """
    Return ``IAC SB option data IAC SE``, with ``IAC`` doubled in ``data``
    (and in ``option``: option 255 is EXOPL, RFC 861).
    """
    return IAC + SB + escapeIAC(option + data) + IAC + SE
