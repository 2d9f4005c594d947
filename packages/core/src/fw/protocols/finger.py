"""
The finger user information protocol (RFC 1288): a server to subclass, and
a client.

The server, :class:`Finger`, parses each query and calls one of three
methods, which a subclass overrides to answer:

- :meth:`Finger.getUser` for ``[/W] user``;
- :meth:`Finger.getDomain` for ``[/W]`` alone (list the users);
- :meth:`Finger.forwardQuery` for ``[/W] [user]@host[@host...]``.

By default each refuses politely and closes, so that a bare ``Finger``
discloses nothing.  A reply is written to ``self.transport``, then the
connection is closed (RFC 1288 section 2.1: the server closes after the
answer).

The client, :class:`FingerClient`, sends one query and collects the answer
until the server closes; :func:`fingerQuery` connects one through an
endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fw.internet import error
from fw.internet.defer import Deferred
from fw.internet.protocol import Protocol, connectionDone, connectProtocol
from fw.protocols.basic import LineReceiver

if TYPE_CHECKING:
    from fw.internet._interfaces_protocol import IStreamClientEndpoint
    from fw.python.failure import Failure

__all__ = ["Finger", "FingerClient", "FingerResponseTooLong", "fingerQuery", "parseQuery"]


def parseQuery(line: bytes) -> tuple[bool, bytes, list[bytes]]:
    """
    Parse a finger query line (RFC 1288 section 2.3).

    Returns:
        ``(verbose, user, hosts)``: whether ``/W`` was given, the user name
        (empty for "everyone"), and the hosts of a forwarded query, in the
        order written (empty for a local query).
    """
    words = line.split()
    verbose = False
    if words and words[0].upper() == b"/W":
        verbose = True
        words = words[1:]
    target = b" ".join(words)
    user, *hosts = target.split(b"@")
    return verbose, user, hosts


class Finger(LineReceiver):
    """
    A finger server: one query per connection, answered by the overridable
    methods.  Queries may end with CRLF (as RFC 1288 says) or a bare LF.

    The ``slash_w`` argument the methods get is true when the client asked
    for verbose output (``/W``).
    """

    delimiter = b"\n"
    #: The longest query accepted (the RFC sets none; a query is one short line).
    MAX_LENGTH = 1024

    def lineReceived(self, line: bytes) -> None:
        """Parse the query and dispatch it."""
        if line.endswith(b"\r"):
            line = line[:-1]
        verbose, user, hosts = parseQuery(line)
        if hosts:
            self.forwardQuery(verbose, user, b"@".join(hosts))
        elif user:
            self.getUser(verbose, user)
        else:
            self.getDomain(verbose)

    def _refuseMessage(self, message: bytes) -> None:
        assert self.transport is not None
        self.transport.write(message + b"\r\n")
        self.transport.loseConnection()

    def forwardQuery(self, slash_w: bool, user: bytes, host: bytes) -> None:
        """
        Override: answer ``user@host`` (``host`` may hold more ``@``).  The
        default refuses, as RFC 1288 section 3.2.1 recommends.
        """
        self._refuseMessage(b"Finger forwarding service denied")

    def getDomain(self, slash_w: bool) -> None:
        """Override: list the users.  The default refuses."""
        self._refuseMessage(b"Finger online list denied")

    def getUser(self, slash_w: bool, user: bytes) -> None:
        """Override: describe ``user``.  The default knows nobody."""
        assert self.transport is not None
        self.transport.write(b"Login: " + user + b"\r\n")
        self._refuseMessage(b"No such user")


class FingerResponseTooLong(Exception):
    """The server's answer was longer than the client's limit."""


class FingerClient(Protocol):
    """
    Sends one finger query and collects the answer; :attr:`deferred` fires
    with it (bytes) when the server closes the connection.

    Args:
        user: whom to ask about (empty for everyone; ``user@host`` to ask
            the server to forward).
        verbose: ask for verbose output (``/W``).
        maxLength: the longest answer accepted; beyond it the connection
            is aborted and :attr:`deferred` fails with
            :class:`FingerResponseTooLong` (1 MiB: far more than any
            finger answer, and a bound on what a hostile server can make
            us hold).
    """

    def __init__(self, user: bytes = b"", verbose: bool = False, maxLength: int = 1 << 20) -> None:
        self.query = (b"/W " if verbose else b"") + user
        self.maxLength = maxLength
        self.deferred: Deferred[bytes] = Deferred()
        self._received: list[bytes] = []
        self._length = 0
        self._tooLong = False

    def connectionMade(self) -> None:
        """Send the query."""
        assert self.transport is not None
        self.transport.write(self.query + b"\r\n")

    def dataReceived(self, data: bytes) -> None:
        """Collect the answer."""
        if self._tooLong:
            return
        self._length += len(data)
        if self._length > self.maxLength:
            self._tooLong = True
            self._received.clear()
            assert self.transport is not None
            self.transport.abortConnection()  # type: ignore[attr-defined]
            return
        self._received.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """The server closed: fire :attr:`deferred`."""
        if self.deferred.called:
            return
        if self._tooLong:
            self.deferred.errback(
                FingerResponseTooLong(f"finger answer over {self.maxLength} bytes")
            )
        elif reason.check(error.ConnectionDone):
            self.deferred.callback(b"".join(self._received))
        else:
            self.deferred.errback(reason)


def fingerQuery(
    endpoint: IStreamClientEndpoint, user: bytes = b"", verbose: bool = False
) -> Deferred[bytes]:
    """
    Ask the finger server at ``endpoint`` about ``user``.

    Returns:
        A Deferred firing with the server's answer, or failing with the
        connection error.
    """
    client = FingerClient(user, verbose)

    def connected(proto: Any) -> Deferred[bytes]:
        return client.deferred

    return connectProtocol(endpoint, client).addCallback(connected)
