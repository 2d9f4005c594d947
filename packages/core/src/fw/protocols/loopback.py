"""
Connect two protocols to each other, in memory or over real sockets, and
run them until both have closed.

- :func:`loopbackAsync` joins a server and a client protocol with in-memory
  transports; its Deferred fires once either side closed and everything it
  wrote has been delivered, after both got ``connectionLost``.
- :func:`loopbackTCP` and :func:`loopbackUNIX` do the same over a real
  connection on 127.0.0.1 or a UNIX socket.

Bytes move in order but never re-entrantly: a protocol's ``write`` only
queues, and the queues are pumped from the top of the loop (or, once both
were idle, from a reactor turn), as a real transport would.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any, cast

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IAddress, IConsumer, IProducer
from fw.internet._interfaces_transport import ITransport
from fw.internet.defer import Deferred, DeferredList, succeed
from fw.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from fw.python.failure import Failure

__all__ = [
    "LoopbackClientFactory",
    "collapsingPumpPolicy",
    "identityPumpPolicy",
    "loopbackAsync",
    "loopbackTCP",
    "loopbackUNIX",
]


class _LoopbackQueue:
    """
    The bytes one side wrote, waiting for the other.  ``None`` in the queue
    marks the writer's ``loseConnection``.
    """

    def __init__(self) -> None:
        self._queue: list[bytes | None] = []
        self.disconnect = False
        self._notify: Callable[[], None] | None = None

    def put(self, item: bytes | None) -> None:
        self._queue.append(item)
        if self._notify is not None:
            notify, self._notify = self._notify, None
            notify()

    def __bool__(self) -> bool:
        return bool(self._queue)

    def get(self) -> bytes | None:
        return self._queue.pop(0)


@implementer(IAddress)
class _LoopbackAddress:
    """The address of either end of an in-memory loopback connection."""

    def __repr__(self) -> str:
        return "<LoopbackAddress>"


@implementer(ITransport, IConsumer)
class _LoopbackTransport:
    disconnecting = False
    producer: IProducer | None = None
    streamingProducer = False

    def __init__(self, q: _LoopbackQueue) -> None:
        self.q = q

    def write(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        if data:
            self.q.put(data)

    def writeSequence(self, iovec: Any) -> None:
        self.write(b"".join(iovec))

    def loseConnection(self) -> None:
        if self.disconnecting:
            return
        self.disconnecting = True
        self.q.disconnect = True
        self.q.put(None)

    def abortConnection(self) -> None:
        self.loseConnection()

    def getPeer(self) -> _LoopbackAddress:
        return _LoopbackAddress()

    def getHost(self) -> _LoopbackAddress:
        return _LoopbackAddress()

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        if self.producer is not None:
            raise RuntimeError("a producer is already registered")
        self.producer = producer
        self.streamingProducer = streaming
        self._pollProducer()

    def unregisterProducer(self) -> None:
        if self.producer is None:
            raise RuntimeError("no producer is registered")
        self.producer = None

    def _pollProducer(self) -> None:
        if self.producer is not None and not self.streamingProducer:
            self.producer.resumeProducing()  # type: ignore[attr-defined]


def identityPumpPolicy(queue: _LoopbackQueue, target: Any) -> None:
    """Deliver each write separately, as it was made."""
    while queue:
        data = queue.get()
        if data is None:
            break
        target.dataReceived(data)


def collapsingPumpPolicy(queue: _LoopbackQueue, target: Any) -> None:
    """Deliver all the writes waiting as one ``dataReceived``."""
    pieces = []
    while queue:
        data = queue.get()
        if data is None:
            break
        pieces.append(data)
    if pieces:
        target.dataReceived(b"".join(pieces))


def loopbackAsync(
    server: Any,
    client: Any,
    pumpPolicy: Callable[[_LoopbackQueue, Any], None] = identityPumpPolicy,
    *,
    clock: Any = None,
) -> Deferred[None]:
    """
    Connect ``server`` and ``client`` in memory and run them until one closes.

    Args:
        server: the server protocol; its ``makeConnection`` is called first.
        client: the client protocol.
        pumpPolicy: how queued writes are delivered: :func:`identityPumpPolicy`
            (one ``dataReceived`` per write) or :func:`collapsingPumpPolicy`.
        clock: what schedules pumping after both sides were idle and one
            writes again (from a timer or a Deferred); the global reactor
            when ``None``.  While data flows, nothing is scheduled.

    Returns:
        A Deferred firing with ``None`` once one side called
        ``loseConnection``, the data it wrote before was delivered, and both
        sides got ``connectionLost`` (with ``ConnectionDone``).
    """
    serverToClient = _LoopbackQueue()
    clientToServer = _LoopbackQueue()
    server.makeConnection(_LoopbackTransport(serverToClient))
    client.makeConnection(_LoopbackTransport(clientToServer))
    done: Deferred[None] = Deferred()
    scheduled: list[Any] = []

    def pump(source: Any, queue: _LoopbackQueue, target: Any) -> bool:
        if not queue:
            return False
        pumpPolicy(queue, target)
        if not queue:
            # The write buffer emptied: a pull producer may write more.
            source.transport._pollProducer()
        return True

    def run() -> None:
        scheduled.clear()
        while True:
            serverSent = pump(server, serverToClient, client)
            clientSent = pump(client, clientToServer, server)
            disconnect = False
            if serverToClient.disconnect:
                disconnect = True
                pump(server, serverToClient, client)
            elif clientToServer.disconnect:
                disconnect = True
                pump(client, clientToServer, server)
            if disconnect:
                reason = Failure(error.ConnectionDone("loopback connection closed"))
                serverToClient._notify = clientToServer._notify = None
                server.connectionLost(reason)
                client.connectionLost(reason)
                done.callback(None)
                return
            if not serverSent and not clientSent:
                # Both idle: wait for the next write, then pump from a new
                # reactor turn so that the writer is not re-entered.
                serverToClient._notify = clientToServer._notify = wake
                return

    def wake() -> None:
        serverToClient._notify = clientToServer._notify = None
        if scheduled:
            return
        reactor = clock
        if reactor is None:
            from fw.internet import reactor
        scheduled.append(reactor.callLater(0, run))

    run()
    return done


class LoopbackClientFactory(ClientFactory):
    """
    Connects one given protocol; :attr:`deferred` fires when its connection
    is lost (or fails).
    """

    noisy = False

    def __init__(self, protocol: Protocol) -> None:
        self.disconnected = False
        self.deferred: Deferred[None] = Deferred()
        self._protocol = protocol

    def buildProtocol(self, addr: IAddress) -> Protocol:
        """Hand over the protocol."""
        return self._protocol

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        """Fire :attr:`deferred`."""
        self.disconnected = True
        if not self.deferred.called:
            self.deferred.callback(None)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """Fail :attr:`deferred`."""
        if not self.deferred.called:
            self.deferred.errback(reason)


class _OneShotServerFactory(Factory):
    noisy = False

    def __init__(self, protocol: Protocol) -> None:
        self._protocol: Protocol | None = protocol
        self.lost: Deferred[None] = Deferred()

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        proto, self._protocol = self._protocol, None
        if proto is None:
            return None
        original = proto.connectionLost
        lost = self.lost

        def connectionLost(reason: Failure = connectionDone) -> None:
            try:
                original(reason)
            finally:
                if not lost.called:
                    lost.callback(None)

        proto.connectionLost = connectionLost  # type: ignore[method-assign]
        return proto


def _runOverPort(
    port: Any, serverFactory: _OneShotServerFactory, clientFactory: LoopbackClientFactory
) -> Deferred[None]:
    both: Any = DeferredList([serverFactory.lost, clientFactory.deferred], fireOnOneErrback=True)

    def stop(result: object) -> Any:
        d: Any = port.stopListening()
        d = d if isinstance(d, Deferred) else succeed(None)
        return d.addCallback(lambda _: result)

    def unwrap(result: object) -> Any:
        if isinstance(result, Failure):
            value = result.value
            # DeferredList wraps the first failure in a FirstError.
            sub = getattr(value, "subFailure", None)
            return sub if sub is not None else result
        return None

    return cast("Deferred[None]", both.addBoth(stop).addBoth(unwrap))


def loopbackTCP(
    server: Protocol, client: Protocol, port: int = 0, noisy: bool = True, *, reactor: Any = None
) -> Deferred[None]:
    """
    Run ``server`` and ``client`` over a real TCP connection on 127.0.0.1.

    Args:
        server: the server protocol.
        client: the client protocol.
        port: the port to listen on (0: any free one).
        noisy: log the factories' start and stop.
        reactor: the reactor to use; the global one when ``None``.

    Returns:
        A Deferred firing once both sides lost the connection and the port
        stopped listening.
    """
    if reactor is None:
        from fw.internet import reactor
    serverFactory = _OneShotServerFactory(server)
    serverFactory.noisy = noisy
    listening = reactor.listenTCP(port, serverFactory, interface="127.0.0.1")
    clientFactory = LoopbackClientFactory(client)
    clientFactory.noisy = noisy
    reactor.connectTCP("127.0.0.1", listening.getHost().port, clientFactory)
    return _runOverPort(listening, serverFactory, clientFactory)


def loopbackUNIX(
    server: Protocol, client: Protocol, noisy: bool = True, *, reactor: Any = None
) -> Deferred[None]:
    """
    Run ``server`` and ``client`` over a UNIX socket in a new temporary
    directory (removed afterwards).

    Returns:
        A Deferred firing once both sides lost the connection and the
        socket stopped listening.
    """
    if reactor is None:
        from fw.internet import reactor
    directory = tempfile.mkdtemp(prefix="fw-loopback-")
    path = os.path.join(directory, "socket")
    serverFactory = _OneShotServerFactory(server)
    serverFactory.noisy = noisy
    listening = reactor.listenUNIX(path, serverFactory)
    clientFactory = LoopbackClientFactory(client)
    clientFactory.noisy = noisy
    reactor.connectUNIX(path, clientFactory)

    def cleanup(result: object) -> object:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(directory)
        return result

    return _runOverPort(listening, serverFactory, clientFactory).addBoth(cleanup)
