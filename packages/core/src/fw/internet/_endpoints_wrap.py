"""
The wrapper that turns a reactor's ``connect*`` calls into an endpoint's
Deferred: a client factory that fires a Deferred with the user's protocol once
it is connected, fails it when the attempt fails, and makes cancelling it stop
the attempt.

Private: :mod:`fw.internet.endpoints` is the public module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zope.interface import directlyProvides, implementer

from fw.internet import error
from fw.internet._interfaces_core import ILoggingContext
from fw.internet._interfaces_protocol import (
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IProtocol,
    IProtocolFactory,
)
from fw.internet.defer import Deferred
from fw.internet.protocol import ClientFactory, Protocol, connectionDone
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress
    from fw.internet._interfaces_transport import IConnector, ITransport

__all__: list[str] = []

# The optional protocol interfaces a transport looks for on its protocol:
# the wrapper provides each one its wrapped protocol provides.
_PASSED_THROUGH = (IHalfCloseableProtocol, IFileDescriptorReceiver, IHandshakeListener)


class _WrappingProtocol(Protocol):
    """
    Stands between a transport and the user's protocol: connects the user's
    protocol when the transport connects, fires the endpoint's Deferred with
    it, and passes every later event through.
    """

    def __init__(self, connected: Deferred[IProtocol], wrapped: IProtocol) -> None:
        self._connectedDeferred = connected
        self._wrappedProtocol = wrapped
        candidate: object = wrapped
        provided = [i for i in _PASSED_THROUGH if i.providedBy(candidate)]
        if provided:
            directlyProvides(self, *provided)

    def logPrefix(self) -> str:
        """The wrapped protocol's log prefix (or class name)."""
        wrapped = self._wrappedProtocol
        if ILoggingContext.providedBy(wrapped):
            return str(wrapped.logPrefix())
        return wrapped.__class__.__name__

    def makeConnection(self, transport: ITransport) -> None:
        """Connect, then hand the transport to the wrapped protocol."""
        self.connected = True
        self.transport = transport
        try:
            self._wrappedProtocol.makeConnection(transport)
        except Exception:
            # Unlike Twisted, which leaves the Deferred waiting forever: fail
            # it, and let the transport close the connection (the error is
            # re-raised for it to log).
            self._connectedDeferred.errback(Failure())
            raise
        self._connectedDeferred.callback(self._wrappedProtocol)

    def dataReceived(self, data: bytes) -> None:
        """Pass ``data`` on."""
        self._wrappedProtocol.dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Pass the loss on."""
        self._wrappedProtocol.connectionLost(reason)

    def readConnectionLost(self) -> None:
        """Pass the half-close on (when the wrapped protocol is half-closeable)."""
        self._wrappedProtocol.readConnectionLost()  # type: ignore[attr-defined]

    def writeConnectionLost(self) -> None:
        """Pass the half-close on (when the wrapped protocol is half-closeable)."""
        self._wrappedProtocol.writeConnectionLost()  # type: ignore[attr-defined]

    def fileDescriptorReceived(self, descriptor: int) -> None:
        """Pass a received descriptor on."""
        self._wrappedProtocol.fileDescriptorReceived(descriptor)  # type: ignore[attr-defined]

    def handshakeCompleted(self) -> None:
        """Pass the end of a TLS handshake on."""
        self._wrappedProtocol.handshakeCompleted()  # type: ignore[attr-defined]


@implementer(IProtocolFactory)
class _WrappingFactory(ClientFactory):
    """
    A client factory for one connection attempt of a client endpoint.

    Attributes:
        _onConnection: fires with the user's protocol once connected, or
            fails with the reason the attempt failed; cancelling it stops the
            attempt with :class:`~fw.internet.error.ConnectingCancelledError`.
    """

    noisy = False

    def __init__(self, wrappedFactory: IProtocolFactory) -> None:
        self._wrappedFactory = wrappedFactory
        self._connector: IConnector | None = None
        self._onConnection: Deferred[IProtocol] = Deferred(self._canceller)

    def startedConnecting(self, connector: IConnector) -> None:
        """Remember the connector, to stop it if the attempt is cancelled."""
        self._connector = connector

    def _canceller(self, deferred: Deferred[IProtocol]) -> None:
        connector = self._connector
        destination: Any = connector.getDestination() if connector is not None else None
        deferred.errback(error.ConnectingCancelledError(destination))
        if connector is not None:
            try:
                connector.stopConnecting()
            except error.NotConnectingError:
                pass

    def doStart(self) -> None:
        """Pass the start on to the wrapped factory."""
        self._wrappedFactory.doStart()

    def doStop(self) -> None:
        """Pass the stop on to the wrapped factory."""
        self._wrappedFactory.doStop()

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """
        Build the user's protocol and wrap it; if the wrapped factory raises or
        refuses (returns ``None``), fail the Deferred and refuse too.
        """
        try:
            wrapped = self._wrappedFactory.buildProtocol(addr)
            if wrapped is None:
                raise error.NoProtocol()
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            if not self._onConnection.called:
                self._onConnection.errback(Failure())
            return None
        return _WrappingProtocol(self._onConnection, wrapped)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Fail the Deferred with ``reason`` (unless it has fired already)."""
        if not self._onConnection.called:
            self._onConnection.errback(reason)
