"""
What a client sees when a SOCKS proxy refuses: an exception named after the
proxy's reply, carrying its code.  Here fw's SOCKS 5 proxy keeps its default
policy, which refuses loopback destinations, and then a wrong password.
"""

from fw.internet import reactor
from fw.internet.defer import ensureDeferred
from fw.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from fw.internet.protocol import Protocol
from fw.protocols.socks import (
    LoginAuthenticationFailed,
    SOCKS5ClientEndpoint,
    SOCKSReplyError,
    SOCKSv5Factory,
)


async def attempt(proxyPort, methods):
    endpoint = SOCKS5ClientEndpoint(
        "127.0.0.1", 8080, TCP4ClientEndpoint(reactor, "127.0.0.1", proxyPort), methods=methods
    )
    try:
        await connectProtocol(endpoint, Protocol())
    except SOCKSReplyError as e:
        print(f"refused: {type(e).__name__}, reply code {e.code}")
    except LoginAuthenticationFailed as e:
        print(f"login failed: status {e.code}")


async def main():
    open_ = reactor.listenTCP(0, SOCKSv5Factory(), interface="127.0.0.1")
    await attempt(open_.getHost().port, {"anonymous": ()})

    guarded = reactor.listenTCP(0, SOCKSv5Factory(lambda u, p: False), interface="127.0.0.1")
    await attempt(guarded.getHost().port, {"login": ("alice", "wrong")})


def stop(_):
    reactor.callLater(0.1, reactor.stop)


ensureDeferred(main()).addBoth(stop)
reactor.run()
