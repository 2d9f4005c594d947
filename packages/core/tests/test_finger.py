"""fw.protocols.finger: the server's query parsing and overrides, the client, real peers."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from fw.internet import error
from fw.internet.defer import Deferred
from fw.internet.endpoints import TCP4ClientEndpoint
from fw.internet.protocol import Factory
from fw.internet.testing import StringTransport
from fw.internet.threads import deferToThreadPool
from fw.protocols import finger
from fw.python.failure import Failure
from fw.trial.pytestplugin import missingPeer


def ask(proto: Any, query: bytes) -> bytes:
    transport = StringTransport()
    proto.makeConnection(transport)
    for i in range(len(query)):
        proto.dataReceived(query[i : i + 1])
    assert transport.disconnecting
    return transport.value()


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (b"", (False, b"", [])),
        (b"/W", (True, b"", [])),
        (b"/w alice", (True, b"alice", [])),
        (b"alice", (False, b"alice", [])),
        (b"alice@host", (False, b"alice", [b"host"])),
        (b"/W @a@b", (True, b"", [b"a", b"b"])),
    ],
)
def test_parseQuery(line: bytes, parsed: Any) -> None:
    assert finger.parseQuery(line) == parsed


def test_defaultsRefuse() -> None:
    assert ask(finger.Finger(), b"moshez\r\n") == b"Login: moshez\r\nNo such user\r\n"
    assert ask(finger.Finger(), b"\r\n") == b"Finger online list denied\r\n"
    assert ask(finger.Finger(), b"/W\n") == b"Finger online list denied\r\n"
    assert ask(finger.Finger(), b"a@b\r\n") == b"Finger forwarding service denied\r\n"


class Users(finger.Finger):
    users: ClassVar[dict[bytes, bytes]] = {b"alice": b"Alice Liddell", b"bob": b"Bob"}

    def getUser(self, slash_w: bool, user: bytes) -> None:
        info = self.users.get(user)
        if info is None:
            super().getUser(slash_w, user)
            return
        extra = b" (verbose)" if slash_w else b""
        self.transport.write(b"Login: " + user + b"\r\nName: " + info + extra + b"\r\n")
        self.transport.loseConnection()

    def getDomain(self, slash_w: bool) -> None:
        self.transport.write(b"".join(u + b"\r\n" for u in sorted(self.users)))
        self.transport.loseConnection()

    def forwardQuery(self, slash_w: bool, user: bytes, host: bytes) -> None:
        self.transport.write(b"would forward " + user + b" to " + host + b"\r\n")
        self.transport.loseConnection()


def test_overrides() -> None:
    assert ask(Users(), b"alice\r\n") == b"Login: alice\r\nName: Alice Liddell\r\n"
    assert ask(Users(), b"/W alice\r\n").endswith(b"(verbose)\r\n")
    assert ask(Users(), b"\r\n") == b"alice\r\nbob\r\n"
    assert ask(Users(), b"x@h1@h2\r\n") == b"would forward x to h1@h2\r\n"
    assert ask(Users(), b"carol\r\n") == b"Login: carol\r\nNo such user\r\n"


def test_overlongQueryDropped() -> None:
    proto = finger.Finger()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"x" * 5000)
    assert transport.disconnecting
    assert transport.value() == b""


def test_clientCollectsUntilClose() -> None:
    client = finger.FingerClient(b"alice", verbose=True)
    transport = StringTransport()
    client.makeConnection(transport)
    assert transport.value() == b"/W alice\r\n"
    results: list[bytes] = []
    client.deferred.addCallback(results.append)
    client.dataReceived(b"Login: ")
    client.dataReceived(b"alice\r\n")
    client.connectionLost(Failure(error.ConnectionDone()))
    assert results == [b"Login: alice\r\n"]


def test_clientLimitsAnswer() -> None:
    client = finger.FingerClient(maxLength=10)
    transport = StringTransport()
    client.makeConnection(transport)
    failures: list[Failure] = []
    client.deferred.addErrback(failures.append)
    client.dataReceived(b"x" * 11)
    assert transport.disconnected
    client.connectionLost(Failure(error.ConnectionAborted()))
    assert failures[0].check(finger.FingerResponseTooLong)


def test_clientConnectionLostBadly() -> None:
    client = finger.FingerClient()
    client.makeConnection(StringTransport())
    failures: list[Failure] = []
    client.deferred.addErrback(failures.append)
    client.connectionLost(Failure(error.ConnectionLost()))
    assert failures[0].check(error.ConnectionLost)


def serve(reactor: Any, runReactor: Any, peer: Any) -> Any:
    def go() -> Deferred[Any]:
        port = reactor.listenTCP(0, Factory.forProtocol(Users), interface="127.0.0.1")
        d = deferToThreadPool(reactor, reactor.getThreadPool(), peer, port.getHost().port)
        return d.addCallback(lambda r: port.stopListening().addCallback(lambda _: r))

    return runReactor(reactor, go)


def test_serverWithRawSocket(reactor: Any, runReactor: Any) -> None:
    def peer(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"/W alice\r\n")
            got = b""
            while chunk := s.recv(4096):
                got += chunk
            return got

    assert serve(reactor, runReactor, peer) == b"Login: alice\r\nName: Alice Liddell (verbose)\r\n"


_FINGER_SCRIPT = """
import subprocess, sys
from fw.internet.epollreactor import EPollReactor
from fw.internet.protocol import Factory
from fw.internet.threads import deferToThreadPool
from fw.protocols.finger import Finger

class Users(Finger):
    def getUser(self, slash_w, user):
        self.transport.write(b"Login: " + user + b"\\r\\nVerbose: %d\\r\\n" % slash_w)
        self.transport.loseConnection()

reactor = EPollReactor()
reactor.listenTCP(79, Factory.forProtocol(Users), interface="127.0.0.1")
outputs = []

def run():
    for args in (["alice@127.0.0.1"], ["-l", "bob@127.0.0.1"], ["@127.0.0.1"]):
        result = subprocess.run([sys.argv[1], *args], capture_output=True, timeout=10)
        outputs.append(result.stdout)

def done(result):
    if result is not None:
        print(result)
    sys.stdout.write("---\\n".join(o.decode() for o in outputs))
    reactor.stop()

reactor.callWhenRunning(
    lambda: deferToThreadPool(reactor, reactor.getThreadPool(), run).addBoth(done)
)
reactor.run(installSignalHandlers=False)
"""


def test_serverWithFingerProgram(requirePeer: Any, tmp_path: Any) -> None:
    # Debian's finger client only connects to port 79, so the server runs in
    # a private network namespace (unshare -rn), where it may bind port 79
    # on that namespace's own loopback without privileges.
    program = requirePeer("finger")
    unshare = requirePeer("unshare")
    script = tmp_path / "server.py"
    script.write_text(_FINGER_SCRIPT)
    command = f"ip link set lo up && exec {sys.executable} {script} {program}"
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        missingPeer(f"unshare -rn is not permitted here: {probe.stderr.decode().strip()}")
    result = subprocess.run(
        [unshare, "-rn", "sh", "-c", command], capture_output=True, timeout=30, text=True
    )
    assert result.returncode == 0, result.stderr
    alice, bob, everyone = result.stdout.split("---\n")
    assert alice == "Login: alice\nVerbose: 0\n"
    assert bob == "Login: bob\nVerbose: 1\n"
    assert everyone == "Finger online list denied\n"


def test_fingerClientAgainstServer(reactor: Any, runReactor: Any) -> None:
    def go() -> Deferred[Any]:
        port = reactor.listenTCP(0, Factory.forProtocol(Users), interface="127.0.0.1")
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        d = finger.fingerQuery(endpoint, b"bob")
        return d.addCallback(lambda r: port.stopListening().addCallback(lambda _: r))

    assert runReactor(reactor, go) == b"Login: bob\r\nName: Bob\r\n"


def test_fingerClientAgainstPythonServer(reactor: Any, runReactor: Any) -> None:
    # An independent server: a plain Python socket answering one query.
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)

    def serveOnce() -> bytes:
        conn, _ = listener.accept()
        with conn:
            query = b""
            while not query.endswith(b"\r\n"):
                query += conn.recv(100)
            conn.sendall(b"you asked for " + query)
        return query

    def go() -> Deferred[Any]:
        server = deferToThreadPool(reactor, reactor.getThreadPool(), serveOnce)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", listener.getsockname()[1])
        answer = finger.fingerQuery(endpoint, b"carol", verbose=True)
        return server.addCallback(lambda q: answer.addCallback(lambda a: (q, a)))

    try:
        query, answer = runReactor(reactor, go)
    finally:
        listener.close()
    assert query == b"/W carol\r\n"
    assert answer == b"you asked for /W carol\r\n"
