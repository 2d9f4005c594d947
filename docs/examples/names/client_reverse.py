"""
Reverse lookups of several addresses at once (Twisted's
``multi_reverse_lookup.py``): PTR queries under in-addr.arpa.
"""

from dns_server_minimal import startTestServer

from fw.internet import defer
from fw.internet.task import react
from fw.names import client


def reverseName(address):
    return ".".join(reversed(address.split("."))) + ".in-addr.arpa"


async def main(reactor):
    port = startTestServer(reactor)
    resolver = client.Resolver(servers=[("127.0.0.1", port)])
    addresses = ["192.0.2.80", "192.0.2.25", "192.0.2.99"]
    results = await defer.DeferredList(
        [resolver.lookupPointer(reverseName(a)) for a in addresses], consumeErrors=True
    )
    for address, (ok, result) in zip(addresses, results, strict=True):
        if ok:
            print(address, "->", result[0][0].payload.name)
        else:
            print(address, "->", result.type.__name__)


react(main)
