"""fw.protocols.loopback: in-memory and real-socket loopback connections."""

from __future__ import annotations

from typing import Any

from fw.internet import error
from fw.internet.defer import Deferred
from fw.internet.task import Clock
from fw.protocols import loopback
from fw.protocols.basic import LineReceiver


class Server(LineReceiver):
    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.reason: Any = None

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)
        if line == b"bye":
            self.sendLine(b"goodbye")
            self.transport.loseConnection()
        else:
            self.sendLine(line.upper())

    def connectionLost(self, reason: Any = None) -> None:
        self.reason = reason


class Client(LineReceiver):
    def __init__(self, script: list[bytes]) -> None:
        self.script = list(script)
        self.lines: list[bytes] = []
        self.chunks = 0
        self.reason: Any = None

    def connectionMade(self) -> None:
        self.sendLine(self.script.pop(0))

    def dataReceived(self, data: bytes) -> Any:
        self.chunks += 1
        return super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)
        if self.script:
            self.sendLine(self.script.pop(0))

    def connectionLost(self, reason: Any = None) -> None:
        self.reason = reason


def test_loopbackAsyncConversation() -> None:
    server, client = Server(), Client([b"hello", b"world", b"bye"])
    d = loopback.loopbackAsync(server, client, clock=Clock())
    results: list[Any] = []
    d.addCallback(results.append)
    assert results == [None]
    assert server.lines == [b"hello", b"world", b"bye"]
    assert client.lines == [b"HELLO", b"WORLD", b"goodbye"]
    assert server.reason.check(error.ConnectionDone)
    assert client.reason.check(error.ConnectionDone)


def test_loopbackAsyncWaitsForLaterWrites() -> None:
    clock = Clock()

    inWrite: list[bool] = []

    class Late(Client):
        writing = False

        def connectionMade(self) -> None:
            clock.callLater(1, self.later)

        def later(self) -> None:
            self.writing = True
            self.sendLine(b"bye")
            self.writing = False

    class Watch(Server):
        def lineReceived(self, line: bytes) -> None:
            inWrite.append(client.writing)
            super().lineReceived(line)

    server, client = Watch(), Late([])
    d = loopback.loopbackAsync(server, client, clock=clock)
    results: list[Any] = []
    d.addCallback(results.append)
    assert results == []
    clock.advance(1)
    # Pumping ran from a new turn, not inside the writer's sendLine.
    assert inWrite == [False]
    assert results == [None]
    assert client.lines == [b"goodbye"]


def test_collapsingPumpPolicy() -> None:
    class Burst(Client):
        def connectionMade(self) -> None:
            for word in (b"a", b"b", b"c"):
                self.transport.write(word + b"\r\n")

    class Count(Server):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def dataReceived(self, data: bytes) -> Any:
            self.calls += 1
            return super().dataReceived(data)

    server = Count()
    d = loopback.loopbackAsync(server, Burst([]), loopback.collapsingPumpPolicy, clock=Clock())
    assert server.calls == 1
    assert server.lines == [b"a", b"b", b"c"]
    server2 = Count()
    loopback.loopbackAsync(server2, Burst([]), clock=Clock())
    assert server2.calls == 3
    del d


def test_loopbackAsyncPullProducer() -> None:
    import io

    from fw.protocols.basic import FileSender

    class Sender(Client):
        def connectionMade(self) -> None:
            sender = FileSender()
            sender.CHUNK_SIZE = 10
            d = sender.beginFileTransfer(io.BytesIO(b"x" * 95 + b"\r\nbye\r\n"), self.transport)
            self.sent = d

    class Collect(Server):
        def lineReceived(self, line: bytes) -> None:
            self.lines.append(line)
            if line == b"bye":
                self.transport.loseConnection()

    server, client = Collect(), Sender([])
    d = loopback.loopbackAsync(server, client, clock=Clock())
    assert d.called
    assert server.lines == [b"x" * 95, b"bye"]


def test_transportRejectsText() -> None:
    import pytest

    q = loopback._LoopbackQueue()
    t = loopback._LoopbackTransport(q)
    with pytest.raises(TypeError):
        t.write("text")  # type: ignore[arg-type]
    t.writeSequence([b"a", b"b"])
    assert q.get() == b"ab"


def test_loopbackTCP(reactor: Any, runReactor: Any) -> None:
    server, client = Server(), Client([b"one", b"two", b"bye"])

    def go() -> Deferred[Any]:
        return loopback.loopbackTCP(server, client, noisy=False, reactor=reactor)

    runReactor(reactor, go)
    assert server.lines == [b"one", b"two", b"bye"]
    assert client.lines == [b"ONE", b"TWO", b"goodbye"]


def test_loopbackUNIX(reactor: Any, runReactor: Any) -> None:
    server, client = Server(), Client([b"x", b"bye"])

    def go() -> Deferred[Any]:
        return loopback.loopbackUNIX(server, client, noisy=False, reactor=reactor)

    runReactor(reactor, go)
    assert client.lines == [b"X", b"goodbye"]
