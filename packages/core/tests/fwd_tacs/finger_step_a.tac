# The finger tutorial's step where the server becomes an application: a
# finger protocol answering from a dict held by its factory, run by fwd
# (twistd in the tutorial) as the Application "finger" with user and group
# ids 1.  Ported by renaming "twisted" to "fw"; the test replaces the
# listening port (tcp:79) by a UNIX socket of its own.
from fw.application import service, strports
from fw.internet import defer, protocol, reactor
from fw.protocols import basic


class FingerProtocol(basic.LineReceiver):
    def lineReceived(self, user):
        d = self.factory.getUser(user)

        def onError(err):
            return b"Internal error in server"

        d.addErrback(onError)

        def writeResponse(message):
            self.transport.write(message + b"\r\n")
            self.transport.loseConnection()

        d.addCallback(writeResponse)


class FingerFactory(protocol.ServerFactory):
    protocol = FingerProtocol

    def __init__(self, users):
        self.users = users

    def getUser(self, user):
        return defer.succeed(self.users.get(user, b"No such user"))


application = service.Application("finger", uid=1, gid=1)
factory = FingerFactory({b"moshez": b"Happy and well"})
strports.service("tcp:79", factory, reactor=reactor).setServiceParent(
    service.IServiceCollection(application)
)
