"""
``fwd dns``: a DNS server over UDP and TCP.

Authoritative for BIND zone files (``--bindzone``), Python zone files
(``--pyzone``, trusted code: they are executed) and zones copied from a
primary (``--secondary``); answering other names from a hosts file
(``--hosts-file``) and by recursion through the servers of resolv.conf
(``--recursive``, ``--resolv-conf``), with a cache (``--cache``).
"""

from __future__ import annotations

import ipaddress
import traceback
from typing import Any, ClassVar

from fw.application import internet, service
from fw.names import authority, cache, client, dns, hosts, secondary, server
from fw.python import usage

__all__ = ["Options", "makeService", "parseListen"]


def parseListen(value: str) -> tuple[str, int]:
    """
    Parse ``--listen``: ``PORT``, ``ADDRESS:PORT`` or ``[IPv6]:PORT``.

    Raises:
        usage.UsageError: the value is not one of those.
    """
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = "", value
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        number = int(port)
        if not 0 <= number < 65536:
            raise ValueError(port)
        if host:
            ipaddress.ip_address(host)
    except ValueError:
        raise usage.UsageError(f"Invalid --listen address: {value!r}") from None
    return host, number


class Options(usage.Options):
    """A domain name server."""

    synopsis = "[--bindzone FILE] [--pyzone FILE] [--secondary IP[:PORT]/DOMAIN] [options]"

    optParameters: ClassVar[list[list[Any]]] = [
        ["interface", "i", "", "The interface to which to bind"],
        ["port", "p", "53", "The port on which to listen (UDP and TCP)"],
        ["listen", None, None, "Where to listen: PORT, ADDRESS:PORT or [IPv6]:PORT"],
        ["resolv-conf", None, None, "Override location of resolv.conf (implies --recursive)"],
        ["hosts-file", None, None, "Perform lookups with a hosts file"],
        ["rate-limit", None, None, "Answer at most this many UDP queries a second per client"],
    ]
    optFlags: ClassVar[list[list[Any]]] = [
        ["cache", "c", "Enable record caching"],
        ["recursive", "r", "Perform recursive lookups"],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["verbose"] = 0
        self.bindfiles: list[str] = []
        self.zonefiles: list[str] = []
        self.secondaries: list[tuple[tuple[str, int], list[str]]] = []
        self.allowTransfer: list[str] = []
        self.zones: list[Any] = []
        self.svcs: list[Any] = []

    def opt_pyzone(self, filename: str) -> None:
        """Specify the filename of a Python syntax zone definition (trusted: it is executed)"""
        self.zonefiles.append(filename)

    def opt_bindzone(self, filename: str) -> None:
        """Specify the filename of a BIND9 syntax zone definition"""
        self.bindfiles.append(filename)

    def opt_secondary(self, ip_domain: str) -> None:
        """
        Act as secondary for the specified domain, performing zone transfers
        from the specified IP (IP[:PORT]/domain)
        """
        address, sep, domain = ip_domain.partition("/")
        if not sep or not domain:
            raise usage.UsageError(f"Argument must be of the form IP[:port]/domain: {ip_domain!r}")
        host, _, port = address.partition(":")
        try:
            ipaddress.ip_address(host)
            number = int(port) if port else dns.PORT
        except ValueError:
            raise usage.UsageError(f"Invalid secondary primary address: {address!r}") from None
        self.secondaries.append(((host, number), [domain]))

    def opt_allow_transfer(self, address: str) -> None:
        """Allow zone transfers (AXFR) to this address or network (repeatable; none by default)"""
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise usage.UsageError(f"Invalid --allow-transfer network: {address!r}") from None
        self.allowTransfer.append(address)

    def opt_verbose(self) -> None:
        """Increment verbosity level"""
        self["verbose"] += 1

    opt_v = opt_verbose

    def postOptions(self) -> None:
        """Load the zones and check the addresses."""
        if self["resolv-conf"]:
            self["recursive"] = True
        if self["listen"]:
            host, port = parseListen(self["listen"])
            self["interface"] = host or self["interface"]
            self["port"] = port
        try:
            self["port"] = int(self["port"])
        except ValueError:
            raise usage.UsageError(f"Invalid port: {self['port']!r}") from None
        if self["rate-limit"] is not None:
            try:
                self["rate-limit"] = float(self["rate-limit"])
                if self["rate-limit"] <= 0:
                    raise ValueError
            except ValueError:
                raise usage.UsageError(f"Invalid --rate-limit: {self['rate-limit']!r}") from None
        self.zones = []
        for f in self.zonefiles:
            try:
                self.zones.append(authority.PySourceAuthority(f))
            except Exception:  # noqa: BLE001 - the zone file is Python: any error is possible
                traceback.print_exc()
                raise usage.UsageError(f"Invalid syntax in {f}") from None
        for f in self.bindfiles:
            try:
                self.zones.append(authority.BindAuthority(f))
            except (OSError, ValueError) as e:
                raise usage.UsageError(f"Invalid zone file {f}: {e}") from None
        self.svcs = []
        for address, domains in self.secondaries:
            svc = secondary.SecondaryAuthorityService.fromServerAddressAndDomains(address, domains)
            self.svcs.append(svc)
            self.zones.extend(svc.getAuthority())
        if not (self.zones or self["recursive"] or self["hosts-file"] or self["cache"]):
            raise usage.UsageError(
                "nothing to serve: give --bindzone, --pyzone, --secondary, --hosts-file"
                " or --recursive"
            )


def makeService(config: Any) -> service.IService:
    """A service answering DNS over UDP and TCP as ``config`` says."""
    caches: list[Any] = []
    clients: list[Any] = []
    if config["cache"]:
        caches.append(cache.CacheResolver(verbose=config["verbose"]))
    if config["hosts-file"]:
        clients.append(hosts.Resolver(file=config["hosts-file"]))
    if config["recursive"]:
        clients.append(client.createResolver(resolvconf=config["resolv-conf"]))
    factory = server.DNSServerFactory(
        config.zones,
        caches,
        clients,
        config["verbose"],
        allowTransfer=config.allowTransfer,
        rateLimit=config["rate-limit"],
    )
    protocol = dns.DNSDatagramProtocol(factory)
    factory.noisy = False
    multi = service.MultiService()
    tcp = internet.TCPServer(config["port"], factory, interface=config["interface"])
    udp = internet.UDPServer(config["port"], protocol, interface=config["interface"])
    tcp.setServiceParent(multi)
    udp.setServiceParent(multi)
    for svc in config.svcs:
        svc.setServiceParent(multi)
    return multi
