"""
SOCKS servers: the protocol adapters over the sans-IO machines of
:mod:`fw.protocols._socks_server_machine`, the relays that join a client
to its destination, and their factories.

Private: :mod:`fw.protocols.socks` is the public module.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IHostResolution, IResolutionReceiver
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.defer import Deferred, maybeDeferred, succeed
from fw.internet.protocol import ClientCreator, Factory, Protocol, connectionDone
from fw.logger import Logger
from fw.protocols._socks_codec import (
    UNSPECIFIED,
    AddressType,
    AuthMethod,
    Command,
    Reply,
    SOCKS4Reply,
    SOCKSProtocolError,
)
from fw.protocols._socks_policy import (
    DestinationPolicy,
    IPAddress,
    checkCredentials,
    refuseInternalDestinations,
)
from fw.protocols._socks_server_machine import (
    DEFAULT_MAX_PENDING_DATA,
    DEFAULT_MAX_USERID_LENGTH,
    AuthenticationRequested,
    CommandRequested,
    Refused,
    ServerEvent,
    ServerState,
    SOCKS4ServerMachine,
    SOCKS5ServerMachine,
    TunnelData,
    _ServerMachine,
)
from fw.protocols._socks_udp import UDPRelay
from fw.python.failure import Failure

__all__ = [
    "SOCKSv4",
    "SOCKSv4Factory",
    "SOCKSv4Incoming",
    "SOCKSv4IncomingFactory",
    "SOCKSv4Outgoing",
    "SOCKSv5",
    "SOCKSv5Factory",
]

_log = Logger(namespace="fw.protocols.socks")

# A client has this long to finish its greeting, login and request: slow
# clients hold a connection and a buffer, so they are not waited for forever.
DEFAULT_HANDSHAKE_TIMEOUT = 30.0
# The same as TCP4ClientEndpoint's default for the outgoing connection.
DEFAULT_CONNECT_TIMEOUT = 30.0
# How long a BIND waits for the expected peer to connect.
DEFAULT_BIND_TIMEOUT = 60.0
# At most this many resolved addresses are tried, one after the other.
_MAX_ATTEMPTS = 3


def _defaultReactor() -> Any:
    from fw.internet import reactor

    return reactor


@implementer(IResolutionReceiver)
class _Addresses:
    """Collects a resolution's IP addresses into a Deferred."""

    def __init__(self) -> None:
        self.addresses: list[IPAddress] = []
        self.resolution: IHostResolution | None = None
        self.deferred: Deferred[list[IPAddress]] = Deferred(self._cancel)

    def _cancel(self, d: Deferred[list[IPAddress]]) -> None:
        if self.resolution is not None:
            self.resolution.cancel()

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        """Remember the resolution, to cancel it."""
        self.resolution = resolutionInProgress

    def addressResolved(self, address: Any) -> None:
        """Keep an IP address."""
        if isinstance(address, IPv4Address | IPv6Address):
            self.addresses.append(ipaddress.ip_address(address.host))

    def resolutionComplete(self) -> None:
        """Fire with the addresses, or fail with ``DNSLookupError`` if there are none."""
        if self.deferred.called:
            return
        if self.addresses:
            self.deferred.callback(self.addresses)
        else:
            self.deferred.errback(error.DNSLookupError("the name has no address"))


def resolveHost(
    reactor: Any, host: str, port: int, semantics: str = "TCP"
) -> Deferred[list[IPAddress]]:
    """The IP addresses of ``host`` (a literal, or a name for the reactor's resolver)."""
    try:
        return succeed([ipaddress.ip_address(host)])
    except ValueError:
        pass
    collector = _Addresses()
    resolver = getattr(reactor, "nameResolver", None)
    if resolver is None:
        from fw.internet._resolver import GAIResolver

        resolver = GAIResolver(reactor)
    try:
        resolver.resolveHostName(collector, host, port, None, semantics)
    except Exception as e:  # noqa: BLE001 - a broken resolver fails this one request
        collector.deferred.errback(e)
    return collector.deferred


class _Relay(Protocol):
    """One end of a relay: what it receives goes to the SOCKS client."""

    transport: Any

    def __init__(self, socks: _SOCKSServer) -> None:
        self.socks = socks

    def dataReceived(self, data: bytes) -> None:
        """Pass ``data`` to the SOCKS client."""
        self.socks.write(data)

    def write(self, data: bytes) -> None:
        """Send ``data`` (from the SOCKS client) to this end's peer."""
        self.socks.log(self, data)
        self.transport.write(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Close the SOCKS client's connection too."""
        self.socks.transport.loseConnection()


class SOCKSv4Outgoing(_Relay):
    """The connection a CONNECT request made, to its destination."""

    def connectionMade(self) -> None:
        """Tell the client its request is granted and start relaying."""
        self.socks._outgoingConnected(self)


class SOCKSv4Incoming(_Relay):
    """The connection BIND accepted, from the expected peer."""

    def connectionMade(self) -> None:
        """Send BIND's second reply and start relaying."""
        self.socks._incomingConnected(self)


class SOCKSv4IncomingFactory(Factory):
    """
    Accepts the one connection a BIND request waits for: from ``ip`` (or
    from anyone, when ``ip`` is ``0.0.0.0``).  A connection from elsewhere
    fails the BIND (SOCKS 4 says so) and is refused.

    Args:
        socks: the SOCKS server protocol that made the request.
        ip: the address the peer is expected to connect from.
    """

    noisy = False

    def __init__(self, socks: _SOCKSServer, ip: str) -> None:
        self.socks = socks
        self.ip = ip
        self.used = False

    def buildProtocol(self, addr: Any) -> Protocol | None:
        """A :class:`SOCKSv4Incoming` for the expected peer; ``None`` for any other."""
        if self.used:
            return None
        self.used = True
        host = getattr(addr, "host", "")
        if self.ip not in (UNSPECIFIED, "::", host) or not self.socks._allowed(
            Command.BIND, host, getattr(addr, "port", 0)
        ):
            self.socks._fail(Reply.NOT_ALLOWED)
            return None
        return SOCKSv4Incoming(self.socks)


class _SOCKSServer(Protocol):
    """
    What the SOCKS 4 and SOCKS 5 servers share: the handshake timer, name
    resolution, the destination policy, and CONNECT and BIND.

    The limits and policies are attributes, set by the factory.
    """

    transport: Any

    destinationPolicy: DestinationPolicy = staticmethod(refuseInternalDestinations)
    handshakeTimeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT
    connectTimeout: float = DEFAULT_CONNECT_TIMEOUT
    bindTimeout: float | None = DEFAULT_BIND_TIMEOUT
    maxPendingData: int = DEFAULT_MAX_PENDING_DATA
    commands: frozenset[Command] = frozenset(Command)
    logging: str | None = None

    _GRANTED: ClassVar[int]
    _version: ClassVar[int]

    def __init__(self, reactor: Any = None) -> None:
        self.reactor = reactor if reactor is not None else _defaultReactor()
        self.otherConn: _Relay | None = None
        self.machine: _ServerMachine | None = None
        self._timer: Any = None
        self._pending: Deferred[Any] | None = None
        self._listeningPort: Any = None
        self._finished = False

    # -- the client connection

    def _buildMachine(self) -> _ServerMachine:
        raise NotImplementedError

    def connectionMade(self) -> None:
        """Start the handshake and its timer."""
        self.machine = self._buildMachine()
        if self.handshakeTimeout is not None:
            self._timer = self.reactor.callLater(
                self.handshakeTimeout, self._timedOut, "handshake"
            )

    def dataReceived(self, data: bytes) -> None:
        """Relay ``data``, or feed it to the handshake."""
        if self.otherConn is not None:
            self.otherConn.write(data)
            return
        assert self.machine is not None
        try:
            events = self.machine.receiveData(data)
        except SOCKSProtocolError as e:
            _log.info(
                "SOCKS client {peer} broke the protocol: {error}", peer=self._peer(), error=e
            )
            self._flushAndCheck()
            return
        self._flushAndCheck()
        self._handle(events)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop whatever the request started."""
        self._finished = True
        self._cancelTimer()
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()
        self._stopListening()
        if self.otherConn is not None and self.otherConn.transport is not None:
            self.otherConn.transport.loseConnection()

    def write(self, data: bytes) -> None:
        """Send ``data`` (from the destination) to the client."""
        self.log(self, data)
        self.transport.write(data)

    def log(self, proto: Protocol, data: bytes) -> None:
        """
        Append ``data`` to the log file named by :attr:`logging`, as a hex
        dump headed by the time and the two addresses (``<`` for data from
        the client, ``>`` for data to it).  Does nothing without a log file.
        """
        if not self.logging or self.otherConn is None:
            return
        peer = self.transport.getPeer()
        other = self.otherConn.transport.getPeer()
        direction = "<" if proto is self else ">"
        here = f"{getattr(peer, 'host', peer)}:{getattr(peer, 'port', '')}"
        there = f"{getattr(other, 'host', other)}:{getattr(other, 'port', '')}"
        lines = [f"{time.ctime()}\t{here} {direction} {there}"]
        for start in range(0, len(data), 16):
            chunk = data[start : start + 16]
            text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
            lines.append(f"{chunk.hex(' ').upper():<48} {text}")
        with open(self.logging, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n\n")

    # -- driving the machine

    def _peer(self) -> str:
        peer = self.transport.getPeer() if self.transport is not None else None
        return f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"

    def _flushAndCheck(self) -> None:
        """Send what the machine queued; close if it closed."""
        assert self.machine is not None
        data = self.machine.dataToSend()
        if data:
            self.transport.write(data)
        if self.machine.state is ServerState.CLOSED and not self._finished:
            self._finished = True
            self._cancelTimer()
            self.transport.loseConnection()

    def _handle(self, events: Iterable[ServerEvent]) -> None:
        for event in events:
            if isinstance(event, AuthenticationRequested):
                self._authenticate(event)
            elif isinstance(event, CommandRequested):
                self._cancelTimer()
                self.transport.pauseProducing()
                self._request(event)
            elif isinstance(event, TunnelData):
                if self.otherConn is not None:
                    self.otherConn.write(event.data)
            elif isinstance(event, Refused):
                _log.info(
                    "SOCKS client {peer} refused: {reason}", peer=self._peer(), reason=event.reason
                )

    def _authenticate(self, event: AuthenticationRequested) -> None:
        raise NotImplementedError

    def _reply(
        self, code: int, host: str = UNSPECIFIED, port: int = 0, version: int | None = None
    ) -> None:
        """Send a reply through the machine and act on what follows it."""
        machine = self.machine
        assert machine is not None
        if self._finished or machine.state not in (ServerState.DECIDING, ServerState.BINDING):
            return
        events = machine.reply(code, host, port, version)
        self._flushAndCheck()
        if self._established():
            self.transport.resumeProducing()
        self._handle(events)

    def _established(self) -> bool:
        return self.machine is not None and self.machine.state is ServerState.ESTABLISHED

    def _fail(self, reason: Reply) -> None:
        """Refuse the request pending (with SOCKS 4, every refusal is 91)."""
        self._reply(reason if self._version == 5 else SOCKS4Reply.REJECTED)

    def _timedOut(self, what: str) -> None:
        self._timer = None
        _log.info("SOCKS client {peer}: {what} timed out", peer=self._peer(), what=what)
        if self.machine is not None and self.machine.state in (
            ServerState.DECIDING,
            ServerState.BINDING,
        ):
            self._fail(Reply.TTL_EXPIRED)
        self._finished = True
        self.transport.loseConnection()

    def _cancelTimer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _stopListening(self) -> None:
        port, self._listeningPort = self._listeningPort, None
        if port is not None:
            port.stopListening()

    def _allowed(self, command: Command, host: str, port: int) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return bool(self.destinationPolicy(command, address, port))

    def _track(self, d: Deferred[Any]) -> Deferred[Any]:
        """Remember ``d`` as the step in progress, to cancel it if the client leaves."""
        self._pending = d

        def done(result: object) -> object:
            if self._pending is d:
                self._pending = None
            return result

        return d.addBoth(done)

    # -- the request

    def _authorize(self, request: CommandRequested, server: str) -> bool:
        raise NotImplementedError

    def _request(self, request: CommandRequested) -> None:
        if request.command is Command.UDP_ASSOCIATE:
            self._associate(request)
            return
        if request.command is Command.BIND:
            self._bindFor(request)
            return
        d = self._track(resolveHost(self.reactor, request.host, request.port))

        def resolved(addresses: list[IPAddress]) -> None:
            allowed = [
                str(a)
                for a in addresses
                if self.destinationPolicy(request.command, a, request.port)
            ]
            if not allowed:
                _log.info(
                    "SOCKS client {peer}: destination {host}:{port} refused by the policy",
                    peer=self._peer(),
                    host=request.host,
                    port=request.port,
                )
                self._fail(Reply.NOT_ALLOWED)
                return
            if not self._authorize(request, allowed[0]):
                self._fail(Reply.NOT_ALLOWED)
                return
            self._connectTo(allowed[:_MAX_ATTEMPTS], request.port)

        def unresolved(reason: Failure) -> None:
            if not reason.check(error.ConnectingCancelledError) and not self._finished:
                self._fail(Reply.HOST_UNREACHABLE)

        d.addCallbacks(resolved, unresolved)

    def connectClass(
        self, host: str, port: int, klass: type[Protocol], *args: Any
    ) -> Deferred[Any]:
        """
        Connect to the destination with a ``klass(*args)`` protocol (a
        :class:`SOCKSv4Outgoing`); override to connect some other way.

        Returns:
            A Deferred firing once connected, failing if the attempt fails.
        """
        return ClientCreator(self.reactor, klass, *args).connectTCP(
            host, port, timeout=self.connectTimeout
        )

    def _connectTo(self, hosts: list[str], port: int) -> None:
        if self._finished:
            return
        d = self._track(self.connectClass(hosts[0], port, SOCKSv4Outgoing, self))

        def failed(reason: Failure) -> None:
            if self._finished or reason.check(error.ConnectingCancelledError):
                return
            if len(hosts) > 1:
                self._connectTo(hosts[1:], port)
                return
            _log.info(
                "SOCKS client {peer}: connecting to {host}:{port} failed: {error}",
                peer=self._peer(),
                host=hosts[0],
                port=port,
                error=reason.getErrorMessage(),
            )
            if reason.check(error.ConnectionRefusedError):
                self._fail(Reply.CONNECTION_REFUSED)
            elif reason.check(error.TimeoutError, error.TCPTimedOutError):
                self._fail(Reply.TTL_EXPIRED)
            elif reason.check(error.NoRouteError):
                self._fail(Reply.HOST_UNREACHABLE)
            else:
                self._fail(Reply.GENERAL_FAILURE)

        d.addErrback(failed)

    def _join(self, other: _Relay) -> None:
        """Relay between the client and ``other``, each pausing the other when full."""
        self.otherConn = other
        self.transport.registerProducer(other.transport, True)
        other.transport.registerProducer(self.transport, True)

    def _outgoingConnected(self, outgoing: SOCKSv4Outgoing) -> None:
        if self._finished:
            outgoing.transport.loseConnection()
            return
        self._join(outgoing)
        address = self._boundAddress(outgoing)
        self._reply(
            self._GRANTED, getattr(address, "host", UNSPECIFIED), getattr(address, "port", 0)
        )

    def _boundAddress(self, outgoing: Protocol) -> Any:
        raise NotImplementedError

    # -- BIND

    def listenClass(self, port: int, klass: Any, *args: Any) -> Deferred[tuple[str, int]]:
        """
        Listen for BIND's incoming connection with a ``klass(*args)`` factory
        (a :class:`SOCKSv4IncomingFactory`), on the address the client
        reached this server at.

        Returns:
            A Deferred of the listening ``(host, port)``.
        """
        interface = getattr(self.transport.getHost(), "host", "")
        self._listeningPort = self.reactor.listenTCP(port, klass(*args), interface=interface)
        address = self._listeningPort.getHost()
        return succeed((address.host, address.port))

    def _bindFor(self, request: CommandRequested) -> None:
        try:
            expected = str(ipaddress.ip_address(request.host))
        except ValueError:
            # A name: whoever it resolves to is for the policy, at accept time.
            expected = UNSPECIFIED
        if not self._authorize(request, expected):
            self._fail(Reply.NOT_ALLOWED)
            return
        d = self._track(maybeDeferred(self.listenClass, 0, SOCKSv4IncomingFactory, self, expected))

        def listening(address: tuple[str, int]) -> None:
            self._reply(self._GRANTED, address[0], address[1])
            if self.bindTimeout is not None and not self._finished:
                self._timer = self.reactor.callLater(self.bindTimeout, self._timedOut, "BIND")

        def failed(reason: Failure) -> None:
            if not self._finished:
                self._fail(Reply.GENERAL_FAILURE)

        d.addCallbacks(listening, failed)

    def _incomingConnected(self, incoming: SOCKSv4Incoming) -> None:
        self._stopListening()
        self._cancelTimer()
        if self._finished:
            incoming.transport.loseConnection()
            return
        self._join(incoming)
        peer = incoming.transport.getPeer()
        self._reply(self._GRANTED, getattr(peer, "host", UNSPECIFIED), getattr(peer, "port", 0))

    # -- UDP ASSOCIATE

    def _associate(self, request: CommandRequested) -> None:
        self._fail(Reply.COMMAND_NOT_SUPPORTED)


class SOCKSv4(_SOCKSServer):
    """
    A SOCKS 4 and 4a server: CONNECT and BIND.

    Callback order: ``connectionMade -> dataReceived* (request) ->
    authorize -> connectClass | listenClass -> makeReply -> relaying ->
    connectionLost``.

    Args:
        logging: the name of a file to log the relayed data to, as hex
            dumps, or ``None``.
        reactor: the reactor to connect and listen with (the global one by
            default).

    Attributes:
        destinationPolicy: decides which destinations are allowed (see
            :func:`~fw.protocols.socks.refuseInternalDestinations`, the
            default).
        handshakeTimeout: seconds a client has to send its request.
        connectTimeout: seconds to wait for the destination.
        bindTimeout: seconds a BIND waits for its peer.
        maxUserIdLength: the longest user id accepted.
        otherConn: the relay to the destination, once connected.
    """

    maxUserIdLength: int = DEFAULT_MAX_USERID_LENGTH
    commands: frozenset[Command] = frozenset({Command.CONNECT, Command.BIND})
    _GRANTED = SOCKS4Reply.GRANTED
    _version = 4

    def __init__(self, logging: str | None = None, reactor: Any = None) -> None:
        super().__init__(reactor)
        self.logging = logging

    def _buildMachine(self) -> _ServerMachine:
        return SOCKS4ServerMachine(
            self.commands, self.maxUserIdLength, maxPendingData=self.maxPendingData
        )

    def _authorize(self, request: CommandRequested, server: str) -> bool:
        return bool(self.authorize(request.command, server, request.port, request.userId))

    def authorize(self, code: int, server: str, port: int, user: bytes) -> bool:
        """
        Whether to carry out a request (after the destination policy
        allowed it); override to check the user id.  Allows everything.

        Args:
            code: 1 for CONNECT, 2 for BIND.
            server: the destination's IP address.
            port: the destination's port.
            user: the user id the client sent.
        """
        return True

    def makeReply(
        self, reply: int, version: int = 0, port: int = 0, ip: str = UNSPECIFIED
    ) -> None:
        """
        Send a reply (90 granted, 91 rejected...); any reply but 90 closes
        the connection.
        """
        self._reply(reply, ip, port, version)

    def _boundAddress(self, outgoing: Protocol) -> Any:
        # As Twisted does: SOCKS 4 clients ignore the address of a CONNECT reply.
        return outgoing.transport.getPeer()  # type: ignore[union-attr]

    def _authenticate(self, event: AuthenticationRequested) -> None:
        raise AssertionError("SOCKS 4 has no authentication")


class SOCKSv5(_SOCKSServer):
    """
    A SOCKS 5 server (RFC 1928): CONNECT, BIND and UDP ASSOCIATE, with no
    authentication or username/password authentication (RFC 1929).

    Callback order: ``connectionMade -> dataReceived* (greeting, login) ->
    checker -> dataReceived* (request) -> authorize -> connectClass |
    listenClass | UDP association -> reply -> relaying -> connectionLost``.

    Args:
        reactor: the reactor to connect and listen with (the global one by
            default).
        checker: checks usernames and passwords (see
            :class:`SOCKSv5Factory`); ``None`` for no authentication.

    The limits and the destination policy are attributes, as for
    :class:`SOCKSv4`.

    Attributes:
        commands: the commands carried out.
        avatarId: what the checker returned for the client's credentials.
    """

    _GRANTED = Reply.SUCCEEDED
    _version = 5
    maxDatagramSize: int = 65535

    def __init__(self, reactor: Any = None, checker: Any = None) -> None:
        super().__init__(reactor)
        self.checker = checker
        self.avatarId: object = None
        self._udpPort: Any = None

    def _buildMachine(self) -> _ServerMachine:
        methods: Sequence[AuthMethod]
        if self.checker is None:
            methods = (AuthMethod.NO_AUTHENTICATION,)
        else:
            methods = (AuthMethod.USERNAME_PASSWORD,)
        return SOCKS5ServerMachine(methods, self.commands, self.maxPendingData)

    def _authenticate(self, event: AuthenticationRequested) -> None:
        d = self._track(checkCredentials(self.checker, event.username, event.password))

        def checked(avatarId: object) -> None:
            if self._finished:
                return
            self.avatarId = avatarId
            machine = self.machine
            assert isinstance(machine, SOCKS5ServerMachine)
            try:
                events = machine.authenticationResult(avatarId is not None)
            except SOCKSProtocolError:
                events = []
            if avatarId is None:
                _log.info("SOCKS client {peer}: login refused", peer=self._peer())
            self._flushAndCheck()
            self._handle(events)

        def broken(reason: Failure) -> None:
            if reason.check(error.ConnectingCancelledError) or self._finished:
                return
            _log.failure("SOCKS credentials checker failed", reason)
            checked(None)

        d.addCallbacks(checked, broken)

    def _authorize(self, request: CommandRequested, server: str) -> bool:
        return bool(self.authorize(request.command, server, request.port, self.avatarId))

    def authorize(self, command: Command, server: str, port: int, avatarId: object) -> bool:
        """
        Whether to carry out a request (after the destination policy
        allowed it); override for per-user rules.  Allows everything.

        Args:
            command: the command.
            server: the destination's IP address.
            port: the destination's port.
            avatarId: what the checker returned (``None`` without one).
        """
        return True

    def makeReply(self, reply: int, port: int = 0, ip: str = UNSPECIFIED) -> None:
        """Send a reply (:class:`~fw.protocols.socks.Reply`); a failure closes the connection."""
        self._reply(reply, ip, port)

    def _boundAddress(self, outgoing: Protocol) -> Any:
        # RFC 1928 section 6: the address the server connected from.
        return outgoing.transport.getHost()  # type: ignore[union-attr]

    def _associate(self, request: CommandRequested) -> None:
        # RFC 1928 section 7: datagrams come from the client's host; from
        # the port it named, if it named one.
        clientHost = getattr(self.transport.getPeer(), "host", "")
        clientPort = request.port if request.addressType is not AddressType.DOMAIN else 0
        interface = getattr(self.transport.getHost(), "host", "")
        relay = UDPRelay(
            self.reactor,
            clientHost,
            clientPort,
            lambda host, port: self._allowed(Command.UDP_ASSOCIATE, host, port),
            resolve=lambda host, port: resolveHost(self.reactor, host, port, "UDP"),
        )
        try:
            self._udpPort = self.reactor.listenUDP(
                0, relay, interface=interface, maxPacketSize=self.maxDatagramSize
            )
        except Exception as e:  # noqa: BLE001 - the client is told the request failed
            _log.info("SOCKS UDP ASSOCIATE failed: {error}", error=e)
            self._fail(Reply.GENERAL_FAILURE)
            return
        address = self._udpPort.getHost()
        self._reply(Reply.SUCCEEDED, address.host, address.port)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """End any UDP association with the control connection (RFC 1928 section 7)."""
        super().connectionLost(reason)
        port, self._udpPort = self._udpPort, None
        if port is not None:
            port.stopListening()


class _ServerFactory(Factory):
    protocol: Any

    def __init__(
        self,
        *,
        reactor: Any,
        destinationPolicy: DestinationPolicy,
        handshakeTimeout: float | None,
        connectTimeout: float,
        bindTimeout: float | None,
        maxPendingData: int,
        commands: Iterable[Command] | None,
    ) -> None:
        self.reactor = reactor
        self.destinationPolicy = destinationPolicy
        self.handshakeTimeout = handshakeTimeout
        self.connectTimeout = connectTimeout
        self.bindTimeout = bindTimeout
        self.maxPendingData = maxPendingData
        self.commands = None if commands is None else frozenset(commands)

    def _configure(self, p: _SOCKSServer) -> _SOCKSServer:
        p.factory = self
        p.destinationPolicy = self.destinationPolicy
        p.handshakeTimeout = self.handshakeTimeout
        p.connectTimeout = self.connectTimeout
        p.bindTimeout = self.bindTimeout
        p.maxPendingData = self.maxPendingData
        if self.commands is not None:
            p.commands = self.commands
        return p


class SOCKSv4Factory(_ServerFactory):
    """
    Builds :class:`SOCKSv4` servers.

    Unlike Twisted's, by default it refuses destinations that are not
    global addresses (loopback, private networks...): pass
    ``destinationPolicy=allowAllDestinations`` (or
    :func:`~fw.protocols.socks.allowNetworks`) to reach them.

    Args:
        log: the name of a file to log relayed data to, or ``None``.
        reactor: the reactor (the global one by default).
        destinationPolicy: which destinations are allowed.
        handshakeTimeout: seconds a client has to send its request.
        connectTimeout: seconds to wait for the destination.
        bindTimeout: seconds a BIND waits for its peer.
        maxUserIdLength: the longest user id accepted.
        maxPendingData: the most bytes buffered from a client before the
            reply.
        commands: the commands carried out (CONNECT and BIND by default).
    """

    protocol = SOCKSv4

    def __init__(
        self,
        log: str | None = None,
        *,
        reactor: Any = None,
        destinationPolicy: DestinationPolicy = refuseInternalDestinations,
        handshakeTimeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT,
        connectTimeout: float = DEFAULT_CONNECT_TIMEOUT,
        bindTimeout: float | None = DEFAULT_BIND_TIMEOUT,
        maxUserIdLength: int = DEFAULT_MAX_USERID_LENGTH,
        maxPendingData: int = DEFAULT_MAX_PENDING_DATA,
        commands: Iterable[Command] | None = None,
    ) -> None:
        super().__init__(
            reactor=reactor,
            destinationPolicy=destinationPolicy,
            handshakeTimeout=handshakeTimeout,
            connectTimeout=connectTimeout,
            bindTimeout=bindTimeout,
            maxPendingData=maxPendingData,
            commands=commands,
        )
        self.logging = log
        self.maxUserIdLength = maxUserIdLength

    def buildProtocol(self, addr: Any) -> Protocol | None:
        """A configured :class:`SOCKSv4`."""
        p = self.protocol(self.logging, self.reactor)
        p.maxUserIdLength = self.maxUserIdLength
        return self._configure(p)


class SOCKSv5Factory(_ServerFactory):
    """
    Builds :class:`SOCKSv5` servers.

    Without a ``checker`` clients need no authentication; with one they
    must log in with a username and password (RFC 1929), which the checker
    verifies.  A checker is either an object with
    ``requestAvatarId(credentials)`` returning (a Deferred of) an avatar id
    or failing, given an :class:`~fw.protocols.socks.UsernamePassword` (the
    shape of fw.cred's ``ICredentialsChecker``, which it will take when
    fw.cred lands), or a callable ``(username, password)`` returning a bool,
    a Deferred of one, or an awaitable of one.  Compare passwords in
    constant time (:func:`hmac.compare_digest`).

    By default only global destinations are allowed (see
    :class:`SOCKSv4Factory`).

    Args:
        checker: the credentials checker, or ``None``.
        reactor: the reactor (the global one by default).
        destinationPolicy: which destinations are allowed.
        handshakeTimeout: seconds a client has to log in and request.
        connectTimeout: seconds to wait for the destination.
        bindTimeout: seconds a BIND waits for its peer.
        maxPendingData: the most bytes buffered from a client before the
            reply.
        commands: the commands carried out (all three by default).
    """

    protocol = SOCKSv5

    def __init__(
        self,
        checker: Any = None,
        *,
        reactor: Any = None,
        destinationPolicy: DestinationPolicy = refuseInternalDestinations,
        handshakeTimeout: float | None = DEFAULT_HANDSHAKE_TIMEOUT,
        connectTimeout: float = DEFAULT_CONNECT_TIMEOUT,
        bindTimeout: float | None = DEFAULT_BIND_TIMEOUT,
        maxPendingData: int = DEFAULT_MAX_PENDING_DATA,
        commands: Iterable[Command] | None = None,
    ) -> None:
        super().__init__(
            reactor=reactor,
            destinationPolicy=destinationPolicy,
            handshakeTimeout=handshakeTimeout,
            connectTimeout=connectTimeout,
            bindTimeout=bindTimeout,
            maxPendingData=maxPendingData,
            commands=commands,
        )
        self.checker = checker

    def buildProtocol(self, addr: Any) -> Protocol | None:
        """A configured :class:`SOCKSv5`."""
        return self._configure(self.protocol(self.reactor, self.checker))
