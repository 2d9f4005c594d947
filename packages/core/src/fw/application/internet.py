"""
Services for ports, connections and timers.

Each ``XServer`` service listens with the reactor's ``listenX`` method when
started and stops listening when stopped; each ``XClient`` service connects
with ``connectX`` and disconnects.  Their arguments are those of the reactor
method, plus an optional ``reactor`` keyword::

    internet.TCPServer(8079, factory, interface="127.0.0.1")
    internet.TCPClient("example.com", 79, clientFactory)
    internet.SSLServer(8443, factory, contextFactory)

Servers bind in :meth:`~fw.application.service.IService.privilegedStartService`,
so that ``fwd -u`` can drop root privileges after ports below 1024 are bound.

Also here: :class:`TimerService` (call a function every *n* seconds),
:class:`StreamServerEndpointService` (listen on any server endpoint) and
:class:`ClientService` (keep a client connected, with back-off).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from fw.application._client_service import ClientService, backoffPolicy
from fw.application.service import Service
from fw.internet.defer import Deferred
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = [
    "ClientService",
    "SSLClient",
    "SSLServer",
    "StreamServerEndpointService",
    "TCPClient",
    "TCPServer",
    "TimerService",
    "UDPServer",
    "UNIXClient",
    "UNIXDatagramClient",
    "UNIXDatagramServer",
    "UNIXServer",
    "backoffPolicy",
]

_log = Logger(namespace="fw.application.internet")


def _globalReactor() -> Any:
    from fw.internet import reactor

    return reactor


class _AbstractServer(Service):
    """
    Listens with ``reactor.listen<method>(*args, **kwargs)`` while running.

    Attributes:
        volatile: attributes not worth keeping in a saved state.
        method: the reactor method's suffix (``"TCP"``...).
        reactor: the reactor, or ``None`` for the global one.
    """

    volatile: ClassVar[list[str]] = ["_port"]
    method: str = ""
    reactor: Any = None
    _port: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.reactor = kwargs.pop("reactor", None)
        self.kwargs = kwargs

    def privilegedStartService(self) -> None:
        """Bind the port (with the start-up privileges)."""
        super().privilegedStartService()
        self._port = self._getPort()

    def startService(self) -> None:
        """Bind the port now unless :meth:`privilegedStartService` did."""
        super().startService()
        if self._port is None:
            self._port = self._getPort()

    def stopService(self) -> Deferred[None] | None:
        """Stop listening; the Deferred fires once the port is closed."""
        super().stopService()
        port, self._port = self._port, None
        if port is not None:
            return port.stopListening()  # type: ignore[no-any-return]
        return None

    def _getPort(self) -> Any:
        """Listen, and return the listening port."""
        reactor = self.reactor if self.reactor is not None else _globalReactor()
        return getattr(reactor, "listen" + self.method)(*self.args, **self.kwargs)


class _AbstractClient(Service):
    """
    Connects with ``reactor.connect<method>(*args, **kwargs)`` while running.

    Attributes:
        method: the reactor method's suffix (``"TCP"``...).
        reactor: the reactor, or ``None`` for the global one.
    """

    volatile: ClassVar[list[str]] = ["_connection"]
    method: str = ""
    reactor: Any = None
    _connection: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.reactor = kwargs.pop("reactor", None)
        self.kwargs = kwargs

    def startService(self) -> None:
        """Start connecting."""
        super().startService()
        self._connection = self._getConnection()

    def stopService(self) -> Deferred[None] | None:
        """Disconnect (or stop connecting)."""
        super().stopService()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.disconnect()
        return None

    def _getConnection(self) -> Any:
        """Connect, and return the connector."""
        reactor = self.reactor if self.reactor is not None else _globalReactor()
        return getattr(reactor, "connect" + self.method)(*self.args, **self.kwargs)


class TCPServer(_AbstractServer):
    """Listens on a TCP port: the arguments of ``reactor.listenTCP``."""

    method = "TCP"


class TCPClient(_AbstractClient):
    """Connects over TCP: the arguments of ``reactor.connectTCP``."""

    method = "TCP"


class UDPServer(_AbstractServer):
    """Listens on a UDP port: the arguments of ``reactor.listenUDP``."""

    method = "UDP"


class UNIXServer(_AbstractServer):
    """Listens on a UNIX socket: the arguments of ``reactor.listenUNIX``."""

    method = "UNIX"


class UNIXClient(_AbstractClient):
    """Connects to a UNIX socket: the arguments of ``reactor.connectUNIX``."""

    method = "UNIX"


class UNIXDatagramServer(_AbstractServer):
    """A UNIX datagram socket: the arguments of ``reactor.listenUNIXDatagram``."""

    method = "UNIXDatagram"


class UNIXDatagramClient(_AbstractClient):
    """A connected UNIX datagram socket: the arguments of ``reactor.connectUNIXDatagram``."""

    method = "UNIXDatagram"

    def _getConnection(self) -> Any:
        reactor = self.reactor if self.reactor is not None else _globalReactor()
        return reactor.connectUNIXDatagram(*self.args, **self.kwargs)


class SSLServer(_AbstractServer):
    """
    Listens with TLS: the arguments of ``reactor.listenSSL`` (port, factory,
    context factory...).  Needs ``fw-core[tls]``.
    """

    method = "SSL"

    def _getPort(self) -> Any:
        # Imported here so that a missing pyOpenSSL fails with a clear error
        # when the service starts, not when this module is imported.
        import fw.internet.ssl  # noqa: F401

        return super()._getPort()


class SSLClient(_AbstractClient):
    """
    Connects with TLS: the arguments of ``reactor.connectSSL`` (host, port,
    factory, context factory...).  Needs ``fw-core[tls]``.
    """

    method = "SSL"

    def _getConnection(self) -> Any:
        import fw.internet.ssl  # noqa: F401

        return super()._getConnection()


class TimerService(Service):
    """
    Calls ``callable(*args, **kwargs)`` every ``step`` seconds while running,
    first when started.

    If the call fails, the error is logged and the calls stop (the service
    stays "running" until stopped).  A call returning a Deferred is not
    repeated before that Deferred fires; :meth:`stopService` waits for it.

    Attributes:
        clock: the reactor's time (a :class:`~fw.internet.task.Clock` in
            tests); the global reactor when ``None``.
    """

    volatile: ClassVar[list[str]] = ["_loop", "_loopFinished"]
    clock: Any = None

    def __init__(
        self, step: float, callable: Callable[..., object], *args: Any, **kwargs: Any
    ) -> None:
        from fw.internet.task import LoopingCall

        self.step = step
        self.call = (callable, args, kwargs)
        self._loop = LoopingCall(callable, *args, **kwargs)
        self._loopFinished: Deferred[Any] | None = None

    def startService(self) -> None:
        """Start calling, now and then every ``step`` seconds."""
        from fw.internet.task import LoopingCall

        super().startService()
        callable, args, kwargs = self.call
        self._loop = LoopingCall(callable, *args, **kwargs)
        self._loop.clock = self.clock if self.clock is not None else _globalReactor()
        self._loopFinished = self._loop.start(self.step, now=True)
        self._loopFinished.addErrback(self._failed)

    def _failed(self, failure: Failure) -> None:
        # The loop has stopped by itself: stopService has nothing to stop.
        _log.failure("TimerService's call failed; calls stopped", failure)

    def stopService(self) -> Deferred[Any] | None:
        """Stop the calls; the Deferred fires once a running call has finished."""
        super().stopService()
        if self._loop.running:
            self._loop.stop()
        return self._loopFinished


class StreamServerEndpointService(Service):
    """
    Listens on a server endpoint with a factory while running.

    Args:
        endpoint: an ``IStreamServerEndpoint`` (see
            :func:`fw.internet.endpoints.serverFromString`).
        factory: the protocol factory.

    Attributes:
        _raiseSynchronously: when true (the default here), a failure to
            listen that happens at once (a port in use) is raised from
            :meth:`privilegedStartService`, so that ``fwd`` reports it and
            exits; a later failure is logged.  Twisted's default is to log
            it only.
    """

    _raiseSynchronously = True

    def __init__(self, endpoint: Any, factory: Any) -> None:
        self.endpoint = endpoint
        self.factory = factory
        self._waitingForPort: Deferred[Any] | None = None

    def privilegedStartService(self) -> None:
        """Start listening (with the start-up privileges)."""
        super().privilegedStartService()
        raisedNow: list[Failure] = []
        calling = True

        def failed(failure: Failure) -> None:
            if failure.check(Exception) is not None and self._raiseSynchronously and calling:
                raisedNow.append(failure)
            else:
                _log.failure("error listening on {endpoint!r}", failure, endpoint=self.endpoint)

        self._waitingForPort = self.endpoint.listen(self.factory)
        self._waitingForPort.addErrback(failed)
        calling = False
        if raisedNow:
            raisedNow[0].raiseException()

    def startService(self) -> None:
        """Start listening unless :meth:`privilegedStartService` did."""
        super().startService()
        if self._waitingForPort is None:
            self.privilegedStartService()

    @property
    def listeningPort(self) -> Any:
        """
        The listening port (an ``IListeningPort``) once listening, else
        ``None``.  An fw addition: ``listeningPort.getHost()`` tells which
        port was bound for ``tcp:0``.
        """
        waiting = self._waitingForPort
        if waiting is None or not waiting.called:
            return None
        result = getattr(waiting, "result", None)
        return None if isinstance(result, Failure | Deferred) else result

    def stopService(self) -> Deferred[None]:
        """Stop listening (or cancel the listen still pending)."""
        super().stopService()
        waiting, self._waitingForPort = self._waitingForPort, None
        if waiting is None:
            done: Deferred[None] = Deferred()
            done.callback(None)
            return done
        waiting.cancel()

        def stop(port: Any) -> Any:
            if port is not None:
                return port.stopListening()
            return None

        waiting.addCallback(stop)
        return waiting
