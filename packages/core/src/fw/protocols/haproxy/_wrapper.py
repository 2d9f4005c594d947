"""
Serving behind a proxy that speaks the PROXY protocol: a wrapping factory
that reads the header, then runs the real protocol with the addresses it
gave.

Private: :mod:`fw.protocols.haproxy` is the public module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zope.interface import implementer

from fw.internet._interfaces_core import IReactorTime
from fw.internet._interfaces_protocol import IProtocolFactory, IStreamServerEndpoint
from fw.internet.protocol import connectionDone
from fw.logger import Logger
from fw.protocols.haproxy._exceptions import InvalidProxyHeader
from fw.protocols.haproxy._header import ProxyHeaderParser
from fw.protocols.haproxy._info import ProxyInfo
from fw.protocols.policies import ProtocolWrapper, WrappingFactory
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress, IDelayedCall
    from fw.internet._interfaces_transport import IListeningPort
    from fw.internet.defer import Deferred

__all__ = ["HAProxyProtocolWrapper", "HAProxyWrappingFactory", "proxyEndpoint"]

_log = Logger(namespace="fw.protocols.haproxy")


class HAProxyProtocolWrapper(ProtocolWrapper):
    """
    Reads the PROXY header at the start of a connection, then hands the
    connection to the wrapped protocol, whose ``transport.getPeer()`` and
    ``getHost()`` are then the addresses the header gave (the connection's
    own when it gave none).

    The wrapped protocol sees nothing of the connection before the header
    is complete: when the wrapper was built by a
    :class:`HAProxyWrappingFactory`, the wrapped protocol is only built
    then, by the wrapped factory's ``buildProtocol`` with the real client
    address; its ``connectionMade`` already sees the real addresses.  A
    connection whose header is invalid, too long, or not complete within
    the factory's ``headerTimeout`` is closed; the wrapped protocol never
    hears of it.

    Attributes:
        proxyInfo: the parsed header, or ``None`` until it is complete.
    """

    factory: HAProxyWrappingFactory
    wrappedProtocol: Any
    proxyInfo: ProxyInfo | None = None
    _failed = False
    _started = False
    _timeoutCall: IDelayedCall | None = None

    def __init__(self, factory: HAProxyWrappingFactory, wrappedProtocol: Any = None) -> None:
        super().__init__(factory, wrappedProtocol)
        self._parser = ProxyHeaderParser(getattr(factory, "maxV2Length", None))

    def logPrefix(self) -> str:
        """The wrapped protocol's log prefix, once there is one."""
        if self.wrappedProtocol is None:
            return type(self).__name__
        return super().logPrefix()

    def makeConnection(self, transport: Any) -> None:
        """Attach to ``transport`` and wait for the header."""
        self.connected = True
        self.transport = transport
        self._provideInterfaces()
        self.factory.registerProtocol(self)
        timeout = getattr(self.factory, "headerTimeout", None)
        if timeout is not None:
            clock = getattr(self.factory, "clock", None) or getattr(transport, "reactor", None)
            if IReactorTime.providedBy(clock):
                self._timeoutCall = clock.callLater(timeout, self._headerTimedOut)

    def _cancelTimeout(self) -> None:
        call, self._timeoutCall = self._timeoutCall, None
        if call is not None and call.active():
            call.cancel()

    def _headerTimedOut(self) -> None:
        self._timeoutCall = None
        _log.info(
            "closing {peer}: no complete PROXY header within {timeout} seconds",
            peer=self.transport.getPeer(),
            timeout=self.factory.headerTimeout,
        )
        self._failed = True
        self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        """Feed the header parser, then pass the rest on."""
        if self._started:
            self.wrappedProtocol.dataReceived(data)
            return
        if self._failed:
            return
        try:
            info, rest = self._parser.feed(data)
        except InvalidProxyHeader as e:
            self._failed = True
            self._cancelTimeout()
            _log.info(
                "closing {peer}: invalid PROXY header: {error}",
                peer=self.transport.getPeer(),
                error=str(e),
            )
            self.transport.loseConnection()
            return
        if info is None:
            return
        self._cancelTimeout()
        self.proxyInfo = info
        if self.wrappedProtocol is None:
            wrapped = self.factory.wrappedFactory.buildProtocol(self.getPeer())
            if wrapped is None:
                self._failed = True
                self.transport.loseConnection()
                return
            self.wrappedProtocol = wrapped
            self._provideInterfaces()
        self._started = True
        self.wrappedProtocol.makeConnection(self)
        if rest and self.connected:
            self.wrappedProtocol.dataReceived(rest)

    def getPeer(self) -> IAddress:
        """The client's address, as the header gave it (else the connection's peer)."""
        if self.proxyInfo is not None and self.proxyInfo.source is not None:
            return self.proxyInfo.source
        return super().getPeer()

    def getHost(self) -> IAddress:
        """The address the client connected to, as the header gave it (else the connection's)."""
        if self.proxyInfo is not None and self.proxyInfo.destination is not None:
            return self.proxyInfo.destination
        return super().getHost()

    def readConnectionLost(self) -> None:
        """End of input: passed on once started; before the header, close."""
        if self._started:
            super().readConnectionLost()
        else:
            self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        """Passed on once started."""
        if self._started:
            super().writeConnectionLost()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the wrapped protocol, if it was started."""
        self.connected = False
        self._cancelTimeout()
        self.factory.unregisterProtocol(self)
        if self._started:
            self.wrappedProtocol.connectionLost(reason)


class HAProxyWrappingFactory(WrappingFactory):
    """
    Wraps a server factory for connections that start with a PROXY
    protocol header (version 1 or 2), as a load balancer such as HAProxy
    sends with ``send-proxy`` / ``send-proxy-v2``.

    Only put it behind a proxy you trust: a client able to connect directly
    could claim any address.

    Args:
        wrappedFactory: the factory of the real protocol.
        headerTimeout: seconds a client has to send its whole header, or
            ``None`` for no limit; the timer runs on ``clock``, else on the
            transport's ``reactor``.
        maxV2Length: the most bytes of addresses and extensions a version 2
            header may announce (default :attr:`V2Parser.MAX_LENGTH`).
        clock: the :class:`~fw.internet.interfaces.IReactorTime` for the
            header timer.
    """

    protocol: Any = HAProxyProtocolWrapper

    def __init__(
        self,
        wrappedFactory: IProtocolFactory,
        headerTimeout: float | None = 30.0,
        maxV2Length: int | None = None,
        clock: IReactorTime | None = None,
    ) -> None:
        super().__init__(wrappedFactory)
        self.headerTimeout = headerTimeout
        self.maxV2Length = maxV2Length
        self.clock = clock

    def buildProtocol(self, addr: IAddress) -> Any:
        """
        A wrapper for the new connection; the wrapped protocol is built once
        the header has given the client's real address.
        """
        return self.protocol(self)


@implementer(IStreamServerEndpoint)
class _HAProxyServerEndpoint:
    """An endpoint listening through another with a :class:`HAProxyWrappingFactory`."""

    def __init__(self, wrappedEndpoint: IStreamServerEndpoint, **options: Any) -> None:
        self._wrappedEndpoint = wrappedEndpoint
        self._options = options

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Listen on the wrapped endpoint; each connection must start with a PROXY header."""
        return self._wrappedEndpoint.listen(
            HAProxyWrappingFactory(protocolFactory, **self._options)
        )


def proxyEndpoint(
    wrappedEndpoint: IStreamServerEndpoint,
    headerTimeout: float | None = 30.0,
    maxV2Length: int | None = None,
) -> IStreamServerEndpoint:
    """
    Wrap a server endpoint so that its connections start with a PROXY
    header, whose addresses the protocols see as their peer's and their own.

    Args:
        wrappedEndpoint: the endpoint to listen on.
        headerTimeout: see :class:`HAProxyWrappingFactory`.
        maxV2Length: see :class:`HAProxyWrappingFactory`.
    """
    return _HAProxyServerEndpoint(
        wrappedEndpoint, headerTimeout=headerTimeout, maxV2Length=maxV2Length
    )
