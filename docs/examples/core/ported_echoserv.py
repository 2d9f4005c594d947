# Twisted's docs/core/examples/echoserv.py, ported: "twisted" became "fw" in the
# imports, and main() listens on a free port of 127.0.0.1 and runs the simple
# client (ported_simpleclient.py) against the server, so that the program ends.

from fw.internet import reactor
from fw.internet.protocol import Factory, Protocol

### The protocol

# An echo server's whole protocol.


class Echo(Protocol):
    def dataReceived(self, data):
        """
        Write back whatever arrives, as soon as it arrives.
        """
        self.transport.write(data)


def main():
    f = Factory()
    f.protocol = Echo
    port = reactor.listenTCP(0, f, interface="127.0.0.1")
    from ported_simpleclient import EchoFactory

    reactor.connectTCP("127.0.0.1", port.getHost().port, EchoFactory())
    reactor.run()


if __name__ == "__main__":
    main()
