"""
Reading a PROXY protocol header of either version: the version is told by
the first byte, and the matching parser does the rest.

Private: :mod:`fw.protocols.haproxy` is the public module.
"""

from __future__ import annotations

from fw.protocols.haproxy._exceptions import InvalidProxyHeader
from fw.protocols.haproxy._info import ProxyInfo
from fw.protocols.haproxy._v1parser import V1Parser
from fw.protocols.haproxy._v2parser import V2Parser

__all__ = ["ProxyHeaderParser"]


class ProxyHeaderParser:
    """
    A sans-IO parser of one PROXY header, version 1 or 2, whichever comes.

    Args:
        maxV2Length: the most bytes of addresses and extensions a version 2
            header may announce (see :attr:`V2Parser.MAX_LENGTH`).
        versions: the versions accepted.

    Attributes:
        parser: the parser chosen once the first byte is in, else ``None``.
    """

    def __init__(self, maxV2Length: int | None = None, versions: tuple[int, ...] = (1, 2)) -> None:
        self.parser: V1Parser | V2Parser | None = None
        self._maxV2Length = maxV2Length
        self._versions = versions

    def feed(self, data: bytes) -> tuple[ProxyInfo | None, bytes]:
        """
        Add ``data`` to what was received.

        Returns:
            ``(info, rest)`` once the header is complete; ``(None, b"")``
            until then.

        Raises:
            InvalidProxyHeader: (or a subclass) the bytes are not a valid
                header of an accepted version.
        """
        if self.parser is None:
            if not data:
                return None, b""
            first = data[:1]
            if first == V1Parser.PREFIX[:1] and 1 in self._versions:
                self.parser = V1Parser()
            elif first == V2Parser.PREFIX[:1] and 2 in self._versions:
                self.parser = V2Parser(self._maxV2Length)
            else:
                raise InvalidProxyHeader(
                    f"the connection does not start with a PROXY header (first byte {first!r})"
                )
        return self.parser.feed(data)
