"""The :class:`~fw.application.service.ServiceMaker` of each of fw-core's ``fwd`` plugins."""

from fw.application.service import ServiceMaker

__all__ = ["finger", "portforward", "procmon", "socks"]

finger = ServiceMaker(
    "fw finger",
    "fw.application.tap.finger",
    "A finger server answering from a users file.",
    "finger",
)
portforward = ServiceMaker(
    "fw portforward",
    "fw.application.tap.portforward",
    "A port forwarder: relays connections to another host and port.",
    "portforward",
)
socks = ServiceMaker("fw socks", "fw.application.tap.socks", "A SOCKS 4, 4a and 5 proxy.", "socks")
procmon = ServiceMaker(
    "fw procmon",
    "fw.application.tap.procmon",
    "A process monitor: runs a program and restarts it when it exits.",
    "procmon",
)
