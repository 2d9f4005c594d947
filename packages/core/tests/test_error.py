"""Tests for fw.internet.error."""

from __future__ import annotations

import builtins
import errno
import socket

import pytest

from fw.internet import error


def test_public_names() -> None:
    assert sorted(error.__all__) == error.__all__
    for name in error.__all__:
        obj = getattr(error, name)
        assert obj.__doc__, name
        assert obj.__module__ == "fw.internet.error"


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (error.BindError(), "An error occurred binding to an interface."),
        (error.BindError("a", "b"), "An error occurred binding to an interface: a b."),
        (error.MessageLengthError(), "Message is too long to send."),
        (error.DNSLookupError("example.com"), "DNS lookup failed: example.com."),
        (error.ConnectError(), "An error occurred while connecting."),
        (error.ConnectError(string="x"), "An error occurred while connecting: x."),
        (error.ConnectError(111, "refused"), "An error occurred while connecting: 111: refused."),
        (error.ConnectBindError(), "Couldn't bind."),
        (error.UnknownHostError(), "Hostname couldn't be looked up."),
        (error.NoRouteError(), "No route to host."),
        (error.ConnectionRefusedError(), "Connection was refused by other side."),
        (error.TCPTimedOutError(), "TCP connection timed out."),
        (error.BadFileError(), "File used for UNIX socket is no good."),
        (error.ServiceNameUnknownError(), "Service name given as port is unknown."),
        (error.UserError(), "User aborted connection."),
        (error.TimeoutError(), "User timeout caused connection failure."),
        (error.SSLError(), "An SSL error occurred."),
        (
            error.ConnectionLost(),
            "Connection to the other side was lost in a non-clean fashion.",
        ),
        (
            error.ConnectionLost("reset"),
            "Connection to the other side was lost in a non-clean fashion: reset.",
        ),
        (
            error.ConnectionAborted(),
            "Connection was aborted locally using ITCPTransport.abortConnection.",
        ),
        (error.ConnectionDone(), "Connection was closed cleanly."),
        (error.ConnectionDone("Bye."), "Connection was closed cleanly: Bye.."),
        (error.AlreadyCalled(), "Tried to cancel an already-called event."),
        (error.AlreadyCancelled(), "Tried to cancel an already-cancelled event."),
        (
            error.NotConnectingError(),
            "The Connector was not connecting when it was asked to stop connecting.",
        ),
        (
            error.NotListeningError(),
            "The Port was not listening when it was asked to stop listening.",
        ),
        (
            error.ProcessDone(0),
            "A process has ended without apparent errors: process finished with exit code 0.",
        ),
        (
            error.ProcessTerminated(1),
            "A process has ended with a probable error condition: process ended with exit code 1.",
        ),
        (
            error.ProcessTerminated(None, 9),
            "A process has ended with a probable error condition: process ended by signal 9.",
        ),
    ],
)
def test_messages(exc: Exception, text: str) -> None:
    assert str(exc) == text


def test_cannot_listen() -> None:
    cause = OSError(errno.EADDRINUSE, "Address already in use")
    e = error.CannotListenError("", 80, cause)
    assert (e.interface, e.port, e.socketError) == ("", 80, cause)
    assert str(e) == "Couldn't listen on any:80: [Errno 98] Address already in use."
    assert str(error.CannotListenError("127.0.0.1", 0, cause)).startswith(
        "Couldn't listen on 127.0.0.1:0:"
    )
    assert isinstance(e, error.BindError)


def test_hierarchy() -> None:
    for klass in (
        error.ConnectBindError,
        error.UnknownHostError,
        error.NoRouteError,
        error.ConnectionRefusedError,
        error.TCPTimedOutError,
        error.BadFileError,
        error.ServiceNameUnknownError,
        error.UserError,
        error.TimeoutError,
        error.SSLError,
    ):
        assert issubclass(klass, error.ConnectError)
    assert issubclass(error.TimeoutError, error.UserError)
    assert issubclass(error.ConnectionLost, error.ConnectionClosed)
    assert issubclass(error.ConnectionDone, error.ConnectionClosed)
    assert issubclass(error.ConnectionAborted, error.ConnectionLost)
    assert issubclass(error.ConnectionFdescWentAway, error.ConnectionLost)
    assert issubclass(error.FileDescriptorOverrun, error.ConnectionLost)
    assert issubclass(error.ProcessDone, error.ConnectionDone)
    assert issubclass(error.ProcessTerminated, error.ConnectionLost)
    assert issubclass(error.AlreadyCalled, ValueError)
    assert issubclass(error.AlreadyCancelled, ValueError)
    assert issubclass(error.DNSLookupError, OSError)
    assert issubclass(error.NotConnectingError, RuntimeError)
    assert issubclass(error.NotListeningError, RuntimeError)
    assert issubclass(error.ReactorNotRunning, RuntimeError)
    assert issubclass(error.ReactorAlreadyRunning, RuntimeError)
    assert issubclass(error.ReactorNotRestartable, RuntimeError)
    assert issubclass(error.ReactorAlreadyInstalledError, AssertionError)
    assert issubclass(error.InvalidAddressError, ValueError)
    assert issubclass(error.PeerVerifyError, error.VerifyError)
    # fw's TimeoutError and ConnectionRefusedError are not the builtins.
    assert not issubclass(error.TimeoutError, builtins.TimeoutError)
    assert not issubclass(error.ConnectionRefusedError, builtins.ConnectionRefusedError)


def test_process_errors_attributes() -> None:
    done = error.ProcessDone(0)
    assert (done.exitCode, done.signal, done.status) == (0, None, 0)
    term = error.ProcessTerminated(exitCode=3, status=768)
    assert (term.exitCode, term.signal, term.status) == (3, None, 768)
    killed = error.ProcessTerminated(signal=15, status=15)
    assert (killed.exitCode, killed.signal) == (None, 15)
    assert str(error.ProcessTerminated()).endswith("process ended.")


def test_connect_error_attributes() -> None:
    e = error.ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert e.osError == errno.ECONNREFUSED
    assert e.args == ("refused",)


@pytest.mark.parametrize(
    ("number", "klass"),
    [
        (errno.ECONNREFUSED, error.ConnectionRefusedError),
        (errno.ENETUNREACH, error.NoRouteError),
        (errno.ETIMEDOUT, error.TCPTimedOutError),
        (errno.EACCES, error.ConnectError),
    ],
)
def test_get_connect_error_by_errno(number: int, klass: type[error.ConnectError]) -> None:
    for given in (OSError(number, "text"), (number, "text")):
        e = error.getConnectError(given)
        assert type(e) is klass
        assert e.osError == number
        assert e.args == ("text",)


def test_get_connect_error_gaierror() -> None:
    e = error.getConnectError(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    assert type(e) is error.UnknownHostError
    assert e.osError == socket.EAI_NONAME
    assert str(e).startswith("Hostname couldn't be looked up:")


def test_get_connect_error_other() -> None:
    cause = ValueError("bad")
    e = error.getConnectError(cause)
    assert type(e) is error.ConnectError
    assert e.osError is None
    assert e.args == (cause,)
    assert str(e) == "An error occurred while connecting: bad."


def test_misc_constructors() -> None:
    c = error.ConnectingCancelledError("addr")
    assert c.address == "addr"
    assert c.args == ("addr",)
    i = error.InvalidAddressError("::1", "not IPv4")
    assert (i.address, i.message) == ("::1", "not IPv4")
    assert i.args == ("::1", "not IPv4")
