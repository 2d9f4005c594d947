"""
Twisted's PB howto's copyable example (copy_sender.py and copy_receiver.py)
in one program: the client sends a ``LilyPond`` Copyable; the server has
registered ``ReceiverPond`` for it with ``setUnjellyableForClass``, so it
gets a copy of the pond's state, and sends back a copy of its own.
"""

from fw.internet import reactor
from fw.internet.defer import ensureDeferred
from fw.spread import pb


class LilyPond(pb.Copyable):
    def __init__(self, frogs):
        self.frogs = frogs

    def countFrogs(self):
        return self.frogs


class ReceiverPond(pb.RemoteCopy):
    def setCopyableState(self, state):
        self.__dict__ = state

    def count(self):
        return self.frogs


pb.setUnjellyableForClass(LilyPond, ReceiverPond)


class Receiver(pb.Root):
    def remote_takePond(self, pond):
        print("server got a", type(pond).__name__, "with", pond.count(), "frogs")
        return LilyPond(pond.count() + 1)


async def main(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    root = await factory.getRootObject()
    pond = LilyPond(12)
    print("client sends a pond with", pond.countFrogs(), "frogs")
    copy = await root.callRemote("takePond", pond)
    print("client got back a", type(copy).__name__, "with", copy.count(), "frogs")
    factory.disconnect()


def run():
    port = reactor.listenTCP(0, pb.PBServerFactory(Receiver()), interface="127.0.0.1")
    d = ensureDeferred(main(port))
    d.addErrback(lambda failure: print(failure.getTraceback()))
    d.addBoth(lambda _: reactor.stop())


reactor.callWhenRunning(run)
reactor.run()
