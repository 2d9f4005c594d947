"""
A not-so-simple server: a chat room.  Each client sends its name as its first
line, then every line it sends goes to everybody else.  The factory holds what
the connections share: who is in the room.

The end of the program plays a short conversation between two clients, each
line a reply to the one before, and the server prints what it sees; it stops
when the room is empty again.
"""

from fw.internet import reactor
from fw.internet.protocol import ClientFactory, Factory, Protocol


class LineProtocol(Protocol):
    """Split the byte stream into lines; subclasses handle whole lines."""

    buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            self.lineReceived(line.decode())

    def sendLine(self, line):
        self.transport.write(line.encode() + b"\n")


class Chat(LineProtocol):
    """One member of the room, on the server's side."""

    name = None

    def lineReceived(self, line):
        room = self.factory.members
        if self.name is None:
            self.name = line
            room[line] = self
            print(f"server: {line} joined ({len(room)} online)")
            self.sendLine(f"welcome, {line}; online: {', '.join(sorted(room))}")
            self.broadcast(f"* {line} joined")
        else:
            print(f"server: <{self.name}> {line}")
            self.broadcast(f"<{self.name}> {line}")

    def broadcast(self, line):
        for member in self.factory.members.values():
            if member is not self:
                member.sendLine(line)

    def connectionLost(self, reason):
        room = self.factory.members
        if room.pop(self.name, None) is not None:
            print(f"server: {self.name} left ({len(room)} online)")
            self.broadcast(f"* {self.name} left")
            if not room:
                self.factory.roomIsEmpty()


class ChatFactory(Factory):
    protocol = Chat

    def __init__(self):
        self.members = {}

    def roomIsEmpty(self):
        print("server: the room is empty; stopping")
        reactor.stop()


class Member(LineProtocol):
    """A client in the room: it answers the lines its script knows."""

    def connectionMade(self):
        self.sendLine(self.factory.name)

    def lineReceived(self, line):
        reply = self.factory.script.get(line)
        if reply is None:
            return
        if callable(reply):
            reply(self)
        else:
            self.sendLine(reply)


class MemberFactory(ClientFactory):
    protocol = Member

    def __init__(self, name, script):
        self.name = name
        self.script = script


def hangUp(member):
    member.transport.loseConnection()


def sayAndLeave(line):
    def act(member):
        member.sendLine(line)
        member.transport.loseConnection()

    return act


factory = ChatFactory()
port = reactor.listenTCP(0, factory, interface="127.0.0.1")
address = ("127.0.0.1", port.getHost().port)

bob = MemberFactory("bob", {"<alice> hi bob": sayAndLeave("hello alice; sorry, must go")})
alice = MemberFactory(
    "alice",
    {
        # Bob comes in once alice is in the room.
        "welcome, alice; online: alice": lambda member: reactor.connectTCP(*address, bob),
        "* bob joined": "hi bob",
        "* bob left": hangUp,
    },
)
reactor.connectTCP(*address, alice)
reactor.run()
