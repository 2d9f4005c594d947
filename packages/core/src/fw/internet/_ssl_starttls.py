"""
``startTLS``: putting TLS under the protocol of a connection already open.

The connection's protocol is wrapped in a
:class:`~fw.protocols.tls.TLSMemoryBIOProtocol`, which becomes the
connection's protocol; the connection's own ``write``, ``loseConnection``
and friends are routed through it (instance attributes that shadow the
class's methods, so connections without TLS pay nothing), while the TLS
protocol writes its records through :class:`_RawTransport`, which calls the
class's methods directly.

Private: used by :meth:`fw.internet.tcp.Connection.startTLS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["startTLSOn"]

# The connection's methods that go through TLS once it is started.
_ROUTED = (
    "write",
    "writeSequence",
    "loseConnection",
    "loseWriteConnection",
    "abortConnection",
    "registerProducer",
    "unregisterProducer",
    "stopConsuming",
    "getPeerCertificate",
    "getHandle",
)


class _RawTransport:
    """
    A connection as its TLS protocol sees it: the connection's class methods,
    bypassing the routing through TLS; any other attribute is the
    connection's.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._cls = type(connection)

    def write(self, data: bytes) -> None:
        self._cls.write(self._connection, data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        self._cls.write(self._connection, b"".join(data))

    def loseConnection(self) -> None:
        self._cls.loseConnection(self._connection)

    def loseWriteConnection(self) -> None:
        self._cls.loseWriteConnection(self._connection)

    def abortConnection(self) -> None:
        self._cls.abortConnection(self._connection)

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self._cls.registerProducer(self._connection, producer, streaming)

    def unregisterProducer(self) -> None:
        self._cls.unregisterProducer(self._connection)

    def getHandle(self) -> Any:
        return self._cls.getHandle(self._connection)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._connection, name)

    def __repr__(self) -> str:
        return f"<raw {self._connection!r}>"


def startTLSOn(connection: Any, contextFactory: Any, client: bool) -> Any:
    """
    Start TLS on ``connection`` (as the client when ``client``) and return
    the TLS protocol now between it and its protocol.
    """
    from fw.protocols._tls_protocol import TLSMemoryBIOFactory

    factory = TLSMemoryBIOFactory(contextFactory, client, None)
    tls = factory.protocol(factory, connection.protocol, False)
    connection.protocol = tls
    for name in _ROUTED:
        setattr(connection, name, getattr(tls, name))
    tls.makeConnection(_RawTransport(connection))
    return tls
