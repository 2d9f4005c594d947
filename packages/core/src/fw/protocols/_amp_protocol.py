"""
AMP connections: :class:`BoxDispatcher` (commands, answers and errors),
:class:`CommandLocator` and :class:`SimpleStringLocator` (finding responders),
:class:`BinaryBoxProtocol` (boxes over a stream transport) and :class:`AMP`
(all of them in one protocol).

Callback order of a connection::

    makeConnection -> startReceivingBoxes
        -> (ampBoxReceived | callRemote)*
        -> [switch to another protocol: it gets the rest]
        -> stopReceivingBoxes(reason) -> pending calls fail with reason
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, cast

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_protocol import IFileDescriptorReceiver
from fw.internet.defer import Deferred, fail, maybeDeferred
from fw.internet.protocol import Protocol, connectionDone
from fw.logger import Logger, LogLevel
from fw.protocols._amp_box import DEFAULT_MAX_BOX_LENGTH, AmpBox, BoxParser, QuitBox
from fw.protocols._amp_command import _RESPONDS_TO, Command, StartTLS
from fw.protocols._amp_errors import (
    ANSWER,
    ASK,
    COMMAND,
    ERROR,
    ERROR_CODE,
    ERROR_DESCRIPTION,
    MAX_VALUE_LENGTH,
    UNHANDLED_ERROR_CODE,
    UNKNOWN_ERROR_CODE,
    AmpError,
    BadLocalReturn,
    MalformedAmpBox,
    NoEmptyBoxes,
    OnlyOneTLS,
    ProtocolSwitched,
    RemoteAmpError,
    TooLong,
    UnhandledCommand,
    UnknownRemoteError,
)
from fw.protocols._amp_interfaces import (
    IBoxReceiver,
    IBoxSender,
    IResponderLocator,
)
from fw.python.failure import Failure

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    from fw.internet.interfaces import IProtocol, ITransport
else:
    from typing import TypeVar

_R = TypeVar("_R")

__all__ = ["AMP", "BinaryBoxProtocol", "BoxDispatcher", "CommandLocator", "SimpleStringLocator"]

_log = Logger(namespace="fw.protocols.amp")

#: A responder as a locator returns it: takes the command box, returns the answer box.
_BoxResponder = Callable[[AmpBox], "Deferred[AmpBox] | AmpBox"]


@implementer(IBoxReceiver)
class BoxDispatcher:
    """
    Sends commands and matches answers to them; hands commands that arrive
    to the responders its locator finds, and sends their answers back.

    Args:
        locator: finds the responder of each command that arrives.

    Attributes:
        boxSender: sends this side's boxes, once the connection is up.
    """

    _failAllReason: Failure | None = None
    boxSender: IBoxSender | None = None

    def __init__(self, locator: IResponderLocator) -> None:
        self.locator = locator
        self._outstandingRequests: dict[bytes, Deferred[AmpBox]] = {}
        self._counter = 0

    def _nextTag(self) -> bytes:
        """A new tag, to match an answer to its command."""
        self._counter += 1
        return b"%x" % (self._counter,)

    def failAllOutgoing(self, reason: Failure) -> None:
        """Fail every call waiting for an answer, and every later call, with ``reason``."""
        self._failAllReason = reason
        pending = self._outstandingRequests
        self._outstandingRequests = {}
        for question in pending.values():
            question.errback(reason)

    def _sendBoxCommand(
        self, command: bytes, box: AmpBox, requiresAnswer: bool = True
    ) -> Deferred[AmpBox] | None:
        """
        Send ``box`` as the command ``command``; return a Deferred of the
        answer box if ``requiresAnswer``, else ``None``.
        """
        if self._failAllReason is not None:
            if requiresAnswer:
                return fail(self._failAllReason)
            return None
        box[COMMAND] = command
        tag = self._nextTag()
        if requiresAnswer:
            box[ASK] = tag
        sender = self.boxSender
        if sender is None:
            raise error.NotConnectingError("the AMP connection is not up yet")
        box._sendTo(sender)
        if not requiresAnswer:
            return None
        question: Deferred[AmpBox] = Deferred()
        self._outstandingRequests[tag] = question
        return question

    def callRemoteString(
        self, command: bytes, requiresAnswer: bool = True, **kw: bytes
    ) -> Deferred[AmpBox] | None:
        """
        Send the command ``command`` with the raw values ``kw``; return a
        Deferred of the raw answer box (or ``None`` if no answer is wanted).
        """
        return self._sendBoxCommand(command, AmpBox(kw), requiresAnswer)

    def callRemote(self, commandType: type[Command[_R]], /, *a: Any, **kw: Any) -> Deferred[_R]:
        """
        Call ``commandType`` on the peer with the arguments ``kw``.

        Returns:
            a Deferred of the answer (a dict of Python names to values, or
            what ``commandType`` is declared to answer), failing with the
            exception class the command declares for the error answered.
            A command whose ``requiresAnswer`` is false returns ``None``.
        """
        try:
            command = commandType(*a, **kw)
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            return fail()
        if not commandType.requiresAnswer:
            return command._doCommand(self)  # type: ignore[return-value]
        try:
            result = command._doCommand(self)
        except Exception:  # noqa: BLE001 - it becomes the Deferred's failure
            return fail()
        return cast("Deferred[_R]", result)

    def unhandledError(self, failure: Failure) -> None:
        """An error no callback handled: the box sender logs it and drops the connection."""
        if self.boxSender is not None:
            self.boxSender.unhandledError(failure)

    # -- IBoxReceiver -----------------------------------------------------------

    def startReceivingBoxes(self, boxSender: IBoxSender) -> None:
        """The connection is up: send with ``boxSender``."""
        self.boxSender = boxSender

    def stopReceivingBoxes(self, reason: Failure) -> None:
        """The connection is gone: pending and later calls fail with ``reason``."""
        self.failAllOutgoing(reason)

    def ampBoxReceived(self, box: AmpBox) -> None:
        """
        Handle a box: an answer, an error answer or a command.

        Raises:
            NoEmptyBoxes: it is none of those.
            MalformedAmpBox: it answers no call in progress, or lacks an
                error code.
        """
        if ANSWER in box:
            self._answerReceived(box)
        elif ERROR in box:
            self._errorReceived(box)
        elif COMMAND in box:
            self._commandReceived(box)
        else:
            raise NoEmptyBoxes(box)

    def _question(self, tag: bytes) -> Deferred[AmpBox]:
        question = self._outstandingRequests.pop(tag, None)
        if question is None:
            raise MalformedAmpBox(f"an answer to {tag!r}, a call not in progress")
        question.addErrback(self.unhandledError)
        return question

    def _answerReceived(self, box: AmpBox) -> None:
        self._question(box[ANSWER]).callback(box)

    def _errorReceived(self, box: AmpBox) -> None:
        code = box.get(ERROR_CODE)
        if code is None:
            raise MalformedAmpBox("an error answer without an error code")
        question = self._question(box[ERROR])
        description = box.get(ERROR_DESCRIPTION, b"").decode("utf-8", "replace")
        exception: AmpError
        if code == UNHANDLED_ERROR_CODE:
            exception = UnhandledCommand(code, description)
        elif code == UNKNOWN_ERROR_CODE:
            exception = UnknownRemoteError(description)
        else:
            exception = RemoteAmpError(code, description)
        question.errback(Failure(exception))

    def _commandReceived(self, box: AmpBox) -> None:
        ask = box.get(ASK)

        def formatAnswer(answer: AmpBox) -> AmpBox:
            answer[ANSWER] = ask  # type: ignore[assignment]
            return answer

        def formatError(failure: Failure) -> AmpBox:
            reply: AmpBox
            if failure.check(RemoteAmpError):
                remote = cast(RemoteAmpError, failure.value)
                code = remote.errorCode
                description = remote.description
                if isinstance(description, str):
                    description = description.encode("utf-8", "replace")
                reply = QuitBox() if remote.fatal else AmpBox()
            else:
                _log.failure(
                    "An AMP responder for {command!r} failed; dropping the connection",
                    failure,
                    command=box.get(COMMAND),
                )
                reply = QuitBox()
                code = UNKNOWN_ERROR_CODE
                description = b"Unknown Error"
            reply[ERROR] = ask  # type: ignore[assignment]
            reply[ERROR_CODE] = code
            reply[ERROR_DESCRIPTION] = description[:MAX_VALUE_LENGTH]
            return reply

        deferred = self.dispatchCommand(box)
        if ask is not None:
            deferred.addCallbacks(formatAnswer, formatError)
            deferred.addCallback(self._safeEmit)
        deferred.addErrback(self.unhandledError)

    def _safeEmit(self, box: AmpBox) -> None:
        # Send an answer; a connection that went away or switched meanwhile
        # cannot take it, and that is no error.
        sender = self.boxSender
        if sender is None:
            return
        try:
            box._sendTo(sender)
        except (ProtocolSwitched, error.ConnectionLost):
            pass

    def dispatchCommand(self, box: AmpBox) -> Deferred[AmpBox]:
        """
        Find the responder of the command ``box`` carries and call it.

        Returns:
            a Deferred of the answer box; it fails with
            :class:`RemoteAmpError` (code ``UNHANDLED``) when there is no
            responder.
        """
        name = box[COMMAND]
        responder = self.locator.locateResponder(name)
        if responder is None:
            return fail(
                RemoteAmpError(
                    UNHANDLED_ERROR_CODE,
                    f"Unhandled Command: {name!r}",
                    False,
                    local=Failure(UnhandledCommand(name)),
                )
            )
        return cast("Deferred[AmpBox]", maybeDeferred(responder, box))


def _respondersIn(namespace: dict[str, Any]) -> Iterator[tuple[type[Command[Any]], Any]]:
    for value in namespace.values():
        for command in getattr(value, _RESPONDS_TO, ()):
            yield command, value


@implementer(IResponderLocator)
class CommandLocator:
    """
    Finds responders among methods decorated with ``@SomeCommand.responder``
    (inherited ones too; a subclass's responder for a command replaces its
    base's).
    """

    _ampResponders: ClassVar[dict[bytes, tuple[type[Command[Any]], Callable[..., Any]]]] = {}

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        table: dict[bytes, tuple[type[Command[Any]], Callable[..., Any]]] = {}
        for base in reversed(cls.__mro__[1:]):
            table.update(base.__dict__.get("_ampResponders", {}))
        for command, function in _respondersIn(dict(cls.__dict__)):
            table[command.commandName] = (command, function)
        cls._ampResponders = table

    def _wrapWithSerialization(
        self, aCallable: Callable[..., Any], command: type[Command[Any]]
    ) -> Callable[[AmpBox], Deferred[AmpBox]]:
        """
        Make a box responder of ``aCallable``, a responder taking keyword
        arguments: decode the box, call it, encode its answer, and turn the
        errors ``command`` declares into error answers.
        """

        def checkKnownErrors(failure: Failure) -> Failure:
            allErrors = command.allErrors
            if not allErrors:
                return failure
            key = failure.trap(*allErrors)
            return Failure(
                RemoteAmpError(
                    allErrors[key],
                    str(failure.value),
                    key in command.fatalErrors,
                    local=failure,
                )
            )

        def makeResponseFor(objects: Any) -> AmpBox:
            try:
                return command.makeResponse(objects, self)
            except Exception as e:
                raise BadLocalReturn(
                    f"{aCallable!r} returned {objects!r} and {command!r} could not serialize it",
                    Failure(e),
                ) from e

        def doit(box: AmpBox) -> Deferred[AmpBox]:
            kw = command.parseArguments(box, self)
            d = maybeDeferred(aCallable, **kw)
            return d.addCallback(makeResponseFor).addErrback(checkKnownErrors)

        return doit

    def lookupFunction(self, name: bytes) -> _BoxResponder | None:
        """Return the box responder of the command ``name``, or ``None``."""
        entry = self._ampResponders.get(name)
        if entry is None:
            return None
        command, function = entry
        method = function.__get__(self, type(self))
        return self._wrapWithSerialization(method, command)

    def locateResponder(self, name: bytes) -> _BoxResponder | None:
        """Return the box responder of the command ``name``, or ``None``."""
        return self.lookupFunction(name)


@implementer(IResponderLocator)
class SimpleStringLocator:
    """
    Finds responders by name: the command ``FOO`` is answered by the method
    ``amp_FOO``, which takes the command's box and returns the answer box
    (or a Deferred of it).
    """

    baseDispatchPrefix = "amp_"

    def locateResponder(self, name: bytes) -> _BoxResponder | None:
        """Return the method ``amp_<NAME>``, or ``None``."""
        try:
            suffix = name.decode("ascii").upper()
        except UnicodeDecodeError:
            return None
        if not suffix.isidentifier():
            return None
        return cast("_BoxResponder | None", getattr(self, self.baseDispatchPrefix + suffix, None))


@implementer(IBoxSender, IFileDescriptorReceiver)
class BinaryBoxProtocol(Protocol):
    """
    Boxes over a stream transport: parses the bytes that arrive into boxes
    for a box receiver, and writes the boxes sent.

    A peer that sends a key longer than 255 bytes or a box longer than
    :attr:`MAX_BOX_LENGTH` has broken the protocol: the connection is
    dropped, and the box receiver's pending calls fail with
    :class:`~fw.protocols.amp.TooLong`.

    Args:
        boxReceiver: gets the boxes that arrive.

    Attributes:
        hostCertificate: this side's certificate, once TLS has started.
        innerProtocol: the protocol the connection switched to, if any.
    """

    #: The longest box accepted from the peer, in bytes on the wire; see
    #: :data:`DEFAULT_MAX_BOX_LENGTH`.
    MAX_BOX_LENGTH: int = DEFAULT_MAX_BOX_LENGTH
    #: How many received file descriptors may wait for a command to claim
    #: them before the connection is dropped: far more than any command
    #: passes at once, and far fewer than the descriptors a process may hold.
    MAX_PENDING_DESCRIPTORS: int = 256

    hostCertificate: Any = None
    noPeerCertificate = False
    innerProtocol: IProtocol | None = None
    innerProtocolClientFactory: Any = None
    _locked = False
    _startingTLSBuffer: list[bytes] | None = None
    _justStartedTLS = False
    _parsing = False
    _violation: Failure | None = None

    def __init__(self, boxReceiver: IBoxReceiver) -> None:
        self.boxReceiver = boxReceiver
        self._parser = BoxParser(self.MAX_BOX_LENGTH)
        self._descriptors: dict[int, int] = {}
        self._sentDescriptors = 0
        self._receivedDescriptors = 0

    # -- receiving --------------------------------------------------------------

    def connectionMade(self) -> None:
        """Start the box receiver."""
        self.boxReceiver.startReceivingBoxes(self)

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data`` into boxes for the box receiver."""
        inner = self.innerProtocol
        if inner is not None:
            inner.dataReceived(data)
            return
        if self._violation is not None:
            return
        self._justStartedTLS = False
        parser = self._parser
        parser.feed(data)
        self._parsing = True
        try:
            while True:
                try:
                    box = parser.nextBox()
                except TooLong as e:
                    self._protocolViolation(Failure(e))
                    return
                if box is None:
                    return
                try:
                    self.boxReceiver.ampBoxReceived(box)
                except Exception:  # noqa: BLE001 - a bad box drops its connection
                    self._protocolViolation(Failure())
                    return
                inner = self.innerProtocol
                if inner is not None:
                    rest = parser.unprocessed()
                    if rest:
                        inner.dataReceived(rest)
                    return
                if self._dropping():
                    return
        finally:
            self._parsing = False

    def _dropping(self) -> bool:
        return self._violation is not None

    def _protocolViolation(self, reason: Failure) -> None:
        # The peer broke the protocol (or a box made this side fail): drop
        # this connection, and fail what waits on it with the reason.
        self._violation = reason
        _log.failure(
            "Dropping an AMP connection: {error}",
            reason,
            level=LogLevel.warn,
            error=reason.getErrorMessage(),
        )
        if self.transport is not None:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the inner protocol, if any, and the box receiver."""
        inner = self.innerProtocol
        if inner is not None:
            inner.connectionLost(reason)
            factory = self.innerProtocolClientFactory
            if factory is not None:
                factory.clientConnectionLost(None, reason)
        failReason = self._violation if self._violation is not None else reason
        for descriptor in self._descriptors.values():
            os.close(descriptor)
        self._descriptors.clear()
        self.boxReceiver.stopReceivingBoxes(failReason)

    # -- sending ----------------------------------------------------------------

    def sendBox(self, box: AmpBox) -> None:
        """
        Send ``box``.

        Raises:
            ProtocolSwitched: the connection switched to another protocol.
            TooLong: a key or a value is too long for AMP.
        """
        if self._locked:
            raise ProtocolSwitched("This connection has switched: no AMP traffic allowed.")
        transport = self.transport
        if transport is None:
            raise error.ConnectionLost("the AMP connection is not connected")
        data = box.serialize()
        buffered = self._startingTLSBuffer
        if buffered is not None:
            buffered.append(data)
        else:
            transport.write(data)

    def unhandledError(self, failure: Failure) -> None:
        """Log ``failure``, which no callback handled, and drop the connection."""
        _log.failure(
            "Amp server or network failure unhandled by client application.  "
            "Dropping connection!  To avoid, add errbacks to ALL remote commands!",
            failure,
        )
        if self.transport is not None:
            self.transport.loseConnection()

    # -- file descriptors ---------------------------------------------------------

    def _sendFileDescriptor(self, descriptor: int) -> int:
        """Send ``descriptor`` with the next bytes written; return its number on the wire."""
        send = getattr(self.transport, "sendFileDescriptor", None)
        if send is None:
            raise TypeError("amp.Descriptor needs a transport that passes descriptors (UNIX)")
        send(descriptor)
        number = self._sentDescriptors
        self._sentDescriptors += 1
        return number

    def fileDescriptorReceived(self, descriptor: int) -> None:
        """Keep ``descriptor`` until a :class:`Descriptor` argument claims it."""
        if len(self._descriptors) >= self.MAX_PENDING_DESCRIPTORS:
            os.close(descriptor)
            if self._violation is None:
                self._protocolViolation(
                    Failure(MalformedAmpBox("the peer sent too many unclaimed descriptors"))
                )
            return
        self._descriptors[self._receivedDescriptors] = descriptor
        self._receivedDescriptors += 1

    def _getDescriptor(self, number: int) -> int:
        """Take the descriptor received with number ``number``."""
        try:
            return self._descriptors.pop(number)
        except KeyError:
            raise MalformedAmpBox(f"no descriptor number {number} was received") from None

    # -- protocol switching -------------------------------------------------------------

    def _lockForSwitch(self) -> None:
        """Refuse to send boxes: a switch is under way."""
        self._locked = True

    def _unlockFromSwitch(self) -> None:
        """The switch did not happen: boxes may be sent again."""
        if self.innerProtocol is not None:
            raise ProtocolSwitched("Protocol already switched.  Cannot unlock.")
        self._locked = False

    def _switchTo(self, newProto: IProtocol, clientFactory: Any = None) -> None:
        """Hand the connection, and the bytes after the last box, to ``newProto``."""
        transport = self.transport
        assert transport is not None
        self._locked = True
        self.innerProtocol = newProto
        self.innerProtocolClientFactory = clientFactory
        newProto.makeConnection(transport)
        if not self._parsing:
            rest = self._parser.unprocessed()
            if rest:
                newProto.dataReceived(rest)

    # -- TLS ------------------------------------------------------------------

    def _prepareTLS(self, certificate: Any, verifyAuthorities: Any) -> None:
        """Hold back boxes sent from now until TLS starts."""
        self._startingTLSBuffer = []

    def _startTLS(
        self, certificate: Any, verifyAuthorities: Any = None, options: Any = None
    ) -> None:
        """
        Start TLS on the transport with ``options`` (by default,
        ``certificate``'s options for ``verifyAuthorities``), then send the
        boxes held back.

        Raises:
            OnlyOneTLS: TLS is already on.
        """
        if self.hostCertificate is not None:
            raise OnlyOneTLS("TLS was already started on this connection")
        if options is None:
            options = certificate.options(*(verifyAuthorities or ()))
        transport = cast("ITransport", self.transport)
        startTLS = getattr(transport, "startTLS", None)
        if startTLS is None:
            raise AmpError(f"the transport {transport!r} cannot start TLS")
        self.hostCertificate = certificate
        self._justStartedTLS = True
        startTLS(options)
        buffered = self._startingTLSBuffer
        self._startingTLSBuffer = None
        for data in buffered or ():
            transport.write(data)

    def _abandonTLS(self, reason: Failure) -> None:
        """TLS will not start: drop the boxes held back for it, and the connection."""
        self._startingTLSBuffer = None
        if self.transport is not None:
            self.transport.loseConnection()

    @property
    def peerCertificate(self) -> Any:
        """The peer's certificate, once TLS is on (``None`` if it sent none)."""
        if self.noPeerCertificate or self.hostCertificate is None:
            return None
        getPeerCertificate = getattr(self.transport, "getPeerCertificate", None)
        if getPeerCertificate is None:
            return None
        return getPeerCertificate()


class AMP(BinaryBoxProtocol, BoxDispatcher, CommandLocator, SimpleStringLocator):
    """
    An AMP connection: call the peer's commands with :meth:`callRemote`,
    answer its commands with methods decorated with
    ``@SomeCommand.responder`` (or named ``amp_<COMMAND>``).

    Responders may return the response dict, a Deferred of it, or be
    coroutine functions (``async def``).

    Args:
        boxReceiver: gets the boxes that arrive; by default this object.
        locator: finds responders; by default this object.
    """

    _ampInitialized = False

    def __init__(
        self,
        boxReceiver: IBoxReceiver | None = None,
        locator: IResponderLocator | None = None,
    ) -> None:
        self._ampInitialized = True
        BoxDispatcher.__init__(self, locator if locator is not None else self)
        BinaryBoxProtocol.__init__(self, boxReceiver if boxReceiver is not None else self)

    def makeConnection(self, transport: ITransport) -> None:
        """Connect; a subclass whose ``__init__`` did not call this class's is set up here."""
        if not self._ampInitialized:
            AMP.__init__(self)
        super().makeConnection(transport)

    def locateResponder(self, name: bytes) -> _BoxResponder | None:
        """A ``@Command.responder`` method for ``name``, else an ``amp_<NAME>`` method."""
        found: _BoxResponder | None = CommandLocator.locateResponder(self, name)
        if found is None:
            found = SimpleStringLocator.locateResponder(self, name)
        return found

    @StartTLS.responder
    def _defaultStartTLSResponder(self) -> dict[str, Any]:
        # Without a certificate of its own, this side cannot answer StartTLS:
        # the caller gets an error (see StartTLS.makeResponse).
        return {}

    def __repr__(self) -> str:
        inner = f" inner {self.innerProtocol!r}" if self.innerProtocol is not None else ""
        return f"<{type(self).__name__}{inner} at 0x{id(self):x}>"
