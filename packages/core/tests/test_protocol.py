"""Tests for fw.internet.protocol."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.internet import error, interfaces
from fw.internet.address import IPv4Address
from fw.internet.protocol import (
    AbstractDatagramProtocol,
    ClientFactory,
    ConnectedDatagramProtocol,
    ConsumerToProtocolAdapter,
    DatagramProtocol,
    Factory,
    ProcessProtocol,
    Protocol,
    ProtocolToConsumerAdapter,
    ServerFactory,
    connectionDone,
)
from fw.internet.testing import StringTransport
from fw.logger import capturedLogs, formatEvent
from fw.python.failure import Failure

ADDR = IPv4Address("TCP", "127.0.0.1", 1234)


class Recorder(Protocol):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def connectionMade(self) -> None:
        self.events.append(("made", self.transport))

    def dataReceived(self, data: bytes) -> None:
        self.events.append(("data", data))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.events.append(("lost", reason))


class CountingFactory(Factory):
    noisy = False

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    def startFactory(self) -> None:
        self.started += 1

    def stopFactory(self) -> None:
        self.stopped += 1


def test_connection_done_constant() -> None:
    assert isinstance(connectionDone, Failure)
    assert connectionDone.check(error.ConnectionDone)
    assert connectionDone.tb is None


def test_base_protocol_make_connection() -> None:
    p = Recorder()
    assert (p.connected, p.transport) == (False, None)
    t = StringTransport()
    p.makeConnection(t)
    assert (p.connected, p.transport) == (True, t)
    assert p.events == [("made", t)]


def test_protocol_defaults_and_interfaces() -> None:
    p = Protocol()
    assert verifyObject(interfaces.IProtocol, p)
    assert verifyObject(interfaces.ILoggingContext, p)
    p.makeConnection(StringTransport())
    p.dataReceived(b"ignored")
    p.connectionLost()
    p.connectionLost(Failure(error.ConnectionLost()))
    assert p.logPrefix() == "Protocol"
    assert Recorder().logPrefix() == "Recorder"
    assert p.factory is None


def test_factory_builds_protocol_with_factory_set() -> None:
    f = Factory()
    f.protocol = Recorder
    p = f.buildProtocol(ADDR)
    assert isinstance(p, Recorder)
    assert p.factory is f
    assert verifyObject(interfaces.IProtocolFactory, f)
    assert verifyObject(interfaces.ILoggingContext, f)


def test_factory_without_protocol() -> None:
    with pytest.raises(TypeError, match="protocol is not set"):
        Factory().buildProtocol(ADDR)


def test_for_protocol() -> None:
    class WithArgs(Factory):
        def __init__(self, a: int, b: int = 0) -> None:
            self.a, self.b = a, b

    f = WithArgs.forProtocol(Recorder, 1, b=2)
    assert isinstance(f, WithArgs)
    assert (f.a, f.b) == (1, 2)
    assert f.protocol is Recorder
    assert isinstance(f.buildProtocol(ADDR), Recorder)
    assert isinstance(ServerFactory.forProtocol(Recorder), ServerFactory)
    assert isinstance(ClientFactory.forProtocol(Recorder), ClientFactory)


def test_do_start_do_stop_reference_counting() -> None:
    f = CountingFactory()
    f.doStart()
    f.doStart()
    assert (f.started, f.stopped, f.numPorts) == (1, 0, 2)
    f.doStop()
    assert (f.started, f.stopped, f.numPorts) == (1, 0, 1)
    f.doStop()
    assert (f.started, f.stopped, f.numPorts) == (1, 1, 0)
    # Unbalanced stops are ignored.
    f.doStop()
    assert (f.started, f.stopped, f.numPorts) == (1, 1, 0)
    f.doStart()
    assert (f.started, f.numPorts) == (2, 1)


def test_noisy_factory_logs() -> None:
    f = Factory()
    with capturedLogs() as events:
        f.doStart()
        f.doStop()
    texts = [formatEvent(e) for e in events]
    assert texts == [f"Starting factory {f!r}", f"Stopping factory {f!r}"]
    quiet = Factory()
    quiet.noisy = False
    with capturedLogs() as events:
        quiet.doStart()
        quiet.doStop()
    assert events == []


def test_factory_log_prefix() -> None:
    assert Factory().logPrefix() == "Factory"
    assert CountingFactory().logPrefix() == "CountingFactory"


def test_client_factory_hooks_are_noops() -> None:
    f = ClientFactory()
    f.startedConnecting(None)  # type: ignore[arg-type]
    f.clientConnectionFailed(None, Failure(error.ConnectError()))  # type: ignore[arg-type]
    f.clientConnectionLost(None, Failure(error.ConnectionLost()))  # type: ignore[arg-type]


class ProcessRecorder(ProcessProtocol):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def outReceived(self, data: bytes) -> None:
        self.events.append(("out", data))

    def errReceived(self, data: bytes) -> None:
        self.events.append(("err", data))

    def inConnectionLost(self) -> None:
        self.events.append(("inLost", None))

    def outConnectionLost(self) -> None:
        self.events.append(("outLost", None))

    def errConnectionLost(self) -> None:
        self.events.append(("errLost", None))


def test_process_protocol_dispatch() -> None:
    p = ProcessRecorder()
    assert verifyObject(interfaces.IProcessProtocol, p)
    p.childDataReceived(1, b"o")
    p.childDataReceived(2, b"e")
    p.childDataReceived(3, b"ignored")
    p.childConnectionLost(0)
    p.childConnectionLost(1)
    p.childConnectionLost(2)
    p.childConnectionLost(7)
    assert p.events == [
        ("out", b"o"),
        ("err", b"e"),
        ("inLost", None),
        ("outLost", None),
        ("errLost", None),
    ]
    base = ProcessProtocol()
    base.childDataReceived(1, b"x")
    base.childConnectionLost(0)
    base.processExited(Failure(error.ProcessDone(0)))
    base.processEnded(Failure(error.ProcessTerminated(1)))


class DatagramRecorder(DatagramProtocol):
    noisy = False

    def __init__(self) -> None:
        self.starts = 0
        self.stops = 0
        self.received: list[tuple[bytes, object]] = []

    def startProtocol(self) -> None:
        self.starts += 1

    def stopProtocol(self) -> None:
        self.stops += 1

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.received.append((datagram, addr))


def test_datagram_protocol_lifecycle() -> None:
    p = DatagramRecorder()
    transport = object()
    p.makeConnection(transport)
    assert p.transport is transport
    assert (p.starts, p.numPorts) == (1, 1)
    with pytest.raises(RuntimeError, match="already has a transport"):
        p.makeConnection(object())
    p.datagramReceived(b"d", ("1.2.3.4", 5))
    assert p.received == [(b"d", ("1.2.3.4", 5))]
    p.doStop()
    assert p.transport is None
    assert (p.stops, p.numPorts) == (1, 0)
    with pytest.raises(RuntimeError, match="more often"):
        p.doStop()
    assert p.logPrefix() == "DatagramRecorder"


def test_datagram_protocol_refcount() -> None:
    p = DatagramRecorder()
    p.doStart()
    p.doStart()
    p.doStop()
    assert (p.starts, p.stops) == (1, 0)
    p.doStop()
    assert (p.starts, p.stops) == (1, 1)


def test_noisy_datagram_protocol_logs() -> None:
    p = DatagramProtocol()
    with capturedLogs() as events:
        p.doStart()
        p.doStop()
    assert [formatEvent(e) for e in events] == [
        f"Starting protocol {p!r}",
        f"Stopping protocol {p!r}",
    ]


def test_datagram_protocol_pickles_without_transport() -> None:
    p = DatagramProtocol()
    p.transport = "a transport"
    p.extra = 5  # type: ignore[attr-defined]
    state = p.__getstate__()
    assert state["transport"] is None
    q = pickle.loads(pickle.dumps(p))
    assert q.transport is None
    assert q.extra == 5
    assert p.transport == "a transport"


def test_connected_datagram_protocol() -> None:
    p = ConnectedDatagramProtocol()
    assert isinstance(p, AbstractDatagramProtocol)
    p.datagramReceived(b"x")
    p.connectionFailed(Failure(error.ConnectionRefusedError()))
    p.connectionRefused()


def test_protocol_to_consumer_adapter() -> None:
    p = Recorder()
    consumer = ProtocolToConsumerAdapter(p)
    assert verifyObject(interfaces.IConsumer, consumer)
    consumer.write(b"abc")
    consumer.registerProducer(object(), True)  # type: ignore[arg-type]
    consumer.unregisterProducer()
    assert p.events == [("data", b"abc")]


def test_consumer_to_protocol_adapter() -> None:
    @implementer(interfaces.IConsumer)
    class Sink:
        def __init__(self) -> None:
            self.written: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.written.append(data)

        def registerProducer(self, producer: object, streaming: bool) -> None:
            pass

        def unregisterProducer(self) -> None:
            pass

    sink = Sink()
    proto = ConsumerToProtocolAdapter(sink)
    assert verifyObject(interfaces.IProtocol, proto)
    proto.makeConnection(StringTransport())
    proto.connectionMade()
    proto.dataReceived(b"one")
    proto.dataReceived(b"two")
    proto.connectionLost(connectionDone)
    assert sink.written == [b"one", b"two"]


def test_adapters_registered() -> None:
    p = Recorder()
    consumer = interfaces.IConsumer(p)
    assert isinstance(consumer, ProtocolToConsumerAdapter)
    consumer.write(b"via adapter")
    assert p.events == [("data", b"via adapter")]
    transport = StringTransport()
    proto = interfaces.IProtocol(transport)
    assert isinstance(proto, ConsumerToProtocolAdapter)
    proto.dataReceived(b"x")
    assert transport.value() == b"x"
