"""
Client and server in one program: a relay.  For each user that connects, the
relay connects to a backend server, passes the user's bytes to it and its
answers back.  The relay is a server to the user and a client of the backend.

Here the backend, the relay and one user all run in this one process.
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory, Protocol


class Shout(Protocol):
    """The backend: answer everything in capitals."""

    def dataReceived(self, data):
        print("backend: shouting back", data)
        self.transport.write(data.upper())

    def connectionLost(self, reason):
        print("backend: the relay hung up")
        reactor.stop()


class RelayFromUser(Protocol):
    """The relay's server side: one user's connection."""

    def connectionMade(self):
        print("relay: a user connected; connecting to the backend")
        # Read nothing from the user until the backend is there to take it.
        self.transport.pauseProducing()
        backend = ClientFactory.forProtocol(RelayToBackend)
        backend.user = self
        reactor.connectTCP("127.0.0.1", self.factory.backendPort, backend)

    def backendReady(self, backend):
        self.backend = backend
        self.transport.resumeProducing()

    def dataReceived(self, data):
        print("relay: passing on", data)
        self.backend.transport.write(data)

    def connectionLost(self, reason):
        print("relay: the user left; closing the backend connection")
        self.backend.transport.loseConnection()


class RelayToBackend(Protocol):
    """The relay's client side: its connection to the backend, for one user."""

    def connectionMade(self):
        print("relay: connected to the backend")
        self.factory.user.backendReady(self)

    def dataReceived(self, data):
        print("relay: passing back", data)
        self.factory.user.transport.write(data)


class User(Protocol):
    def connectionMade(self):
        self.transport.write(b"hello through the relay")

    def dataReceived(self, data):
        print("user: got", data)
        self.transport.loseConnection()


backend = reactor.listenTCP(0, Factory.forProtocol(Shout), interface="127.0.0.1")
relayFactory = Factory.forProtocol(RelayFromUser)
relayFactory.backendPort = backend.getHost().port
relay = reactor.listenTCP(0, relayFactory, interface="127.0.0.1")
reactor.connectTCP("127.0.0.1", relay.getHost().port, ClientFactory.forProtocol(User))
reactor.run()
