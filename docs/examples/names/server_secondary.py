"""
A primary and a secondary: the secondary copies the zone by zone transfer
(AXFR), answers for it, and copies it again when the primary's SOA serial
grows.

Both servers listen on 127.0.0.1 on free ports in this one process; the
primary allows transfers to 127.0.0.1 only.
"""

import os
import tempfile

from fw.internet import defer, reactor
from fw.names import authority, client, dns, secondary, server


def zoneText(serial, address):
    return (
        "$TTL 1h\n"
        f"@ SOA ns1 hostmaster {serial} 2h 30m 2w 5m\n"
        "@ NS ns1\n"
        "ns1 A 192.0.2.1\n"
        f"www A {address}\n"
    )


def listen(factory):
    udp = reactor.listenUDP(0, dns.DNSDatagramProtocol(factory), interface="127.0.0.1")
    port = udp.getHost().port
    tcp = reactor.listenTCP(port, factory, interface="127.0.0.1")
    return port, [udp, tcp]


async def main():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "example.com")
    with open(path, "w") as f:
        f.write(zoneText(1, "192.0.2.10"))
    primaryZone = authority.BindAuthority(path)
    primaryPort, primaryPorts = listen(
        server.DNSServerFactory(authorities=[primaryZone], allowTransfer=["127.0.0.1"])
    )

    copy = secondary.SecondaryAuthority.fromServerAddressAndDomain(
        ("127.0.0.1", primaryPort), "example.com"
    )
    port, ports = listen(server.DNSServerFactory(authorities=[copy]))
    resolver = client.Resolver(servers=[("127.0.0.1", port)])

    print("transferred:", await copy.transfer())
    answers, _, _ = await resolver.lookupAddress("www.example.com")
    print("secondary says www is", answers[0].payload.dottedQuad())

    print("transferred again, same serial:", await copy.transfer())

    with open(path, "w") as f:
        f.write(zoneText(2, "192.0.2.20"))
    primaryZone.loadFile(path)
    print("transferred after the serial grew:", await copy.transfer())
    answers, _, _ = await resolver.lookupAddress("www.example.com")
    print("secondary says www is", answers[0].payload.dottedQuad())

    for port in primaryPorts + ports:
        await port.stopListening()
    os.remove(path)
    os.rmdir(directory)


def stop(result):
    if hasattr(result, "printTraceback"):
        result.printTraceback()
    reactor.callLater(0.1, reactor.stop)


defer.ensureDeferred(main()).addBoth(stop)
reactor.run()
