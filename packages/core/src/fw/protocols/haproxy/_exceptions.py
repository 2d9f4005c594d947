"""
The errors of a PROXY protocol header.  Each is the remote side's fault: the
connection that sent it is dropped, and nothing else is affected.

Private: :mod:`fw.protocols.haproxy` is the public module.
"""

from __future__ import annotations

__all__ = ["InvalidNetworkProtocol", "InvalidProxyHeader", "MissingAddressData"]


class InvalidProxyHeader(ValueError):
    """
    The bytes received are not a valid PROXY protocol header: wrong
    signature, bad syntax, too long, or a bad checksum.
    """


class InvalidNetworkProtocol(InvalidProxyHeader):
    """The header names an address family or transport protocol that does not exist."""


class MissingAddressData(InvalidProxyHeader):
    """The header is too short for the addresses its family needs."""
