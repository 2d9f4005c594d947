"""
What every resolver shares: :class:`IResolver`, and :class:`ResolverBase`,
which turns each ``lookupX`` method and ``query`` into one ``_lookup(name,
cls, type, timeout)`` for subclasses to implement.

``_lookup`` returns a Deferred firing with ``(answers, authority,
additional)``, three lists of :class:`~fw.names.dns.RRHeader`, or failing
with a :class:`~fw.names.error.DomainError` subclass.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, ClassVar

from zope.interface import implementer

from fw.internet import error as ierror
from fw.internet.defer import Deferred, fail, maybeDeferred
from fw.internet.interfaces import IResolverSimple
from fw.names import dns
from fw.names.error import (
    DNSFormatError,
    DNSNameError,
    DNSNotImplementedError,
    DNSQueryRefusedError,
    DNSServerError,
    DNSUnknownError,
)

__all__ = ["EMPTY_RESULT", "IResolver", "ResolverBase", "extractRecord"]

Result = tuple[list[dns.RRHeader], list[dns.RRHeader], list[dns.RRHeader]]

#: An answer with nothing in it.
EMPTY_RESULT: Result = ([], [], [])

#: Twisted's table of record type to lookup method name.
typeToMethod: dict[int, str] = {
    dns.A: "lookupAddress", dns.AAAA: "lookupIPV6Address", dns.A6: "lookupAddress6",
    dns.NS: "lookupNameservers", dns.CNAME: "lookupCanonicalName", dns.SOA: "lookupAuthority",
    dns.MB: "lookupMailBox", dns.MG: "lookupMailGroup", dns.MR: "lookupMailRename",
    dns.NULL: "lookupNull", dns.WKS: "lookupWellKnownServices", dns.PTR: "lookupPointer",
    dns.HINFO: "lookupHostInfo", dns.MINFO: "lookupMailboxInfo", dns.MX: "lookupMailExchange",
    dns.TXT: "lookupText", dns.SPF: "lookupSenderPolicy", dns.RP: "lookupResponsibility",
    dns.AFSDB: "lookupAFSDatabase", dns.SRV: "lookupService",
    dns.NAPTR: "lookupNamingAuthorityPointer",
    dns.AXFR: "lookupZone", dns.ALL_RECORDS: "lookupAllRecords", dns.DNAME: "lookupDelegationName",
    dns.SSHFP: "lookupSSHFingerprint", dns.CAA: "lookupCertificateAuthority",
    dns.TLSA: "lookupTLSA", dns.SVCB: "lookupServiceBinding", dns.HTTPS: "lookupHTTPS",
    dns.DNSKEY: "lookupDNSKey", dns.DS: "lookupDelegationSigner",
}  # fmt: skip


class IResolver(IResolverSimple):
    """
    A full resolver: ``query`` and one ``lookupX(name, timeout=None)`` per
    record type, each returning a Deferred of ``(answers, authority,
    additional)``.  (Twisted keeps this in ``twisted.internet.interfaces``.)
    """

    def query(query: dns.Query, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Answer one question."""

    def lookupAddress(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Look up A records."""

    def lookupIPV6Address(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Look up AAAA records."""

    def lookupMailExchange(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Look up MX records."""

    def lookupService(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Look up SRV records."""

    def lookupText(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Look up TXT records."""

    def lookupPointer(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Look up PTR records."""

    def lookupAllRecords(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Ask for every record type (an ANY query)."""

    def lookupZone(name: str, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Transfer a whole zone (AXFR)."""


def _name(name: Any) -> bytes:
    return dns.Name(name).name


@implementer(IResolver)
class ResolverBase:
    """
    A resolver built on one method: subclasses implement
    ``_lookup(name, cls, type, timeout)``; every ``lookupX``, ``query`` and
    ``getHostByName`` goes through it.
    """

    _errormap: ClassVar[dict[int, type[Exception]]] = {
        dns.EFORMAT: DNSFormatError, dns.ESERVER: DNSServerError, dns.ENAME: DNSNameError,
        dns.ENOTIMP: DNSNotImplementedError, dns.EREFUSED: DNSQueryRefusedError,
    }  # fmt: skip

    def __init__(self) -> None:
        self.typeToMethod: dict[int, Any] = {k: getattr(self, v) for k, v in typeToMethod.items()}

    def exceptionForCode(self, responseCode: int) -> type[Exception]:
        """The exception class for a response code (``DNSUnknownError`` for unknown ones)."""
        return self._errormap.get(responseCode, DNSUnknownError)

    def query(self, query: dns.Query, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """Answer ``query`` through the lookup method for its type (any type is asked as such)."""
        method = self.typeToMethod.get(query.type)
        if method is None:
            return maybeDeferred(self._lookup, query.name.name, query.cls, query.type, timeout)
        if query.cls != dns.IN:
            return maybeDeferred(self._lookup, query.name.name, query.cls, query.type, timeout)
        return maybeDeferred(method, query.name.name, timeout)

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[int] | None
    ) -> Deferred[Result]:
        return fail(NotImplementedError(f"{self.__class__.__name__}._lookup"))

    def lookupAddress(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """A records."""
        return self._lookup(_name(name), dns.IN, dns.A, timeout)

    def lookupIPV6Address(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """AAAA records."""
        return self._lookup(_name(name), dns.IN, dns.AAAA, timeout)

    def lookupAddress6(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """A6 records (obsolete)."""
        return self._lookup(_name(name), dns.IN, dns.A6, timeout)

    def lookupMailExchange(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """MX records."""
        return self._lookup(_name(name), dns.IN, dns.MX, timeout)

    def lookupNameservers(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """NS records."""
        return self._lookup(_name(name), dns.IN, dns.NS, timeout)

    def lookupCanonicalName(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """CNAME records."""
        return self._lookup(_name(name), dns.IN, dns.CNAME, timeout)

    def lookupMailBox(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """MB records."""
        return self._lookup(_name(name), dns.IN, dns.MB, timeout)

    def lookupMailGroup(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """MG records."""
        return self._lookup(_name(name), dns.IN, dns.MG, timeout)

    def lookupMailRename(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """MR records."""
        return self._lookup(_name(name), dns.IN, dns.MR, timeout)

    def lookupPointer(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """PTR records."""
        return self._lookup(_name(name), dns.IN, dns.PTR, timeout)

    def lookupAuthority(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """SOA records."""
        return self._lookup(_name(name), dns.IN, dns.SOA, timeout)

    def lookupNull(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """NULL records."""
        return self._lookup(_name(name), dns.IN, dns.NULL, timeout)

    def lookupWellKnownServices(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """WKS records."""
        return self._lookup(_name(name), dns.IN, dns.WKS, timeout)

    def lookupService(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """SRV records."""
        return self._lookup(_name(name), dns.IN, dns.SRV, timeout)

    def lookupHostInfo(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """HINFO records."""
        return self._lookup(_name(name), dns.IN, dns.HINFO, timeout)

    def lookupMailboxInfo(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """MINFO records."""
        return self._lookup(_name(name), dns.IN, dns.MINFO, timeout)

    def lookupText(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """TXT records."""
        return self._lookup(_name(name), dns.IN, dns.TXT, timeout)

    def lookupSenderPolicy(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """SPF records."""
        return self._lookup(_name(name), dns.IN, dns.SPF, timeout)

    def lookupResponsibility(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """RP records."""
        return self._lookup(_name(name), dns.IN, dns.RP, timeout)

    def lookupAFSDatabase(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """AFSDB records."""
        return self._lookup(_name(name), dns.IN, dns.AFSDB, timeout)

    def lookupNamingAuthorityPointer(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """NAPTR records."""
        return self._lookup(_name(name), dns.IN, dns.NAPTR, timeout)

    def lookupDelegationName(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """DNAME records."""
        return self._lookup(_name(name), dns.IN, dns.DNAME, timeout)

    def lookupSSHFingerprint(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """SSHFP records."""
        return self._lookup(_name(name), dns.IN, dns.SSHFP, timeout)

    def lookupCertificateAuthority(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """CAA records."""
        return self._lookup(_name(name), dns.IN, dns.CAA, timeout)

    def lookupTLSA(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """TLSA records."""
        return self._lookup(_name(name), dns.IN, dns.TLSA, timeout)

    def lookupServiceBinding(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """SVCB records."""
        return self._lookup(_name(name), dns.IN, dns.SVCB, timeout)

    def lookupHTTPS(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """HTTPS records."""
        return self._lookup(_name(name), dns.IN, dns.HTTPS, timeout)

    def lookupDNSKey(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """DNSKEY records."""
        return self._lookup(_name(name), dns.IN, dns.DNSKEY, timeout)

    def lookupDelegationSigner(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """DS records."""
        return self._lookup(_name(name), dns.IN, dns.DS, timeout)

    def lookupAllRecords(
        self, name: Any, timeout: Sequence[int] | None = None
    ) -> Deferred[Result]:
        """An ANY query (many servers answer it minimally, RFC 8482)."""
        return self._lookup(_name(name), dns.IN, dns.ALL_RECORDS, timeout)

    def lookupZone(self, name: Any, timeout: Sequence[int] | None = None) -> Deferred[Result]:
        """A zone transfer (AXFR)."""
        return self._lookup(_name(name), dns.IN, dns.AXFR, timeout)

    def getHostByName(
        self, name: Any, timeout: Sequence[int] | None = None, effort: int = 10
    ) -> Deferred[str]:
        """
        One address for ``name``: its A record (or AAAA if it has no A),
        following CNAMEs up to ``effort`` times.

        Fails with :class:`fw.internet.error.DNSLookupError` if there is none.
        """
        d: Deferred[Any] = self.lookupAllRecords(name, timeout)
        return d.addCallback(self._cbRecords, name, effort)

    def _cbRecords(self, records: Result, name: Any, effort: int) -> Any:
        answers, authority, additional = records
        result = extractRecord(self, dns.Name(name), answers + authority + additional, effort)
        if not result:
            raise ierror.DNSLookupError(str(dns.Name(name)))
        return result


def extractRecord(
    resolver: Any, name: dns.Name, answers: list[dns.RRHeader], level: int = 10
) -> Any:
    """
    An address for ``name`` from ``answers``: A first, then AAAA, following a
    CNAME (in ``answers`` or through ``resolver.getHostByName``) while
    ``level`` allows.
    """
    if not level:
        return None
    for r in answers:
        if r.name == name and r.type == dns.A:
            return socket.inet_ntop(socket.AF_INET, r.payload.address)
    for r in answers:
        if r.name == name and r.type == dns.AAAA:
            return socket.inet_ntop(socket.AF_INET6, r.payload.address)
    for r in answers:
        if r.name == name and r.type == dns.CNAME:
            result = extractRecord(resolver, r.payload.name, answers, level - 1)
            if not result:
                return resolver.getHostByName(str(r.payload.name), effort=level - 1)
            return result
    return None
