"""
Endpoints over one reactor transport each: TCP (IPv4 and IPv6), UNIX
sockets, adopted listening sockets, standard I/O and child processes.

Private: :mod:`fw.internet.endpoints` is the public module.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._endpoints_wrap import _WrappingFactory
from fw.internet._interfaces_core import (
    IConsumer,
    IHostnameResolver,
    IHostResolution,
    IPushProducer,
    IReactorPluggableNameResolver,
    IResolutionReceiver,
)
from fw.internet._interfaces_protocol import (
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from fw.internet._interfaces_transport import IProcessTransport
from fw.internet.abstract import isIPv6Address
from fw.internet.address import HostnameAddress, IPv6Address, _ProcessAddress
from fw.internet.defer import Deferred, execute, fail, succeed
from fw.internet.protocol import ClientFactory, ProcessProtocol
from fw.logger import Logger
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress, IProducer
    from fw.internet._interfaces_transport import IListeningPort

__all__ = [
    "AdoptedStreamServerEndpoint",
    "ProcessEndpoint",
    "StandardErrorBehavior",
    "StandardIOEndpoint",
    "TCP4ClientEndpoint",
    "TCP4ServerEndpoint",
    "TCP6ClientEndpoint",
    "TCP6ServerEndpoint",
    "UNIXClientEndpoint",
    "UNIXServerEndpoint",
]

_log = Logger(namespace="fw.internet.endpoints")


def _connectWith(
    connect: Callable[[ClientFactory], object], protocolFactory: IProtocolFactory
) -> Deferred[IProtocol]:
    """Run one ``reactor.connect*`` call for a client endpoint; return its Deferred."""
    try:
        wrapper = _WrappingFactory(protocolFactory)
        connect(wrapper)
    except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
        return fail()
    return wrapper._onConnection


def _nameResolverOf(reactor: Any) -> IHostnameResolver:
    """
    The host name resolver of ``reactor``: its ``nameResolver`` when it has
    one, else getaddrinfo in its thread pool.
    """
    if IReactorPluggableNameResolver.providedBy(reactor) or hasattr(reactor, "nameResolver"):
        resolver: IHostnameResolver = reactor.nameResolver
        return resolver
    from fw.internet._resolver import GAIResolver

    return GAIResolver(reactor)


def _hostBytes(host: str) -> bytes:
    """``host`` as :class:`HostnameAddress` holds it: IDNA-encoded, or escaped if invalid."""
    try:
        return host.encode("idna")
    except UnicodeError:
        return host.encode("ascii", "backslashreplace")


@implementer(IResolutionReceiver)
class _Collector:
    """Collects a resolution's addresses into a (cancellable) Deferred."""

    def __init__(self, host: str, port: int) -> None:
        self.addresses: list[IAddress] = []
        self.resolution: IHostResolution | None = None
        self.deferred: Deferred[list[IAddress]] = Deferred(self._cancel)
        self._address = HostnameAddress(_hostBytes(host), port)

    def _cancel(self, d: Deferred[list[IAddress]]) -> None:
        if self.resolution is not None:
            self.resolution.cancel()
        d.errback(error.ConnectingCancelledError(self._address))

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        """Remember the resolution, to cancel it."""
        self.resolution = resolutionInProgress

    def addressResolved(self, address: IAddress) -> None:
        """Keep ``address``."""
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        """Fire the Deferred with the addresses (unless it was cancelled)."""
        if not self.deferred.called:
            self.deferred.callback(self.addresses)


# -- TCP -----------------------------------------------------------------------


@implementer(IStreamServerEndpoint)
class _TCPServerEndpoint:
    def __init__(
        self, reactor: Any, port: int, backlog: int, interface: str, reusePort: bool
    ) -> None:
        self._reactor = reactor
        self._port = port
        self._backlog = backlog
        self._interface = interface
        self._reusePort = reusePort

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._interface or '*'}:{self._port}>"

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Listen with ``protocolFactory``.

        Returns:
            A Deferred firing with the listening port, or failing with
            :class:`~fw.internet.error.CannotListenError`.
        """
        # reusePort is an fw extension: a reactor is only asked for it when
        # it is wanted, so that other IReactorTCP providers keep working.
        extra = {"reusePort": True} if self._reusePort else {}
        return execute(
            self._reactor.listenTCP,
            self._port,
            protocolFactory,
            backlog=self._backlog,
            interface=self._interface,
            **extra,
        )


class TCP4ServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server over IPv4.

    Args:
        reactor: an ``IReactorTCP``.
        port: the port to listen on (0: any free one).
        backlog: the length of the queue of connections not yet accepted.
        interface: the local address to listen on (all IPv4 ones by default).
        reusePort: an fw extension: bind with ``SO_REUSEPORT``, to share the
            port with other sockets (in other processes, say) that do too
            (see ``IReactorTCP.listenTCP``).
    """

    def __init__(
        self,
        reactor: Any,
        port: int,
        backlog: int = 50,
        interface: str = "",
        *,
        reusePort: bool = False,
    ) -> None:
        super().__init__(reactor, port, backlog, interface, reusePort)


class TCP6ServerEndpoint(_TCPServerEndpoint):
    """
    A TCP server over IPv6.

    Args:
        reactor: an ``IReactorTCP``.
        port: the port to listen on (0: any free one).
        backlog: the length of the queue of connections not yet accepted.
        interface: the local IPv6 address to listen on (all by default).
        reusePort: an fw extension: bind with ``SO_REUSEPORT``, to share the
            port with other sockets (in other processes, say) that do too
            (see ``IReactorTCP.listenTCP``).
    """

    def __init__(
        self,
        reactor: Any,
        port: int,
        backlog: int = 50,
        interface: str = "::",
        *,
        reusePort: bool = False,
    ) -> None:
        super().__init__(reactor, port, backlog, interface, reusePort)


@implementer(IStreamClientEndpoint)
class TCP4ClientEndpoint:
    """
    A TCP client over IPv4.

    Args:
        reactor: an ``IReactorTCP``.
        host: the IPv4 address or host name to connect to.
        port: the port to connect to.
        timeout: seconds to wait for the connection before failing.
        bindAddress: the local ``(host, port)`` to connect from, if any.
    """

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> None:
        self._reactor = reactor
        self._host = host
        self._port = port
        self._timeout = timeout
        self._bindAddress = bindAddress

    def __repr__(self) -> str:
        return f"<TCP4ClientEndpoint {self._host}:{self._port}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Connect, building the protocol with ``protocolFactory``.

        Returns:
            A Deferred firing with the connected protocol, or failing with a
            :class:`~fw.internet.error.ConnectError`; cancel it to abandon the
            attempt (it then fails with ``ConnectingCancelledError``).
        """
        return self._connectTo(self._host, protocolFactory)

    def _connectTo(self, host: str, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        return _connectWith(
            lambda wrapper: self._reactor.connectTCP(
                host, self._port, wrapper, timeout=self._timeout, bindAddress=self._bindAddress
            ),
            protocolFactory,
        )


@implementer(IStreamClientEndpoint)
class TCP6ClientEndpoint(TCP4ClientEndpoint):
    """
    A TCP client over IPv6.

    A host name is resolved (through the reactor's ``nameResolver``) to its
    first IPv6 address.

    Args:
        reactor: an ``IReactorTCP``.
        host: the IPv6 address or host name to connect to.
        port: the port to connect to.
        timeout: seconds to wait for the connection before failing.
        bindAddress: the local ``(host, port)`` to connect from, if any.
    """

    def __repr__(self) -> str:
        return f"<TCP6ClientEndpoint [{self._host}]:{self._port}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Resolve the host if needed, then connect, building the protocol with
        ``protocolFactory``.

        Returns:
            A Deferred firing with the connected protocol, or failing with a
            :class:`~fw.internet.error.ConnectError` (``DNSLookupError`` when
            the name has no IPv6 address); cancel it to abandon the attempt.
        """
        if isIPv6Address(self._host):
            return self._connectTo(self._host, protocolFactory)
        collector = _Collector(self._host, self._port)
        try:
            _nameResolverOf(self._reactor).resolveHostName(
                collector, self._host, self._port, [IPv6Address]
            )
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            return fail()

        def resolved(addresses: list[IAddress]) -> Deferred[IProtocol]:
            for address in addresses:
                if isinstance(address, IPv6Address):
                    return self._connectTo(address.host, protocolFactory)
            raise error.DNSLookupError(f"no IPv6 address for {self._host!r}")

        return collector.deferred.addCallback(resolved)


# -- UNIX sockets ----------------------------------------------------------------


@implementer(IStreamServerEndpoint)
class UNIXServerEndpoint:
    """
    A UNIX-socket server.

    Args:
        reactor: an ``IReactorUNIX``.
        address: the path of the socket (or, on Linux, an abstract name
            starting with a NUL byte).
        backlog: the length of the queue of connections not yet accepted.
        mode: the permissions of the socket file.
        wantPID: keep a ``<address>.lock`` lock file naming this process.
    """

    def __init__(
        self,
        reactor: Any,
        address: str,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool | int = False,
    ) -> None:
        self._reactor = reactor
        self._address = address
        self._backlog = backlog
        self._mode = mode
        self._wantPID = wantPID

    def __repr__(self) -> str:
        return f"<UNIXServerEndpoint {self._address!r}>"

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Listen with ``protocolFactory``.

        Returns:
            A Deferred firing with the listening port, or failing with
            :class:`~fw.internet.error.CannotListenError`.
        """
        return execute(
            self._reactor.listenUNIX,
            self._address,
            protocolFactory,
            backlog=self._backlog,
            mode=self._mode,
            wantPID=self._wantPID,
        )


@implementer(IStreamClientEndpoint)
class UNIXClientEndpoint:
    """
    A UNIX-socket client.

    Args:
        reactor: an ``IReactorUNIX``.
        path: the path (or abstract name) of the socket to connect to.
        timeout: seconds to wait for the connection before failing.
        checkPID: refuse to connect when the server's lock file names a
            process that is not running.
    """

    def __init__(
        self, reactor: Any, path: str, timeout: float = 30, checkPID: bool | int = False
    ) -> None:
        self._reactor = reactor
        self._path = path
        self._timeout = timeout
        self._checkPID = checkPID

    def __repr__(self) -> str:
        return f"<UNIXClientEndpoint {self._path!r}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Connect, building the protocol with ``protocolFactory``.

        Returns:
            A Deferred firing with the connected protocol, or failing with a
            :class:`~fw.internet.error.ConnectError`; cancel it to abandon the
            attempt.
        """
        return _connectWith(
            lambda wrapper: self._reactor.connectUNIX(
                self._path, wrapper, timeout=self._timeout, checkPID=self._checkPID
            ),
            protocolFactory,
        )


# -- adopted sockets -----------------------------------------------------------


@implementer(IStreamServerEndpoint)
class AdoptedStreamServerEndpoint:
    """
    A server on a socket that is already listening, made outside fw (by
    systemd socket activation, a parent process...).  It listens once: the
    reactor takes a duplicate of the descriptor and this one is closed.

    Args:
        reactor: an ``IReactorSocket``.
        fileno: the listening ``SOCK_STREAM`` socket's descriptor.
        addressFamily: its family (``socket.AF_INET``, ``AF_INET6``,
            ``AF_UNIX``).

    Attributes:
        reactor: the reactor.
        fileno: the descriptor.
        addressFamily: its family.
    """

    def __init__(self, reactor: Any, fileno: int, addressFamily: socket.AddressFamily) -> None:
        self.reactor = reactor
        self.fileno = fileno
        self.addressFamily = addressFamily
        self._used = False

    def __repr__(self) -> str:
        return f"<AdoptedStreamServerEndpoint fd={self.fileno} {self.addressFamily!r}>"

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """
        Start serving the adopted socket, then close our copy of its descriptor.

        Returns:
            A Deferred firing with the port; it fails with
            :class:`~fw.internet.error.AlreadyListened` on a second call.
        """
        if self._used:
            return fail(error.AlreadyListened())
        self._used = True
        try:
            os.set_blocking(self.fileno, False)
            port = self.reactor.adoptStreamPort(self.fileno, self.addressFamily, protocolFactory)
            os.close(self.fileno)
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            return fail()
        return succeed(port)


# -- standard I/O ------------------------------------------------------------------


@implementer(IStreamServerEndpoint)
class StandardIOEndpoint:
    """
    This process's standard input and output, as one connection.

    Args:
        reactor: the reactor.
    """

    def __init__(self, reactor: Any) -> None:
        self._reactor = reactor

    def listen(self, stdioProtocolFactory: IProtocolFactory) -> Deferred[Any]:
        """
        Connect a protocol built by ``stdioProtocolFactory`` to standard
        input and output.

        Returns:
            A Deferred firing with the :class:`~fw.internet.stdio.StandardIO`
            transport (which stands for the port).
        """
        from fw.internet.stdio import PipeAddress, StandardIO

        try:
            protocol = stdioProtocolFactory.buildProtocol(PipeAddress())
            if protocol is None:
                raise error.NoProtocol()
            transport = StandardIO(protocol, reactor=self._reactor)
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            return fail()
        return succeed(transport)


# -- child processes ----------------------------------------------------------------


class StandardErrorBehavior(Enum):
    """What a :class:`ProcessEndpoint` does with its child's standard error."""

    #: Log it (at the info level).
    LOG = "log"
    #: Discard it.
    DROP = "drop"


@implementer(IProcessTransport, IConsumer, IPushProducer)
class _ProcessEndpointTransport:
    """The transport a :class:`ProcessEndpoint`'s protocol sees: the process's, passed through."""

    def __init__(self, process: Any) -> None:
        self._process = process

    @property
    def pid(self) -> int | None:
        """The child's process ID, or ``None`` once it has exited."""
        pid: int | None = self._process.pid
        return pid

    def write(self, data: bytes) -> None:
        """Write to the child's standard input."""
        self._process.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write each of ``data`` to the child's standard input."""
        self._process.writeSequence(data)

    def loseConnection(self) -> None:
        """Close the pipes to the child (once what was written is out)."""
        self._process.loseConnection()

    def getPeer(self) -> IAddress:
        """The child's (placeholder) address."""
        peer: IAddress = self._process.getPeer()
        return peer

    def getHost(self) -> IAddress:
        """Our (placeholder) address."""
        host: IAddress = self._process.getHost()
        return host

    def closeStdin(self) -> None:
        """Close the child's standard input."""
        self._process.closeStdin()

    def closeStdout(self) -> None:
        """Close the child's standard output."""
        self._process.closeStdout()

    def closeStderr(self) -> None:
        """Close the child's standard error."""
        self._process.closeStderr()

    def closeChildFD(self, descriptor: int) -> None:
        """Close the pipe to the child's ``descriptor``."""
        self._process.closeChildFD(descriptor)

    def writeToChild(self, childFD: int, data: bytes) -> None:
        """Write ``data`` to the child's descriptor ``childFD``."""
        self._process.writeToChild(childFD, data)

    def signalProcess(self, signalID: str | int) -> None:
        """Send the child a signal (``"TERM"``, ``"KILL"``, ``"INT"`` or a number)."""
        self._process.signalProcess(signalID)

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register a producer for the child's standard input."""
        self._process.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """Unregister the producer."""
        self._process.unregisterProducer()

    def pauseProducing(self) -> None:
        """Stop reading the child's output for now."""
        self._process.pauseProducing()

    def resumeProducing(self) -> None:
        """Read the child's output again."""
        self._process.resumeProducing()

    def stopProducing(self) -> None:
        """Close every pipe to the child."""
        self._process.stopProducing()


class _WrapIProtocol(ProcessProtocol):
    """
    Presents a stream protocol as a process protocol: the child's standard
    output is the protocol's input, and the child's end is the connection's.
    """

    def __init__(self, proto: IProtocol, executable: Any, errFlag: StandardErrorBehavior) -> None:
        self.protocol = proto
        self.executable = executable
        self.errFlag = errFlag

    def makeConnection(self, transport: Any) -> None:
        """Connect the stream protocol to the process, through a proxy."""
        self.transport = _ProcessEndpointTransport(transport)
        self.protocol.makeConnection(self.transport)

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        """Standard output goes to the protocol; standard error is logged or dropped."""
        if childFD == 1:
            self.protocol.dataReceived(data)
        elif childFD == 2 and self.errFlag is StandardErrorBehavior.LOG:
            _log.info(
                "Process {executable!r} wrote stderr unhandled by {protocol}: {data!r}",
                executable=self.executable,
                protocol=self.protocol,
                data=data,
            )

    def processEnded(self, reason: Failure) -> None:
        """
        The child is gone: the connection is done if it exited with status
        0, else lost with ``reason``.
        """
        value = reason.value
        if isinstance(value, error.ProcessDone) and not value.status:
            self.protocol.connectionLost(Failure(error.ConnectionDone()))
        else:
            self.protocol.connectionLost(reason)


@implementer(IStreamClientEndpoint)
class ProcessEndpoint:
    """
    A child process as a connection: the protocol writes to its standard
    input and receives its standard output.

    The arguments are those of ``reactor.spawnProcess`` (see
    :class:`~fw.internet.interfaces.IReactorProcess`), plus ``errFlag``.

    Args:
        reactor: an ``IReactorProcess``.
        executable: the program to run.
        args: its argument vector (``args[0]`` is its name).
        env: its whole environment (empty by default; ``None`` for ours).
        path: its working directory.
        uid: the user to run it as.
        gid: the group to run it as.
        usePTY: give it a pseudo-terminal instead of pipes.
        childFDs: its descriptors, as ``spawnProcess`` takes them.
        errFlag: what to do with its standard error.
    """

    def __init__(
        self,
        reactor: Any,
        executable: bytes | str,
        args: Sequence[bytes | str] = (),
        env: Mapping[Any, Any] | None = MappingProxyType({}),
        path: bytes | str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: Any = False,
        childFDs: Mapping[int, int | str] | None = None,
        errFlag: StandardErrorBehavior = StandardErrorBehavior.LOG,
    ) -> None:
        self._reactor = reactor
        self._executable = executable
        self._args = args
        self._env = env
        self._path = path
        self._uid = uid
        self._gid = gid
        self._usePTY = usePTY
        self._childFDs = childFDs
        self._errFlag = errFlag
        self._spawnProcess: Callable[..., Any] = reactor.spawnProcess

    def __repr__(self) -> str:
        return f"<ProcessEndpoint {self._executable!r}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Start the child, with a protocol from ``protocolFactory`` connected to it.

        Returns:
            A Deferred firing with the (already connected) protocol, or
            failing with the error that prevented the child from starting.
        """
        try:
            proto = protocolFactory.buildProtocol(_ProcessAddress())
            if proto is None:
                raise error.NoProtocol()
            self._spawnProcess(
                _WrapIProtocol(proto, self._executable, self._errFlag),
                self._executable,
                self._args,
                self._env,
                self._path,
                self._uid,
                self._gid,
                self._usePTY,
                self._childFDs,
            )
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            return fail()
        return succeed(proto)
