"""
SOCKS 4, 4a and 5: servers and client endpoints.

Servers:

- :class:`SOCKSv4Factory` builds :class:`SOCKSv4`, a SOCKS 4 and 4a server
  (CONNECT, BIND), with Twisted's names and hooks (``authorize``,
  ``connectClass``, ``listenClass``, ``makeReply``).
- :class:`SOCKSv5Factory` builds :class:`SOCKSv5`, a SOCKS 5 server
  (RFC 1928: CONNECT, BIND, UDP ASSOCIATE) with optional username/password
  authentication (RFC 1929) checked by a pluggable checker.
- Both refuse destinations that are not global addresses unless given
  another ``destinationPolicy`` (:func:`allowAllDestinations`,
  :func:`allowNetworks`, or any callable), time out slow handshakes, and
  bound every buffer a client controls.

Clients: :class:`SOCKS5ClientEndpoint` and :class:`SOCKS4ClientEndpoint`
tunnel a connection through a proxy reached by any client endpoint.
Refusals fail with a :class:`SOCKSReplyError` subclass carrying the
proxy's reply code.

The wire protocols are sans-IO state machines
(:class:`SOCKS5ServerMachine`, :class:`SOCKS4ServerMachine`,
:class:`SOCKS5ClientMachine`, :class:`SOCKS4ClientMachine`) usable with any
I/O.
"""

from __future__ import annotations

from fw.protocols._socks_client import SOCKS4ClientEndpoint, SOCKS5ClientEndpoint
from fw.protocols._socks_client_machine import (
    ClientState,
    Established,
    SOCKS4ClientMachine,
    SOCKS5ClientMachine,
)
from fw.protocols._socks_codec import (
    AddressNotSupported,
    AddressType,
    AuthMethod,
    Command,
    CommandNotSupported,
    ConnectionNotAllowed,
    ConnectionRefused,
    HostUnreachable,
    LoginAuthenticationFailed,
    MethodsNotAcceptedError,
    NetworkUnreachable,
    Reply,
    ServerFailure,
    SOCKS4IdentdMismatch,
    SOCKS4IdentdUnreachable,
    SOCKS4Reply,
    SOCKS4RequestRejected,
    SOCKSError,
    SOCKSProtocolError,
    SOCKSReplyError,
    TTLExpired,
    UDPDatagram,
    encodeUDPDatagram,
    parseUDPDatagram,
)
from fw.protocols._socks_policy import (
    DestinationPolicy,
    IUsernamePassword,
    UsernamePassword,
    allowAllDestinations,
    allowNetworks,
    refuseInternalDestinations,
)
from fw.protocols._socks_server import (
    SOCKSv4,
    SOCKSv4Factory,
    SOCKSv4Incoming,
    SOCKSv4IncomingFactory,
    SOCKSv4Outgoing,
    SOCKSv5,
    SOCKSv5Factory,
)
from fw.protocols._socks_server_machine import (
    AuthenticationRequested,
    CommandRequested,
    Refused,
    ServerState,
    SOCKS4ServerMachine,
    SOCKS5ServerMachine,
    TunnelData,
)

__all__ = [
    "AddressNotSupported",
    "AddressType",
    "AuthMethod",
    "AuthenticationRequested",
    "ClientState",
    "Command",
    "CommandNotSupported",
    "CommandRequested",
    "ConnectionNotAllowed",
    "ConnectionRefused",
    "DestinationPolicy",
    "Established",
    "HostUnreachable",
    "IUsernamePassword",
    "LoginAuthenticationFailed",
    "MethodsNotAcceptedError",
    "NetworkUnreachable",
    "Refused",
    "Reply",
    "SOCKS4ClientEndpoint",
    "SOCKS4ClientMachine",
    "SOCKS4IdentdMismatch",
    "SOCKS4IdentdUnreachable",
    "SOCKS4Reply",
    "SOCKS4RequestRejected",
    "SOCKS4ServerMachine",
    "SOCKS5ClientEndpoint",
    "SOCKS5ClientMachine",
    "SOCKS5ServerMachine",
    "SOCKSError",
    "SOCKSProtocolError",
    "SOCKSReplyError",
    "SOCKSv4",
    "SOCKSv4Factory",
    "SOCKSv4Incoming",
    "SOCKSv4IncomingFactory",
    "SOCKSv4Outgoing",
    "SOCKSv5",
    "SOCKSv5Factory",
    "ServerFailure",
    "ServerState",
    "TTLExpired",
    "TunnelData",
    "UDPDatagram",
    "UsernamePassword",
    "allowAllDestinations",
    "allowNetworks",
    "encodeUDPDatagram",
    "parseUDPDatagram",
    "refuseInternalDestinations",
]
