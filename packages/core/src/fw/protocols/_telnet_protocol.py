"""
The telnet protocol adapters: :class:`Telnet` (the codec and option
negotiation on a connection), :class:`TelnetTransport` (which runs an
:class:`~fw.protocols.telnet.ITelnetProtocol` over it) and
:class:`TelnetProtocol` (the base class of such application protocols).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from zope.interface import implementer

from fw.internet.defer import Deferred, fail
from fw.internet.protocol import Protocol, connectionDone
from fw.logger import _loggerFor
from fw.protocols._telnet_codec import (
    DEFAULT_MAX_SUBNEGOTIATION_SIZE,
    CommandReceived,
    DataReceived,
    TelnetDecoder,
    encodeCommand,
    encodeData,
    encodeSubnegotiation,
)
from fw.protocols._telnet_constants import (
    BINARY,
    DO,
    DONT,
    LINEMODE,
    MODE,
    NAWS,
    TTYPE,
    TTYPE_IS,
    TTYPE_SEND,
    WILL,
    WONT,
)
from fw.protocols._telnet_errors import (
    AlreadyNegotiating,
    NegotiationError,
    OptionRefused,
    TelnetProtocolError,
)
from fw.protocols._telnet_interfaces import ITelnetProtocol, ITelnetTransport
from fw.protocols._telnet_options import (
    NegotiationRefused,
    OptionEnabled,
    OptionEvent,
    OptionNegotiator,
    PeerMisbehaved,
    QState,
    Side,
)
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet.interfaces import IAddress, IProducer, ITransport

__all__ = ["Telnet", "TelnetProtocol", "TelnetTransport"]


class _Perspective:
    """
    One side of an option, as Twisted shows it: ``state`` is ``'yes'`` or
    ``'no'``, ``negotiating`` is true while a negotiation is in flight, and
    ``onResult`` is the Deferred of this side's own request, if any.
    """

    def __init__(self, negotiator: OptionNegotiator, side: Side, option: bytes) -> None:
        self._negotiator = negotiator
        self._side = side
        self._option = option
        self.onResult: Deferred[bool] | None = None

    @property
    def qstate(self) -> QState:
        """The RFC 1143 state."""
        return self._negotiator.state(self._side, self._option)

    @property
    def state(self) -> str:
        """``'yes'`` while the option is on (being disabled counts as on), else ``'no'``."""
        return "yes" if self.qstate in (QState.YES, QState.WANTNO) else "no"

    @property
    def negotiating(self) -> bool:
        """Whether a negotiation about this side of the option is in flight."""
        return self.qstate in (QState.WANTYES, QState.WANTNO)

    def __str__(self) -> str:
        return self.state + ("*" if self.negotiating else "")


class _OptionState:
    """The state of one option at both ends: ``us`` (this side) and ``him`` (the peer)."""

    def __init__(self, negotiator: OptionNegotiator, option: bytes) -> None:
        self.us = _Perspective(negotiator, Side.LOCAL, option)
        self.him = _Perspective(negotiator, Side.REMOTE, option)

    def __repr__(self) -> str:
        return f"<_OptionState us={self.us} him={self.him}>"


class Telnet(Protocol):
    """
    A telnet connection: decodes what the peer sends, and negotiates options
    by the Q method of RFC 1143 (no negotiation can loop).

    Subclass it and override :meth:`applicationDataReceived`, or use
    :class:`TelnetTransport` to run an ``ITelnetProtocol`` over it.

    Events come in this order::

        connectionMade
            -> (applicationDataReceived | commandReceived | negotiate)*
            -> connectionLost

    A peer breaking the protocol (see
    :class:`~fw.protocols.telnet.TelnetProtocolError`) is logged and its
    connection closed.

    Attributes:
        commandMap: command byte -> callable taking the option byte (or
            ``None``).  ``WILL``, ``WONT``, ``DO`` and ``DONT`` are handled;
            add entries to handle other commands.
        negotiationMap: option byte -> callable taking the subnegotiation's
            bytes as a list of one-byte ``bytes``.  Empty by default.
        options: option byte -> its state (see :meth:`getOptionState`).
        maxSubnegotiationSize: the longest subnegotiation accepted from the
            peer, in bytes (4096 by default).
    """

    maxSubnegotiationSize: int = DEFAULT_MAX_SUBNEGOTIATION_SIZE

    def __init__(self) -> None:
        self.options: dict[bytes, _OptionState] = {}
        self.negotiationMap: dict[bytes, Callable[[list[bytes]], object]] = {}
        self.commandMap: dict[bytes, Callable[[bytes | None], object]] = {
            WILL: self.telnet_WILL,
            WONT: self.telnet_WONT,
            DO: self.telnet_DO,
            DONT: self.telnet_DONT,
        }
        self._negotiator = OptionNegotiator()
        self._decoder = TelnetDecoder(self.maxSubnegotiationSize)
        self._sendBinary = False
        self._broken = False

    @property
    def state(self) -> str:
        """The parser's state: ``'data'``, ``'escaped'``, ``'command'``, ``'newline'``..."""
        return self._decoder.state.value

    def _write(self, data: bytes) -> None:
        """Write ``data`` to the transport as it is (no escaping)."""
        if data and self.transport is not None:
            self.transport.write(data)

    # -- receiving --------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data`` and dispatch what it holds."""
        if self._broken:
            return
        decoder = self._decoder
        decoder.receiveData(data)
        while not self._broken:
            try:
                event = decoder.nextEvent()
            except TelnetProtocolError as e:
                self._protocolError(e)
                return
            if event is None:
                return
            if isinstance(event, DataReceived):
                self.applicationDataReceived(event.data)
            elif isinstance(event, CommandReceived):
                self.commandReceived(event.command, event.argument)
            else:
                self.negotiate([event.option, *(bytes([b]) for b in event.data)])

    def _protocolError(self, error: TelnetProtocolError) -> None:
        self._broken = True
        _loggerFor(self).warn(
            "Closing the telnet connection: the peer broke the protocol: {error}", error=error
        )
        if self.transport is not None:
            self.transport.loseConnection()

    def applicationDataReceived(self, data: bytes) -> None:
        """Application data arrived (escapes and NVT line ends undone).  Override."""

    def commandReceived(self, command: bytes, argument: bytes | None) -> None:
        """Dispatch a command through :attr:`commandMap`, else :meth:`unhandledCommand`."""
        handler = self.commandMap.get(command)
        if handler is None:
            self.unhandledCommand(command, argument)
        else:
            handler(argument)

    def unhandledCommand(self, command: bytes, argument: bytes | None) -> None:
        """A command with no handler in :attr:`commandMap` arrived.  Override."""

    def negotiate(self, data: list[bytes]) -> None:
        """
        Dispatch a subnegotiation (``data[0]`` is the option) through
        :attr:`negotiationMap`, else :meth:`unhandledSubnegotiation`.
        """
        command, rest = data[0], data[1:]
        handler = self.negotiationMap.get(command)
        if handler is None:
            self.unhandledSubnegotiation(command, rest)
        else:
            handler(rest)

    def unhandledSubnegotiation(self, command: bytes, data: list[bytes]) -> None:
        """A subnegotiation with no handler in :attr:`negotiationMap` arrived.  Override."""

    # -- option negotiation ---------------------------------------------

    def getOptionState(self, opt: bytes) -> _OptionState:
        """
        Return the state of option ``opt``: its ``us`` and ``him``
        attributes each have ``state`` (``'yes'``/``'no'``),
        ``negotiating``, ``onResult`` and ``qstate`` (the RFC 1143 state).
        """
        state = self.options.get(opt)
        if state is None:
            state = self.options[opt] = _OptionState(self._negotiator, opt)
        return state

    def _perspective(self, side: Side, option: bytes) -> _Perspective:
        state = self.getOptionState(option)
        return state.us if side is Side.LOCAL else state.him

    def _request(self, side: Side, option: bytes, enable: bool) -> Deferred[bool]:
        perspective = self._perspective(side, option)
        if perspective.negotiating:
            # Twisted's rule: one request at a time per side (the Q method's
            # queue is not used, so each request has its own answer).
            return fail(AlreadyNegotiating(option))
        try:
            if enable:
                out = self._negotiator.enable(side, option)
            else:
                out = self._negotiator.disable(side, option)
        except NegotiationError as e:
            return fail(e)
        d: Deferred[bool] = Deferred()
        perspective.onResult = d
        self._write(out)
        return d

    def will(self, option: bytes) -> Deferred[bool]:
        """Offer to perform ``option`` on this side (see ``ITelnetTransport.will``)."""
        return self._request(Side.LOCAL, option, True)

    def wont(self, option: bytes) -> Deferred[bool]:
        """Stop performing ``option`` on this side (see ``ITelnetTransport.wont``)."""
        return self._request(Side.LOCAL, option, False)

    def do(self, option: bytes) -> Deferred[bool]:
        """Ask the peer to perform ``option`` (see ``ITelnetTransport.do``)."""
        return self._request(Side.REMOTE, option, True)

    def dont(self, option: bytes) -> Deferred[bool]:
        """Ask the peer to stop performing ``option`` (see ``ITelnetTransport.dont``)."""
        return self._request(Side.REMOTE, option, False)

    def requestNegotiation(self, about: bytes, data: bytes) -> None:
        """Send ``IAC SB about data IAC SE``, escaping ``IAC`` in ``data``."""
        self._write(encodeSubnegotiation(about, data))

    def sendCommand(self, command: bytes, option: bytes | None = None) -> None:
        """Send ``IAC command [option]`` (``NOP``, ``AYT``, ``GA``...)."""
        self._write(encodeCommand(command, option))

    def telnet_WILL(self, option: bytes | None) -> None:
        """The peer sent ``WILL option``."""
        self._received(WILL, option)

    def telnet_WONT(self, option: bytes | None) -> None:
        """The peer sent ``WONT option``."""
        self._received(WONT, option)

    def telnet_DO(self, option: bytes | None) -> None:
        """The peer sent ``DO option``."""
        self._received(DO, option)

    def telnet_DONT(self, option: bytes | None) -> None:
        """The peer sent ``DONT option``."""
        self._received(DONT, option)

    def _received(self, command: bytes, option: bytes | None) -> None:
        assert option is not None, "negotiation commands always carry an option"
        self.getOptionState(option)
        out, events = self._negotiator.receive(command, option, self._accept)
        self._write(out)
        for event in events:
            self._optionEvent(event)

    def _accept(self, side: Side, option: bytes) -> bool:
        if side is Side.LOCAL:
            agreed = bool(self.enableLocal(option))
        else:
            agreed = bool(self.enableRemote(option))
        if agreed:
            self._binaryChanged(side, option, True)
        return agreed

    def _binaryChanged(self, side: Side, option: bytes, on: bool) -> None:
        # RFC 856: binary mode turns off the NVT end-of-line rules, each way apart.
        if option == BINARY:
            if side is Side.LOCAL:
                self._sendBinary = on
            else:
                self._decoder.binary = on

    def _optionEvent(self, event: OptionEvent) -> None:
        if isinstance(event, PeerMisbehaved):
            _loggerFor(self).warn(
                "Telnet peer misbehaved about option {option!r}: {description}",
                option=event.option,
                description=event.description,
            )
            return
        side, option = event.side, event.option
        perspective = self._perspective(side, option)
        d = perspective.onResult
        if isinstance(event, NegotiationRefused):
            perspective.onResult = None
            if d is not None:
                d.errback(OptionRefused(option))
            return
        enabled = isinstance(event, OptionEnabled)
        if event.requested:
            perspective.onResult = None
            if enabled:
                self._binaryChanged(side, option, True)
            if d is not None:
                d.callback(True)
            if enabled:
                # The confirmation of our own request; the answer is ignored.
                if side is Side.LOCAL:
                    self.enableLocal(option)
                else:
                    self.enableRemote(option)
        if not enabled:
            self._binaryChanged(side, option, False)
            if side is Side.LOCAL:
                self.disableLocal(option)
            else:
                self.disableRemote(option)

    def enableLocal(self, option: bytes) -> bool:
        """Refuse to perform any option on this side.  Override to accept some."""
        return False

    def enableRemote(self, option: bytes) -> bool:
        """Refuse to let the peer perform any option.  Override to accept some."""
        return False

    def disableLocal(self, option: bytes) -> None:
        """
        Stop performing ``option``.  Only called for options
        :meth:`enableLocal` accepted, so a subclass that accepts some must
        override this too.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(f"don't know how to disable local telnet option {option!r}")

    def disableRemote(self, option: bytes) -> None:
        """
        The peer stopped performing ``option``.  Only called for options
        :meth:`enableRemote` accepted, so a subclass that accepts some must
        override this too.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(f"don't know how to disable remote telnet option {option!r}")

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail the Deferreds of negotiations still in flight with ``reason``."""
        for state in self.options.values():
            for perspective in (state.us, state.him):
                d, perspective.onResult = perspective.onResult, None
                if d is not None:
                    d.errback(reason)


@implementer(ITelnetProtocol)
class TelnetProtocol(Protocol):
    """
    The base class of application protocols run by :class:`TelnetTransport`.

    Every ``ITelnetProtocol`` method does nothing (options are refused).
    Beyond Twisted, :meth:`unhandledSubnegotiation` decodes the standard
    subnegotiations and calls :meth:`windowSizeReceived` (NAWS, RFC 1073),
    :meth:`terminalTypeReceived` and :meth:`terminalTypeRequested` (TTYPE,
    RFC 1091) and :meth:`linemodeModeReceived` (LINEMODE MODE, RFC 1184).
    """

    def unhandledCommand(self, command: bytes, argument: bytes | None) -> None:
        """A command nobody handled arrived; ignored."""

    def unhandledSubnegotiation(self, command: bytes, data: list[bytes]) -> None:
        """Decode NAWS, TTYPE and LINEMODE MODE subnegotiations; ignore others."""
        payload = b"".join(data)
        if command == NAWS:
            if len(payload) == 4:
                width, height = struct.unpack("!HH", payload)
                self.windowSizeReceived(width, height)
        elif command == TTYPE:
            if payload[:1] == TTYPE_IS:
                self.terminalTypeReceived(payload[1:])
            elif payload == TTYPE_SEND:
                answer = self.terminalTypeRequested()
                if answer is not None and self.transport is not None:
                    transport = cast(ITelnetTransport, self.transport)
                    transport.requestNegotiation(TTYPE, TTYPE_IS + answer)
        elif command == LINEMODE and len(payload) == 2 and payload[:1] == MODE:
            self.linemodeModeReceived(payload[1])

    def windowSizeReceived(self, width: int, height: int) -> None:
        """The peer's window is ``width`` columns by ``height`` rows (0: unknown)."""

    def terminalTypeReceived(self, terminalType: bytes) -> None:
        """The peer's terminal type (``TTYPE IS``), such as ``b"XTERM"``."""

    def terminalTypeRequested(self) -> bytes | None:
        """
        The peer asked for our terminal type (``TTYPE SEND``).  Return it to
        answer, or ``None`` (the default) to stay silent.
        """
        return None

    def linemodeModeReceived(self, mask: int) -> None:
        """
        A LINEMODE ``MODE`` arrived, with ``mask`` the bits (``EDIT``,
        ``TRAPSIG``, ``MODE_ACK``...).
        """

    def enableLocal(self, option: bytes) -> bool:
        """Refuse to perform ``option``."""
        return False

    def enableRemote(self, option: bytes) -> bool:
        """Refuse to let the peer perform ``option``."""
        return False

    def disableLocal(self, option: bytes) -> None:
        """This side stopped performing ``option``."""

    def disableRemote(self, option: bytes) -> None:
        """The peer stopped performing ``option``."""


@implementer(ITelnetTransport)
class TelnetTransport(Telnet):
    """
    Runs an ``ITelnetProtocol`` over a telnet connection: the protocol gets
    the application data, and this object as its transport.

    ``write`` escapes ``IAC`` and, out of binary mode, sends ends of line as
    ``CR LF`` (``CR`` alone as ``CR NUL``), whether the application writes
    ``\\n`` or ``\\r\\n``.

    Args:
        protocolFactory: called with ``args`` and ``kwargs`` at
            ``connectionMade`` to make the application protocol; it must
            provide ``ITelnetProtocol``.
        args: positional arguments for ``protocolFactory``.
        kwargs: keyword arguments for ``protocolFactory``.

    Attributes:
        protocol: the application protocol while connected, else ``None``.
        disconnecting: true once :meth:`loseConnection` was called.
    """

    protocolFactory: Callable[..., Any] | None = None
    protocol: Any = None
    disconnecting: bool = False

    def __init__(
        self, protocolFactory: Callable[..., Any] | None = None, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__()
        self.protocolArgs: tuple[Any, ...] = ()
        self.protocolKwArgs: dict[str, Any] = {}
        if protocolFactory is not None:
            self.protocolFactory = protocolFactory
            self.protocolArgs = args
            self.protocolKwArgs = kwargs

    def connectionMade(self) -> None:
        """
        Make the application protocol and connect it to this transport.

        Raises:
            TypeError: the protocol does not provide ``ITelnetProtocol``.
        """
        if self.protocolFactory is None:
            return
        protocol: Any = self.protocolFactory(*self.protocolArgs, **self.protocolKwArgs)
        if not ITelnetProtocol.providedBy(protocol):
            raise TypeError(f"{protocol!r} does not provide ITelnetProtocol")
        if self.factory is not None:
            cast(Any, protocol).factory = self.factory
        self.protocol = protocol
        protocol.makeConnection(self)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail pending negotiations, then tell the application protocol."""
        super().connectionLost(reason)
        protocol, self.protocol = self.protocol, None
        if protocol is not None:
            protocol.connectionLost(reason)

    # -- the application protocol decides about options ------------------

    def enableLocal(self, option: bytes) -> bool:
        """Ask the application protocol."""
        return self.protocol is not None and bool(self.protocol.enableLocal(option))

    def enableRemote(self, option: bytes) -> bool:
        """Ask the application protocol."""
        return self.protocol is not None and bool(self.protocol.enableRemote(option))

    def disableLocal(self, option: bytes) -> None:
        """Tell the application protocol."""
        if self.protocol is not None:
            self.protocol.disableLocal(option)

    def disableRemote(self, option: bytes) -> None:
        """Tell the application protocol."""
        if self.protocol is not None:
            self.protocol.disableRemote(option)

    def unhandledSubnegotiation(self, command: bytes, data: list[bytes]) -> None:
        """Pass it to the application protocol."""
        if self.protocol is not None:
            self.protocol.unhandledSubnegotiation(command, data)

    def unhandledCommand(self, command: bytes, argument: bytes | None) -> None:
        """Pass it to the application protocol."""
        if self.protocol is not None:
            self.protocol.unhandledCommand(command, argument)

    def applicationDataReceived(self, data: bytes) -> None:
        """Pass it to the application protocol's ``dataReceived``."""
        if self.protocol is not None:
            self.protocol.dataReceived(data)

    # -- ITransport ------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send application data, escaped for telnet."""
        self._write(encodeData(data, self._sendBinary))

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Send each of ``data``, escaped for telnet."""
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        """Close the connection once what was written is sent."""
        self.disconnecting = True
        if self.transport is not None:
            self.transport.loseConnection()

    def abortConnection(self) -> None:
        """Close the connection at once (when the transport under it can)."""
        self.disconnecting = True
        abort = getattr(self.transport, "abortConnection", None)
        if abort is not None:
            abort()
        elif self.transport is not None:
            self.transport.loseConnection()

    def getHost(self) -> IAddress:
        """This side's address."""
        return self._lower().getHost()

    def getPeer(self) -> IAddress:
        """The peer's address."""
        return self._lower().getPeer()

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register ``producer`` with the transport under this one."""
        self._lower().registerProducer(producer, streaming)  # type: ignore[attr-defined]

    def unregisterProducer(self) -> None:
        """Unregister the producer from the transport under this one."""
        self._lower().unregisterProducer()  # type: ignore[attr-defined]

    def _lower(self) -> ITransport:
        if self.transport is None:
            raise RuntimeError("the telnet transport is not connected")
        return self.transport
