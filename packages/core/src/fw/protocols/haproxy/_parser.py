"""
The ``haproxy:`` endpoint description prefix: ``haproxy:tcp:8080`` listens
as ``tcp:8080`` would, for connections that start with a PROXY header.

Private: :mod:`fw.protocols.haproxy` is the public module.  The entry point
names :data:`haproxyServerParser`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from zope.interface import implementer

from fw.internet._interfaces_protocol import (
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from fw.internet.endpoints import quoteStringArgument, serverFromString
from fw.protocols.haproxy._wrapper import proxyEndpoint

__all__ = ["HAProxyServerParser", "haproxyServerParser", "unparseEndpoint"]


def unparseEndpoint(args: Sequence[str], kwargs: Mapping[str, str]) -> str:
    """
    Write fields back as an endpoint description: the inverse of the
    parsing :func:`~fw.internet.endpoints.serverFromString` does, each field
    escaped with :func:`~fw.internet.endpoints.quoteStringArgument`.
    """
    fields = [quoteStringArgument(a) for a in args]
    fields += [f"{quoteStringArgument(k)}={quoteStringArgument(v)}" for k, v in kwargs.items()]
    return ":".join(fields)


@implementer(IStreamServerEndpointStringParser)
class HAProxyServerParser:
    """
    ``haproxy:DESCRIPTION``: the server endpoint ``DESCRIPTION`` describes
    (``haproxy:tcp:8080``, ``haproxy:unix:/run/app.sock``...), wrapped by
    :func:`proxyEndpoint`.
    """

    prefix = "haproxy"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the inner endpoint from the remaining fields, and wrap it."""
        if not args:
            raise ValueError(
                "a 'haproxy' server endpoint needs an endpoint to wrap, as haproxy:tcp:80"
            )
        return proxyEndpoint(serverFromString(reactor, unparseEndpoint(args, kwargs)))


#: The parser object the ``fw.endpoints.server`` entry point ``haproxy`` names.
haproxyServerParser: Final = HAProxyServerParser()
