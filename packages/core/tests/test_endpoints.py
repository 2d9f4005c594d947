"""Endpoints on every reactor backend, over real loopback sockets, pipes and processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error
from fw.internet.address import IPv4Address, IPv6Address
from fw.internet.endpoints import (
    AdoptedStreamServerEndpoint,
    HostnameEndpoint,
    ProcessEndpoint,
    StandardErrorBehavior,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    TCP6ClientEndpoint,
    TCP6ServerEndpoint,
    UNIXClientEndpoint,
    UNIXServerEndpoint,
    clientFromString,
    connectProtocol,
    serverFromString,
)
from fw.internet.interfaces import (
    IHalfCloseableProtocol,
    IHostnameResolver,
    IProcessTransport,
    IStreamClientEndpoint,
    IStreamServerEndpoint,
)
from fw.internet.protocol import Factory
from fw.internet.task import deferLater
from fw.logger import capturedLogs


@dataclass
class _Resolution:
    name: str

    def cancel(self) -> None:
        pass


@implementer(IHostnameResolver)
class TableResolver:
    """Resolves names from a table, at once, honouring ``addressTypes``."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type] | None = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        for host in self.table.get(hostName, []):
            kind = IPv6Address if ":" in host else IPv4Address
            if addressTypes is None or kind in addressTypes:
                resolutionReceiver.addressResolved(kind("TCP", host, portNumber))
        resolutionReceiver.resolutionComplete()
        return resolution


def freePort(host: str = "127.0.0.1") -> int:
    """A port that was just free on ``host``, with nothing listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def fdCount() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def echoThrough(streams: Any) -> Callable[..., Awaitable[tuple[Any, Any, bytes]]]:
    """
    ``await echoThrough(serverEndpoint, clientEndpoint, payload)``: listen,
    connect (``clientEndpoint`` is called with the port number), echo
    ``payload``, wait for both ends to close, stop listening; return the port
    number (None for UNIX sockets), the client's peer and what it received.
    """

    async def echoThrough(
        serverEndpoint: Any, clientEndpoint: Any, payload: bytes = b"hello, endpoints"
    ) -> tuple[Any, Any, bytes]:
        factory = streams.RecordingFactory()
        port = await serverEndpoint.listen(factory)
        host = port.getHost()
        number = getattr(host, "port", None)
        client = streams.Collector(payload, closeAfter=len(payload))
        protocol = await connectProtocol(clientEndpoint(number), client)
        assert protocol is client
        peer = client.transport.getPeer()
        data = await client.done
        await factory.allClosed()
        await port.stopListening()
        return number, peer, data

    return echoThrough


def test_interfaces() -> None:
    for server in (
        TCP4ServerEndpoint(None, 0),
        TCP6ServerEndpoint(None, 0),
        UNIXServerEndpoint(None, "/x"),
        AdoptedStreamServerEndpoint(None, 3, socket.AF_INET),
    ):
        assert verifyObject(IStreamServerEndpoint, server)
    for client in (
        TCP4ClientEndpoint(None, "h", 1),
        TCP6ClientEndpoint(None, "::1", 1),
        UNIXClientEndpoint(None, "/x"),
        HostnameEndpoint(None, "h", 1),
    ):
        assert verifyObject(IStreamClientEndpoint, client)


def test_tcp4(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    async def go() -> Any:
        return await echoThrough(
            TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"),
            lambda port: TCP4ClientEndpoint(reactor, "127.0.0.1", port),
        )

    number, peer, data = runReactor(reactor, go)
    assert data == b"hello, endpoints"
    assert peer == IPv4Address("TCP", "127.0.0.1", number)


def test_tcp6(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    async def go() -> Any:
        return await echoThrough(
            TCP6ServerEndpoint(reactor, 0, interface="::1"),
            lambda port: TCP6ClientEndpoint(reactor, "::1", port),
        )

    number, peer, data = runReactor(reactor, go)
    assert data == b"hello, endpoints"
    assert isinstance(peer, IPv6Address)
    assert (peer.host, peer.port) == ("::1", number)


def test_tcp6ClientResolvesAName(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    reactor.installNameResolver(TableResolver({"six.example": ["127.0.0.1", "::1"]}))

    async def go() -> Any:
        return await echoThrough(
            TCP6ServerEndpoint(reactor, 0, interface="::1"),
            lambda port: TCP6ClientEndpoint(reactor, "six.example", port),
        )

    _, peer, _ = runReactor(reactor, go)
    assert peer.host == "::1"


def test_tcp6ClientNameWithoutIPv6Address(reactor: Any, runReactor: Any, streams: Any) -> None:
    reactor.installNameResolver(TableResolver({"four.example": ["127.0.0.1"]}))

    def go() -> Any:
        d = TCP6ClientEndpoint(reactor, "four.example", 80).connect(
            Factory.forProtocol(streams.Echo)
        )
        return d.addCallbacks(lambda _: None, lambda f: (f,))

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.DNSLookupError)
    assert "four.example" in failure.getErrorMessage()


def test_serverFromStringAndClientFromString(
    reactor: Any, runReactor: Any, echoThrough: Any
) -> None:
    async def go() -> Any:
        return await echoThrough(
            serverFromString(reactor, "tcp:0:interface=127.0.0.1"),
            lambda port: clientFromString(reactor, f"tcp:host=127.0.0.1:port={port}:timeout=5"),
        )

    _, _, data = runReactor(reactor, go)
    assert data == b"hello, endpoints"


def test_tcp6FromString(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    async def go() -> Any:
        return await echoThrough(
            serverFromString(reactor, r"tcp6:port=0:interface=\:\:1"),
            lambda port: clientFromString(reactor, rf"tcp6:\:\:1:{port}"),
        )

    _, peer, _ = runReactor(reactor, go)
    assert peer.host == "::1"


def test_listenFailureIsAFailedDeferred(reactor: Any, runReactor: Any, streams: Any) -> None:
    async def go() -> Any:
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
            streams.RecordingFactory()
        )
        taken = port.getHost().port
        again = TCP4ServerEndpoint(reactor, taken, interface="127.0.0.1").listen(
            streams.RecordingFactory()
        )
        outcome = await again.addCallbacks(lambda _: None, lambda f: (f,))
        await port.stopListening()
        return outcome

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.CannotListenError)


def test_connectionRefused(reactor: Any, runReactor: Any, streams: Any) -> None:
    port = freePort()
    factory = streams.RecordingFactory()

    def go() -> Any:
        d = TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(factory)
        return d.addCallbacks(lambda _: None, lambda f: (f,))

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.ConnectionRefusedError)
    assert factory.instances == []
    assert factory.numPorts == 0


def test_cancelConnectionAttempt(reactor: Any, runReactor: Any, streams: Any) -> None:
    before = fdCount()
    factory = streams.RecordingFactory()

    async def go() -> Any:
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Factory())
        number = port.getHost().port
        attempt = TCP4ClientEndpoint(reactor, "127.0.0.1", number).connect(factory)
        assert factory.numPorts == 1
        attempt.cancel()
        outcome = await attempt.addCallbacks(lambda _: None, lambda f: (f, number))
        # Let the abandoned attempt's scheduled work run out.
        await deferLater(reactor, 0)
        await port.stopListening()
        return outcome

    failure, number = runReactor(reactor, go)
    assert failure.check(error.ConnectingCancelledError)
    assert failure.value.address == IPv4Address("TCP", "127.0.0.1", number)
    assert factory.instances == []
    assert factory.numPorts == 0
    assert fdCount() == before


def test_connectionMadeRaisingFailsTheDeferred(
    reactor: Any, runReactor: Any, streams: Any
) -> None:
    class Broken(streams.Collector):
        def connectionMade(self) -> None:
            raise RuntimeError("no thanks")

    async def go() -> Any:
        server = streams.RecordingFactory()
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(server)
        client = Broken()
        attempt = connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port), client
        )
        outcome = await attempt.addCallbacks(lambda _: None, lambda f: (f,))
        await client.done
        await server.allClosed()
        await port.stopListening()
        return outcome

    with capturedLogs():
        (failure,) = runReactor(reactor, go)
    assert failure.check(RuntimeError)
    assert runReactor.flushLoggedErrors(RuntimeError)


def test_halfCloseablePassesThroughTheWrapper(reactor: Any, runReactor: Any, streams: Any) -> None:
    @implementer(IHalfCloseableProtocol)
    class Asker(streams.Collector):
        def connectionMade(self) -> None:
            self.transport.write(b"question")
            self.transport.loseWriteConnection()
            self.writeClosed = False

        def readConnectionLost(self) -> None:
            self.transport.loseConnection()

        def writeConnectionLost(self) -> None:
            self.writeClosed = True

    @implementer(IHalfCloseableProtocol)
    class Answerer(streams.Echo):
        data = b""

        def dataReceived(self, data: bytes) -> None:
            self.data += data

        def readConnectionLost(self) -> None:
            self.transport.write(b"answer to " + self.data)
            self.transport.loseConnection()

        def writeConnectionLost(self) -> None:
            pass

    async def go() -> Any:
        server = streams.RecordingFactory(Answerer)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(server)
        client = Asker()
        await connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port), client
        )
        data = await client.done
        await server.allClosed()
        await port.stopListening()
        return data, client.writeClosed

    assert runReactor(reactor, go) == (b"answer to question", True)


# -- HostnameEndpoint on real sockets


def test_hostnameEndpointFallsBackToIPv4(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    """Nothing listens on ::1: that attempt is refused and IPv4 wins without waiting."""
    reactor.installNameResolver(TableResolver({"dual.example": ["::1", "127.0.0.1"]}))

    async def go() -> Any:
        return await echoThrough(
            TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"),
            lambda port: HostnameEndpoint(reactor, "dual.example", port, attemptDelay=5),
        )

    _, peer, data = runReactor(reactor, go)
    assert data == b"hello, endpoints"
    assert peer.host == "127.0.0.1"


def test_hostnameEndpointPrefersIPv6(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    reactor.installNameResolver(TableResolver({"dual.example": ["::1", "127.0.0.1"]}))

    async def go() -> Any:
        return await echoThrough(
            TCP6ServerEndpoint(reactor, 0, interface="::1"),
            lambda port: HostnameEndpoint(reactor, "dual.example", port),
        )

    _, peer, _ = runReactor(reactor, go)
    assert peer.host == "::1"


def test_hostnameEndpointWithTheSystemResolver(
    reactor: Any, runReactor: Any, echoThrough: Any
) -> None:
    async def go() -> Any:
        return await echoThrough(
            TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1"),
            lambda port: HostnameEndpoint(reactor, "127.0.0.1", port),
        )

    _, peer, _ = runReactor(reactor, go)
    assert peer.host == "127.0.0.1"


def test_hostnameEndpointEveryAddressRefused(reactor: Any, runReactor: Any, streams: Any) -> None:
    port = freePort()
    reactor.installNameResolver(TableResolver({"dual.example": ["::1", "127.0.0.1"]}))

    def go() -> Any:
        d = HostnameEndpoint(reactor, "dual.example", port).connect(streams.RecordingFactory())
        return d.addCallbacks(lambda _: None, lambda f: (f,))

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.ConnectionRefusedError)
    message = failure.getErrorMessage()
    assert f"[::1]:{port}" in message
    assert f"127.0.0.1:{port}" in message
    assert isinstance(failure.value.__cause__, error.ConnectionRefusedError)


def test_hostnameEndpointCancelled(reactor: Any, runReactor: Any, streams: Any) -> None:
    before = fdCount()
    reactor.installNameResolver(TableResolver({"dual.example": ["::1", "127.0.0.1"]}))

    async def go() -> Any:
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Factory())
        attempt = HostnameEndpoint(reactor, "dual.example", port.getHost().port).connect(
            streams.RecordingFactory()
        )
        attempt.cancel()
        outcome = await attempt.addCallbacks(lambda _: None, lambda f: (f,))
        await deferLater(reactor, 0)
        await port.stopListening()
        return outcome

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.ConnectingCancelledError)
    assert failure.value.address.hostname == b"dual.example"
    assert fdCount() == before


# -- adopted sockets and systemd


def test_adoptedStreamServerEndpoint(reactor: Any, runReactor: Any, echoThrough: Any) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    number = listener.getsockname()[1]
    fileno = listener.detach()
    endpoint = AdoptedStreamServerEndpoint(reactor, fileno, socket.AF_INET)

    async def go() -> Any:
        result = await echoThrough(
            endpoint, lambda _: TCP4ClientEndpoint(reactor, "127.0.0.1", number)
        )
        again = await endpoint.listen(Factory()).addCallbacks(lambda _: None, lambda f: (f,))
        return result, again

    (portNumber, _, data), (failure,) = runReactor(reactor, go)
    assert data == b"hello, endpoints"
    assert portNumber == number
    assert failure.check(error.AlreadyListened)
    with pytest.raises(OSError):
        os.fstat(fileno)  # the endpoint closed its descriptor once adopted


SYSTEMD_CHILD = """
import os, socket, sys
from fw.internet import task
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol, serverFromString
from fw.internet.protocol import Factory, Protocol

# Play systemd: listening sockets at descriptors 3 and 4, named.
for fd in (3, 4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    if s.fileno() != fd:
        os.dup2(s.fileno(), fd)
        s.close()
    else:
        s.detach()
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="2", LISTEN_FDNAMES="admin:web")
webPort = socket.socket(fileno=os.dup(4)).getsockname()[1]

class Hello(Protocol):
    def connectionMade(self):
        self.transport.write(b"hello from the web socket")
        self.transport.loseConnection()

class Reader(Protocol):
    def connectionMade(self):
        self.data = b""
        from fw.internet.defer import Deferred
        self.done = Deferred()
    def dataReceived(self, data):
        self.data += data
    def connectionLost(self, reason):
        self.done.callback(self.data)

async def main(reactor):
    port = await serverFromString(reactor, "systemd:domain=INET:name=web").listen(
        Factory.forProtocol(Hello))
    assert port.getHost().port == webPort, (port.getHost(), webPort)
    reader = await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", webPort), Reader())
    print((await reader.done).decode())
    await port.stopListening()

task.react(main)
"""


def test_systemdSocketActivation() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SYSTEMD_CHILD], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the web socket\n"


# -- UNIX sockets


def test_unixServerAndClient(reactor: Any, runReactor: Any, tmp_path: Any, streams: Any) -> None:
    path = str(tmp_path / "echo.sock")

    async def go() -> Any:
        factory = streams.RecordingFactory()
        port = await UNIXServerEndpoint(reactor, path, mode=0o600, wantPID=True).listen(factory)
        mode = os.stat(path).st_mode & 0o777
        locked = os.path.lexists(path + ".lock")
        client = streams.Collector(b"over a UNIX socket", closeAfter=18)
        await connectProtocol(UNIXClientEndpoint(reactor, path, timeout=5), client)
        data = await client.done
        await factory.allClosed()
        await port.stopListening()
        return data, mode, locked

    assert runReactor(reactor, go) == (b"over a UNIX socket", 0o600, True)


def test_unixFromStrings(reactor: Any, runReactor: Any, tmp_path: Any, echoThrough: Any) -> None:
    path = str(tmp_path / "a:colon.sock")
    quoted = path.replace(":", "\\:")

    async def go() -> Any:
        server = serverFromString(reactor, f"unix:{quoted}:mode=640:lockfile=0")
        result = await echoThrough(
            server, lambda _: clientFromString(reactor, f"unix:path={quoted}:timeout=5")
        )
        return result, os.path.lexists(path + ".lock")

    (number, _, data), locked = runReactor(reactor, go)
    assert (number, data, locked) == (None, b"hello, endpoints", False)


def test_unixConnectFailure(reactor: Any, runReactor: Any, tmp_path: Any, streams: Any) -> None:
    def go() -> Any:
        endpoint = UNIXClientEndpoint(reactor, str(tmp_path / "nobody.sock"))
        return endpoint.connect(streams.RecordingFactory()).addCallbacks(
            lambda _: None, lambda f: (f,)
        )

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.ConnectError)


def test_unixListenFailure(reactor: Any, runReactor: Any, tmp_path: Any, streams: Any) -> None:
    def go() -> Any:
        endpoint = UNIXServerEndpoint(reactor, str(tmp_path / "no" / "such" / "dir.sock"))
        return endpoint.listen(streams.RecordingFactory()).addCallbacks(
            lambda _: None, lambda f: (f,)
        )

    (failure,) = runReactor(reactor, go)
    assert failure.check(error.CannotListenError)


# -- child processes and standard I/O

CHILD_ECHO = """
import sys
sys.stderr.write("starting\\n")
sys.stderr.flush()
data = sys.stdin.buffer.read()
sys.stdout.buffer.write(data.upper())
sys.exit(int(sys.argv[1]))
"""


def runChild(
    reactor: Any, runReactor: Any, streams: Any, status: int, errFlag: Any
) -> tuple[Any, Any, Any]:
    class ProcessCollector(streams.Collector):
        def connectionMade(self) -> None:
            assert IProcessTransport.providedBy(self.transport)
            self.transport.write(self.payload)
            self.transport.closeStdin()

    endpoint = ProcessEndpoint(
        reactor,
        sys.executable,
        [sys.executable, "-c", CHILD_ECHO, str(status)],
        env=None,
        errFlag=errFlag,
    )

    async def go() -> Any:
        child = ProcessCollector(b"shout this")
        protocol = await connectProtocol(endpoint, child)
        assert protocol is child
        pid = child.transport.pid
        data = await child.done
        return data, child.reason, pid

    with capturedLogs() as events:
        data, reason, pid = runReactor(reactor, go)
    assert data == b"SHOUT THIS"
    assert isinstance(pid, int)
    return data, reason, events


def test_processEndpoint(reactor: Any, runReactor: Any, streams: Any) -> None:
    _, reason, events = runChild(reactor, runReactor, streams, 0, StandardErrorBehavior.LOG)
    assert reason.check(error.ConnectionDone)
    assert any(b"starting" in e.get("data", b"") for e in events)


def test_processEndpointFailingChildAndDroppedStderr(
    reactor: Any, runReactor: Any, streams: Any
) -> None:
    _, reason, events = runChild(reactor, runReactor, streams, 3, StandardErrorBehavior.DROP)
    assert reason.check(error.ProcessTerminated)
    assert reason.value.exitCode == 3
    assert not any(b"starting" in e.get("data", b"") for e in events)


def test_processEndpointMissingExecutable(
    reactor: Any, runReactor: Any, tmp_path: Any, streams: Any
) -> None:
    endpoint = ProcessEndpoint(reactor, str(tmp_path / "no-such-program"), ["x"])
    factory = streams.RecordingFactory()

    def go() -> Any:
        return endpoint.connect(factory).addCallbacks(lambda _: None, lambda f: (f,))

    (failure,) = runReactor(reactor, go)
    assert failure.check(OSError)


STDIO_CHILD = """
import sys
from fw.internet import task
from fw.internet.defer import Deferred
from fw.internet.endpoints import StandardIOEndpoint
from fw.internet.protocol import Factory, Protocol

class Reverse(Protocol):
    '''Answers each line reversed; stops at "bye".'''

    def __init__(self):
        self.buffer = b""
        self.done = Deferred()

    def dataReceived(self, data):
        self.buffer += data
        while b"\\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\\n", 1)
            if line == b"bye":
                self.transport.loseConnection()
                return
            self.transport.write(line[::-1] + b"\\n")

    def connectionLost(self, reason):
        self.done.callback(None)

async def main(reactor):
    proto = Reverse()
    await StandardIOEndpoint(reactor).listen(Factory.forProtocol(lambda: proto))
    await proto.done

task.react(main)
"""


def test_standardIOEndpointDrivenThroughAProcessEndpoint(
    reactor: Any, runReactor: Any, streams: Any
) -> None:
    class Talker(streams.Collector):
        def connectionMade(self) -> None:
            self.transport.write(b"hello\nendpoints\n")

        def dataReceived(self, data: bytes) -> None:
            super().dataReceived(data)
            if self.received.count(b"\n") == 2:
                self.transport.write(b"bye\n")

    endpoint = ProcessEndpoint(
        reactor,
        sys.executable,
        [sys.executable, "-c", textwrap.dedent(STDIO_CHILD)],
        env=None,
    )

    async def go() -> Any:
        talker = await connectProtocol(endpoint, Talker())
        data = await talker.done
        return data, talker.reason

    with capturedLogs() as events:
        data, reason = runReactor(reactor, go)
    errors = [e for e in events if e.get("data")]
    assert data == b"olleh\nstniopdne\n", errors
    assert reason.check(error.ConnectionDone)
