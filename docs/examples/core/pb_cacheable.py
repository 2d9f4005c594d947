"""
Twisted's PB howto's cacheable example (cache_classes.py, cache_sender.py,
cache_receiver.py) in one program: the server's ``MasterDuckPond`` is a
Cacheable; the client's ``SlaveDuckPond`` copy is kept up to date through
the observer the server is given for it.
"""

from fw.internet import reactor
from fw.internet.defer import ensureDeferred, gatherResults
from fw.spread import pb


class MasterDuckPond(pb.Cacheable):
    def __init__(self, ducks):
        self.observers = []
        self.ducks = ducks

    def count(self):
        return len(self.ducks)

    def addDuck(self, duck):
        self.ducks.append(duck)
        return gatherResults([o.callRemote("addDuck", duck) for o in self.observers])

    def removeDuck(self, duck):
        self.ducks.remove(duck)
        return gatherResults([o.callRemote("removeDuck", duck) for o in self.observers])

    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers.append(observer)
        return {"ducks": list(self.ducks)}

    def stoppedObserving(self, perspective, observer):
        self.observers.remove(observer)


class SlaveDuckPond(pb.RemoteCache):
    def count(self):
        return len(self.ducks)

    def observe_addDuck(self, duck):
        print(" [client] the pond gained", duck)
        self.ducks.append(duck)

    def observe_removeDuck(self, duck):
        print(" [client] the pond lost", duck)
        self.ducks.remove(duck)


pb.setUnjellyableForClass(MasterDuckPond, SlaveDuckPond)


class Sender(pb.Root):
    def __init__(self):
        self.pond = MasterDuckPond(["one duck", "two duck"])

    def remote_getPond(self):
        return self.pond

    def remote_addDuck(self, duck):
        return self.pond.addDuck(duck)

    def remote_removeDuck(self, duck):
        return self.pond.removeDuck(duck)


async def main(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    root = await factory.getRootObject()
    pond = await root.callRemote("getPond")
    print("client got a", type(pond).__name__, "with", pond.count(), "ducks")
    await root.callRemote("addDuck", "red duck")
    await root.callRemote("removeDuck", "one duck")
    print("the copy now has", pond.count(), "ducks:", pond.ducks)
    factory.disconnect()


def run():
    port = reactor.listenTCP(0, pb.PBServerFactory(Sender()), interface="127.0.0.1")
    d = ensureDeferred(main(port))
    d.addErrback(lambda failure: print(failure.getTraceback()))
    d.addBoth(lambda _: reactor.stop())


reactor.callWhenRunning(run)
reactor.run()
