"""
Endpoints from strings, as Twisted's "Getting Connected with Endpoints" howto
recommends: the program takes descriptions (from its command line or its
configuration) and leaves the choice of transport to its user.

Here an echo server listens where one description says, and a client connects
where another says; other descriptions (``tcp6:...``, ``unix:...``,
``systemd:...``, or types added by plugins) would work unchanged.
"""

import sys

from fw.internet import task
from fw.internet.defer import Deferred
from fw.internet.endpoints import clientFromString, connectProtocol, serverFromString
from fw.internet.protocol import Factory, Protocol


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Once(Protocol):
    """Send a line, print the echo, hang up."""

    def connectionMade(self):
        self.finished = Deferred()
        self.transport.write(b"echo me\n")

    def dataReceived(self, data):
        print("echoed:", data.decode().strip())
        self.transport.loseConnection()

    def connectionLost(self, reason):
        self.finished.callback(None)


async def main(reactor, serverDescription="tcp:0:interface=127.0.0.1"):
    server = serverFromString(reactor, serverDescription)
    port = await server.listen(Factory.forProtocol(Echo))
    print("listening on", serverDescription)

    # The port number is only known now: a real program would read this
    # description from its configuration.
    clientDescription = f"tcp:host=127.0.0.1:port={port.getHost().port}:timeout=15"
    client = clientFromString(reactor, clientDescription)
    protocol = await connectProtocol(client, Once())
    await protocol.finished

    try:
        serverFromString(reactor, "tcp:http")
    except ValueError as e:
        print("a bad description is refused:", e)
    await port.stopListening()


task.react(main, sys.argv[1:])
