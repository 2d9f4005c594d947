"""
LimitTotalConnectionsFactory: at most two users at once; a third is told
the server is busy (the overflow protocol) instead of being served.  Each
protocol is wrapped, so the count goes down as connections end.
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Protocol
from fw.protocols.policies import LimitTotalConnectionsFactory


class Chat(Protocol):
    def connectionMade(self):
        self.transport.write(b"welcome")


class Busy(Protocol):
    def connectionMade(self):
        self.transport.write(b"too busy, come back later")
        self.transport.loseConnection()


server = LimitTotalConnectionsFactory()
server.protocol = Chat
server.connectionLimit = 2
server.overflowProtocol = Busy
port = reactor.listenTCP(0, server, interface="127.0.0.1")

answers = []


class User(Protocol):
    def dataReceived(self, data):
        answers.append(data)
        print(f"user {self.factory.number}: {data.decode()}")
        if len(answers) == 3:
            for user in users:
                user.transport.loseConnection()
            reactor.callLater(0.1, finish)


def finish():
    print("after they left:", server.connectionCount)
    reactor.stop()


users = []


def connect(number):
    factory = ClientFactory()
    factory.number = number

    def build(addr):
        user = User()
        user.factory = factory
        users.append(user)
        return user

    factory.buildProtocol = build
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)


# One after the other, so the third is the one turned away.
connect(1)
reactor.callLater(0.1, connect, 2)
reactor.callLater(0.2, connect, 3)
reactor.run()
