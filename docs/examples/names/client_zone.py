"""
A zone transfer (AXFR over TCP) with ``lookupZone``: every record of a zone,
between two copies of its SOA.
"""

from dns_server_minimal import startTestServer

from fw.internet.task import react
from fw.names import client


async def main(reactor):
    port = startTestServer(reactor)
    resolver = client.Resolver(servers=[("127.0.0.1", port)])
    records, _, _ = await resolver.lookupZone("example.test")
    for rr in records:
        print(rr.toText())


react(main)
