"""The interfaces of a telnet application protocol and of the telnet transport under it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fw.internet.interfaces import IProtocol, ITransport

if TYPE_CHECKING:
    from fw.internet.defer import Deferred

__all__ = ["ITelnetProtocol", "ITelnetTransport"]


class ITelnetProtocol(IProtocol):
    """
    An application protocol running over a :class:`ITelnetTransport`.

    Besides the stream events of ``IProtocol`` (with telnet's commands and
    escapes already removed from ``dataReceived``'s bytes), it is told of
    commands and subnegotiations nobody handled, and decides which options
    may be enabled.
    """

    def unhandledCommand(command: bytes, argument: bytes | None) -> None:
        """
        A command was received that no handler took.

        Args:
            command: the command byte (``NOP``, ``AYT``, ``IP``...).
            argument: the option byte for the negotiation commands, else
                ``None``.
        """

    def unhandledSubnegotiation(command: bytes, data: list[bytes]) -> None:
        """
        A subnegotiation was received that no handler took.

        Args:
            command: the option being subnegotiated (the byte after ``SB``).
            data: the rest of it, unescaped, one ``bytes`` of length 1 per
                byte (as in Twisted: ``b"".join(data)`` gives the payload).
        """

    def enableLocal(option: bytes) -> bool:
        """
        The peer asked this side to perform ``option`` (it sent ``DO``), or
        agreed to our ``WILL``.

        Return true to enable it; false refuses (``WONT`` is sent).  When the
        call confirms our own request, the return value is ignored.
        """

    def enableRemote(option: bytes) -> bool:
        """
        The peer offered to perform ``option`` (it sent ``WILL``), or agreed
        to our ``DO``.

        Return true to let it; false refuses (``DONT`` is sent).  When the
        call confirms our own request, the return value is ignored.
        """

    def disableLocal(option: bytes) -> None:
        """This side stops performing ``option``.  Cannot be refused."""

    def disableRemote(option: bytes) -> None:
        """The peer stopped performing ``option``.  Cannot be refused."""


class ITelnetTransport(ITransport):
    """
    A transport that speaks telnet: bytes written are escaped, and options
    are negotiated.

    Each negotiation method returns a Deferred that fires with ``True``
    once the option has reached the state asked for; it fails with
    ``OptionRefused`` when the peer refuses, ``AlreadyEnabled`` or
    ``AlreadyDisabled`` when the option is in that state already, and
    ``AlreadyNegotiating`` when a negotiation about it is in progress.  A
    negotiation still pending when the connection is lost fails with the
    reason the connection was lost.
    """

    def do(option: bytes) -> Deferred[bool]:
        """Ask the peer to begin performing ``option``."""

    def dont(option: bytes) -> Deferred[bool]:
        """Ask the peer to stop performing ``option``."""

    def will(option: bytes) -> Deferred[bool]:
        """Offer to begin performing ``option`` on this side."""

    def wont(option: bytes) -> Deferred[bool]:
        """Stop performing ``option`` on this side."""

    def requestNegotiation(about: bytes, data: bytes) -> None:
        """
        Send the subnegotiation ``IAC SB about data IAC SE``.  ``IAC`` bytes
        in ``data`` are escaped here.
        """
