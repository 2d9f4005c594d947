"""
Running out of descriptors on accept (EMFILE), on every backend.

A server in a subprocess, with a low RLIMIT_NOFILE, is offered more
connections than it can hold.  It must shed the excess rather than spin on a
listener that stays readable, keep listening, and serve again once
descriptors are free.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

# The server: its backend is argv[1]; it prints its port once its limit is set.
SERVER = textwrap.dedent(
    """
    import importlib
    import os
    import resource
    import sys

    BACKENDS = {
        "select": ("fw.internet.selectreactor", "SelectReactor"),
        "poll": ("fw.internet.pollreactor", "PollReactor"),
        "epoll": ("fw.internet.epollreactor", "EPollReactor"),
        "asyncio": ("fw.internet.asyncioreactor", "AsyncioSelectorReactor"),
        "uvloop": ("fw.internet.asyncioreactor", "AsyncioSelectorReactor"),
        "glib": ("fw.internet.gireactor", "GIReactor"),
    }
    HEADROOM = int(sys.argv[2])

    from fw.internet.protocol import Factory, Protocol

    class Greeter(Protocol):
        def connectionMade(self):
            self.transport.write(b"hi")

        def dataReceived(self, data):
            self.transport.write(data)

    name = sys.argv[1]
    module, cls = BACKENDS[name]
    factory = getattr(importlib.import_module(module), cls)
    if name == "uvloop":
        import uvloop

        reactor = factory(uvloop.new_event_loop())
    else:
        reactor = factory()

    def listen():
        # Inside the running loop, which has opened whatever it needs: from now
        # on only accept() needs descriptors, and HEADROOM of them are left.
        highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
        port = reactor.listenTCP(0, Factory.forProtocol(Greeter), interface="127.0.0.1")
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 3 + HEADROOM, hard))
        print(port.getHost().port, flush=True)

    reactor.callLater(0, listen)
    reactor.run()
    print("stopped", flush=True)
    """
)

# Descriptors the server has left for connections: it can hold about this many.
HEADROOM = 6
# Connections offered at once: several times what it can hold.
OFFERED = 4 * HEADROOM


def cpuSeconds(pid: int) -> float:
    """The CPU time (user + system, every thread) process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receiveGreeting(sock: socket.socket) -> bytes:
    """What a client gets first: b"hi" when held, b"" when shed (closed at once)."""
    sock.settimeout(10)
    data = b""
    while len(data) < 2:
        chunk = sock.recv(2 - len(data))
        if not chunk:
            break
        data += chunk
    return data


def receiveRest(sock: socket.socket) -> bytes:
    """Read until the other end closes; return what came after the greeting."""
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(100):
        data += chunk
    return data


def test_emfileOnAcceptNeitherSpinsNorKillsTheListener(
    reactor: Any, request: Any, tmp_path: Path
) -> None:
    # The reactor fixture picks the backend; the server builds its own in a subprocess.
    backend = request.node.callspec.params["reactor"]
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    server = subprocess.Popen(
        [sys.executable, str(script), backend, str(HEADROOM)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    clients: list[socket.socket] = []
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 30)
        assert ready, "the server did not start"
        line = server.stdout.readline()
        assert line.strip().isdigit(), line + server.stderr.read() if server.stderr else line
        port = int(line)

        # The kernel completes each handshake (the backlog is larger than
        # OFFERED), so these all connect, whether the server can take them or not.
        clients.extend(
            socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(OFFERED)
        )

        # A server that left the excess waiting in the backlog would find its
        # listener readable forever and spin; shedding it costs next to nothing.
        before = cpuSeconds(server.pid)
        time.sleep(1.0)
        used = cpuSeconds(server.pid) - before
        assert used < 0.5, f"the server used {used:.2f}s of CPU in 1s: it spins"

        # Each connection was either held (greeted) or shed (closed at once).
        greetings = [receiveGreeting(c) for c in clients]
        held = greetings.count(b"hi")
        shed = greetings.count(b"")
        assert held + shed == OFFERED, greetings
        # About HEADROOM held: a few more when lower descriptors were free.
        assert 1 <= held <= 2 * HEADROOM, greetings
        assert shed >= OFFERED - 2 * HEADROOM, greetings

        # Descriptors free up: the held clients hang up, and once each sees the
        # server's end close, the server has given its descriptor back.
        for c in clients:
            c.shutdown(socket.SHUT_WR)
            assert receiveRest(c) == b""
            c.close()
        clients.clear()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as again:
            assert receiveGreeting(again) == b"hi"
            again.sendall(b"still listening")
            echoed = b""
            while len(echoed) < 15:
                chunk = again.recv(100)
                assert chunk, echoed
                echoed += chunk
            assert echoed == b"still listening"

        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)
        assert server.returncode == 0, err.decode()
        assert out.decode().split() == ["stopped"]
        assert b"Traceback" not in err, err.decode()
    finally:
        for c in clients:
            c.close()
        if server.returncode is None:
            server.kill()
            server.communicate()


class _FailingAccept:
    """A listening socket whose accept() fails with EMFILE while ``failing``."""

    def __init__(self, real: socket.socket) -> None:
        self.real = real
        self.failing = True
        self.calls = 0

    def accept(self) -> Any:
        self.calls += 1
        if self.failing:
            raise OSError(24, "Too many open files")
        return self.real.accept()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_noSpareDescriptorPausesAccepting(reactor: Any, runReactor: Any) -> None:
    """
    With no reserve descriptor to shed a connection with, the port stops
    watching its socket for ``resourceRetryDelay`` instead of being woken for
    the same queued connection over and over.
    """
    from fw.internet.defer import Deferred
    from fw.internet.protocol import ClientFactory, Factory, Protocol
    from fw.internet.task import deferLater

    class Greeter(Protocol):
        def connectionMade(self) -> None:
            self.transport.write(b"hi")
            self.transport.loseConnection()

    class Reader(Protocol):
        def __init__(self) -> None:
            self.received = b""
            self.done: Deferred[bytes] = Deferred()

        def dataReceived(self, data: bytes) -> None:
            self.received += data

        def connectionLost(self, reason: Any) -> None:
            self.done.callback(self.received)

    async def go() -> Any:
        port = reactor.listenTCP(0, Factory.forProtocol(Greeter), interface="127.0.0.1")
        port.resourceRetryDelay = 0.05
        os.close(port._reserved)
        port._reserved = None
        failing = port.socket = _FailingAccept(port.socket)
        # Keep the reserve from coming back, as when another thread took it.
        port._reserve = lambda: None
        client = Reader()
        factory = ClientFactory.forProtocol(lambda: client)
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        await deferLater(reactor, 0.3, lambda: None)
        triedWhileFailing = failing.calls
        failing.failing = False
        received = await client.done
        port.socket = failing.real
        await port.stopListening()
        return triedWhileFailing, received

    tried, received = runReactor(reactor, go)
    # About one attempt per retry delay (0.3 s / 0.05 s), not a busy loop.
    assert 1 <= tried <= 12
    assert received == b"hi"
