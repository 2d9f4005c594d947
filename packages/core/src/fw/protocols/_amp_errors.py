"""The exceptions of :mod:`fw.protocols.amp`, and the wire's reserved keys and codes."""

from __future__ import annotations

from fw.python.failure import Failure

__all__ = [
    "ANSWER",
    "ASK",
    "COMMAND",
    "ERROR",
    "ERROR_CODE",
    "ERROR_DESCRIPTION",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "PROTOCOL_ERRORS",
    "UNHANDLED_ERROR_CODE",
    "UNKNOWN_ERROR_CODE",
    "AmpError",
    "BadLocalReturn",
    "IncompatibleVersions",
    "InvalidSignature",
    "MalformedAmpBox",
    "NoEmptyBoxes",
    "OnlyOneTLS",
    "ProtocolSwitched",
    "RemoteAmpError",
    "TooLong",
    "UnhandledCommand",
    "UnknownRemoteError",
]

#: The key carrying the tag of a command that wants an answer.
ASK = b"_ask"
#: The key carrying the tag of the command a successful answer answers.
ANSWER = b"_answer"
#: The key carrying a command's name.
COMMAND = b"_command"
#: The key carrying the tag of the command an error answers.
ERROR = b"_error"
#: The key carrying an error answer's code.
ERROR_CODE = b"_error_code"
#: The key carrying an error answer's human-readable description.
ERROR_DESCRIPTION = b"_error_description"
#: The error code of a responder that failed with an error its command does not declare.
UNKNOWN_ERROR_CODE = b"UNKNOWN"
#: The error code answering a command that the receiver has no responder for.
UNHANDLED_ERROR_CODE = b"UNHANDLED"

#: The longest key a box may carry: AMP's wire format limits keys to 255 bytes.
MAX_KEY_LENGTH = 0xFF
#: The longest value a box may carry: a value's length is a 16-bit number.
MAX_VALUE_LENGTH = 0xFFFF


class AmpError(Exception):
    """The base class of AMP's errors."""


class ProtocolSwitched(Exception):
    """A box was sent on a connection that has switched to another protocol."""


class OnlyOneTLS(AmpError):
    """TLS was asked for on a connection that already uses it."""


class NoEmptyBoxes(AmpError):
    """A box arrived that is neither a command, an answer nor an error: a protocol violation."""


class InvalidSignature(AmpError):
    """A command was called with arguments missing or with arguments it does not take."""


class MalformedAmpBox(AmpError):
    """Bytes that are not a well-formed AMP box arrived: a protocol violation."""


class UnhandledCommand(AmpError):
    """The peer has no responder for the command called."""


class IncompatibleVersions(AmpError):
    """The two ends of the connection speak versions of a protocol that cannot work together."""


class TooLong(AmpError):
    """
    A key or a value is longer than AMP allows: a key longer than
    :data:`MAX_KEY_LENGTH` bytes or a value longer than
    :data:`MAX_VALUE_LENGTH`, or a box longer than the receiver accepts.

    Attributes:
        isKey: whether the key (rather than a value) is too long.
        isLocal: whether this side tried to send it (rather than received it).
        value: the key or value, when it is known.
        keyName: for a value, the key it belongs to, when known.
        length: the offending length, when known.
    """

    def __init__(
        self,
        isKey: bool,
        isLocal: bool,
        value: bytes | None,
        keyName: bytes | None = None,
        length: int | None = None,
    ) -> None:
        self.isKey = isKey
        self.isLocal = isLocal
        self.value = value
        self.keyName = keyName
        if length is None and value is not None:
            length = len(value)
        self.length = length
        super().__init__(isKey, isLocal, value, keyName)

    def __str__(self) -> str:
        where = "local" if self.isLocal else "remote"
        what = "key" if self.isKey else "value"
        name = f" {self.keyName!r}" if self.keyName is not None else ""
        size = f": {self.length}" if self.length is not None else ""
        return f"{where} {what}{name} too long{size}"


class BadLocalReturn(AmpError):
    """
    A responder returned something its command cannot serialise.

    Attributes:
        message: what went wrong.
        enclosed: the failure raised while serialising.
    """

    def __init__(self, message: str, enclosed: Failure) -> None:
        self.message = message
        self.enclosed = enclosed
        super().__init__(message, enclosed)

    def __str__(self) -> str:
        return f"{self.message} {self.enclosed.getErrorMessage()}"


class RemoteAmpError(AmpError):
    """
    An error answer: the peer's responder failed with an error its command
    declares (or one of AMP's own codes).

    Attributes:
        errorCode: the wire error code.
        description: the peer's description of the error.
        fatal: whether the connection is closed after the error is sent.
        local: when this side raised it, the original failure.
    """

    def __init__(
        self,
        errorCode: bytes,
        description: str | bytes,
        fatal: bool = False,
        local: Failure | None = None,
    ) -> None:
        self.errorCode = errorCode
        self.description = description
        self.fatal = fatal
        self.local = local
        if isinstance(description, bytes):
            description = description.decode("utf-8", "replace")
        origin = " (local)" if local is not None else ""
        code = errorCode.decode("ascii", "replace")
        super().__init__(f"Code<{code}>{origin}: {description}")


class UnknownRemoteError(RemoteAmpError):
    """The peer's responder failed with an error that its command does not declare."""

    def __init__(self, description: str | bytes) -> None:
        super().__init__(UNKNOWN_ERROR_CODE, description)


#: Error codes that AMP itself answers with, and the exception each becomes.
PROTOCOL_ERRORS: dict[bytes, type[AmpError]] = {
    UNHANDLED_ERROR_CODE: UnhandledCommand,
    UNKNOWN_ERROR_CODE: UnknownRemoteError,
}
