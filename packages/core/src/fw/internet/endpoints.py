"""
Endpoints: where a server listens and where a client connects, as objects.

A server endpoint (:class:`~fw.internet.interfaces.IStreamServerEndpoint`)
has ``listen(factory)``, returning a Deferred of the listening port; a client
endpoint (:class:`~fw.internet.interfaces.IStreamClientEndpoint`) has
``connect(factory)``, returning a Deferred of the connected protocol, which
can be cancelled to abandon the attempt.  Code written against endpoints
works over TCP, UNIX sockets, standard I/O, child processes (and TLS, or
anything a plugin adds) unchanged::

    from fw.internet.endpoints import clientFromString, connectProtocol

    async def main(reactor):
        endpoint = clientFromString(reactor, "tcp:host=example.com:port=80")
        protocol = await connectProtocol(endpoint, MyProtocol())

- TCP: :class:`TCP4ServerEndpoint`, :class:`TCP6ServerEndpoint`,
  :class:`TCP4ClientEndpoint`, :class:`TCP6ClientEndpoint`, and
  :class:`HostnameEndpoint`, which races IPv6 and IPv4 addresses (RFC 8305).
- UNIX sockets: :class:`UNIXServerEndpoint`, :class:`UNIXClientEndpoint`.
- :class:`AdoptedStreamServerEndpoint`: a socket listening already (systemd).
- :class:`StandardIOEndpoint` and :class:`ProcessEndpoint`.
- :func:`serverFromString` and :func:`clientFromString` build endpoints from
  descriptions such as ``"tcp:8080:interface=127.0.0.1"``; plugins add
  description types.
- TLS: :class:`SSL4ServerEndpoint`, :class:`SSL4ClientEndpoint`, and
  :func:`wrapClientTLS`, which runs TLS over any client endpoint
  (``"tls:example.com:443"`` descriptions use it over a
  :class:`HostnameEndpoint`).
- :func:`connectProtocol` connects a protocol instance rather than a factory.
"""

from __future__ import annotations

from fw.internet._endpoints_basic import (
    AdoptedStreamServerEndpoint,
    ProcessEndpoint,
    StandardErrorBehavior,
    StandardIOEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    TCP6ClientEndpoint,
    TCP6ServerEndpoint,
    UNIXClientEndpoint,
    UNIXServerEndpoint,
)
from fw.internet._endpoints_hostname import HostnameEndpoint
from fw.internet._endpoints_parse import clientFromString, quoteStringArgument, serverFromString
from fw.internet._endpoints_tls import SSL4ClientEndpoint, SSL4ServerEndpoint, wrapClientTLS
from fw.internet.protocol import connectProtocol

__all__ = [
    "AdoptedStreamServerEndpoint",
    "HostnameEndpoint",
    "ProcessEndpoint",
    "SSL4ClientEndpoint",
    "SSL4ServerEndpoint",
    "StandardErrorBehavior",
    "StandardIOEndpoint",
    "TCP4ClientEndpoint",
    "TCP4ServerEndpoint",
    "TCP6ClientEndpoint",
    "TCP6ServerEndpoint",
    "UNIXClientEndpoint",
    "UNIXServerEndpoint",
    "clientFromString",
    "connectProtocol",
    "quoteStringArgument",
    "serverFromString",
    "wrapClientTLS",
]
