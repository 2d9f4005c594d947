"""
The small standard services of the early Internet.

- :class:`Echo`: RFC 862, sends back what it receives;
- :class:`Discard`: RFC 863, throws away what it receives;
- :class:`Chargen`: RFC 864, sends characters for as long as the peer reads;
- :class:`QOTD`: RFC 865, sends a quote and closes;
- :class:`Daytime`: RFC 867, sends the date and time as text and closes;
- :class:`Time`: RFC 868, sends the time as a 32-bit number and closes;
- :class:`Who`: sends the logged-in users and closes.

Serve one with ``Factory.forProtocol(Echo)``.
"""

from __future__ import annotations

import struct
import time

from zope.interface import implementer

from fw.internet._interfaces_core import IPullProducer
from fw.internet.protocol import Protocol

__all__ = ["QOTD", "Chargen", "Daytime", "Discard", "Echo", "Time", "Who"]


class Echo(Protocol):
    """RFC 862: write back everything received."""

    def dataReceived(self, data: bytes) -> None:
        """Send ``data`` back."""
        assert self.transport is not None
        self.transport.write(data)


class Discard(Protocol):
    """RFC 863: throw away everything received."""

    def dataReceived(self, data: bytes) -> None:
        """Ignore ``data``."""


@implementer(IPullProducer)
class Chargen(Protocol):
    """
    RFC 864: send printable characters for as long as the peer reads them,
    as a pull producer (it writes only when the transport asks for more).

    Each line is 72 characters of :attr:`noise` starting one character
    further than the line before, followed by CRLF: the pattern RFC 864
    suggests.
    """

    #: The 95 printable ASCII characters, in the order RFC 864 rotates them.
    noise = bytes(range(32, 127))
    #: How many lines each ``resumeProducing`` writes.
    linesPerWrite = 95
    _offset = 0

    def connectionMade(self) -> None:
        """Register as a pull producer: the transport asks for data when it wants it."""
        assert self.transport is not None
        self.transport.registerProducer(self, False)  # type: ignore[attr-defined]

    def _lines(self, count: int) -> bytes:
        doubled = self.noise + self.noise
        size = len(self.noise)
        start = self._offset
        out = [doubled[(start + i) % size :][:72] + b"\r\n" for i in range(count)]
        self._offset = (start + count) % size
        return b"".join(out)

    def resumeProducing(self) -> None:
        """Write the next batch of lines."""
        assert self.transport is not None
        self.transport.write(self._lines(self.linesPerWrite))

    def pauseProducing(self) -> None:
        """Nothing to do: a pull producer writes only when asked."""

    def stopProducing(self) -> None:
        """Nothing to do: the connection is going away."""


class QOTD(Protocol):
    """RFC 865: send a quote of the day, then close."""

    def connectionMade(self) -> None:
        """Send :meth:`getQuote` and close."""
        assert self.transport is not None
        self.transport.write(self.getQuote())
        self.transport.loseConnection()

    def getQuote(self) -> bytes:
        """Override: return the quote to send (with its line ending)."""
        return b"An apple a day keeps the doctor away.\r\n"


class Who(Protocol):
    """Send the users logged in (here: :meth:`getUsers`), then close."""

    def connectionMade(self) -> None:
        """Send :meth:`getUsers` and close."""
        assert self.transport is not None
        self.transport.write(self.getUsers())
        self.transport.loseConnection()

    def getUsers(self) -> bytes:
        """Override: return the users, one per line."""
        return b"root\r\n"


class Daytime(Protocol):
    """RFC 867: send the current time as readable text (UTC), then close."""

    def connectionMade(self) -> None:
        """Send the time and close."""
        assert self.transport is not None
        now = time.asctime(time.gmtime(time.time()))
        self.transport.write(now.encode("ascii") + b"\r\n")
        self.transport.loseConnection()


class Time(Protocol):
    """
    RFC 868: send the current time as seconds since 1900-01-01 00:00 UTC, a
    32-bit big-endian number, then close.
    """

    #: Seconds from 1900-01-01 to 1970-01-01 (RFC 868's example values).
    EPOCH_OFFSET = 2208988800

    def connectionMade(self) -> None:
        """Send the time and close."""
        assert self.transport is not None
        seconds = (int(time.time()) + self.EPOCH_OFFSET) % (1 << 32)
        self.transport.write(struct.pack("!I", seconds))
        self.transport.loseConnection()
