"""
SOCKS client endpoints: connect to a destination through a SOCKS 4a or 5
proxy reached by any client endpoint.

Private: :mod:`fw.protocols.socks` is the public module.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_protocol import IProtocol, IProtocolFactory, IStreamClientEndpoint
from fw.internet.address import HostnameAddress, IPv4Address, IPv6Address
from fw.internet.defer import Deferred
from fw.internet.protocol import Factory, Protocol, connectionDone
from fw.protocols._socks_client_machine import (
    SOCKS4ClientMachine,
    SOCKS5ClientMachine,
    _ClientMachine,
    normalizeMethods,
)
from fw.protocols._socks_codec import SOCKSError, SOCKSProtocolError
from fw.python.failure import Failure

__all__ = ["SOCKS4ClientEndpoint", "SOCKS5ClientEndpoint"]

_ANONYMOUS: Mapping[str, Sequence[bytes | str]] = MappingProxyType({"anonymous": ()})


def _destination(host: str, port: int) -> Any:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return HostnameAddress(host.encode("idna"), port)
    if ip.version == 4:
        return IPv4Address("TCP", host, port)
    return IPv6Address("TCP", host, port)


class _SOCKSClientProtocol(Protocol):
    """
    Talks SOCKS to the proxy; once the tunnel is open, connects the user's
    protocol to the same transport and steps aside (passing data on).
    """

    transport: Any

    def __init__(
        self,
        machine: _ClientMachine,
        factory: IProtocolFactory,
        destination: Any,
        result: Deferred[IProtocol],
    ) -> None:
        self._machine = machine
        self._factory = factory
        self._destination = destination
        self._result = result
        self._wrapped: IProtocol | None = None

    def connectionMade(self) -> None:
        """Send the greeting (or the SOCKS 4 request)."""
        self.transport.write(self._machine.dataToSend())

    def _fail(self, reason: BaseException | Failure) -> None:
        if not self._result.called:
            self._result.errback(reason)
        self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        """Feed the handshake, or pass ``data`` to the user's protocol."""
        if self._wrapped is not None:
            self._wrapped.dataReceived(data)
            return
        if self._result.called:
            return
        try:
            established = self._machine.receiveData(data)
        except SOCKSError as e:
            self._fail(e)
            return
        outgoing = self._machine.dataToSend()
        if outgoing:
            self.transport.write(outgoing)
        if established is None:
            return
        try:
            wrapped = self._factory.buildProtocol(self._destination)
            if wrapped is None:
                raise error.NoProtocol()
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            self._fail(Failure())
            return
        self._wrapped = wrapped
        wrapped.makeConnection(self.transport)
        self._result.callback(wrapped)
        if established.trailingData:
            wrapped.dataReceived(established.trailingData)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Pass the loss on, or fail the connection attempt."""
        if self._wrapped is not None:
            self._wrapped.connectionLost(reason)
        elif not self._result.called:
            self._result.errback(
                SOCKSProtocolError(
                    f"the proxy closed the connection during the handshake: "
                    f"{reason.getErrorMessage()}"
                )
            )


class _HandshakeFactory(Factory):
    noisy = False

    def __init__(self, endpoint: _SOCKSClientEndpoint, factory: IProtocolFactory) -> None:
        self._endpoint = endpoint
        self._factory = factory
        self.result: Deferred[IProtocol] = Deferred(self._cancel)
        self.proxyConnection: Deferred[IProtocol] | None = None
        self.handshake: _SOCKSClientProtocol | None = None

    def _cancel(self, d: Deferred[IProtocol]) -> None:
        destination = _destination(self._endpoint._host, self._endpoint._port)
        if not d.called:
            d.errback(error.ConnectingCancelledError(destination))
        if self.proxyConnection is not None and not self.proxyConnection.called:
            self.proxyConnection.cancel()
        if self.handshake is not None and self.handshake.transport is not None:
            self.handshake.transport.abortConnection()

    def doStart(self) -> None:
        """Pass the start on to the user's factory."""
        self._factory.doStart()

    def doStop(self) -> None:
        """Pass the stop on to the user's factory."""
        self._factory.doStop()

    def buildProtocol(self, addr: Any) -> Protocol | None:
        """The handshake protocol, which later connects the user's."""
        self.handshake = _SOCKSClientProtocol(
            self._endpoint._machine(),
            self._factory,
            _destination(self._endpoint._host, self._endpoint._port),
            self.result,
        )
        return self.handshake


class _SOCKSClientEndpoint:
    def __init__(self, host: str, port: int, proxyEndpoint: IStreamClientEndpoint) -> None:
        self._host = host
        self._port = port
        self._proxyEndpoint = proxyEndpoint
        self._machine()  # check the arguments now

    def _machine(self) -> _ClientMachine:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._host}:{self._port} via {self._proxyEndpoint!r}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Connect to the proxy with the proxy endpoint, ask it for the
        destination, and once it is reached connect a protocol built by
        ``protocolFactory`` (given the destination's address).

        The protocol's transport is the connection to the proxy: its
        ``getPeer()`` is the proxy's address.

        Returns:
            A Deferred firing with the connected protocol, or failing with
            the proxy endpoint's error, or a
            :class:`~fw.protocols.socks.SOCKSError` (a
            :class:`~fw.protocols.socks.SOCKSReplyError` subclass carrying the
            proxy's reply code when it refused).  Cancel it to abandon the
            attempt (it fails with ``ConnectingCancelledError``); bound it
            with ``addTimeout``.
        """
        factory = _HandshakeFactory(self, protocolFactory)
        result = factory.result
        try:
            proxyConnection = self._proxyEndpoint.connect(factory)
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            result.errback(Failure())
            return result
        factory.proxyConnection = proxyConnection

        def proxyFailed(reason: Failure) -> None:
            if not result.called:
                result.errback(reason)

        proxyConnection.addErrback(proxyFailed)
        return result


@implementer(IStreamClientEndpoint)
class SOCKS5ClientEndpoint(_SOCKSClientEndpoint):
    """
    Connects to ``host:port`` through a SOCKS 5 proxy (RFC 1928).

    A host name is sent to the proxy, which resolves it (like curl's
    ``--socks5-hostname``); an IP literal is sent as an address.

    Args:
        host: the destination's host name or IP address.
        port: the destination's port.
        proxyEndpoint: the client endpoint that reaches the proxy (any
            stream endpoint: TCP, TLS, UNIX, another SOCKS endpoint...).
        methods: the authentication methods to offer: ``{"anonymous": ()}``
            (the default), ``{"login": (username, password)}``, or both.

    Raises:
        ValueError: a bad host, port or ``methods``.

    Example::

        proxy = TCP4ClientEndpoint(reactor, "127.0.0.1", 1080)
        endpoint = SOCKS5ClientEndpoint("example.com", 80, proxy)
        protocol = await connectProtocol(endpoint, MyProtocol())
    """

    def __init__(
        self,
        host: str,
        port: int,
        proxyEndpoint: IStreamClientEndpoint,
        methods: Mapping[str, Sequence[bytes | str]] = _ANONYMOUS,
    ) -> None:
        self._anonymous, self._login = normalizeMethods(methods)
        super().__init__(host, port, proxyEndpoint)

    def _machine(self) -> _ClientMachine:
        return SOCKS5ClientMachine(self._host, self._port, self._anonymous, self._login)


@implementer(IStreamClientEndpoint)
class SOCKS4ClientEndpoint(_SOCKSClientEndpoint):
    """
    Connects to ``host:port`` through a SOCKS 4 proxy: SOCKS 4a (the proxy
    resolves the name) for a host name, SOCKS 4 for an IPv4 address.

    Args:
        host: the destination's host name or IPv4 address.
        port: the destination's port.
        proxyEndpoint: the client endpoint that reaches the proxy.
        user: the user id to send.

    Raises:
        ValueError: an IPv6 address (SOCKS 4 has none), a bad port, or a
            user id containing NUL.
    """

    def __init__(
        self, host: str, port: int, proxyEndpoint: IStreamClientEndpoint, user: bytes = b""
    ) -> None:
        self._user = user
        super().__init__(host, port, proxyEndpoint)

    def _machine(self) -> _ClientMachine:
        return SOCKS4ClientMachine(self._host, self._port, self._user)
