"""
The UDP side of SOCKS 5's UDP ASSOCIATE (RFC 1928 section 7): a datagram
port that unwraps the client's datagrams and sends them on, and wraps the
answers of the hosts it sent to.

Private: :mod:`fw.protocols.socks` is the public module.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fw.internet.defer import Deferred
from fw.internet.protocol import DatagramProtocol
from fw.logger import Logger
from fw.protocols._socks_codec import SOCKSProtocolError, encodeUDPDatagram, parseUDPDatagram
from fw.python.failure import Failure

__all__ = ["UDPRelay"]

_log = Logger(namespace="fw.protocols.socks")

# Hosts a client has sent to, whose answers are let back in: a bounded
# table, as a NAT keeps, so a client cannot grow it without end.
DEFAULT_MAX_PEERS = 1024
# Name resolutions in progress at once for one association; datagrams
# needing another are dropped (UDP may drop).
DEFAULT_MAX_RESOLVING = 16


class UDPRelay(DatagramProtocol):
    """
    Relays one client's datagrams.

    Datagrams from the client's host (and port, once known) carry the
    request header: fragments are dropped (RFC 1928 section 7 allows a
    server not to reassemble), the destination is resolved and checked by
    ``allowed``, and the payload sent.  Datagrams from a host the client
    has sent to go back to the client with the header naming their source.
    Anything else is dropped.

    Args:
        reactor: unused but for resolution, kept for symmetry.
        clientHost: the client's IP address.
        clientPort: the client's UDP port, or 0 to take the first one seen.
        allowed: ``(ip, port) -> bool``, the destination policy.
        resolve: ``(host, port) -> Deferred[list of IP addresses]``.
    """

    def __init__(
        self,
        reactor: Any,
        clientHost: str,
        clientPort: int,
        allowed: Callable[[str, int], bool],
        resolve: Callable[[str, int], Deferred[Any]],
        maxPeers: int = DEFAULT_MAX_PEERS,
        maxResolving: int = DEFAULT_MAX_RESOLVING,
    ) -> None:
        self.reactor = reactor
        self.clientHost = _normal(clientHost)
        self.clientPort = clientPort
        self.allowed = allowed
        self.resolve = resolve
        self.maxPeers = maxPeers
        self.maxResolving = maxResolving
        self.peers: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._resolving = 0

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        """Relay ``datagram`` one way or the other, or drop it."""
        host, port = _normal(addr[0]), addr[1]
        if host == self.clientHost and (self.clientPort in (0, port)):
            self.clientPort = port
            self._fromClient(datagram)
        elif (host, port) in self.peers:
            self.peers.move_to_end((host, port))
            assert self.transport is not None
            self.transport.write(
                encodeUDPDatagram(host, port, datagram), (self.clientHost, self.clientPort)
            )

    def _fromClient(self, datagram: bytes) -> None:
        try:
            parsed = parseUDPDatagram(datagram)
        except SOCKSProtocolError as e:
            _log.debug("SOCKS UDP datagram dropped: {error}", error=e)
            return
        if parsed.fragment != 0:
            return
        try:
            ipaddress.ip_address(parsed.host)
        except ValueError:
            if self._resolving >= self.maxResolving:
                return
            self._resolving += 1

            def resolved(addresses: list[Any]) -> None:
                self._resolving -= 1
                self._send(str(addresses[0]), parsed.port, parsed.data)

            def failed(reason: Failure) -> None:
                self._resolving -= 1

            self.resolve(parsed.host, parsed.port).addCallbacks(resolved, failed)
            return
        self._send(parsed.host, parsed.port, parsed.data)

    def _send(self, host: str, port: int, data: bytes) -> None:
        host = _normal(host)
        if self.transport is None or not self.allowed(host, port):
            return
        self.peers[(host, port)] = None
        self.peers.move_to_end((host, port))
        while len(self.peers) > self.maxPeers:
            self.peers.popitem(last=False)
        try:
            self.transport.write(data, (host, port))
        except (OSError, ValueError) as e:
            _log.debug(
                "SOCKS UDP send to {host}:{port} failed: {error}", host=host, port=port, error=e
            )


def _normal(host: str) -> str:
    """``host`` in one spelling (``::ffff:a.b.c.d`` as ``a.b.c.d``)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
