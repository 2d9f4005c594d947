"""
``getHostByName``: one address for a name (Twisted's ``gethostbyname.py``).
"""

from dns_server_minimal import startTestServer

from fw.internet import defer
from fw.internet.error import DNSLookupError
from fw.internet.task import react
from fw.names import client


async def main(reactor):
    port = startTestServer(reactor)
    resolver = client.Resolver(servers=[("127.0.0.1", port)])
    for name in ["www.example.test", "mail.example.test", "missing.example.test"]:
        try:
            address = await resolver.getHostByName(name)
        except DNSLookupError:
            print(name, "-> lookup failed")
        else:
            print(name, "->", address)
    # Several lookups at once:
    addresses = await defer.gatherResults(
        [resolver.getHostByName("www.example.test"), resolver.getHostByName("ns1.example.test")]
    )
    print(addresses)


react(main)
