"""
A resolver answering from a hosts file (``/etc/hosts``): one address then
its names per line, ``#`` starting a comment.

The file is read at each lookup, so edits take effect at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from fw.internet import defer
from fw.names import common, dns
from fw.names.error import DomainError
from fw.python.filepath import FilePath

__all__ = ["MAX_HOSTS_FILE_SIZE", "Resolver", "searchFileFor", "searchFileForAll"]

#: The largest hosts file read (8 MiB: ad-blocking hosts files run to a
#: few MiB; a bound on what a mistaken path can make a resolver hold).
MAX_HOSTS_FILE_SIZE = 8 << 20


def _read(hostsFile: Any) -> bytes:
    path = hostsFile.path if isinstance(hostsFile, FilePath) else hostsFile
    try:
        with open(path, "rb") as f:
            return f.read(MAX_HOSTS_FILE_SIZE)
    except OSError:
        return b""


def _addresses(text: bytes, name: bytes) -> list[str]:
    wanted = name.lower().rstrip(b".")
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split(b"#", 1)[0].split()
        if len(fields) < 2:
            continue
        if wanted in (f.lower().rstrip(b".") for f in fields[1:]):
            try:
                address = str(ipaddress.ip_address(fields[0].decode("ascii").split("%", 1)[0]))
            except (UnicodeDecodeError, ValueError):
                continue
            if address not in found:
                found.append(address)
    return found


def searchFileForAll(hostsFile: Any, name: bytes | str) -> list[str]:
    """
    Every address ``hostsFile`` (a ``FilePath`` or a path) gives for ``name``,
    in file order; an empty list if none or if the file cannot be read.
    """
    if isinstance(name, str):
        name = name.encode("ascii")
    return _addresses(_read(hostsFile), name)


def searchFileFor(file: Any, name: bytes | str) -> str | None:
    """The first address ``file`` gives for ``name``, or ``None``."""
    addresses = searchFileForAll(file, name)
    return addresses[0] if addresses else None


class Resolver(common.ResolverBase):
    """
    Answers A and AAAA lookups from a hosts file.

    Args:
        file: the hosts file's path.
        ttl: the TTL of the answers, in seconds.
    """

    def __init__(self, file: bytes | str = b"/etc/hosts", ttl: int = 60 * 60) -> None:
        super().__init__()
        self.file = file
        self.ttl = ttl

    def _all(self, name: bytes) -> list[str]:
        path = self.file.decode() if isinstance(self.file, bytes) else self.file
        return searchFileForAll(FilePath(path), name)

    def _aRecords(self, name: bytes) -> list[Any]:
        return [
            dns.RRHeader(name, dns.A, dns.IN, self.ttl, dns.Record_A(a, self.ttl), auth=True)
            for a in self._all(name)
            if ":" not in a
        ]

    def _aaaaRecords(self, name: bytes) -> list[Any]:
        return [
            dns.RRHeader(name, dns.AAAA, dns.IN, self.ttl, dns.Record_AAAA(a, self.ttl), auth=True)
            for a in self._all(name)
            if ":" in a
        ]

    def _respond(
        self, name: bytes, records: list[Any]
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        if records:
            return defer.succeed((records, [], []))
        return defer.fail(DomainError(name))

    def lookupAddress(
        self, name: bytes, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """The A records of ``name``; ``DomainError`` if it has none."""
        return self._respond(name, self._aRecords(name))

    def lookupIPV6Address(
        self, name: bytes, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """The AAAA records of ``name``; ``DomainError`` if it has none."""
        return self._respond(name, self._aaaaRecords(name))

    def lookupAllRecords(
        self, name: bytes, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        """The A and AAAA records of ``name``."""
        return self._respond(name, self._aRecords(name) + self._aaaaRecords(name))

    def _lookup(
        self, name: bytes, cls: int, type: int, timeout: Sequence[int] | None = None
    ) -> defer.Deferred[tuple[list[Any], list[Any], list[Any]]]:
        # Other types are not in a hosts file.
        return defer.fail(DomainError(name))
