"""``fwd portforward``: relay each connection to another host and port."""

from __future__ import annotations

from typing import Any, ClassVar

from fw.application import strports
from fw.application.service import IService
from fw.python import usage

__all__ = ["Options", "makeService"]


class Options(usage.Options):
    """Accept connections and relay each to a destination host and port."""

    synopsis = "[-p PORT | --listen ENDPOINT] [-h HOST] -d DEST_PORT"
    longdesc = "Port forwarder: relays every connection it accepts to HOST:DEST_PORT."

    optParameters: ClassVar[list[list[Any]]] = [
        ["port", "p", "6666", "The local TCP port to listen on (all interfaces)."],
        [
            "listen",
            None,
            None,
            "The endpoint to listen on instead, e.g. tcp:6666:interface=127.0.0.1.",
        ],
        ["host", "h", "localhost", "The host to forward to."],
        ["dest_port", "d", 6665, "The port to forward to.", usage.portCoerce],
    ]

    def postOptions(self) -> None:
        """Turn --port into an endpoint unless --listen is given."""
        if self["listen"] is None:
            self["listen"] = f"tcp:{self['port']}"


def makeService(config: Any) -> IService:
    """A service listening with a :class:`~fw.protocols.portforward.ProxyFactory`."""
    from fw.protocols.portforward import ProxyFactory

    factory = ProxyFactory(config["host"], int(config["dest_port"]))
    return strports.service(config["listen"], factory)
