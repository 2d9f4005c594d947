"""
Host name resolution off the reactor thread.

:class:`GAIResolver` is the default :class:`IHostnameResolver`: it runs
:func:`socket.getaddrinfo` in the reactor's thread pool.  :class:`ThreadedResolver`
is the old-style :class:`IResolverSimple` (``reactor.resolve``), and
:class:`SimpleResolverComplexifier` adapts any simple resolver (such as
fw-names' client) to the name-resolver interface.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any, Literal

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import (
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
    IResolverSimple,
)
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred, fail
from fw.internet.threads import deferToThreadPool
from fw.logger import Logger
from fw.python.failure import Failure
from fw.python.threadpool import ThreadPool

__all__ = ["GAIResolver", "HostResolution", "SimpleResolverComplexifier", "ThreadedResolver"]

_log = Logger(namespace="fw.internet.resolver")

_FAMILIES: dict[frozenset[type], socket.AddressFamily] = {
    frozenset([IPv4Address]): socket.AF_INET,
    frozenset([IPv6Address]): socket.AF_INET6,
    frozenset([IPv4Address, IPv6Address]): socket.AF_UNSPEC,
}
_SOCKET_TYPES = {"TCP": socket.SOCK_STREAM, "UDP": socket.SOCK_DGRAM}
_TRANSPORTS: dict[int, Literal["TCP", "UDP"]] = {
    socket.SOCK_STREAM: "TCP",
    socket.SOCK_DGRAM: "UDP",
}


@implementer(IHostResolution)
class HostResolution:
    """A resolution in progress; cancelling it means its results are discarded."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = False

    def cancel(self) -> None:
        """Deliver no more results, and complete now."""
        self.cancelled = True


@implementer(IHostnameResolver)
class GAIResolver:
    """
    Resolve host names with :func:`socket.getaddrinfo` in a thread pool.

    Args:
        reactor: the reactor whose thread receives the results.
        getThreadPool: returns the pool to run getaddrinfo in.
        getaddrinfo: the function to call (replaceable in tests).
    """

    def __init__(
        self,
        reactor: Any,
        getThreadPool: Callable[[], ThreadPool] | None = None,
        getaddrinfo: Callable[..., list[Any]] = socket.getaddrinfo,
    ) -> None:
        self._reactor = reactor
        self._getThreadPool = getThreadPool or reactor.getThreadPool
        self._getaddrinfo = getaddrinfo

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Resolve ``hostName``, telling ``resolutionReceiver`` each address found."""
        family = _FAMILIES[frozenset(addressTypes or (IPv4Address, IPv6Address))]
        socketType = _SOCKET_TYPES[transportSemantics]

        def lookUp() -> list[Any]:
            try:
                return self._getaddrinfo(hostName, portNumber, family, socketType)
            except (socket.gaierror, UnicodeError):
                return []

        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        d = deferToThreadPool(self._reactor, self._getThreadPool(), lookUp)

        def deliver(results: list[Any]) -> None:
            if not resolution.cancelled:
                for fam, stype, _proto, _canon, sockaddr in results:
                    kind = _TRANSPORTS.get(stype, "TCP")
                    if fam == socket.AF_INET:
                        resolutionReceiver.addressResolved(IPv4Address(kind, *sockaddr[:2]))
                    elif fam == socket.AF_INET6:
                        resolutionReceiver.addressResolved(IPv6Address(kind, *sockaddr))
            resolutionReceiver.resolutionComplete()

        d.addCallback(deliver)
        d.addErrback(lambda f: _log.failure("name resolution of {name} failed", f, name=hostName))
        return resolution


@implementer(IResolverSimple)
class ThreadedResolver:
    """
    ``reactor.resolve``'s default: :func:`socket.gethostbyname` in the thread
    pool, failing with :class:`~fw.internet.error.DNSLookupError` after the
    sum of ``timeout`` seconds.
    """

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor

    def getHostByName(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Resolve ``name`` to one IPv4 address."""
        total = sum(timeout)
        if total <= 0:
            return fail(error.DNSLookupError(name))
        pool = self.reactor.getThreadPool()
        d = deferToThreadPool(self.reactor, pool, socket.gethostbyname, name)

        def translate(failure: Failure) -> Failure:
            if failure.check(socket.gaierror, socket.herror, UnicodeError):
                return Failure(error.DNSLookupError(name))
            if failure.check("fw.internet.defer.CancelledError"):
                return Failure(error.DNSLookupError(f"{name}: no answer in {total} seconds"))
            return failure

        d.addTimeout(total, self.reactor)
        d.addErrback(translate)
        return d


@implementer(IHostnameResolver)
class SimpleResolverComplexifier:
    """Adapt an :class:`IResolverSimple` into an :class:`IHostnameResolver` (IPv4 only)."""

    def __init__(self, simpleResolver: IResolverSimple) -> None:
        self._simple = simpleResolver

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Resolve ``hostName`` through the simple resolver's ``getHostByName``."""
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        kind: Literal["TCP", "UDP"] = "UDP" if transportSemantics == "UDP" else "TCP"

        def deliver(address: str) -> None:
            if not resolution.cancelled:
                resolutionReceiver.addressResolved(IPv4Address(kind, address, portNumber))

        def lookupFailed(failure: Failure) -> None:
            if not failure.check(error.DNSLookupError):
                _log.failure("name resolution of {name} failed", failure, name=hostName)

        d = self._simple.getHostByName(hostName)
        d.addCallbacks(deliver, lookupFailed)
        d.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution
