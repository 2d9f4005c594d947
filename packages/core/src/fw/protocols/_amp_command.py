"""
AMP commands: :class:`Command`, and the two that change the connection,
:class:`ProtocolSwitchCommand` and :class:`StartTLS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic

from fw.internet.defer import Deferred, fail
from fw.protocols._amp_arguments import (
    Argument,
    _LocalArgument,
    _normaliseArguments,
    _objectsToStrings,
    _stringsToObjects,
    _wireNameToPythonIdentifier,
)
from fw.protocols._amp_box import AmpBox
from fw.protocols._amp_errors import (
    AmpError,
    InvalidSignature,
    OnlyOneTLS,
    RemoteAmpError,
    UnknownRemoteError,
)
from fw.python.failure import Failure

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    #: What a command's answer is parsed into: by default a dict of Python
    #: names to values; declare ``class Sum(Command[SumResult])`` with a
    #: ``TypedDict`` to have ``callRemote(Sum, ...)`` typed.
    _ResponseT = TypeVar("_ResponseT", default=dict[str, Any])
else:
    from typing import TypeVar

    _ResponseT = TypeVar("_ResponseT")

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["Command", "ProtocolSwitchCommand", "StartTLS"]

# The attribute of a responder function naming the commands it answers.
_RESPONDS_TO = "_fwAmpRespondsTo"


def _accumulate(cls: type, attribute: str) -> dict[type[BaseException], bytes]:
    # A class's errors table, merged with its bases' (the nearest wins).
    merged: dict[type[BaseException], bytes] = {}
    for klass in reversed(cls.__mro__):
        table = klass.__dict__.get(attribute)
        if table:
            merged.update(dict(table))
    return merged


class _CommandMeta(type):
    """Fills in a command class's name and error tables, and checks its argument names."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kw: Any
    ) -> _CommandMeta:
        attrs.setdefault("commandName", name.encode("ascii"))
        cls = super().__new__(mcs, name, bases, attrs, **kw)
        commandName = cls.__dict__["commandName"]
        if not isinstance(commandName, bytes):
            raise TypeError(f"Command names must be byte strings, got: {commandName!r}")
        for attribute in ("arguments", "response"):
            if attribute in cls.__dict__:
                setattr(cls, attribute, _normaliseArguments(cls.__dict__[attribute]))
        errors = _accumulate(cls, "errors")
        fatalErrors = _accumulate(cls, "fatalErrors")
        allErrors: dict[type[BaseException], bytes] = {**errors, **fatalErrors}
        cls.allErrors = allErrors  # type: ignore[attr-defined]
        cls.reverseErrors = {code: error for error, code in allErrors.items()}  # type: ignore[attr-defined]
        cls.fatalErrors = fatalErrors  # type: ignore[attr-defined]
        cls.errors = errors  # type: ignore[attr-defined]
        return cls


class Command(Generic[_ResponseT], metaclass=_CommandMeta):
    """
    A kind of request one end of an AMP connection sends the other.

    Subclass it and declare, as class attributes::

        class Divide(Command):
            arguments = [(b"numerator", Integer()), (b"denominator", Integer())]
            response = [(b"result", Float())]
            errors = {ZeroDivisionError: b"ZERO_DIVISION"}

    Call it with ``protocol.callRemote(Divide, numerator=1, denominator=2)``;
    answer it with a method of an :class:`~fw.protocols.amp.AMP` (or
    :class:`~fw.protocols.amp.CommandLocator`) subclass decorated with
    ``@Divide.responder``.  Wire names become Python names with dashes
    turned to underscores and keywords title-cased (``from`` -> ``From``).

    Attributes:
        commandName: the name on the wire; by default the class name.
        arguments: ``(name, Argument)`` pairs the command takes.
        response: ``(name, Argument)`` pairs its answer carries.
        errors: exception classes a responder may raise, and the wire code
            of each; the caller's Deferred fails with the same class.
        fatalErrors: as ``errors``, but the connection is closed once the
            error has been sent.
        requiresAnswer: if false, no answer is sent and ``callRemote``
            returns ``None``.
        allErrors: ``errors`` and ``fatalErrors`` together, with the
            bases' (computed).
        reverseErrors: wire code to exception class (computed).
    """

    commandName: ClassVar[bytes]
    arguments: ClassVar[Sequence[tuple[bytes, Argument]]] = []
    response: ClassVar[Sequence[tuple[bytes, Argument]]] = []
    extra: ClassVar[Sequence[bytes]] = []
    errors: ClassVar[dict[type[BaseException], bytes]] = {}
    fatalErrors: ClassVar[dict[type[BaseException], bytes]] = {}
    allErrors: ClassVar[dict[type[BaseException], bytes]]
    reverseErrors: ClassVar[dict[bytes, type[BaseException]]]
    requiresAnswer: ClassVar[bool] = True
    #: The box class the answer is built in.
    responseType: ClassVar[type[AmpBox]] = AmpBox

    def __init__(self, **kw: Any) -> None:
        """
        Raises:
            InvalidSignature: a required argument is missing.
        """
        self.structured = kw
        forgotten = [
            _wireNameToPythonIdentifier(name)
            for name, argument in self.arguments
            if _wireNameToPythonIdentifier(name) not in kw and not argument.optional
        ]
        if forgotten:
            raise InvalidSignature(f"forgot {', '.join(forgotten)} for {self.commandName!r}")

    @classmethod
    def responder(cls, methodfunc: _F) -> _F:
        """
        Declare ``methodfunc``, a method of a :class:`CommandLocator`
        subclass (such as :class:`AMP`), the responder of this command: it
        is called with the arguments as keywords and returns the response
        as a dict (or a Deferred of one, or is a coroutine function).
        """
        previous = getattr(methodfunc, _RESPONDS_TO, ())
        setattr(methodfunc, _RESPONDS_TO, (*previous, cls))
        return methodfunc

    @classmethod
    def parseResponse(cls, box: AmpBox, protocol: Any) -> Any:
        """Decode an answer box into a dict of Python names to values."""
        return _stringsToObjects(box, cls.response, protocol)

    @classmethod
    def parseArguments(cls, box: AmpBox, protocol: Any) -> dict[str, Any]:
        """Decode a command box into a dict of Python names to values."""
        return _stringsToObjects(box, cls.arguments, protocol)

    @classmethod
    def makeArguments(cls, objects: dict[str, Any], proto: Any) -> AmpBox:
        """
        Encode Python arguments into a command box.

        Raises:
            InvalidSignature: ``objects`` has a name the command does not take.
        """
        allowed = {_wireNameToPythonIdentifier(name) for name, _ in cls.arguments}
        for name in objects:
            if name not in allowed:
                raise InvalidSignature(f"{name} is not a valid argument")
        return _objectsToStrings(objects, cls.arguments, AmpBox(), proto)

    @classmethod
    def makeResponse(cls, objects: Any, proto: Any) -> AmpBox:
        """Encode a responder's result into an answer box."""
        return _objectsToStrings(objects, cls.response, cls.responseType(), proto)

    def _massageError(self, error: Failure) -> Failure:
        # An error answer becomes the exception the command declares for its code.
        error.trap(RemoteAmpError)
        remote = error.value
        assert isinstance(remote, RemoteAmpError)
        errorType = self.reverseErrors.get(remote.errorCode, UnknownRemoteError)
        description = remote.description
        if isinstance(description, bytes):
            description = description.decode("utf-8", "replace")
        return Failure(errorType(description))

    def _doCommand(self, proto: Any) -> Deferred[Any] | None:
        """Send this command on ``proto``; return a Deferred of the parsed answer."""
        box = self.makeArguments(self.structured, proto)
        d: Deferred[Any] | None = proto._sendBoxCommand(self.commandName, box, self.requiresAnswer)
        if d is not None:
            d.addCallbacks(self.parseResponse, self._massageError, callbackArgs=(proto,))
        return d


class _SwitchBox(AmpBox):
    """An answer after which the connection speaks another protocol."""

    def __init__(self, innerProto: Any, **kw: bytes) -> None:
        super().__init__(**kw)
        self.innerProto = innerProto

    def copy(self) -> _SwitchBox:
        new = _SwitchBox(self.innerProto)
        dict.update(new, self)
        return new

    def _sendTo(self, proto: Any) -> None:
        super()._sendTo(proto)
        proto._switchTo(self.innerProto)


class ProtocolSwitchCommand(Command[_ResponseT]):
    """
    A command after whose answer the connection speaks another protocol.

    The caller passes the factory of its new protocol as the first
    positional argument of ``callRemote``; the responder returns the
    protocol instance the answering side switches to.  Bytes that arrive
    after the answer go to the new protocols.
    """

    def __init__(self, _protoToSwitchToFactory: Any, **kw: Any) -> None:
        self.protoToSwitchToFactory = _protoToSwitchToFactory
        super().__init__(**kw)

    @classmethod
    def makeResponse(cls, innerProto: Any, proto: Any) -> AmpBox:
        """The answer: an empty box, after which ``proto`` switches to ``innerProto``."""
        return _SwitchBox(innerProto)

    def _doCommand(self, proto: Any) -> Deferred[Any] | None:
        d = super()._doCommand(proto)
        assert d is not None, "a protocol switch needs an answer"
        proto._lockForSwitch()
        factory = self.protoToSwitchToFactory

        def switchNow(result: Any) -> Any:
            innerProto = factory.buildProtocol(proto.transport.getPeer())
            proto._switchTo(innerProto, factory)
            return result

        def refused(failure: Failure) -> Failure:
            proto._unlockFromSwitch()
            clientConnectionFailed = getattr(factory, "clientConnectionFailed", None)
            if clientConnectionFailed is not None:
                clientConnectionFailed(None, failure)
            return failure

        return d.addCallbacks(switchNow, refused)


class _NoCertificate:
    """What ``StartTLS`` uses when no certificate is given: a client's plain options."""

    def __init__(self, client: bool) -> None:
        self.client = client

    def options(self, *authorities: Any) -> Any:
        if not self.client:
            raise AmpError(
                "StartTLS needs a certificate on the answering side: "
                "return tls_localCertificate from the responder"
            )
        ssl: Any = importlib.import_module("fw.internet.ssl")
        if authorities:
            # Certificate objects wrap OpenSSL's, which the options take.
            roots = [getattr(authority, "original", authority) for authority in authorities]
            return ssl.CertificateOptions(verify=True, caCerts=roots)
        return ssl.CertificateOptions()


class _TLSBox(AmpBox):
    """StartTLS's answer: after it is sent, the answering side starts TLS."""

    _LOCAL_KEYS = (b"tls_localCertificate", b"tls_verifyAuthorities")

    @property
    def certificate(self) -> Any:
        return self.get(b"tls_localCertificate", _NoCertificate(False))

    @property
    def verify(self) -> Any:
        return self.get(b"tls_verifyAuthorities", None)

    def _sendTo(self, proto: Any) -> None:
        if getattr(proto, "hostCertificate", None) is not None:
            raise OnlyOneTLS("TLS was already started on this connection")
        certificate, verify = self.certificate, self.verify
        # The options are made first: should that fail, no answer promises TLS.
        options = certificate.options(*(verify or ()))
        onWire = AmpBox({k: v for k, v in self.items() if k not in self._LOCAL_KEYS})
        onWire._sendTo(proto)
        proto._startTLS(certificate, verify, options)


class StartTLS(Command[_ResponseT]):
    """
    Switch the connection to TLS.

    The caller may pass ``tls_localCertificate`` (an object whose
    ``options(*authorities)`` method returns TLS connection options, such as
    a ``PrivateCertificate``) and ``tls_verifyAuthorities`` (certificates of
    authorities to verify the peer against).  The responder returns a dict
    with the same two keys for its own side.  The answer is sent in the
    clear; once it is, both sides start TLS on their transports
    (:meth:`~fw.internet.interfaces.ITLSTransport.startTLS`), and boxes the
    caller sends meanwhile wait until TLS is started.
    """

    arguments: ClassVar[Sequence[tuple[bytes, Argument]]] = [
        (b"tls_localCertificate", _LocalArgument(optional=True)),
        (b"tls_verifyAuthorities", _LocalArgument(optional=True)),
    ]
    response: ClassVar[Sequence[tuple[bytes, Argument]]] = [
        (b"tls_localCertificate", _LocalArgument(optional=True)),
        (b"tls_verifyAuthorities", _LocalArgument(optional=True)),
    ]
    responseType = _TLSBox

    def __init__(self, **kw: Any) -> None:
        self.certificate = kw.pop("tls_localCertificate", None) or _NoCertificate(True)
        self.authorities = kw.pop("tls_verifyAuthorities", None)
        super().__init__(**kw)

    @classmethod
    def makeResponse(cls, objects: Any, proto: Any) -> AmpBox:
        """
        The answer, after which this side starts TLS.

        Raises:
            OnlyOneTLS: TLS is already on.
            AmpError: the responder gave no ``tls_localCertificate``.
        """
        if getattr(proto, "hostCertificate", None) is not None:
            raise OnlyOneTLS("TLS was already started on this connection")
        if not objects or objects.get("tls_localCertificate") is None:
            raise AmpError(
                "StartTLS needs a certificate on the answering side: "
                "return tls_localCertificate from the responder"
            )
        return super().makeResponse(objects, proto)

    def _doCommand(self, proto: Any) -> Deferred[Any] | None:
        if getattr(proto, "hostCertificate", None) is not None:
            return fail(OnlyOneTLS("TLS was already started on this connection"))
        d = super()._doCommand(proto)
        assert d is not None, "StartTLS needs an answer"
        proto._prepareTLS(self.certificate, self.authorities)

        def start(response: Any) -> Any:
            try:
                proto._startTLS(self.certificate, self.authorities)
            except BaseException:
                proto._abandonTLS(Failure())
                raise
            return response

        def refused(failure: Failure) -> Failure:
            # The peer will not start TLS: the boxes held back for it must not
            # go out in the clear, so the connection ends.
            proto._abandonTLS(failure)
            return failure

        return d.addCallbacks(start, refused)
