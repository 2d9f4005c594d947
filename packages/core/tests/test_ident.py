"""fw.protocols.ident: RFC 1413 server and client, /proc lookups, over TCP."""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

import pytest

from fw.internet import error
from fw.internet.address import IPv4Address
from fw.internet.defer import Deferred, succeed
from fw.internet.protocol import Factory
from fw.internet.testing import StringTransport
from fw.internet.threads import deferToThreadPool
from fw.protocols import ident
from fw.python.failure import Failure


def server(cls: Any = ident.IdentServer) -> tuple[Any, StringTransport]:
    proto = cls()
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "10.0.0.1", 113),
        peerAddress=IPv4Address("TCP", "10.0.0.2", 40000),
    )
    proto.makeConnection(transport)
    return proto, transport


class Alice(ident.IdentServer):
    def lookup(self, serverAddress: Any, clientAddress: Any) -> Any:
        self.asked = (serverAddress, clientAddress)
        if serverAddress[1] == 6193:
            return succeed(("UNIX", "alice"))
        if serverAddress[1] == 1:
            raise ident.HiddenUser()
        if serverAddress[1] == 2:
            raise ZeroDivisionError()
        raise ident.NoUser()


def test_defaultLookupIsUnknownError() -> None:
    proto, t = server()
    proto.dataReceived(b"6193, 23\r\n")
    assert t.value() == b"6193, 23 : ERROR : UNKNOWN-ERROR\r\n"


def test_answers() -> None:
    proto, t = server(Alice)
    for byte in b"6193 ,23\r\n":
        proto.dataReceived(bytes([byte]))
    assert proto.asked == (("10.0.0.1", 6193), ("10.0.0.2", 23))
    proto.dataReceived(b"1,2\n")
    proto.dataReceived(b"99,100\r\n")
    proto.dataReceived(b"0,100\r\n")
    assert t.value().split(b"\r\n")[:-1] == [
        b"6193, 23 : USERID : UNIX : alice",
        b"1, 2 : ERROR : HIDDEN-USER",
        b"99, 100 : ERROR : NO-USER",
        b"0, 100 : ERROR : INVALID-PORT",
    ]


def test_unexpectedErrorIsLoggedAndUnknown() -> None:
    from fw.logger import capturedLogs

    proto, t = server(Alice)
    with capturedLogs() as events:
        proto.dataReceived(b"2, 3\r\n")
    assert t.value() == b"2, 3 : ERROR : UNKNOWN-ERROR\r\n"
    assert any(e.get("log_failure") is not None for e in events)


@pytest.mark.parametrize("query", [b"garbage\r\n", b"1,2,3\r\n", b"a,b\r\n", b"x" * 2000])
def test_malformedQueryCloses(query: bytes) -> None:
    proto, t = server(Alice)
    proto.dataReceived(query)
    assert t.disconnecting
    assert t.value() == b""


def test_client() -> None:
    client = ident.IdentClient()
    t = StringTransport()
    client.makeConnection(t)
    answers: list[Any] = []
    client.lookup(6193, 23).addBoth(answers.append)
    client.lookup(1, 2).addBoth(answers.append)
    client.lookup(3, 4).addBoth(answers.append)
    client.lookup(5, 6).addBoth(answers.append)
    assert t.value() == b"6193, 23\r\n1, 2\r\n3, 4\r\n5, 6\r\n"
    client.dataReceived(b"6193, 23 : USERID : UNIX : alice\r\n1, 2 : ERROR : NO-USER\r\n")
    client.dataReceived(b"3, 4 : ERROR : WHATEVER\r\nnonsense\r\n")
    assert answers[0] == ("USERID", "UNIX : alice")
    assert answers[1].check(ident.NoUser)
    assert answers[2].check(ident.IdentError)
    assert answers[3].check(ident.IdentError)


def test_clientFailsPendingOnClose() -> None:
    client = ident.IdentClient()
    client.makeConnection(StringTransport())
    answers: list[Any] = []
    client.lookup(1, 2).addErrback(answers.append)
    client.connectionLost(Failure(error.ConnectionDone()))
    assert answers[0].check(ident.IdentError)


def test_procParsing() -> None:
    mixin = ident.ProcServerMixin()
    # 127.0.0.1:6193 -> 127.0.0.1:23, uid 1000 (a line as Linux writes it).
    line = (
        "0: 0100007F:1831 0100007F:0017 01 00000000:00000000 00:00000000 00000000"
        "  1000        0 12345 1 0000000000000000 20 4 30 10 -1"
    )
    assert mixin.parseLine(line) == (("127.0.0.1", 6193), ("127.0.0.1", 23), 1000)
    v6 = "00000000000000000000000001000000:0050"
    assert mixin.unpackAddress(v6) == ("::1", 80)
    mapped = "0000000000000000FFFF00000100007F:0050"
    assert mixin.unpackAddress(mapped) == ("127.0.0.1", 80)
    assert mixin.getUsername(0, lambda uid: ("root",)) == "root"


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc")
def test_procLookupFindsOurOwnConnection() -> None:
    class Proc(ident.ProcServerMixin, ident.IdentServer):
        pass

    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    try:
        serverPort = listener.getsockname()[1]
        clientPort = client.getsockname()[1]
        # From the listening side: the connection from serverPort to clientPort.
        system, user = Proc().lookup(("127.0.0.1", serverPort), ("127.0.0.1", clientPort))
        import pwd

        assert user == pwd.getpwuid(os.getuid()).pw_name
        assert system == os.uname()[0]
        with pytest.raises(ident.NoUser):
            Proc().lookup(("127.0.0.1", serverPort), ("127.0.0.1", 1))
    finally:
        for s in (accepted, client, listener):
            s.close()


def test_serverOverTCPWithSocketPeer(reactor: Any, runReactor: Any) -> None:
    def peer(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"6193, 23\r\n99, 1\r\n")
            got = b""
            while got.count(b"\r\n") < 2:
                got += s.recv(4096)
            return got

    closed: Deferred[None] = Deferred()

    class Tracked(Alice):
        def connectionLost(self, reason: Any = None) -> None:
            closed.callback(None)

    def go() -> Deferred[Any]:
        port = reactor.listenTCP(0, Factory.forProtocol(Tracked), interface="127.0.0.1")
        d = deferToThreadPool(reactor, reactor.getThreadPool(), peer, port.getHost().port)
        d.addCallback(lambda r: closed.addCallback(lambda _: r))
        return d.addCallback(lambda r: port.stopListening().addCallback(lambda _: r))

    assert runReactor(reactor, go) == (
        b"6193, 23 : USERID : UNIX : alice\r\n99, 1 : ERROR : NO-USER\r\n"
    )


def test_dottedQuad() -> None:
    mixin = ident.ProcServerMixin()
    packed = struct.unpack("=L", bytes([192, 168, 1, 2]))[0]
    assert mixin.dottedQuadFromHexString(f"{packed:08X}") == "192.168.1.2"
