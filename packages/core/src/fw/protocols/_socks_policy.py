"""
What a SOCKS server lets through: destination policies, and the checking
of usernames and passwords.

Private: :mod:`fw.protocols.socks` is the public module.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeAlias

from zope.interface import Attribute, Interface, implementer

from fw.internet.defer import Deferred, ensureDeferred, maybeDeferred
from fw.protocols._socks_codec import Command

__all__ = [
    "DestinationPolicy",
    "IPAddress",
    "IUsernamePassword",
    "PasswordChecker",
    "UsernamePassword",
    "allowAllDestinations",
    "allowNetworks",
    "checkCredentials",
    "refuseInternalDestinations",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationPolicy(Protocol):
    """
    Decides whether a SOCKS server may reach an address.

    Called with the command, the destination's IP address (after any name
    resolution, so a name cannot smuggle in an address the policy refuses),
    and the port; returns true to allow it.  For BIND the address is the
    peer expected to connect; for UDP ASSOCIATE each datagram's destination.
    """

    def __call__(self, command: Command, address: IPAddress, port: int, /) -> bool: ...


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refuseInternalDestinations(command: Command, address: IPAddress, port: int, /) -> bool:
    """
    The default policy: allow only global unicast addresses, refusing
    loopback, private (RFC 1918, unique local), link-local, shared,
    reserved, unspecified and multicast ones, so that a proxy reachable
    from outside cannot be used to reach the machine itself or its
    internal network.  IPv4-mapped IPv6 addresses count as their IPv4
    address.
    """
    address = _unmapped(address)
    return address.is_global and not address.is_multicast


def allowAllDestinations(command: Command, address: IPAddress, port: int, /) -> bool:
    """A policy allowing every destination (as Twisted's SOCKS server does)."""
    return True


def allowNetworks(*networks: str) -> DestinationPolicy:
    """
    A policy allowing only destinations inside ``networks``.

    Example: ``allowNetworks("127.0.0.0/8", "::1/128")``.

    Raises:
        ValueError: a network is not valid.
    """
    parsed = [ipaddress.ip_network(n, strict=False) for n in networks]

    def policy(command: Command, address: IPAddress, port: int, /) -> bool:
        address = _unmapped(address)
        return any(address in network for network in parsed)

    return policy


class IUsernamePassword(Interface):
    """
    A username and password (the shape of fw.cred's ``IUsernamePassword``).
    """

    username = Attribute("The username, as bytes.")
    password = Attribute("The password, as bytes.")

    def checkPassword(password: bytes) -> bool:
        """Whether ``password`` is this password (in constant time)."""


@implementer(IUsernamePassword)
class UsernamePassword:
    """
    The credentials a SOCKS 5 client sent (RFC 1929), handed to a checker's
    ``requestAvatarId``.

    Args:
        username: the username.
        password: the password.
    """

    def __init__(self, username: bytes, password: bytes) -> None:
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        return f"<UsernamePassword {self.username!r}>"

    def checkPassword(self, password: bytes) -> bool:
        """Whether ``password`` is this password, compared in constant time."""
        return hmac.compare_digest(self.password, password)


PasswordChecker: TypeAlias = Callable[[bytes, bytes], "bool | Deferred[bool] | Awaitable[bool]"]


def checkCredentials(checker: Any, username: bytes, password: bytes) -> Deferred[object | None]:
    """
    Check a username and password with ``checker``: either an object with
    ``requestAvatarId(credentials)`` (a cred ``ICredentialsChecker``, given a
    :class:`UsernamePassword`), or a callable ``(username, password)``
    returning a bool, a Deferred of one, or an awaitable of one.

    Returns:
        A Deferred firing with the avatar id (the username for a callable)
        when the credentials are accepted, ``None`` when they are refused.
        Any failure of ``requestAvatarId`` is a refusal (as in cred); an
        exception from a callable checker fails the Deferred.
    """
    if hasattr(checker, "requestAvatarId"):
        d: Deferred[Any] = maybeDeferred(
            checker.requestAvatarId, UsernamePassword(username, password)
        )
        return d.addCallbacks(lambda avatarId: avatarId, lambda _: None)

    def wrap(result: Any) -> Any:
        if hasattr(result, "__await__") and not isinstance(result, Deferred):
            return ensureDeferred(result)
        return result

    return (
        maybeDeferred(checker, username, password)
        .addCallback(wrap)
        .addCallback(lambda ok: username if ok else None)
    )
