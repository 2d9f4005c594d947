"""
Reading resolv.conf (resolv.conf(5)): name servers, search list and options.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ResolvConf", "parseResolvConf"]

#: resolv.conf(5) limits: at most 3 servers are used by glibc; fw keeps them all.
DEFAULT_NDOTS = 1
DEFAULT_TIMEOUT = 5
DEFAULT_ATTEMPTS = 2


@dataclass
class ResolvConf:
    """What a resolv.conf says."""

    nameservers: list[tuple[str, int]] = field(default_factory=list)
    search: list[bytes] = field(default_factory=list)
    ndots: int = DEFAULT_NDOTS
    timeout: int = DEFAULT_TIMEOUT
    attempts: int = DEFAULT_ATTEMPTS


def parseResolvConf(text: bytes | str) -> ResolvConf:
    """
    Parse resolv.conf text; unknown lines and bad values are ignored, as the
    C library does.  ``domain`` and ``search`` replace each other (the last wins).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    conf = ResolvConf()
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        key, args = words[0], words[1:]
        if key == "nameserver" and args:
            host = args[0].split("%", 1)[0]
            conf.nameservers.append((host, 53))
        elif key in ("search", "domain") and args:
            conf.search = [a.rstrip(".").encode("ascii", "ignore") for a in args if a != "."]
        elif key == "options":
            for option in args:
                name, _, value = option.partition(":")
                if not value.isdigit():
                    continue
                if name == "ndots":
                    conf.ndots = min(int(value), 15)
                elif name == "timeout":
                    conf.timeout = max(1, min(int(value), 30))
                elif name == "attempts":
                    conf.attempts = max(1, min(int(value), 5))
    return conf
