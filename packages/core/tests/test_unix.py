"""UNIX domain sockets on every reactor backend: stream, lock files, descriptors, datagrams."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error, unix
from fw.internet.address import UNIXAddress
from fw.internet.defer import Deferred, gatherResults
from fw.internet.interfaces import (
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IListeningPort,
    IReactorUNIX,
    IReactorUNIXDatagram,
    IUNIXDatagramConnectedTransport,
    IUNIXDatagramTransport,
    IUNIXTransport,
)
from fw.internet.protocol import (
    ClientFactory,
    ConnectedDatagramProtocol,
    DatagramProtocol,
    Factory,
    Protocol,
)


@pytest.fixture
def sockDir() -> Iterator[str]:
    """A short directory for socket files (their paths are limited to 108 bytes)."""
    path = tempfile.mkdtemp(prefix="fw-unix-", dir="/tmp")
    yield path
    shutil.rmtree(path)


def abstractName() -> str:
    return "\0fw-test-" + os.urandom(8).hex()


def fdCount() -> int:
    return len(os.listdir("/proc/self/fd"))


class Echo(Protocol):
    def __init__(self) -> None:
        self.done: Deferred[None] = Deferred()
        self.made: Deferred[Any] = Deferred()

    def connectionMade(self) -> None:
        self.made.callback(self.transport)

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)

    def connectionLost(self, reason: Any) -> None:
        self.done.callback(None)


class RecordingFactory(Factory):
    def __init__(self, protocol: Any = Echo) -> None:
        self.protocol = protocol
        self.instances: list[Any] = []
        #: Fires with the first connection's transport, once it is made.
        self.firstMade: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Any:
        p = self.protocol()
        p.factory = self
        p.addr = addr
        if not self.instances and hasattr(p, "made"):
            p.made.chainDeferred(self.firstMade)
        self.instances.append(p)
        return p

    def allClosed(self) -> Deferred[Any]:
        return gatherResults([p.done for p in self.instances])


class Collector(Protocol):
    """Sends ``payload`` on connect, collects everything, fires ``done`` on close."""

    def __init__(self, payload: bytes = b"", closeAfter: int | None = None) -> None:
        self.payload = payload
        self.closeAfter = closeAfter
        self.received = bytearray()
        self.made: Deferred[Any] = Deferred()
        self.done: Deferred[bytes] = Deferred()
        self.reason: Any = None

    def connectionMade(self) -> None:
        self.made.callback(self.transport)
        if self.payload:
            self.transport.write(self.payload)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self.closeAfter is not None and len(self.received) >= self.closeAfter:
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.done.callback(bytes(self.received))


class OneShotClientFactory(ClientFactory):
    def __init__(self, protocol: Protocol) -> None:
        self.instance = protocol
        self.failed: Deferred[Any] = Deferred()
        self.lost: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Protocol:
        self.instance.factory = self
        return self.instance

    # Each fires with a one-tuple: a Failure given to callback() would errback.
    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed.callback((reason,))

    def clientConnectionLost(self, connector: Any, reason: Any) -> None:
        self.lost.callback((reason,))


def finish(port: Any, factory: RecordingFactory, value: Any) -> Deferred[Any]:
    """Wait for the server side to close, stop listening, and give back ``value``."""
    d = factory.allClosed()
    d.addCallback(lambda _: port.stopListening())
    d.addCallback(lambda _: value)
    return d


# -- stream sockets


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_echo(reactor: Any, runReactor: Any, sockDir: str, kind: str) -> None:
    address = os.path.join(sockDir, "echo.sock") if kind == "path" else abstractName()
    payload = b"hello, unix" * 10000

    async def go() -> bytes:
        factory = RecordingFactory()
        port = reactor.listenUNIX(address, factory)
        assert os.path.exists(address) == (kind == "path")
        client = Collector(payload, closeAfter=len(payload))
        reactor.connectUNIX(address, OneShotClientFactory(client))
        data = await client.done
        return await finish(port, factory, data)

    assert runReactor(reactor, go) == payload
    assert not os.path.exists(address)


def test_addressesAndInterfaces(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "s.sock")
    assert IReactorUNIX.providedBy(reactor)
    assert IReactorUNIXDatagram.providedBy(reactor)

    async def go() -> None:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        assert verifyObject(IListeningPort, port)
        assert port.getHost() == UNIXAddress(path)
        client = Collector()
        connector = reactor.connectUNIX(path, OneShotClientFactory(client))
        assert connector.getDestination() == UNIXAddress(path)
        clientTransport = await client.made
        serverTransport = await factory.firstMade
        for transport in (clientTransport, serverTransport):
            assert verifyObject(IUNIXTransport, transport)
            assert isinstance(transport.getHandle(), socket.socket)
        assert serverTransport.getHost() == UNIXAddress(path)
        # The client's socket is not bound to a name.
        assert serverTransport.getPeer() == UNIXAddress(None)
        assert factory.instances[0].addr == UNIXAddress(None)
        assert clientTransport.getPeer() == UNIXAddress(path)
        assert clientTransport.getHost() == UNIXAddress(None)
        assert isinstance(serverTransport, unix.Server)
        assert isinstance(clientTransport, unix.Client)
        clientTransport.loseConnection()
        await client.done
        await finish(port, factory, None)

    runReactor(reactor, go)


def test_abstractNamespaceAddress(reactor: Any, runReactor: Any) -> None:
    name = abstractName()

    def go() -> Any:
        port = reactor.listenUNIX(name, RecordingFactory())
        assert port.getHost() == UNIXAddress(name.encode())
        assert port.getHost().name.startswith(b"\0")
        return port.stopListening()

    runReactor(reactor, go)


@pytest.mark.parametrize("mode", [0o600, 0o660, 0o666])
def test_socketFileMode(reactor: Any, runReactor: Any, sockDir: str, mode: int) -> None:
    path = os.path.join(sockDir, "mode.sock")

    def go() -> Any:
        port = reactor.listenUNIX(path, RecordingFactory(), mode=mode)
        info = os.stat(path)
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == mode
        return port.stopListening()

    runReactor(reactor, go)
    assert not os.path.exists(path)


def test_pathInUseIsRefused(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "taken.sock")

    def go() -> Any:
        port = reactor.listenUNIX(path, RecordingFactory())
        factory = RecordingFactory()
        with pytest.raises(error.CannotListenError):
            reactor.listenUNIX(path, factory)
        # The failed attempt did not remove the first port's file, nor start its factory.
        assert os.path.exists(path)
        assert factory.numPorts == 0
        return port.stopListening()

    runReactor(reactor, go)


def test_missingDirectoryIsRefused(reactor: Any, sockDir: str) -> None:
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(os.path.join(sockDir, "no", "such.sock"), RecordingFactory())


def test_stopListeningLeavesAReplacedFile(reactor: Any, runReactor: Any, sockDir: str) -> None:
    """Only the port's own socket file is removed, not one put in its place."""
    path = os.path.join(sockDir, "replaced.sock")

    async def go() -> None:
        port = reactor.listenUNIX(path, RecordingFactory())
        os.remove(path)
        with open(path, "w") as f:
            f.write("someone else's")
        await port.stopListening()

    runReactor(reactor, go)
    with open(path) as f:
        assert f.read() == "someone else's"


# -- lock files


def test_lockFileRefusesASecondServer(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "locked.sock")
    lock = path + ".lock"

    async def go() -> None:
        port = reactor.listenUNIX(path, RecordingFactory(), wantPID=True)
        assert os.readlink(lock) == str(os.getpid())
        with pytest.raises(error.CannotListenError) as refused:
            reactor.listenUNIX(path, RecordingFactory(), wantPID=True)
        assert "lock" in str(refused.value)
        # The refused server touched neither the socket file nor the lock.
        assert os.path.exists(path)
        assert os.readlink(lock) == str(os.getpid())
        await port.stopListening()

    runReactor(reactor, go)
    assert not os.path.lexists(lock)
    assert not os.path.exists(path)


def test_lockHeldByAnotherLiveProcess(reactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "other.sock")
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        os.symlink(str(holder.pid), path + ".lock")
        with pytest.raises(error.CannotListenError):
            reactor.listenUNIX(path, RecordingFactory(), wantPID=True)
        assert not os.path.exists(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()


def deadPID() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staleLockIsTakenOver(reactor: Any, runReactor: Any, sockDir: str) -> None:
    """A server that died left its lock and socket file: a new one replaces both."""
    path = os.path.join(sockDir, "stale.sock")
    os.symlink(str(deadPID()), path + ".lock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()
    assert stat.S_ISSOCK(os.stat(path).st_mode)

    async def go() -> bytes:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory, wantPID=True)
        assert os.readlink(path + ".lock") == str(os.getpid())
        client = Collector(b"alive", closeAfter=5)
        reactor.connectUNIX(path, OneShotClientFactory(client), checkPID=True)
        data = await client.done
        return await finish(port, factory, data)

    assert runReactor(reactor, go) == b"alive"
    assert not os.path.lexists(path + ".lock")


def test_withoutWantPIDAStaleSocketFileIsInTheWay(reactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "leftover.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(path, RecordingFactory())


def test_checkPIDWithoutALock(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "unlocked.sock")

    async def go() -> Any:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        client = OneShotClientFactory(Collector())
        reactor.connectUNIX(path, client, checkPID=True)
        failed = await client.failed
        await port.stopListening()
        return failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.BadFileError)


# -- connecting


def test_connectToMissingPath(reactor: Any, runReactor: Any, sockDir: str) -> None:
    def go() -> Any:
        factory = OneShotClientFactory(Collector())
        reactor.connectUNIX(os.path.join(sockDir, "nobody.sock"), factory)
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectError)
    assert reason.value.osError == 2  # ENOENT


def test_connectToSocketFileWithoutListener(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "deaf.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()

    def go() -> Any:
        factory = OneShotClientFactory(Collector())
        reactor.connectUNIX(path, factory)
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectionRefusedError)


def test_stopConnecting(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "never.sock")

    def go() -> Any:
        factory = OneShotClientFactory(Collector())
        connector = reactor.connectUNIX(path, factory)
        connector.stopConnecting()
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.UserError)


def test_fullBacklogIsRetried(reactor: Any, runReactor: Any, sockDir: str) -> None:
    """Clients beyond the listener's backlog wait their turn instead of failing."""
    path = os.path.join(sockDir, "busy.sock")
    count = 20

    async def go() -> list[bytes]:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory, backlog=1)
        clients = [Collector(b"%d" % i, closeAfter=len(b"%d" % i)) for i in range(count)]
        for client in clients:
            reactor.connectUNIX(path, OneShotClientFactory(client))
        data = await gatherResults([c.done for c in clients])
        return await finish(port, factory, data)

    assert runReactor(reactor, go) == [b"%d" % i for i in range(count)]


def test_halfClose(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "half.sock")

    @implementer(IHalfCloseableProtocol)
    class HalfCloser(Echo):
        def __init__(self) -> None:
            super().__init__()
            self.data = b""

        def dataReceived(self, data: bytes) -> None:
            self.data += data

        def readConnectionLost(self) -> None:
            self.transport.write(b"got " + self.data)
            self.transport.loseConnection()

        def writeConnectionLost(self) -> None:
            pass

    @implementer(IHalfCloseableProtocol)
    class Asker(Collector):
        def connectionMade(self) -> None:
            super().connectionMade()
            self.transport.write(b"question")
            self.transport.loseWriteConnection()

        def readConnectionLost(self) -> None:
            self.transport.loseConnection()

        def writeConnectionLost(self) -> None:
            pass

    async def go() -> bytes:
        factory = RecordingFactory(HalfCloser)
        port = reactor.listenUNIX(path, factory)
        client = Asker()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        data = await client.done
        return await finish(port, factory, data)

    assert runReactor(reactor, go) == b"got question"


# -- peer credentials


def test_peerCredentials(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "creds.sock")
    mine = unix.PeerCredentials(os.getpid(), os.geteuid(), os.getegid())

    async def go() -> Any:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        clientTransport = await client.made
        serverTransport = await factory.firstMade
        credentials = serverTransport.getPeerCredentials(), clientTransport.getPeerCredentials()
        clientTransport.loseConnection()
        await client.done
        return await finish(port, factory, credentials)

    assert runReactor(reactor, go) == (mine, mine)


def test_peerCredentialsOfAnotherProcess(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "child.sock")
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "s.recv(1)\n"
    )

    async def go() -> Any:
        made: Deferred[Any] = Deferred()

        class Server(Echo):
            def connectionMade(self) -> None:
                made.callback(self.transport)

        factory = RecordingFactory(Server)
        port = reactor.listenUNIX(path, factory)
        child = subprocess.Popen([sys.executable, "-c", script, path])
        transport = await made
        credentials = transport.getPeerCredentials()
        transport.loseConnection()
        await finish(port, factory, None)
        child.wait()
        return credentials, child.pid

    credentials, pid = runReactor(reactor, go)
    assert credentials == unix.PeerCredentials(pid, os.geteuid(), os.getegid())


# -- passing descriptors


@implementer(IFileDescriptorReceiver)
class DescriptorWriter(Protocol):
    """Writes a message into each descriptor it receives, then closes it."""

    def __init__(self) -> None:
        self.done: Deferred[None] = Deferred()
        self.events: list[Any] = []

    def fileDescriptorReceived(self, descriptor: int) -> None:
        self.events.append("fd")
        os.write(descriptor, b"written by the receiver #%d\n" % len(self.events))
        os.close(descriptor)

    def dataReceived(self, data: bytes) -> None:
        self.events.append(data)
        if data.endswith(b"."):
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.done.callback(None)


def test_passDescriptor(reactor: Any, runReactor: Any, sockDir: str) -> None:
    """Send a pipe's write end; the receiver writes into it; read it back here."""
    path = os.path.join(sockDir, "fds.sock")

    async def go() -> Any:
        factory = RecordingFactory(DescriptorWriter)
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        readEnd, writeEnd = os.pipe()
        transport.sendFileDescriptor(writeEnd)
        # A copy was taken: ours can be closed at once.
        os.close(writeEnd)
        transport.write(b"x.")
        await client.done
        await finish(port, factory, None)
        with os.fdopen(readEnd, "rb") as pipe:
            return pipe.read(), factory.instances[0].events

    before = fdCount()
    written, events = runReactor(reactor, go)
    assert written == b"written by the receiver #1\n"
    # The descriptor arrives before the byte it travels with.
    assert events[0] == "fd"
    assert b"".join(e for e in events if e != "fd") == b"x."
    assert fdCount() == before


def test_passSeveralDescriptors(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "many.sock")

    async def go() -> Any:
        factory = RecordingFactory(DescriptorWriter)
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        pipes = [os.pipe() for _ in range(3)]
        for _, writeEnd in pipes:
            transport.sendFileDescriptor(writeEnd)
            os.close(writeEnd)
        transport.write(b"abc.")
        await client.done
        await finish(port, factory, None)
        results = []
        for readEnd, _ in pipes:
            with os.fdopen(readEnd, "rb") as pipe:
                results.append(pipe.read())
        return results

    before = fdCount()
    assert runReactor(reactor, go) == [b"written by the receiver #%d\n" % n for n in (1, 3, 5)]
    assert fdCount() == before


def test_descriptorsToAProtocolThatDoesNotWantThem(
    reactor: Any, runReactor: Any, sockDir: str
) -> None:
    """The kernel closes them: nothing leaks, and the bytes still arrive."""
    path = os.path.join(sockDir, "unwanted.sock")

    async def go() -> bytes:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        client = Collector(closeAfter=3)
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        readEnd, writeEnd = os.pipe()
        transport.sendFileDescriptor(writeEnd)
        transport.write(b"abc")
        os.close(writeEnd)
        data = await client.done
        await finish(port, factory, None)
        # Every write end is closed, so the pipe reads as ended.
        assert os.read(readEnd, 10) == b""
        os.close(readEnd)
        return data

    before = fdCount()
    assert runReactor(reactor, go) == b"abc"
    assert fdCount() == before


def test_moreDescriptorsThanBytesIsAnOverrun(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "overrun.sock")

    async def go() -> Any:
        factory = RecordingFactory(DescriptorWriter)
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        transport.sendFileDescriptor(0)
        transport.sendFileDescriptor(0)
        transport.write(b"x")
        await client.done
        await finish(port, factory, None)
        return (client.reason,)

    before = fdCount()
    (reason,) = runReactor(reactor, go)
    assert reason.check(error.FileDescriptorOverrun)
    assert fdCount() == before


def test_descriptorWithoutBytesBeforeCloseIsAnOverrun(
    reactor: Any, runReactor: Any, sockDir: str
) -> None:
    path = os.path.join(sockDir, "unsent.sock")

    async def go() -> Any:
        factory = RecordingFactory(DescriptorWriter)
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        transport.sendFileDescriptor(0)
        transport.loseConnection()
        await client.done
        await finish(port, factory, None)
        return (client.reason,)

    before = fdCount()
    (reason,) = runReactor(reactor, go)
    assert reason.check(error.FileDescriptorOverrun)
    assert fdCount() == before


def test_sendingABadDescriptorFailsAtOnce(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "bad.sock")

    async def go() -> None:
        factory = RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        readEnd, writeEnd = os.pipe()
        os.close(readEnd)
        os.close(writeEnd)
        with pytest.raises(OSError):
            transport.sendFileDescriptor(writeEnd)
        transport.loseConnection()
        await client.done
        await finish(port, factory, None)

    runReactor(reactor, go)


def test_receiverErrorClosesTheRestAndOnlyThatConnection(
    reactor: Any, runReactor: Any, sockDir: str
) -> None:
    path = os.path.join(sockDir, "failing.sock")

    @implementer(IFileDescriptorReceiver)
    class Failing(Echo):
        def fileDescriptorReceived(self, descriptor: int) -> None:
            os.close(descriptor)
            raise ValueError("no, thank you")

    async def go() -> Any:
        factory = RecordingFactory(Failing)
        port = reactor.listenUNIX(path, factory)
        client = Collector()
        reactor.connectUNIX(path, OneShotClientFactory(client))
        transport = await client.made
        for _ in range(3):
            transport.sendFileDescriptor(1)
        transport.write(b"abc")
        await client.done
        await finish(port, factory, None)

    from fw.logger import capturedLogs

    before = fdCount()
    with capturedLogs() as events:
        runReactor(reactor, go)
    assert fdCount() == before
    logged = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert [f.type for f in logged] == [ValueError]
    assert len(runReactor.flushLoggedErrors(ValueError)) == 1


def test_adoptedDescriptors(reactor: Any, runReactor: Any, sockDir: str) -> None:
    """``adoptStreamPort``/``adoptStreamConnection`` take AF_UNIX sockets too."""
    path = os.path.join(sockDir, "adopted.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(5)
    left, right = socket.socketpair()

    async def go() -> Any:
        factory = RecordingFactory()
        port = reactor.adoptStreamPort(listener.fileno(), socket.AF_UNIX, factory)
        assert isinstance(port, unix.Port)
        assert port.getHost() == UNIXAddress(path)
        client = Collector(b"through the adopted port", closeAfter=24)
        reactor.connectUNIX(path, OneShotClientFactory(client))
        first = await client.done
        await finish(port, factory, None)
        pairFactory = RecordingFactory(lambda: Collector(closeAfter=4))
        reactor.adoptStreamConnection(left.fileno(), socket.AF_UNIX, pairFactory)
        right.sendall(b"pair")
        (received,) = await pairFactory.allClosed()
        return first, received

    try:
        assert runReactor(reactor, go) == (b"through the adopted port", b"pair")
        # An adopted socket's file belongs to whoever made it: it stays.
        assert os.path.exists(path)
    finally:
        listener.close()
        left.close()
        right.close()


def test_noDescriptorLeaks(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "cycles.sock")
    missing = os.path.join(sockDir, "missing.sock")

    async def go() -> None:
        for i in range(20):
            factory = RecordingFactory(DescriptorWriter)
            port = reactor.listenUNIX(path, factory, wantPID=True)
            for _ in range(10):
                client = Collector(b"ping.", closeAfter=5)
                reactor.connectUNIX(path, OneShotClientFactory(client))
                transport = await client.made
                readEnd, writeEnd = os.pipe()
                transport.sendFileDescriptor(writeEnd)
                os.close(writeEnd)
                await client.done
                os.close(readEnd)
            failing = OneShotClientFactory(Collector())
            reactor.connectUNIX(missing, failing)
            await failing.failed
            if i % 5 == 0:
                with pytest.raises(error.CannotListenError):
                    reactor.listenUNIX(path, RecordingFactory(), wantPID=True)
            await finish(port, factory, None)

    before = fdCount()
    runReactor(reactor, go, timeout=30)
    assert fdCount() == before
    assert os.listdir(os.path.dirname(path)) == []


# -- datagram sockets


class DatagramEcho(DatagramProtocol):
    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.transport.write(data, addr)


class DatagramReceiver(DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: list[Deferred[Any]] = []
        self.queue: list[Any] = []

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        if self.waiting:
            self.waiting.pop(0).callback((data, addr))
        else:
            self.queue.append((data, addr))

    def next(self) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        if self.queue:
            d.callback(self.queue.pop(0))
        else:
            self.waiting.append(d)
        return d


class ConnectedReceiver(ConnectedDatagramProtocol):
    def __init__(self) -> None:
        self.waiting: list[Deferred[bytes]] = []
        self.refused: Deferred[None] = Deferred()
        self.failed: Deferred[Any] = Deferred()

    def datagramReceived(self, data: bytes, addr: Any = None) -> None:
        self.waiting.pop(0).callback(data)

    def next(self) -> Deferred[bytes]:
        d: Deferred[bytes] = Deferred()
        self.waiting.append(d)
        return d

    def connectionRefused(self) -> None:
        if not self.refused.called:
            self.refused.callback(None)

    def connectionFailed(self, failure: Any) -> None:
        self.failed.callback((failure,))


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_datagramEcho(reactor: Any, runReactor: Any, sockDir: str, kind: str) -> None:
    if kind == "path":
        server, client = os.path.join(sockDir, "dg.sock"), os.path.join(sockDir, "dgc.sock")
    else:
        server, client = abstractName(), abstractName()

    async def go() -> Any:
        serverPort = reactor.listenUNIXDatagram(server, DatagramEcho())
        assert verifyObject(IUNIXDatagramTransport, serverPort)
        assert serverPort.getHost() == UNIXAddress(server)
        receiver = DatagramReceiver()
        clientPort = reactor.listenUNIXDatagram(client, receiver)
        clientPort.write(b"datagram", server)
        answer = await receiver.next()
        await gatherResults([serverPort.stopListening(), clientPort.stopListening()])
        return answer

    data, sender = runReactor(reactor, go)
    assert data == b"datagram"
    assert UNIXAddress(sender) == UNIXAddress(server)
    assert os.listdir(sockDir) == []


def test_datagramFromUnboundSender(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "anon.sock")

    async def go() -> Any:
        receiver = DatagramReceiver()
        port = reactor.listenUNIXDatagram(path, receiver, mode=0o600)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.sendto(b"anonymous", path)
        sender.close()
        got = await receiver.next()
        await port.stopListening()
        return got

    assert runReactor(reactor, go) == (b"anonymous", None)
    assert not os.path.exists(path)


def test_connectedDatagram(reactor: Any, runReactor: Any, sockDir: str) -> None:
    server = os.path.join(sockDir, "cdg.sock")
    local = os.path.join(sockDir, "cdg-client.sock")

    async def go() -> Any:
        serverPort = reactor.listenUNIXDatagram(server, DatagramEcho())
        protocol = ConnectedReceiver()
        port = reactor.connectUNIXDatagram(server, protocol, bindAddress=local)
        assert verifyObject(IUNIXDatagramConnectedTransport, port)
        assert port.getPeer() == UNIXAddress(server)
        assert port.getHost() == UNIXAddress(local)
        answers = []
        for i in range(1000):
            # Ping-pong: one datagram in flight, so none can be dropped.
            pending = protocol.next()
            port.write(b"%d" % i)
            answers.append(int(await pending))
        # Once the server is gone, its refusal reaches the protocol.
        await serverPort.stopListening()
        port.write(b"anyone?")
        await protocol.refused
        await port.stopListening()
        return answers

    assert runReactor(reactor, go) == list(range(1000))
    assert os.listdir(sockDir) == []


def test_connectedDatagramFailure(reactor: Any, runReactor: Any, sockDir: str) -> None:
    def go() -> Any:
        protocol = ConnectedReceiver()
        port = reactor.connectUNIXDatagram(os.path.join(sockDir, "nobody.sock"), protocol)
        assert protocol.transport is None
        return protocol.failed.addCallback(lambda r: port.stopListening().addCallback(lambda _: r))

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectError)


def test_datagramErrors(reactor: Any, runReactor: Any, sockDir: str) -> None:
    path = os.path.join(sockDir, "dgerr.sock")

    def go() -> Any:
        port = reactor.listenUNIXDatagram(path, DatagramProtocol())
        with pytest.raises(error.CannotListenError):
            reactor.listenUNIXDatagram(path, DatagramProtocol())
        with pytest.raises(FileNotFoundError):
            port.write(b"lost", os.path.join(sockDir, "nobody.sock"))
        with pytest.raises(error.MessageLengthError):
            port.write(b"x" * (16 * 1024 * 1024), path)
        return port.stopListening()

    runReactor(reactor, go)
