"""
The PROXY protocol (versions 1 and 2), as load balancers such as HAProxy
send it, so that servers behind them see the real client address.

A proxy that speaks it starts each connection it forwards with a header
saying who the client is and what address it connected to.  Wrap the
server's factory in :class:`HAProxyWrappingFactory` (or its endpoint with
:func:`proxyEndpoint`, or use the ``haproxy:`` endpoint prefix, as in
``haproxy:tcp:8080``), and the protocol's ``transport.getPeer()`` and
``transport.getHost()`` are the client's and the address it reached.

The parsers (:class:`V1Parser`, :class:`V2Parser`, and
:class:`ProxyHeaderParser` for either) are sans-IO: fed bytes, they return a
:class:`ProxyInfo` and the bytes after the header, or raise
:class:`InvalidProxyHeader` (or its subclasses :class:`InvalidNetworkProtocol`
and :class:`MissingAddressData`).
"""

from fw.protocols.haproxy._exceptions import (
    InvalidNetworkProtocol,
    InvalidProxyHeader,
    MissingAddressData,
)
from fw.protocols.haproxy._header import ProxyHeaderParser
from fw.protocols.haproxy._info import (
    PP2_TYPE_ALPN,
    PP2_TYPE_AUTHORITY,
    PP2_TYPE_CRC32C,
    PP2_TYPE_NETNS,
    PP2_TYPE_NOOP,
    PP2_TYPE_SSL,
    PP2_TYPE_UNIQUE_ID,
    TLV,
    ProxyAddress,
    ProxyInfo,
)
from fw.protocols.haproxy._parser import HAProxyServerParser, unparseEndpoint
from fw.protocols.haproxy._v1parser import V1Parser
from fw.protocols.haproxy._v2parser import V2Parser, crc32c
from fw.protocols.haproxy._wrapper import (
    HAProxyProtocolWrapper,
    HAProxyWrappingFactory,
    proxyEndpoint,
)

__all__ = [
    "PP2_TYPE_ALPN",
    "PP2_TYPE_AUTHORITY",
    "PP2_TYPE_CRC32C",
    "PP2_TYPE_NETNS",
    "PP2_TYPE_NOOP",
    "PP2_TYPE_SSL",
    "PP2_TYPE_UNIQUE_ID",
    "TLV",
    "HAProxyProtocolWrapper",
    "HAProxyServerParser",
    "HAProxyWrappingFactory",
    "InvalidNetworkProtocol",
    "InvalidProxyHeader",
    "MissingAddressData",
    "ProxyAddress",
    "ProxyHeaderParser",
    "ProxyInfo",
    "V1Parser",
    "V2Parser",
    "crc32c",
    "proxyEndpoint",
    "unparseEndpoint",
]
