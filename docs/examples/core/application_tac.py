# A .tac file: it defines `application`, and fwd runs it:
#
#     fwd -n -y application_tac.py
#
# Run as a plain script (python application_tac.py) it starts the same
# service tree for a moment, asks its finger server about two users, and
# stops it, the way fwd would.

from fw.application import service, strports
from fw.internet import protocol
from fw.protocols import basic


class FingerProtocol(basic.LineReceiver):
    def lineReceived(self, user):
        self.transport.write(self.factory.users.get(user, b"No such user") + b"\r\n")
        self.transport.loseConnection()


class Greeter(service.Service):
    def startService(self):
        super().startService()
        print("greeter started")

    def stopService(self):
        print("greeter stopping")
        return super().stopService()


factory = protocol.ServerFactory.forProtocol(FingerProtocol)
factory.users = {b"moshez": b"Happy and well"}

application = service.Application("finger")
Greeter().setServiceParent(application)
fingerServer = strports.service("tcp:0:interface=127.0.0.1", factory)
fingerServer.setServiceParent(application)


async def main(reactor):
    from fw.internet import endpoints
    from fw.protocols.finger import fingerQuery

    root = service.IService(application)
    root.privilegedStartService()  # fwd: before dropping privileges
    root.startService()
    port = fingerServer.listeningPort.getHost().port
    server = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port)
    for user in (b"moshez", b"nobody"):
        answer = await fingerQuery(server, user)
        print(user.decode(), "->", answer.decode().strip())
    await root.stopService()  # fwd: on SIGTERM, last service first
    print("stopped")


if __name__ == "__main__":
    from fw.internet import task

    task.react(main)
