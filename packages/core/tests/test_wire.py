"""fw.protocols.wire: the RFC 862-868 services, in memory and over TCP."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

from fw.internet.defer import Deferred
from fw.internet.protocol import Factory
from fw.internet.testing import StringTransport
from fw.internet.threads import deferToThreadPool
from fw.protocols import wire


def connected(proto: Any) -> StringTransport:
    transport = StringTransport()
    proto.makeConnection(transport)
    return transport


def test_echo() -> None:
    p = wire.Echo()
    t = connected(p)
    p.dataReceived(b"hello")
    p.dataReceived(b"\0\xff")
    assert t.value() == b"hello\0\xff"


def test_discard() -> None:
    p = wire.Discard()
    t = connected(p)
    p.dataReceived(b"hello")
    assert t.value() == b""


def test_chargenPattern() -> None:
    p = wire.Chargen()
    t = connected(p)
    assert t.producer is p
    assert t.streaming is False
    p.resumeProducing()
    p.resumeProducing()
    lines = t.value().split(b"\r\n")[:-1]
    assert len(lines) == 2 * p.linesPerWrite
    printable = bytes(range(32, 127))
    for i, line in enumerate(lines):
        assert len(line) == 72
        # RFC 864: each line starts one character further along the rotation.
        assert line == (printable * 2)[i % 95 : i % 95 + 72]


def test_qotdAndWho() -> None:
    p = wire.QOTD()
    t = connected(p)
    assert t.value() == b"An apple a day keeps the doctor away.\r\n"
    assert t.disconnecting

    class MyQuote(wire.QOTD):
        def getQuote(self) -> bytes:
            return b"mine\r\n"

    t = connected(MyQuote())
    assert t.value() == b"mine\r\n"
    w = wire.Who()
    t = connected(w)
    assert t.value() == b"root\r\n"
    assert t.disconnecting


def test_daytime() -> None:
    t = connected(wire.Daytime())
    text = t.value().decode()
    assert text.endswith("\r\n")
    parsed = time.strptime(text.strip(), "%a %b %d %H:%M:%S %Y")
    assert abs(time.mktime(parsed) - time.mktime(time.gmtime())) < 5
    assert t.disconnecting


def test_time() -> None:
    t = connected(wire.Time())
    (seconds,) = struct.unpack("!I", t.value())
    assert abs(seconds - 2208988800 - time.time()) < 5
    assert t.disconnecting


def serveAndRun(reactor: Any, runReactor: Any, protocol: Any, peer: Any) -> Any:
    """Serve ``protocol``, run ``peer(port)`` in a thread, wait for the server side to close."""
    closed: Deferred[None] = Deferred()

    class Tracked(protocol):  # type: ignore[misc, valid-type]
        def connectionLost(self, reason: Any) -> None:
            super().connectionLost(reason)
            closed.callback(None)

    def go() -> Deferred[Any]:
        port = reactor.listenTCP(0, Factory.forProtocol(Tracked), interface="127.0.0.1")
        d = deferToThreadPool(reactor, reactor.getThreadPool(), peer, port.getHost().port)
        d.addCallback(lambda r: closed.addCallback(lambda _: r))
        return d.addCallback(lambda r: port.stopListening().addCallback(lambda _: r))

    return runReactor(reactor, go)


def test_echoOverTCP(reactor: Any, runReactor: Any) -> None:
    payload = bytes(range(256)) * 400

    def echoPeer(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while chunk := s.recv(65536):
                got += chunk
            return got

    assert serveAndRun(reactor, runReactor, wire.Echo, echoPeer) == payload


def test_qotdOverTCP(reactor: Any, runReactor: Any) -> None:
    def readAll(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            got = b""
            while chunk := s.recv(65536):
                got += chunk
            return got

    assert serveAndRun(reactor, runReactor, wire.QOTD, readAll).startswith(b"An apple")


def test_chargenOverTCP(reactor: Any, runReactor: Any) -> None:
    # The peer reads slowly at first: the pull producer must keep up, not flood.
    def peer(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            got = b""
            while len(got) < 300_000:
                got += s.recv(65536)
            return got[:740]

    got = serveAndRun(reactor, runReactor, wire.Chargen, peer)
    lines = got.split(b"\r\n")[:10]
    assert all(len(line) == 72 for line in lines)
