"""
An iterative resolver (RFC 1034 section 5.3.3): it starts from root hints
and follows referrals down the delegation tree until an authoritative
server answers, following CNAMEs and finding the addresses of name servers
whose referrals carry no glue.

Every step is bounded: at most ``maxQueries`` queries per lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fw.internet import defer
from fw.names import client, common, dns
from fw.names.error import DNSQueryTimeoutError, DomainError, ResolverError

__all__ = ["DeferredResolver", "Resolver", "bootstrap", "makePlaceholder"]

_Result = tuple[list[Any], list[Any], list[Any]]

#: The timeouts of each query to one server: a short and a longer try.
DEFAULT_TIMEOUT = (1, 3)


class Resolver(common.ResolverBase):
    """
    Resolve names by iteration from root servers.

    Args:
        hints: the root servers: addresses (asked on ``port``) or
            ``(address, port)`` pairs.
        maxQueries: the most queries one lookup may send.
        reactor: the reactor; by default the global one.
        port: the port of servers learnt from referrals (53; tests use
            another port for a whole hierarchy of servers on loopback).
    """

    def __init__(
        self,
        hints: Sequence[str | tuple[str, int]],
        maxQueries: int = 10,
        reactor: Any = None,
        port: int = dns.PORT,
    ) -> None:
        super().__init__()
        self.hints = list(hints)
        self._maxQueries = maxQueries
        self._reactor = reactor
        self._port = port

    def _roots(self) -> list[tuple[str, int]]:
        return [h if isinstance(h, tuple) else (h, self._port) for h in self.hints]

    def _query(
        self,
        query: dns.Query,
        servers: list[tuple[str, int]],
        timeout: Sequence[float],
        filter: bool,
    ) -> defer.Deferred[Any]:
        """Ask ``servers`` ``query`` over UDP (TCP when truncated), without recursion."""
        r = client.Resolver(servers=servers, reactor=self._reactor)
        d = r.queryUDP([query], timeout)

        def retryTruncated(message: Any) -> Any:
            if message.trunc:
                return r.queryTCP([query], max(timeout), servers[0])
            return message

        d.addCallback(retryTruncated)
        if filter:
            d.addCallback(r.filterAnswers)
        return d

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[float] | None = None
    ) -> defer.Deferred[_Result]:
        budget = [self._maxQueries]
        return defer.ensureDeferred(
            self._resolve(dns.Query(name, type, cls), tuple(timeout or DEFAULT_TIMEOUT), budget, 0)
        )

    async def _resolve(
        self, query: dns.Query, timeout: Sequence[float], budget: list[int], depth: int
    ) -> _Result:
        servers = self._roots()
        prefix: list[Any] = []
        seen = {query.name.name.lower()}
        while True:
            if budget[0] <= 0:
                raise ResolverError("Query limit reached without result")
            budget[0] -= 1
            response = await self._query(query, servers, timeout, False)
            if response.rCode != dns.OK:
                raise self.exceptionForCode(response.rCode)(response)
            answer = self._answerOf(query, response)
            if answer is not None:
                answers, target = answer
                prefix.extend(answers)
                if target is None:
                    return prefix, list(response.authority), list(response.additional)
                # A CNAME out of what this server answers: start over for its target.
                if target in seen:
                    raise ResolverError("Cycle in CNAME processing")
                seen.add(target)
                query = dns.Query(target, query.type, query.cls)
                servers = self._roots()
                continue
            nameservers = [rr for rr in response.authority if rr.type == dns.NS]
            if not nameservers:
                # An authoritative answer without records: NODATA (RFC 2308).
                return prefix, list(response.authority), list(response.additional)
            servers = await self._serversFor(nameservers, response, timeout, budget, depth)

    def _answerOf(self, query: dns.Query, response: Any) -> tuple[list[Any], bytes | None] | None:
        """
        The records answering ``query`` in ``response``, with the CNAME
        target still to resolve (or ``None``); ``None`` if it has no answer.
        """
        records: dict[bytes, list[Any]] = {}
        for rr in response.answers:
            records.setdefault(rr.name.name.lower(), []).append(rr)
        name = query.name.name.lower()
        chain: list[Any] = []
        seen: set[bytes] = set()
        while True:
            if name in seen:
                raise ResolverError("Cycle in CNAME processing")
            seen.add(name)
            rrs = records.get(name, [])
            matching = [rr for rr in rrs if rr.type == query.type or query.type == dns.ALL_RECORDS]
            if matching:
                return chain + matching, None
            cnames = [rr for rr in rrs if rr.type == dns.CNAME]
            if not cnames:
                break
            chain.append(cnames[0])
            name = cnames[0].payload.name.name.lower()
        if not chain:
            return None
        return chain, name

    async def _serversFor(
        self,
        nameservers: list[Any],
        response: Any,
        timeout: Sequence[float],
        budget: list[int],
        depth: int,
    ) -> list[tuple[str, int]]:
        """The addresses of a referral's name servers: its glue, else looked up."""
        glue: dict[bytes, list[str]] = {}
        for rr in response.additional:
            if rr.type == dns.A:
                glue.setdefault(rr.name.name.lower(), []).append(rr.payload.dottedQuad())
        servers: list[tuple[str, int]] = []
        missing: list[bytes] = []
        for rr in nameservers:
            target = rr.payload.name.name.lower()
            if target in glue:
                servers.extend((address, self._port) for address in glue[target])
            else:
                missing.append(target)
        if servers:
            return servers
        if depth >= 4:
            raise ResolverError("Name server lookups nested too deeply")
        for target in missing:
            try:
                answers, _, _ = await self._resolve(
                    dns.Query(target, dns.A), timeout, budget, depth + 1
                )
            except (DomainError, DNSQueryTimeoutError):
                # That name server's address is unknown: try the next one.
                continue
            addresses = [rr.payload.dottedQuad() for rr in answers if rr.type == dns.A]
            if addresses:
                return [(address, self._port) for address in addresses]
        raise ResolverError("Stuck at response without answers or delegation")


def makePlaceholder(deferred: defer.Deferred[Any], name: str) -> Callable[..., Any]:
    """A method that waits for ``deferred`` (a resolver) and then calls its ``name``."""

    def placeholder(*args: Any, **kw: Any) -> Any:
        deferred.addCallback(lambda r: getattr(r, name)(*args, **kw))
        return deferred

    return placeholder


class DeferredResolver:
    """
    Stands in for a resolver until ``resolverDeferred`` fires with it; calls
    made before then wait for it.
    """

    def __init__(self, resolverDeferred: defer.Deferred[Any]) -> None:
        self.waiting: list[defer.Deferred[Any]] = []
        resolverDeferred.addCallback(self.gotRealResolver)

    def gotRealResolver(self, resolver: Any) -> None:
        """Become ``resolver`` and release the waiting calls."""
        waiting = self.waiting
        self.__dict__ = resolver.__dict__
        self.__class__ = resolver.__class__
        for d in waiting:
            d.callback(resolver)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("lookup") or name in ("getHostByName", "query"):
            self.waiting.append(defer.Deferred())
            return makePlaceholder(self.waiting[-1], name)
        raise AttributeError(name)


def bootstrap(
    resolver: Any, resolverFactory: Callable[..., Any] | None = None
) -> DeferredResolver:
    """
    A root :class:`Resolver` whose hints are the addresses of
    ``[a-m].root-servers.net`` as ``resolver`` finds them.
    """
    names = [f"{chr(ord('a') + i)}.root-servers.net" for i in range(13)]
    lookups = [resolver.getHostByName(n) for n in names]
    factory = resolverFactory or Resolver

    def build(results: list[tuple[bool, Any]]) -> Any:
        hints = [value for ok, value in results if ok]
        return factory(hints=hints)

    d = defer.DeferredList(lookups, consumeErrors=True)
    d.addCallback(build)
    return DeferredResolver(d)
