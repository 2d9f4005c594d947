# ruff: noqa: PT009 - trial tests use unittest-style assertions
"""
Asynchronous tests of an echo server on loopback TCP: setUp starts it, a
coroutine test talks to it, and the cleanup closes the port, so the reactor
is left clean.
"""

from fw.internet import protocol, reactor
from fw.internet.defer import Deferred
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from fw.trial import unittest


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def __init__(self):
        self.received = Deferred()

    def dataReceived(self, data):
        self.received.callback(data)


class EchoTests(unittest.TestCase):
    def setUp(self):
        factory = protocol.Factory.forProtocol(Echo)
        self.port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)

    async def test_echo(self):
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port.getHost().port)
        client = await connectProtocol(endpoint, Client())
        client.transport.write(b"hello")
        self.assertEqual(await client.received, b"hello")
        client.transport.loseConnection()
