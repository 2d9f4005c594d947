"""
Addresses of the ends of connections and of listening ports.

Every address is an immutable value: equal when its fields are equal,
hashable, ordered field by field, and providing
:class:`fw.internet.interfaces.IAddress`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, NoReturn

from zope.interface import implementer

from fw.internet._interfaces_core import IAddress

__all__ = [
    "HostnameAddress",
    "IPv4Address",
    "IPv6Address",
    "UNIXAddress",
]

_IP_TYPES = ("TCP", "UDP")


def _checkType(kind: str) -> None:
    if kind not in _IP_TYPES:
        raise ValueError(f"address type must be 'TCP' or 'UDP', not {kind!r}")


@implementer(IAddress)
@dataclass(frozen=True, order=True, slots=True)
class IPv4Address:
    """
    An IPv4 socket address.

    Attributes:
        type: ``"TCP"`` or ``"UDP"``.
        host: the dotted-quad address, like ``"127.0.0.1"``.
        port: the port number.

    Raises:
        ValueError: ``type`` is neither ``"TCP"`` nor ``"UDP"``.
    """

    type: Literal["TCP", "UDP"]
    host: str
    port: int

    def __post_init__(self) -> None:
        _checkType(self.type)


@implementer(IAddress)
@dataclass(frozen=True, order=True, slots=True)
class IPv6Address:
    """
    An IPv6 socket address.

    Attributes:
        type: ``"TCP"`` or ``"UDP"``.
        host: the address in text form, like ``"::1"``.
        port: the port number.
        flowInfo: the flow label (``sin6_flowinfo``).
        scopeID: the scope (interface) identifier, for link-local addresses.

    Raises:
        ValueError: ``type`` is neither ``"TCP"`` nor ``"UDP"``.
    """

    type: Literal["TCP", "UDP"]
    host: str
    port: int
    flowInfo: int = 0
    scopeID: int | str = 0

    def __post_init__(self) -> None:
        _checkType(self.type)


@implementer(IAddress)
@dataclass(frozen=True, order=True, slots=True)
class HostnameAddress:
    """
    A host name and port, before it has been resolved to an IP address.

    Attributes:
        hostname: the host name, as bytes (IDNA-encoded when international).
        port: the port number.
    """

    hostname: bytes
    port: int


def _fsBytes(name: bytes | str | os.PathLike[str] | os.PathLike[bytes]) -> bytes:
    return os.fsencode(name)


@implementer(IAddress)
class UNIXAddress:
    """
    The address of a UNIX domain socket.

    Two addresses are equal when their names are equal or when both name the
    same existing file (``os.path.samefile``), so ``"/run/x.sock"`` and
    ``"/run/../run/x.sock"`` compare equal once the socket exists.

    Attributes:
        name: the socket's path as bytes (a text path is encoded with the
            file system encoding), or ``None`` for an unbound socket.  On
            Linux a name starting with a NUL byte is in the abstract namespace.
    """

    __slots__ = ("name",)

    name: bytes | None

    def __init__(self, name: bytes | str | os.PathLike[str] | os.PathLike[bytes] | None) -> None:
        object.__setattr__(self, "name", None if name is None else _fsBytes(name))

    def __setattr__(self, attr: str, value: object) -> NoReturn:
        raise AttributeError(f"UNIXAddress is immutable: cannot set {attr!r}")

    def __delattr__(self, attr: str) -> NoReturn:
        raise AttributeError(f"UNIXAddress is immutable: cannot delete {attr!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UNIXAddress):
            return NotImplemented
        if self.name == other.name:
            return True
        if not self.name or not other.name:
            return False
        try:
            return os.path.samefile(self.name, other.name)
        except (OSError, ValueError):
            # Missing files, and abstract names (NUL bytes) that os.path rejects.
            return False

    def __hash__(self) -> int:
        if self.name is None:
            return hash((UNIXAddress, None))
        try:
            info = os.stat(self.name)
        except (OSError, ValueError):
            return hash(self.name)
        return hash((info.st_ino, info.st_dev))

    def __repr__(self) -> str:
        shown = None if self.name is None else os.fsdecode(self.name)
        return f"UNIXAddress({shown!r})"

    def __reduce__(self) -> tuple[type[UNIXAddress], tuple[bytes | None]]:
        return (UNIXAddress, (self.name,))


@implementer(IAddress)
class _ProcessAddress:
    """The address of either end of the pipes to a child process (there is nothing to say)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "_ProcessAddress()"
