# Twisted's docs/core/examples/simpleclient.py, ported: "twisted" became "fw" in
# the imports; main() starts the simple server (ported_simpleserv.py) on a free
# port of 127.0.0.1 to talk to, and the new-connection message names the peer's
# host rather than the transport (whose text includes a changing port number).

"""
An example client: it sends a greeting to an echo server and prints the reply.
"""

from zope.interface import implementer

from fw.internet import protocol, reactor
from fw.internet.interfaces import IProtocol

# The client's protocol, written without a base class: IProtocol is all a
# transport needs.


@implementer(IProtocol)
class EchoClient:
    """Send a message once connected, print the answer, hang up."""

    def makeConnection(self, transport):
        """
        The connection is made; ``transport`` sends data to the other side.
        """
        self._transport = transport
        print(f"New connection from remote peer {transport.getPeer().host}")
        self._transport.write(b"hello, world!")

    def connectionMade(self):
        """
        Part of IProtocol; makeConnection above does the work instead, as a
        class without Protocol's base implementation may.
        """

    def dataReceived(self, data):
        "Print what the server sent, then close."
        print("Server said:", data)
        self._transport.loseConnection()

    def connectionLost(self, reason):
        print("connection lost")


class EchoFactory(protocol.ClientFactory):
    protocol = EchoClient

    def clientConnectionFailed(self, connector, reason):
        print("Connection failed - goodbye!")
        reactor.stop()

    def clientConnectionLost(self, connector, reason):
        print("Connection lost - goodbye!")
        reactor.stop()


# Connect the client to an echo server (Twisted's version: one already running
# on port 8000).
def main():
    from ported_simpleserv import Echo

    server = protocol.ServerFactory()
    server.protocol = Echo
    port = reactor.listenTCP(0, server, interface="127.0.0.1")
    f = EchoFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    reactor.run()


# Only when run as a program, not when imported.
if __name__ == "__main__":
    main()
