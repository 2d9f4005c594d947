# Twisted's docs/core/examples/echoclient.py, ported: "twisted" became "fw" in
# the imports.  main() first starts a line echo server on a free port of
# 127.0.0.1 (Twisted's example expects one already running on port 8000).

from fw.internet import task
from fw.internet.defer import Deferred
from fw.internet.protocol import ClientFactory, Factory
from fw.protocols.basic import LineReceiver
from fw.protocols.wire import Echo


class EchoClient(LineReceiver):
    end = b"Bye-bye!"

    def connectionMade(self):
        self.sendLine(b"Hello, world!")
        self.sendLine(b"What a fine day it is.")
        self.sendLine(self.end)

    def lineReceived(self, line):
        print("receive:", line)
        if line == self.end:
            self.transport.loseConnection()


class EchoClientFactory(ClientFactory):
    protocol = EchoClient

    def __init__(self):
        self.done = Deferred()

    def clientConnectionFailed(self, connector, reason):
        print("connection failed:", reason.getErrorMessage())
        self.done.errback(reason)

    def clientConnectionLost(self, connector, reason):
        print("connection lost:", reason.getErrorMessage())
        self.done.callback(None)


def main(reactor):
    server = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    factory = EchoClientFactory()
    reactor.connectTCP("127.0.0.1", server.getHost().port, factory)
    return factory.done


if __name__ == "__main__":
    task.react(main)
