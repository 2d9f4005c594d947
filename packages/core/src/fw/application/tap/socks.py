"""``fwd socks``: a SOCKS 4/4a or SOCKS 5 proxy server."""

from __future__ import annotations

from typing import Any, ClassVar

from fw.application import strports
from fw.application.service import IService
from fw.python import usage

__all__ = ["Options", "makeService"]


class Options(usage.Options):
    """
    A SOCKS proxy.  By default it listens on 127.0.0.1 only and refuses
    destinations that are not global addresses (loopback, private
    networks...); --allow and --allow-all open them.
    """

    synopsis = "[-i INTERFACE] [-p PORT | --listen ENDPOINT] [--protocol 4|5] [options]"

    optParameters: ClassVar[list[list[Any]]] = [
        ["interface", "i", "127.0.0.1", "The local interface to listen on."],
        ["port", "p", 1080, "The TCP port to listen on.", usage.portCoerce],
        ["listen", None, None, "The endpoint to listen on instead, e.g. tcp:1080."],
        ["log", "l", None, "SOCKS 4: a file to log the relayed data to."],
        ["protocol", None, "4", "The SOCKS version served: 4 (with 4a) or 5."],
    ]
    optFlags: ClassVar[list[list[Any]]] = [
        ["allow-all", None, "Allow every destination (loopback and private networks included)."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["allow"] = []

    def opt_allow(self, network: str) -> None:
        """Also allow destinations in this network (CIDR, repeatable)."""
        import ipaddress

        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as e:
            raise usage.UsageError(f"--allow: {e}") from None
        self["allow"].append(network)

    def postOptions(self) -> None:
        """Check the protocol and build the listening endpoint."""
        if self["protocol"] not in ("4", "5"):
            raise usage.UsageError("--protocol is 4 or 5")
        if self["listen"] is None:
            self["listen"] = f"tcp:{self['port']}:interface={self['interface']}"


def makeService(config: Any) -> IService:
    """A service listening with a SOCKS server factory."""
    from fw.protocols import socks

    policy: Any = socks.refuseInternalDestinations
    if config["allow-all"]:
        policy = socks.allowAllDestinations
    elif config["allow"]:
        allowed = socks.allowNetworks(*config["allow"])

        def policy(command: Any, address: Any, port: int, /) -> bool:
            return allowed(command, address, port) or socks.refuseInternalDestinations(
                command, address, port
            )

    factory: Any
    if config["protocol"] == "5":
        factory = socks.SOCKSv5Factory(destinationPolicy=policy)
    else:
        factory = socks.SOCKSv4Factory(config["log"], destinationPolicy=policy)
    return strports.service(config["listen"], factory)
