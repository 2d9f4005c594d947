"""Tests for the in-memory connection pump in fw.internet.testing."""

from __future__ import annotations

from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error, interfaces
from fw.internet.address import IPv4Address
from fw.internet.protocol import Factory, Protocol, ServerFactory, connectionDone
from fw.internet.task import Clock
from fw.internet.testing import (
    AccumulatingProtocol,
    FakeAddress,
    FakeTransport,
    IOPump,
    MemoryReactorClock,
    NonStreamingProducer,
    connect,
    connectedServerAndClient,
    makeFakeClient,
    makeFakeServer,
)
from fw.python.failure import Failure


class Recorder(Protocol):
    greeting = b""

    def __init__(self) -> None:
        self.data = b""
        self.lost: list[Failure] = []

    def connectionMade(self) -> None:
        if self.greeting:
            self.send(self.greeting)

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost.append(reason)


class Greeter(Recorder):
    greeting = b"220 hello\r\n"


class Echo(Recorder):
    def dataReceived(self, data: bytes) -> None:
        super().dataReceived(data)
        self.send(data)


def test_fake_transport_interfaces() -> None:
    t = makeFakeClient(Recorder())
    assert verifyObject(interfaces.ITCPTransport, t)
    assert verifyObject(interfaces.IConsumer, t)
    assert verifyObject(interfaces.IPushProducer, t)
    assert t.logPrefix() == "iosim"
    assert repr(t).startswith("FakeTransport<C,")
    assert repr(makeFakeServer(Recorder())).startswith("FakeTransport<S,")
    plain = FakeTransport(Recorder(), isServer=True)
    assert isinstance(plain.getHost(), FakeAddress)
    assert isinstance(plain.getPeer(), FakeAddress)
    t.setTcpNoDelay(True)
    t.setTcpKeepAlive(True)
    assert t.getTcpNoDelay()
    assert t.getTcpKeepAlive()


def test_greeting_delivered() -> None:
    client, server, pump = connectedServerAndClient(Greeter, Recorder)
    assert isinstance(client, Recorder)
    assert isinstance(server, Greeter)
    assert client.data == b"220 hello\r\n"
    assert server.data == b""
    assert isinstance(pump, IOPump)
    assert not pump.flush()


def test_no_greet() -> None:
    client, _server, pump = connectedServerAndClient(Greeter, Recorder, greet=False)
    assert client.data == b""
    assert pump.pump()
    assert client.data == b"220 hello\r\n"
    assert not pump.pump()


def test_echo_round_trip() -> None:
    client, server, pump = connectedServerAndClient(Echo, Recorder)
    client.send(b"ping")
    client.send(b"!")
    assert pump.pump()  # client -> server; the echo is written
    assert server.data == b"ping!"
    assert client.data == b""
    assert pump.pump()  # server -> client
    assert client.data == b"ping!"
    assert not pump.pump()


def test_addresses() -> None:
    client, server, _pump = connectedServerAndClient(Recorder, Recorder)
    assert client.transport is not None
    assert server.transport is not None
    assert client.transport.getHost() == server.transport.getPeer()
    assert client.transport.getPeer() == server.transport.getHost()
    assert isinstance(server.transport.getHost(), IPv4Address)


def test_factories() -> None:
    class ServerProto(Recorder):
        pass

    serverFactory = ServerFactory.forProtocol(ServerProto)
    clientFactory = Factory.forProtocol(Echo)
    client, server, pump = connectedServerAndClient(serverFactory, clientFactory)
    assert isinstance(server, ServerProto)
    assert server.factory is serverFactory
    assert isinstance(client, Echo)
    assert client.factory is clientFactory
    server.send(b"x")
    pump.flush()
    assert server.data == b"x"


def test_factory_refusing() -> None:
    class Refuse(Factory):
        def buildProtocol(self, addr: interfaces.IAddress) -> None:
            return None

    with pytest.raises(error.ConnectionRefusedError):
        connectedServerAndClient(Refuse(), Recorder)


def test_lose_connection_after_pending_data() -> None:
    client, server, pump = connectedServerAndClient(Recorder, Recorder)
    server.send(b"last words")
    assert server.transport is not None
    server.transport.loseConnection()
    server.send(b" and more")  # still sent: the connection is only closing
    pump.flush()
    assert client.data == b"last words and more"
    assert len(client.lost) == 1
    assert client.lost[0].check(error.ConnectionDone)
    assert len(server.lost) == 1
    assert server.lost[0].check(error.ConnectionDone)
    server.send(b"dropped")
    client.send(b"dropped")
    assert not pump.flush()
    assert pump.clientIO.disconnected
    assert pump.serverIO.disconnected


def test_client_closes() -> None:
    client, server, pump = connectedServerAndClient(Recorder, Recorder)
    assert client.transport is not None
    client.transport.loseConnection()
    client.transport.loseConnection()
    pump.flush()
    assert len(server.lost) == 1
    assert len(client.lost) == 1


def test_abort_connection() -> None:
    client, server, pump = connectedServerAndClient(Recorder, Recorder)
    assert client.transport is not None
    client.send(b"never arrives")
    pump.clientIO.abortConnection()
    client.send(b"nor this")
    pump.flush()
    assert server.data == b""
    assert client.lost[0].check(error.ConnectionAborted)
    assert server.lost[0].check(error.ConnectionLost)
    assert not server.lost[0].check(error.ConnectionAborted)
    pump.clientIO.abortConnection()  # closed already: nothing happens
    assert not pump.flush()


def test_disconnect_reason() -> None:
    client, server, pump = connectedServerAndClient(Recorder, Recorder)
    pump.clientIO.disconnectReason = error.ConnectionLost("custom")
    assert server.transport is not None
    server.transport.loseConnection()
    pump.flush()
    assert client.lost[0].check(error.ConnectionLost)
    assert server.lost[0].check(error.ConnectionDone)


@implementer(interfaces.IPushProducer)
class PushProducer:
    def __init__(self, transport: Any, chunk: bytes, count: int) -> None:
        self.transport, self.chunk, self.left = transport, chunk, count
        self.events: list[str] = []
        self.paused = False

    def pauseProducing(self) -> None:
        self.events.append("pause")
        self.paused = True

    def resumeProducing(self) -> None:
        self.events.append("resume")
        self.paused = False
        self.produce()

    def stopProducing(self) -> None:
        self.events.append("stop")

    def produce(self) -> None:
        while self.left and not self.paused:
            self.left -= 1
            self.transport.write(self.chunk)


def test_push_producer_paused_and_resumed() -> None:
    client, _server, pump = connectedServerAndClient(Recorder, Recorder)
    transport = pump.serverIO
    transport.bufferSize = 10
    producer = PushProducer(transport, b"12345", 6)
    transport.registerProducer(producer, True)
    producer.produce()
    # Three chunks (15 bytes) exceed the 10-byte buffer: paused.
    assert producer.events == ["pause"]
    assert producer.left == 3
    pump.flush()
    assert client.data == b"12345" * 6
    assert producer.events == ["pause", "resume", "pause", "resume"]
    with pytest.raises(RuntimeError, match="never unregistered"):
        transport.registerProducer(producer, True)
    transport.loseConnection()
    pump.flush()
    assert producer.events[-1] == "stop"
    assert transport.producer is None


def test_pull_producer_and_lose_connection_waits() -> None:
    client, _server, pump = connectedServerAndClient(Recorder, Recorder)
    transport = pump.serverIO
    producer = NonStreamingProducer(transport)
    transport.registerProducer(producer, False)
    assert producer.counter == 1  # asked at once
    transport.loseConnection()  # waits for the producer to finish
    pump.flush()
    assert client.data == b"0123456789"
    assert producer.result.called
    assert not producer.stopped
    assert len(client.lost) == 1


def test_producer_stopped_on_close() -> None:
    _client, server, pump = connectedServerAndClient(Recorder, Recorder)
    producer = PushProducer(pump.clientIO, b"x", 0)
    pump.clientIO.registerProducer(producer, True)
    assert server.transport is not None
    server.transport.loseConnection()
    pump.flush()
    assert producer.events == ["stop"]
    late = PushProducer(pump.clientIO, b"x", 0)
    pump.clientIO.registerProducer(late, True)
    assert late.events == ["stop"]
    assert pump.clientIO.producer is None


def test_unregister_and_stop_consuming() -> None:
    _client, server, pump = connectedServerAndClient(Recorder, Recorder)
    producer = PushProducer(pump.clientIO, b"x", 0)
    pump.clientIO.registerProducer(producer, True)
    pump.clientIO.unregisterProducer()
    assert pump.clientIO.producer is None
    pump.clientIO.registerProducer(producer, True)
    pump.clientIO.stopConsuming()
    pump.flush()
    assert producer.events == []
    assert len(server.lost) == 1


def test_protocol_pauses_its_transport() -> None:
    client, server, pump = connectedServerAndClient(Recorder, Recorder)
    assert server.transport is not None
    server.transport.pauseProducing()  # type: ignore[attr-defined]
    client.send(b"held")
    pump.flush()
    assert server.data == b""
    server.transport.resumeProducing()  # type: ignore[attr-defined]
    assert pump.pump()
    assert server.data == b"held"
    server.transport.stopProducing()  # type: ignore[attr-defined]
    pump.flush()
    assert len(client.lost) == 1


@implementer(interfaces.IHalfCloseableProtocol)
class HalfCloser(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.halves: list[str] = []

    def readConnectionLost(self) -> None:
        self.halves.append("read")
        self.send(b"bye from " + self.data)
        assert self.transport is not None
        self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        self.halves.append("write")


def test_half_close_to_half_closeable_peer() -> None:
    client, server, pump = connectedServerAndClient(HalfCloser, HalfCloser)
    client.send(b"request")
    assert client.transport is not None
    client.transport.loseWriteConnection()  # type: ignore[attr-defined]
    client.send(b"+")  # still buffered before the half-close: sent, as over TCP
    pump.flush()
    assert server.data == b"request+"
    assert server.halves == ["read"]
    assert client.halves == ["write"]
    assert client.data == b"bye from request+"
    assert len(client.lost) == 1
    assert len(server.lost) == 1


def test_write_after_half_close_dropped() -> None:
    @implementer(interfaces.IHalfCloseableProtocol)
    class Patient(Recorder):
        def readConnectionLost(self) -> None:
            self.send(b"still talking")

        def writeConnectionLost(self) -> None:
            pass

    client, server, pump = connectedServerAndClient(Patient, Patient)
    assert client.transport is not None
    client.transport.loseWriteConnection()  # type: ignore[attr-defined]
    pump.flush()
    client.send(b"dropped")
    pump.flush()
    assert server.data == b""
    assert client.data == b"still talking"
    assert client.lost == []
    assert server.lost == []


def test_half_close_to_plain_peer_closes() -> None:
    client, server, pump = connectedServerAndClient(Recorder, HalfCloser)
    assert client.transport is not None
    client.transport.loseWriteConnection()  # type: ignore[attr-defined]
    pump.flush()
    assert client.halves == []
    assert server.lost[0].check(error.ConnectionDone)
    assert client.lost[0].check(error.ConnectionDone)


def test_pump_advances_clock() -> None:
    clock = Clock()
    fired: list[str] = []

    class Later(Recorder):
        def dataReceived(self, data: bytes) -> None:
            clock.callLater(0, self.send, b"later:" + data)

    client, _server, pump = connectedServerAndClient(Later, Recorder, clock=clock)
    clock.callLater(0, fired.append, "tick")
    client.send(b"x")
    pump.flush()
    assert fired == ["tick"]
    assert client.data == b"later:x"
    assert pump.clock is clock
    client.send(b"y")
    pump.flush(advanceClock=False)
    assert client.data == b"later:x"
    pump.flush()
    assert client.data == b"later:xlater:y"


def test_default_clock() -> None:
    _, _, pump = connectedServerAndClient(Recorder, Recorder)
    assert isinstance(pump.clock, MemoryReactorClock)


def test_flush_gives_up() -> None:
    client, _server, pump = connectedServerAndClient(Echo, Echo)
    client.send(b"forever")
    with pytest.raises(RuntimeError, match="1000"):
        pump.flush()


def test_debug_output(capsys: pytest.CaptureFixture[str]) -> None:
    client, _server, pump = connectedServerAndClient(Greeter, Recorder, debug=True)
    assert client.transport is not None
    client.transport.loseConnection()
    pump.flush()
    out = capsys.readouterr().out
    assert "S: b'220 hello\\r\\n'" in out
    assert "* C closes" in out


def test_connect_with_own_transports() -> None:
    s, c = AccumulatingProtocol(), AccumulatingProtocol()
    sio = FakeTransport(s, isServer=True)
    cio = FakeTransport(c, isServer=False)
    pump = connect(s, sio, c, cio, greet=False)
    assert (s.made, c.made) == (True, True)
    assert (s.transport, c.transport) == (sio, cio)
    cio.write(b"abc")
    pump.flush()
    assert s.data == b"abc"
    cio.writeSequence([b"d", b"e"])
    pump.flush()
    assert s.data == b"abcde"
    with pytest.raises(TypeError):
        cio.write("text")  # type: ignore[arg-type]


def test_custom_transport_factories() -> None:
    made: list[FakeTransport] = []

    def factory(proto: Any) -> FakeTransport:
        t = FakeTransport(proto, isServer=False)
        made.append(t)
        return t

    client, server, _pump = connectedServerAndClient(
        Recorder, Recorder, clientTransportFactory=factory, serverTransportFactory=factory
    )
    assert [t.protocol for t in made] == [client, server]


def test_protocols_exchange_many_small_messages() -> None:
    class Counter(Recorder):
        def dataReceived(self, data: bytes) -> None:
            super().dataReceived(data)
            n = int(data.split(b",")[-2]) if data.endswith(b",") else 0
            if n < 50:
                self.send(b"%d," % (n + 1))

    client, server, pump = connectedServerAndClient(Counter, Counter)
    client.send(b"0,")
    pump.flush()
    assert server.data.split(b",")[-2] in (b"50", b"49")
    assert client.data.endswith(b"50,") or server.data.endswith(b"50,")
