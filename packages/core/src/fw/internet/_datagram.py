"""
What every datagram port shares (UDP, multicast, UNIX datagram): a bound
socket that is its protocol's transport, read in batches, stopped once.

The life of a port, and the calls its protocol receives::

    startListening -> makeConnection -> startProtocol
        [-> datagramReceived* | connectionRefused*]
    stopListening (or reactor shutdown) -> stopProtocol

Subclasses open the socket (:meth:`DatagramPortBase._openSocket`), read it
(``doRead``) and send (``write``).
"""

from __future__ import annotations

import socket
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import ILoggingContext, IReadDescriptor, ISystemHandle
from fw.internet._interfaces_transport import IListeningPort
from fw.internet.abstract import CONNECTION_DONE
from fw.internet.defer import Deferred, succeed
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["DatagramPortBase"]

_log = Logger(namespace="fw.internet.udp")


def _protocolPrefix(protocol: Any) -> str:
    prefix = getattr(protocol, "logPrefix", None)
    if prefix is None:
        return type(protocol).__name__
    try:
        return str(prefix())
    except Exception:  # noqa: BLE001 - a broken logPrefix must not break listening
        return type(protocol).__name__


@implementer(IListeningPort, IReadDescriptor, ISystemHandle, ILoggingContext)
class DatagramPortBase:
    """
    A datagram socket, bound, and the transport of one datagram protocol.

    Attributes:
        protocol: the protocol receiving the datagrams.
        maxPacketSize: the largest datagram received whole (longer ones are
            cut to this size, as the socket API does).
        reactor: the reactor reading the socket.
        socket: the socket, once listening.
        connected: true while listening.
        disconnecting: true once :meth:`stopListening` was called, until closed.
        disconnected: true once closed.
    """

    #: One readiness event reads at most this many bytes...
    maxThroughput = 256 * 1024
    #: ...and at most this many datagrams (a flood of empty datagrams has no size).
    maxDatagramsPerRead = 256
    #: The kind of port, in log messages.
    _kind = "UDP"

    connected = False
    disconnecting = False
    disconnected = False
    _reading = False
    _started = False

    def __init__(self, protocol: Any, maxPacketSize: int, reactor: Any) -> None:
        if reactor is None:
            # Looked up on use: nothing may import the global reactor at import time.
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        self.protocol = protocol
        self.maxPacketSize = maxPacketSize
        self.reactor = reactor
        self.socket: socket.socket | None = None
        self._fileno = -1
        self._stopWaiters: list[Deferred[None]] = []
        self._logPrefix = f"{_protocolPrefix(protocol)} ({self._kind})"

    # -- what subclasses provide

    def _openSocket(self) -> socket.socket:
        """
        Create and bind the socket.

        Raises:
            CannotListenError: it could not be bound.
        """
        raise NotImplementedError

    def _where(self) -> object:
        """Where the port listens, for log messages."""
        raise NotImplementedError

    def _closeSocket(self, skt: socket.socket) -> None:
        """Close the socket (a UNIX port also removes its file)."""
        skt.close()

    def doRead(self) -> BaseException | None:
        """Read the waiting datagrams (called by the reactor)."""
        raise NotImplementedError

    def getHost(self) -> Any:
        """The address the socket is bound to."""
        raise NotImplementedError

    # -- listening

    def startListening(self) -> None:
        """
        Bind the socket and start the protocol.

        Raises:
            CannotListenError: the socket could not be bound.
        """
        self._setSocket(self._openSocket())
        self._connectToProtocol()

    def _setSocket(self, skt: socket.socket) -> None:
        skt.setblocking(False)
        self.socket = skt
        self._fileno = skt.fileno()
        self.connected = True
        _log.info("{protocol} starting on {where}", protocol=self._logPrefix, where=self._where())

    def _connectToProtocol(self) -> None:
        try:
            self.protocol.makeConnection(self)
        except BaseException:
            # The protocol did not start: close, without stopping it.
            self.connectionLost(Failure())
            raise
        self._started = True
        if self.connected and not self.disconnecting:
            self.startReading()

    def startReading(self) -> None:
        """Ask the reactor to call :meth:`doRead` when datagrams arrive."""
        if not self._reading and self.connected:
            self._reading = True
            self.reactor.addReader(self)

    def stopReading(self) -> None:
        """Stop reading (datagrams queue in the kernel, then are dropped)."""
        if self._reading:
            self._reading = False
            self.reactor.removeReader(self)

    def stopListening(self) -> Deferred[None]:
        """
        Close the socket and stop the protocol, soon (from the reactor).

        Returns:
            A Deferred that fires with ``None`` once the port is closed.
        """
        if self.disconnected or not self.connected:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._stopWaiters.append(d)
        if not self.disconnecting:
            self.disconnecting = True
            self.stopReading()
            self.reactor.callLater(0, self.connectionLost, Failure(CONNECTION_DONE))
        return d

    loseConnection = stopListening

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Close the socket and stop the protocol (called by the reactor)."""
        if self.disconnected:
            return
        self.disconnected = True
        self.connected = False
        self.disconnecting = False
        self.stopReading()
        _log.info("({kind} Port {where} Closed)", kind=self._kind, where=self._whereOrNothing())
        try:
            skt = self.socket
            if skt is not None:
                self._closeSocket(skt)
            self._fileno = -1
            if self._started:
                self._started = False
                self.protocol.doStop()
        finally:
            waiters, self._stopWaiters = self._stopWaiters, []
            for d in waiters:
                d.callback(None)

    def _whereOrNothing(self) -> object:
        try:
            return self._where()
        except OSError:
            return None

    def readConnectionLost(self, reason: Failure) -> None:
        """
        The poll and epoll backends report an error pending on the socket (an
        ICMP refusal on a connected socket) as a hang-up of the reading side,
        and stop reading.  A datagram socket has no connection to lose: read
        the error (``doRead`` tells the protocol) and go on reading.
        """
        self._reading = False
        if self.disconnected or self.disconnecting:
            return
        try:
            self.doRead()
        except Exception as e:  # noqa: BLE001 - logged, and costs only this port
            _log.failure("{prefix}: error while reading; closing the port", prefix=self._logPrefix)
            self.connectionLost(Failure(e))
            return
        self.startReading()

    # -- descriptor details

    def fileno(self) -> int:
        """The socket's descriptor (-1 when not listening)."""
        return self._fileno

    def getHandle(self) -> socket.socket:
        """
        Return the socket.

        Raises:
            NotListeningError: the port is not listening.
        """
        if self.socket is None or self.disconnected:
            raise error.NotListeningError()
        return self.socket

    def logPrefix(self) -> str:
        """The protocol's name and the kind of port, for log messages."""
        return self._logPrefix

    def __repr__(self) -> str:
        where = self._whereOrNothing() if self.connected else "not connected"
        return f"<{self._logPrefix} on {where}>"
