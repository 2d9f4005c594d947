"""
The Identification Protocol (RFC 1413): which user owns a TCP connection.

- :class:`IdentServer` answers ``<port-on-server>, <port-on-client>``
  queries with :meth:`IdentServer.lookup`, which a subclass overrides (the
  default answers ``ERROR : UNKNOWN-ERROR``); mix in
  :class:`ProcServerMixin` to look connections up in Linux's
  ``/proc/net/tcp`` and ``/proc/net/tcp6``.
- :class:`IdentClient` sends queries and gives each answer in a Deferred.

Ports are from the ident server's point of view: the *server* port is the
local port of the connection on the machine answering, the *client* port
the port at the querying machine's end.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any, cast

from fw.internet import defer
from fw.internet.defer import Deferred
from fw.internet.protocol import connectionDone
from fw.logger import _loggerFor
from fw.protocols.basic import LineOnlyReceiver
from fw.python.failure import Failure

__all__ = [
    "HiddenUser",
    "IdentClient",
    "IdentError",
    "IdentServer",
    "InvalidPort",
    "NoUser",
    "ProcServerMixin",
]

_MIN_PORT = 1
_MAX_PORT = 2**16 - 1


class IdentError(Exception):
    """
    An ident error; its ``str`` is the RFC 1413 error token sent on the wire.
    """

    identDescription = "UNKNOWN-ERROR"

    def __str__(self) -> str:
        return self.identDescription


class NoUser(IdentError):
    """The connection is not in use, or not owned by an identifiable user."""

    identDescription = "NO-USER"


class InvalidPort(IdentError):
    """A port was not a valid TCP port number."""

    identDescription = "INVALID-PORT"


class HiddenUser(IdentError):
    """The user asked not to be identified."""

    identDescription = "HIDDEN-USER"


class IdentServer(LineOnlyReceiver):
    """
    An RFC 1413 server.  Override :meth:`lookup`.

    A malformed query closes the connection; a query with a port out of
    range gets ``ERROR : INVALID-PORT``.
    """

    #: Queries are short (two numbers and a comma); RFC 1413 allows ~1000 bytes.
    MAX_LENGTH = 1000
    # RFC 1413 section 4: the server accepts a bare LF as well as CRLF.
    delimiter = b"\n"

    def lineReceived(self, line: bytes) -> None:
        """Parse a query and answer it."""
        parts = line.rstrip(b"\r").split(b",")
        if len(parts) != 2:
            self.invalidQuery()
            return
        try:
            portOnServer, portOnClient = (int(p.strip()) for p in parts)
        except ValueError:
            self.invalidQuery()
            return
        if _MIN_PORT <= portOnServer <= _MAX_PORT and _MIN_PORT <= portOnClient <= _MAX_PORT:
            self.validQuery(portOnServer, portOnClient)
        else:
            self._ebLookup(Failure(InvalidPort()), portOnServer, portOnClient)

    def sendLine(self, line: bytes) -> None:
        """Send ``line`` ended by CRLF, as RFC 1413 answers are."""
        assert self.transport is not None
        self.transport.write(line + b"\r\n")

    def invalidQuery(self) -> None:
        """The query was not ``<number>, <number>``: close the connection."""
        assert self.transport is not None
        self.transport.loseConnection()

    def validQuery(self, portOnServer: int, portOnClient: int) -> None:
        """Look the connection up and answer."""
        assert self.transport is not None
        serverAddr = self.transport.getHost().host  # type: ignore[attr-defined]
        clientAddr = self.transport.getPeer().host  # type: ignore[attr-defined]
        d = cast(
            "Deferred[tuple[str, str]]",
            defer.maybeDeferred(
                self.lookup, (serverAddr, portOnServer), (clientAddr, portOnClient)
            ),
        )
        d.addCallback(self._cbLookup, portOnServer, portOnClient)
        d.addErrback(self._ebLookup, portOnServer, portOnClient)

    def _cbLookup(self, result: tuple[str, str], sport: int, cport: int) -> None:
        sysName, userId = result
        self.sendLine(f"{sport}, {cport} : USERID : {sysName} : {userId}".encode())

    def _ebLookup(self, failure: Failure, sport: int, cport: int) -> None:
        if failure.check(IdentError):
            token = str(failure.value)
        else:
            _loggerFor(self).failure("ident lookup failed", failure)
            token = IdentError.identDescription
        self.sendLine(f"{sport}, {cport} : ERROR : {token}".encode())

    def lookup(
        self, serverAddress: tuple[str, int], clientAddress: tuple[str, int]
    ) -> tuple[str, str] | Deferred[tuple[str, str]]:
        """
        Override: find who owns the connection from ``serverAddress`` (on
        this machine) to ``clientAddress``.

        Returns:
            ``(operatingSystem, userId)``, or a Deferred of it.

        Raises:
            IdentError: a subclass naming the RFC 1413 error to send.
        """
        raise IdentError()


class ProcServerMixin:
    """
    Looks connections up in ``/proc/net/tcp`` and ``/proc/net/tcp6``
    (Linux).  Mix in before :class:`IdentServer`.
    """

    SYSTEM_NAME = os.uname()[0]
    #: The kernel's TCP tables.
    PROC_FILES: tuple[str, ...] = ("/proc/net/tcp", "/proc/net/tcp6")

    def getUsername(self, uid: int, getpwuid: Callable[[int], Any] | None = None) -> str:
        """Return the login name of ``uid``."""
        if getpwuid is None:
            import pwd

            getpwuid = pwd.getpwuid
        return str(getpwuid(uid)[0])

    def entries(self) -> Iterator[str]:
        """The lines of the kernel's TCP tables, without their headers."""
        for path in self.PROC_FILES:
            try:
                with open(path) as f:
                    f.readline()
                    for line in f:
                        yield line.strip()
            except FileNotFoundError:
                continue

    def dottedQuadFromHexString(self, hexstr: str) -> str:
        """Turn ``/proc``'s hexadecimal IPv4 address (host byte order) into text."""
        return ".".join(map(str, struct.pack("=L", int(hexstr, 16))))

    def _addressFromHex(self, hexstr: str) -> str:
        if len(hexstr) == 8:
            return self.dottedQuadFromHexString(hexstr)
        # IPv6: four 32-bit words, each in host byte order.
        raw = b"".join(struct.pack("=L", int(hexstr[i : i + 8], 16)) for i in range(0, 32, 8))
        if raw[:12] == b"\0" * 10 + b"\xff\xff":
            return socket.inet_ntop(socket.AF_INET, raw[12:])
        return socket.inet_ntop(socket.AF_INET6, raw)

    def unpackAddress(self, packed: str) -> tuple[str, int]:
        """Turn ``/proc``'s ``ADDRESS:PORT`` (hexadecimal) into ``(host, port)``."""
        addr, port = packed.split(":")
        return self._addressFromHex(addr), int(port, 16)

    def parseLine(self, line: str) -> tuple[tuple[str, int], tuple[str, int], int]:
        """Parse one line of the table: ``(local, remote, uid)``."""
        parts = line.strip().split()
        local = self.unpackAddress(parts[1])
        remote = self.unpackAddress(parts[2])
        return local, remote, int(parts[7])

    def lookup(
        self, serverAddress: tuple[str, int], clientAddress: tuple[str, int]
    ) -> tuple[str, str]:
        """
        Find the owner of the connection in the kernel's tables.

        Raises:
            NoUser: there is no such connection.
        """
        for entry in self.entries():
            local, remote, uid = self.parseLine(entry)
            if remote == clientAddress and local[1] == serverAddress[1]:
                return (self.SYSTEM_NAME, self.getUsername(uid))
        raise NoUser()


class IdentClient(LineOnlyReceiver):
    """
    An RFC 1413 client: :meth:`lookup` sends a query; answers come back in
    order.
    """

    errorTypes: tuple[type[IdentError], ...] = (IdentError, NoUser, InvalidPort, HiddenUser)
    #: The longest answer line accepted (RFC 1413 section 6 bounds user ids at 512 octets).
    MAX_LENGTH = 1024

    def __init__(self) -> None:
        self.queries: list[tuple[Deferred[tuple[str, str]], int, int]] = []

    def lookup(self, portOnServer: int, portOnClient: int) -> Deferred[tuple[str, str]]:
        """
        Ask who owns the connection between the server's ``portOnServer`` and
        our ``portOnClient``.

        Returns:
            A Deferred firing with ``(responseType, info)``, for example
            ``("USERID", "UNIX : alice")``, or failing with an
            :class:`IdentError` subclass.
        """
        d: Deferred[tuple[str, str]] = Deferred()
        self.queries.append((d, portOnServer, portOnClient))
        self.sendLine(b"%d, %d" % (portOnServer, portOnClient))
        return d

    def lineReceived(self, line: bytes) -> None:
        """Match an answer with the oldest query."""
        if not self.queries:
            _loggerFor(self).warn("Unexpected server response: {line!r}", line=line)
            return
        d = self.queries.pop(0)[0]
        self.parseResponse(d, line.rstrip(b"\r"))

    def lineLengthExceeded(self, line: bytes) -> None:
        """An answer too long: fail the queries and close."""
        self._failAll(IdentError("answer too long"))
        assert self.transport is not None
        self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail the queries still waiting."""
        self._failAll(IdentError(reason))

    def _failAll(self, exc: IdentError) -> None:
        queries, self.queries = self.queries, []
        for d, _, _ in queries:
            d.errback(exc)

    def parseResponse(self, deferred: Deferred[tuple[str, str]], line: bytes) -> None:
        """Fire ``deferred`` with the answer in ``line``."""
        text = line.decode("ascii", "replace")
        parts = text.split(":", 2)
        if len(parts) != 3:
            deferred.errback(IdentError(text))
            return
        _, kind, info = (p.strip() for p in parts)
        if kind == "ERROR":
            for errorType in self.errorTypes:
                if errorType.identDescription == info:
                    deferred.errback(errorType(text))
                    return
            deferred.errback(IdentError(text))
        else:
            deferred.callback((kind, info))
