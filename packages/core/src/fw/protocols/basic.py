"""
Basic framing protocols: lines, netstrings and length-prefixed strings.

These sit under most line- and message-based protocols.  Each is a thin
adapter over a sans-IO framer of :mod:`fw.protocols._basic_framing`
(:class:`LineFramer`, :class:`NetstringFramer`,
:class:`PrefixedStringFramer`, also exported here for direct use), and each
keeps its work linear in the bytes received however the stream is cut.

- :class:`LineReceiver`: lines, with a raw mode for binary bodies, pausing,
  and a line-length limit;
- :class:`LineOnlyReceiver`: lines only, slightly simpler;
- :class:`NetstringReceiver`: ``<length>:<data>,`` strings;
- :class:`Int8StringReceiver`, :class:`Int16StringReceiver`,
  :class:`Int32StringReceiver`: strings after a binary length;
- :class:`FileSender`: streams a file to a consumer as a pull producer;
- :class:`StatefulStringProtocol`: dispatches strings to ``proto_<state>``.

A line protocol's calls come in this order::

    connectionMade -> (lineReceived | rawDataReceived | lineLengthExceeded)*
        -> connectionLost
"""

from __future__ import annotations

import struct
from typing import IO, TYPE_CHECKING, Any, ClassVar

from zope.interface import implementer

from fw.internet._interfaces_core import IConsumer, IPullProducer
from fw.internet.defer import Deferred
from fw.internet.protocol import Protocol
from fw.logger import _loggerFor
from fw.protocols._basic_framing import (
    FramingError,
    LengthLimitError,
    LineFramer,
    LineTooLongError,
    NetstringFramer,
    NetstringParseError,
    PrefixedStringFramer,
    StringTooLongError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "COMMA",
    "DATA",
    "LENGTH",
    "FileSender",
    "FramingError",
    "IncompleteNetstring",
    "Int8StringReceiver",
    "Int16StringReceiver",
    "Int32StringReceiver",
    "IntNStringReceiver",
    "LengthLimitError",
    "LineFramer",
    "LineOnlyReceiver",
    "LineReceiver",
    "LineTooLongError",
    "NetstringFramer",
    "NetstringParseError",
    "NetstringReceiver",
    "PrefixedStringFramer",
    "StatefulStringProtocol",
    "StringTooLongError",
]

# The states of Twisted's netstring parser, kept as names for code that
# imports them.
LENGTH, DATA, COMMA = 0, 1, 2


class IncompleteNetstring(Exception):
    """Not enough data yet to complete a netstring (kept for Twisted compatibility)."""


class _PauseableMixin:
    """Pausing a receiver stops delivery and pauses its transport."""

    paused: bool = False
    transport: Any

    def pauseProducing(self) -> None:
        """Stop delivering data, and pause the transport."""
        self.paused = True
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        """Deliver what was held back, and resume the transport."""
        self.paused = False
        self.transport.resumeProducing()
        self.dataReceived(b"")

    def stopProducing(self) -> None:
        """Stop delivering data for good, and stop the transport."""
        self.paused = True
        self.transport.stopProducing()

    def dataReceived(self, data: bytes) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


# -- lines -------------------------------------------------------------------


class LineOnlyReceiver(Protocol):
    """
    A protocol that receives lines only, ended by :attr:`delimiter`.

    Simpler than :class:`LineReceiver`: no raw mode, no pausing.  Lines stop
    being delivered once the transport is disconnecting.

    Attributes:
        delimiter: the line terminator.
        MAX_LENGTH: the longest line accepted; a longer one goes to
            :meth:`lineLengthExceeded` (16 KiB, Twisted's default: far more
            than any text protocol's command line needs).
    """

    delimiter: bytes = b"\r\n"
    MAX_LENGTH: int = 16384
    _framer: LineFramer | None = None

    def dataReceived(self, data: bytes) -> Any:
        """Split ``data`` into lines and pass each to :meth:`lineReceived`."""
        framer = self._framer
        if framer is None:
            framer = self._framer = LineFramer(self.delimiter, self.MAX_LENGTH)
        delimiter = self.delimiter
        if framer._splitWith is not delimiter:
            framer.delimiter = delimiter
        transport: Any = self.transport
        if not framer._parts and not framer._lines:
            # The common case, nothing buffered: one line, or a chunk of whole lines.
            lines = data.split(delimiter)
            tail = lines.pop()
            if tail:
                framer.feed(tail)
        else:
            framer.feed(data)
            lines = framer.takeLines()
        maxLength = self.MAX_LENGTH
        for line in lines:
            if transport is not None and transport.disconnecting:
                return None
            if len(line) > maxLength:
                return self.lineLengthExceeded(line)
            self.lineReceived(line)
        if framer._partsLength > maxLength:
            return self.lineLengthExceeded(framer.tail())
        return None

    def lineReceived(self, line: bytes) -> None:
        """Override: one line arrived, without its delimiter."""
        raise NotImplementedError

    def sendLine(self, line: bytes) -> None:
        """Send ``line`` followed by :attr:`delimiter`."""
        assert self.transport is not None
        self.transport.writeSequence((line, self.delimiter))

    def lineLengthExceeded(self, line: bytes) -> Any:
        """
        A line longer than :attr:`MAX_LENGTH` arrived (``line`` is the line,
        or the unterminated data).  The default closes the connection.
        """
        assert self.transport is not None
        return self.transport.loseConnection()


class LineReceiver(Protocol, _PauseableMixin):
    """
    A protocol that receives lines, and can switch to raw data and back.

    In line mode each line, without its :attr:`delimiter`, goes to
    :meth:`lineReceived`; after :meth:`setRawMode` everything received goes
    to :meth:`rawDataReceived` until :meth:`setLineMode`, which may be given
    the raw data not consumed so that it is parsed as lines again.  A switch
    made inside a callback applies to the rest of the data already
    received.  Lines stop being delivered once the transport is
    disconnecting, when :meth:`lineReceived` returns a true value, and while
    :attr:`paused` (see :meth:`pauseProducing`).

    The :attr:`delimiter` and :attr:`MAX_LENGTH` may be changed at any time,
    also from a callback.

    Attributes:
        delimiter: the line terminator.
        MAX_LENGTH: the longest line accepted: a longer one, or unterminated
            data of at least ``MAX_LENGTH + len(delimiter)`` bytes, goes to
            :meth:`lineLengthExceeded` (16 KiB by default, as in Twisted).
        line_mode: true in line mode, false in raw mode.
        paused: true while paused.
    """

    line_mode: int = 1
    delimiter: bytes = b"\r\n"
    MAX_LENGTH: int = 16384
    _busyReceiving: bool = False
    _framer: LineFramer | None = None

    def clearLineBuffer(self) -> bytes:
        """Drop and return all data received and not yet delivered."""
        framer = self._framer
        if framer is None:
            return b""
        return framer.takeRest()

    def dataReceived(self, data: bytes) -> Any:
        """
        Deliver ``data`` as lines or raw data, according to the mode.

        Returns:
            The true value a :meth:`lineReceived` or :meth:`rawDataReceived`
            returned, if one did (delivery stops there); else ``None``.
        """
        framer = self._framer
        if framer is None:
            framer = self._framer = LineFramer(self.delimiter, self.MAX_LENGTH)
        if self._busyReceiving:
            # Called from a callback: deliver after what is already buffered.
            framer.feed(data)
            return None
        lines = framer._lines
        if lines or framer._parts or self.paused:
            framer.feed(data)
        elif self.line_mode:
            delimiter = self.delimiter
            if framer._splitWith is delimiter:
                end = len(data) - len(delimiter)
                if data.find(delimiter) == end and 0 <= end <= self.MAX_LENGTH:
                    # The commonest case: exactly one whole line, nothing buffered.
                    self._busyReceiving = True
                    try:
                        why = self.lineReceived(data[:end])
                        if why:
                            return why
                        if not (lines or framer._parts) or self.paused:
                            return None
                        transport: Any = self.transport
                        if transport is not None and transport.disconnecting:
                            return None
                        return self._deliver(framer, lines)
                    finally:
                        self._busyReceiving = False
            framer.feed(data)
        elif data:
            # Raw mode with nothing buffered: straight through.
            self._busyReceiving = True
            try:
                why = self.rawDataReceived(data)
                if why or self.paused:
                    return why
                return self._deliver(framer, lines)
            finally:
                self._busyReceiving = False
        else:
            return None
        self._busyReceiving = True
        try:
            return self._deliver(framer, lines)
        finally:
            self._busyReceiving = False

    def _deliver(self, framer: LineFramer, lines: list[bytes]) -> Any:
        # The hot loop: one pop per line; the state a callback can change is
        # checked after each one.  ``lines`` is framer._lines, mutated only
        # in place.
        pop = lines.pop
        delimiter = framer._splitWith
        while not self.paused:
            if self.line_mode:
                if self.delimiter is not delimiter:
                    framer.delimiter = delimiter = self.delimiter
                if lines:
                    line = pop()
                    if len(line) > self.MAX_LENGTH:
                        return self.lineLengthExceeded(line + delimiter + framer.takeRest())
                    why = self.lineReceived(line)
                    if why:
                        return why
                    transport: Any = self.transport
                    if transport is not None and transport.disconnecting:
                        return None
                else:
                    if framer._partsLength >= self.MAX_LENGTH + len(delimiter):
                        return self.lineLengthExceeded(framer.takeRest())
                    return None
            else:
                rest = framer.takeRest()
                if not rest:
                    return None
                why = self.rawDataReceived(rest)
                if why:
                    return why
        return None

    def setLineMode(self, extra: bytes = b"") -> Any:
        """
        Switch to line mode.  ``extra``, raw data received but not consumed,
        is parsed as lines (before anything received later).
        """
        self.line_mode = 1
        if extra:
            return self.dataReceived(extra)
        return None

    def setRawMode(self) -> None:
        """Switch to raw mode: data goes to :meth:`rawDataReceived`, unsplit."""
        self.line_mode = 0

    def rawDataReceived(self, data: bytes) -> Any:
        """Override: data arrived in raw mode."""
        raise NotImplementedError

    def lineReceived(self, line: bytes) -> Any:
        """
        Override: one line arrived, without its delimiter.  Return a true
        value to stop delivery (Twisted's protocols return an error).
        """
        raise NotImplementedError

    def sendLine(self, line: bytes) -> None:
        """Send ``line`` followed by :attr:`delimiter`."""
        assert self.transport is not None
        self.transport.write(line + self.delimiter)

    def lineLengthExceeded(self, line: bytes) -> Any:
        """
        Too long a line arrived: ``line`` is all the data not yet delivered,
        starting with it.  The default closes the connection; an override
        may instead call :meth:`setLineMode` with what to keep.
        """
        assert self.transport is not None
        return self.transport.loseConnection()


# -- length-prefixed strings ------------------------------------------------


class _StringReceiverBase(Protocol, _PauseableMixin):
    def stringReceived(self, string: bytes) -> None:
        """Override: one complete string arrived."""
        raise NotImplementedError


class NetstringReceiver(_StringReceiverBase):
    """
    A protocol that sends and receives netstrings (``<length>:<data>,``).

    A peer that sends something that is not a netstring, or a netstring
    longer than :attr:`MAX_LENGTH`, is a broken peer: :meth:`handleParseError`
    closes the connection and nothing more is delivered.

    Attributes:
        MAX_LENGTH: the longest string accepted (99999 bytes, Twisted's
            default: netstrings carry messages, not bulk data).
        brokenPeer: true once the peer broke the format.
    """

    MAX_LENGTH: int = 99999
    brokenPeer: int = 0
    _framer: NetstringFramer | None = None

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data``; each complete netstring goes to :meth:`stringReceived`."""
        framer = self._framer
        if framer is None:
            framer = self._framer = NetstringFramer(self.MAX_LENGTH)
        framer.maxLength = self.MAX_LENGTH
        framer.feed(data)
        while not self.brokenPeer and not self.paused:
            try:
                string = framer.nextString()
            except NetstringParseError as e:
                self._parseError = e
                self.handleParseError()
                return
            if string is None:
                return
            self.stringReceived(string)
            framer.maxLength = self.MAX_LENGTH

    def handleParseError(self) -> None:
        """The peer broke the format: close the connection, deliver nothing more."""
        assert self.transport is not None
        self.transport.loseConnection()
        self.brokenPeer = 1

    def sendString(self, string: bytes) -> None:
        """Send ``string`` as a netstring."""
        assert self.transport is not None
        self.transport.write(b"%d:%b," % (len(string), string))


class IntNStringReceiver(_StringReceiverBase):
    """
    A protocol that sends and receives strings each preceded by its length,
    a big-endian unsigned integer packed with :attr:`structFormat` in
    :attr:`prefixLength` bytes.  Use one of the subclasses.

    Attributes:
        MAX_LENGTH: the longest string accepted; a longer announced length
            goes to :meth:`lengthLimitExceeded` (99999 bytes by default, as
            in Twisted; raise it for bulk data).
    """

    structFormat: ClassVar[str] = "!I"
    prefixLength: ClassVar[int] = 4
    MAX_LENGTH: int = 99999
    _busyReceiving: bool = False
    _framer: PrefixedStringFramer | None = None

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data``; each complete string goes to :meth:`stringReceived`."""
        framer = self._framer
        if framer is None:
            framer = self._framer = PrefixedStringFramer(self.prefixLength, self.MAX_LENGTH)
        chunks = framer._chunks
        if self._busyReceiving:
            # Called from stringReceived: parse after what is buffered.
            if data:
                chunks._more.append(data)
                chunks._moreLength += len(data)
            return
        chunks.feed(data)
        # The hot loop works on chunks._buf directly, storing the position
        # after each string; pieces fed meanwhile wait in chunks._more.
        unpack = framer._unpack
        prefix = self.prefixLength
        transport: Any = self.transport
        buf = chunks._buf
        pos = chunks._pos
        end = len(buf)
        self._busyReceiving = True
        try:
            while not self.paused:
                if end - pos < prefix:
                    if not chunks._gather(prefix):
                        return
                    buf, pos, end = chunks._buf, 0, len(chunks._buf)
                (length,) = unpack(buf, pos)
                if length > self.MAX_LENGTH:
                    self.lengthLimitExceeded(length)
                    return
                stop = pos + prefix + length
                if stop > end:
                    if not chunks._gather(prefix + length):
                        return
                    buf, pos, end = chunks._buf, 0, len(chunks._buf)
                    stop = prefix + length
                chunks._pos = stop
                self.stringReceived(buf[stop - length : stop])
                pos = stop
                if transport is not None and transport.disconnecting:
                    return
        finally:
            self._busyReceiving = False

    def lengthLimitExceeded(self, length: int) -> None:
        """A longer string than :attr:`MAX_LENGTH` was announced; the default closes."""
        assert self.transport is not None
        self.transport.loseConnection()

    def sendString(self, string: bytes) -> None:
        """
        Send ``string`` after its length.

        Raises:
            StringTooLongError: ``string`` is too long for the prefix.
        """
        assert self.transport is not None
        if len(string) >= 2 ** (8 * self.prefixLength):
            raise StringTooLongError(
                f"a {len(string)}-byte string does not fit a {self.prefixLength}-byte prefix"
            )
        self.transport.write(struct.pack(self.structFormat, len(string)) + string)


class Int32StringReceiver(IntNStringReceiver):
    """Strings after a 32-bit big-endian length."""

    structFormat = "!I"
    prefixLength = 4


class Int16StringReceiver(IntNStringReceiver):
    """Strings after a 16-bit big-endian length."""

    structFormat = "!H"
    prefixLength = 2


class Int8StringReceiver(IntNStringReceiver):
    """Strings after an 8-bit length."""

    structFormat = "!B"
    prefixLength = 1


class StatefulStringProtocol:
    """
    A mixin for a string receiver (a netstring or ``IntN`` receiver) that
    passes each string to the method ``proto_<state>``; the method returns
    the next state.  The state ``"done"`` closes the connection.

    Attributes:
        state: the current state; ``"init"`` at first.
    """

    state: str = "init"
    transport: Any

    def stringReceived(self, string: bytes) -> None:
        """Pass ``string`` to the current state's handler."""
        handler = getattr(self, "proto_" + self.state, None)
        if handler is None:
            _loggerFor(self).warn("callback {state} not found", state=self.state)
            return
        self.state = handler(string)
        if self.state == "done":
            self.transport.loseConnection()


# -- sending files -----------------------------------------------------------


@implementer(IPullProducer)
class FileSender:
    """
    A pull producer that sends a file to a consumer, a chunk each time the
    consumer asks.

    Attributes:
        CHUNK_SIZE: the size of each read (16 KiB).
        lastSent: the last byte sent.
    """

    CHUNK_SIZE: int = 2**14
    lastSent: bytes = b""
    deferred: Deferred[bytes] | None = None
    file: IO[bytes] | None = None
    consumer: IConsumer | None = None
    transform: Callable[[bytes], bytes] | None = None

    def beginFileTransfer(
        self,
        file: IO[bytes],
        consumer: IConsumer,
        transform: Callable[[bytes], bytes] | None = None,
    ) -> Deferred[bytes]:
        """
        Start sending ``file`` to ``consumer``.

        Args:
            file: an open binary file, read from its current position.
            consumer: where to write it.
            transform: applied to each chunk before it is written.

        Returns:
            A Deferred firing with the last byte sent once the whole file is
            sent, or failing if the consumer stops the transfer.
        """
        self.file = file
        self.consumer = consumer
        self.transform = transform
        self.deferred = deferred = Deferred[bytes]()
        consumer.registerProducer(self, False)
        return deferred

    def resumeProducing(self) -> None:
        """Write the next chunk; at the end, unregister and fire the Deferred."""
        chunk = b""
        if self.file is not None:
            chunk = self.file.read(self.CHUNK_SIZE)
        if not chunk:
            self.file = None
            if self.consumer is not None:
                self.consumer.unregisterProducer()
            if self.deferred is not None:
                deferred, self.deferred = self.deferred, None
                deferred.callback(self.lastSent)
            return
        if self.transform is not None:
            chunk = self.transform(chunk)
        assert self.consumer is not None
        self.consumer.write(chunk)
        self.lastSent = chunk[-1:]

    def pauseProducing(self) -> None:
        """Nothing to do: a pull producer writes only when asked."""

    def stopProducing(self) -> None:
        """The consumer gave up: fail the Deferred."""
        if self.deferred is not None:
            deferred, self.deferred = self.deferred, None
            deferred.errback(Exception("Consumer asked us to stop producing"))
