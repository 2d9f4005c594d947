"""
The base classes of protocols and protocol factories.

A stream protocol subclasses :class:`Protocol` and overrides the events it
cares about; a :class:`Factory` (or :class:`ClientFactory`) builds one
protocol instance per connection.  Calls to a protocol come in this order::

    makeConnection -> connectionMade -> dataReceived* -> connectionLost

Child processes use :class:`ProcessProtocol`, datagram sockets
:class:`DatagramProtocol` or :class:`ConnectedDatagramProtocol`.

Client helpers: :class:`ReconnectingClientFactory` connects again, with a
growing delay, whenever a connection fails or is lost; :class:`ClientCreator`
and :func:`connectProtocol` connect one protocol instance and give it back
in a Deferred once connected.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IConsumer, ILoggingContext, IProducer
from fw.internet._interfaces_protocol import (
    IProcessProtocol,
    IProtocol,
    IProtocolFactory,
)
from fw.internet.defer import Deferred
from fw.logger import _loggerFor
from fw.python.components import registerAdapter
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress, IDelayedCall, IReactorTime
    from fw.internet._interfaces_protocol import IStreamClientEndpoint
    from fw.internet._interfaces_transport import IConnector, IProcessTransport, ITransport

__all__ = [
    "AbstractDatagramProtocol",
    "BaseProtocol",
    "ClientCreator",
    "ClientFactory",
    "ConnectedDatagramProtocol",
    "ConsumerToProtocolAdapter",
    "DatagramProtocol",
    "Factory",
    "ProcessProtocol",
    "Protocol",
    "ProtocolToConsumerAdapter",
    "ReconnectingClientFactory",
    "ServerFactory",
    "connectProtocol",
    "connectionDone",
]

#: The reason given to ``connectionLost`` for a connection closed cleanly:
#: a :class:`Failure` wrapping :class:`fw.internet.error.ConnectionDone`.
connectionDone: Failure = Failure(error.ConnectionDone())
connectionDone.cleanFailure()

_FactoryT = TypeVar("_FactoryT", bound="Factory")
_ProtocolT = TypeVar("_ProtocolT")


# -- factories ---------------------------------------------------------------


@implementer(IProtocolFactory, ILoggingContext)
class Factory:
    """
    Builds a protocol for each connection, and keeps state shared by them.

    Set :attr:`protocol` (in a subclass, or with :meth:`forProtocol`) to the
    protocol class; :meth:`buildProtocol` instantiates it with no arguments
    and sets its ``factory`` attribute.  :meth:`startFactory` runs when the
    first port or connector starts using the factory, :meth:`stopFactory`
    when the last one stops.

    Attributes:
        protocol: the callable returning a new protocol.
        noisy: log starting and stopping.
        numPorts: how many ports and connectors are using the factory.
    """

    protocol: Callable[[], Protocol] | None = None
    noisy: bool = True
    numPorts: int = 0

    @classmethod
    def forProtocol(
        cls: type[_FactoryT], protocol: Callable[[], Protocol], *args: Any, **kwargs: Any
    ) -> _FactoryT:
        """
        Make a factory of this class that builds ``protocol``.

        Args:
            protocol: the protocol class (or any callable returning one).
            args: passed to this class's constructor.
            kwargs: passed to this class's constructor.
        """
        factory = cls(*args, **kwargs)
        factory.protocol = protocol
        return factory

    def logPrefix(self) -> str:
        """Return the class name, for log messages about this factory."""
        return self.__class__.__name__

    def doStart(self) -> None:
        """
        Note one more user of the factory; calls :meth:`startFactory` for the
        first.  Called by ports and connectors, not by applications.
        """
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Starting factory {factory!r}", factory=self)
            self.startFactory()
        self.numPorts += 1

    def doStop(self) -> None:
        """
        Note one fewer user of the factory; calls :meth:`stopFactory` after
        the last.  Called by ports and connectors, not by applications.
        Unbalanced calls are ignored.
        """
        if self.numPorts == 0:
            return
        self.numPorts -= 1
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Stopping factory {factory!r}", factory=self)
            self.stopFactory()

    def startFactory(self) -> None:
        """Override to set up shared state (open files, databases...) before use."""

    def stopFactory(self) -> None:
        """Override to release what :meth:`startFactory` set up."""

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """
        Return a new protocol for a connection with the peer at ``addr``.

        The default calls :attr:`protocol` and sets the result's ``factory``
        to this factory.  Override to return ``None`` and refuse the
        connection, or to pass arguments to the protocol.

        Raises:
            TypeError: :attr:`protocol` has not been set.
        """
        if self.protocol is None:
            raise TypeError(f"{self.__class__.__name__}.protocol is not set")
        p = self.protocol()
        p.factory = self
        return p


class ServerFactory(Factory):
    """A factory for server connections (nothing more than :class:`Factory`)."""


class ClientFactory(Factory):
    """
    A factory for client connections, told of the connection attempt's
    progress.  The connector passed to each method can ``connect()`` again.
    """

    def startedConnecting(self, connector: IConnector) -> None:
        """A connection attempt has started."""

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """The connection attempt failed, for ``reason``."""

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """An established connection was lost, for ``reason``."""


class ReconnectingClientFactory(ClientFactory):
    """
    A client factory that connects again whenever the connection fails or
    is lost, waiting longer after each consecutive failure.

    The delay starts at :attr:`initialDelay`, is multiplied by
    :attr:`factor` after every attempt, never exceeds :attr:`maxDelay`, and
    is randomised by :attr:`jitter` (a fraction of the delay, the standard
    deviation of a normal distribution around it) so that many clients cut
    off together do not all come back at the same instant.  Call
    :meth:`resetDelay` once a connection has proved healthy (typically in
    the protocol's ``connectionMade``), and :meth:`stopTrying` to give up::

        class Client(Protocol):
            def connectionMade(self):
                self.factory.resetDelay()

        factory = ReconnectingClientFactory.forProtocol(Client)
        reactor.connectTCP("example.com", 8000, factory)

    Attributes:
        maxDelay: the longest wait, in seconds.
        initialDelay: the first wait, in seconds.
        factor: what the wait is multiplied by after each attempt (*e*, so
            the wait grows fast, as in Twisted).
        jitter: the relative standard deviation of the random change
            applied to each wait (0 for none).
        delay: the current wait.
        retries: the consecutive attempts made since the last
            :meth:`resetDelay`.
        maxRetries: give up after this many attempts (``None``: never).
        continueTrying: false once :meth:`stopTrying` has been called.
        connector: the connector of the last attempt.
        clock: the :class:`~fw.internet.interfaces.IReactorTime` that
            schedules the attempts; the global reactor when ``None``
            (tests set a :class:`~fw.internet.task.Clock`).
    """

    maxDelay: float = 3600
    initialDelay: float = 1.0
    # e: from one attempt to the next, the wait grows by a factor of e.
    factor: float = 2.7182818284590451
    # A small spread (about 12%) that keeps reconnecting clients apart.
    jitter: float = 0.11962656472
    delay: float = initialDelay
    retries: int = 0
    maxRetries: int | None = None
    continueTrying: bool = True
    connector: IConnector | None = None
    clock: IReactorTime | None = None
    _callID: IDelayedCall | None = None

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """The attempt failed: try again later, unless told to stop."""
        if self.continueTrying:
            self.connector = connector
            self.retry()

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """The connection was lost: reconnect later, unless told to stop."""
        if self.continueTrying:
            self.connector = connector
            self.retry()

    def retry(self, connector: IConnector | None = None) -> None:
        """
        Schedule the next connection attempt, after the next delay.

        Args:
            connector: the connector to reconnect; by default the one of
                the last attempt.

        Raises:
            ValueError: there is no connector to reconnect.
        """
        log = _loggerFor(self)
        if not self.continueTrying:
            if self.noisy:
                log.info("Abandoning {connector} on explicit request", connector=connector)
            return
        if connector is None:
            if self.connector is None:
                raise ValueError("no connector to retry")
            connector = self.connector
        self.retries += 1
        if self.maxRetries is not None and self.retries > self.maxRetries:
            if self.noisy:
                log.info(
                    "Abandoning {connector} after {retries} retries",
                    connector=connector,
                    retries=self.maxRetries,
                )
            return
        delay = min(self.delay * self.factor, self.maxDelay)
        if self.jitter:
            delay = random.normalvariate(delay, delay * self.jitter)
        # Unlike Twisted, the bound holds after the jitter too.
        self.delay = max(0.0, min(delay, self.maxDelay))
        if self.noisy:
            log.info(
                "{connector} will retry in {delay:.3g} seconds",
                connector=connector,
                delay=self.delay,
            )
        clock = self.clock
        if clock is None:
            # Looked up on use: nothing may import the global reactor at import time.
            from fw.internet import reactor

            clock = cast("IReactorTime", reactor)
        self._callID = clock.callLater(self.delay, self._reconnect, connector)

    def _reconnect(self, connector: IConnector) -> None:
        self._callID = None
        connector.connect()

    def stopTrying(self) -> None:
        """
        Stop reconnecting: cancel the pending attempt, and stop the one in
        progress, if any.
        """
        if self._callID is not None:
            self._callID.cancel()
            self._callID = None
        self.continueTrying = False
        if self.connector is not None:
            try:
                self.connector.stopConnecting()
            except error.NotConnectingError:
                pass

    def resetDelay(self) -> None:
        """
        Start over: the next wait is :attr:`initialDelay` again, the retry
        count is zero, and reconnecting is enabled.  Call it once a
        connection succeeds.
        """
        self.delay = self.initialDelay
        self.retries = 0
        self._callID = None
        self.continueTrying = True

    def __getstate__(self) -> dict[str, Any]:
        # Pickle the configuration only, not the retry state nor live objects.
        state = self.__dict__.copy()
        for key in ("connector", "retries", "delay", "continueTrying", "_callID", "clock"):
            state.pop(key, None)
        return state


# -- connecting one protocol instance ---------------------------------------


class _InstanceFactory(ClientFactory, Generic[_ProtocolT]):
    """
    Connects a given protocol instance and fires a Deferred with it once
    connected, on the next reactor turn (after ``connectionMade``).
    """

    noisy = False
    pending: IDelayedCall | None = None

    def __init__(self, reactor: Any, instance: _ProtocolT, deferred: Deferred[_ProtocolT]) -> None:
        self.reactor = reactor
        self.instance = instance
        self.deferred: Deferred[_ProtocolT] | None = deferred

    def __repr__(self) -> str:
        return f"<ClientCreator factory: {self.instance!r}>"

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """Hand over the instance; its Deferred fires on the next turn."""
        if self.deferred is not None:
            self.pending = self.reactor.callLater(
                0, self._fire, self.deferred.callback, self.instance
            )
            self.deferred = None
        return cast(Protocol, self.instance)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Fail the Deferred, on the next turn."""
        if self.deferred is not None:
            self.pending = self.reactor.callLater(0, self._fire, self.deferred.errback, reason)
            self.deferred = None

    def _fire(self, fire: Callable[[Any], object], value: object) -> None:
        self.pending = None
        fire(value)


class ClientCreator(Generic[_ProtocolT]):
    """
    Connects instances of one protocol class, each made with the same
    arguments, and gives each back in a Deferred once it is connected.

    Prefer :func:`connectProtocol` with an endpoint in new code.  Each
    ``connect*`` method makes a new instance, ``protocolClass(*args,
    **kwargs)``, and returns a Deferred that fires with it after its
    ``connectionMade``, or fails with the connection error.  Cancelling the
    Deferred stops the attempt (or closes the connection just made).

    Args:
        reactor: the reactor to connect with.
        protocolClass: the protocol class (or any callable making one).
        args: positional arguments for ``protocolClass``.
        kwargs: keyword arguments for ``protocolClass``.
    """

    def __init__(
        self,
        reactor: Any,
        protocolClass: Callable[..., _ProtocolT],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        self.reactor = reactor
        self.protocolClass = protocolClass
        self.args = args
        self.kwargs = kwargs

    def _connect(self, connect: Callable[[ClientFactory], IConnector]) -> Deferred[_ProtocolT]:
        factory: _InstanceFactory[_ProtocolT]
        connector: IConnector | None = None

        def cancel(d: Deferred[_ProtocolT]) -> None:
            if connector is not None:
                connector.disconnect()
            if factory.pending is not None:
                factory.pending.cancel()
                factory.pending = None

        d: Deferred[_ProtocolT] = Deferred(cancel)
        factory = _InstanceFactory(self.reactor, self.protocolClass(*self.args, **self.kwargs), d)
        connector = connect(factory)
        return d

    def connectTCP(
        self,
        host: str,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Deferred[_ProtocolT]:
        """Connect over TCP (see ``IReactorTCP.connectTCP``)."""
        return self._connect(
            lambda f: self.reactor.connectTCP(host, port, f, timeout, bindAddress)
        )

    def connectUNIX(
        self, address: str, timeout: float = 30, checkPID: bool = False
    ) -> Deferred[_ProtocolT]:
        """Connect to a UNIX socket (see ``IReactorUNIX.connectUNIX``)."""
        return self._connect(lambda f: self.reactor.connectUNIX(address, f, timeout, checkPID))

    def connectSSL(
        self,
        host: str,
        port: int,
        contextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Deferred[_ProtocolT]:
        """Connect over TLS (see ``IReactorSSL.connectSSL``)."""
        return self._connect(
            lambda f: self.reactor.connectSSL(host, port, f, contextFactory, timeout, bindAddress)
        )


def connectProtocol(endpoint: IStreamClientEndpoint, protocol: _ProtocolT) -> Deferred[_ProtocolT]:
    """
    Connect ``protocol`` (an instance, not a factory) through ``endpoint``.

    Args:
        endpoint: the client endpoint to connect with.
        protocol: the protocol to connect.

    Returns:
        The endpoint's Deferred: it fires with ``protocol`` once connected
        and can be cancelled to abandon the attempt.
    """

    class OneShotFactory(Factory):
        noisy = False

        def buildProtocol(self, addr: IAddress) -> Protocol | None:
            return cast(Protocol, protocol)

    return cast("Deferred[_ProtocolT]", endpoint.connect(OneShotFactory()))


# -- protocols ---------------------------------------------------------------


class BaseProtocol:
    """
    What every connection-oriented protocol has: a transport, and a flag
    saying whether it is connected.

    Attributes:
        connected: true once :meth:`makeConnection` has been called.
        transport: the transport, set by :meth:`makeConnection`.
    """

    connected: bool = False
    transport: ITransport | None = None

    def makeConnection(self, transport: ITransport) -> None:
        """
        Attach to ``transport`` and call :meth:`connectionMade`.  Called by
        the transport; not meant to be overridden.
        """
        self.connected = True
        self.transport = transport
        self.connectionMade()

    def connectionMade(self) -> None:
        """
        The connection is up and :attr:`transport` is set.  Override to send a
        greeting or set up per-connection state.
        """


@implementer(IProtocol, ILoggingContext)
class Protocol(BaseProtocol):
    """
    The base class of stream protocols.  Override :meth:`dataReceived` and,
    as needed, :meth:`connectionMade` and :meth:`connectionLost`.

    Attributes:
        factory: the factory that built this protocol, if any.
    """

    factory: Factory | None = None

    def logPrefix(self) -> str:
        """Return the class name, for log messages about this connection."""
        return self.__class__.__name__

    def dataReceived(self, data: bytes) -> None:
        """
        Some bytes arrived, in any number of pieces: a message may be split
        across calls, and one call may carry several messages.
        """

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """
        The connection was closed, cleanly (``ConnectionDone``) or not.
        Nothing more will be received or can be sent.
        """


@implementer(IConsumer)
class ProtocolToConsumerAdapter:
    """
    Presents a protocol as a consumer: what is written to it is passed to the
    protocol's ``dataReceived``.  Producers are accepted and ignored.
    """

    def __init__(self, original: IProtocol) -> None:
        self.original = original

    def write(self, data: bytes) -> None:
        """Pass ``data`` to the protocol."""
        self.original.dataReceived(data)

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Accept a producer; it is never paused."""

    def unregisterProducer(self) -> None:
        """Forget the producer."""


@implementer(IProtocol)
class ConsumerToProtocolAdapter:
    """
    Presents a consumer as a protocol: what the protocol receives is written
    to the consumer.  Connection events are ignored.
    """

    def __init__(self, original: IConsumer) -> None:
        self.original = original

    def dataReceived(self, data: bytes) -> None:
        """Write ``data`` to the consumer."""
        self.original.write(data)

    def connectionLost(self, reason: Failure) -> None:
        """Ignored."""

    def makeConnection(self, transport: ITransport) -> None:
        """Ignored."""

    def connectionMade(self) -> None:
        """Ignored."""


@implementer(IProcessProtocol)
class ProcessProtocol(BaseProtocol):
    """
    The base class of protocols talking to a child process.

    The child's output is delivered by :meth:`childDataReceived`, which by
    default hands standard output to :meth:`outReceived` and standard error
    to :meth:`errReceived`; pipes closing go through
    :meth:`childConnectionLost` to the ``in``/``out``/``errConnectionLost``
    methods.  Events come in this order::

        makeConnection -> connectionMade
            -> (childDataReceived | childConnectionLost)*
            -> processExited -> processEnded
    """

    transport: IProcessTransport | None = None

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        """
        The child wrote ``data`` to its descriptor ``childFD``.  Descriptors
        other than 1 and 2 are ignored unless this is overridden.
        """
        if childFD == 1:
            self.outReceived(data)
        elif childFD == 2:
            self.errReceived(data)

    def outReceived(self, data: bytes) -> None:
        """The child wrote ``data`` to its standard output."""

    def errReceived(self, data: bytes) -> None:
        """The child wrote ``data`` to its standard error."""

    def childConnectionLost(self, childFD: int) -> None:
        """The pipe to the child's descriptor ``childFD`` closed."""
        if childFD == 0:
            self.inConnectionLost()
        elif childFD == 1:
            self.outConnectionLost()
        elif childFD == 2:
            self.errConnectionLost()

    def inConnectionLost(self) -> None:
        """The child's standard input closed."""

    def outConnectionLost(self) -> None:
        """The child closed its standard output."""

    def errConnectionLost(self) -> None:
        """The child closed its standard error."""

    def processExited(self, reason: Failure) -> None:
        """
        The child exited: ``reason`` wraps ``ProcessDone`` or
        ``ProcessTerminated``.  Some pipes may still be open.
        """

    def processEnded(self, reason: Failure) -> None:
        """
        The child exited and all its pipes closed; the last event.  ``reason``
        wraps ``ProcessDone`` or ``ProcessTerminated``.
        """


# -- datagram protocols ------------------------------------------------------


class AbstractDatagramProtocol:
    """
    What datagram protocols share: a transport given by the reactor, and
    start/stop hooks counted like a :class:`Factory`'s.

    Attributes:
        transport: the datagram transport (``IUDPTransport``,
            ``IUNIXDatagramTransport``...), or ``None`` when not listening.
        numPorts: how many ports use the protocol.
        noisy: log starting and stopping.
    """

    transport: Any = None
    numPorts: int = 0
    noisy: bool = True

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["transport"] = None
        return state

    def doStart(self) -> None:
        """
        Note one more port using the protocol; calls :meth:`startProtocol`
        for the first.  Called by the reactor.
        """
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Starting protocol {protocol!r}", protocol=self)
            self.startProtocol()
        self.numPorts += 1

    def doStop(self) -> None:
        """
        Note one fewer port using the protocol; forgets the transport, and
        calls :meth:`stopProtocol` after the last.  Called by the reactor.

        Raises:
            RuntimeError: the protocol was not started.
        """
        if self.numPorts <= 0:
            raise RuntimeError(f"{self!r}.doStop() called more often than doStart()")
        self.numPorts -= 1
        self.transport = None
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Stopping protocol {protocol!r}", protocol=self)
            self.stopProtocol()

    def startProtocol(self) -> None:
        """The protocol is listening; override to set up."""

    def stopProtocol(self) -> None:
        """The protocol stopped listening; override to clean up."""

    def makeConnection(self, transport: Any) -> None:
        """
        Attach to the datagram transport and start.  Called by the reactor.

        Raises:
            RuntimeError: the protocol already has a transport.
        """
        if self.transport is not None:
            raise RuntimeError(f"{self!r} already has a transport: {self.transport!r}")
        self.transport = transport
        self.doStart()

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        """A datagram arrived from ``addr`` (a ``(host, port)`` tuple for UDP)."""


@implementer(ILoggingContext)
class DatagramProtocol(AbstractDatagramProtocol):
    """The base class of UDP (and UNIX datagram) protocols."""

    def logPrefix(self) -> str:
        """Return the class name, for log messages about this protocol."""
        return self.__class__.__name__

    def connectionRefused(self) -> None:
        """
        A datagram sent on a connected socket was refused (an ICMP "port
        unreachable" came back).  Only ever called for connected sockets.
        """


class ConnectedDatagramProtocol(DatagramProtocol):
    """A protocol for a connected datagram socket, which talks to one peer only."""

    def datagramReceived(self, datagram: bytes, addr: Any = None) -> None:
        """A datagram arrived from the peer."""

    def connectionFailed(self, failure: Failure) -> None:
        """Connecting the socket failed."""


# IConsumer(aProtocol) and IProtocol(aConsumer) work, as in Twisted.
registerAdapter(ProtocolToConsumerAdapter, IProtocol, IConsumer)
registerAdapter(ConsumerToProtocolAdapter, IConsumer, IProtocol)
