"""
Authoritative resolvers: zones loaded from BIND zone files or Python files.

An authority answers only for names at or below its zone's apex (the owner
of its SOA record), and answers those the way RFC 1034 section 4.3.2 says an
authoritative server does:

- records of the asked type, flagged authoritative (``RRHeader.auth``), with
  the addresses of in-zone targets of NS, MX and SRV records added;
- a CNAME and, when its target is in the zone, the target's answer too
  ("CNAME chasing", bounded against loops); below a DNAME, the DNAME and a
  CNAME synthesised from it (RFC 6672 section 3.2), chased the same way;
- below a delegation (NS records at a name other than the apex): a referral,
  the NS records in the authority section and their addresses ("glue") in
  the additional section, none of them authoritative;
- a name that exists without records of the asked type (NODATA): no answer
  and the SOA in the authority section (RFC 2308 section 2.2);
- a name that does not exist: :class:`AuthoritativeNameError` (the server's
  NXDOMAIN) carrying the SOA for the authority section (RFC 2308 section 2.1);
- a name that does not exist but is covered by a wildcard (``*.parent``
  where ``parent`` is the closest existing ancestor): the wildcard's records
  with the asked name as owner (RFC 4592 section 3.3).

The negative answers' SOA has the smaller of the SOA's TTL and its minimum
field as TTL (RFC 2308 section 3).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from fw.internet import defer
from fw.names import common, dns
from fw.names._authority_errors import AuthoritativeNameError
from fw.names._zone_parser import ZoneSyntaxError, readZoneFile
from fw.names._zone_records import recordFromEntry
from fw.names.error import DomainError

__all__ = [
    "AuthoritativeNameError",
    "BindAuthority",
    "FileAuthority",
    "PySourceAuthority",
    "ZoneSyntaxError",
    "getSerial",
]

#: The longest CNAME chain followed inside a zone (BIND follows 16).
MAX_CNAME_CHAIN = 16

_ADDRESS_TYPES = (dns.A, dns.AAAA)

#: The most answers a zone caches; the cache starts afresh when it is full.
_ANSWER_CACHE_SIZE = 4096

#: A cached answer: the lower-case name, whether it exists (``None``: not in
#: the zone), and the answer, authority and additional sections.
_Entry = tuple[bytes, "bool | None", tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]


def getSerial(filename: str = "fw-names.serial") -> str:
    """
    Return a monotonically increasing serial for a zone, of the form
    ``YYYYMMDDnn``, remembered in ``filename`` (Twisted's helper for Python
    zone files; Twisted's default file is in ``/tmp``, where another user can
    plant it, so fw's is in the current directory).
    """
    import time

    today = time.strftime("%Y%m%d", time.localtime())
    serial = 0
    try:
        with open(filename) as f:
            last = f.read().strip()
        if last.startswith(today):
            serial = int(last[len(today) :]) + 1
    except (OSError, ValueError):
        pass
    result = f"{today}{serial:02d}"
    with open(filename, "w") as f:
        f.write(result)
    return result


def _lower(name: Any) -> bytes:
    if isinstance(name, dns.Name):
        name = name.name
    if isinstance(name, str):
        name = name.encode("utf-8")
    return bytes(name).lower().rstrip(b".")


def _parent(name: bytes) -> bytes | None:
    if not name:
        return None
    _, dot, rest = name.partition(b".")
    return rest if dot else b""


def _isAtOrBelow(name: bytes, apex: bytes) -> bool:
    return not apex or name == apex or name.endswith(b"." + apex)


def _targetOf(record: Any) -> bytes | None:
    for attr in ("name", "target", "exchange"):
        value = getattr(record, attr, None)
        if isinstance(value, dns.Name):
            return _lower(value)
    return None


class FileAuthority(common.ResolverBase):
    """
    An authority for one zone whose records are loaded by :meth:`loadFile`.

    Attributes:
        soa: the zone's apex and its SOA record: ``(name, Record_SOA)``.
        records: the zone's records by lower-case owner name (bytes).
            Answers are cached until :attr:`records` or :attr:`soa` is
            replaced or :attr:`records` gains or loses names; after changing
            the records of an existing name in place, set
            ``_indexKey = None`` so that the change is seen.

    Args:
        filename: the zone file, read by the subclass's :meth:`loadFile`.
    """

    soa: tuple[bytes, Any] | None
    records: dict[bytes, list[Any]]

    def __init__(self, filename: str) -> None:
        super().__init__()
        self.soa = None
        self.records = {}
        self._indexKey: tuple[Any, int, Any] | None = None
        self._names: set[bytes] = set()
        self._cuts: set[bytes] = set()
        self._apexName = b""
        self._hasDNAME = False
        self._answers: dict[tuple[Any, int], _Entry] = {}
        self.loadFile(filename)

    def loadFile(self, filename: str) -> None:
        """Load the zone from ``filename`` into :attr:`soa` and :attr:`records`."""
        raise NotImplementedError

    # -- the zone's shape ---------------------------------------------------

    def _apex(self) -> bytes:
        assert self.soa is not None
        if self._indexKey is not None and self._indexKey[2] is self.soa:
            return self._apexName
        return _lower(self.soa[0])

    def _index(self) -> None:
        """
        Know every existing name (empty non-terminals included) and every
        zone cut.  The index is rebuilt when :attr:`records` is replaced or
        gains or loses names; code that changes the records of an existing
        name in place sets ``_indexKey`` to ``None``.
        """
        current = self._indexKey
        if (
            current is not None
            and current[0] is self.records
            and current[1] == len(self.records)
            and current[2] is self.soa
        ):
            return
        self._indexKey = None
        self._answers = {}
        assert self.soa is not None
        apex = _lower(self.soa[0])
        names: set[bytes] = {apex}
        cuts: set[bytes] = set()
        hasDNAME = False
        for owner, records in self.records.items():
            name: bytes | None = _lower(owner)
            if not records or not _isAtOrBelow(name or b"", apex):
                continue
            if owner != apex and any(r.TYPE == dns.NS for r in records):
                cuts.add(_lower(owner))
            if not hasDNAME and any(r.TYPE == dns.DNAME for r in records):
                hasDNAME = True
            while name is not None and name not in names:
                names.add(name)
                name = _parent(name) if name != apex else None
        self._names, self._cuts, self._apexName, self._hasDNAME = names, cuts, apex, hasDNAME
        # The records dict itself (not its id, which a new dict could reuse).
        self._indexKey = (self.records, len(self.records), self.soa)

    def _defaultTTL(self) -> int:
        assert self.soa is not None
        return int(self.soa[1].minimum)

    def _rr(self, owner: bytes, record: Any, auth: bool = True) -> Any:
        ttl = record.ttl if record.ttl is not None else self._defaultTTL()
        return dns.RRHeader(owner, record.TYPE, dns.IN, ttl, record, auth=auth)

    def _soaRR(self) -> Any:
        assert self.soa is not None
        soa = self.soa[1]
        ttl = soa.ttl if soa.ttl is not None else soa.minimum
        # RFC 2308 section 3: the negative TTL is min(SOA TTL, SOA MINIMUM).
        return dns.RRHeader(self._apex(), dns.SOA, dns.IN, min(ttl, soa.minimum), soa, auth=True)

    def _cutAbove(self, name: bytes) -> bytes | None:
        """The highest zone cut at or above ``name`` (below the apex), if any."""
        if not self._cuts:
            return None
        apex = self._apex()
        chain: list[bytes] = []
        current: bytes | None = name
        while current is not None and current != apex:
            chain.append(current)
            current = _parent(current)
        for candidate in reversed(chain):
            if candidate in self._cuts:
                return candidate
        return None

    def _dnameAbove(self, name: bytes) -> tuple[bytes, Any] | None:
        """The closest DNAME record owned by a strict ancestor of ``name`` in the zone."""
        if not self._hasDNAME:
            return None
        apex = self._apex()
        current = _parent(name) if name != apex else None
        while current is not None:
            for record in self.records.get(current, ()):
                if record.TYPE == dns.DNAME:
                    return current, record
            current = _parent(current) if current != apex else None
        return None

    def _nodeRecords(self, name: bytes) -> list[Any] | None:
        """The records at ``name``, or a covering wildcard's, or ``None`` (NXDOMAIN)."""
        if name in self._names:
            return self.records.get(name, [])
        # RFC 4592 section 3.3.1: the closest encloser, then its wildcard.
        encloser = _parent(name)
        while encloser is not None and encloser not in self._names:
            encloser = _parent(encloser)
        if encloser is None:
            return None
        wildcard = b"*." + encloser if encloser else b"*"
        if wildcard in self._names:
            return self.records.get(wildcard, [])
        return None

    def _addresses(self, targets: Sequence[bytes], auth: bool) -> list[Any]:
        apex = self._apex()
        extra: list[Any] = []
        for target in targets:
            if not _isAtOrBelow(target, apex):
                continue
            glue = target in self._names and self._cutAbove(target) is not None
            extra.extend(
                self._rr(target, record, auth=auth and not glue)
                for record in self.records.get(target, [])
                if record.TYPE in _ADDRESS_TYPES
            )
        return extra

    def _answer(self, qname: bytes, qtype: int) -> tuple[bool, list[Any], list[Any], list[Any]]:
        """
        Answer ``qname``/``qtype`` from the zone.

        Returns:
            ``(exists, answers, authority, additional)``; ``exists`` is false
            for NXDOMAIN.
        """
        self._index()
        answers: list[Any] = []
        seen = {qname}
        current = qname
        while True:
            cut = self._cutAbove(current)
            if cut is not None and not (cut == current and qtype == dns.DS):
                nsRecords = [r for r in self.records.get(cut, []) if r.TYPE == dns.NS]
                authority = [self._rr(cut, r, auth=False) for r in nsRecords]
                targets = [t for t in (_targetOf(r) for r in nsRecords) if t is not None]
                return True, answers, authority, self._addresses(targets, auth=False)
            dname = self._dnameAbove(current)
            if dname is not None:
                # RFC 6672 section 3.2: the DNAME, and a CNAME synthesised from it.
                owner, record = dname
                answers.append(self._rr(owner, record))
                newSuffix = _lower(record.name)
                prefix = current[: -len(owner) - 1] if owner else current
                synthesised = prefix + b"." + newSuffix if newSuffix else prefix
                if len(synthesised) > 253:
                    return True, answers, [], []
                answers.append(
                    dns.RRHeader(
                        current,
                        dns.CNAME,
                        dns.IN,
                        answers[-1].ttl,
                        dns.Record_CNAME(synthesised, answers[-1].ttl),
                        auth=True,
                    )
                )
                if (
                    synthesised in seen
                    or len(answers) >= MAX_CNAME_CHAIN
                    or not _isAtOrBelow(synthesised, self._apex())
                ):
                    return True, answers, [], []
                seen.add(synthesised)
                current = synthesised
                continue
            records = self._nodeRecords(current)
            if records is None:
                return False, answers, [self._soaRR()], []
            if qtype == dns.ALL_RECORDS:
                matching = list(records)
            else:
                matching = [r for r in records if qtype == r.TYPE]
            if matching:
                answers.extend(self._rr(current, r) for r in matching)
                targets = [
                    t
                    for t in (
                        _targetOf(r) for r in matching if r.TYPE in (dns.NS, dns.MX, dns.SRV)
                    )
                    if t is not None
                ]
                return True, answers, [], self._addresses(targets, auth=True)
            cnames = [r for r in records if r.TYPE == dns.CNAME]
            if cnames and qtype != dns.CNAME:
                answers.append(self._rr(current, cnames[0]))
                target = _targetOf(cnames[0])
                if (
                    target is None
                    or target in seen
                    or len(answers) >= MAX_CNAME_CHAIN
                    or not _isAtOrBelow(target, self._apex())
                ):
                    # Out of zone (the resolver follows it) or a loop.
                    return True, answers, [], []
                seen.add(target)
                current = target
                continue
            # NODATA (RFC 2308 section 2.2).
            return True, answers, [self._soaRR()], []

    # -- IResolver ----------------------------------------------------------

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """Answer a query for ``name`` if it is in this zone (see the module docstring)."""
        try:
            return defer.succeed(self._lookupNow(name, cls, type))
        except (DomainError, AuthoritativeNameError) as e:
            return defer.fail(e)

    #: The ``_lookup`` that only wraps :meth:`_lookupNow` in a Deferred; a
    #: subclass that overrides ``_lookup`` differently is not asked
    #: synchronously by ``DNSServerFactory``.
    _syncLookupOf = _lookup

    def _lookupNow(
        self, name: bytes, cls: int, type: int
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """
        :meth:`_lookup`, synchronously: the result, or raise
        :class:`DomainError` (not in this zone) or
        :class:`AuthoritativeNameError` (NXDOMAIN).  Answers are cached per
        zone by (name, type) until the zone changes.
        """
        if self.soa is None:
            raise DomainError(name)
        if cls != dns.IN and cls != dns.ANY:
            raise DomainError(name)
        self._index()
        cache = self._answers
        key = (name, type)
        entry = cache.get(key)
        if entry is None:
            lowered = _lower(name)
            if not _isAtOrBelow(lowered, self._apexName):
                entry = (lowered, None, (), (), ())
            else:
                found, an, ns, ar = self._answer(lowered, type)
                entry = (lowered, found, tuple(an), tuple(ns), tuple(ar))
            if len(cache) >= _ANSWER_CACHE_SIZE:
                cache.clear()
            cache[key] = entry
        qname, exists, answers, authority, additional = entry
        if exists is None:
            raise DomainError(name)
        if not exists:
            raise AuthoritativeNameError(qname, answers, authority, additional)
        return list(answers), list(authority), list(additional)

    def lookupZone(
        self, name: bytes, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """
        The whole zone, for a zone transfer (RFC 5936 section 2.2): the SOA,
        every other record, then the SOA again.
        """
        if self.soa is None or _lower(name) != self._apex():
            return defer.fail(DomainError(name))
        soa = self._rr(self._apex(), self.soa[1])
        rrs = [soa]
        for owner in sorted(self.records, key=lambda n: n.split(b".")[::-1]):
            rrs.extend(
                self._rr(_lower(owner), record)
                for record in self.records[owner]
                if record.TYPE != dns.SOA
            )
        rrs.append(soa)
        return defer.succeed((rrs, [], []))

    def _setRecords(self, records: list[tuple[bytes, Any]]) -> None:
        """Replace the zone with ``(owner, record)`` pairs; exactly one must be an SOA."""
        soas = [(owner, r) for owner, r in records if r.TYPE == dns.SOA]
        if len(soas) != 1:
            raise ValueError(f"a zone needs exactly one SOA record, not {len(soas)}")
        apex = _lower(soas[0][0])
        table: dict[bytes, list[Any]] = {}
        for owner, record in records:
            owner = _lower(owner)
            if not _isAtOrBelow(owner, apex):
                raise ValueError(f"{owner!r} is outside the zone {apex!r}")
            table.setdefault(owner, []).append(record)
        self.soa = (apex, soas[0][1])
        self.records = table
        self._indexKey = None
        self._answers = {}


class BindAuthority(FileAuthority):
    """
    An authority loaded from a BIND zone file (RFC 1035 section 5).

    Args:
        filename: the zone file.
        origin: the zone's initial origin; by default the file's name
            without a trailing ``.zone`` (Twisted names the file after the
            zone).  ``$ORIGIN`` and absolute names in the file override it.
    """

    def __init__(self, filename: str, origin: bytes | str | None = None) -> None:
        if origin is None:
            base = os.path.basename(filename)
            origin = base[: -len(".zone")] if base.endswith(".zone") else base
        self.origin = origin.decode("utf-8") if isinstance(origin, bytes) else origin
        super().__init__(filename)

    def loadFile(self, filename: str) -> None:
        """
        Parse the zone file.

        Raises:
            ZoneSyntaxError: the file is malformed, or has no single SOA.
        """
        entries = readZoneFile(filename, self.origin)
        records = [recordFromEntry(e) for e in entries if e.cls in ("IN", "CLASS1")]
        try:
            self._setRecords(records)
        except ValueError as e:
            raise ZoneSyntaxError(str(e), filename) from None


class PySourceAuthority(FileAuthority):
    """
    An authority loaded from a Python zone file: a Python module that sets
    ``zone`` to a list of records built with one function per record type
    (``SOA(name, ...)``, ``A(name, address)``, ``MX(name, preference,
    exchange)``, ...), each taking the owner name then the arguments of
    the matching ``fw.names.dns.Record_*`` class.

    .. warning::

       Loading a Python zone file **executes it as Python code** with the
       server's privileges, as Twisted's does.  Use it only for files you
       trust as much as the server's own code; serve zones from other
       sources with :class:`BindAuthority`.
    """

    def wrapRecord(self, type: Callable[..., Any]) -> Callable[..., tuple[bytes, Any]]:
        """The zone-file function for record class ``type``."""

        def make(name: bytes | str, *args: Any, **kwargs: Any) -> tuple[bytes, Any]:
            return _lower(name), type(*args, **kwargs)

        return make

    def setupConfigNamespace(self) -> dict[str, Any]:
        """The globals a Python zone file runs with: one function per record type."""
        namespace: dict[str, Any] = {}
        for attr in dir(dns):
            if attr.startswith("Record_"):
                namespace[attr[len("Record_") :]] = self.wrapRecord(getattr(dns, attr))
        return namespace

    def loadFile(self, filename: str) -> None:
        """
        Run the Python zone file and load its ``zone`` list.

        Raises:
            ValueError: the file defines no ``zone`` or not exactly one SOA.
        """
        namespace = self.setupConfigNamespace()
        with open(filename, "rb") as f:
            source = f.read()
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - trusted input, documented
        if "zone" not in namespace:
            raise ValueError(f"no zone defined in {filename}")
        self._setRecords([(_lower(owner), record) for owner, record in namespace["zone"]])
