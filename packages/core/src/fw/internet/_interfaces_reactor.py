"""
Interfaces of the reactor's networking and process methods: TCP, UDP,
multicast, UNIX sockets, TLS, adopted sockets and child processes.

Public names are re-exported by :mod:`fw.internet.interfaces`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from socket import AddressFamily
from typing import TYPE_CHECKING

from zope.interface import Interface

from fw.internet._interfaces_protocol import IProcessProtocol, IProtocolFactory
from fw.internet._interfaces_transport import (
    IConnector,
    IListeningPort,
    IOpenSSLClientConnectionCreator,
    IOpenSSLContextFactory,
    IProcessTransport,
)

if TYPE_CHECKING:
    from fw.internet.protocol import (
        ClientFactory,
        ConnectedDatagramProtocol,
        DatagramProtocol,
    )

__all__ = [
    "IReactorMulticast",
    "IReactorProcess",
    "IReactorSSL",
    "IReactorSocket",
    "IReactorTCP",
    "IReactorUDP",
    "IReactorUNIX",
    "IReactorUNIXDatagram",
]


class IReactorTCP(Interface):
    """TCP servers and clients."""

    def listenTCP(
        port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> IListeningPort:
        """
        Listen for TCP connections.

        Args:
            port: the port number; ``0`` picks a free one (read it back with
                ``getHost().port``).
            factory: builds a protocol for each accepted connection.
            backlog: the size of the kernel's queue of pending connections.
            interface: the local address to bind, ``""`` for every IPv4
                interface; an IPv6 literal listens on IPv6.
            reusePort: (keyword-only, ``reusePort: bool = False``; an fw
                extension that fw's reactors accept, left out of this
                signature so that other providers need not) bind with
                ``SO_REUSEPORT``, so that several sockets, in this process or
                in others, can listen on the same address and port if every
                one of them asks for it; the kernel spreads the incoming
                connections among them (a multi-process server without a
                shared listening socket).

        Raises:
            CannotListenError: the port could not be bound (in use by a
                socket that did not ask for ``reusePort``, or the platform
                has no ``SO_REUSEPORT``).
        """

    def connectTCP(
        host: str,
        port: int,
        factory: ClientFactory,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        Connect to a TCP server.

        Args:
            host: a host name or an IP address.
            port: the port number.
            factory: told of the attempt's progress, and builds the protocol.
            timeout: seconds to wait for the connection before failing with
                ``TimeoutError``.
            bindAddress: the local ``(host, port)`` to connect from.
        """


class IReactorSSL(Interface):
    """TLS servers and clients over TCP."""

    def connectSSL(
        host: str,
        port: int,
        factory: ClientFactory,
        contextFactory: IOpenSSLClientConnectionCreator,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        Connect to a TLS server; like :meth:`IReactorTCP.connectTCP`, with
        ``contextFactory`` setting up the TLS client side.
        """

    def listenSSL(
        port: int,
        factory: IProtocolFactory,
        contextFactory: IOpenSSLContextFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """
        Listen for TLS connections; like :meth:`IReactorTCP.listenTCP`, with
        ``contextFactory`` providing the server's TLS context.

        Raises:
            CannotListenError: the port could not be bound.
        """


class IReactorUNIX(Interface):
    """UNIX domain stream socket servers and clients."""

    def connectUNIX(
        address: str, factory: ClientFactory, timeout: float = 30, checkPID: bool = False
    ) -> IConnector:
        """
        Connect to the UNIX socket at path ``address``.

        Args:
            address: the socket's path (or, on Linux, an abstract name
                starting with a NUL byte).
            factory: told of the attempt's progress, and builds the protocol.
            timeout: seconds to wait before failing with ``TimeoutError``.
            checkPID: refuse to connect when the server's lock file names a
                process that is not running.
        """

    def listenUNIX(
        address: str,
        factory: IProtocolFactory,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> IListeningPort:
        """
        Listen on a UNIX socket.

        Args:
            address: the socket's path.
            factory: builds a protocol for each accepted connection.
            backlog: the size of the kernel's queue of pending connections.
            mode: the permissions given to the socket file.
            wantPID: create a lock file beside the socket naming this process.

        Raises:
            CannotListenError: the socket could not be bound.
        """


class IReactorUNIXDatagram(Interface):
    """UNIX domain datagram sockets."""

    def connectUNIXDatagram(
        address: str,
        protocol: ConnectedDatagramProtocol,
        maxPacketSize: int = 8192,
        mode: int = 0o666,
        bindAddress: str | None = None,
    ) -> IConnector:
        """
        Connect a datagram socket to the one at path ``address``.

        Args:
            address: the peer socket's path.
            protocol: receives the datagrams.
            maxPacketSize: the largest datagram received whole.
            mode: the permissions given to the local socket file.
            bindAddress: the local socket's path, or ``None`` for an unbound one.
        """

    def listenUNIXDatagram(
        address: str, protocol: DatagramProtocol, maxPacketSize: int = 8192, mode: int = 0o666
    ) -> IListeningPort:
        """
        Bind a datagram socket at path ``address``.

        Raises:
            CannotListenError: the socket could not be bound.
        """


class IReactorUDP(Interface):
    """UDP sockets."""

    def listenUDP(
        port: int, protocol: DatagramProtocol, interface: str = "", maxPacketSize: int = 8192
    ) -> IListeningPort:
        """
        Bind a UDP socket.

        Args:
            port: the port number, ``0`` for a free one.
            protocol: receives the datagrams; its ``transport`` sends them.
            interface: the local address, ``""`` for every IPv4 interface;
                an IPv6 literal binds IPv6.
            maxPacketSize: the largest datagram received whole.

        Raises:
            CannotListenError: the socket could not be bound.
        """


class IReactorMulticast(Interface):
    """UDP multicast sockets."""

    def listenMulticast(
        port: int,
        protocol: DatagramProtocol,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> IListeningPort:
        """
        Bind a UDP socket able to join multicast groups (its transport
        provides ``IMulticastTransport``).

        Args:
            listenMultiple: let several sockets bind the same port
                (``SO_REUSEADDR``/``SO_REUSEPORT``).

        Raises:
            CannotListenError: the socket could not be bound.
        """


class IReactorSocket(Interface):
    """Taking over sockets created elsewhere (inherited, or passed over UNIX sockets)."""

    def adoptStreamPort(
        fileDescriptor: int, addressFamily: AddressFamily, factory: IProtocolFactory
    ) -> IListeningPort:
        """
        Start accepting connections on a listening stream socket.  The
        reactor uses a duplicate; the caller still owns ``fileDescriptor``.

        Raises:
            UnsupportedAddressFamily: the reactor cannot handle the family.
        """

    def adoptStreamConnection(
        fileDescriptor: int, addressFamily: AddressFamily, factory: IProtocolFactory
    ) -> None:
        """
        Handle an established stream connection with a protocol built by
        ``factory``.  The reactor uses a duplicate of the descriptor.

        Raises:
            UnsupportedAddressFamily: the reactor cannot handle the family.
        """

    def adoptDatagramPort(
        fileDescriptor: int,
        addressFamily: AddressFamily,
        protocol: DatagramProtocol,
        maxPacketSize: int = 8192,
    ) -> IListeningPort:
        """
        Receive datagrams on a bound datagram socket.  The reactor uses a
        duplicate of the descriptor.

        Raises:
            UnsupportedAddressFamily: the reactor cannot handle the family.
        """


class IReactorProcess(Interface):
    """Starting child processes."""

    def spawnProcess(
        processProtocol: IProcessProtocol,
        executable: bytes | str,
        args: Sequence[bytes | str],
        env: Mapping[bytes | str, bytes | str] | None = ...,
        path: bytes | str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: bool = False,
        childFDs: Mapping[int, int | str] | None = None,
    ) -> IProcessTransport:
        """
        Start a child process.

        Args:
            processProtocol: receives the child's output and exit.
            executable: the program; a name without a slash is looked up in
                ``PATH``, as a shell does.
            args: the argument vector, ``args[0]`` being the program's name.
            env: the child's environment.  As in Twisted, leaving it out gives
                the child an empty environment, and ``None`` gives it a copy
                of this process's ``os.environ``.
            path: the child's working directory; ``None`` keeps the current one.
            uid: run the child as this user (POSIX, when privileged).
            gid: run the child as this group (POSIX, when privileged).
            usePTY: give the child a pseudo-terminal instead of pipes.
            childFDs: maps each child descriptor to ``"r"`` (the parent reads
                it), ``"w"`` (the parent writes it) or a parent descriptor to
                pass through; the default is
                ``{0: "w", 1: "r", 2: "r"}``.

        Returns:
            The transport for talking to the child.
        """
