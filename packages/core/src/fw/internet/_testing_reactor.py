"""
Fake reactors that record what is asked of them, for tests.

Public names are re-exported by :mod:`fw.internet.testing`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zope.interface import implementer

from fw.internet._interfaces_core import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IReactorCore,
    IReactorFDSet,
    IReactorPluggableNameResolver,
    IReadDescriptor,
    IResolutionReceiver,
    IWriteDescriptor,
)
from fw.internet._interfaces_protocol import IProtocolFactory
from fw.internet._interfaces_reactor import (
    IReactorSocket,
    IReactorSSL,
    IReactorTCP,
    IReactorUDP,
    IReactorUNIX,
)
from fw.internet._interfaces_transport import (
    IConnector,
    IListeningPort,
    IOpenSSLClientConnectionCreator,
    IOpenSSLContextFactory,
)
from fw.internet._task_clock import Clock
from fw.internet.address import IPv4Address, IPv6Address, UNIXAddress
from fw.internet.error import UnsupportedAddressFamily

if TYPE_CHECKING:
    from fw.internet.defer import Deferred
    from fw.internet.protocol import ClientFactory, DatagramProtocol

__all__ = [
    "MemoryReactor",
    "MemoryReactorClock",
    "RaisingMemoryReactor",
    "SynchronousResolver",
]

_Call = tuple[Callable[..., Any], tuple[object, ...], dict[str, object]]


def _isIPv6(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6, host.split("%", 1)[0])
    except (OSError, ValueError):
        return False
    return True


@implementer(IListeningPort)
class _FakePort:
    """A listening port that only knows its address."""

    def __init__(self, hostAddress: IAddress) -> None:
        self._hostAddress = hostAddress
        self.listening = True

    def startListening(self) -> None:
        """Mark the port listening."""
        self.listening = True

    def stopListening(self) -> Deferred[None] | None:
        """Mark the port stopped; it closes at once."""
        self.listening = False
        return None

    def getHost(self) -> IAddress:
        """Return the address the port pretends to listen on."""
        return self._hostAddress


@implementer(IConnector)
class _FakeConnector:
    """
    A connector that records what is asked of it.

    Attributes:
        stoppedConnecting: :meth:`stopConnecting` was called.
        connectCalls: how many times :meth:`connect` was called.
    """

    stoppedConnecting: bool = False
    _disconnected: bool = False
    connectCalls: int = 0

    def __init__(self, address: IAddress) -> None:
        self._address = address

    def stopConnecting(self) -> None:
        """Record the call."""
        self.stoppedConnecting = True

    def disconnect(self) -> None:
        """Record the call."""
        self._disconnected = True

    def connect(self) -> None:
        """Record the call (nothing connects)."""
        self.connectCalls += 1

    def getDestination(self) -> IAddress:
        """Return the address given."""
        return self._address


@implementer(IHostResolution)
@dataclass
class _SynchronousResolution:
    name: str

    def cancel(self) -> None:
        """Nothing to cancel: the resolution finished before it was returned."""


@implementer(IHostnameResolver)
class SynchronousResolver:
    """
    A host name resolver that resolves every name, at once, to
    ``127.0.0.1`` with the port asked for.
    """

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """
        Report one address, ``127.0.0.1:portNumber``, and complete, before
        returning the (finished) resolution.
        """
        resolution = _SynchronousResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        resolutionReceiver.addressResolved(IPv4Address("TCP", "127.0.0.1", portNumber))
        resolutionReceiver.resolutionComplete()
        return resolution


@implementer(
    IReactorCore,
    IReactorTCP,
    IReactorSSL,
    IReactorUNIX,
    IReactorUDP,
    IReactorSocket,
    IReactorFDSet,
    IReactorPluggableNameResolver,
)
class MemoryReactor:
    """
    A reactor that records each listen and connect request and makes no
    connection, for testing code that calls the reactor.

    Each ``listen*`` call returns a port that only knows its address; each
    ``connect*`` call calls the factory's ``startedConnecting`` and returns
    a connector that records what is done with it.  The arguments of every
    call are kept, as tuples in the order of the method's parameters.

    Attributes:
        tcpServers: ``(port, factory, backlog, interface)`` per ``listenTCP``.
        tcpClients: ``(host, port, factory, timeout, bindAddress)`` per
            ``connectTCP``.
        sslServers: ``(port, factory, contextFactory, backlog, interface)``.
        sslClients: ``(host, port, factory, contextFactory, timeout, bindAddress)``.
        unixServers: ``(address, factory, backlog, mode, wantPID)``.
        unixClients: ``(address, factory, timeout, checkPID)``.
        udpServers: ``(port, protocol, interface, maxPacketSize)``.
        adoptedPorts: ``(fileno, addressFamily, factory)`` per
            ``adoptStreamPort`` and ``(fileno, addressFamily, protocol,
            maxPacketSize)`` per ``adoptDatagramPort``.
        adoptedStreamConnections: ``(fileDescriptor, addressFamily, factory)``.
        connectors: every connector returned, in order.
        readers: the descriptors added with ``addReader``.
        writers: the descriptors added with ``addWriter``.
        whenRunningHooks: ``(callable, args, kwargs)`` per ``callWhenRunning``
            made before :meth:`run`.
        triggers: ``{phase: {eventType: [(callable, args, kwargs)]}}``.
        running: true while running, ``None`` after :meth:`crash`.
        hasInstalled: :meth:`install` was called.
        hasRun: :meth:`run` was called.
        hasStopped: :meth:`stop` was called.
        hasCrashed: :meth:`crash` was called.
        nameResolver: a :class:`SynchronousResolver` unless replaced.
    """

    tcpServers: list[tuple[int, IProtocolFactory, int, str]]
    tcpClients: list[tuple[str, int, ClientFactory, float, tuple[str, int] | None]]
    running: bool | None
    nameResolver: IHostnameResolver

    def __init__(self) -> None:
        self.hasInstalled = False
        self.running = False
        self.hasRun = False
        self.hasStopped = False
        self.hasCrashed = False
        self.whenRunningHooks: list[_Call] = []
        self.triggers: dict[str, dict[str, list[_Call]]] = {}
        self.tcpClients = []
        self.tcpServers = []
        self.sslClients: list[
            tuple[
                str,
                int,
                ClientFactory,
                IOpenSSLClientConnectionCreator,
                float,
                tuple[str, int] | None,
            ]
        ] = []
        self.sslServers: list[tuple[int, IProtocolFactory, IOpenSSLContextFactory, int, str]] = []
        self.unixClients: list[tuple[str, ClientFactory, float, bool]] = []
        self.unixServers: list[tuple[str, IProtocolFactory, int, int, bool]] = []
        self.udpServers: list[tuple[int, DatagramProtocol, str, int]] = []
        self.adoptedPorts: list[tuple[Any, ...]] = []
        self.adoptedStreamConnections: list[
            tuple[int, socket.AddressFamily, IProtocolFactory]
        ] = []
        self.connectors: list[_FakeConnector] = []
        self.readers: set[IReadDescriptor] = set()
        self.writers: set[IWriteDescriptor] = set()
        self.nameResolver = SynchronousResolver()

    # -- installation and name resolution --

    def install(self) -> None:
        """Record that the reactor was installed (as a reactor module's ``install`` would)."""
        self.hasInstalled = True

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """Use ``resolver`` as :attr:`nameResolver`; return the previous one."""
        previous, self.nameResolver = self.nameResolver, resolver
        return previous

    def resolve(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """
        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("MemoryReactor does not resolve names")

    # -- IReactorCore --

    def run(self) -> None:
        """
        Pretend to run: set :attr:`running`, call the ``callWhenRunning``
        hooks, then :meth:`stop`.

        Raises:
            RuntimeError: the reactor is already running.
        """
        if self.running:
            raise RuntimeError("MemoryReactor is already running")
        self.running = True
        self.hasRun = True
        for f, args, kwargs in self.whenRunningHooks:
            f(*args, **kwargs)
        self.stop()

    def stop(self) -> None:
        """Record the stop: :attr:`running` false, :attr:`hasStopped` true."""
        self.running = False
        self.hasStopped = True

    def crash(self) -> None:
        """Record the crash: :attr:`running` ``None``, :attr:`hasCrashed` true."""
        self.running = None
        self.hasCrashed = True

    def iterate(self, delay: float = 0) -> None:
        """
        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("MemoryReactor does not iterate")

    def fireSystemEvent(self, eventType: str) -> None:
        """
        Raises:
            NotImplementedError: always; inspect :attr:`triggers` instead.
        """
        raise NotImplementedError("MemoryReactor does not fire system events")

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., Any],
        /,
        *args: object,
        **kw: object,
    ) -> Any:
        """
        Record the trigger in :attr:`triggers`.

        Returns:
            An identifier for :meth:`removeSystemEventTrigger`.

        Raises:
            KeyError: ``phase`` is not ``"before"``, ``"during"`` or ``"after"``.
        """
        if phase not in ("before", "during", "after"):
            raise KeyError(f"unknown system event phase {phase!r}")
        entry: _Call = (callable, args, kw)
        self.triggers.setdefault(phase, {}).setdefault(eventType, []).append(entry)
        return (phase, eventType, entry)

    def removeSystemEventTrigger(self, triggerID: Any) -> None:
        """
        Forget a trigger recorded by :meth:`addSystemEventTrigger`.

        Raises:
            ValueError: the identifier is unknown or was removed already.
        """
        try:
            phase, eventType, entry = triggerID
            entries = self.triggers[phase][eventType]
        except (TypeError, ValueError, KeyError):
            raise ValueError(f"unknown system event trigger {triggerID!r}") from None
        for i, candidate in enumerate(entries):
            if candidate is entry:
                del entries[i]
                return
        raise ValueError(f"unknown system event trigger {triggerID!r}")

    def callWhenRunning(
        self, callable: Callable[..., Any], /, *args: object, **kw: object
    ) -> Any | None:
        """
        Call ``callable`` now if the reactor is running or has run, else keep
        it in :attr:`whenRunningHooks` for :meth:`run`.
        """
        if self.running or self.hasRun:
            callable(*args, **kw)
            return None
        self.whenRunningHooks.append((callable, args, kw))
        return None

    # -- IReactorSocket --

    def adoptStreamPort(
        self, fileDescriptor: int, addressFamily: socket.AddressFamily, factory: IProtocolFactory
    ) -> IListeningPort:
        """
        Record the call; return a port at ``0.0.0.0:1234`` (or ``[::]:1234``).

        Raises:
            UnsupportedAddressFamily: the family is neither IPv4 nor IPv6.
        """
        addr: IAddress
        if addressFamily == socket.AF_INET:
            addr = IPv4Address("TCP", "0.0.0.0", 1234)  # noqa: S104 - a fake address
        elif addressFamily == socket.AF_INET6:
            addr = IPv6Address("TCP", "::", 1234)
        else:
            raise UnsupportedAddressFamily(addressFamily)
        self.adoptedPorts.append((fileDescriptor, addressFamily, factory))
        return _FakePort(addr)

    def adoptStreamConnection(
        self, fileDescriptor: int, addressFamily: socket.AddressFamily, factory: IProtocolFactory
    ) -> None:
        """Record the call in :attr:`adoptedStreamConnections`."""
        self.adoptedStreamConnections.append((fileDescriptor, addressFamily, factory))

    def adoptDatagramPort(
        self,
        fileDescriptor: int,
        addressFamily: socket.AddressFamily,
        protocol: DatagramProtocol,
        maxPacketSize: int = 8192,
    ) -> IListeningPort:
        """
        Record the call; return a port at ``0.0.0.0:1234`` (or ``[::]:1234``).

        Raises:
            UnsupportedAddressFamily: the family is neither IPv4 nor IPv6.
        """
        addr: IAddress
        if addressFamily == socket.AF_INET:
            addr = IPv4Address("UDP", "0.0.0.0", 1234)  # noqa: S104 - a fake address
        elif addressFamily == socket.AF_INET6:
            addr = IPv6Address("UDP", "::", 1234)
        else:
            raise UnsupportedAddressFamily(addressFamily)
        self.adoptedPorts.append((fileDescriptor, addressFamily, protocol, maxPacketSize))
        return _FakePort(addr)

    # -- listening and connecting --

    def _connector(self, factory: ClientFactory, address: IAddress) -> _FakeConnector:
        connector = _FakeConnector(address)
        factory.startedConnecting(connector)
        self.connectors.append(connector)
        return connector

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> IListeningPort:
        """Record the call; return a port at ``interface`` (``0.0.0.0`` by default)."""
        self.tcpServers.append((port, factory, backlog, interface))
        if _isIPv6(interface):
            return _FakePort(IPv6Address("TCP", interface, port))
        return _FakePort(IPv4Address("TCP", interface or "0.0.0.0", port))  # noqa: S104

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """Record the call, tell ``factory`` it started connecting; return the connector."""
        self.tcpClients.append((host, port, factory, timeout, bindAddress))
        address: IAddress
        if _isIPv6(host):
            address = IPv6Address("TCP", host, port)
        else:
            address = IPv4Address("TCP", host, port)
        return self._connector(factory, address)

    def listenSSL(
        self,
        port: int,
        factory: IProtocolFactory,
        contextFactory: IOpenSSLContextFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """Record the call; return a port at ``0.0.0.0:port``."""
        self.sslServers.append((port, factory, contextFactory, backlog, interface))
        return _FakePort(IPv4Address("TCP", interface or "0.0.0.0", port))  # noqa: S104

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: ClientFactory,
        contextFactory: IOpenSSLClientConnectionCreator,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """Record the call, tell ``factory`` it started connecting; return the connector."""
        self.sslClients.append((host, port, factory, contextFactory, timeout, bindAddress))
        return self._connector(factory, IPv4Address("TCP", host, port))

    def listenUNIX(
        self,
        address: str,
        factory: IProtocolFactory,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> IListeningPort:
        """Record the call; return a port at ``address``."""
        self.unixServers.append((address, factory, backlog, mode, wantPID))
        return _FakePort(UNIXAddress(address))

    def connectUNIX(
        self, address: str, factory: ClientFactory, timeout: float = 30, checkPID: bool = False
    ) -> IConnector:
        """Record the call, tell ``factory`` it started connecting; return the connector."""
        self.unixClients.append((address, factory, timeout, checkPID))
        return self._connector(factory, UNIXAddress(address))

    def listenUDP(
        self, port: int, protocol: DatagramProtocol, interface: str = "", maxPacketSize: int = 8192
    ) -> IListeningPort:
        """Record the call; return a port at ``interface`` (``0.0.0.0`` by default)."""
        self.udpServers.append((port, protocol, interface, maxPacketSize))
        if _isIPv6(interface):
            return _FakePort(IPv6Address("UDP", interface, port))
        return _FakePort(IPv4Address("UDP", interface or "0.0.0.0", port))  # noqa: S104

    # -- IReactorFDSet --

    def addReader(self, reader: IReadDescriptor) -> None:
        """Add ``reader`` to :attr:`readers`."""
        self.readers.add(reader)

    def removeReader(self, reader: IReadDescriptor) -> None:
        """Remove ``reader`` from :attr:`readers`, if there."""
        self.readers.discard(reader)

    def addWriter(self, writer: IWriteDescriptor) -> None:
        """Add ``writer`` to :attr:`writers`."""
        self.writers.add(writer)

    def removeWriter(self, writer: IWriteDescriptor) -> None:
        """Remove ``writer`` from :attr:`writers`, if there."""
        self.writers.discard(writer)

    def getReaders(self) -> list[IReadDescriptor]:
        """Return the readers."""
        return list(self.readers)

    def getWriters(self) -> list[IWriteDescriptor]:
        """Return the writers."""
        return list(self.writers)

    def removeAll(self) -> list[IReadDescriptor | IWriteDescriptor]:
        """Forget every reader and writer; return them (each once)."""
        combined: set[IReadDescriptor | IWriteDescriptor] = set(self.readers)
        combined.update(self.writers)
        self.readers.clear()
        self.writers.clear()
        return list(combined)


class MemoryReactorClock(MemoryReactor, Clock):
    """A :class:`MemoryReactor` that is also a :class:`~fw.internet.task.Clock`."""

    def __init__(self) -> None:
        MemoryReactor.__init__(self)
        Clock.__init__(self)


@implementer(IReactorTCP, IReactorSSL, IReactorUNIX, IReactorUDP, IReactorSocket)
class RaisingMemoryReactor:
    """
    A reactor whose every listen method raises one exception and every
    connect method another, for testing how code handles those failures.

    Args:
        listenException: raised by ``listen*`` and ``adoptStreamPort``.
        connectException: raised by ``connect*``, ``adoptStreamConnection``
            and ``adoptDatagramPort``.
    """

    def __init__(
        self,
        listenException: BaseException | None = None,
        connectException: BaseException | None = None,
    ) -> None:
        self._listenException = listenException
        self._connectException = connectException
        self.nameResolver: IHostnameResolver = SynchronousResolver()

    def _listenFails(self) -> BaseException:
        if self._listenException is None:
            return RuntimeError("RaisingMemoryReactor was given no listenException")
        return self._listenException

    def _connectFails(self) -> BaseException:
        if self._connectException is None:
            return RuntimeError("RaisingMemoryReactor was given no connectException")
        return self._connectException

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """Use ``resolver`` as :attr:`nameResolver`; return the previous one."""
        previous, self.nameResolver = self.nameResolver, resolver
        return previous

    def adoptStreamPort(
        self, fileDescriptor: int, addressFamily: socket.AddressFamily, factory: IProtocolFactory
    ) -> IListeningPort:
        """Raise the listen exception."""
        raise self._listenFails()

    def adoptStreamConnection(
        self, fileDescriptor: int, addressFamily: socket.AddressFamily, factory: IProtocolFactory
    ) -> None:
        """Raise the connect exception."""
        raise self._connectFails()

    def adoptDatagramPort(
        self,
        fileDescriptor: int,
        addressFamily: socket.AddressFamily,
        protocol: DatagramProtocol,
        maxPacketSize: int = 8192,
    ) -> IListeningPort:
        """Raise the connect exception."""
        raise self._connectFails()

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> IListeningPort:
        """Raise the listen exception."""
        raise self._listenFails()

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """Raise the connect exception."""
        raise self._connectFails()

    def listenSSL(
        self,
        port: int,
        factory: IProtocolFactory,
        contextFactory: IOpenSSLContextFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """Raise the listen exception."""
        raise self._listenFails()

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: ClientFactory,
        contextFactory: IOpenSSLClientConnectionCreator,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """Raise the connect exception."""
        raise self._connectFails()

    def listenUNIX(
        self,
        address: str,
        factory: IProtocolFactory,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> IListeningPort:
        """Raise the listen exception."""
        raise self._listenFails()

    def connectUNIX(
        self, address: str, factory: ClientFactory, timeout: float = 30, checkPID: bool = False
    ) -> IConnector:
        """Raise the connect exception."""
        raise self._connectFails()

    def listenUDP(
        self, port: int, protocol: DatagramProtocol, interface: str = "", maxPacketSize: int = 8192
    ) -> IListeningPort:
        """Raise the listen exception."""
        raise self._listenFails()
