"""
fw's DNS client as the reactor's name resolver: ``HostnameEndpoint`` (and
``connectTCP`` with a host name) then ask it instead of getaddrinfo.
"""

from dns_server_minimal import startTestServer

from fw.internet import endpoints, protocol
from fw.internet.defer import Deferred
from fw.internet.task import react
from fw.names import client


class Greeter(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hello from the server\n")
        self.transport.loseConnection()


class Reader(protocol.Protocol):
    def __init__(self):
        self.done = Deferred()
        self.data = b""

    def dataReceived(self, data):
        self.data += data

    def connectionLost(self, reason):
        self.done.callback(self.data)


async def main(reactor):
    dnsPort = startTestServer(reactor)
    client.installResolver(client.Resolver(servers=[("127.0.0.1", dnsPort)]), reactor=reactor)
    listening = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
        protocol.Factory.forProtocol(Greeter)
    )
    port = listening.getHost().port
    # localhost.example.test is 127.0.0.1 only in the test server's records.
    endpoint = endpoints.HostnameEndpoint(reactor, "localhost.example.test", port)
    reader = await endpoint.connect(protocol.Factory.forProtocol(Reader))
    print("connected to", reader.transport.getPeer().host)
    print((await reader.done).decode().strip())


react(main)
