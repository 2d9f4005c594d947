"""The :class:`~fw.application.service.ServiceMaker` of ``fwd dns`` (imports nothing heavy)."""

from fw.application.service import ServiceMaker

__all__ = ["dns"]

dns = ServiceMaker(
    "fw dns",
    "fw.names.tap",
    "A domain name server: authoritative (BIND and Python zone files, secondaries), "
    "caching and recursive.",
    "dns",
)
