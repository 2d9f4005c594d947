"""
UDP transports: datagram ports for IPv4 and IPv6, connected or not, and
multicast.

``reactor.listenUDP(port, protocol)`` returns a :class:`Port`, which is also
the protocol's transport: ``transport.write(datagram, (host, port))`` sends a
datagram, and the protocol's ``datagramReceived(datagram, (host, port))``
receives each one.  After ``transport.connect(host, port)`` the port talks to
that peer only: ``write(datagram)`` sends to it, only its datagrams arrive,
and a refusal (an ICMP "port unreachable" answer) calls the protocol's
``connectionRefused``.  The protocol's calls, in order::

    startProtocol [-> datagramReceived* | connectionRefused*] -> stopProtocol

``reactor.listenMulticast`` returns a :class:`MulticastPort`, which can also
join and leave IPv4 multicast groups and set the TTL, loopback and outgoing
interface of what it sends.

Addresses given to ``write`` and ``connect`` must be IP literals: a host
name would have to be resolved, which blocks (resolve it first with
``reactor.resolve``).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Iterable
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._datagram import DatagramPortBase
from fw.internet._interfaces_transport import IMulticastTransport, IUDPTransport
from fw.internet.abstract import isIPAddress, isIPv6Address
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred
from fw.logger import Logger

__all__ = ["MulticastPort", "Port"]

_log = Logger(namespace="fw.internet.udp")

# Errors reading a datagram socket that mean "nothing more to read now".
_READ_AGAIN = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR})
# Errors an ICMP message leaves on a connected socket that say a datagram was
# lost on its way, not that the socket is broken: the loss is a datagram's
# lot, so they are dropped as the datagram was (a refusal is reported).
_READ_TRANSIENT = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EMSGSIZE,
     errno.EPROTO, errno.ETIMEDOUT, errno.ENOPROTOOPT, errno.ECONNRESET}
)  # fmt: skip


def _family(interface: str) -> socket.AddressFamily:
    if not interface or isIPAddress(interface):
        return socket.AF_INET
    if isIPv6Address(interface):
        return socket.AF_INET6
    raise error.InvalidAddressError(interface, "not an IPv4 or IPv6 address")


@implementer(IUDPTransport)
class Port(DatagramPortBase):
    """
    A UDP socket bound to a port, and the transport of its protocol.

    Attributes:
        port: the port number asked for (``0``: any free one).
        interface: the local address (``""``: every IPv4 interface).
        addressFamily: ``AF_INET`` or ``AF_INET6``, from ``interface``.
    """

    def __init__(
        self,
        port: int,
        proto: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
        reactor: Any = None,
    ) -> None:
        """
        Args:
            port: the port number, ``0`` for a free one.
            proto: the datagram protocol.
            interface: the local address; an IPv6 literal (``"::"``,
                ``"::1"``) makes an IPv6 port.
            maxPacketSize: the largest datagram received whole.
            reactor: the reactor (the global one by default).

        Raises:
            InvalidAddressError: ``interface`` is not an IP address.
        """
        super().__init__(proto, maxPacketSize, reactor)
        self.port = port
        self.interface = interface
        self.addressFamily: socket.AddressFamily = _family(interface)
        self._connectedAddr: tuple[str, int] | None = None
        self._adopted: int | None = None
        self._recvfrom: Any = None
        self._sendto: Any = None
        self._send: Any = None

    @classmethod
    def _fromListeningDescriptor(
        cls,
        reactor: Any,
        fileDescriptor: int,
        addressFamily: socket.AddressFamily,
        protocol: Any,
        maxPacketSize: int = 8192,
    ) -> Port:
        """A port over a duplicate of an already-bound datagram socket."""
        port = cls(0, protocol, maxPacketSize=maxPacketSize, reactor=reactor)
        port.addressFamily = addressFamily
        port._adopted = fileDescriptor
        return port

    def _createSocket(self) -> socket.socket:
        """A new, unbound socket of this port's family (subclasses set options)."""
        return socket.socket(self.addressFamily, socket.SOCK_DGRAM)

    def _openSocket(self) -> socket.socket:
        if self._adopted is not None:
            return socket.socket(
                self.addressFamily, socket.SOCK_DGRAM, fileno=os.dup(self._adopted)
            )
        skt: socket.socket | None = None
        try:
            skt = self._createSocket()
            skt.bind((self.interface, self.port))
        except OSError as e:
            if skt is not None:
                skt.close()
            raise error.CannotListenError(self.interface, self.port, e) from e
        return skt

    def _setSocket(self, skt: socket.socket) -> None:
        self._recvfrom = skt.recvfrom
        self._sendto = skt.sendto
        self._send = skt.send
        super()._setSocket(skt)

    def _where(self) -> object:
        if self.socket is None:
            return self.port
        return self.socket.getsockname()[1]

    # -- reading

    def doRead(self) -> BaseException | None:
        """Read the waiting datagrams, giving each to the protocol."""
        recvfrom = self._recvfrom
        size = self.maxPacketSize
        received = self.protocol.datagramReceived
        ipv6 = self.addressFamily == socket.AF_INET6
        budget = self.maxThroughput
        for _ in range(self.maxDatagramsPerRead):
            try:
                data, addr = recvfrom(size)
            except OSError as e:
                self._readFailed(e)
                return None
            if ipv6:
                addr = addr[:2]
            try:
                received(data, addr)
            except Exception:  # noqa: BLE001 - a protocol's error costs only its datagram
                _log.failure(
                    "{prefix}: unhandled error in datagramReceived", prefix=self._logPrefix
                )
            budget -= len(data)
            if budget <= 0 or not self._reading:
                break
        return None

    def _readFailed(self, e: OSError) -> None:
        number = e.errno
        if number in _READ_AGAIN:
            return
        if number == errno.ECONNREFUSED:
            if self._connectedAddr is not None:
                self.protocol.connectionRefused()
            return
        if number in _READ_TRANSIENT:
            return
        raise e

    # -- writing

    def write(self, datagram: bytes, addr: tuple[str, int] | None = None) -> None:
        """
        Send one datagram.

        Args:
            datagram: the datagram.
            addr: where to: an IP address (not a host name) and a port;
                ``"<broadcast>"`` for the IPv4 broadcast address.  A
                connected port sends to its peer, and takes ``None`` (or the
                peer's address).

        Raises:
            MessageLengthError: the datagram is too long to send.
            InvalidAddressError: ``addr`` is a host name, of the wrong
                family, missing on an unconnected port, or not the peer of a
                connected one.
            OSError: the system refused the datagram for another reason
                (``BlockingIOError`` when the send buffer is full).
        """
        if self._connectedAddr is not None:
            if addr is not None and tuple(addr) != self._connectedAddr:
                raise error.InvalidAddressError(addr, "a connected port writes only to its peer")
            try:
                self._send(datagram)
            except OSError as e:
                if e.errno == errno.EMSGSIZE:
                    raise error.MessageLengthError("message too long") from e
                if e.errno == errno.ECONNREFUSED:
                    self.protocol.connectionRefused()
                    return
                raise
            return
        if addr is None:
            raise error.InvalidAddressError(None, "an unconnected port needs an address")
        host = addr[0]
        if self.addressFamily == socket.AF_INET:
            if not isIPAddress(host) and host != "<broadcast>":
                if isIPv6Address(host):
                    raise error.InvalidAddressError(
                        host, "IPv4 port write() called with an IPv6 address"
                    )
                raise error.InvalidAddressError(
                    host, "write() only accepts IP addresses, not hostnames"
                )
        elif not isIPv6Address(host):
            if isIPAddress(host) or host == "<broadcast>":
                raise error.InvalidAddressError(
                    host, "IPv6 port write() called with an IPv4 or broadcast address"
                )
            raise error.InvalidAddressError(
                host, "write() only accepts IP addresses, not hostnames"
            )
        try:
            self._sendto(datagram, addr)
        except OSError as e:
            if e.errno == errno.EMSGSIZE:
                raise error.MessageLengthError("message too long") from e
            if e.errno == errno.ECONNREFUSED:
                # An earlier datagram's refusal, on an unconnected socket:
                # nobody in particular to tell.
                return
            raise

    def writeSequence(self, seq: Iterable[bytes], addr: tuple[str, int] | None = None) -> None:
        """Send the concatenation of ``seq`` as one datagram (see :meth:`write`)."""
        self.write(b"".join(seq), addr)

    def connect(self, host: str, port: int) -> None:
        """
        Talk to one peer only: ``write`` sends to it, only its datagrams are
        received, and its refusals call the protocol's ``connectionRefused``.

        Args:
            host: the peer's IP address (not a host name).
            port: the peer's port.

        Raises:
            RuntimeError: the port is already connected, or not listening.
            InvalidAddressError: ``host`` is not an IP address.
        """
        if self._connectedAddr is not None:
            raise RuntimeError("already connected, reconnecting is not currently supported")
        if not isIPAddress(host) and not isIPv6Address(host):
            raise error.InvalidAddressError(host, "not an IPv4 or IPv6 address.")
        if self.socket is None or not self.connected:
            raise RuntimeError("the port is not listening")
        self._connectedAddr = (host, port)
        self.socket.connect((host, port))

    # -- details

    def getHost(self) -> IPv4Address | IPv6Address:
        """
        The address the port is bound to (with the real port number).

        Raises:
            NotListeningError: the port is not listening.
        """
        skt = self.getHandle()
        addr = skt.getsockname()
        if self.addressFamily == socket.AF_INET6:
            return IPv6Address("UDP", addr[0], addr[1])
        return IPv4Address("UDP", addr[0], addr[1])

    def setBroadcastAllowed(self, enabled: bool) -> None:
        """Allow (or forbid) sending to broadcast addresses (``SO_BROADCAST``)."""
        self.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, bool(enabled))

    def getBroadcastAllowed(self) -> bool:
        """Whether sending to broadcast addresses is allowed."""
        return bool(self.getHandle().getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST))


@implementer(IMulticastTransport)
class MulticastPort(Port):
    """
    A UDP port that can join IPv4 multicast groups.

    The multicast options apply to IPv4 (as in Twisted); an IPv6 port made
    by ``listenMulticast`` is an ordinary UDP port whose multicast calls fail.

    Attributes:
        listenMultiple: whether other sockets may bind the same port
            (``SO_REUSEADDR`` and, where there is one, ``SO_REUSEPORT``), so
            that several programs on one host can receive a group's datagrams.
    """

    def __init__(
        self,
        port: int,
        proto: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
        reactor: Any = None,
        listenMultiple: bool = False,
    ) -> None:
        super().__init__(port, proto, interface, maxPacketSize, reactor)
        self.listenMultiple = listenMultiple

    def _createSocket(self) -> socket.socket:
        skt = super()._createSocket()
        if self.listenMultiple:
            try:
                skt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if hasattr(socket, "SO_REUSEPORT"):
                    try:
                        skt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                    except OSError as e:
                        if e.errno != errno.ENOPROTOOPT:
                            raise
            except OSError:
                skt.close()
                raise
        return skt

    def getOutgoingInterface(self) -> str:
        """The address of the interface outgoing multicast datagrams leave by."""
        value = self.getHandle().getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF)
        return socket.inet_ntoa(struct.pack("@i", value))

    def setOutgoingInterface(self, addr: str) -> Deferred[int]:
        """
        Send multicast datagrams by the interface with address ``addr`` (a
        name is resolved first).

        Returns:
            A Deferred firing with ``1`` once set, or failing with the error.
        """
        return Deferred.fromCoroutine(self._setOutgoingInterface(addr))

    async def _setOutgoingInterface(self, addr: str) -> int:
        address = await self.reactor.resolve(addr)
        self.getHandle().setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address)
        )
        return 1

    def getLoopbackMode(self) -> bool:
        """Whether this host's own listeners receive what the port sends to a group."""
        return bool(self.getHandle().getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP))

    def setLoopbackMode(self, mode: bool) -> None:
        """Set whether this host's own listeners receive what the port sends to a group."""
        self.getHandle().setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, struct.pack("b", bool(mode))
        )

    def getTTL(self) -> int:
        """The time-to-live (router hops) of outgoing multicast datagrams."""
        return self.getHandle().getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL)

    def setTTL(self, ttl: int) -> None:
        """
        Set the time-to-live of outgoing multicast datagrams (``1``, the
        default: this network only).

        Raises:
            struct.error: ``ttl`` is not in 0-255.
        """
        self.getHandle().setsockopt(
            socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, struct.pack("B", ttl)
        )

    def joinGroup(self, addr: str, interface: str = "") -> Deferred[None]:
        """
        Join the multicast group ``addr``.

        Args:
            addr: the group's address (a name is resolved first).
            interface: the address of the interface to join on (``""``: the
                one the system chooses).

        Returns:
            A Deferred firing with ``None`` once joined, or failing with
            :class:`~fw.internet.error.MulticastJoinError`.
        """
        return Deferred.fromCoroutine(self._membership(addr, interface, socket.IP_ADD_MEMBERSHIP))

    def leaveGroup(self, addr: str, interface: str = "") -> Deferred[None]:
        """
        Leave the multicast group ``addr`` (joined on ``interface``).

        Returns:
            A Deferred firing with ``None`` once left, or failing with
            :class:`~fw.internet.error.MulticastJoinError`.
        """
        return Deferred.fromCoroutine(self._membership(addr, interface, socket.IP_DROP_MEMBERSHIP))

    async def _membership(self, addr: str, interface: str, option: int) -> None:
        if self.addressFamily != socket.AF_INET:
            raise error.MulticastJoinError(addr, interface, "multicast groups need an IPv4 port")
        group = await self.reactor.resolve(addr)
        local = await self.reactor.resolve(interface)
        try:
            request = socket.inet_aton(group) + socket.inet_aton(local)
            self.getHandle().setsockopt(socket.IPPROTO_IP, option, request)
        except OSError as e:
            raise error.MulticastJoinError(addr, interface, *e.args) from e
