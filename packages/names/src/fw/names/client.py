"""
The DNS client: :class:`Resolver` asks the name servers of resolv.conf (or
those given) over UDP, retrying with growing timeouts, over TCP when an
answer is truncated, from a random source port with a random ID, accepting
only answers from the server asked, for the question asked (RFC 5452).

``createResolver()`` chains the hosts file, a cache and a ``Resolver``;
``getResolver()`` is a shared one.  :class:`HostnameResolver` makes any
resolver the reactor's name resolver (``installResolver``), so
``HostnameEndpoint`` and ``connectTCP`` with host names use it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Sequence
from typing import Any

from zope.interface import implementer

from fw.internet import defer, protocol
from fw.internet import error as ierror
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred
from fw.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from fw.logger import Logger
from fw.names import common, dns
from fw.names._client_config import ResolvConf, parseResolvConf
from fw.names.common import IResolver, Result
from fw.names.error import DNSFormatError, DNSNameError, DNSQueryTimeoutError, ResolverError
from fw.python.failure import Failure

__all__ = [
    "AXFRController", "DNSClientFactory", "HostnameResolver", "Resolver", "createResolver",
    "getHostByName", "getResolver", "installResolver", "lookupAddress", "lookupAllRecords",
    "lookupIPV6Address", "lookupMailExchange", "lookupNameservers", "lookupPointer",
    "lookupService", "lookupText", "lookupZone",
]  # fmt: skip

_log = Logger(namespace="fw.names.client")

# How many random source ports to try before letting the system choose.
_PORT_TRIES = 10

#: The most records a zone transfer may bring before it is abandoned: the
#: server controls the count, so it is bounded (a million records is several
#: hundred megabytes of Python objects, more than any zone fw serves).
MAX_ZONE_RECORDS = 1_000_000


class _Controller:
    """Receives what a query protocol gets that is not an answer (nothing, for a client)."""

    def __init__(self) -> None:
        self.connected: Deferred[Any] = Deferred()
        self.lost = False

    def connectionMade(self, protocol: Any) -> None:
        if not self.connected.called:
            self.connected.callback(protocol)

    def connectionLost(self, protocol: Any) -> None:
        self.lost = True

    def messageReceived(self, message: Any, protocol: Any, address: Any = None) -> None:
        _log.debug("unexpected message {id} from {address}", id=message.id, address=address)


class DNSClientFactory(protocol.ClientFactory):
    """Makes a :class:`~fw.names.dns.DNSProtocol` for a TCP query."""

    def __init__(self, controller: Any, timeout: float = 10, reactor: Any = None) -> None:
        self.controller = controller
        self.timeout = timeout
        self.reactor = reactor

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """Fail whoever waits for the connection."""
        waiting = getattr(self.controller, "connected", None)
        if waiting is not None and not waiting.called:
            waiting.errback(reason)

    def buildProtocol(self, addr: Any) -> dns.DNSProtocol:
        """A DNS-over-TCP protocol for this controller."""
        p = dns.DNSProtocol(self.controller, self.reactor)
        p.factory = self
        return p


@implementer(IResolver)
class Resolver(common.ResolverBase):
    """
    A stub resolver.

    Args:
        resolv: a resolv.conf path (default ``/etc/resolv.conf`` when
            ``servers`` is not given); its ``nameserver``, ``search``/``domain``
            and ``options ndots/timeout/attempts`` are used.
        servers: ``(host, port)`` pairs, asked before resolv.conf's.
        timeout: the UDP timeout of each round; every server is tried once
            per round.  A resolv.conf ``timeout``/``attempts`` option replaces
            the default.
        reactor: the reactor (the global one by default).
    """

    index = 0
    #: The most records ``lookupZone`` accepts (the server controls the count).
    maxZoneRecords = MAX_ZONE_RECORDS

    def __init__(
        self,
        resolv: str | None = None,
        servers: Sequence[tuple[str, int]] | None = None,
        timeout: Sequence[float] = (1, 3, 11, 45),
        reactor: Any = None,
    ) -> None:
        super().__init__()
        if reactor is None:
            from fw.internet import reactor as _reactor

            reactor = _reactor
        self._reactor = reactor
        self.timeout = tuple(timeout)
        self._explicitTimeout = tuple(timeout) != (1, 3, 11, 45)
        self.servers = [(h, int(p)) for h, p in (servers or [])]
        self.resolv = resolv
        self.dynServers: list[tuple[str, int]] = []
        self.search: list[bytes] = []
        self.ndots = 1
        self._lastRead = -1e9
        self._mtime: float | None = None
        if resolv is None and not self.servers:
            self.resolv = "/etc/resolv.conf"
        if self.resolv:
            self.parseConfig(self.resolv)
        if not self.servers and not self.dynServers:
            raise ValueError("No nameservers specified")
        self.connections: list[Any] = []
        self.pending: list[Any] = []

    # -- configuration ------------------------------------------------------------

    def parseConfig(self, resolvConf: Any) -> None:
        """Read a resolv.conf path or open file; a missing file means 127.0.0.1 (as libc)."""
        try:
            if hasattr(resolvConf, "read"):
                text = resolvConf.read()
            else:
                with open(resolvConf, "rb") as f:
                    text = f.read()
                self._mtime = os.path.getmtime(resolvConf)
        except OSError:
            _log.info("no resolv.conf at {path}; using 127.0.0.1", path=resolvConf)
            self.dynServers = [("127.0.0.1", dns.PORT)]
            return
        self._apply(parseResolvConf(text))

    def _apply(self, conf: ResolvConf) -> None:
        self.dynServers = conf.nameservers or [("127.0.0.1", dns.PORT)]
        self.search = conf.search
        self.ndots = conf.ndots
        if not self._explicitTimeout:
            self.timeout = tuple([float(conf.timeout)] * conf.attempts)

    def maybeParseConfig(self) -> None:
        """Re-read resolv.conf if it changed (checked at most once a minute)."""
        if not self.resolv:
            return
        now = self._reactor.seconds()
        if now - self._lastRead < 60:
            return
        self._lastRead = now
        try:
            mtime = os.path.getmtime(self.resolv)
        except OSError:
            return
        if mtime != self._mtime:
            self.parseConfig(self.resolv)

    def pickServer(self) -> tuple[str, int]:
        """The next server to ask, round robin."""
        servers = self.servers + self.dynServers
        address = servers[self.index % len(servers)]
        self.index = (self.index + 1) % len(servers)
        return address

    # -- transports ------------------------------------------------------------------

    def _connectedProtocol(self, interface: str = "") -> dns.DNSDatagramProtocol:
        """A UDP protocol on a fresh random source port (RFC 5452 section 9.2)."""
        proto = dns.DNSDatagramProtocol(_Controller(), reactor=self._reactor)
        for _ in range(_PORT_TRIES):
            port = 1024 + secrets.randbelow(65536 - 1024)
            try:
                self._reactor.listenUDP(port, proto, interface=interface, maxPacketSize=65535)
            except ierror.CannotListenError:
                continue
            return proto
        self._reactor.listenUDP(0, proto, interface=interface, maxPacketSize=65535)
        return proto

    def _query(
        self, address: tuple[str, int], queries: list[dns.Query], timeout: float,
        id: int | None = None,
    ) -> Deferred[dns.Message]:  # fmt: skip
        family6 = ":" in address[0]
        proto = self._connectedProtocol("::" if family6 else "")
        d = proto.query(address, queries, timeout, id)

        def done(result: Any) -> Any:
            # Close the port before passing the result on, so nothing is left behind.
            transport = proto.transport
            if transport is None:
                return result
            closed = defer.maybeDeferred(transport.stopListening)
            return closed.addCallback(lambda _: result)

        d.addBoth(done)
        return d

    def queryUDP(
        self, queries: list[dns.Query], timeout: Sequence[float] | None = None
    ) -> Deferred[dns.Message]:
        """
        Ask over UDP: each round of ``timeout`` asks every server in turn;
        fails with :class:`DNSQueryTimeoutError` when all rounds pass unanswered.
        """
        rounds = list(timeout if timeout is not None else self.timeout)
        servers = self.servers + self.dynServers
        plan = [(server, t) for t in rounds for server in servers]
        if not plan:
            return defer.fail(DNSQueryTimeoutError(0))
        result: Deferred[dns.Message] = Deferred()

        def attempt(i: int) -> None:
            server, t = plan[i]
            d = self._query(server, queries, t)

            def failed(failure: Failure) -> None:
                if failure.check(DNSQueryTimeoutError, DNSFormatError) and i + 1 < len(plan):
                    attempt(i + 1)
                else:
                    result.errback(failure)

            d.addCallbacks(result.callback, failed)

        attempt(0)
        return result

    def queryTCP(
        self, queries: list[dns.Query], timeout: float = 10, address: tuple[str, int] | None = None
    ) -> Deferred[dns.Message]:
        """Ask over TCP (the first server unless ``address`` is given)."""
        host, port = address or (self.servers + self.dynServers)[0]
        controller = _Controller()
        factory = DNSClientFactory(controller, timeout, self._reactor)
        connector = self._reactor.connectTCP(host, port, factory, timeout=timeout)

        def connected(proto: dns.DNSProtocol) -> Deferred[dns.Message]:
            d = proto.query(queries, timeout)

            def close(result: Any) -> Any:
                proto.transport.loseConnection()
                return result

            return d.addBoth(close)

        d = controller.connected.addCallback(connected)
        self.connections.append(connector)

        def forget(result: Any) -> Any:
            self.connections.remove(connector)
            return result

        d.addBoth(forget)
        return d

    # -- answers ---------------------------------------------------------------------

    def filterAnswers(self, message: dns.Message) -> Any:
        """
        The ``(answers, authority, additional)`` of ``message``; a truncated
        answer is asked again over TCP, an error rcode becomes its exception.
        """
        if message.trunc:
            return self.queryTCP(message.queries).addCallback(self.filterAnswers)
        if message.rCode != dns.OK:
            return Failure(self.exceptionForCode(message.rCode)(message))
        return (message.answers, message.authority, message.additional)

    def _candidates(self, name: bytes) -> list[bytes]:
        """The names to try for ``name``, per the search list and ndots (resolv.conf(5))."""
        if not self.search or name.endswith(b"."):
            return [name.rstrip(b".")]
        withSearch = [name + b"." + domain for domain in self.search]
        if name.count(b".") >= self.ndots:
            return [name, *withSearch]
        return [*withSearch, name]

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[float] | None
    ) -> Deferred[Result]:
        self.maybeParseConfig()
        candidates = self._candidates(name) if type != dns.PTR else [name]
        result: Deferred[Result] = Deferred()

        def attempt(i: int) -> None:
            d = self.queryUDP([dns.Query(candidates[i], type, cls)], timeout)
            d.addCallback(self.filterAnswers)

            def failed(failure: Failure) -> None:
                if failure.check(DNSNameError) and i + 1 < len(candidates):
                    attempt(i + 1)
                else:
                    result.errback(failure)

            d.addCallbacks(result.callback, failed)

        attempt(0)
        return result

    def lookupZone(self, name: Any, timeout: Any = 10) -> Deferred[Result]:
        """Transfer the zone ``name`` over TCP (AXFR, RFC 5936): ``(records, [], [])``."""
        if not isinstance(timeout, int | float):
            timeout = 10
        host, port = (self.servers + self.dynServers)[0]
        controller = AXFRController(dns.Name(name).name, Deferred(), self.maxZoneRecords)
        factory = DNSClientFactory(controller, timeout, self._reactor)
        self._reactor.connectTCP(host, port, factory, timeout=timeout)
        d = controller.deferred

        def timedOut() -> None:
            if not d.called:
                controller.abort(DNSQueryTimeoutError(name))

        call = self._reactor.callLater(timeout, timedOut)

        def finish(result: Any) -> Any:
            if call.active():
                call.cancel()
            return result

        result: Deferred[Any] = d.addBoth(finish)
        return result.addCallback(lambda records: (records, [], []))

    def getHostByName(
        self, name: Any, timeout: Sequence[int] | None = None, effort: int = 10
    ) -> Deferred[str]:
        """
        One address for ``name``: an A record, else AAAA; CNAMEs are followed.

        Fails with :class:`fw.internet.error.DNSLookupError`.
        """
        target = dns.Name(name)

        def gotA(records: Result) -> Any:
            found = common.extractRecord(self, target, records[0], effort)
            if found:
                return found
            return self.lookupIPV6Address(name, timeout).addCallback(gotAAAA)

        def gotAAAA(records: Result) -> Any:
            found = common.extractRecord(self, target, records[0], effort)
            if not found:
                raise ierror.DNSLookupError(str(target))
            return found

        def failed(failure: Failure) -> Any:
            if failure.check(ierror.DNSLookupError):
                return failure
            return Failure(ierror.DNSLookupError(f"{target}: {failure.getErrorMessage()}"))

        return self.lookupAddress(name, timeout).addCallback(gotA).addErrback(failed)


class AXFRController:
    """
    Collects a zone transfer: records until the closing SOA (RFC 5936
    section 2.2), failing with :class:`DNSFormatError` past ``maxRecords``.
    """

    def __init__(
        self,
        name: bytes,
        deferred: Deferred[list[dns.RRHeader]],
        maxRecords: int = MAX_ZONE_RECORDS,
    ) -> None:
        self.name = name
        self.deferred = deferred
        self.maxRecords = maxRecords
        self.soa: dns.RRHeader | None = None
        self.records: list[dns.RRHeader] = []
        self._protocol: Any = None

    def connectionMade(self, protocol: dns.DNSProtocol) -> None:
        """Send the AXFR question."""
        self._protocol = protocol
        message = dns.Message(protocol.pickID(), recDes=0)
        message.queries = [dns.Query(self.name, dns.AXFR, dns.IN)]
        protocol.writeMessage(message)

    def connectionLost(self, protocol: Any) -> None:
        """A transfer cut short fails."""
        if not self.deferred.called:
            self.deferred.errback(DNSFormatError("zone transfer ended before its closing SOA"))

    def abort(self, reason: Exception) -> None:
        """Fail the transfer and close the connection."""
        if not self.deferred.called:
            self.deferred.errback(reason)
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.loseConnection()

    def messageReceived(self, message: dns.Message, protocol: Any, address: Any = None) -> None:
        """Add a message's answers; the second SOA ends the transfer."""
        if self.deferred.called:
            return
        if message.rCode != dns.OK:
            self.abort(common.ResolverBase().exceptionForCode(message.rCode)(message))
            return
        if len(self.records) + len(message.answers) > self.maxRecords:
            self.abort(DNSFormatError(f"zone transfer longer than {self.maxRecords} records"))
            return
        for rr in message.answers:
            self.records.append(rr)
            if rr.type == dns.SOA:
                if self.soa is None:
                    self.soa = rr
                else:
                    self.deferred.callback(self.records)
                    protocol.transport.loseConnection()
                    return
        if self.soa is None:
            self.abort(DNSFormatError("zone transfer did not start with an SOA"))


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@implementer(IHostnameResolver)
class HostnameResolver:
    """
    Any :class:`IResolver` as the reactor's :class:`IHostnameResolver`: A and
    AAAA lookups (as ``addressTypes`` asks), IP literals passed through.
    """

    def __init__(self, resolver: Any) -> None:
        self.resolver = resolver

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Resolve ``hostName``, telling ``resolutionReceiver`` each address."""
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        kinds = set(addressTypes or (IPv4Address, IPv6Address))
        kind = "UDP" if transportSemantics == "UDP" else "TCP"
        try:
            literal = ipaddress.ip_address(hostName)
        except ValueError:
            literal = None
        if literal is not None:
            cls = IPv4Address if literal.version == 4 else IPv6Address
            if cls in kinds:
                resolutionReceiver.addressResolved(cls(kind, str(literal), portNumber))  # type: ignore[arg-type]
            resolutionReceiver.resolutionComplete()
            return resolution
        lookups: list[Deferred[Any]] = []
        if IPv4Address in kinds:
            lookups.append(self.resolver.lookupAddress(hostName).addCallback(_addresses, dns.A))
        if IPv6Address in kinds:
            lookups.append(
                self.resolver.lookupIPV6Address(hostName).addCallback(_addresses, dns.AAAA)
            )
        # Failures (NXDOMAIN, timeouts) just mean no addresses from that lookup.
        gathered = defer.DeferredList(lookups, consumeErrors=True)

        def deliver(results: list[tuple[bool, Any]]) -> None:
            if not resolution.cancelled:
                for ok, addresses in results:
                    if ok:
                        for address in addresses:
                            cls = IPv6Address if ":" in address else IPv4Address
                            resolutionReceiver.addressResolved(cls(kind, address, portNumber))  # type: ignore[arg-type]
            resolutionReceiver.resolutionComplete()

        gathered.addCallback(deliver)
        return resolution


def _addresses(result: Result, type: int) -> list[str]:
    import socket

    family = socket.AF_INET if type == dns.A else socket.AF_INET6
    return [socket.inet_ntop(family, rr.payload.address) for rr in result[0] if rr.type == type]


def installResolver(resolver: Any = None, reactor: Any = None) -> Any:
    """
    Make ``resolver`` (``getResolver()`` by default) the reactor's name
    resolver, so ``HostnameEndpoint`` and ``connectTCP`` use it.  Returns the
    name resolver it replaced.
    """
    if reactor is None:
        from fw.internet import reactor as _reactor

        reactor = _reactor
    return reactor.installNameResolver(HostnameResolver(resolver or getResolver()))


def createResolver(
    servers: Sequence[tuple[str, int]] | None = None,
    resolvconf: str | None = None,
    hosts: str | bytes | None = None,
    reactor: Any = None,
) -> Any:
    """
    The usual resolver: the hosts file, then a cache, then a
    :class:`Resolver` for ``servers`` or resolv.conf.
    """
    from fw.names import cache, resolve
    from fw.names import hosts as hostsModule

    if hosts is None:
        hosts = b"/etc/hosts"
    theResolver = Resolver(resolvconf, servers, reactor=reactor)
    hostResolver = hostsModule.Resolver(hosts)
    chain = [hostResolver, cache.CacheResolver(reactor=reactor), theResolver]
    return resolve.ResolverChain(chain)


theResolver: Any = None


def getResolver() -> Any:
    """The shared resolver from :func:`createResolver` (made on first use)."""
    global theResolver
    if theResolver is None:
        try:
            theResolver = createResolver()
        except ValueError:
            theResolver = createResolver(servers=[("127.0.0.1", 53)])
    return theResolver


def getHostByName(
    name: Any, timeout: Sequence[float] | None = None, effort: int = 10
) -> Deferred[str]:
    """``getResolver().getHostByName``."""
    return getResolver().getHostByName(name, timeout, effort)  # type: ignore[no-any-return]


def _shortcut(method: str) -> Any:
    def lookup(name: Any, timeout: Sequence[float] | None = None) -> Deferred[Result]:
        return getattr(getResolver(), method)(name, timeout)  # type: ignore[no-any-return]

    lookup.__name__ = method
    lookup.__doc__ = f"``getResolver().{method}(name, timeout)``."
    return lookup


lookupAddress = _shortcut("lookupAddress")
lookupIPV6Address = _shortcut("lookupIPV6Address")
lookupMailExchange = _shortcut("lookupMailExchange")
lookupNameservers = _shortcut("lookupNameservers")
lookupPointer = _shortcut("lookupPointer")
lookupService = _shortcut("lookupService")
lookupText = _shortcut("lookupText")
lookupAllRecords = _shortcut("lookupAllRecords")
lookupZone = _shortcut("lookupZone")
lookupCanonicalName = _shortcut("lookupCanonicalName")
lookupAuthority = _shortcut("lookupAuthority")
lookupNamingAuthorityPointer = _shortcut("lookupNamingAuthorityPointer")
lookupSenderPolicy = _shortcut("lookupSenderPolicy")
lookupHostInfo = _shortcut("lookupHostInfo")
lookupResponsibility = _shortcut("lookupResponsibility")
lookupAFSDatabase = _shortcut("lookupAFSDatabase")

_unused = ResolverError
