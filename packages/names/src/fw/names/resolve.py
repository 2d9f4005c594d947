"""
:class:`ResolverChain`: ask resolvers in order until one answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zope.interface import implementer

from fw.internet import defer
from fw.internet.defer import Deferred
from fw.names import dns
from fw.names.common import IResolver, ResolverBase, Result
from fw.names.error import DomainError
from fw.python.failure import Failure

__all__ = ["FailureHandler", "ResolverChain"]


class FailureHandler:
    """An errback that passes a lookup on to the next resolver when the last could not answer."""

    def __init__(self, resolver: Any, query: dns.Query, timeout: Sequence[int] | None) -> None:
        self.resolver = resolver
        self.query = query
        self.timeout = timeout

    def __call__(self, failure: Failure) -> Any:
        failure.trap(DomainError, defer.TimeoutError, NotImplementedError)
        return self.resolver(self.query, self.timeout)


@implementer(IResolver)
class ResolverChain(ResolverBase):
    """
    Ask each of ``resolvers`` in turn; a resolver that fails with a
    :class:`~fw.names.error.DomainError`, a timeout or ``NotImplementedError``
    passes the question to the next one.  The last failure is the chain's.
    """

    def __init__(self, resolvers: Sequence[Any]) -> None:
        super().__init__()
        self.resolvers = list(resolvers)

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[int] | None
    ) -> Deferred[Result]:
        if not self.resolvers:
            return defer.fail(DomainError(name))
        q = dns.Query(name, type, cls)
        d: Deferred[Result] = self.resolvers[0].query(q, timeout)
        for r in self.resolvers[1:]:
            d.addErrback(FailureHandler(r.query, q, timeout))
        return d

    def lookupAllRecords(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """An ANY query through the chain."""
        return self._lookup(dns.Name(name).name, dns.IN, dns.ALL_RECORDS, timeout)
