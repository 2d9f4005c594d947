# The finger tutorial's early steps, on fw core alone: a finger server that
# reads users from a dict held by its factory.  main() serves on a free port
# of 127.0.0.1 (the tutorial uses port 79) and asks it about two users with
# fw's finger client.

from fw.internet import endpoints, protocol, task
from fw.protocols import basic
from fw.protocols.finger import fingerQuery


class FingerProtocol(basic.LineReceiver):
    def lineReceived(self, user):
        self.transport.write(self.factory.getUser(user) + b"\r\n")
        self.transport.loseConnection()


class FingerFactory(protocol.ServerFactory):
    protocol = FingerProtocol

    def __init__(self, users):
        self.users = users

    def getUser(self, user):
        return self.users.get(user, b"No such user")


async def main(reactor):
    factory = FingerFactory({b"moshez": b"Happy and well"})
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    server = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    for user in (b"moshez", b"nobody"):
        answer = await fingerQuery(server, user)
        print(user.decode(), "->", answer.decode().strip())
    await port.stopListening()


if __name__ == "__main__":
    task.react(main)
