"""StandardIO on every reactor backend: over pipes in-process, and as a child's real stdio."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error
from fw.internet.defer import Deferred
from fw.internet.interfaces import IHalfCloseableProtocol, ITransport
from fw.internet.protocol import ProcessProtocol, Protocol
from fw.internet.stdio import PipeAddress, StandardIO
from fw.logger import capturedLogs

PYTHON = sys.executable

# A child running a reactor of the same backend with StandardIO.
CHILD = r"""
import sys
from zope.interface import implementer
from fw.internet.interfaces import IHalfCloseableProtocol
from fw.internet.protocol import Protocol

backend, mode = sys.argv[1], sys.argv[2]
if backend == "select":
    from fw.internet.selectreactor import SelectReactor as R
    reactor = R()
elif backend == "poll":
    from fw.internet.pollreactor import PollReactor as R
    reactor = R()
elif backend == "epoll":
    from fw.internet.epollreactor import EPollReactor as R
    reactor = R()
elif backend == "glib":
    from fw.internet.gireactor import GIReactor as R
    reactor = R()
else:
    from fw.internet.asyncioreactor import AsyncioSelectorReactor as R
    if backend == "uvloop":
        import uvloop
        reactor = R(uvloop.new_event_loop())
    else:
        reactor = R()
from fw.internet import stdio


class Echo(Protocol):
    def connectionMade(self):
        sys.stderr.write("made\n")
        sys.stderr.flush()
        if mode == "bulk":
            self.transport.write(bytes(range(256)) * 8192)
            self.transport.loseConnection()

    def dataReceived(self, data):
        self.transport.write(data.upper())

    def connectionLost(self, reason):
        sys.stderr.write("lost %s\n" % reason.type.__name__)
        sys.stderr.flush()
        reactor.stop()


@implementer(IHalfCloseableProtocol)
class HalfClose(Echo):
    def readConnectionLost(self):
        self.transport.write(b"bye\n")
        self.transport.loseConnection()

    def writeConnectionLost(self):
        sys.stderr.write("write side lost\n")
        sys.stderr.flush()


stdio.StandardIO(HalfClose() if mode == "halfclose" else Echo(), reactor=reactor)
reactor.run()
"""


class Child(ProcessProtocol):
    def __init__(self, lines: list[bytes], closeAfter: bool = True) -> None:
        self.lines = lines
        self.closeAfter = closeAfter
        self.out = bytearray()
        self.err = bytearray()
        self.ended: Deferred[Child] = Deferred()
        self.reason: Any = None

    def connectionMade(self) -> None:
        for line in self.lines:
            self.transport.write(line)
        if self.closeAfter:
            self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.out += data

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason: Any) -> None:
        self.reason = reason
        self.ended.callback(self)


def backendName(reactor: Any) -> str:
    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is not None:
        return "uvloop" if "uvloop" in type(loop).__module__ else "asyncio"
    return {
        "SelectReactor": "select",
        "PollReactor": "poll",
        "EPollReactor": "epoll",
        "GIReactor": "glib",
    }[type(reactor).__name__]


def runChild(reactor: Any, runReactor: Any, mode: str, child: Child, **kw: Any) -> Child:
    def go() -> Deferred[Child]:
        reactor.spawnProcess(
            child, PYTHON, [PYTHON, "-c", CHILD, backendName(reactor), mode], env=None, **kw
        )
        return child.ended

    result: Child = runReactor(reactor, go)
    return result


def test_childEchoesThroughStandardIO(reactor: Any, runReactor: Any) -> None:
    child = runChild(reactor, runReactor, "echo", Child([b"hello\n", b"world\n"]))
    assert bytes(child.out) == b"HELLO\nWORLD\n"
    assert bytes(child.err) == b"made\nlost ConnectionDone\n"
    child.reason.trap(error.ProcessDone)


def test_childHalfClose(reactor: Any, runReactor: Any) -> None:
    child = runChild(reactor, runReactor, "halfclose", Child([b"abc\n"]))
    assert bytes(child.out) == b"ABC\nbye\n"
    assert bytes(child.err) == b"made\nlost ConnectionDone\n"


def test_childBulkOutput(reactor: Any, runReactor: Any) -> None:
    """2 MiB written at once through non-blocking stdout, then loseConnection: all of it."""
    child = runChild(reactor, runReactor, "bulk", Child([], closeAfter=False))
    assert bytes(child.out) == bytes(range(256)) * 8192
    child.reason.trap(error.ProcessDone)


def test_childStdioOnDevNull(reactor: Any, runReactor: Any) -> None:
    """/dev/null cannot be polled: read in turns of the loop, its end closes the connection."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        child = runChild(
            reactor,
            runReactor,
            "echo",
            Child([], closeAfter=False),
            childFDs={0: devnull, 1: devnull, 2: "r"},
        )
    finally:
        os.close(devnull)
    assert bytes(child.err) == b"made\nlost ConnectionDone\n"
    child.reason.trap(error.ProcessDone)


def test_childStdinFromFileStdoutToFile(reactor: Any, runReactor: Any, tmp_path: Any) -> None:
    source = tmp_path / "in"
    source.write_bytes(b"line one\nline two\n" * 5000)
    target = tmp_path / "out"
    inFD = os.open(source, os.O_RDONLY)
    outFD = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        child = runChild(
            reactor,
            runReactor,
            "echo",
            Child([], closeAfter=False),
            childFDs={0: inFD, 1: outFD, 2: "r"},
        )
    finally:
        os.close(inFD)
        os.close(outFD)
    assert bytes(child.err) == b"made\nlost ConnectionDone\n"
    assert target.read_bytes() == b"LINE ONE\nLINE TWO\n" * 5000


# -- in this process, over pipes ----------------------------------------------------


class Pipes:
    """Two pipes standing for a process's standard input and output."""

    def __init__(self) -> None:
        self.inRead, self.inWrite = os.pipe()
        self.outRead, self.outWrite = os.pipe()

    def close(self) -> None:
        for fd in (self.inRead, self.inWrite, self.outRead, self.outWrite):
            if fd != -1:
                os.close(fd)

    def closeInput(self) -> None:
        os.close(self.inWrite)
        self.inWrite = -1

    def output(self) -> bytes:
        os.close(self.outWrite)
        self.outWrite = -1
        data = b""
        while chunk := os.read(self.outRead, 65536):
            data += chunk
        return data


@pytest.fixture
def pipes() -> Any:
    p = Pipes()
    yield p
    p.close()


class Upper(Protocol):
    def __init__(self) -> None:
        self.received = bytearray()
        self.lost: Deferred[Any] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        self.transport.write(data.upper())

    def connectionLost(self, reason: Any) -> None:
        self.lost.callback((reason,))


def test_echoOverPipes(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    proto = Upper()

    def go() -> Deferred[Any]:
        transport = StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        assert verifyObject(ITransport, transport)
        assert transport.getPeer() == PipeAddress()
        assert transport.getHost() == PipeAddress()
        os.write(pipes.inWrite, b"some data")
        pipes.closeInput()
        return proto.lost

    (reason,) = runReactor(reactor, go)
    reason.trap(error.ConnectionDone)
    assert bytes(proto.received) == b"some data"
    assert pipes.output() == b"SOME DATA"


def test_descriptorsAreBorrowed(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    """Left open, and given back in blocking mode."""
    proto = Upper()

    def go() -> Deferred[Any]:
        StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        assert not os.get_blocking(pipes.inRead)
        assert not os.get_blocking(pipes.outWrite)
        pipes.closeInput()
        return proto.lost

    runReactor(reactor, go)
    assert os.get_blocking(pipes.inRead)
    assert os.get_blocking(pipes.outWrite)
    os.fstat(pipes.inRead)
    os.fstat(pipes.outWrite)


def test_loseConnectionFlushesOutput(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    payload = b"x" * (1024 * 1024)
    proto = Upper()
    received = bytearray()

    def go() -> Deferred[Any]:
        transport = StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        transport.write(payload)
        transport.loseConnection()

        # Drain our end of "stdout" from the loop, as a parent process would.
        class Drain:
            def fileno(self) -> int:
                return pipes.outRead

            def doRead(self) -> Any:
                data = os.read(pipes.outRead, 65536)
                received.extend(data)
                return None

            def logPrefix(self) -> str:
                return "drain"

            def connectionLost(self, reason: Any) -> None:
                pass

        drain = Drain()
        reactor.addReader(drain)
        proto.lost.addCallback(lambda r: (reactor.removeReader(drain), r)[1])
        return proto.lost

    (reason,) = runReactor(reactor, go)
    reason.trap(error.ConnectionDone)
    received.extend(pipes.output())
    assert len(received) == len(payload)


def test_halfCloseOverPipes(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    events: list[str] = []

    @implementer(IHalfCloseableProtocol)
    class Half(Upper):
        def readConnectionLost(self) -> None:
            events.append("readConnectionLost")
            self.transport.write(b"after")
            self.transport.loseConnection()

        def writeConnectionLost(self) -> None:
            events.append("writeConnectionLost")

    proto = Half()

    def go() -> Deferred[Any]:
        StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        os.write(pipes.inWrite, b"a")
        pipes.closeInput()
        return proto.lost

    runReactor(reactor, go)
    assert events == ["readConnectionLost"]
    assert pipes.output() == b"Aafter"


def test_outputClosedByReader(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    """Whoever reads our stdout goes away: a half-closeable protocol hears writeConnectionLost."""
    events: list[str] = []

    @implementer(IHalfCloseableProtocol)
    class Half(Upper):
        def readConnectionLost(self) -> None:
            events.append("readConnectionLost")

        def writeConnectionLost(self) -> None:
            events.append("writeConnectionLost")
            os.write(pipes.inWrite, b"still reading")
            pipes.closeInput()

    proto = Half()

    def go() -> Deferred[Any]:
        StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        os.close(pipes.outRead)
        pipes.outRead = -1
        return proto.lost

    runReactor(reactor, go)
    assert events == ["writeConnectionLost", "readConnectionLost"]
    assert bytes(proto.received) == b"still reading"


def test_pauseAndResume(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    proto = Upper()

    def go() -> Deferred[Any]:
        transport = StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        transport.pauseProducing()
        assert not reactor.getReaders() or all(
            r.fileno() != pipes.inRead for r in reactor.getReaders()
        )
        transport.resumeProducing()
        assert any(r.fileno() == pipes.inRead for r in reactor.getReaders())
        transport.stopReading()
        transport.startReading()
        pipes.closeInput()
        return proto.lost

    runReactor(reactor, go)


def test_producerOnStdout(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    stopped: list[bool] = []

    class Producer:
        def pauseProducing(self) -> None:
            pass

        def resumeProducing(self) -> None:
            pass

        def stopProducing(self) -> None:
            stopped.append(True)

    proto = Upper()

    def go() -> Deferred[Any]:
        transport = StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        transport.registerProducer(Producer(), True)
        transport.unregisterProducer()
        transport.loseConnection()
        return proto.lost

    runReactor(reactor, go)
    # After the connection is gone, a new producer is stopped at once.
    StandardIO.registerProducer(proto.transport, Producer(), True)
    assert stopped == [True]


def test_protocolErrorIsLogged(reactor: Any, runReactor: Any, pipes: Pipes) -> None:
    class Failing(Upper):
        def dataReceived(self, data: bytes) -> None:
            raise RuntimeError("bad protocol")

    proto = Failing()

    def go() -> Deferred[Any]:
        StandardIO(proto, pipes.inRead, pipes.outWrite, reactor=reactor)
        os.write(pipes.inWrite, b"x")
        return proto.lost

    with capturedLogs() as events:
        (reason,) = runReactor(reactor, go)
    assert any(e.get("log_failure") is not None for e in events)
    assert reason.check(RuntimeError)
    assert runReactor.flushLoggedErrors(RuntimeError)
