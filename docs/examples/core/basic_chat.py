# Twisted's chat server (docs/core/howto/listings/servers/chat.py), ported:
# "twisted" became "fw" in the imports.  main() listens on a free port of
# 127.0.0.1 instead of 8123 and runs two scripted clients against it.

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory
from fw.protocols.basic import LineReceiver


class Chat(LineReceiver):
    def __init__(self, users):
        self.users = users
        self.name = None
        self.state = "GETNAME"

    def connectionMade(self):
        self.sendLine(b"What's your name?")

    def connectionLost(self, reason):
        if self.name in self.users:
            del self.users[self.name]

    def lineReceived(self, line):
        if self.state == "GETNAME":
            self.handle_GETNAME(line.decode("utf-8"))
        else:
            self.handle_CHAT(line.decode("utf-8"))

    def handle_GETNAME(self, name):
        if name in self.users:
            self.sendLine(b"Name taken, please choose another.")
            return
        self.sendLine(f"Welcome, {name}!".encode())
        self.name = name
        self.users[name] = self
        self.state = "CHAT"

    def handle_CHAT(self, message):
        message = f"<{self.name}> {message}".encode()
        for name, protocol in self.users.items():  # noqa: B007, PERF102 - as in Twisted
            if protocol != self:
                protocol.sendLine(message)


class ChatFactory(Factory):
    def __init__(self):
        self.users = {}  # maps user names to Chat instances

    def buildProtocol(self, addr):
        return Chat(self.users)


# -- not in Twisted's listing: two clients that talk, so that the program ends.


class Scripted(LineReceiver):
    """
    Answers each line the server sends with the next line of its script; once
    welcomed, calls ``then``.
    """

    def __init__(self, name, script, then=None):
        self.name, self.script, self.then = name, list(script), then

    def lineReceived(self, line):
        print(f"{self.name} got: {line.decode()}")
        if line.startswith(b"<"):
            # A chat message arrived: everyone said what they had to say.
            reactor.stop()
        elif line.startswith(b"Welcome") and self.then is not None:
            self.then()
        if self.script:
            self.sendLine(self.script.pop(0))


class ScriptedFactory(ClientFactory):
    def __init__(self, name, script, then=None):
        self.name, self.script, self.then = name, script, then

    def buildProtocol(self, addr):
        protocol = Scripted(self.name, self.script, self.then)
        protocol.factory = self
        return protocol


def main():
    port = reactor.listenTCP(0, ChatFactory(), interface="127.0.0.1")
    number = port.getHost().port

    def bobJoins():
        reactor.connectTCP("127.0.0.1", number, ScriptedFactory("bob", [b"bob", b"hi alice!"]))

    reactor.connectTCP("127.0.0.1", number, ScriptedFactory("alice", [b"alice"], bobJoins))
    reactor.run()


if __name__ == "__main__":
    main()
