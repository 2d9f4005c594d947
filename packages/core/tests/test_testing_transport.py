"""Tests for fw.internet.testing's StringTransport, AccumulatingProtocol and producers."""

from __future__ import annotations

from typing import Any

import pytest
from zope.interface.verify import verifyObject

from fw.internet import error, interfaces
from fw.internet.address import IPv4Address, UNIXAddress
from fw.internet.defer import Deferred
from fw.internet.protocol import Factory, Protocol
from fw.internet.testing import (
    AccumulatingProtocol,
    NonStreamingProducer,
    StringTransport,
    StringTransportWithDisconnection,
)
from fw.python.failure import Failure


def test_interfaces() -> None:
    t = StringTransport()
    assert verifyObject(interfaces.ITransport, t)
    assert verifyObject(interfaces.IConsumer, t)
    assert verifyObject(interfaces.IPushProducer, t)


def test_write_value_clear() -> None:
    t = StringTransport()
    assert t.value() == b""
    t.write(b"ab")
    t.writeSequence([b"c", b"de"])
    t.write(b"")
    assert t.value() == b"abcde"
    assert t.value() == b"abcde"
    t.write(b"f")
    assert t.value() == b"abcdef"
    t.clear()
    assert t.value() == b""


@pytest.mark.parametrize("bad", ["text", bytearray(b"x"), 3, None])
def test_write_requires_bytes(bad: Any) -> None:
    t = StringTransport()
    with pytest.raises(TypeError, match="bytes"):
        t.write(bad)
    with pytest.raises(TypeError):
        t.writeSequence([b"ok", bad])


def test_default_addresses() -> None:
    t = StringTransport()
    assert t.getHost() == IPv4Address("TCP", "10.0.0.1", 12345)
    assert t.getPeer() == IPv4Address("TCP", "192.168.1.1", 54321)
    assert t.hostAddr is None
    assert t.peerAddr is None


def test_given_addresses() -> None:
    host, peer = UNIXAddress("/a"), UNIXAddress("/b")
    t = StringTransport(hostAddress=host, peerAddress=peer)
    assert (t.getHost(), t.hostAddr) == (host, host)
    assert (t.getPeer(), t.peerAddr) == (peer, peer)


def test_lose_and_abort() -> None:
    t = StringTransport()
    assert t.connected
    assert not t.disconnecting
    assert not t.disconnected
    t.loseConnection()
    assert (t.disconnecting, t.disconnected) == (True, False)
    t2 = StringTransport()
    t2.abortConnection()
    assert t2.disconnecting
    assert t2.disconnected


def test_producer_registration() -> None:
    t = StringTransport()
    producer = NonStreamingProducer(t)
    t.registerProducer(producer, False)
    assert (t.producer, t.streaming) == (producer, False)
    with pytest.raises(RuntimeError, match="two producers"):
        t.registerProducer(producer, True)
    t.unregisterProducer()
    assert t.producer is None
    assert t.streaming is None
    with pytest.raises(RuntimeError, match="unregister"):
        t.unregisterProducer()


def test_producer_state() -> None:
    t = StringTransport()
    states = [t.producerState]
    t.pauseProducing()
    states.append(t.producerState)
    t.resumeProducing()
    states.append(t.producerState)
    t.stopProducing()
    states.append(t.producerState)
    assert states == ["producing", "paused", "producing", "stopped"]
    with pytest.raises(RuntimeError, match="stopped"):
        t.resumeProducing()
    with pytest.raises(RuntimeError, match="stopped"):
        t.pauseProducing()


def test_producer_state_after_lose_connection() -> None:
    strict = StringTransport()
    strict.loseConnection()
    with pytest.raises(RuntimeError, match="loseConnection"):
        strict.pauseProducing()
    with pytest.raises(RuntimeError, match="loseConnection"):
        strict.resumeProducing()
    lenient = StringTransport(lenient=True)
    lenient.loseConnection()
    lenient.pauseProducing()
    lenient.resumeProducing()
    assert lenient.producerState == "producing"


def test_with_disconnection_tells_protocol_once() -> None:
    p = AccumulatingProtocol()
    t = StringTransportWithDisconnection()
    t.protocol = p
    p.makeConnection(t)
    t.loseConnection()
    assert p.closed
    assert p.closedReason is not None
    assert p.closedReason.check(error.ConnectionDone)
    assert not t.connected
    assert t.disconnecting
    p.closedReason = None
    t.loseConnection()
    assert p.closedReason is None


def test_accumulating_protocol() -> None:
    p = AccumulatingProtocol()
    t = StringTransport()
    assert (p.made, p.closed) == (False, False)
    p.makeConnection(t)
    assert (p.made, p.transport) == (True, t)
    p.dataReceived(b"ab")
    p.dataReceived(b"cd")
    assert p.data == b"abcd"
    closed: Deferred[None] = Deferred()
    p.closedDeferred = closed
    fired: list[object] = []
    closed.addCallback(fired.append)
    reason = Failure(error.ConnectionLost())
    p.connectionLost(reason)
    assert p.closed
    assert p.closedReason is reason
    assert fired == [None]
    assert p.closedDeferred is None


def test_accumulating_protocol_factory_deferred() -> None:
    factory = Factory.forProtocol(AccumulatingProtocol)
    made: Deferred[AccumulatingProtocol] = Deferred()
    factory.protocolConnectionMade = made  # type: ignore[attr-defined]
    got: list[object] = []
    made.addCallback(got.append)
    p = factory.buildProtocol(IPv4Address("TCP", "1.2.3.4", 5))
    assert isinstance(p, AccumulatingProtocol)
    p.makeConnection(StringTransport())
    assert got == [p]
    assert factory.protocolConnectionMade is None  # type: ignore[attr-defined]
    # A factory without the attribute is fine too.
    plain = Factory.forProtocol(AccumulatingProtocol).buildProtocol(None)  # type: ignore[arg-type]
    assert plain is not None
    plain.makeConnection(StringTransport())


def test_non_streaming_producer() -> None:
    t = StringTransport()
    producer = NonStreamingProducer(t)
    assert verifyObject(interfaces.IPullProducer, producer)
    t.registerProducer(producer, False)
    done: list[object] = []
    producer.result.addCallback(done.append)
    for _ in range(9):
        producer.resumeProducing()
    assert done == []
    producer.resumeProducing()
    assert t.value() == b"0123456789"
    assert t.producer is None
    assert done == [None]
    assert producer.consumer is None
    with pytest.raises(RuntimeError, match="BUG"):
        producer.resumeProducing()
    with pytest.raises(RuntimeError, match="pause"):
        producer.pauseProducing()


def test_non_streaming_producer_stopped() -> None:
    t = StringTransport()
    producer = NonStreamingProducer(t)
    done: list[object] = []
    producer.result.addCallback(done.append)
    producer.resumeProducing()
    producer.stopProducing()
    assert producer.stopped
    assert done == [None]
    producer.stopProducing()  # a second stop fires nothing again
    assert done == [None]
    with pytest.raises(RuntimeError):
        producer.resumeProducing()


def test_protocol_on_string_transport() -> None:
    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            assert self.transport is not None
            self.transport.write(data)

    p = Echo()
    t = StringTransport()
    p.makeConnection(t)
    for byte in b"hello":
        p.dataReceived(bytes([byte]))
    assert t.value() == b"hello"
