"""An authoritative DNS benchmark server over UDP, on one of the implementations.

Usage::

    python benchmarks/net/dns_server.py --impl fw [--cpu 0] [--zone-dir DIR]
    python benchmarks/net/dns_server.py --write-queries PATH

Writes a small BIND zone for ``example.com`` (the same text for every
implementation), loads it with ``authority.BindAuthority``, and answers
queries with ``server.DNSServerFactory`` through ``dns.DNSDatagramProtocol``
on 127.0.0.1, on a UDP port the kernel picks; prints ``PORT <n>`` on stdout
once it listens and serves until it is killed (SIGTERM).  No caches, no
recursion, no rate limit, no query logging.

Implementations:

- ``fw``: fw.names on fw's epoll reactor;
- ``twisted``: the same code with the package renamed, on Twisted's epoll reactor.

``--write-queries`` writes the matching dnsperf query file instead (names
that exist, of several types, and one that does not) and exits.

Exits with status 3 when the implementation is not installed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

IMPLS = ("fw", "twisted")
UNAVAILABLE = 3
ORIGIN = "example.com"

ZONE = """\
$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                2026120201 7200 3600 1209600 3600 )
        IN NS   ns1.example.com.
        IN NS   ns2.example.com.
        IN MX   10 mail.example.com.
        IN TXT  "v=spf1 mx -all"
ns1     IN A    192.0.2.1
ns2     IN A    192.0.2.2
www     IN A    192.0.2.10
www     IN AAAA 2001:db8::10
mail    IN A    192.0.2.20
ftp     IN CNAME www.example.com.
"""

#: dnsperf's query file: one ``name type`` a line, sent round robin.
QUERIES = """\
www.example.com A
www.example.com AAAA
mail.example.com A
example.com MX
example.com NS
example.com SOA
example.com TXT
ftp.example.com CNAME
missing.example.com A
"""


def announce(port: int) -> None:
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


def serve(package: str, zoneDir: str) -> None:
    """Serve the zone with fw.names or twisted.names."""
    epoll: Any = importlib.import_module(f"{package}.internet.epollreactor")
    epoll.install()
    reactor: Any = importlib.import_module(f"{package}.internet.reactor")
    authority: Any = importlib.import_module(f"{package}.names.authority")
    dns: Any = importlib.import_module(f"{package}.names.dns")
    server: Any = importlib.import_module(f"{package}.names.server")

    # Twisted's BindAuthority takes the origin from the file's name.
    zone = Path(zoneDir) / ORIGIN
    zone.write_text(ZONE)
    factory = server.DNSServerFactory(authorities=[authority.BindAuthority(str(zone))])
    port = reactor.listenUDP(0, dns.DNSDatagramProtocol(factory), interface="127.0.0.1")
    reactor.callWhenRunning(announce, port.getHost().port)
    reactor.run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=IMPLS)
    parser.add_argument("--cpu", type=int, help="pin this process to that CPU")
    parser.add_argument("--write-queries", type=Path, help="write dnsperf's query file and exit")
    options = parser.parse_args(argv)
    if options.write_queries is not None:
        options.write_queries.write_text(QUERIES)
        return
    if options.impl is None:
        parser.error("--impl is required")
    if options.cpu is not None:
        os.sched_setaffinity(0, {options.cpu})
    with tempfile.TemporaryDirectory() as zoneDir:
        try:
            serve(options.impl, zoneDir)
        except ImportError as e:
            print(f"{options.impl} is not installed: {e}", file=sys.stderr)
            sys.exit(UNAVAILABLE)


if __name__ == "__main__":
    main()
