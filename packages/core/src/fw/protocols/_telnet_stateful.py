"""
Line-based telnet application protocols: :class:`StatefulTelnetProtocol`
(one ``telnet_<State>`` method per state) and
:class:`AuthenticatingTelnetProtocol` (a login prompt checked by a portal).
"""

from __future__ import annotations

import hmac
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from zope.interface import Interface

from fw.internet.protocol import connectionDone
from fw.logger import _loggerFor
from fw.protocols._telnet_constants import ECHO
from fw.protocols._telnet_interfaces import ITelnetProtocol, ITelnetTransport
from fw.protocols._telnet_protocol import TelnetProtocol

if TYPE_CHECKING:
    from fw.internet.defer import Deferred
    from fw.python.failure import Failure

__all__ = ["AuthenticatingTelnetProtocol", "IPortal", "StatefulTelnetProtocol", "UsernamePassword"]


class StatefulTelnetProtocol(TelnetProtocol):
    """
    A telnet protocol that reads lines and hands each to the method of its
    current state: ``telnet_<state>(line)``.  A method returning a string
    moves to that state; returning ``None`` keeps the state (or the one the
    method set itself).

    Lines end with ``LF``, ``CR LF`` or a ``CR`` on its own: a client in
    character mode sends ``CR NUL`` for the Enter key, which the telnet
    layer turns into a bare ``CR``.  The end of line is not part of the
    line.  A line longer than :attr:`MAX_LENGTH` goes to
    :meth:`lineLengthExceeded`, which closes the connection.

    Attributes:
        state: the current state's name; ``'Discard'`` (every line ignored)
            at first.
        delimiter: what :meth:`sendLine` appends (the telnet transport sends
            it as ``CR LF``).
        MAX_LENGTH: the longest line accepted, in bytes.  16 KiB, as
            ``LineReceiver``: far above what a person types.
    """

    state: str = "Discard"
    delimiter: bytes = b"\n"
    MAX_LENGTH: int = 16384
    _buffer: bytes = b""
    _start: int = 0
    _skipLF: bool = False

    def dataReceived(self, data: bytes) -> None:
        """Split ``data`` into lines and hand each to :meth:`lineReceived`."""
        if self._skipLF and data:
            # The LF of a CR LF split between two reads.
            self._skipLF = False
            if data[:1] == b"\n":
                data = data[1:]
        self._buffer = self._buffer[self._start :] + data
        self._start = 0
        while not self._stopLines():
            buffer, start = self._buffer, self._start
            cr = buffer.find(b"\r", start)
            lf = buffer.find(b"\n", start)
            if cr < 0 and lf < 0:
                break
            end = lf if cr < 0 or 0 <= lf < cr else cr
            line = buffer[start:end]
            start = end + 1
            if buffer[end] == 0x0D:  # CR: swallow the LF after it, now or in the next read
                if start == len(buffer):
                    self._skipLF = True
                elif buffer[start] == 0x0A:
                    start += 1
            self._start = start
            if len(line) > self.MAX_LENGTH:
                self.clearLineBuffer()
                self.lineLengthExceeded(line)
                return
            self.lineReceived(line)
        if len(self._buffer) - self._start > self.MAX_LENGTH:
            self.lineLengthExceeded(self.clearLineBuffer())

    def _stopLines(self) -> bool:
        # Whether to stop reading lines (the rest stays buffered).
        return self.transport is None or bool(getattr(self.transport, "disconnecting", False))

    def clearLineBuffer(self) -> bytes:
        """Drop, and return, the incomplete line(s) received so far."""
        rest = self._buffer[self._start :]
        self._buffer, self._start = b"", 0
        if self._skipLF and rest[:1] == b"\n":
            rest = rest[1:]
        self._skipLF = False
        return rest

    def lineLengthExceeded(self, line: bytes) -> None:
        """A line longer than :attr:`MAX_LENGTH` arrived: close the connection."""
        if self.transport is not None:
            self.transport.loseConnection()

    def sendLine(self, line: bytes) -> None:
        """Send ``line`` followed by :attr:`delimiter`."""
        if self.transport is not None:
            self.transport.write(line + self.delimiter)

    def lineReceived(self, line: bytes) -> None:
        """Hand ``line`` to ``telnet_<state>``; follow the state it returns."""
        oldState = self.state
        handler = getattr(self, "telnet_" + oldState)
        newState = handler(line)
        if newState is not None:
            if self.state == oldState:
                self.state = newState
            else:
                _loggerFor(self).warn(
                    "State changed and new state returned ({old} -> {new}, returned {ret})",
                    old=oldState,
                    new=self.state,
                    ret=newState,
                )

    def telnet_Discard(self, line: bytes) -> None:
        """The ``Discard`` state: ignore the line."""


class UsernamePassword:
    """
    A user name and password typed at the login prompt, shaped as
    ``fw.cred``'s ``IUsernamePassword`` credentials (used until ``fw.cred``
    exists; once it does, its own ``UsernamePassword`` is used).

    Args:
        username: the user name, as typed.
        password: the password, as typed.
    """

    def __init__(self, username: bytes, password: bytes) -> None:
        self.username = username
        self.password = password

    def checkPassword(self, password: bytes) -> bool:
        """Return whether ``password`` is the one typed, in constant time."""
        return hmac.compare_digest(self.password, password)


def _credentials(username: bytes, password: bytes) -> object:
    # fw.cred's own credentials once it exists; looked up by name so that
    # this module does not need it.
    try:
        module = importlib.import_module("fw.cred.credentials")
    except ImportError:
        return UsernamePassword(username, password)
    credentials: object = module.UsernamePassword(username, password)
    return credentials


class IPortal(Protocol):
    """
    What :class:`AuthenticatingTelnetProtocol` needs of a portal: ``fw.cred``'s
    ``Portal`` (Twisted's ``twisted.cred.portal.Portal``) has this shape.

    ``login`` checks ``credentials`` and returns a Deferred firing with
    ``(interface, avatar, logout)``, or failing (``UnauthorizedLogin`` and
    the like) when they are wrong.
    """

    def login(
        self, credentials: Any, mind: Any, /, *interfaces: type[Interface]
    ) -> Deferred[tuple[Any, Any, Callable[[], object]]]:
        """Check ``credentials``; give the avatar for the first of ``interfaces`` it has."""
        ...


class AuthenticatingTelnetProtocol(StatefulTelnetProtocol):
    """
    Prompts for a user name and a password (with the peer's local echo
    turned off: ``WILL ECHO``), and logs in through ``portal``, asking for an
    ``ITelnetProtocol`` avatar.

    On success the avatar is connected to the telnet transport and receives
    everything from then on; when the connection is lost, the avatar is
    told and the portal's ``logout`` is called.  On failure,
    "Authentication failed" is shown and the prompt starts again.

    The states are ``User`` -> ``Password`` -> ``Discard`` (while the portal
    checks) -> ``Command`` (logged in) or back to ``User``.

    Unlike Twisted, this protocol stays between the transport and the avatar
    (the transport's ``protocol`` is not replaced), so that ``logout`` is
    always called.

    Args:
        portal: anything with ``login(credentials, mind, *interfaces)``
            returning a Deferred of ``(interface, avatar, logout)``, such as
            ``fw.cred``'s ``Portal``.  Credentials are
            :class:`UsernamePassword` (``username``, ``password``,
            ``checkPassword``).
    """

    state = "User"
    protocol: Any = None
    logout: Callable[[], object] | None = None

    def __init__(self, portal: IPortal) -> None:
        self.portal = portal
        self.username: bytes | None = None
        self._gone = False

    def _telnet(self) -> ITelnetTransport | None:
        return cast("ITelnetTransport | None", self.transport)

    def connectionMade(self) -> None:
        """Prompt for the user name."""
        if self.transport is not None:
            self.transport.write(b"Username: ")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the avatar, if logged in, and log it out."""
        self._gone = True
        protocol, self.protocol = self.protocol, None
        logout, self.logout = self.logout, None
        if protocol is not None:
            try:
                protocol.connectionLost(reason)
            finally:
                if logout is not None:
                    logout()

    # Once logged in, the avatar gets everything.

    def _stopLines(self) -> bool:
        return self.protocol is not None or super()._stopLines()

    def dataReceived(self, data: bytes) -> None:
        """Before login, read lines; after, pass ``data`` to the avatar."""
        if self.protocol is not None:
            self.protocol.dataReceived(data)
        else:
            super().dataReceived(data)

    def unhandledCommand(self, command: bytes, argument: bytes | None) -> None:
        """Pass it to the avatar, once logged in."""
        if self.protocol is not None:
            self.protocol.unhandledCommand(command, argument)

    def unhandledSubnegotiation(self, command: bytes, data: list[bytes]) -> None:
        """Pass it to the avatar once logged in; before, decode it as ``TelnetProtocol`` does."""
        if self.protocol is not None:
            self.protocol.unhandledSubnegotiation(command, data)
        else:
            super().unhandledSubnegotiation(command, data)

    def enableLocal(self, option: bytes) -> bool:
        """
        Before login, agree to echo while the password is typed (so that the
        peer's terminal does not show it); after, the avatar decides.
        """
        if self.protocol is not None:
            return bool(self.protocol.enableLocal(option))
        return option == ECHO and self.state == "Password"

    def enableRemote(self, option: bytes) -> bool:
        """Before login, refuse; after, the avatar decides."""
        if self.protocol is not None:
            return bool(self.protocol.enableRemote(option))
        return False

    def disableLocal(self, option: bytes) -> None:
        """Tell the avatar, once logged in."""
        if self.protocol is not None:
            self.protocol.disableLocal(option)

    def disableRemote(self, option: bytes) -> None:
        """Tell the avatar, once logged in."""
        if self.protocol is not None:
            self.protocol.disableRemote(option)

    def telnet_User(self, line: bytes) -> str:
        """Take the user name; turn the peer's echo off and ask for the password."""
        self.username = line
        transport = self._telnet()
        if transport is not None:
            # If the peer refuses, it echoes the password: nothing more we can do.
            transport.will(ECHO).addErrback(lambda failure: None)
            transport.write(b"Password: ")
        return "Password"

    def telnet_Password(self, line: bytes) -> None:
        """Take the password, turn the peer's echo back on, and log in."""
        username, password = self.username or b"", line
        self.username = None
        transport = self._telnet()
        if transport is not None:
            # Not waited for: a peer that never answers cannot hang the login.
            transport.wont(ECHO).addErrback(lambda failure: None)
        # Lines typed while the portal checks are dropped.
        self.state = "Discard"
        d = self.portal.login(_credentials(username, password), None, ITelnetProtocol)
        d.addCallbacks(self._cbLogin, self._ebLogin)
        return

    def _cbLogin(self, result: tuple[Any, Any, Callable[[], object]]) -> None:
        interface, protocol, logout = result
        if interface is not ITelnetProtocol:
            raise TypeError(f"the portal gave an avatar for {interface!r}, not ITelnetProtocol")
        if self._gone or self.transport is None:
            # The connection went away while the portal was checking.
            logout()
            return
        self.protocol = protocol
        self.logout = logout
        self.state = "Command"
        protocol.makeConnection(self.transport)
        # What was typed ahead of the login is the avatar's.
        typedAhead = self.clearLineBuffer()
        if typedAhead and self.protocol is protocol:
            protocol.dataReceived(typedAhead)

    def _ebLogin(self, failure: Failure) -> None:
        if self._gone or self.transport is None:
            return
        self.transport.write(b"\nAuthentication failed\n")
        self.transport.write(b"Username: ")
        self.state = "User"
