# Subclass-and-override: fw.protocols.finger.Finger parses RFC 1288 queries
# and calls getUser, getDomain or forwardQuery; this server answers two of
# them from a dict and keeps the polite refusal for forwarding.

from fw.internet import endpoints, protocol, task
from fw.protocols.finger import Finger, fingerQuery

USERS = {b"alice": b"Alice Liddell, down the rabbit hole", b"bob": b"Bob, at lunch"}


class DictFinger(Finger):
    def getUser(self, slash_w, user):
        if user not in USERS:
            super().getUser(slash_w, user)
            return
        self.transport.write(b"Login: " + user + b"\r\n" + USERS[user] + b"\r\n")
        if slash_w:
            self.transport.write(b"(and that is all we know)\r\n")
        self.transport.loseConnection()

    def getDomain(self, slash_w):
        self.transport.write(b"".join(user + b"\r\n" for user in sorted(USERS)))
        self.transport.loseConnection()


async def main(reactor):
    factory = protocol.Factory.forProtocol(DictFinger)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    server = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    for user, verbose in [(b"alice", True), (b"", False), (b"carol", False), (b"bob@far", False)]:
        answer = await fingerQuery(server, user, verbose=verbose)
        print(f"finger {'/W ' if verbose else ''}{user.decode()!r}:")
        print("   ", answer.decode().rstrip().replace("\r\n", "\n    "))
    await port.stopListening()


if __name__ == "__main__":
    task.react(main)
