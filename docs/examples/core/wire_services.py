# The small services of fw.protocols.wire, each on a free port of 127.0.0.1,
# and a client that reads what each one says.

from fw.internet import endpoints, task
from fw.internet.defer import Deferred
from fw.internet.protocol import Factory, Protocol, connectProtocol
from fw.protocols import wire


class Reader(Protocol):
    """Sends ``payload``, then collects up to ``limit`` bytes or until the server closes."""

    def __init__(self, payload=b"", limit=None):
        self.payload, self.limit = payload, limit
        self.received = b""
        self.done = Deferred()

    def connectionMade(self):
        if self.payload:
            self.transport.write(self.payload)

    def dataReceived(self, data):
        self.received += data
        if self.limit is not None and len(self.received) >= self.limit:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.done.callback(self.received[: self.limit])


class MyQuote(wire.QOTD):
    def getQuote(self):
        return b"Simple things should be simple.\r\n"


async def talk(reactor, protocol, reader):
    port = reactor.listenTCP(0, Factory.forProtocol(protocol), interface="127.0.0.1")
    server = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    await connectProtocol(server, reader)
    received = await reader.done
    await port.stopListening()
    return received


async def main(reactor):
    print("echo:", await talk(reactor, wire.Echo, Reader(b"ping", limit=4)))
    print("qotd:", await talk(reactor, MyQuote, Reader()))
    print("who: ", await talk(reactor, wire.Who, Reader()))
    chargen = await talk(reactor, wire.Chargen, Reader(limit=3 * 74))
    print("chargen:")
    print(chargen.decode().replace("\r\n", "\n"), end="")


if __name__ == "__main__":
    task.react(main)
