"""
What the HTTP client's connection pool connects: a protocol that becomes
HTTP/1.1 or HTTP/2 by what TLS's ALPN chose (plain connections are HTTP/1.1
at once, or HTTP/2 by prior knowledge when asked).  Private: :mod:`fw.web.client`
is the public module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_protocol import IHandshakeListener
from fw.internet._interfaces_transport import ISSLTransport
from fw.internet.defer import Deferred
from fw.internet.error import ConnectionDone
from fw.internet.protocol import Protocol
from fw.python.failure import Failure
from fw.web._client_http2 import H2ClientProtocol
from fw.web._newclient import HTTP11ClientProtocol, ResponseNeverReceived

__all__: list[str] = []


@implementer(IHandshakeListener)
class _ClientConnectionSelector(Protocol):
    """
    What the pool's factory builds: it becomes an :class:`HTTP11ClientProtocol`
    at once on a plain connection, or, over TLS, the protocol ALPN chose
    once the handshake is done.  ``whenReady`` fires with that protocol.

    The order of calls::

        makeConnection -> [handshakeCompleted] -> dataReceived* -> connectionLost
    """

    def __init__(
        self,
        buildHTTP11: Callable[[], HTTP11ClientProtocol],
        buildHTTP2: Callable[[], H2ClientProtocol] | None,
        priorKnowledge: bool = False,
    ) -> None:
        self._buildHTTP11 = buildHTTP11
        self._buildHTTP2 = buildHTTP2
        self._priorKnowledge = priorKnowledge
        self.chosen: Any = None
        self._ready: Deferred[Any] | None = Deferred(self._cancelReady)
        self._early: list[bytes] = []

    def whenReady(self) -> Deferred[Any]:
        """A Deferred firing with the chosen protocol (failing if the connection ended first)."""
        if self._ready is None:
            d: Deferred[Any] = Deferred()
            d.callback(self.chosen)
            return d
        return self._ready

    def _cancelReady(self, d: Deferred[Any]) -> None:
        self._ready = None
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def makeConnection(self, transport: Any) -> None:
        """Connect; choose now unless TLS is still to negotiate."""
        self.connected = True
        self.transport = transport
        if ISSLTransport.providedBy(transport) and self._buildHTTP2 is not None:
            return
        if self._priorKnowledge and self._buildHTTP2 is not None:
            self._choose(self._buildHTTP2())
        else:
            self._choose(self._buildHTTP11())

    def handshakeCompleted(self) -> None:
        """TLS is up: HTTP/2 if the server chose ``h2``, else HTTP/1.1."""
        if self.chosen is not None:
            return
        negotiated = getattr(self.transport, "negotiatedProtocol", None)
        if negotiated == b"h2" and self._buildHTTP2 is not None:
            self._choose(self._buildHTTP2())
        else:
            self._choose(self._buildHTTP11())

    def _choose(self, protocol: Any) -> None:
        self.chosen = protocol
        protocol.makeConnection(self.transport)
        early, self._early = self._early, []
        ready, self._ready = self._ready, None
        if ready is not None and not ready.called:
            ready.callback(protocol)
        for data in early:
            protocol.dataReceived(data)

    def dataReceived(self, data: bytes) -> None:
        """Hand the bytes to the chosen protocol."""
        if self.chosen is None:
            self._early.append(data)
            return
        self.chosen.dataReceived(data)

    def connectionLost(self, reason: Failure = Failure(ConnectionDone())) -> None:  # noqa: B008
        """Tell the chosen protocol, or fail ``whenReady``."""
        self.connected = False
        if self.chosen is not None:
            self.chosen.connectionLost(reason)
            return
        ready, self._ready = self._ready, None
        if ready is not None and not ready.called:
            ready.errback(ResponseNeverReceived([reason]))

    def __getattr__(self, name: str) -> Any:
        # The chosen protocol's attributes (``state``, ``abort``...), for code
        # that holds what the endpoint returned.
        if name.startswith("__") or name == "chosen":
            raise AttributeError(name)
        chosen = self.__dict__.get("chosen")
        if chosen is None:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        return getattr(chosen, name)
