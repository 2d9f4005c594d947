"""
A DNS server: :class:`DNSServerFactory` answers queries from a chain of
resolvers (authorities, then caches, then recursive clients).

The protocols (``fw.names.dns.DNSDatagramProtocol`` for UDP,
``fw.names.dns.DNSProtocol`` for TCP) parse each query and hand it to the
factory's :meth:`~DNSServerFactory.messageReceived`; the factory picks a
handler by opcode; :meth:`~DNSServerFactory.handleQuery` asks
``self.resolver`` and, when its Deferred fires,
:meth:`~DNSServerFactory.gotResolverResponse` or
:meth:`~DNSServerFactory.gotResolverError` builds the response and
:meth:`~DNSServerFactory.sendReply` writes it::

    messageReceived -> allowQuery -> handleQuery -> resolver.query
        -> (gotResolverResponse | gotResolverError) -> sendReply

Example, an authoritative server for one BIND zone file::

    from fw.internet import reactor
    from fw.names import authority, dns, server

    factory = server.DNSServerFactory(authorities=[authority.BindAuthority("example.com")])
    reactor.listenUDP(10053, dns.DNSDatagramProtocol(factory))
    reactor.listenTCP(10053, factory)
    reactor.run()
"""

from __future__ import annotations

import io
import ipaddress
import time
from collections.abc import Iterable, Sequence
from typing import Any

from fw.internet import defer, protocol
from fw.logger import Logger
from fw.names import common, dns, resolve
from fw.names._authority_errors import AuthoritativeNameError
from fw.names._server_edns import (
    DEFAULT_EDNS_UDP_SIZE,
    MIN_UDP_SIZE,
    ServerMessage,
    ednsOf,
    setBadVersion,
    setResponseEDNS,
)
from fw.names._server_limits import RateLimiter
from fw.names.error import DomainError
from fw.python.failure import Failure

__all__ = ["DEFAULT_EDNS_UDP_SIZE", "MAX_AXFR_MESSAGE_SIZE", "DNSServerFactory", "RateLimiter"]

#: The size a zone transfer's messages are kept under (RFC 5936 section 2.2
#: lets a transfer use many messages; 16 KiB keeps each well below TCP's
#: 65535-octet message limit, as BIND does).
MAX_AXFR_MESSAGE_SIZE = 16384

#: Seconds a TCP client may stay connected without sending a whole query
#: (RFC 7766 section 6.2.3 asks for seconds, not minutes; BIND's initial
#: timeout is 30 s).  Partial queries do not reset it, so a client that
#: trickles bytes is cut off.
DEFAULT_TCP_IDLE_TIMEOUT = 30.0

#: The most TCP clients served at once (each holds a socket and a buffer;
#: UDP is the normal path, so a thousand is plenty).
DEFAULT_MAX_TCP_CONNECTIONS = 1000

_log = Logger()


def _addressAllowed(host: str, allowed: Sequence[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip in network for network in allowed)


class DNSServerFactory(protocol.ServerFactory):
    """
    The factory of a DNS server's protocols, and the server's logic.

    Args:
        authorities: resolvers authoritative for zones, asked first.
        caches: caches, asked next; the last one also learns every
            non-authoritative answer (``cacheResult``).
        clients: recursive resolvers, asked last; giving any makes the
            server offer recursion (the RA bit).
        verbose: how much to log: 0 nothing, 1 queries, 2 responses too.
        allowTransfer: addresses or networks (``"192.0.2.0/24"``) allowed
            zone transfers (AXFR, IXFR over TCP); none by default.
        rateLimit: the most UDP queries per second answered for one client
            address (burst: twice as many); more are dropped.  ``None``
            (the default) does not limit.
        maxUDPSize: the largest UDP response, whatever the client's EDNS
            payload size (RFC 6891 section 6.2.5; 1232 octets avoids IP
            fragmentation, the 2020 DNS flag day's figure).
        tcpIdleTimeout: seconds before a TCP connection that sends no whole
            query is closed.
        maxTCPConnections: the most TCP connections served at once; more
            are closed as they come.
        reactor: the reactor (for the rate limiter's clock); by default the
            global one.

    Attributes:
        resolver: the ``ResolverChain`` of all the resolvers.
        cache: the cache that learns answers, or ``None``.
        canRecurse: whether the server offers recursion.
        connections: the connected TCP protocols.
    """

    protocol = dns.DNSProtocol  # type: ignore[assignment]
    cache: Any = None
    #: The UDP query being answered that may go in the reply cache:
    #: ``(query bytes after the ID, protocol, address)``.
    _fill: tuple[bytes, Any, Any] | None = None
    #: Whether :meth:`_answerNow` is replying with a zone's answer.
    _syncReplying = False

    def __init__(
        self,
        authorities: Sequence[Any] | None = None,
        caches: Sequence[Any] | None = None,
        clients: Sequence[Any] | None = None,
        verbose: int = 0,
        *,
        allowTransfer: Iterable[str] = (),
        rateLimit: float | None = None,
        maxUDPSize: int = DEFAULT_EDNS_UDP_SIZE,
        tcpIdleTimeout: float = DEFAULT_TCP_IDLE_TIMEOUT,
        maxTCPConnections: int = DEFAULT_MAX_TCP_CONNECTIONS,
        reactor: Any = None,
    ) -> None:
        self.authorities = list(authorities or [])
        resolvers: list[Any] = [*self.authorities, *(caches or []), *(clients or [])]
        self.canRecurse = bool(clients)
        self.resolver = resolve.ResolverChain(resolvers)
        self.verbose = verbose
        if caches:
            self.cache = caches[-1]
        self.connections: list[Any] = []
        self.allowTransfer = [ipaddress.ip_network(a, strict=False) for a in allowTransfer]
        self.maxUDPSize = max(MIN_UDP_SIZE, maxUDPSize)
        self._reactor = reactor
        self.rateLimiter = (
            RateLimiter(rateLimit, 2 * rateLimit, self._seconds) if rateLimit else None
        )
        self.tcpIdleTimeout = tcpIdleTimeout
        self.maxTCPConnections = maxTCPConnections
        self._idleTimers: dict[Any, Any] = {}
        # The reply cache (see _cachedReply): query bytes after the ID ->
        # (reply bytes after the ID, class, type, what the reply depends on).
        self._replies: dict[bytes, tuple[bytes, int, int, tuple[Any, ...]]] = {}

    def _getReactor(self) -> Any:
        if self._reactor is None:
            from fw.internet import reactor

            self._reactor = reactor
        return self._reactor

    def _seconds(self) -> float:
        return float(self._getReactor().seconds())

    # -- connections --------------------------------------------------------

    def buildProtocol(self, addr: Any) -> Any:
        """A ``DNSProtocol`` for a TCP connection."""
        p = self.protocol(self)
        p.factory = self
        return p

    def connectionMade(self, protocol: Any) -> None:
        """
        Remember a TCP connection (its protocol calls this), or close it when
        :attr:`maxTCPConnections` are already open.
        """
        if len(self.connections) >= self.maxTCPConnections:
            self._verboseLog(1, "Too many TCP connections: closing a new one")
            protocol.transport.loseConnection()
            return
        self.connections.append(protocol)
        self._resetIdle(protocol)

    def connectionLost(self, protocol: Any) -> None:
        """Forget a TCP connection (its protocol calls this)."""
        if protocol in self.connections:
            self.connections.remove(protocol)
        timer = self._idleTimers.pop(protocol, None)
        if timer is not None and timer.active():
            timer.cancel()

    def _resetIdle(self, protocol: Any) -> None:
        """(Re)start a TCP connection's idle timer (RFC 7766 section 6.2.3)."""
        if protocol not in self.connections:
            return
        timer = self._idleTimers.get(protocol)
        if timer is not None and timer.active():
            timer.reset(self.tcpIdleTimeout)
        else:
            self._idleTimers[protocol] = self._getReactor().callLater(
                self.tcpIdleTimeout, self._idleTimedOut, protocol
            )

    def _idleTimedOut(self, protocol: Any) -> None:
        self._idleTimers.pop(protocol, None)
        self._verboseLog(1, "Closing an idle TCP connection")
        if protocol.transport is not None:
            protocol.transport.loseConnection()

    # -- responses ----------------------------------------------------------

    def _verboseLog(self, level: int, format: str, **kwargs: Any) -> None:
        if self.verbose >= level:
            _log.info(format, **kwargs)

    def _responseFromMessage(
        self,
        message: Any,
        rCode: int = dns.OK,
        answers: Sequence[Any] | None = None,
        authority: Sequence[Any] | None = None,
        additional: Sequence[Any] | None = None,
    ) -> Any:
        """A response to ``message``: same ID, opcode, question and RD bit."""
        response = ServerMessage(
            id=message.id,
            answer=1,
            opCode=message.opCode,
            recDes=message.recDes,
            recAv=int(self.canRecurse),
            rCode=rCode,
        )
        response.queries = list(message.queries)
        response.answers = list(answers or [])
        response.authority = list(authority or [])
        response.additional = list(additional or [])
        # AA: the answer comes from an authority (RFC 1035 section 4.1.1); a
        # referral's records are not authoritative.
        response.auth = int(any(rr.auth for rr in [*response.answers, *response.authority]))
        setResponseEDNS(response, message, self.maxUDPSize)
        return response

    def sendReply(self, protocol: Any, message: Any, address: Any) -> None:
        """
        Write ``message`` with ``protocol``: to ``address`` over UDP (cut
        down to the client's payload size, with TC set when records had to
        go), or on the connection over TCP (``address`` is ``None``).
        """
        self._verboseLog(
            2, "Replying to {address} with {count} records", address=address, count=_count(message)
        )
        if address is None:
            message.maxSize = 0xFFFF
            protocol.writeMessage(message)
            return
        edns = getattr(message, "_queryEDNS", None)
        message.maxSize = MIN_UDP_SIZE if edns is None else min(edns, self.maxUDPSize)
        fill = self._fill
        if (
            fill is not None
            and self._syncReplying
            and fill[1] is protocol
            and fill[2] is address
            and len(message.queries) == 1
        ):
            # The plain protocol's writeMessage, keeping the bytes.
            self._fill = None
            data = message.toStr()
            query = message.queries[0]
            if len(self._replies) >= _REPLY_CACHE_SIZE:
                self._replies.clear()
            self._replies[fill[0]] = (data[2:], query.cls, query.type, self._replyDepends())
            protocol.transport.write(data, address)
            return
        protocol.writeMessage(message, address)

    # -- the reply cache ----------------------------------------------------

    def _replyCacheable(self, protocol: Any) -> bool:
        """
        Whether replies to ``protocol``'s queries may come from the reply
        cache: no query logging, no cache to fill, and neither this factory
        nor the protocol changes how a query is answered or written.
        """
        if self.verbose or self.cache is not None or self.rateLimiter is not None:
            return False
        if "_replies" not in self.__dict__:
            # A subclass that did not call DNSServerFactory.__init__.
            return False
        kind = type(self)
        plain = _plainFactories.get(kind)
        if plain is None:
            plain = all(getattr(kind, m) is getattr(DNSServerFactory, m) for m in _REPLY_HOOKS)
            _plainFactories[kind] = plain
        if not plain or any(m in self.__dict__ for m in _REPLY_HOOKS):
            return False
        return type(protocol).writeMessage is dns.DNSDatagramProtocol.writeMessage

    def _replyDepends(self) -> tuple[Any, ...]:
        """What a cached reply depends on: the settings and every zone asked."""
        chain = self.resolver
        return (
            self.maxUDPSize,
            self.canRecurse,
            chain,
            tuple((r, _answersOf(r)) for r in chain.resolvers),
        )

    def _replyStillValid(self, cls: int, qtype: int, depends: tuple[Any, ...]) -> bool:
        maxUDPSize, canRecurse, chain, asked = depends
        if (
            chain is not self.resolver
            or type(chain) is not resolve.ResolverChain
            or maxUDPSize != self.maxUDPSize
            or canRecurse != self.canRecurse
            or len(chain.resolvers) != len(asked)
        ):
            return False
        for r, (then, answers) in zip(chain.resolvers, asked, strict=True):
            if r is not then or _syncLookup(r, cls, qtype) is None or _answersOf(r) is not answers:
                return False
        return True

    def _cachedReply(self, data: bytes, protocol: Any, address: Any) -> bool:
        """
        Answer the UDP query ``data`` (a query, not one of the protocol's
        own) from the reply cache: an earlier reply to the same bytes (all
        but the ID) from the same unchanged zones.  On a miss, remember the
        query so that :meth:`sendReply` can cache the reply the zones give.

        Returns:
            whether the query was answered; if not, the protocol parses it,
            hands it to :meth:`messageReceived` and then calls
            :meth:`_cachedReplyDone`.
        """
        self._fill = None
        if address is None or not self._replyCacheable(protocol):
            return False
        key = data[2:]
        entry = self._replies.get(key)
        if entry is not None:
            reply, cls, qtype, depends = entry
            if self._replyStillValid(cls, qtype, depends):
                protocol.transport.write(data[:2] + reply, address)
                return True
            del self._replies[key]
        self._fill = (key, protocol, address)
        return False

    def _cachedReplyDone(self) -> None:
        """The query remembered by :meth:`_cachedReply` has been dealt with."""
        self._fill = None

    def gotResolverResponse(
        self,
        response: tuple[Sequence[Any], Sequence[Any], Sequence[Any]],
        protocol: Any,
        message: Any,
        address: Any,
    ) -> None:
        """Answer with the resolver's ``(answers, authority, additional)``."""
        ans, auth, add = response
        reply = self._responseFromMessage(message, dns.OK, ans, auth, add)
        if self.cache is not None and not reply.auth and (ans or auth):
            self.cache.cacheResult(message.queries[0], (ans, auth, add))
        self.sendReply(protocol, reply, address)

    def gotResolverError(
        self, failure: Failure, protocol: Any, message: Any, address: Any
    ) -> None:
        """
        Answer a failed lookup: NXDOMAIN (with the authority's SOA) for a
        name an authority or upstream server says does not exist, the
        upstream server's error code for its other errors, REFUSED when no
        resolver is authoritative and the server does not recurse, and
        SERVFAIL for anything else (logged).
        """
        value = failure.value
        answers: list[Any] = []
        authority: list[Any] = []
        additional: list[Any] = []
        if isinstance(value, AuthoritativeNameError):
            rCode = dns.ENAME
            answers, authority, additional = value.answers, value.authority, value.additional
        elif isinstance(value, DomainError) and value.rCode is not None:
            rCode = value.rCode
            upstream = value.args[0] if value.args else None
            if rCode == dns.ENAME and isinstance(upstream, dns.Message):
                authority = [rr for rr in upstream.authority if rr.type == dns.SOA]
                if self.cache is not None and hasattr(self.cache, "cacheNegative"):
                    self.cache.cacheNegative(message.queries[0], authority)
        elif isinstance(value, DomainError):
            rCode = dns.ENAME if self.canRecurse else dns.EREFUSED
        else:
            rCode = dns.ESERVER
            _log.failure("Resolver failed for {query}", failure, query=message.queries)
        reply = self._responseFromMessage(message, rCode, answers, authority, additional)
        self.sendReply(protocol, reply, address)

    # -- handlers -----------------------------------------------------------

    def handleQuery(self, message: Any, protocol: Any, address: Any) -> defer.Deferred[Any]:
        """
        Answer a standard query: ask :attr:`resolver` for its one question
        (zone transfers go to :meth:`handleTransfer`).
        """
        query = message.queries[0]
        if query.type in (dns.AXFR, dns.IXFR):
            return self.handleTransfer(message, protocol, address)
        if self._answerNow(query, protocol, message, address):
            return defer.succeed(None)
        d: defer.Deferred[Any] = self.resolver.query(query)
        d.addCallback(self.gotResolverResponse, protocol, message, address)
        d.addErrback(self.gotResolverError, protocol, message, address)
        return d

    def _answerNow(self, query: Any, protocol: Any, message: Any, address: Any) -> bool:
        """
        Answer ``query`` without Deferreds when every resolver the chain
        would ask answers synchronously (the zone authorities do); the
        answer is the one :meth:`handleQuery`'s Deferred chain would give.

        Returns:
            whether the query was answered (false: ask the chain).
        """
        chain = self.resolver
        if type(chain) is not resolve.ResolverChain or not chain.resolvers:
            return False
        name, cls, qtype = query.name.name, query.cls, query.type
        lookups = []
        for r in chain.resolvers:
            lookup = _syncLookup(r, cls, qtype)
            if lookup is None:
                return False
            lookups.append(lookup)
        failure: Failure | None = None
        for lookup in lookups:
            try:
                result = lookup(name, cls, qtype)
            except DomainError as e:
                # The chain passes these on to the next resolver.
                failure = Failure(e)
                continue
            except AuthoritativeNameError as e:
                failure = Failure(e)
                break
            except Exception:  # noqa: BLE001 - answered SERVFAIL and logged, as the chain would
                self._fill = None
                failure = Failure()
                break
            self._syncReplying = True
            try:
                self.gotResolverResponse(result, protocol, message, address)
            except Exception:  # noqa: BLE001 - answered SERVFAIL and logged, as the chain would
                self._fill = None
                failure = Failure()
                break
            finally:
                self._syncReplying = False
            return True
        assert failure is not None
        self._syncReplying = self._fill is not None
        try:
            self.gotResolverError(failure, protocol, message, address)
        finally:
            self._syncReplying = False
        return True

    def handleTransfer(self, message: Any, protocol: Any, address: Any) -> defer.Deferred[Any]:
        """
        Send a whole zone (AXFR, RFC 5936; IXFR answered with the whole zone
        as RFC 1995 section 4 allows) over TCP to an allowed client, in as
        many messages as it takes.  Anything else is REFUSED.
        """
        peer = address if address is not None else _peerOf(protocol)
        host = peer[0] if isinstance(peer, tuple) else None
        if address is not None or host is None or not _addressAllowed(host, self.allowTransfer):
            self._verboseLog(1, "Refused a zone transfer to {peer}", peer=peer)
            self.sendReply(protocol, self._responseFromMessage(message, dns.EREFUSED), address)
            return defer.succeed(None)
        name = message.queries[0].name.name
        d: defer.Deferred[Any] = self._zoneRecords(name)

        def send(records: list[Any] | None) -> None:
            if records is None:
                reply = self._responseFromMessage(message, dns.EREFUSED)
                self.sendReply(protocol, reply, address)
                return
            for chunk in _chunks(records, message, self._responseFromMessage):
                self.sendReply(protocol, chunk, address)

        def failed(failure: Failure) -> None:
            _log.failure("Zone transfer of {name!r} failed", failure, name=name)
            self.sendReply(protocol, self._responseFromMessage(message, dns.ESERVER), address)

        d.addCallbacks(send, failed)
        return d

    def _zoneRecords(self, name: bytes) -> defer.Deferred[list[Any] | None]:
        async def find() -> list[Any] | None:
            for authority in self.authorities:
                try:
                    answers, _, _ = await authority.lookupZone(name)
                except DomainError:
                    continue
                for rr in answers:
                    rr.auth = True
                return list(answers)
            return None

        return defer.ensureDeferred(find())

    def handleInverseQuery(self, message: Any, protocol: Any, address: Any) -> None:
        """Inverse queries are obsolete (RFC 3425): NOTIMP."""
        self.sendReply(protocol, self._responseFromMessage(message, dns.ENOTIMP), address)

    def handleStatus(self, message: Any, protocol: Any, address: Any) -> None:
        """Status queries are undefined: NOTIMP."""
        self.sendReply(protocol, self._responseFromMessage(message, dns.ENOTIMP), address)

    def handleNotify(self, message: Any, protocol: Any, address: Any) -> None:
        """
        NOTIFY (RFC 1996): a primary says a zone changed.  When a secondary
        authority of this server copies that zone from the sender's address,
        it refreshes now and the NOTIFY is acknowledged; otherwise REFUSED.
        """
        peer = address if address is not None else _peerOf(protocol)
        host = peer[0] if isinstance(peer, tuple) else None
        name = message.queries[0].name.name
        for authority in self.authorities:
            notified = getattr(authority, "notified", None)
            if host is not None and notified is not None and notified(name, host):
                reply = self._responseFromMessage(message, dns.OK)
                reply.auth = 1
                self.sendReply(protocol, reply, address)
                return
        self.sendReply(protocol, self._responseFromMessage(message, dns.EREFUSED), address)

    def handleUpdate(self, message: Any, protocol: Any, address: Any) -> None:
        """Dynamic UPDATE (RFC 2136) is not offered: REFUSED."""
        self.sendReply(protocol, self._responseFromMessage(message, dns.EREFUSED), address)

    def handleOther(self, message: Any, protocol: Any, address: Any) -> None:
        """Any other opcode: NOTIMP."""
        self.sendReply(protocol, self._responseFromMessage(message, dns.ENOTIMP), address)

    def allowQuery(self, message: Any, protocol: Any, address: Any) -> bool:
        """
        Whether to answer ``message`` (from ``address``, or on the TCP
        connection ``protocol``); a query not allowed is REFUSED.  By default
        every query with exactly one question is; override to filter clients.
        """
        return len(message.queries) == 1

    def _overLimit(self, address: Any) -> bool:
        """Whether a UDP client (``address`` not ``None``) is over its rate limit."""
        if address is None or self.rateLimiter is None:
            return False
        return not self.rateLimiter.allow(address[0])

    def malformedMessageReceived(self, data: bytes, proto: Any, address: Any, error: Any) -> None:
        """
        Answer a query that could not be parsed with FORMERR (RFC 1035
        section 4.1.1), echoing its ID and opcode and nothing else; drop it
        when even the header is missing or it claims to be a response.
        """
        if len(data) < 12 or data[2] & 0x80:
            return
        if self._overLimit(address):
            return
        self._verboseLog(
            1, "Malformed query from {address}: {error}", address=address, error=error
        )
        reply = ServerMessage(
            id=int.from_bytes(data[:2], "big"),
            answer=1,
            opCode=(data[2] >> 3) & 0xF,
            recDes=data[2] & 1,
            recAv=int(self.canRecurse),
            rCode=dns.EFORMAT,
        )
        self.sendReply(proto, reply, address)

    def messageReceived(self, message: Any, proto: Any, address: Any = None) -> None:
        """
        Dispatch a message from a client by opcode.  Responses are ignored;
        a query without exactly one question is answered FORMERR, one that
        :meth:`allowQuery` refuses REFUSED; a UDP
        client over its rate limit is not answered; an EDNS version other
        than 0 gets BADVERS (RFC 6891 section 6.1.3).
        """
        message.timeReceived = time.time()
        if address is None:
            self._resetIdle(proto)
        if message.answer:
            return
        if self._overLimit(address):
            self._verboseLog(1, "Rate limit: dropped a query from {address}", address=address)
            return
        self._verboseLog(
            1, "Query from {address}: {queries}", address=address, queries=message.queries
        )
        edns = ednsOf(message)
        if edns is not None and edns.count > 1:
            # RFC 6891 section 6.1.1: more than one OPT is a FORMERR.
            self.sendReply(proto, self._responseFromMessage(message, dns.EFORMAT), address)
        elif edns is not None and edns.version != 0:
            reply = self._responseFromMessage(message, dns.OK)
            reply.queries = []
            setBadVersion(reply)
            self.sendReply(proto, reply, address)
        elif len(message.queries) != 1:
            # RFC 9619: a query has exactly one question.
            reply = self._responseFromMessage(message, dns.EFORMAT)
            self.sendReply(proto, reply, address)
        elif not self.allowQuery(message, proto, address):
            reply = self._responseFromMessage(message, dns.EREFUSED)
            self.sendReply(proto, reply, address)
        elif message.opCode == dns.OP_QUERY:
            self.handleQuery(message, proto, address)
        elif message.opCode == dns.OP_INVERSE:
            self.handleInverseQuery(message, proto, address)
        elif message.opCode == dns.OP_STATUS:
            self.handleStatus(message, proto, address)
        elif message.opCode == dns.OP_NOTIFY:
            self.handleNotify(message, proto, address)
        elif message.opCode == dns.OP_UPDATE:
            self.handleUpdate(message, proto, address)
        else:
            self.handleOther(message, proto, address)


#: ResolverBase's lookup methods by type: an authority that keeps them
#: answers ``query`` with its ``_lookup``.
_BASE_LOOKUPS: dict[int, Any] = {
    t: getattr(common.ResolverBase, m) for t, m in common.typeToMethod.items()
}


#: The most replies the reply cache holds; it starts afresh when full.
_REPLY_CACHE_SIZE = 4096

#: The methods through which a query is answered: a factory that overrides
#: one of them does not use the reply cache.
_REPLY_HOOKS = (
    "messageReceived",
    "allowQuery",
    "handleQuery",
    "_answerNow",
    "gotResolverResponse",
    "gotResolverError",
    "_responseFromMessage",
    "sendReply",
)

#: Whether a factory class keeps all of ``_REPLY_HOOKS``.
_plainFactories: dict[type, bool] = {}


def _answersOf(resolver: Any) -> Any:
    """A zone's answer cache, which is replaced whenever the zone changes."""
    if resolver.soa is None:
        return None
    resolver._index()
    return resolver._answers


def _syncLookup(resolver: Any, cls: int, qtype: int) -> Any:
    """
    ``resolver``'s synchronous lookup (``_lookupNow(name, cls, type)``) when
    its ``query`` for this class and type is exactly that lookup wrapped in
    a Deferred, else ``None``.
    """
    kind = type(resolver)
    syncOf = getattr(kind, "_syncLookupOf", None)
    if syncOf is None or kind._lookup is not syncOf or kind.query is not common.ResolverBase.query:
        return None
    if cls == dns.IN:
        method = resolver.typeToMethod.get(qtype)
        if method is not None and getattr(method, "__func__", None) is not _BASE_LOOKUPS[qtype]:
            return None
    return resolver._lookupNow


def _count(message: Any) -> int:
    return len(message.answers) + len(message.authority) + len(message.additional)


def _peerOf(protocol: Any) -> Any:
    transport = getattr(protocol, "transport", None)
    if transport is None:
        return None
    peer = transport.getPeer()
    host = getattr(peer, "host", None)
    return (host, getattr(peer, "port", 0)) if host is not None else None


def _rrSize(rr: Any) -> int:
    out = io.BytesIO()
    rr.encode(out, None)
    return len(out.getvalue())


def _chunks(records: list[Any], message: Any, respond: Any) -> list[Any]:
    """Split a transfer's records into responses of at most MAX_AXFR_MESSAGE_SIZE octets."""
    replies: list[Any] = []
    current = respond(message, dns.OK)
    # Uncompressed sizes: compression only makes the real message smaller.
    base = len(current.toStr())
    size = base
    for rr in records:
        rrSize = _rrSize(rr)
        if current.answers and size + rrSize > MAX_AXFR_MESSAGE_SIZE:
            replies.append(current)
            current = respond(message, dns.OK)
            # RFC 5936 section 2.2.1: the question need only be in the first.
            current.queries = []
            size = len(current.toStr())
        current.answers.append(rr)
        size += rrSize
    replies.append(current)
    for reply in replies:
        reply.auth = 1
        reply.maxSize = 0xFFFF
    return replies
