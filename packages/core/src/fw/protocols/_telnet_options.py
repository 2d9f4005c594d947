"""
Telnet option negotiation by the Q method of RFC 1143, sans-IO.

Each option has two independent halves: whether *we* perform it
(:attr:`Side.LOCAL`, negotiated by our ``WILL``/``WONT`` and the peer's
``DO``/``DONT``) and whether *he* (the peer) performs it
(:attr:`Side.REMOTE`, our ``DO``/``DONT`` and his ``WILL``/``WONT``).  Each
half is in one of four states, with a one-slot queue remembering a request
made while a negotiation was in flight.  RFC 1143 proves that two sides
following these rules never loop, however their requests cross.

:class:`OptionNegotiator` holds the halves.  Its methods return the bytes to
send and the events that happened; they never write anything themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from fw.protocols._telnet_codec import encodeCommand
from fw.protocols._telnet_constants import DO, DONT, WILL, WONT
from fw.protocols._telnet_errors import AlreadyDisabled, AlreadyEnabled, AlreadyNegotiating

__all__ = [
    "NegotiationRefused",
    "OptionDisabled",
    "OptionEnabled",
    "OptionEvent",
    "OptionNegotiator",
    "PeerMisbehaved",
    "QState",
    "Queue",
    "Side",
]


class Side(Enum):
    """Which end of the connection performs an option."""

    LOCAL = "us"
    REMOTE = "him"


class QState(Enum):
    """The four states of one half of an option (RFC 1143, section 7)."""

    NO = "no"
    YES = "yes"
    WANTNO = "wantno"
    WANTYES = "wantyes"


class Queue(Enum):
    """A request made during a negotiation: none, or the opposite of the one in flight."""

    EMPTY = "empty"
    OPPOSITE = "opposite"


@dataclass(frozen=True, slots=True)
class OptionEnabled:
    """
    The option is now on at ``side``.  ``requested`` is true when this side
    asked for it; false when the peer did and the ``accept`` function agreed.
    """

    side: Side
    option: bytes
    requested: bool


@dataclass(frozen=True, slots=True)
class OptionDisabled:
    """
    The option is now off at ``side``.  ``requested`` is true when this side
    asked for it; false when the peer turned it off (which it may always do).
    """

    side: Side
    option: bytes
    requested: bool


@dataclass(frozen=True, slots=True)
class NegotiationRefused:
    """This side asked to enable the option at ``side``; the peer refused."""

    side: Side
    option: bytes


@dataclass(frozen=True, slots=True)
class PeerMisbehaved:
    """
    The peer answered our disabling request by enabling (RFC 1143: "DONT
    answered by WILL"), which a compliant peer never does; the state was set
    as RFC 1143 says.
    """

    side: Side
    option: bytes
    description: str


OptionEvent = OptionEnabled | OptionDisabled | NegotiationRefused | PeerMisbehaved


class _Half:
    __slots__ = ("queue", "state")

    def __init__(self) -> None:
        self.state = QState.NO
        self.queue = Queue.EMPTY


# What we send to enable/disable each side, and what the peer sends.
_ENABLE = {Side.LOCAL: WILL, Side.REMOTE: DO}
_DISABLE = {Side.LOCAL: WONT, Side.REMOTE: DONT}
_RECEIVED = {WILL: (Side.REMOTE, True), WONT: (Side.REMOTE, False)}
_RECEIVED |= {DO: (Side.LOCAL, True), DONT: (Side.LOCAL, False)}


class OptionNegotiator:
    """
    The negotiation state of every option of one telnet connection.

    :meth:`enable` and :meth:`disable` start a negotiation (or queue one);
    :meth:`receive` handles a ``WILL``/``WONT``/``DO``/``DONT`` from the
    peer.  Each returns ``(bytes to send, events)``.
    """

    def __init__(self) -> None:
        self._halves: dict[tuple[Side, bytes], _Half] = {}

    def _half(self, side: Side, option: bytes) -> _Half:
        half = self._halves.get((side, option))
        if half is None:
            half = self._halves[side, option] = _Half()
        return half

    def state(self, side: Side, option: bytes) -> QState:
        """Return the state of ``option`` at ``side``."""
        half = self._halves.get((side, option))
        return QState.NO if half is None else half.state

    def queue(self, side: Side, option: bytes) -> Queue:
        """Return the queue of ``option`` at ``side``."""
        half = self._halves.get((side, option))
        return Queue.EMPTY if half is None else half.queue

    def isEnabled(self, side: Side, option: bytes) -> bool:
        """Return whether ``option`` is on at ``side`` (``YES``)."""
        return self.state(side, option) is QState.YES

    def enable(self, side: Side, option: bytes) -> bytes:
        """
        Ask for ``option`` to be on at ``side``.

        Returns:
            the bytes to send (nothing when the request was queued behind
            a negotiation in flight).

        Raises:
            AlreadyEnabled: it is on.
            AlreadyNegotiating: it is being enabled, or a re-enable is queued.
        """
        half = self._half(side, option)
        # RFC 1143, "If we decide to ask him to enable".
        if half.state is QState.NO:
            half.state = QState.WANTYES
            return encodeCommand(_ENABLE[side], option)
        if half.state is QState.YES:
            raise AlreadyEnabled(option)
        if half.state is QState.WANTNO:
            if half.queue is Queue.EMPTY:
                half.queue = Queue.OPPOSITE
                return b""
            raise AlreadyNegotiating(option)
        # WANTYES
        if half.queue is Queue.OPPOSITE:
            half.queue = Queue.EMPTY
            return b""
        raise AlreadyNegotiating(option)

    def disable(self, side: Side, option: bytes) -> bytes:
        """
        Ask for ``option`` to be off at ``side``.

        Returns:
            the bytes to send (nothing when the request was queued).

        Raises:
            AlreadyDisabled: it is off.
            AlreadyNegotiating: it is being disabled, or a disable is queued.
        """
        half = self._half(side, option)
        # RFC 1143, "If we decide to ask him to disable".
        if half.state is QState.YES:
            half.state = QState.WANTNO
            return encodeCommand(_DISABLE[side], option)
        if half.state is QState.NO:
            raise AlreadyDisabled(option)
        if half.state is QState.WANTYES:
            if half.queue is Queue.EMPTY:
                half.queue = Queue.OPPOSITE
                return b""
            raise AlreadyNegotiating(option)
        # WANTNO
        if half.queue is Queue.OPPOSITE:
            half.queue = Queue.EMPTY
            return b""
        raise AlreadyNegotiating(option)

    def receive(
        self,
        command: bytes,
        option: bytes,
        accept: Callable[[Side, bytes], bool],
    ) -> tuple[bytes, list[OptionEvent]]:
        """
        Handle ``command`` (``WILL``, ``WONT``, ``DO`` or ``DONT``) about ``option``.

        Args:
            command: the negotiation command received.
            option: its option byte.
            accept: called as ``accept(side, option)`` when the peer offers
                or asks for an option that is off; true agrees.

        Returns:
            the bytes to send, and what happened.

        Raises:
            ValueError: ``command`` is not a negotiation command.
        """
        try:
            side, positive = _RECEIVED[command]
        except KeyError:
            raise ValueError(f"not a negotiation command: {command!r}") from None
        half = self._half(side, option)
        if positive:
            return self._receivedEnable(half, side, option, accept)
        return self._receivedDisable(half, side, option)

    def _receivedEnable(
        self, half: _Half, side: Side, option: bytes, accept: Callable[[Side, bytes], bool]
    ) -> tuple[bytes, list[OptionEvent]]:
        # RFC 1143, "Upon receipt of WILL" (and its mirror for DO).
        state, queue = half.state, half.queue
        if state is QState.NO:
            if accept(side, option):
                half.state = QState.YES
                return encodeCommand(_ENABLE[side], option), [OptionEnabled(side, option, False)]
            return encodeCommand(_DISABLE[side], option), []
        if state is QState.YES:
            return b"", []
        if state is QState.WANTNO:
            half.queue = Queue.EMPTY
            misbehaved = PeerMisbehaved(side, option, "a request to disable answered by enabling")
            if queue is Queue.EMPTY:
                half.state = QState.NO
                return b"", [misbehaved, OptionDisabled(side, option, True)]
            half.state = QState.YES
            return b"", [misbehaved, OptionEnabled(side, option, True)]
        # WANTYES
        if queue is Queue.EMPTY:
            half.state = QState.YES
            return b"", [OptionEnabled(side, option, True)]
        # Enabled, but a disable was queued meanwhile: ask for it now.
        half.state = QState.WANTNO
        half.queue = Queue.EMPTY
        return encodeCommand(_DISABLE[side], option), [OptionEnabled(side, option, True)]

    def _receivedDisable(
        self, half: _Half, side: Side, option: bytes
    ) -> tuple[bytes, list[OptionEvent]]:
        # RFC 1143, "Upon receipt of WONT" (and its mirror for DONT).
        state, queue = half.state, half.queue
        if state is QState.NO:
            return b"", []
        if state is QState.YES:
            half.state = QState.NO
            return encodeCommand(_DISABLE[side], option), [OptionDisabled(side, option, False)]
        if state is QState.WANTNO:
            if queue is Queue.EMPTY:
                half.state = QState.NO
                return b"", [OptionDisabled(side, option, True)]
            # Disabled, and an enable was queued meanwhile: ask for it now.
            half.state = QState.WANTYES
            half.queue = Queue.EMPTY
            return encodeCommand(_ENABLE[side], option), [OptionDisabled(side, option, True)]
        # WANTYES: refused (and a queued disable is moot).
        half.state = QState.NO
        half.queue = Queue.EMPTY
        return b"", [NegotiationRefused(side, option)]

    def reset(self) -> None:
        """Forget every option (all off, nothing in flight)."""
        self._halves.clear()
