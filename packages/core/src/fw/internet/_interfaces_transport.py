"""
Interfaces of transports, listening ports, connectors and TLS connection
creators.

Public names are re-exported by :mod:`fw.internet.interfaces`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from zope.interface import Attribute, Interface

from fw.internet._interfaces_core import IAddress

if TYPE_CHECKING:
    from OpenSSL.SSL import Connection, Context

    from fw.internet.address import IPv4Address, IPv6Address, UNIXAddress
    from fw.internet.defer import Deferred

__all__ = [
    "IConnector",
    "IListeningPort",
    "IMulticastTransport",
    "INegotiated",
    "IOpenSSLClientConnectionCreator",
    "IOpenSSLContextFactory",
    "IOpenSSLServerConnectionCreator",
    "IProcessTransport",
    "ISSLTransport",
    "ITCPTransport",
    "ITLSTransport",
    "ITransport",
    "IUDPTransport",
    "IUNIXDatagramConnectedTransport",
    "IUNIXDatagramTransport",
    "IUNIXTransport",
]


class IConnector(Interface):
    """
    An outgoing connection attempt, kept so that it can be retried or
    abandoned.  Passed to a ``ClientFactory``'s callbacks.
    """

    def stopConnecting() -> None:
        """
        Abandon the attempt in progress.

        Raises:
            NotConnectingError: no attempt is in progress.
        """

    def disconnect() -> None:
        """Abandon the attempt in progress, or close the connection it made."""

    def connect() -> None:
        """Try to connect again (after a failure or a disconnection)."""

    def getDestination() -> IAddress:
        """Return the address this connector connects to."""


class IListeningPort(Interface):
    """A port accepting connections or datagrams."""

    def startListening() -> None:
        """
        Start listening (reactor ``listen*`` methods call this already).

        Raises:
            CannotListenError: the port could not be bound.
        """

    def stopListening() -> Deferred[None] | None:
        """
        Stop listening.

        Returns:
            A Deferred that fires when the port is closed, or ``None`` when
            it closed at once.
        """

    def getHost() -> IAddress:
        """Return the address the port is bound to."""


class ITransport(Interface):
    """
    The writing half of a connection, given to a protocol by
    ``makeConnection``.  Writes are buffered; they never block and never
    fail at once: problems end the connection with ``connectionLost``.
    """

    def write(data: bytes) -> None:
        """
        Send ``data`` over the connection, in order with earlier writes.
        Data written once the connection is closing may be discarded.
        """

    def writeSequence(data: Iterable[bytes]) -> None:
        """Send each bytes object of ``data`` in turn, as if each were written."""

    def loseConnection() -> None:
        """
        Close the connection once all buffered data has been sent.  The
        protocol's ``connectionLost`` follows.
        """

    def getPeer() -> IAddress:
        """Return the address of the other end of the connection."""

    def getHost() -> IAddress:
        """Return the address of this end of the connection."""


class ITCPTransport(ITransport):
    """A TCP connection."""

    def loseWriteConnection() -> None:
        """
        Half-close: send what is buffered, then shut down the write
        direction; reading goes on.
        """

    def abortConnection() -> None:
        """Close the connection at once, dropping any data not yet sent."""

    def getTcpNoDelay() -> bool:
        """Return whether Nagle's algorithm is disabled (``TCP_NODELAY``)."""

    def setTcpNoDelay(enabled: bool) -> None:
        """Disable (``True``) or enable Nagle's algorithm."""

    def getTcpKeepAlive() -> bool:
        """Return whether ``SO_KEEPALIVE`` is set."""

    def setTcpKeepAlive(enabled: bool) -> None:
        """Set or clear ``SO_KEEPALIVE``."""

    def getHost() -> IPv4Address | IPv6Address:
        """Return the local address."""

    def getPeer() -> IPv4Address | IPv6Address:
        """Return the remote address."""


class IUNIXTransport(ITransport):
    """A UNIX domain stream socket connection."""

    def sendFileDescriptor(descriptor: int) -> None:
        """
        Send a copy of an open file descriptor to the peer, alongside the
        next bytes written.
        """


class IOpenSSLServerConnectionCreator(Interface):
    """Makes the pyOpenSSL connection object for the server side of a TLS connection."""

    def serverConnectionForTLS(tlsProtocol: Any) -> Connection:
        """
        Return a new ``OpenSSL.SSL.Connection`` in server mode for the TLS
        protocol ``tlsProtocol``.
        """


class IOpenSSLClientConnectionCreator(Interface):
    """Makes the pyOpenSSL connection object for the client side of a TLS connection."""

    def clientConnectionForTLS(tlsProtocol: Any) -> Connection:
        """
        Return a new ``OpenSSL.SSL.Connection`` in client mode for the TLS
        protocol ``tlsProtocol``, already set up to verify the server.
        """


class IOpenSSLContextFactory(Interface):
    """Makes the pyOpenSSL context from which TLS connections are created."""

    def getContext() -> Context:
        """Return the ``OpenSSL.SSL.Context`` to use."""


class ITLSTransport(ITCPTransport):
    """A TCP connection that can switch to TLS partway through (``STARTTLS``)."""

    def startTLS(contextFactory: Any) -> None:
        """
        Start TLS on this connection.  Data written before is sent in the
        clear; data written after is encrypted.

        Args:
            contextFactory: an :class:`IOpenSSLClientConnectionCreator` or
                :class:`IOpenSSLServerConnectionCreator`, or an
                :class:`IOpenSSLContextFactory`.
        """


class ISSLTransport(ITCPTransport):
    """A TLS connection."""

    def getPeerCertificate() -> Any:
        """
        Return the peer's certificate (an ``OpenSSL.crypto.X509``), or
        ``None`` if it has not sent one.
        """


class INegotiated(Interface):
    """A connection whose application protocol was negotiated (ALPN)."""

    negotiatedProtocol: bytes | None = Attribute(
        "The protocol chosen in the TLS handshake (for example b'h2'), or None when "
        "none was negotiated or the handshake is not complete."
    )


class IProcessTransport(ITransport):
    """The connection to a child process started with ``spawnProcess``."""

    pid: int | None = Attribute("The child's process ID, or None once it has exited.")

    def closeStdin() -> None:
        """Close the child's standard input (after buffered data is written)."""

    def closeStdout() -> None:
        """Close the child's standard output."""

    def closeStderr() -> None:
        """Close the child's standard error."""

    def closeChildFD(descriptor: int) -> None:
        """Close the pipe to the child's file descriptor ``descriptor``."""

    def writeToChild(childFD: int, data: bytes) -> None:
        """
        Write ``data`` to the child's file descriptor ``childFD``.

        Raises:
            KeyError: the child has no pipe at ``childFD``.
        """

    def loseConnection() -> None:
        """Close every pipe to the child."""

    def signalProcess(signalID: str | int) -> None:
        """
        Send a signal to the child.

        Args:
            signalID: a signal number, or ``"KILL"``, ``"TERM"`` or ``"INT"``.

        Raises:
            ProcessExitedAlready: the child has already exited.
        """


class IUDPTransport(Interface):
    """A UDP socket."""

    def write(packet: bytes, addr: tuple[str, int] | None = None) -> None:
        """
        Send one datagram.

        Args:
            packet: the datagram.
            addr: the destination ``(host, port)``; must be ``None`` on a
                connected socket, which sends to its peer.
        """

    def connect(host: str, port: int) -> None:
        """
        Connect to a peer: only its datagrams are received, and writes go to
        it.  ``host`` must be an IP address, not a name.
        """

    def getHost() -> IPv4Address | IPv6Address:
        """Return the address the socket is bound to."""

    def stopListening() -> Deferred[None] | None:
        """Close the socket."""

    def setBroadcastAllowed(enabled: bool) -> None:
        """Set or clear ``SO_BROADCAST``."""

    def getBroadcastAllowed() -> bool:
        """Return whether ``SO_BROADCAST`` is set."""


class IMulticastTransport(Interface):
    """A UDP socket that can join multicast groups."""

    def getOutgoingInterface() -> str:
        """Return the interface address used for outgoing multicast."""

    def setOutgoingInterface(addr: str) -> Deferred[int]:
        """Use the interface with address ``addr`` for outgoing multicast."""

    def getLoopbackMode() -> bool:
        """Return whether this host receives its own multicast datagrams."""

    def setLoopbackMode(mode: bool) -> None:
        """Set whether this host receives its own multicast datagrams."""

    def getTTL() -> int:
        """Return the time-to-live of outgoing multicast datagrams."""

    def setTTL(ttl: int) -> None:
        """Set the time-to-live of outgoing multicast datagrams."""

    def joinGroup(addr: str, interface: str = "") -> Deferred[None]:
        """Join the multicast group ``addr`` on the interface with address ``interface``."""

    def leaveGroup(addr: str, interface: str = "") -> Deferred[None]:
        """Leave the multicast group ``addr``."""


class IUNIXDatagramTransport(Interface):
    """An unconnected UNIX datagram socket."""

    def write(packet: bytes, addr: str) -> None:
        """Send one datagram to the socket at path ``addr``."""

    def getHost() -> UNIXAddress:
        """Return the address the socket is bound to."""


class IUNIXDatagramConnectedTransport(Interface):
    """A connected UNIX datagram socket."""

    def write(packet: bytes) -> None:
        """Send one datagram to the peer."""

    def getHost() -> UNIXAddress:
        """Return the address the socket is bound to."""

    def getPeer() -> UNIXAddress:
        """Return the peer's address."""
