"""AMP connections in memory: calls, answers, errors, locators, switching, StartTLS, peers."""

# Commands declare their arguments as Twisted's do, in class-level lists.
# ruff: noqa: RUF012

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error
from fw.internet.defer import Deferred, succeed
from fw.internet.protocol import Factory, Protocol, connectionDone
from fw.internet.testing import (
    EventLoggingObserver,
    IOPump,
    StringTransport,
    connectedServerAndClient,
)
from fw.logger import globalLogPublisher
from fw.protocols import amp
from fw.python.failure import Failure


class Outcome:
    """
    Holds what a Deferred fires with.  Attach it before the answer arrives:
    as in Twisted, an error answer nobody handles on arrival drops the
    connection.
    """

    def __init__(self, d: Deferred[Any] | None) -> None:
        assert d is not None
        self.results: list[Any] = []
        d.addBoth(self.results.append)

    def value(self) -> Any:
        assert self.results, "no result yet"
        result = self.results[0]
        if isinstance(result, Failure):
            result.raiseException()
        return result

    def failure(self, *types: type[BaseException]) -> Failure:
        assert self.results, "no result yet"
        result = self.results[0]
        assert isinstance(result, Failure), f"succeeded with {result!r}"
        if types:
            assert result.check(*types), f"{result!r} is none of {types}"
        return result

    def pending(self) -> bool:
        return not self.results


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, f"{d!r} has no result"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def failureResultOf(d: Deferred[Any], *types: type[BaseException]) -> Failure:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, f"{d!r} has no result"
    failure = results[0]
    assert isinstance(failure, Failure), f"{d!r} succeeded with {failure!r}"
    if types:
        assert failure.check(*types), f"{failure!r} is none of {types}"
    d.addErrback(lambda _: None)
    return failure


def assertNoResult(d: Deferred[Any]) -> None:
    results: list[Any] = []

    def keep(result: Any) -> Any:
        results.append(result)
        return result

    d.addBoth(keep)
    assert not results, f"{d!r} has a result: {results!r}"


@pytest.fixture
def logged() -> Iterator[EventLoggingObserver]:
    observer = EventLoggingObserver()
    globalLogPublisher.addObserver(observer)
    yield observer
    globalLogPublisher.removeObserver(observer)


# -- commands and protocols -----------------------------------------------------


class SumResult(TypedDict):
    total: int


class Sum(amp.Command[SumResult]):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Divide(amp.Command):
    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}


class Denied(Exception):
    pass


class Fatal(amp.Command):
    fatalErrors = {Denied: b"DENIED"}


class Boom(amp.Command):
    pass


class BadReturn(amp.Command):
    response = [(b"n", amp.Integer())]


class Missing(amp.Command):
    pass


class Note(amp.Command):
    arguments = [(b"text", amp.Unicode())]
    requiresAnswer = False


class Wait(amp.Command):
    response = [(b"value", amp.Integer())]


class Async(amp.Command):
    arguments = [(b"n", amp.Integer())]
    response = [(b"doubled", amp.Integer())]


class Keyword(amp.Command):
    arguments = [(b"from", amp.Unicode())]
    response = [(b"to", amp.Unicode())]


class Switch(amp.ProtocolSwitchCommand):
    arguments = [(b"name", amp.Unicode())]
    errors = {ValueError: b"NO"}


class Recorder(Protocol):
    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.made = False
        self.lost: Failure | None = None

    def connectionMade(self) -> None:
        self.made = True

    def dataReceived(self, data: bytes) -> None:
        self.data.append(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = reason


class Calculator(amp.AMP):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []
        self.waiting: Deferred[dict[str, int]] | None = None
        self.lostReason: Failure | None = None
        self.switchedTo: Recorder | None = None
        self.closed: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lostReason = reason
        super().connectionLost(reason)
        self.closed.callback(None)

    @Sum.responder
    def sum(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b}

    @Divide.responder
    def divide(self, numerator: int, denominator: int) -> dict[str, float]:
        return {"result": numerator / denominator}

    @Fatal.responder
    def fatal(self) -> dict[str, Any]:
        raise Denied("go away")

    @Boom.responder
    def boom(self) -> dict[str, Any]:
        raise RuntimeError("undeclared")

    @BadReturn.responder
    def badReturn(self) -> dict[str, Any]:
        return {"n": "not a number"}

    @Note.responder
    def note(self, text: str) -> dict[str, Any]:
        self.notes.append(text)
        return {}

    @Wait.responder
    def wait(self) -> Deferred[dict[str, int]]:
        self.waiting = Deferred()
        return self.waiting

    @Async.responder
    async def doubled(self, n: int) -> dict[str, int]:
        total = await self.callRemote(Sum, a=n, b=n)
        return {"doubled": total["total"]}

    @Keyword.responder
    def keyword(self, From: str) -> dict[str, str]:
        return {"to": From.upper()}

    @Switch.responder
    def switch(self, name: str) -> Recorder:
        if name == "no":
            raise ValueError("refused")
        self.switchedTo = Recorder()
        return self.switchedTo

    def amp_PING(self, box: amp.AmpBox) -> amp.AmpBox:
        return amp.AmpBox(pong=box[b"ping"])


def connected(
    server: Any = Calculator, client: Any = Calculator
) -> tuple[Calculator, Calculator, IOPump]:
    c, s, pump = connectedServerAndClient(server, client)
    return c, s, pump


# -- calls and answers -------------------------------------------------------------


def test_interfaces() -> None:
    proto = Calculator()
    assert verifyObject(amp.IBoxSender, proto)
    assert verifyObject(amp.IBoxReceiver, proto)
    assert verifyObject(amp.IResponderLocator, proto)
    assert verifyObject(amp.IArgumentType, amp.Integer())


def test_callRemote() -> None:
    client, _, pump = connected()
    d = client.callRemote(Sum, a=13, b=81)
    pump.flush()
    result = successResultOf(d)
    assert result == {"total": 94}


def test_callRemoteBothWays() -> None:
    client, server, pump = connected()
    d1 = client.callRemote(Sum, a=1, b=2)
    d2 = server.callRemote(Sum, a=3, b=4)
    pump.flush()
    assert successResultOf(d1) == {"total": 3}
    assert successResultOf(d2) == {"total": 7}


def test_wireFormatOfCall() -> None:
    """The command box carries _command, _ask and the arguments, as Twisted writes it."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.callRemote(Sum, a=3, b=4)
    assert transport.value() == (
        b"\x00\x04_ask\x00\x011\x00\x08_command\x00\x03Sum"
        b"\x00\x01a\x00\x013\x00\x01b\x00\x014\x00\x00"
    )


def test_declaredError() -> None:
    """A declared error reaches the caller as the same class; the connection stays up."""
    client, _, pump = connected()
    d = Outcome(client.callRemote(Divide, numerator=1, denominator=0))
    pump.flush()
    failure = d.failure(ZeroDivisionError)
    assert str(failure.value) == "division by zero"
    d = client.callRemote(Divide, numerator=1, denominator=4)
    pump.flush()
    assert successResultOf(d) == {"result": 0.25}


def test_declaredErrorOnWire() -> None:
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(
        amp.AmpBox(_command=b"Divide", _ask=b"7", numerator=b"1", denominator=b"0").serialize()
    )
    assert amp.parseString(transport.value()) == [
        {
            b"_error": b"7",
            b"_error_code": b"ZERO_DIVISION",
            b"_error_description": b"division by zero",
        }
    ]
    assert not transport.disconnecting


def test_fatalError() -> None:
    """A fatal error is sent, then the connection closes."""
    client, server, pump = connected()
    d = Outcome(client.callRemote(Fatal))
    pump.flush()
    d.failure(Denied)
    assert server.lostReason is not None
    assert client.lostReason is not None


def test_undeclaredError(logged: EventLoggingObserver) -> None:
    """An undeclared error is logged, answered UNKNOWN, and the connection closes."""
    client, _, pump = connected()
    other = Outcome(client.callRemote(Wait))
    d = Outcome(client.callRemote(Boom))
    pump.flush()
    failure = d.failure(amp.UnknownRemoteError)
    assert "Unknown Error" in str(failure.value)
    other.failure(error.ConnectionDone, error.ConnectionLost)
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert any(f.check(RuntimeError) for f in failures)


def test_badLocalReturn(logged: EventLoggingObserver) -> None:
    client, _, pump = connected()
    d = Outcome(client.callRemote(BadReturn))
    pump.flush()
    d.failure(amp.UnknownRemoteError)
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert any(f.check(amp.BadLocalReturn) for f in failures)


def test_unhandledCommand() -> None:
    client, _, pump = connected()
    d = Outcome(client.callRemote(Missing))
    pump.flush()
    failure = d.failure(amp.UnhandledCommand)
    assert "Unhandled Command: b'Missing'" in str(failure.value)
    d = client.callRemote(Sum, a=1, b=1)
    pump.flush()
    assert successResultOf(d) == {"total": 2}


def test_unknownErrorCodeFromPeer() -> None:
    """An error code the command does not declare becomes UnknownRemoteError."""
    proto = Calculator()
    proto.makeConnection(StringTransport())
    d = Outcome(proto.callRemote(Divide, numerator=1, denominator=2))
    proto.dataReceived(
        amp.AmpBox(_error=b"1", _error_code=b"WHAT", _error_description=b"zzz").serialize()
    )
    failure = d.failure(amp.UnknownRemoteError)
    assert str(failure.value) == "Code<UNKNOWN>: zzz"


def test_noAnswerCommand() -> None:
    client, server, pump = connected()
    result = client.callRemote(Note, text="hello")
    assert result is None
    pump.flush()
    assert server.notes == ["hello"]
    # Nothing came back.
    assert pump.clientIO.getOutBuffer() in (None, b"")


def test_deferredResponder() -> None:
    client, server, pump = connected()
    d = client.callRemote(Wait)
    pump.flush()
    assertNoResult(d)
    assert server.waiting is not None
    server.waiting.callback({"value": 5})
    pump.flush()
    assert successResultOf(d) == {"value": 5}


def test_asyncResponder() -> None:
    """An ``async def`` responder may itself call the peer and await the answer."""
    client, _, pump = connected()
    d = client.callRemote(Async, n=21)
    pump.flush()
    assert successResultOf(d) == {"doubled": 42}


def test_keywordArgumentName() -> None:
    client, _, pump = connected()
    d = client.callRemote(Keyword, From="x")
    pump.flush()
    assert successResultOf(d) == {"to": "X"}


def test_callRemoteString() -> None:
    client, server, pump = connected()
    d = client.callRemoteString(b"Sum", a=b"2", b=b"3")
    assert d is not None
    pump.flush()
    assert successResultOf(d) == {b"_answer": b"1", b"total": b"5"}
    assert client.callRemoteString(b"Note", requiresAnswer=False, text=b"x") is None
    pump.flush()
    assert server.notes == ["x"]


def test_simpleStringLocator() -> None:
    client, _, pump = connected()
    d = client.callRemoteString(b"ping", ping=b"x")
    assert d is not None
    pump.flush()
    assert successResultOf(d)[b"pong"] == b"x"


def test_invalidSignature() -> None:
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    failureResultOf(proto.callRemote(Sum, a=1), amp.InvalidSignature)
    failureResultOf(proto.callRemote(Sum, a=1, b=2, c=3), amp.InvalidSignature)
    failureResultOf(proto.callRemote(Sum, a="x", b=2), TypeError)
    assert transport.value() == b""


def test_responderInheritance() -> None:
    class Doubling(Calculator):
        @Sum.responder
        def sum2(self, a: int, b: int) -> dict[str, int]:
            return {"total": 2 * (a + b)}

    client, _, pump = connected(server=Doubling)
    d1 = client.callRemote(Sum, a=1, b=2)
    d2 = client.callRemote(Divide, numerator=1, denominator=2)
    pump.flush()
    assert successResultOf(d1) == {"total": 6}
    assert successResultOf(d2) == {"result": 0.5}


def test_separateLocator() -> None:
    """An AMP may take its responders from another locator."""

    class Locator(amp.CommandLocator):
        @Sum.responder
        def sum(self, a: int, b: int) -> dict[str, int]:
            return {"total": a * b}

    client, _, pump = connected(server=lambda: amp.AMP(locator=Locator()))
    d = client.callRemote(Sum, a=3, b=4)
    pump.flush()
    assert successResultOf(d) == {"total": 12}


def test_subclassWithoutInit() -> None:
    """A subclass whose __init__ skips AMP's is set up when it connects."""

    class Lazy(amp.AMP):
        def __init__(self) -> None:
            pass

        @Sum.responder
        def sum(self, a: int, b: int) -> dict[str, int]:
            return {"total": a + b}

    client, _, pump = connected(server=Lazy)
    d = client.callRemote(Sum, a=1, b=1)
    pump.flush()
    assert successResultOf(d) == {"total": 2}


@implementer(amp.IBoxSender)
class ListSender:
    def __init__(self) -> None:
        self.boxes: list[amp.AmpBox] = []
        self.errors: list[Failure] = []

    def sendBox(self, box: amp.AmpBox) -> None:
        self.boxes.append(box)

    def unhandledError(self, failure: Failure) -> None:
        self.errors.append(failure)


def test_boxDispatcherWithoutTransport() -> None:
    """BoxDispatcher needs only an IBoxSender: no transport, no bytes."""
    locator = Calculator()
    dispatcher = amp.BoxDispatcher(locator)
    sender = ListSender()
    dispatcher.startReceivingBoxes(sender)
    dispatcher.ampBoxReceived(amp.AmpBox(_command=b"Sum", _ask=b"a", a=b"1", b=b"2"))
    assert sender.boxes == [{b"_answer": b"a", b"total": b"3"}]
    d = dispatcher.callRemote(Sum, a=1, b=1)
    tag = sender.boxes[-1][b"_ask"]
    dispatcher.ampBoxReceived(amp.AmpBox(_answer=tag, total=b"2"))
    assert successResultOf(d) == {"total": 2}


def test_unhandledFailureDropsConnection(logged: EventLoggingObserver) -> None:
    """An error answer nobody handles by the time it arrives is logged and drops the connection."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.callRemote(Divide, numerator=1, denominator=0)  # no errback
    proto.dataReceived(
        amp.AmpBox(_error=b"1", _error_code=b"ZERO_DIVISION", _error_description=b"x").serialize()
    )
    assert transport.disconnecting
    assert any("unhandled by client application" in e.get("log_format", "") for e in logged)


# -- connection loss ---------------------------------------------------------------


def test_connectionLostFailsPendingCalls() -> None:
    proto = Calculator()
    proto.makeConnection(StringTransport())
    d = proto.callRemote(Sum, a=1, b=2)
    reason = Failure(error.ConnectionLost("gone"))
    proto.connectionLost(reason)
    assert failureResultOf(d, error.ConnectionLost).value is reason.value
    later = proto.callRemote(Sum, a=1, b=2)
    assert failureResultOf(later, error.ConnectionLost).value is reason.value
    assert proto.callRemote(Note, text="x") is None


def test_truncatedBoxAtConnectionLost() -> None:
    """A box cut short by the end of the connection is dropped quietly."""
    proto = Calculator()
    proto.makeConnection(StringTransport())
    d = proto.callRemote(Sum, a=1, b=2)
    proto.dataReceived(amp.AmpBox(_answer=b"1", total=b"3").serialize()[:-3])
    assertNoResult(d)
    proto.connectionLost(Failure(error.ConnectionDone()))
    failureResultOf(d, error.ConnectionDone)


# -- hostile peers -------------------------------------------------------------------


def hostile(data: bytes, **attributes: Any) -> tuple[Calculator, StringTransport, Deferred[Any]]:
    proto = Calculator()
    for name, value in attributes.items():
        setattr(proto, name, value)
    transport = StringTransport()
    proto.makeConnection(transport)
    d = proto.callRemote(Sum, a=1, b=2)
    transport.clear()
    proto.dataReceived(data)
    assert transport.disconnecting
    proto.connectionLost(Failure(error.ConnectionDone()))
    return proto, transport, d


def test_peerKeyTooLong() -> None:
    _, _, d = hostile(b"\x01\x00" + b"k" * 256)
    failure = failureResultOf(d, amp.TooLong)
    assert failure.value.isKey  # type: ignore[union-attr]
    assert not failure.value.isLocal  # type: ignore[union-attr]


def test_peerKeyTooLongByteAtATime() -> None:
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    for byte in b"\x01\x00kkkk":
        proto.dataReceived(bytes([byte]))
    assert transport.disconnecting


def test_peerBoxTooLong() -> None:
    value = b"v" * 1000
    data = amp.AmpBox(_answer=b"1", a=value, b=value).serialize()
    _, _, d = hostile(data, _parser=amp.BoxParser(maxBoxLength=1500))
    failureResultOf(d, amp.TooLong)


def test_peerEmptyBox() -> None:
    _, _, d = hostile(amp.AmpBox(x=b"1").serialize())
    failureResultOf(d, amp.NoEmptyBoxes)


def test_peerAnswersUnknownTag() -> None:
    _, _, d = hostile(amp.AmpBox(_answer=b"99").serialize())
    failureResultOf(d, amp.MalformedAmpBox)


def test_peerErrorWithoutCode() -> None:
    _, _, d = hostile(amp.AmpBox(_error=b"1").serialize())
    failureResultOf(d, amp.MalformedAmpBox)


def test_boxesAfterViolationIgnored() -> None:
    """Once the peer broke the protocol, nothing more it sends is acted on."""
    good = amp.AmpBox(_command=b"Note", text=b"x").serialize()
    proto, _, d = hostile(amp.AmpBox(x=b"1").serialize() + good)
    proto.dataReceived(good)
    assert proto.notes == []
    failureResultOf(d, amp.NoEmptyBoxes)


def test_commandWithBadArguments(logged: EventLoggingObserver) -> None:
    """Arguments that do not parse: an UNKNOWN error answer, then the connection closes."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(amp.AmpBox(_command=b"Sum", _ask=b"1", a=b"x", b=b"1").serialize())
    assert amp.parseString(transport.value()) == [
        {b"_error": b"1", b"_error_code": b"UNKNOWN", b"_error_description": b"Unknown Error"}
    ]
    assert transport.disconnecting


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_conversationInPieces(chunk: int) -> None:
    """Boxes split anywhere make the same conversation."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    data = b"".join(
        amp.AmpBox(_command=b"Sum", _ask=b"%d" % i, a=b"%d" % i, b=b"1").serialize()
        for i in range(5)
    )
    for i in range(0, len(data), chunk):
        proto.dataReceived(data[i : i + chunk])
    answers = amp.parseString(transport.value())
    assert [a[b"total"] for a in answers] == [b"1", b"2", b"3", b"4", b"5"]


# -- protocol switching -----------------------------------------------------------------


class RecorderFactory(Factory):
    def __init__(self) -> None:
        self.built: list[Recorder] = []
        self.lost: list[Failure] = []
        self.failed: list[Failure] = []

    def buildProtocol(self, addr: Any) -> Recorder:
        p = Recorder()
        self.built.append(p)
        return p

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        self.lost.append(reason)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.failed.append(reason)


def test_protocolSwitch() -> None:
    client, server, pump = connected()
    factory = RecorderFactory()
    d = client.callRemote(Switch, factory, name="raw")
    # Until the answer, the caller sends no more boxes.
    Outcome(client.callRemote(Sum, a=1, b=2)).failure(amp.ProtocolSwitched)
    pump.flush()
    assert successResultOf(d) == {}
    inner = factory.built[0]
    assert inner.made
    assert server.switchedTo is not None
    assert server.switchedTo.made
    assert client.innerProtocol is inner
    assert client.transport is not None
    assert server.transport is not None
    client.transport.write(b"to the server")
    server.transport.write(b"to the client")
    pump.flush()
    assert b"".join(server.switchedTo.data) == b"to the server"
    assert b"".join(inner.data) == b"to the client"
    with pytest.raises(amp.ProtocolSwitched):
        server.sendBox(amp.AmpBox(x=b"1"))
    client.transport.loseConnection()
    pump.flush()
    assert inner.lost is not None
    assert server.switchedTo.lost is not None
    assert len(factory.lost) == 1


def test_protocolSwitchBytesInSamePacket() -> None:
    """Bytes right after the answer box, in the same read, go to the new protocol."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    factory = RecorderFactory()
    d = proto.callRemote(Switch, factory, name="raw")
    proto.dataReceived(amp.AmpBox(_answer=b"1").serialize() + b"first bytes")
    proto.dataReceived(b", more")
    successResultOf(d)
    assert b"".join(factory.built[0].data) == b"first bytes, more"


def test_protocolSwitchRefused() -> None:
    client, _, pump = connected()
    factory = RecorderFactory()
    d = Outcome(client.callRemote(Switch, factory, name="no"))
    pump.flush()
    d.failure(ValueError)
    assert len(factory.failed) == 1
    assert not factory.built
    d = client.callRemote(Sum, a=1, b=2)
    pump.flush()
    assert successResultOf(d) == {"total": 3}


# -- StartTLS ------------------------------------------------------------------------------


class FakeTLSTransport(StringTransport):
    """Records writes and startTLS calls, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any]] = []

    def write(self, data: bytes) -> None:
        super().write(data)
        self.events.append(("write", data))

    def startTLS(self, contextFactory: Any) -> None:
        self.events.append(("startTLS", contextFactory))

    def getPeerCertificate(self) -> str:
        return "peer certificate"


class FakeCertificate:
    def __init__(self, name: str) -> None:
        self.name = name

    def options(self, *authorities: Any) -> tuple[str, tuple[Any, ...]]:
        return (self.name, authorities)


class TLSServer(Calculator):
    @amp.StartTLS.responder
    def startTLS(self) -> dict[str, Any]:
        return {"tls_localCertificate": FakeCertificate("server"), "tls_verifyAuthorities": ["ca"]}


def test_startTLS() -> None:
    """Both sides start TLS once the answer is sent (in the clear); boxes wait meanwhile."""
    client, server = Calculator(), TLSServer()
    clientIO, serverIO = FakeTLSTransport(), FakeTLSTransport()
    client.makeConnection(clientIO)
    server.makeConnection(serverIO)
    cert = FakeCertificate("client")
    d = client.callRemote(amp.StartTLS, tls_localCertificate=cert, tls_verifyAuthorities=["root"])
    held = client.callRemote(Sum, a=1, b=2)
    # Only the StartTLS box went out; it carries no local arguments.
    [(_, request)] = clientIO.events
    assert amp.parseString(request) == [{b"_command": b"StartTLS", b"_ask": b"1"}]

    server.dataReceived(request)
    (kind1, answer), (kind2, serverOptions) = serverIO.events
    assert (kind1, kind2) == ("write", "startTLS")
    assert amp.parseString(answer) == [{b"_answer": b"1"}]
    assert serverOptions == ("server", ("ca",))
    assert server.hostCertificate is not None
    assert server.peerCertificate == "peer certificate"

    client.dataReceived(answer)
    assert successResultOf(d) == {}
    assert clientIO.events[1] == ("startTLS", ("client", ("root",)))
    assert clientIO.events[2][0] == "write"
    assert amp.parseString(clientIO.events[2][1])[0][b"_command"] == b"Sum"
    server.dataReceived(clientIO.events[2][1])
    client.dataReceived(serverIO.events[-1][1])
    assert successResultOf(held) == {"total": 3}

    # TLS cannot start twice.
    failureResultOf(client.callRemote(amp.StartTLS), amp.OnlyOneTLS)


def test_startTLSWithoutServerCertificate(logged: EventLoggingObserver) -> None:
    """AMP's default StartTLS responder has no certificate: an error, and no TLS."""
    client, server, pump = connected()
    d = Outcome(client.callRemote(amp.StartTLS, tls_localCertificate=FakeCertificate("c")))
    pump.flush()
    d.failure(amp.UnknownRemoteError)
    assert server.hostCertificate is None
    assert client.hostCertificate is None


def test_startTLSRefusedDropsHeldBoxes() -> None:
    """If the peer refuses, boxes held for TLS are never sent in the clear."""
    client = Calculator()
    transport = FakeTLSTransport()
    client.makeConnection(transport)
    d = Outcome(client.callRemote(amp.StartTLS, tls_localCertificate=FakeCertificate("c")))
    held = client.callRemote(Sum, a=1, b=2)
    client.dataReceived(
        amp.AmpBox(_error=b"1", _error_code=b"UNKNOWN", _error_description=b"no").serialize()
    )
    d.failure(amp.UnknownRemoteError)
    assert len(transport.events) == 1
    assert transport.disconnecting
    client.connectionLost(Failure(error.ConnectionDone()))
    failureResultOf(held, error.ConnectionDone)


# -- real sockets, every reactor ---------------------------------------------------------------


class ReadFD(amp.Command):
    arguments = [(b"fd", amp.Descriptor()), (b"more", amp.ListOf(amp.Descriptor()))]
    response = [(b"data", amp.ListOf(amp.String()))]


class FDReader(Calculator):
    @ReadFD.responder
    def readFD(self, fd: int, more: list[int]) -> dict[str, Any]:
        data = []
        for descriptor in [fd, *more]:
            with os.fdopen(descriptor, "rb") as f:
                data.append(f.read())
        return {"data": data}


class TrackingFactory(Factory):
    """Builds ``protocol`` instances and keeps them."""

    def __init__(self, protocol: type[Calculator]) -> None:
        self.protocol = protocol
        self.instances: list[Calculator] = []

    def buildProtocol(self, addr: Any) -> Calculator:
        p = self.protocol()
        p.factory = self
        self.instances.append(p)
        return p


async def closeBoth(client: Calculator, factory: TrackingFactory) -> None:
    assert client.transport is not None
    client.transport.loseConnection()
    await client.closed
    for server in factory.instances:
        await server.closed


def test_tcpEndToEnd(reactor: Any, runReactor: Any) -> None:
    """Calls both ways over real TCP on loopback, with each reactor."""
    from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    factory = TrackingFactory(Calculator)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    async def scenario() -> Any:
        try:
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
            client = await connectProtocol(endpoint, Calculator())
            results = [await client.callRemote(Async, n=i) for i in range(3)]
            big = await client.callRemote(Sum, a=2**200, b=1)
            await closeBoth(client, factory)
            return results, big
        finally:
            await port.stopListening()

    results, big = runReactor(reactor, scenario)
    assert results == [{"doubled": 0}, {"doubled": 2}, {"doubled": 4}]
    assert big == {"total": 2**200 + 1}


def test_descriptorPassing(reactor: Any, runReactor: Any) -> None:
    """Descriptor arguments pass open files over a UNIX socket, with each reactor."""
    import tempfile

    from fw.internet.endpoints import UNIXClientEndpoint, connectProtocol

    sockDir = tempfile.mkdtemp(prefix="fw-amp-", dir="/tmp")
    path = os.path.join(sockDir, "s")
    factory = TrackingFactory(FDReader)
    port = reactor.listenUNIX(path, factory)
    pipes = [os.pipe() for _ in range(3)]
    for i, (_, w) in enumerate(pipes):
        os.write(w, b"pipe %d" % i)
        os.close(w)

    async def scenario() -> Any:
        try:
            client = await connectProtocol(UNIXClientEndpoint(reactor, path), Calculator())
            answer = await client.callRemote(
                ReadFD, fd=pipes[0][0], more=[pipes[1][0], pipes[2][0]]
            )
            await closeBoth(client, factory)
            return answer
        finally:
            await port.stopListening()

    try:
        answer = runReactor(reactor, scenario)
    finally:
        for r, _ in pipes:
            os.close(r)
        os.rmdir(sockDir)
    assert answer == {"data": [b"pipe 0", b"pipe 1", b"pipe 2"]}


def test_descriptorNeedsUNIXTransport() -> None:
    proto = Calculator()
    proto.makeConnection(StringTransport())
    r, w = os.pipe()
    try:
        failureResultOf(proto.callRemote(ReadFD, fd=r, more=[]), TypeError)
    finally:
        os.close(r)
        os.close(w)


def test_unclaimedDescriptorsClosed() -> None:
    """Descriptors received and never claimed are closed with the connection; too many drop it."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.MAX_PENDING_DESCRIPTORS = 2
    fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(3)]
    for fd in fds:
        proto.fileDescriptorReceived(fd)
    assert transport.disconnecting
    proto.connectionLost(Failure(error.ConnectionDone()))
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


def test_typedCallRemote() -> None:
    """Command[TypedDict] types callRemote's result (checked by mypy; here at run time)."""
    client, _, pump = connected()
    d: Deferred[SumResult] = client.callRemote(Sum, a=1, b=2)
    pump.flush()
    result = successResultOf(d)
    assert result["total"] == 3
    assert succeed(None) is not None


def test_startTLSOnPlainTransport() -> None:
    """A transport that cannot start TLS: the call fails and the connection is dropped."""
    client = Calculator()
    transport = StringTransport()
    client.makeConnection(transport)
    d = Outcome(client.callRemote(amp.StartTLS, tls_localCertificate=FakeCertificate("c")))
    held = Outcome(client.callRemote(Sum, a=1, b=2))
    client.dataReceived(amp.AmpBox(_answer=b"1").serialize())
    d.failure(amp.AmpError)
    assert transport.disconnecting
    assert len(amp.parseString(transport.value())) == 1
    client.connectionLost(Failure(error.ConnectionDone()))
    held.failure(error.ConnectionDone)


class BrokenCertificate:
    def options(self, *authorities: Any) -> Any:
        raise ValueError("no key")


class BrokenTLSServer(Calculator):
    @amp.StartTLS.responder
    def startTLS(self) -> dict[str, Any]:
        return {"tls_localCertificate": BrokenCertificate()}


def test_startTLSServerOptionsFail(logged: EventLoggingObserver) -> None:
    """If the answering side cannot make its TLS options, it promises nothing and drops."""
    server = BrokenTLSServer()
    transport = FakeTLSTransport()
    server.makeConnection(transport)
    server.dataReceived(amp.AmpBox(_command=b"StartTLS", _ask=b"1").serialize())
    assert transport.events == []
    assert transport.disconnecting
    assert server.hostCertificate is None


@pytest.fixture(scope="module")
def tlsCertificates() -> tuple[Any, Any]:
    """A self-signed server certificate for localhost, and another that did not sign it."""
    pytest.importorskip("OpenSSL")
    from fw.internet import ssl

    server = ssl.KeyPair.generate(size=2048).selfSignedCert(1, commonName="localhost")
    stranger = ssl.KeyPair.generate(size=2048).selfSignedCert(2, commonName="stranger")
    return server, stranger


def test_startTLSOverTCP(reactor: Any, runReactor: Any, tlsCertificates: tuple[Any, Any]) -> None:
    """StartTLS on a real TCP connection with fw's TLS: calls before and after it."""
    from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    serverCert, _ = tlsCertificates

    class Server(Calculator):
        @amp.StartTLS.responder
        def startTLS(self) -> dict[str, Any]:
            return {"tls_localCertificate": serverCert}

    factory = TrackingFactory(Server)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    async def scenario() -> Any:
        try:
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
            client = await connectProtocol(endpoint, Calculator())
            before = await client.callRemote(Sum, a=1, b=1)
            started = client.callRemote(amp.StartTLS, tls_verifyAuthorities=[serverCert])
            held = client.callRemote(Sum, a=2, b=2)
            answers = [before, await started, await held]
            answers.append(await client.callRemote(Async, n=4))
            peer = client.peerCertificate
            await closeBoth(client, factory)
            return answers, peer
        finally:
            await port.stopListening()

    answers, peer = runReactor(reactor, scenario)
    assert answers == [{"total": 2}, {}, {"total": 4}, {"doubled": 8}]
    assert peer is not None
    from cryptography.x509.oid import NameOID

    names = peer.to_cryptography().subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert names[0].value == "localhost"


def test_startTLSUntrustedServer(
    reactor: Any, runReactor: Any, tlsCertificates: tuple[Any, Any]
) -> None:
    """A server certificate the client does not trust: TLS fails, and so do the calls."""
    from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    serverCert, stranger = tlsCertificates

    class Server(Calculator):
        @amp.StartTLS.responder
        def startTLS(self) -> dict[str, Any]:
            return {"tls_localCertificate": serverCert}

    factory = TrackingFactory(Server)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    async def scenario() -> Any:
        try:
            endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
            client = await connectProtocol(endpoint, Calculator())
            await client.callRemote(amp.StartTLS, tls_verifyAuthorities=[stranger])
            held = Outcome(client.callRemote(Sum, a=2, b=2))
            await client.closed
            for server in factory.instances:
                await server.closed
            return held
        finally:
            await port.stopListening()

    from fw.internet.ssl import TLSHandshakeError

    held = runReactor(reactor, scenario)
    assert "certificate verify failed" in str(held.failure(TLSHandshakeError).value)


_specialKeys = st.sampled_from(
    [b"_command", b"_ask", b"_answer", b"_error", b"_error_code", b"_error_description"]
)
_hostileBoxes = st.lists(
    st.dictionaries(
        st.one_of(_specialKeys, st.sampled_from([b"a", b"b", b"text", b"fd"])),
        st.one_of(
            st.sampled_from([b"Sum", b"Note", b"Boom", b"1", b"2", b"ping", b"x", b""]),
            st.binary(max_size=8),
        ),
        max_size=5,
    ),
    max_size=6,
)


@settings(max_examples=120, deadline=None)
@given(_hostileBoxes, st.binary(max_size=64), st.integers(min_value=1, max_value=9))
def test_fuzzProtocolNeverRaises(boxes: list[dict[bytes, bytes]], tail: bytes, chunk: int) -> None:
    """Whatever a peer sends, dataReceived returns; at worst the connection is dropped."""
    proto = Calculator()
    transport = StringTransport()
    proto.makeConnection(transport)
    pending = proto.callRemote(Sum, a=1, b=2)
    pending.addErrback(lambda _: None)
    data = b"".join(amp.AmpBox(box).serialize() for box in boxes) + tail
    for i in range(0, len(data), chunk):
        proto.dataReceived(data[i : i + chunk])
    proto.connectionLost(Failure(error.ConnectionDone()))
