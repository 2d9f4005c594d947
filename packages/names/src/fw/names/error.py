"""
Errors raised by fw.names.

A lookup fails with one of the ``DomainError`` subclasses, each carrying the
DNS response code it stands for (``rCode``); the failed lookup's message, when
there is one, is the exception's first argument, as in Twisted.

Who is at fault:

- the remote peer: :class:`DNSFormatError` is also what the wire-format parser
  raises on malformed, truncated or hostile input (compression loops, pointers
  past the end, oversized labels or names);
- the network: :class:`DNSQueryTimeoutError`;
- the caller: ``ValueError`` or ``TypeError`` from building a bad message.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fw.internet import error as _ierror

__all__ = [
    "AuthoritativeDomainError",
    "DNSFormatError",
    "DNSNameError",
    "DNSNotImplementedError",
    "DNSQueryRefusedError",
    "DNSQueryTimeoutError",
    "DNSServerError",
    "DNSUnknownError",
    "DomainError",
    "ResolverError",
]


class DomainError(ValueError):
    """
    A lookup failed: the name has no records, or the server refused.

    Raised by resolvers that are told a name does not exist; the first
    argument is usually the name or the response message.
    """

    rCode: ClassVar[int | None] = None


class AuthoritativeDomainError(ValueError):
    """An authority says it is authoritative for a name that has no records."""


class DNSFormatError(DomainError):
    """The message was malformed (FORMERR, rcode 1): ours said so, or theirs was."""

    rCode = 1


class DNSServerError(DomainError):
    """The server failed to process the query (SERVFAIL, rcode 2)."""

    rCode = 2


class DNSNameError(DomainError):
    """The name does not exist (NXDOMAIN, rcode 3)."""

    rCode = 3


class DNSNotImplementedError(DomainError):
    """The server does not support the kind of query (NOTIMP, rcode 4)."""

    rCode = 4


class DNSQueryRefusedError(DomainError):
    """The server refused the query (REFUSED, rcode 5)."""

    rCode = 5


class DNSUnknownError(DomainError):
    """The server answered with a response code fw does not know."""


class ResolverError(Exception):
    """A resolver could not be set up or used (not a lookup failure)."""


class DNSQueryTimeoutError(_ierror.TimeoutError):
    """
    No answer came in time.

    Args:
        id: the ID of the query that timed out.
    """

    def __init__(self, id: Any) -> None:
        super().__init__(None, f"DNS query {id!r} got no answer in time")
        self.id = id
