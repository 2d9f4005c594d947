# ClientService keeps a client connected: here the server is not there at
# first, so the service retries (with back-off) until it is, and
# whenConnected() fires with the connected protocol.

from fw.application.internet import ClientService, backoffPolicy
from fw.internet import endpoints, protocol, task


class Hello(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hello")


class Collect(protocol.Protocol):
    def dataReceived(self, data):
        print("server received:", data.decode())
        self.factory.received.callback(None)


async def main(reactor):
    # Find a free port, then leave it closed for a while.
    probe = reactor.listenTCP(0, protocol.ServerFactory(), interface="127.0.0.1")
    portNumber = probe.getHost().port
    await probe.stopListening()

    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", portNumber)
    client = ClientService(
        endpoint,
        protocol.Factory.forProtocol(Hello),
        retryPolicy=backoffPolicy(initialDelay=0.05, maxDelay=0.2, jitter=lambda: 0),
    )
    client.startService()
    print("client service started; nothing listens yet")

    await task.deferLater(reactor, 0.2, lambda: None)
    serverFactory = protocol.ServerFactory.forProtocol(Collect)
    from fw.internet.defer import Deferred

    serverFactory.received = Deferred()
    server = reactor.listenTCP(portNumber, serverFactory, interface="127.0.0.1")
    print("server listening now")

    connected = await client.whenConnected()
    print("connected:", type(connected).__name__)
    await serverFactory.received
    await client.stopService()
    await server.stopListening()


if __name__ == "__main__":
    task.react(main)
