"""
The exceptions of fw.internet: binding, connecting, connections ending,
processes ending, and misuse of the reactor and delayed calls.

Most of them render as a fixed message, followed by their arguments when they
have any: ``str(ConnectionDone("peer said bye"))`` is
``"Connection was closed cleanly: peer said bye."``.
"""

from __future__ import annotations

import errno
import socket
from typing import ClassVar

__all__ = [
    "AlreadyCalled",
    "AlreadyCancelled",
    "AlreadyListened",
    "BadFileError",
    "BindError",
    "CannotListenError",
    "CertificateError",
    "ConnectBindError",
    "ConnectError",
    "ConnectInProgressError",
    "ConnectingCancelledError",
    "ConnectionAborted",
    "ConnectionClosed",
    "ConnectionDone",
    "ConnectionFdescWentAway",
    "ConnectionLost",
    "ConnectionRefusedError",
    "DNSLookupError",
    "FileDescriptorOverrun",
    "InvalidAddressError",
    "MessageLengthError",
    "MulticastJoinError",
    "NoProtocol",
    "NoRouteError",
    "NotConnectingError",
    "NotListeningError",
    "PeerVerifyError",
    "ProcessDone",
    "ProcessExitedAlready",
    "ProcessTerminated",
    "ReactorAlreadyInstalledError",
    "ReactorAlreadyRunning",
    "ReactorNotRestartable",
    "ReactorNotRunning",
    "SSLError",
    "ServiceNameUnknownError",
    "TCPTimedOutError",
    "TimeoutError",
    "UnknownHostError",
    "UnsupportedAddressFamily",
    "UnsupportedSocketType",
    "UserError",
    "VerifyError",
    "getConnectError",
]


def _withArgs(message: str, args: tuple[object, ...]) -> str:
    """Render ``message``, then ``: `` and the arguments joined by spaces, then a full stop."""
    if args:
        return f"{message}: {' '.join(str(a) for a in args)}."
    return f"{message}."


class _MessageError(Exception):
    """An exception rendered as its class's ``MESSAGE`` followed by its arguments."""

    MESSAGE: ClassVar[str] = ""

    def __str__(self) -> str:
        return _withArgs(self.MESSAGE, self.args)


# -- binding and listening ---------------------------------------------------


class BindError(_MessageError):
    """Binding a socket to a local address failed."""

    MESSAGE = "An error occurred binding to an interface"


class CannotListenError(BindError):
    """
    A port could not be listened on.

    Attributes:
        interface: the local address that was to be bound (``""`` for any).
        port: the port number (or path, for UNIX sockets).
        socketError: the underlying error.
    """

    def __init__(self, interface: str | None, port: int | str, socketError: BaseException) -> None:
        super().__init__(interface, port, socketError)
        self.interface = interface
        self.port = port
        self.socketError = socketError

    def __str__(self) -> str:
        return f"Couldn't listen on {self.interface or 'any'}:{self.port}: {self.socketError}."


class AlreadyListened(Exception):
    """A listen-once object (such as an adopted port's endpoint) was listened on again."""


class MulticastJoinError(Exception):
    """Joining a multicast group failed."""


class MessageLengthError(_MessageError):
    """A datagram or message was too long to send."""

    MESSAGE = "Message is too long to send"


class DNSLookupError(_MessageError, OSError):
    """A host name could not be resolved."""

    MESSAGE = "DNS lookup failed"


class ConnectInProgressError(Exception):
    """A non-blocking connect was still in progress when it was checked."""


# -- connecting --------------------------------------------------------------


class ConnectError(Exception):
    """
    An outgoing connection could not be made.

    Attributes:
        osError: the operating system's error number or error, when there is one.
    """

    MESSAGE: ClassVar[str] = "An error occurred while connecting"

    def __init__(self, osError: object = None, string: object = "") -> None:
        super().__init__(string)
        self.osError = osError

    def __str__(self) -> str:
        text = self.MESSAGE
        if self.osError:
            text = f"{text}: {self.osError}"
        if self.args and self.args[0]:
            text = f"{text}: {self.args[0]}"
        return f"{text}."


class ConnectBindError(ConnectError):
    """The local address of an outgoing connection could not be bound."""

    MESSAGE = "Couldn't bind"


class UnknownHostError(ConnectError):
    """The host name of an outgoing connection could not be resolved."""

    MESSAGE = "Hostname couldn't be looked up"


class NoRouteError(ConnectError):
    """There is no route to the host (``ENETUNREACH``)."""

    MESSAGE = "No route to host"


class ConnectionRefusedError(ConnectError):
    """The peer refused the connection (``ECONNREFUSED``)."""

    MESSAGE = "Connection was refused by other side"


class TCPTimedOutError(ConnectError):
    """The operating system gave up connecting (``ETIMEDOUT``)."""

    MESSAGE = "TCP connection timed out"


class BadFileError(ConnectError):
    """The path given for a UNIX socket is unusable."""

    MESSAGE = "File used for UNIX socket is no good"


class ServiceNameUnknownError(ConnectError):
    """A service name given in place of a port number is unknown."""

    MESSAGE = "Service name given as port is unknown"


class UserError(ConnectError):
    """The connection attempt was abandoned by this side."""

    MESSAGE = "User aborted connection"


class TimeoutError(UserError):
    """The connection attempt took longer than its timeout."""

    MESSAGE = "User timeout caused connection failure"


class SSLError(ConnectError):
    """A TLS error happened while connecting."""

    MESSAGE = "An SSL error occurred"


class VerifyError(Exception):
    """Something that was supposed to be signed could not be verified."""

    MESSAGE: ClassVar[str] = "Could not verify something that was supposed to be signed."


class PeerVerifyError(VerifyError):
    """The peer rejected this side's verification."""

    MESSAGE = "The peer rejected our verify error."


class CertificateError(Exception):
    """No certificate was found where one was expected."""

    MESSAGE: ClassVar[str] = "We did not find a certificate where we expected to find one."


_ERRNO_ERRORS: dict[int, type[ConnectError]] = {
    errno.ENETUNREACH: NoRouteError,
    errno.ECONNREFUSED: ConnectionRefusedError,
    errno.ETIMEDOUT: TCPTimedOutError,
}


def getConnectError(e: BaseException | tuple[object, ...]) -> ConnectError:
    """
    Translate an operating-system error raised while connecting into the
    matching :class:`ConnectError`.

    Args:
        e: the exception (or an ``(errno, message)`` tuple).  Its errno picks
            the class: ``ECONNREFUSED`` gives :class:`ConnectionRefusedError`,
            ``ENETUNREACH`` :class:`NoRouteError`, ``ETIMEDOUT``
            :class:`TCPTimedOutError`; a ``socket.gaierror`` gives
            :class:`UnknownHostError`.

    Returns:
        The error, with ``osError`` set to the errno and its argument the
        message; a plain :class:`ConnectError` wrapping ``e`` when ``e`` is
        not an ``(errno, message)`` pair.
    """
    args = e.args if isinstance(e, BaseException) else e
    if len(args) != 2:
        return ConnectError(string=e)
    number, message = args
    if isinstance(e, socket.gaierror):
        return UnknownHostError(number, message)
    klass = _ERRNO_ERRORS.get(number, ConnectError) if isinstance(number, int) else ConnectError
    return klass(number, message)


# -- connections ending ------------------------------------------------------


class ConnectionClosed(Exception):
    """The base of the reasons a connection ends, clean or not."""


class ConnectionLost(ConnectionClosed):
    """The connection was closed in a non-clean fashion."""

    MESSAGE: ClassVar[str] = "Connection to the other side was lost in a non-clean fashion"

    def __str__(self) -> str:
        return _withArgs(self.MESSAGE, self.args)


class ConnectionAborted(ConnectionLost):
    """The connection was closed by ``abortConnection`` on this side."""

    MESSAGE = "Connection was aborted locally using ITCPTransport.abortConnection"


class ConnectionDone(ConnectionClosed):
    """The connection was closed cleanly."""

    MESSAGE: ClassVar[str] = "Connection was closed cleanly"

    def __str__(self) -> str:
        return _withArgs(self.MESSAGE, self.args)


class FileDescriptorOverrun(ConnectionLost):
    """
    The connection was closed because more file descriptors were sent with
    ``sendFileDescriptor`` than bytes were written to carry them.
    """

    MESSAGE = "A mis-use of IUNIXTransport.sendFileDescriptor caused the connection to be closed"


class ConnectionFdescWentAway(ConnectionLost):
    """The file descriptor of the connection was closed behind the reactor's back."""

    MESSAGE = "Uh"


# -- delayed calls -----------------------------------------------------------


class AlreadyCalled(_MessageError, ValueError):
    """A delayed call that has already run was cancelled or rescheduled."""

    MESSAGE = "Tried to cancel an already-called event"


class AlreadyCancelled(_MessageError, ValueError):
    """A delayed call that was cancelled was cancelled or rescheduled again."""

    MESSAGE = "Tried to cancel an already-cancelled event"


# -- processes ---------------------------------------------------------------


class ProcessDone(ConnectionDone):
    """
    A child process exited with status 0.

    Attributes:
        exitCode: always ``0``.
        signal: always ``None``.
        status: the raw wait status.
    """

    MESSAGE = "A process has ended without apparent errors"

    def __init__(self, status: int | None) -> None:
        super().__init__("process finished with exit code 0")
        self.exitCode: int | None = 0
        self.signal: int | None = None
        self.status = status


class ProcessTerminated(ConnectionLost):
    """
    A child process exited with a non-zero status or was killed by a signal.

    Attributes:
        exitCode: the exit code, or ``None`` when a signal ended the process.
        signal: the signal number, or ``None`` when the process exited.
        status: the raw wait status (see ``os.waitstatus_to_exitcode``).
    """

    MESSAGE = "A process has ended with a probable error condition"

    def __init__(
        self, exitCode: int | None = None, signal: int | None = None, status: int | None = None
    ) -> None:
        detail = "process ended"
        if exitCode is not None:
            detail += f" with exit code {exitCode}"
        if signal is not None:
            detail += f" by signal {signal}"
        super().__init__(detail)
        self.exitCode = exitCode
        self.signal = signal
        self.status = status


class ProcessExitedAlready(Exception):
    """An operation needed a running child process, and it had already exited."""


# -- misuse ------------------------------------------------------------------


class NotConnectingError(_MessageError, RuntimeError):
    """``stopConnecting`` was called on a connector that was not connecting."""

    MESSAGE = "The Connector was not connecting when it was asked to stop connecting"


class NotListeningError(_MessageError, RuntimeError):
    """``stopListening`` was called on a port that was not listening."""

    MESSAGE = "The Port was not listening when it was asked to stop listening"


class ReactorNotRunning(RuntimeError):
    """The reactor was asked to stop while it was not running."""


class ReactorNotRestartable(RuntimeError):
    """The reactor was asked to run again after it had stopped."""


class ReactorAlreadyRunning(RuntimeError):
    """The reactor was asked to run while it was already running."""


class ReactorAlreadyInstalledError(AssertionError):
    """A reactor was installed after one had already been installed."""


class ConnectingCancelledError(Exception):
    """
    A connection attempt made through an endpoint was cancelled before it
    connected.

    Attributes:
        address: the address the cancelled attempt was connecting to.
    """

    def __init__(self, address: object) -> None:
        super().__init__(address)
        self.address = address


class NoProtocol(Exception):
    """An endpoint's factory returned ``None`` from ``buildProtocol``."""


class UnsupportedAddressFamily(Exception):
    """The reactor does not handle sockets of the given address family."""


class UnsupportedSocketType(Exception):
    """The reactor does not handle sockets of the given type."""


class InvalidAddressError(ValueError):
    """
    An address was not of the expected form (for example, an IPv4 address
    where an IPv6 one was needed).

    Attributes:
        address: the offending address.
        message: what was wrong with it.
    """

    def __init__(self, address: object, message: str) -> None:
        super().__init__(address, message)
        self.address = address
        self.message = message
