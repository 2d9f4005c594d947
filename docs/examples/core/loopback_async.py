# loopbackAsync connects two protocols in memory, with no sockets: handy in
# tests.  Its Deferred fires once one side has closed and both have been told.

from fw.internet import task
from fw.protocols.basic import LineReceiver
from fw.protocols.loopback import loopbackAsync


class Shouter(LineReceiver):
    def lineReceived(self, line):
        if line == b"bye":
            self.sendLine(b"BYE!")
            self.transport.loseConnection()
        else:
            self.sendLine(line.upper())


class Talker(LineReceiver):
    script = [b"hello", b"how are you?", b"bye"]

    def connectionMade(self):
        self.sendLine(self.script.pop(0))

    def lineReceived(self, line):
        print("heard:", line.decode())
        if self.script:
            self.sendLine(self.script.pop(0))

    def connectionLost(self, reason):
        print("closed:", reason.getErrorMessage())


def main(reactor):
    done = loopbackAsync(Shouter(), Talker(), clock=reactor)
    return done.addCallback(lambda _: print("both sides closed"))


if __name__ == "__main__":
    task.react(main)
