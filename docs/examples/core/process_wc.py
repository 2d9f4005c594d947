# Twisted's docs/core/howto/listings/process/process.py (the "Using Processes"
# howto), ported: "twisted" became "fw" in the imports, the Python 2 text
# became bytes and the % formatting f-strings.  One more change: the child
# closing its stdout and its stderr, and its exit, are three events that may
# come in any order, so they are collected and printed in a fixed order at
# processEnded, which always comes last: the output is the same every run.

from fw.internet import protocol, reactor


class MyPP(protocol.ProcessProtocol):
    def __init__(self, verses):
        self.verses = verses
        self.data = b""
        self.closing = {}

    def connectionMade(self):
        print("connectionMade!")
        for _ in range(self.verses):
            self.transport.write(
                b"Aleph-null bottles of beer on the wall,\n"
                b"Aleph-null bottles of beer,\n"
                b"Take one down and pass it around,\n"
                b"Aleph-null bottles of beer on the wall.\n"
            )
        self.transport.closeStdin()  # tell them we're done

    def outReceived(self, data):
        print(f"outReceived! with {len(data)} bytes!")
        self.data = self.data + data

    def errReceived(self, data):
        print(f"errReceived! with {len(data)} bytes!")

    def inConnectionLost(self):
        print("inConnectionLost! stdin is closed! (we probably did it)")

    def outConnectionLost(self):
        # now is the time to examine what they wrote
        lines, _words, _chars = self.data.split()
        self.closing["out"] = (
            f"outConnectionLost! The child closed their stdout!\nI saw {lines.decode()} lines"
        )

    def errConnectionLost(self):
        self.closing["err"] = "errConnectionLost! The child closed their stderr."

    def processExited(self, reason):
        self.closing["exit"] = f"processExited, status {reason.value.exitCode}"

    def processEnded(self, reason):
        for event in ("out", "err", "exit"):
            print(self.closing[event])
        print(f"processEnded, status {reason.value.exitCode}")
        print("quitting")
        reactor.stop()


pp = MyPP(10)
reactor.spawnProcess(pp, "wc", ["wc"], {})
reactor.run()
