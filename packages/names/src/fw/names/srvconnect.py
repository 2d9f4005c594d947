"""
:class:`SRVConnector`: connect to a service found through its SRV records
(RFC 2782) - ``_service._protocol.domain`` - trying the targets in priority
order, weighted at random within a priority, until one accepts.
"""

from __future__ import annotations

import secrets
from typing import Any

from zope.interface import implementer

from fw.internet import error as ierror
from fw.internet.interfaces import IConnector
from fw.names import dns
from fw.names.error import DNSNameError
from fw.python.failure import Failure

__all__ = ["SRVConnector"]


def orderServers(records: list[dns.Record_SRV]) -> list[dns.Record_SRV]:
    """
    ``records`` in the order to try them: by priority, and within a priority
    by the weighted random selection of RFC 2782 ("Usage rules").
    """
    ordered: list[dns.Record_SRV] = []
    for priority in sorted({r.priority for r in records}):
        group = sorted((r for r in records if r.priority == priority), key=lambda r: r.weight)
        while group:
            total = sum(r.weight for r in group)
            pick = secrets.randbelow(total + 1) if total else 0
            running = 0
            for index, r in enumerate(group):
                running += r.weight
                if running >= pick:
                    ordered.append(group.pop(index))
                    break
    return ordered


class _FactoryWrapper:
    """Passes a connection's events to the real factory, naming the SRVConnector."""

    def __init__(self, connector: SRVConnector, wrappedFactory: Any) -> None:
        self._connector = connector
        self._wrappedFactory = wrappedFactory

    def doStart(self) -> None:
        pass

    def doStop(self) -> None:
        pass

    def startedConnecting(self, connector: Any) -> None:
        self._wrappedFactory.startedConnecting(self._connector)

    def buildProtocol(self, addr: Any) -> Any:
        return self._wrappedFactory.buildProtocol(addr)

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        self._connector.connectionLost(reason)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self._connector.connectionFailed(reason)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrappedFactory, name)


@implementer(IConnector)
class SRVConnector:
    """
    An :class:`IConnector` for ``service`` at ``domain``.

    Args:
        reactor: the reactor whose ``connectFuncName`` method connects.
        service: the service name (``"xmpp-client"``), without underscore.
        domain: the domain offering it.
        factory: the client factory.
        protocol: ``"tcp"`` or ``"udp"`` in the SRV name.
        connectFuncName: the reactor method to connect with.
        defaultPort: when there are no SRV records, connect to ``domain``
            on this port (without it, the lookup failure is the result).
        resolver: the resolver (``client.getResolver()`` by default).

    A target ``.`` alone means the service is decidedly not available there.
    A failed connection moves on to the next target; the factory hears of a
    failure only when none is left.
    """

    stopAfterDNS = 0

    def __init__(
        self,
        reactor: Any,
        service: str,
        domain: str | bytes | None,
        factory: Any,
        protocol: str = "tcp",
        connectFuncName: str = "connectTCP",
        connectFuncArgs: tuple[Any, ...] = (),
        connectFuncKwArgs: dict[str, Any] | None = None,
        defaultPort: int | None = None,
        resolver: Any = None,
    ) -> None:
        self.reactor = reactor
        self.service = service
        self.domain: bytes | None = None if domain is None else dns.Name(domain).name
        self.factory = factory
        self.protocol = protocol
        self.connectFuncName = connectFuncName
        self.connectFuncArgs = connectFuncArgs
        self.connectFuncKwArgs = dict(connectFuncKwArgs or {})
        self._defaultPort = defaultPort
        self._resolver = resolver
        self.connector: Any = None
        self.servers: list[dns.Record_SRV] | None = None
        self.orderedServers: list[dns.Record_SRV] | None = None
        self.host: str | None = None
        self.port: int | None = None

    def connect(self) -> None:
        """Look up the SRV records (once), then connect to the next target."""
        self.stopAfterDNS = 0
        self.factory.doStart()
        self.factory.startedConnecting(self)
        if self.servers:
            self._reallyConnect()
            return
        if self.domain is None:
            self.connectionFailed(Failure(ierror.DNSLookupError("Domain is not defined.")))
            return
        resolver = self._resolver
        if resolver is None:
            from fw.names import client

            resolver = client.getResolver()
        name = f"_{self.service}._{self.protocol}.{self.domain.decode('ascii')}"
        d = resolver.lookupService(name)
        d.addCallbacks(self._cbGotServers, self._ebGotServers)
        d.addCallback(lambda _: self._reallyConnect())
        d.addErrback(self.connectionFailed)

    def _ebGotServers(self, failure: Failure) -> None:
        failure.trap(DNSNameError)
        self.servers = []
        self.orderedServers = []

    def _cbGotServers(self, result: Any) -> None:
        answers = result[0]
        records = [a.payload for a in answers if a.type == dns.SRV and a.payload is not None]
        if len(records) == 1 and records[0].target == dns.Name(b""):
            raise ierror.DNSLookupError(
                f"Service {self.service} not available for domain {self.domain!r}."
            )
        self.orderedServers = records
        self.servers = orderServers(records)

    def pickServer(self) -> tuple[str, int]:
        """The next target; ``domain`` and the default port when there are no SRV records."""
        if self.servers:
            record = self.servers.pop(0)
            return record.target.name.decode("ascii"), record.port
        if self._defaultPort is None:
            raise ierror.DNSLookupError(f"no SRV records for _{self.service}._{self.protocol}")
        assert self.domain is not None
        return self.domain.decode("ascii"), self._defaultPort

    def _reallyConnect(self) -> None:
        if self.stopAfterDNS:
            self.stopAfterDNS = 0
            return
        self.host, self.port = self.pickServer()
        connectFunc = getattr(self.reactor, self.connectFuncName)
        self.connector = connectFunc(
            self.host, self.port, _FactoryWrapper(self, self.factory),
            *self.connectFuncArgs, **self.connectFuncKwArgs,
        )  # fmt: skip

    def stopConnecting(self) -> None:
        """Stop: after the lookup if it is under way, or the connection attempt."""
        self.stopAfterDNS = 1
        if self.connector is not None:
            self.connector.stopConnecting()

    def disconnect(self) -> None:
        """Close the connection, or stop connecting."""
        if self.connector is not None:
            self.connector.disconnect()
        else:
            self.stopConnecting()

    def getDestination(self) -> Any:
        """The address of the target being connected to."""
        assert self.connector is not None
        return self.connector.getDestination()

    def connectionFailed(self, reason: Failure) -> None:
        """Try the next target, or tell the factory when none is left."""
        if self.servers and not self.stopAfterDNS and not reason.check(ierror.UserError):
            self._reallyConnect()
            return
        self.servers = None
        self.factory.clientConnectionFailed(self, reason)
        self.factory.doStop()

    def connectionLost(self, reason: Failure) -> None:
        """Tell the factory."""
        self.factory.clientConnectionLost(self, reason)
        self.factory.doStop()
