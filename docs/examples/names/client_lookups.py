"""
Look up several record types with ``client.Resolver`` (Twisted's names howto
``testdns.py``, ported).  The name server is the small test server of
``dns_server_minimal.py``, started here on 127.0.0.1.
"""

from dns_server_minimal import startTestServer

from fw.internet.task import react
from fw.names import client, error


async def main(reactor):
    port = startTestServer(reactor)
    resolver = client.Resolver(servers=[("127.0.0.1", port)])

    answers, _authority, _additional = await resolver.lookupAddress("www.example.test")
    print("A:", [rr.payload.dottedQuad() for rr in answers])

    answers, _, _ = await resolver.lookupIPV6Address("www.example.test")
    print("AAAA:", [rr.payload.toText() for rr in answers])

    answers, _, _ = await resolver.lookupMailExchange("example.test")
    for rr in sorted(answers, key=lambda rr: rr.payload.preference):
        print("MX:", rr.payload.preference, rr.payload.name)

    answers, _, _ = await resolver.lookupText("example.test")
    print("TXT:", answers[0].payload.data)

    answers, _, _ = await resolver.lookupAuthority("example.test")
    print("SOA serial:", answers[0].payload.serial)

    # Any record type, by number, with query():
    from fw.names import dns

    answers, _, _ = await resolver.query(dns.Query("example.test", dns.NS))
    print("NS:", [str(rr.payload.name) for rr in answers])

    try:
        await resolver.lookupAddress("nowhere.example.test")
    except error.DNSNameError:
        print("nowhere.example.test: no such domain")


react(main)
