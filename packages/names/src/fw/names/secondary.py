"""
Secondary (slave) authorities: zones copied from a primary server by zone
transfer (AXFR, RFC 5936) and kept fresh on the timers of the zone's SOA
(RFC 1034 section 4.3.5): every ``refresh`` seconds the primary's SOA serial
is checked and the zone transferred again if it grew (serial arithmetic,
RFC 1982); a failed check is tried again after ``retry`` seconds; a zone not
refreshed for ``expire`` seconds is no longer served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fw.application import service
from fw.internet import defer
from fw.logger import Logger
from fw.names import client, common, dns
from fw.names.authority import FileAuthority, _lower
from fw.names.error import DomainError

__all__ = [
    "DEFAULT_RETRY",
    "SecondaryAuthority",
    "SecondaryAuthorityService",
    "serialIsNewer",
]

#: Seconds between attempts before any transfer succeeded (there is no SOA
#: to give a retry interval yet): a minute, so a primary that starts late is
#: picked up soon without hammering it.
DEFAULT_RETRY = 60

_log = Logger()


def serialIsNewer(new: int, old: int) -> bool:
    """Whether SOA serial ``new`` is greater than ``old`` (RFC 1982 section 3.2)."""
    difference = (new - old) % (1 << 32)
    return 0 < difference < (1 << 31)


class SecondaryAuthority(FileAuthority):
    """
    An authority for ``domain`` whose records come from a primary server.

    Until the first transfer succeeds it answers nothing (lookups fail with
    ``DomainError``, so a server asks its other resolvers).

    Args:
        primaryIP: the primary server's address.
        domain: the zone's name.
        reactor: the reactor; by default the global one.

    Attributes:
        primary: the primary's address; ``_port`` its port (53).
        domain: the zone's name (bytes).
        transferring: whether a transfer is under way.
    """

    transferring = False
    _port = dns.PORT

    def __init__(
        self, primaryIP: str | None, domain: bytes | str | None, reactor: Any = None
    ) -> None:
        common.ResolverBase.__init__(self)
        self.primary = primaryIP
        self.domain = domain.encode("ascii") if isinstance(domain, str) else domain
        self.soa = None
        self.records = {}
        self._indexKey = None
        self._names = set()
        self._cuts = set()
        self._reactor = reactor
        self._timer: Any = None
        self._lastRefresh: float | None = None

    @classmethod
    def fromServerAddressAndDomain(
        cls, serverAddress: tuple[str, int], domain: bytes | str, reactor: Any = None
    ) -> SecondaryAuthority:
        """A secondary for ``domain`` copying from the primary at ``(host, port)``."""
        secondary = cls(serverAddress[0], domain, reactor)
        secondary._port = serverAddress[1]
        return secondary

    def _getReactor(self) -> Any:
        if self._reactor is None:
            from fw.internet import reactor

            self._reactor = reactor
        return self._reactor

    def _resolver(self) -> client.Resolver:
        assert self.primary is not None
        return client.Resolver(servers=[(self.primary, self._port)], reactor=self._getReactor())

    def loadFile(self, filename: str) -> None:
        """Secondaries load nothing from files."""

    def transfer(self) -> defer.Deferred[bool]:
        """
        Refresh the zone: ask the primary for its SOA and, if its serial is
        newer than ours (or we have none), transfer the zone.

        Returns:
            A Deferred firing with whether the zone was transferred; it fails
            when the primary cannot be reached or sends a bad zone.
        """
        if self.transferring:
            return defer.succeed(False)
        self.transferring = True
        assert self.domain is not None
        domain = self.domain

        async def refresh() -> bool:
            resolver = self._resolver()
            if self.soa is not None:
                message = await resolver.queryUDP([dns.Query(domain, dns.SOA)], (5,))
                serials = [rr.payload.serial for rr in message.answers if rr.type == dns.SOA]
                if serials and not serialIsNewer(serials[0], self.soa[1].serial):
                    return False
            zone = await resolver.lookupZone(domain)
            self._cbZone(zone)
            return True

        d = defer.ensureDeferred(refresh())

        def done(result: Any) -> Any:
            self.transferring = False
            return result

        d.addBoth(done)
        return d

    def _cbZone(self, zone: tuple[Sequence[Any], Sequence[Any], Sequence[Any]]) -> None:
        """Install a transferred zone: the SOA first, every record under the domain."""
        answers = list(zone[0])
        assert self.domain is not None
        apex = _lower(self.domain)
        if not answers or answers[0].type != dns.SOA or _lower(answers[0].name.name) != apex:
            raise DomainError(f"zone transfer of {apex!r} did not start with its SOA")
        if answers[-1].type == dns.SOA and len(answers) > 1:
            answers.pop()
        records: list[tuple[bytes, Any]] = []
        for rr in answers:
            owner = _lower(rr.name.name)
            if owner != apex and not owner.endswith(b"." + apex):
                continue  # RFC 5936 section 6: nothing from outside the zone.
            if rr.type == dns.SOA and records:
                continue
            payload = rr.payload
            payload.ttl = rr.ttl
            records.append((owner, payload))
        self._setRecords(records)
        self._lastRefresh = self._getReactor().seconds()

    def _ebZone(self, failure: Any) -> None:
        _log.failure(
            "Updating {domain} from {primary} failed",
            failure,
            domain=self.domain,
            primary=self.primary,
        )

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        if self.soa is None:
            return defer.fail(DomainError(name))
        return super()._lookup(name, cls, type, timeout)

    # Same as FileAuthority._lookupNow when the zone is not loaded.
    _syncLookupOf = _lookup

    def lookupZone(
        self, name: bytes, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """The zone, for secondaries of this secondary."""
        if self.soa is None:
            return defer.fail(DomainError(name))
        return super().lookupZone(name, timeout)

    def notified(self, name: bytes, host: str) -> bool:
        """
        A NOTIFY (RFC 1996) for ``name`` came from ``host``: when that is
        this zone and its primary, refresh now (the serial check decides
        whether to transfer).

        Returns:
            Whether the NOTIFY was for this secondary.
        """
        if self.domain is None or _lower(name) != _lower(self.domain) or host != self.primary:
            return False
        if not self.transferring:
            self._refreshNow()
        return True

    # -- the SOA timers ---------------------------------------------------------

    def startRefreshing(self) -> None:
        """Transfer now, then keep the zone fresh on the SOA's timers."""
        self._refreshNow()

    def stopRefreshing(self) -> None:
        """Stop the timers (a transfer under way still completes)."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _schedule(self, delay: float) -> None:
        self.stopRefreshing()
        self._timer = self._getReactor().callLater(delay, self._refreshNow)

    def _refreshNow(self) -> None:
        self.stopRefreshing()
        d = self.transfer()

        def ok(_: Any) -> None:
            if self.soa is not None:
                self._lastRefresh = self._getReactor().seconds()
                self._schedule(max(1, self.soa[1].refresh))
            else:
                self._schedule(DEFAULT_RETRY)

        def failed(failure: Any) -> None:
            self._ebZone(failure)
            if self.soa is None:
                self._schedule(DEFAULT_RETRY)
                return
            soa = self.soa[1]
            now = self._getReactor().seconds()
            if self._lastRefresh is not None and now - self._lastRefresh >= soa.expire:
                # RFC 1034 section 4.3.5: an expired zone is no longer served.
                _log.warn("Zone {domain} expired", domain=self.domain)
                self.soa = None
                self.records = {}
                self._schedule(DEFAULT_RETRY)
                return
            self._schedule(max(1, soa.retry))

        d.addCallbacks(ok, failed)


class SecondaryAuthorityService(service.Service):
    """
    A service keeping secondary zones from one primary fresh while it runs.

    Args:
        primary: the primary server's address.
        domains: the zones to copy.

    Attributes:
        domains: the :class:`SecondaryAuthority` of each zone.
    """

    def __init__(self, primary: str, domains: Sequence[bytes | str], reactor: Any = None) -> None:
        self.primary = primary
        self._port = dns.PORT
        self.domains = [SecondaryAuthority(primary, d, reactor) for d in domains]

    @classmethod
    def fromServerAddressAndDomains(
        cls, serverAddress: tuple[str, int], domains: Sequence[bytes | str], reactor: Any = None
    ) -> SecondaryAuthorityService:
        """A service copying ``domains`` from the primary at ``(host, port)``."""
        svc = cls(serverAddress[0], [], reactor)
        svc._port = serverAddress[1]
        svc.domains = [
            SecondaryAuthority.fromServerAddressAndDomain(serverAddress, d, reactor)
            for d in domains
        ]
        return svc

    def getAuthority(self) -> list[SecondaryAuthority]:
        """The secondary authorities, for a server's ``authorities``."""
        return list(self.domains)

    def startService(self) -> None:
        """Start refreshing every zone."""
        super().startService()
        for secondary in self.domains:
            secondary.startRefreshing()

    def stopService(self) -> Any:
        """Stop the refresh timers."""
        for secondary in self.domains:
            secondary.stopRefreshing()
        return super().stopService()
