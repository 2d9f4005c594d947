"""
The base classes of protocols and protocol factories.

A stream protocol subclasses :class:`Protocol` and overrides the events it
cares about; a :class:`Factory` (or :class:`ClientFactory`) builds one
protocol instance per connection.  Calls to a protocol come in this order::

    makeConnection -> connectionMade -> dataReceived* -> connectionLost

Child processes use :class:`ProcessProtocol`, datagram sockets
:class:`DatagramProtocol` or :class:`ConnectedDatagramProtocol`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IConsumer, ILoggingContext, IProducer
from fw.internet._interfaces_protocol import (
    IProcessProtocol,
    IProtocol,
    IProtocolFactory,
)
from fw.logger import _loggerFor
from fw.python.components import registerAdapter
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress
    from fw.internet._interfaces_transport import IConnector, IProcessTransport, ITransport

__all__ = [
    "AbstractDatagramProtocol",
    "BaseProtocol",
    "ClientFactory",
    "ConnectedDatagramProtocol",
    "ConsumerToProtocolAdapter",
    "DatagramProtocol",
    "Factory",
    "ProcessProtocol",
    "Protocol",
    "ProtocolToConsumerAdapter",
    "ServerFactory",
    "connectionDone",
]

#: The reason given to ``connectionLost`` for a connection closed cleanly:
#: a :class:`Failure` wrapping :class:`fw.internet.error.ConnectionDone`.
connectionDone: Failure = Failure(error.ConnectionDone())
connectionDone.cleanFailure()

_FactoryT = TypeVar("_FactoryT", bound="Factory")


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
