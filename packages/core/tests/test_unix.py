"""UNIX domain sockets on every reactor backend: stream, lock files, descriptors, datagrams."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error, unix
from fw.internet.address import UNIXAddress
from fw.internet.defer import Deferred, gatherResults
from fw.internet.interfaces import (
    IFileDescriptorReceiver,
    IListeningPort,
    IReactorUNIX,
    IReactorUNIXDatagram,
    IUNIXDatagramConnectedTransport,
    IUNIXDatagramTransport,
    IUNIXTransport,
)
from fw.internet.protocol import (
    ConnectedDatagramProtocol,
    DatagramProtocol,
    Protocol,
)


def abstractName() -> str:
    return "\0fw-test-" + os.urandom(8).hex()


def fdCount() -> int:
    return len(os.listdir("/proc/self/fd"))


@asynccontextmanager
async def connection(
    reactor: Any, streams: Any, path: str, factory: Any, client: Any = None
) -> AsyncIterator[Any]:
    """
    Listen on ``path`` with ``factory`` and connect ``client`` (a new
    ``Collector`` by default): the block gets the client's transport.  After
    the block, wait for the client and the server side to close, and stop
    listening.
    """
    if client is None:
        client = streams.Collector()
    port = reactor.listenUNIX(path, factory)
    reactor.connectUNIX(path, streams.OneShotClientFactory(client))
    yield await client.made
    await client.done
    await streams.finish(port, factory, None)


# -- stream sockets


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_echo(reactor: Any, runReactor: Any, sockDir: str, kind: str, streams: Any) -> None:
    address = os.path.join(sockDir, "echo.sock") if kind == "path" else abstractName()
    payload = b"hello, unix" * 10000

    async def go() -> bytes:
        factory = streams.RecordingFactory()
        port = reactor.listenUNIX(address, factory)
        assert os.path.exists(address) == (kind == "path")
        client = streams.Collector(payload, closeAfter=len(payload))
        reactor.connectUNIX(address, streams.OneShotClientFactory(client))
        data = await client.done
        return await streams.finish(port, factory, data)

    assert runReactor(reactor, go) == payload
    assert not os.path.exists(address)


def test_addressesAndInterfaces(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "s.sock")
    assert IReactorUNIX.providedBy(reactor)
    assert IReactorUNIXDatagram.providedBy(reactor)

    async def go() -> None:
        factory = streams.RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        assert verifyObject(IListeningPort, port)
        assert port.getHost() == UNIXAddress(path)
        client = streams.Collector()
        connector = reactor.connectUNIX(path, streams.OneShotClientFactory(client))
        assert connector.getDestination() == UNIXAddress(path)
        clientTransport = await client.made
        serverTransport = await factory.firstMade
        for transport in (clientTransport, serverTransport):
            assert verifyObject(IUNIXTransport, transport)
            assert isinstance(transport.getHandle(), socket.socket)
        assert serverTransport.getHost() == UNIXAddress(path)
        # The client's socket is not bound to a name.
        assert serverTransport.getPeer() == UNIXAddress(None)
        assert factory.addresses[0] == UNIXAddress(None)
        assert clientTransport.getPeer() == UNIXAddress(path)
        assert clientTransport.getHost() == UNIXAddress(None)
        assert isinstance(serverTransport, unix.Server)
        assert isinstance(clientTransport, unix.Client)
        clientTransport.loseConnection()
        await client.done
        await streams.finish(port, factory, None)

    runReactor(reactor, go)


def test_abstractNamespaceAddress(reactor: Any, runReactor: Any, streams: Any) -> None:
    name = abstractName()

    def go() -> Any:
        port = reactor.listenUNIX(name, streams.RecordingFactory())
        assert port.getHost() == UNIXAddress(name.encode())
        assert port.getHost().name.startswith(b"\0")
        return port.stopListening()

    runReactor(reactor, go)


@pytest.mark.parametrize("mode", [0o600, 0o660, 0o666])
def test_socketFileMode(
    reactor: Any, runReactor: Any, sockDir: str, mode: int, streams: Any
) -> None:
    path = os.path.join(sockDir, "mode.sock")

    def go() -> Any:
        port = reactor.listenUNIX(path, streams.RecordingFactory(), mode=mode)
        info = os.stat(path)
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == mode
        return port.stopListening()

    runReactor(reactor, go)
    assert not os.path.exists(path)


def test_pathInUseIsRefused(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "taken.sock")

    def go() -> Any:
        port = reactor.listenUNIX(path, streams.RecordingFactory())
        factory = streams.RecordingFactory()
        with pytest.raises(error.CannotListenError):
            reactor.listenUNIX(path, factory)
        # The failed attempt did not remove the first port's file, nor start its factory.
        assert os.path.exists(path)
        assert factory.numPorts == 0
        return port.stopListening()

    runReactor(reactor, go)


def test_missingDirectoryIsRefused(reactor: Any, sockDir: str, streams: Any) -> None:
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(os.path.join(sockDir, "no", "such.sock"), streams.RecordingFactory())


def test_stopListeningLeavesAReplacedFile(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    """Only the port's own socket file is removed, not one put in its place."""
    path = os.path.join(sockDir, "replaced.sock")

    async def go() -> None:
        port = reactor.listenUNIX(path, streams.RecordingFactory())
        os.remove(path)
        with open(path, "w") as f:
            f.write("someone else's")
        await port.stopListening()

    runReactor(reactor, go)
    with open(path) as f:
        assert f.read() == "someone else's"


# -- lock files


def test_lockFileRefusesASecondServer(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    path = os.path.join(sockDir, "locked.sock")
    lock = path + ".lock"

    async def go() -> None:
        port = reactor.listenUNIX(path, streams.RecordingFactory(), wantPID=True)
        assert os.readlink(lock) == str(os.getpid())
        with pytest.raises(error.CannotListenError) as refused:
            reactor.listenUNIX(path, streams.RecordingFactory(), wantPID=True)
        assert "lock" in str(refused.value)
        # The refused server touched neither the socket file nor the lock.
        assert os.path.exists(path)
        assert os.readlink(lock) == str(os.getpid())
        await port.stopListening()

    runReactor(reactor, go)
    assert not os.path.lexists(lock)
    assert not os.path.exists(path)


def test_lockHeldByAnotherLiveProcess(reactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "other.sock")
    holder = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        os.symlink(str(holder.pid), path + ".lock")
        with pytest.raises(error.CannotListenError):
            reactor.listenUNIX(path, streams.RecordingFactory(), wantPID=True)
        assert not os.path.exists(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()


def deadPID() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staleLockIsTakenOver(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    """A server that died left its lock and socket file: a new one replaces both."""
    path = os.path.join(sockDir, "stale.sock")
    os.symlink(str(deadPID()), path + ".lock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()
    assert stat.S_ISSOCK(os.stat(path).st_mode)

    async def go() -> bytes:
        factory = streams.RecordingFactory()
        port = reactor.listenUNIX(path, factory, wantPID=True)
        assert os.readlink(path + ".lock") == str(os.getpid())
        client = streams.Collector(b"alive", closeAfter=5)
        reactor.connectUNIX(path, streams.OneShotClientFactory(client), checkPID=True)
        data = await client.done
        return await streams.finish(port, factory, data)

    assert runReactor(reactor, go) == b"alive"
    assert not os.path.lexists(path + ".lock")


def test_withoutWantPIDAStaleSocketFileIsInTheWay(
    reactor: Any, sockDir: str, streams: Any
) -> None:
    path = os.path.join(sockDir, "leftover.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(path, streams.RecordingFactory())


def test_checkPIDWithoutALock(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "unlocked.sock")

    async def go() -> Any:
        factory = streams.RecordingFactory()
        port = reactor.listenUNIX(path, factory)
        client = streams.OneShotClientFactory(streams.Collector())
        reactor.connectUNIX(path, client, checkPID=True)
        failed = await client.failed
        await port.stopListening()
        return failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.BadFileError)


# -- connecting


def test_connectToMissingPath(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    def go() -> Any:
        factory = streams.OneShotClientFactory(streams.Collector())
        reactor.connectUNIX(os.path.join(sockDir, "nobody.sock"), factory)
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectError)
    assert reason.value.osError == 2  # ENOENT


def test_connectToSocketFileWithoutListener(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    path = os.path.join(sockDir, "deaf.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)
    dead.close()

    def go() -> Any:
        factory = streams.OneShotClientFactory(streams.Collector())
        reactor.connectUNIX(path, factory)
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.ConnectionRefusedError)


def test_stopConnecting(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "never.sock")

    def go() -> Any:
        factory = streams.OneShotClientFactory(streams.Collector())
        connector = reactor.connectUNIX(path, factory)
        connector.stopConnecting()
        return factory.failed

    (reason,) = runReactor(reactor, go)
    assert reason.check(error.UserError)


def test_fullBacklogIsRetried(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    """Clients beyond the listener's backlog wait their turn instead of failing."""
    path = os.path.join(sockDir, "busy.sock")
    count = 20

    async def go() -> list[bytes]:
        factory = streams.RecordingFactory()
        port = reactor.listenUNIX(path, factory, backlog=1)
        clients = [streams.Collector(b"%d" % i, closeAfter=len(b"%d" % i)) for i in range(count)]
        for client in clients:
            reactor.connectUNIX(path, streams.OneShotClientFactory(client))
        data = await gatherResults([c.done for c in clients])
        return await streams.finish(port, factory, data)

    assert runReactor(reactor, go) == [b"%d" % i for i in range(count)]


def test_halfClose(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "half.sock")

    async def go() -> bytes:
        factory = streams.RecordingFactory(streams.HalfCloser)
        port = reactor.listenUNIX(path, factory)
        client = streams.Asker()
        reactor.connectUNIX(path, streams.OneShotClientFactory(client))
        data = await client.done
        return await streams.finish(port, factory, data)

    assert runReactor(reactor, go) == b"got question"


# -- peer credentials


def test_peerCredentials(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "creds.sock")
    mine = unix.PeerCredentials(os.getpid(), os.geteuid(), os.getegid())

    async def go() -> Any:
        factory = streams.RecordingFactory()
        async with connection(reactor, streams, path, factory) as clientTransport:
            serverTransport = await factory.firstMade
            credentials = (
                serverTransport.getPeerCredentials(),
                clientTransport.getPeerCredentials(),
            )
            clientTransport.loseConnection()
        return credentials

    assert runReactor(reactor, go) == (mine, mine)


def test_peerCredentialsOfAnotherProcess(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    path = os.path.join(sockDir, "child.sock")
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "s.recv(1)\n"
    )

    async def go() -> Any:
        made: Deferred[Any] = Deferred()

        class Server(streams.Echo):
            def connectionMade(self) -> None:
                made.callback(self.transport)

        factory = streams.RecordingFactory(Server)
        port = reactor.listenUNIX(path, factory)
        child = subprocess.Popen([sys.executable, "-c", script, path])
        transport = await made
        credentials = transport.getPeerCredentials()
        transport.loseConnection()
        await streams.finish(port, factory, None)
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


def test_passDescriptor(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    """Send a pipe's write end; the receiver writes into it; read it back here."""
    path = os.path.join(sockDir, "fds.sock")

    async def go() -> Any:
        factory = streams.RecordingFactory(DescriptorWriter)
        async with connection(reactor, streams, path, factory) as transport:
            readEnd, writeEnd = os.pipe()
            transport.sendFileDescriptor(writeEnd)
            # A copy was taken: ours can be closed at once.
            os.close(writeEnd)
            transport.write(b"x.")
        with os.fdopen(readEnd, "rb") as pipe:
            return pipe.read(), factory.instances[0].events

    before = fdCount()
    written, events = runReactor(reactor, go)
    assert written == b"written by the receiver #1\n"
    # The descriptor arrives before the byte it travels with.
    assert events[0] == "fd"
    assert b"".join(e for e in events if e != "fd") == b"x."
    assert fdCount() == before


def test_passSeveralDescriptors(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "many.sock")

    async def go() -> Any:
        factory = streams.RecordingFactory(DescriptorWriter)
        async with connection(reactor, streams, path, factory) as transport:
            pipes = [os.pipe() for _ in range(3)]
            for _, writeEnd in pipes:
                transport.sendFileDescriptor(writeEnd)
                os.close(writeEnd)
            transport.write(b"abc.")
        results = []
        for readEnd, _ in pipes:
            with os.fdopen(readEnd, "rb") as pipe:
                results.append(pipe.read())
        return results

    before = fdCount()
    assert runReactor(reactor, go) == [b"written by the receiver #%d\n" % n for n in (1, 3, 5)]
    assert fdCount() == before


def test_descriptorsToAProtocolThatDoesNotWantThem(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    """The kernel closes them: nothing leaks, and the bytes still arrive."""
    path = os.path.join(sockDir, "unwanted.sock")

    async def go() -> bytes:
        factory = streams.RecordingFactory()
        client = streams.Collector(closeAfter=3)
        async with connection(reactor, streams, path, factory, client) as transport:
            readEnd, writeEnd = os.pipe()
            transport.sendFileDescriptor(writeEnd)
            transport.write(b"abc")
            os.close(writeEnd)
        # Every write end is closed, so the pipe reads as ended.
        assert os.read(readEnd, 10) == b""
        os.close(readEnd)
        return bytes(client.received)

    before = fdCount()
    assert runReactor(reactor, go) == b"abc"
    assert fdCount() == before


def assertOverrun(
    reactor: Any, runReactor: Any, streams: Any, path: str, misuse: Callable[[Any], None]
) -> None:
    """``misuse(transport)`` of a connection to a DescriptorWriter: an overrun; nothing leaks."""

    async def go() -> Any:
        factory = streams.RecordingFactory(DescriptorWriter)
        client = streams.Collector()
        async with connection(reactor, streams, path, factory, client) as transport:
            misuse(transport)
        return (client.reason,)

    before = fdCount()
    (reason,) = runReactor(reactor, go)
    assert reason.check(error.FileDescriptorOverrun)
    assert fdCount() == before


def test_moreDescriptorsThanBytesIsAnOverrun(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    def misuse(transport: Any) -> None:
        transport.sendFileDescriptor(0)
        transport.sendFileDescriptor(0)
        transport.write(b"x")

    assertOverrun(reactor, runReactor, streams, os.path.join(sockDir, "overrun.sock"), misuse)


def test_descriptorWithoutBytesBeforeCloseIsAnOverrun(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    def misuse(transport: Any) -> None:
        transport.sendFileDescriptor(0)
        transport.loseConnection()

    assertOverrun(reactor, runReactor, streams, os.path.join(sockDir, "unsent.sock"), misuse)


def test_sendingABadDescriptorFailsAtOnce(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    path = os.path.join(sockDir, "bad.sock")

    async def go() -> None:
        async with connection(reactor, streams, path, streams.RecordingFactory()) as transport:
            readEnd, writeEnd = os.pipe()
            os.close(readEnd)
            os.close(writeEnd)
            with pytest.raises(OSError):
                transport.sendFileDescriptor(writeEnd)
            transport.loseConnection()

    runReactor(reactor, go)


def test_receiverErrorClosesTheRestAndOnlyThatConnection(
    reactor: Any, runReactor: Any, sockDir: str, streams: Any
) -> None:
    path = os.path.join(sockDir, "failing.sock")

    @implementer(IFileDescriptorReceiver)
    class Failing(streams.Echo):
        def fileDescriptorReceived(self, descriptor: int) -> None:
            os.close(descriptor)
            raise ValueError("no, thank you")

    async def go() -> Any:
        factory = streams.RecordingFactory(Failing)
        async with connection(reactor, streams, path, factory) as transport:
            for _ in range(3):
                transport.sendFileDescriptor(1)
            transport.write(b"abc")

    from fw.logger import capturedLogs

    before = fdCount()
    with capturedLogs() as events:
        runReactor(reactor, go)
    assert fdCount() == before
    logged = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert [f.type for f in logged] == [ValueError]
    assert len(runReactor.flushLoggedErrors(ValueError)) == 1


def test_adoptedDescriptors(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    """``adoptStreamPort``/``adoptStreamConnection`` take AF_UNIX sockets too."""
    path = os.path.join(sockDir, "adopted.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(5)
    left, right = socket.socketpair()

    async def go() -> Any:
        factory = streams.RecordingFactory()
        port = reactor.adoptStreamPort(listener.fileno(), socket.AF_UNIX, factory)
        assert isinstance(port, unix.Port)
        assert port.getHost() == UNIXAddress(path)
        client = streams.Collector(b"through the adopted port", closeAfter=24)
        reactor.connectUNIX(path, streams.OneShotClientFactory(client))
        first = await client.done
        await streams.finish(port, factory, None)
        pairFactory = streams.RecordingFactory(lambda: streams.Collector(closeAfter=4))
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


def test_noDescriptorLeaks(reactor: Any, runReactor: Any, sockDir: str, streams: Any) -> None:
    path = os.path.join(sockDir, "cycles.sock")
    missing = os.path.join(sockDir, "missing.sock")

    async def go() -> None:
        for i in range(20):
            factory = streams.RecordingFactory(DescriptorWriter)
            port = reactor.listenUNIX(path, factory, wantPID=True)
            for _ in range(10):
                client = streams.Collector(b"ping.", closeAfter=5)
                reactor.connectUNIX(path, streams.OneShotClientFactory(client))
                transport = await client.made
                readEnd, writeEnd = os.pipe()
                transport.sendFileDescriptor(writeEnd)
                os.close(writeEnd)
                await client.done
                os.close(readEnd)
            failing = streams.OneShotClientFactory(streams.Collector())
            reactor.connectUNIX(missing, failing)
            await failing.failed
            if i % 5 == 0:
                with pytest.raises(error.CannotListenError):
                    reactor.listenUNIX(path, streams.RecordingFactory(), wantPID=True)
            await streams.finish(port, factory, None)

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
