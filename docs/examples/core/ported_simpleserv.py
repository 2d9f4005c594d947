# Twisted's docs/core/examples/simpleserv.py, ported: "twisted" became "fw" in
# the imports, and main() listens on a free port of 127.0.0.1 and runs the
# simple client (ported_simpleclient.py) against the server, so that the
# program ends by itself.

from fw.internet import protocol, reactor


class Echo(protocol.Protocol):
    """About the simplest protocol there is."""

    def dataReceived(self, data):
        "Send back whatever arrives, as soon as it arrives."
        self.transport.write(data)


def main():
    """Run the protocol on a free port (Twisted's version: port 8000, forever)."""
    factory = protocol.ServerFactory()
    factory.protocol = Echo
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    from ported_simpleclient import EchoFactory

    reactor.connectTCP("127.0.0.1", port.getHost().port, EchoFactory())
    reactor.run()


# Only when run as a program, not when imported.
if __name__ == "__main__":
    main()
