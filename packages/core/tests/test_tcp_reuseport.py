"""listenTCP's ``reusePort`` (SO_REUSEPORT), on every backend, in one process and in two."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from fw.internet import error
from fw.internet.defer import Deferred
from fw.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint, serverFromString
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.internet.testing import MemoryReactor

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT"), reason="this platform has no SO_REUSEPORT"
)


class Greeter(Protocol):
    """Says which listener accepted the connection, then closes."""

    def connectionMade(self) -> None:
        self.transport.write(self.factory.name)
        self.transport.loseConnection()


def greeter(name: bytes) -> Factory:
    factory = Factory.forProtocol(Greeter)
    factory.name = name  # type: ignore[attr-defined]
    return factory


class Reader(Protocol):
    def __init__(self) -> None:
        self.received = b""
        self.done: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any) -> None:
        self.done.callback(self.received)


async def fetch(reactor: Any, port: int) -> bytes:
    """Connect to 127.0.0.1:``port`` and return what the server says."""
    reader = Reader()
    reactor.connectTCP("127.0.0.1", port, ClientFactory.forProtocol(lambda: reader))
    return await reader.done


def test_twoPortsShareAnAddress(reactor: Any, runReactor: Any) -> None:
    """
    Two ports listening with ``reusePort`` bind the same address and port,
    and both serve connections to it.
    """

    async def go() -> Any:
        first = reactor.listenTCP(0, greeter(b"A"), interface="127.0.0.1", reusePort=True)
        number = first.getHost().port
        second = reactor.listenTCP(number, greeter(b"B"), interface="127.0.0.1", reusePort=True)
        try:
            assert second.getHost().port == number
            # The kernel spreads connections over the two by a hash of the
            # client's address and port: with enough of them, both get some.
            seen = set()
            for _ in range(64):
                seen.add(await fetch(reactor, number))
                if seen == {b"A", b"B"}:
                    break
            return first.reusePort, seen
        finally:
            await second.stopListening()
            await first.stopListening()

    reusePort, seen = runReactor(reactor, go)
    assert reusePort is True
    assert seen == {b"A", b"B"}


@pytest.mark.parametrize(
    ("firstReuses", "secondReuses"), [(False, False), (True, False), (False, True)]
)
def test_withoutReusePortTheSecondCannotListen(
    reactor: Any, runReactor: Any, firstReuses: bool, secondReuses: bool
) -> None:
    """
    Unless both ask for ``reusePort``, the second port cannot bind the
    first's address; the first keeps serving.
    """

    async def go() -> bytes:
        first = reactor.listenTCP(0, greeter(b"A"), interface="127.0.0.1", reusePort=firstReuses)
        number = first.getHost().port
        try:
            with pytest.raises(error.CannotListenError) as caught:
                reactor.listenTCP(
                    number, greeter(b"B"), interface="127.0.0.1", reusePort=secondReuses
                )
            assert caught.value.port == number
            return await fetch(reactor, number)
        finally:
            await first.stopListening()

    assert runReactor(reactor, go) == b"A"


def test_reusePortIsOffByDefault(reactor: Any, runReactor: Any) -> None:
    """A port made without the keyword does not set SO_REUSEPORT."""

    async def go() -> int:
        port = reactor.listenTCP(0, greeter(b"A"), interface="127.0.0.1")
        try:
            assert port.reusePort is False
            return int(port.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))
        finally:
            await port.stopListening()

    assert runReactor(reactor, go) == 0


_CHILD = textwrap.dedent(
    """
    import sys
    import threading

    from fw.internet import error, epollreactor
    from fw.internet.protocol import Factory, Protocol

    reactor = epollreactor.install()

    class Greeter(Protocol):
        def connectionMade(self):
            self.transport.write(b"child")
            self.transport.loseConnection()

    try:
        reactor.listenTCP(
            int(sys.argv[1]),
            Factory.forProtocol(Greeter),
            interface="127.0.0.1",
            reusePort=sys.argv[2] == "yes",
        )
    except error.CannotListenError as e:
        print("CANNOT", e.socketError, flush=True)
        sys.exit(0)
    print("LISTENING", flush=True)

    def waitForStdinToClose():
        sys.stdin.read()
        reactor.callFromThread(reactor.stop)

    threading.Thread(target=waitForStdinToClose, daemon=True).start()
    reactor.run()
    """
)


@pytest.mark.parametrize(("childReuses", "expected"), [(True, "LISTENING"), (False, "CANNOT")])
def test_twoProcesses(reactor: Any, runReactor: Any, childReuses: bool, expected: str) -> None:
    """
    A port in another process can share this one's address when both ask
    for ``reusePort``, and cannot when it does not.
    """
    answers: list[str] = []

    async def go() -> set[bytes]:
        port = reactor.listenTCP(0, greeter(b"parent"), interface="127.0.0.1", reusePort=True)
        number = port.getHost().port
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(number), "yes" if childReuses else "no"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        seen: set[bytes] = set()
        try:
            assert child.stdout is not None
            # A blocking read, with the reactor idle: the child answers at once.
            ready, _, _ = select.select([child.stdout], [], [], 15)
            answers.append(child.stdout.readline().strip() if ready else "TIMEOUT")
            if answers[0] == "LISTENING":
                for _ in range(64):
                    seen.add(await fetch(reactor, number))
                    if seen == {b"parent", b"child"}:
                        break
        finally:
            assert child.stdin is not None
            child.stdin.close()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            assert child.stdout is not None
            child.stdout.close()
            await port.stopListening()
        return seen

    seen = runReactor(reactor, go, timeout=20)
    assert answers[0].split()[0] == expected
    if childReuses:
        assert seen == {b"parent", b"child"}


# -- endpoints


def test_endpointsPassReusePort() -> None:
    """TCP4 and TCP6 server endpoints hand ``reusePort`` to ``listenTCP``."""
    reactor = _KeywordRecorder()
    TCP4ServerEndpoint(reactor, 80, reusePort=True).listen(Factory())
    TCP6ServerEndpoint(reactor, 80, interface="::1", reusePort=True).listen(Factory())
    TCP4ServerEndpoint(reactor, 80).listen(Factory())
    assert reactor.calls == [
        (80, 50, "", {"reusePort": True}),
        (80, 50, "::1", {"reusePort": True}),
        # Not asked for: not passed, so reactors without the extension still work.
        (80, 50, "", {}),
    ]


class _KeywordRecorder(MemoryReactor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int, str, dict[str, Any]]] = []

    def listenTCP(  # type: ignore[override]
        self, port: int, factory: Any, backlog: int = 50, interface: str = "", **kw: Any
    ) -> Any:
        self.calls.append((port, backlog, interface, kw))
        return super().listenTCP(port, factory, backlog, interface)


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("tcp:8080:reusePort=yes", True),
        ("tcp:8080:reusePort=no", False),
        ("tcp:8080:interface=127.0.0.1:reusePort=YES", True),
        ("tcp:8080:reusePort=1", True),
        ("tcp:8080:reusePort=false", False),
        ("tcp:8080", False),
        ("tcp6:8080:reusePort=yes", True),
        ("tcp6:8080:interface=\\:\\:1:reusePort=true", True),
    ],
)
def test_endpointString(description: str, expected: bool) -> None:
    """``reusePort=yes`` in a ``tcp``/``tcp6`` server string sets the option."""
    reactor = _KeywordRecorder()
    serverFromString(reactor, description).listen(Factory())
    (call,) = reactor.calls
    assert call[3].get("reusePort", False) is expected


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("tcp:8080:reusePort=maybe", "reusePort must be yes or no, not 'maybe'"),
        ("tcp:8080:127.0.0.1:50:yes", "at most 3 positional field(s)"),
        ("tcp6:8080:reusePort=", "reusePort must be yes or no, not ''"),
    ],
)
def test_endpointStringErrors(description: str, message: str) -> None:
    """A bad ``reusePort`` value, or one given by position, is refused."""
    with pytest.raises(ValueError) as caught:
        serverFromString(MemoryReactor(), description)
    assert message in str(caught.value)


def test_endpointStringListensTwice(reactor: Any, runReactor: Any) -> None:
    """Two endpoints from one ``reusePort=yes`` string listen on one real port."""

    async def go() -> set[bytes]:
        first = await serverFromString(reactor, "tcp:0:interface=127.0.0.1:reusePort=yes").listen(
            greeter(b"A")
        )
        number = first.getHost().port
        second = await serverFromString(
            reactor, f"tcp:{number}:interface=127.0.0.1:reusePort=yes"
        ).listen(greeter(b"B"))
        seen = set()
        try:
            for _ in range(64):
                seen.add(await fetch(reactor, number))
                if seen == {b"A", b"B"}:
                    break
        finally:
            await second.stopListening()
            await first.stopListening()
        return seen

    assert runReactor(reactor, go) == {b"A", b"B"}


def _ipv6Loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6Loopback(), reason="no IPv6 loopback")
def test_ipv6PortsShareAnAddress(reactor: Any, runReactor: Any) -> None:
    """``reusePort`` works for IPv6 ports too, and is still needed by both."""

    async def go() -> int:
        first = reactor.listenTCP(0, greeter(b"A"), interface="::1", reusePort=True)
        number = first.getHost().port
        second = reactor.listenTCP(number, greeter(b"B"), interface="::1", reusePort=True)
        try:
            with pytest.raises(error.CannotListenError):
                reactor.listenTCP(number, greeter(b"C"), interface="::1")
            return int(second.getHost().port)
        finally:
            await second.stopListening()
            await first.stopListening()

    assert runReactor(reactor, go) > 0
