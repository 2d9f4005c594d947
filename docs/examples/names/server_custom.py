"""
A custom DNS server: a resolver that computes its answers.

A query for ``workstationN.example.com`` (type A) is answered with the
address 172.0.2.N; anything else falls through to the next resolver (here a
hosts file; in a real server, ``client.Resolver(resolv="/etc/resolv.conf")``).

The server listens on 127.0.0.1 on a free port; fw's own client asks it.
"""

import os
import tempfile

from fw.internet import defer, reactor
from fw.names import client, dns, error, hosts, server


class DynamicResolver:
    """Answers A queries for workstationN names; fails others with DomainError."""

    prefix = b"workstation"
    network = "172.0.2"

    def _answerable(self, query):
        if query.type != dns.A:
            return False
        first = query.name.name.split(b".")[0]
        return first.startswith(self.prefix) and first[len(self.prefix) :].isdigit()

    def _answer(self, query):
        name = query.name.name
        number = int(name.split(b".")[0][len(self.prefix) :])
        record = dns.Record_A(address=f"{self.network}.{number}")
        return [dns.RRHeader(name=name, payload=record)], [], []

    def query(self, query, timeout=None):
        if self._answerable(query):
            return defer.succeed(self._answer(query))
        # DomainError passes the question to the next resolver.
        return defer.fail(error.DomainError())


async def main():
    hostsFile = os.path.join(tempfile.mkdtemp(), "hosts")
    with open(hostsFile, "w") as f:
        f.write("192.0.2.7 printer.example.com\n")
    factory = server.DNSServerFactory(clients=[DynamicResolver(), hosts.Resolver(hostsFile)])
    udp = reactor.listenUDP(0, dns.DNSDatagramProtocol(controller=factory), interface="127.0.0.1")
    port = udp.getHost().port
    tcp = reactor.listenTCP(port, factory, interface="127.0.0.1")

    resolver = client.Resolver(servers=[("127.0.0.1", port)])
    for name in ["workstation1.example.com", "workstation42.example.com", "printer.example.com"]:
        answers, _authority, _additional = await resolver.lookupAddress(name)
        print(name, "->", answers[0].payload.dottedQuad())
    try:
        await resolver.lookupAddress("workstationX.example.com")
    except error.DNSNameError:
        print("workstationX.example.com -> no such name")

    await udp.stopListening()
    await tcp.stopListening()
    os.remove(hostsFile)
    os.rmdir(os.path.dirname(hostsFile))


def stop(result):
    if isinstance(result, Exception) or hasattr(result, "printTraceback"):
        result.printTraceback()
    reactor.callLater(0.1, reactor.stop)


defer.ensureDeferred(main()).addBoth(stop)
reactor.run()
