"""
Twisted's PB howto's first example, pbsimple.py and pbsimpleclient.py, in
one program: an ``Echoer`` root object answers ``remote_echo``; a client
gets the root object and calls it, then calls a method that does not exist
and gets the server's error back.

The original server listens on port 8789 and runs forever; here it listens
on a free port of 127.0.0.1 and the client stops the reactor when done.
"""

from fw.internet import reactor
from fw.internet.defer import ensureDeferred
from fw.spread import pb


class Echoer(pb.Root):
    def remote_echo(self, st):
        print("echoing:", st)
        return st


async def main(port):
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    root = await factory.getRootObject()
    echo = await root.callRemote("echo", "hello network")
    print("server echoed:", echo)
    try:
        await root.callRemote("shout", "hello")
    except pb.RemoteError as e:
        print("error:", e)
    factory.disconnect()


def run():
    port = reactor.listenTCP(0, pb.PBServerFactory(Echoer()), interface="127.0.0.1")
    d = ensureDeferred(main(port))
    d.addErrback(lambda failure: print(failure.getTraceback()))
    d.addBoth(lambda _: reactor.stop())


reactor.callWhenRunning(run)
reactor.run()
