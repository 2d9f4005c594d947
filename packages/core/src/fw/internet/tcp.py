"""
TCP transports: connections, listening ports and connectors, for IPv4 and IPv6.

``reactor.listenTCP`` returns a :class:`Port`; each accepted connection is a
:class:`Server` transport.  ``reactor.connectTCP`` returns a :class:`Connector`,
whose connection attempt is a :class:`Client` transport once it succeeds.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable
from typing import Any

from zope.interface import alsoProvides, implementer

from fw.internet import error
from fw.internet._interfaces_core import ISystemHandle
from fw.internet._interfaces_protocol import IHalfCloseableProtocol
from fw.internet._interfaces_transport import (
    IConnector,
    IListeningPort,
    INegotiated,
    ISSLTransport,
    ITLSTransport,
)
from fw.internet.abstract import (
    CONNECTION_DONE,
    FileDescriptor,
    isIPAddress,
    isIPv6Address,
)
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred, succeed
from fw.logger import Logger
from fw.python.failure import Failure
from fw.python.reflect import safe_str

__all__ = ["Client", "Connection", "Connector", "Port", "Server"]

_log = Logger(namespace="fw.internet.tcp")

# Errors from send/recv that mean the connection is gone, not that we misused it.
_LOST_ERRNOS = frozenset(
    {errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN, errno.ECONNABORTED, errno.ETIMEDOUT,
     errno.ESHUTDOWN, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETRESET}
)  # fmt: skip
# accept() errors that mean "out of resources": back off instead of spinning.
_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# accept() errors that concern one connection that vanished: try the next.
_ACCEPT_SKIP_ERRNOS = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})
# A plain int: the enum member costs a conversion wherever the socket module
# meets it.
_SOCK_STREAM = int(socket.SOCK_STREAM)
_AF_INET6 = int(socket.AF_INET6)


def _address(family: int, sockaddr: Any) -> IPv4Address | IPv6Address:
    if family == _AF_INET6:
        return IPv6Address("TCP", *sockaddr)
    return IPv4Address("TCP", *sockaddr[:2])


@implementer(ITLSTransport, ISystemHandle)
class Connection(FileDescriptor):
    """
    A connected TCP socket carrying a protocol.

    Attributes:
        socket: the socket.
        protocol: the protocol it carries.
    """

    # Whether startTLS(normal=True) makes this end the TLS client.
    _tlsClientDefault = False
    _tlsProtocol: Any = None

    def __init__(self, skt: socket.socket, protocol: Any, reactor: Any = None) -> None:
        super().__init__(reactor)
        self.socket = skt
        self.socket.setblocking(False)
        self._fileno = skt.fileno()
        self.protocol = protocol
        self._recv = skt.recv
        self._send = skt.send

    def fileno(self) -> int:
        """The socket's descriptor (-1 once closed)."""
        return self._fileno

    def getHandle(self) -> socket.socket:
        """Return the socket."""
        return self.socket

    # (protocol, getBuffer, bufferUpdated) of a protocol that lends the
    # buffer reads go into; see _lendReadBuffer.
    _bufferedReader: tuple[Any, Any, Any] | None = None

    def _lendReadBuffer(
        self,
        protocol: Any,
        getBuffer: Callable[[], bytearray],
        bufferUpdated: Callable[[int], object],
    ) -> None:
        """
        Private to fw: while ``protocol`` is this connection's protocol, read
        into ``getBuffer()`` (as large as it is) and call
        ``bufferUpdated(count)`` instead of ``dataReceived(data)``: no bytes
        object per read, for a protocol that copies the data at once (TLS,
        into OpenSSL's buffer).
        """
        self._bufferedReader = (protocol, getBuffer, bufferUpdated)

    def _readIntoBuffer(self, reader: tuple[Any, Any, Any]) -> BaseException | None:
        try:
            count = self.socket.recv_into(reader[1]())
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            if e.errno in _LOST_ERRNOS:
                return error.ConnectionLost(e.strerror)
            raise
        if not count:
            return CONNECTION_DONE
        reader[2](count)
        return None

    def doRead(self) -> BaseException | None:
        """Read what has arrived and give it to the protocol."""
        reader = self._bufferedReader
        if reader is not None and reader[0] is self.protocol:
            return self._readIntoBuffer(reader)
        try:
            data = self._recv(self.bufferSize)
        except BlockingIOError:
            return None
        except InterruptedError:
            return None
        except OSError as e:
            if e.errno in _LOST_ERRNOS:
                return error.ConnectionLost(e.strerror)
            raise
        if not data:
            return CONNECTION_DONE
        self.protocol.dataReceived(data)
        return None

    def writeSomeData(self, data: bytes | bytearray) -> int | BaseException:
        """Send what the kernel takes of ``data`` now."""
        try:
            return self._send(data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError as e:
            if e.errno in _LOST_ERRNOS:
                return error.ConnectionLost(e.strerror)
            return e

    def _closeWriteConnection(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if IHalfCloseableProtocol.providedBy(self.protocol):
            try:
                self.protocol.writeConnectionLost()
            except Exception:  # noqa: BLE001 - the protocol's error closes only this connection
                self.connectionLost(Failure())

    def readConnectionLost(self, reason: Failure) -> None:
        """The peer half-closed: tell a half-closeable protocol, else close."""
        if IHalfCloseableProtocol.providedBy(self.protocol) and not self.disconnecting:
            try:
                self.protocol.readConnectionLost()
            except Exception:  # noqa: BLE001 - the protocol's error closes only this connection
                self.connectionLost(Failure())
        else:
            self.connectionLost(reason)

    def connectionLost(self, reason: Failure) -> None:
        """Close the socket and tell the protocol."""
        if self.disconnected:
            return
        super().connectionLost(reason)
        try:
            self.socket.close()
        except OSError:
            pass
        self._fileno = -1
        protocol = self.protocol
        del self.protocol
        protocol.connectionLost(reason)

    def logPrefix(self) -> str:
        """The protocol's class name, for log messages."""
        return self._logPrefix

    _logPrefix = "-"

    # -- STARTTLS

    def startTLS(self, contextFactory: Any, normal: bool = True) -> None:
        """
        Switch this connection to TLS (``STARTTLS``).  What was written
        before goes out in the clear first; from now on writes are
        encrypted, and the protocol receives decrypted data.  The protocol
        is not reconnected: it keeps this transport, which now also
        provides :class:`~fw.internet.interfaces.ISSLTransport`.

        Args:
            contextFactory: TLS options: a client or server connection
                creator, or an ``IOpenSSLContextFactory`` such as
                :class:`~fw.internet.ssl.CertificateOptions`.
            normal: ``True`` makes the end that connected the TLS client
                and the end that accepted the TLS server; ``False`` the
                reverse.

        Raises:
            RuntimeError: TLS was started already.
        """
        if self._tlsProtocol is not None:
            raise RuntimeError(f"TLS was already started on {self!r}")
        from fw.internet._ssl_starttls import startTLSOn

        client = self._tlsClientDefault if normal else not self._tlsClientDefault
        self._tlsProtocol = startTLSOn(self, contextFactory, client)
        alsoProvides(self, ISSLTransport, INegotiated)

    @property
    def negotiatedProtocol(self) -> bytes | None:
        """The ALPN protocol after :meth:`startTLS` (``None`` before, or if none)."""
        tls = self._tlsProtocol
        return None if tls is None else tls.negotiatedProtocol

    def getTcpNoDelay(self) -> bool:
        """Whether Nagle's algorithm is off."""
        return bool(self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Turn Nagle's algorithm off (``True``) or on."""
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(enabled))

    def getTcpKeepAlive(self) -> bool:
        """Whether TCP keepalive probes are on."""
        return bool(self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Turn TCP keepalive probes on or off."""
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(enabled))

    def getHost(self) -> IPv4Address | IPv6Address:
        """This end's address."""
        return _address(self.socket.family, self.socket.getsockname())

    def getPeer(self) -> IPv4Address | IPv6Address:
        """The other end's address."""
        return self._peer

    _peer: IPv4Address | IPv6Address

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._logPrefix} fd={self._fileno}>"


class Server(Connection):
    """A connection accepted by a :class:`Port`."""

    def __init__(
        self,
        skt: socket.socket,
        protocol: Any,
        client: IPv4Address | IPv6Address,
        server: Port | None,
        sessionno: int,
        reactor: Any,
    ) -> None:
        super().__init__(skt, protocol, reactor)
        self.server = server
        self.sessionno = sessionno
        self._peer = client
        self.hostname = client.host
        self._logPrefix = f"{_protocolName(protocol)},{sessionno},{client.host}"
        self.connected = True

    @classmethod
    def _fromConnectedDescriptor(
        cls, fileDescriptor: int, addressFamily: int, factory: Any, reactor: Any
    ) -> Server | None:
        skt = socket.socket(addressFamily, socket.SOCK_STREAM, fileno=os.dup(fileDescriptor))
        peer = _address(addressFamily, skt.getpeername())
        protocol = factory.buildProtocol(peer)
        if protocol is None:
            skt.close()
            return None
        transport = cls(skt, protocol, peer, None, 0, reactor)
        transport.startReading()
        protocol.makeConnection(transport)
        return transport


def _setReusePort(skt: socket.socket) -> None:
    """Let other sockets bind ``skt``'s address too, and share its connections."""
    option = getattr(socket, "SO_REUSEPORT", None)
    if option is None:
        raise OSError(errno.ENOPROTOOPT, "SO_REUSEPORT is not available on this platform")
    skt.setsockopt(socket.SOL_SOCKET, option, 1)


def _protocolName(protocol: Any) -> str:
    prefix = getattr(protocol, "logPrefix", None)
    if prefix is None:
        return type(protocol).__name__
    try:
        return safe_str(prefix())
    except Exception:  # noqa: BLE001 - a broken logPrefix must not break accepting
        return type(protocol).__name__


@implementer(IListeningPort)
class Port:
    """
    A listening TCP socket that accepts connections for a factory.

    When accept() fails for lack of descriptors, the port closes a descriptor it
    keeps in reserve, accepts and at once closes the waiting connection, and
    reopens the reserve: the listener keeps working and does not spin.

    Attributes:
        reusePort: whether the socket is bound with ``SO_REUSEPORT``, so
            that other sockets (in this process or another) bound the same
            way share the address, the kernel spreading new connections
            among them.
    """

    #: How many connections one readiness event may accept.
    numberAccepts = 100
    #: The transport class of accepted connections (a subclass's port may use its own).
    transport: type[Server] = Server
    _reserved: int | None = None
    _resumeAccepting: Any = None

    def __init__(
        self,
        port: int,
        factory: Any,
        backlog: int = 50,
        interface: str = "",
        reactor: Any = None,
        *,
        reusePort: bool = False,
    ) -> None:
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        self.port = port
        self.factory = factory
        self.backlog = backlog
        self.interface = interface
        self.reactor = reactor
        self.reusePort = reusePort
        self.connected = False
        self.disconnected = False
        self.disconnecting = False
        self.socket: socket.socket | None = None
        self._fileno = -1
        self.sessionno = 0
        self.addressFamily: int = (
            socket.AF_INET6 if interface and isIPv6Address(interface) else socket.AF_INET
        )
        self._adopted: int | None = None
        self._stopped: Deferred[None] | None = None
        self._logPrefix = _protocolName(factory)

    @classmethod
    def _fromListeningDescriptor(
        cls, reactor: Any, fileDescriptor: int, addressFamily: int, factory: Any
    ) -> Port:
        port = cls(0, factory, reactor=reactor)
        port.addressFamily = addressFamily
        port._adopted = fileDescriptor
        return port

    def __repr__(self) -> str:
        where = self.getHost().port if self.socket is not None else "not listening"
        return f"<{self._logPrefix} on {where}>"

    def fileno(self) -> int:
        """The listening socket's descriptor."""
        return self._fileno

    def logPrefix(self) -> str:
        """The factory's name, for log messages."""
        return self._logPrefix

    def startListening(self) -> None:
        """
        Bind and listen.

        Raises:
            CannotListenError: the address could not be bound.
        """
        if self._adopted is not None:
            skt = socket.socket(
                self.addressFamily, socket.SOCK_STREAM, fileno=os.dup(self._adopted)
            )
        else:
            skt = socket.socket(self.addressFamily, socket.SOCK_STREAM)
            try:
                skt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if self.reusePort:
                    _setReusePort(skt)
                if self.addressFamily == socket.AF_INET6:
                    skt.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                skt.bind((self.interface, self.port))
                skt.listen(self.backlog)
            except OSError as e:
                skt.close()
                raise error.CannotListenError(self.interface, self.port, e) from e
        skt.setblocking(False)
        self.socket = skt
        self._fileno = skt.fileno()
        self._reserve()
        _log.info(
            "{factory} starting on {port}",
            factory=self._logPrefix,
            port=self.getHost().port,
        )
        self.factory.doStart()
        self.connected = True
        self.reactor.addReader(self)

    def _reserve(self) -> None:
        if self._reserved is None:
            try:
                self._reserved = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._reserved = None

    def doRead(self) -> BaseException | None:
        """Accept the waiting connections (up to :attr:`numberAccepts`)."""
        skt = self.socket
        if skt is None:
            return None
        if type(skt) is not socket.socket:
            # A socket object of another kind (a wrapper): its accept() it is.
            self._acceptEach(skt)
            return None
        # socket.accept() would build the new socket from the listening one's
        # family and type properties, which convert to enums on every call:
        # the private _accept() gives the bare descriptor, and the port knows
        # its family already.
        accept = skt._accept  # type: ignore[attr-defined]
        family = self.addressFamily
        proto = skt.proto
        buildAddr = self._buildAddr
        buildProtocol = self.factory.buildProtocol
        for _ in range(self.numberAccepts):
            try:
                fd, sockaddr = accept()
            except (BlockingIOError, InterruptedError):
                return None
            except OSError as e:
                if e.errno in _ACCEPT_SKIP_ERRNOS:
                    continue
                if e.errno in _RESOURCE_ERRNOS:
                    self._shedOneConnection(e)
                    return None
                raise
            newSocket = socket.socket(family, _SOCK_STREAM, proto, fd)
            peer = buildAddr(sockaddr)
            protocol = buildProtocol(peer)
            if protocol is None:
                newSocket.close()
                continue
            self.sessionno = sessionno = self.sessionno + 1
            transport = self.transport(newSocket, protocol, peer, self, sessionno, self.reactor)
            # Reading starts first, so that connectionMade may pause it.
            transport.startReading()
            protocol.makeConnection(transport)
        return None

    def _acceptEach(self, skt: Any) -> None:
        """:meth:`doRead` through the socket object's own ``accept()``."""
        for _ in range(self.numberAccepts):
            try:
                newSocket, sockaddr = skt.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in _ACCEPT_SKIP_ERRNOS:
                    continue
                if e.errno in _RESOURCE_ERRNOS:
                    self._shedOneConnection(e)
                    return
                raise
            self._startConnection(newSocket, sockaddr)

    def _startConnection(self, newSocket: socket.socket, sockaddr: Any) -> None:
        peer = self._buildAddr(sockaddr)
        protocol = self.factory.buildProtocol(peer)
        if protocol is None:
            newSocket.close()
            return
        self.sessionno += 1
        transport = self.transport(newSocket, protocol, peer, self, self.sessionno, self.reactor)
        # Reading starts first, so that connectionMade may pause it.
        transport.startReading()
        protocol.makeConnection(transport)

    def _buildAddr(self, sockaddr: Any) -> Any:
        """The address object of an accepted peer, from accept()'s ``sockaddr``."""
        return _address(self.addressFamily, sockaddr)

    def _shedOneConnection(self, cause: OSError) -> None:
        _log.error(
            "{factory}: cannot accept a connection ({error}); closing it",
            factory=self._logPrefix,
            error=cause.strerror,
        )
        if self.socket is None:
            return
        if self._reserved is None:
            # No spare descriptor to accept-and-close with: the connection
            # stays queued, and a level-triggered poller would wake us for it
            # at once, forever.  Stop watching the socket for a moment instead.
            self._pauseAccepting()
            return
        os.close(self._reserved)
        self._reserved = None
        try:
            victim, _ = self.socket.accept()
            victim.close()
        except OSError:
            pass
        self._reserve()
        if self._reserved is None:
            self._pauseAccepting()

    #: How long a port out of descriptors waits before accepting again.
    resourceRetryDelay: float = 0.1

    def _pauseAccepting(self) -> None:
        if self.disconnecting or self.disconnected:
            return
        self.reactor.removeReader(self)

        def resume() -> None:
            if self.disconnecting or self.disconnected or self.socket is None:
                return
            self._reserve()
            self.reactor.addReader(self)

        if self._resumeAccepting is None or not self._resumeAccepting.active():
            self._resumeAccepting = self.reactor.callLater(self.resourceRetryDelay, resume)

    def loseConnection(self, connDone: Failure | None = None) -> Deferred[None]:
        """Stop listening; the Deferred fires once the socket is closed."""
        if self._stopped is not None:
            return self._stopped
        self._stopped = Deferred()
        self.disconnecting = True
        self.reactor.removeReader(self)
        self.reactor.callLater(0, self.connectionLost, connDone or Failure(CONNECTION_DONE))
        return self._stopped

    stopListening = loseConnection

    def connectionLost(self, reason: Failure) -> None:
        """Close the listening socket and stop the factory."""
        if self.disconnected:
            return
        self.disconnected = True
        self.connected = False
        self.reactor.removeReader(self)
        if self._resumeAccepting is not None and self._resumeAccepting.active():
            self._resumeAccepting.cancel()
        # Log the port actually bound (not 0 when any port was asked for).
        port: object = self.port
        if self.socket is not None:
            try:
                port = getattr(self.getHost(), "port", port)
            except OSError:
                pass
            self.socket.close()
        self._fileno = -1
        if self._reserved is not None:
            os.close(self._reserved)
            self._reserved = None
        _log.info("({factory} Port {port} Closed)", factory=self._logPrefix, port=port)
        try:
            self.factory.doStop()
        finally:
            d, self._stopped = self._stopped, None
            self._stopped = succeed(None)
            if d is not None:
                d.callback(None)

    def getHost(self) -> IPv4Address | IPv6Address:
        """The address the port listens on (with the real port number when 0 was asked)."""
        if self.socket is None:
            raise error.NotListeningError()
        return _address(self.addressFamily, self.socket.getsockname())


class Client(Connection):
    """A TCP connection being made, and then made, by a :class:`Connector`."""

    _tlsClientDefault = True

    def __init__(
        self,
        host: str,
        port: int,
        bindAddress: tuple[str, int] | None,
        connector: Connector,
        reactor: Any,
    ) -> None:
        self.connector = connector
        self.addr = (host, port)
        self._bindAddress = bindAddress
        self._connecting = True
        family = socket.AF_INET6 if isIPv6Address(host) else socket.AF_INET
        skt = socket.socket(family, socket.SOCK_STREAM)
        super().__init__(skt, None, reactor)
        self._logPrefix = "Uninitialized"
        if isIPAddress(host) or isIPv6Address(host):
            reactor.callLater(0, self._resolved, host)
        else:
            d = reactor.resolve(host)
            d.addCallbacks(self._resolved, self._failIfNotConnected)

    def _resolved(self, address: str) -> None:
        if not self._connecting:
            return
        if self.socket.family == socket.AF_INET6 and not isIPv6Address(address):
            # A name that resolved to IPv4 for an IPv6 socket: start over in IPv4.
            self.socket.close()
            self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.socket.setblocking(False)
            self._fileno = self.socket.fileno()
            self._recv, self._send = self.socket.recv, self.socket.send
        self.realAddress: Any = (address, self.addr[1])
        try:
            if self._bindAddress is not None:
                self.socket.bind(self._bindAddress)
            result = self.socket.connect_ex(self.realAddress)
        except OSError as e:
            self._failIfNotConnected(error.getConnectError(e))
            return
        if result == 0:
            self._connectDone()
        elif result in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
            self.startWriting()
        else:
            self._failIfNotConnected(error.getConnectError((result, os.strerror(result))))

    def doWrite(self) -> BaseException | None:
        """While connecting: the socket became writable, so the connect finished."""
        if not self._connecting:
            return super().doWrite()
        err = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._failIfNotConnected(error.getConnectError((err, os.strerror(err))))
            return None
        self.stopWriting()
        self._connectDone()
        return None

    def doRead(self) -> BaseException | None:
        """Read, once connected."""
        if self._connecting:
            return None
        return super().doRead()

    def _connectDone(self) -> None:
        peer = self._peer = self._buildAddr(self.socket.getpeername())
        protocol = self.connector.buildProtocol(peer)
        if protocol is None:
            # Still "connecting" as far as the failure path is concerned, so
            # that the connector hears connectionFailed(NoProtocol).
            self._failIfNotConnected(error.NoProtocol())
            return
        self._connecting = False
        self.protocol = protocol
        self._logPrefix = _protocolName(protocol)
        self.connected = True
        # Reading starts first, so that connectionMade may pause it.
        self.startReading()
        protocol.makeConnection(self)

    def _buildAddr(self, sockaddr: Any) -> Any:
        """The address object of the peer, from getpeername()'s ``sockaddr``."""
        return _address(self.socket.family, sockaddr)

    def _failIfNotConnected(self, err: BaseException | Failure) -> None:
        if not self._connecting or self.connected:
            return
        self._connecting = False
        self.stopWriting()
        self.stopReading()
        try:
            self.socket.close()
        except OSError:
            pass
        self._fileno = -1
        self.disconnected = True
        reason = err if isinstance(err, Failure) else Failure(err)
        self.connector.connectionFailed(reason)

    def stopConnecting(self) -> None:
        """Give up connecting."""
        self._failIfNotConnected(error.UserError("stopConnecting called"))

    def connectionLost(self, reason: Failure) -> None:
        """Once connected, tell the protocol and the connector."""
        if self._connecting:
            self._failIfNotConnected(reason)
            return
        if self.disconnected:
            return
        super().connectionLost(reason)
        self.connector.connectionLost(reason)


@implementer(IConnector)
class Connector:
    """
    Makes (and can make again) a TCP connection for a client factory.

    Attributes:
        state: "disconnected", "connecting" or "connected".
    """

    def __init__(
        self,
        host: str,
        port: int | str,
        factory: Any,
        timeout: float | None,
        bindAddress: tuple[str, int] | None,
        reactor: Any = None,
    ) -> None:
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        if isinstance(port, str):
            try:
                port = socket.getservbyname(port, "tcp")
            except OSError as e:
                raise error.ServiceNameUnknownError(string=f"{e} ({port!r})") from e
        self.host = host
        self.port = port
        self.factory = factory
        self.timeout = timeout
        self.bindAddress = bindAddress
        self.reactor = reactor
        self.state = "disconnected"
        self.transport: Client | None = None
        self._timeoutCall: Any = None
        self._factoryStarted = False

    def __repr__(self) -> str:
        return f"<Connector {self.host}:{self.port} {self.state}>"

    def connect(self) -> None:
        """Start connecting (again).

        Raises:
            RuntimeError: it is already connecting or connected.
        """
        if self.state != "disconnected":
            raise RuntimeError(f"can't connect in state {self.state}")
        self.state = "connecting"
        if not self._factoryStarted:
            self.factory.doStart()
            self._factoryStarted = True
        self.transport = self._makeTransport()
        if self.timeout is not None:
            self._timeoutCall = self.reactor.callLater(self.timeout, self._timedOut)
        self.factory.startedConnecting(self)

    def _makeTransport(self) -> Client:
        """The transport of one connection attempt."""
        return Client(self.host, self.port, self.bindAddress, self, self.reactor)

    def _timedOut(self) -> None:
        self._timeoutCall = None
        if self.transport is not None:
            self.transport._failIfNotConnected(error.TimeoutError())

    def _cancelTimeout(self) -> None:
        if self._timeoutCall is not None:
            if self._timeoutCall.active():
                self._timeoutCall.cancel()
            self._timeoutCall = None

    def stopConnecting(self) -> None:
        """Stop a connection attempt in progress.

        Raises:
            NotConnectingError: it is not connecting.
        """
        if self.state != "connecting" or self.transport is None:
            raise error.NotConnectingError("we're not trying to connect")
        self.transport.stopConnecting()

    def disconnect(self) -> None:
        """Stop connecting, or close the connection."""
        if self.state == "connecting":
            self.stopConnecting()
        elif self.state == "connected" and self.transport is not None:
            self.transport.loseConnection()

    def buildProtocol(self, addr: Any) -> Any:
        """The connection is made: ask the factory for its protocol."""
        self.state = "connected"
        self._cancelTimeout()
        return self.factory.buildProtocol(addr)

    def connectionFailed(self, reason: Failure) -> None:
        """The attempt failed: tell the factory (which may call :meth:`connect` again)."""
        self._cancelTimeout()
        self.transport = None
        self.state = "disconnected"
        self.factory.clientConnectionFailed(self, reason)
        if self.state == "disconnected":
            self._stopFactory()

    def connectionLost(self, reason: Failure) -> None:
        """The connection closed: tell the factory (which may reconnect)."""
        self.state = "disconnected"
        self.transport = None
        self.factory.clientConnectionLost(self, reason)
        if self.state == "disconnected":
            self._stopFactory()

    def _stopFactory(self) -> None:
        if self._factoryStarted:
            self._factoryStarted = False
            self.factory.doStop()

    def getDestination(self) -> IPv4Address | IPv6Address:
        """The address being connected to."""
        if isIPv6Address(self.host):
            return IPv6Address("TCP", self.host, self.port)
        return IPv4Address("TCP", self.host, self.port)
