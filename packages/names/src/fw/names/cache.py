"""
A cache of DNS answers that honours their TTLs, for servers that recurse.

:class:`CacheResolver` answers from what it has been told with
:meth:`~CacheResolver.cacheResult` (the server tells its cache every answer
it forwards), with every TTL lowered by the time the answer has spent in the
cache, and forgets an answer when its smallest TTL runs out.  It also keeps
negative answers (RFC 2308): a name that does not exist
(:meth:`~CacheResolver.cacheNegative`) and a name without records of a type
(an answer with no records and an SOA), for the SOA's negative TTL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fw.internet import defer
from fw.names import common, dns
from fw.names._authority_errors import AuthoritativeNameError
from fw.names.error import DomainError

__all__ = ["DEFAULT_MAX_ENTRIES", "CacheResolver"]

#: The most answers a cache holds (each is a few hundred octets: 100k is
#: tens of MiB at most); the oldest are forgotten first when it is full.
DEFAULT_MAX_ENTRIES = 100_000

_Payload = tuple[Sequence[Any], Sequence[Any], Sequence[Any]]


def _aged(rrs: Sequence[Any], elapsed: int) -> list[Any]:
    return [
        dns.RRHeader(rr.name.name, rr.type, rr.cls, max(0, rr.ttl - elapsed), rr.payload)
        for rr in rrs
    ]


class CacheResolver(common.ResolverBase):
    """
    A resolver answering from cached answers.

    Args:
        cache: answers to start with: ``{Query: (timeCached, (answers,
            authority, additional))}``.
        verbose: unused; kept for Twisted's signature.
        reactor: the reactor whose clock ages answers and whose timers
            forget them; by default the global one.
        maxEntries: the most answers held.

    Attributes:
        cache: ``{Query: (timeCached, payload)}``.
        cancel: ``{Query: IDelayedCall}``, the timers that forget answers.
    """

    def __init__(
        self,
        cache: Mapping[Any, tuple[float, _Payload]] | None = None,
        verbose: int = 0,
        reactor: Any = None,
        maxEntries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        super().__init__()
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        self._reactor = reactor
        self.verbose = verbose
        self.maxEntries = maxEntries
        self.cache: dict[Any, tuple[float, _Payload]] = {}
        self._negative: dict[Any, tuple[float, list[Any]]] = {}
        self.cancel: dict[Any, Any] = {}
        for query, (seconds, payload) in (cache or {}).items():
            self.cacheResult(query, payload, seconds)

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """The cached answer, aged; fails with ``DomainError`` when there is none."""
        now = self._reactor.seconds()
        query = dns.Query(name, type, cls)
        if query in self._negative:
            when, authority = self._negative[query]
            elapsed = int(now - when)
            return defer.fail(
                AuthoritativeNameError(query.name.name, (), _aged(authority, elapsed))
            )
        try:
            when, (ans, auth, add) = self.cache[query]
        except KeyError:
            return defer.fail(DomainError(name))
        elapsed = int(now - when)
        return defer.succeed((_aged(ans, elapsed), _aged(auth, elapsed), _aged(add, elapsed)))

    def lookupAllRecords(
        self, name: bytes, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """ANY queries are never answered from the cache (RFC 8482's reasoning)."""
        return defer.fail(DomainError(name))

    def _remember(self, query: Any, ttl: float) -> None:
        old = self.cancel.pop(query, None)
        if old is not None and old.active():
            old.cancel()
        self.cancel[query] = self._reactor.callLater(ttl, self.clearEntry, query)
        while len(self.cache) + len(self._negative) > self.maxEntries:
            oldest = next(iter(self._negative or self.cache))
            self.clearEntry(oldest)

    def cacheResult(self, query: Any, payload: _Payload, cacheTime: float | None = None) -> None:
        """
        Remember ``payload`` (``(answers, authority, additional)``) as the
        answer to ``query`` until its smallest TTL runs out.  An answer with
        no records but an SOA in authority is NODATA, kept for the SOA's
        TTL (RFC 2308 section 5).

        Args:
            cacheTime: when the answer was received; by default now.
        """
        if query.type == dns.ALL_RECORDS:
            return
        records = [*payload[0], *payload[1], *payload[2]]
        ttl = min((rr.ttl for rr in records), default=0)
        self._negative.pop(query, None)
        self.cache.pop(query, None)
        when = self._reactor.seconds() if cacheTime is None else cacheTime
        remaining = ttl - (self._reactor.seconds() - when)
        if remaining <= 0:
            return
        self.cache[query] = (when, (list(payload[0]), list(payload[1]), list(payload[2])))
        self._remember(query, remaining)

    def cacheNegative(self, query: Any, authority: Sequence[Any]) -> None:
        """
        Remember that ``query``'s name does not exist (NXDOMAIN), for the
        negative TTL of the SOA in ``authority`` (RFC 2308 section 5: the
        smaller of its TTL and its minimum field).  Without an SOA the answer
        is not cached (RFC 2308 section 5).
        """
        soas = [rr for rr in authority if rr.type == dns.SOA]
        if not soas:
            return
        soa = soas[0]
        ttl = min(soa.ttl, getattr(soa.payload, "minimum", soa.ttl))
        self.cache.pop(query, None)
        if ttl <= 0:
            self._negative.pop(query, None)
            return
        negative = dns.RRHeader(soa.name.name, soa.type, soa.cls, ttl, soa.payload)
        self._negative[query] = (self._reactor.seconds(), [negative])
        self._remember(query, ttl)

    def clearEntry(self, query: Any) -> None:
        """Forget the answer to ``query``."""
        self.cache.pop(query, None)
        self._negative.pop(query, None)
        call = self.cancel.pop(query, None)
        if call is not None and call.active():
            call.cancel()
