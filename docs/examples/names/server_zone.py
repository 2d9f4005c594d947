"""
An authoritative server for a BIND zone file, asked the four kinds of
question an authority answers: a name with records, a name without records
of the asked type (NODATA), a name that does not exist (NXDOMAIN, with the
zone's SOA for negative caching), and a name below a delegation (a
referral, with glue).

The server listens on 127.0.0.1 on a free port; fw's client asks it
directly with ``queryUDP`` to show each response's flags and sections.
"""

import os
import tempfile

from fw.internet import defer, reactor
from fw.names import authority, client, dns, server

ZONE = """\
$ORIGIN example.com.
$TTL 1h
@       SOA ns1 hostmaster ( 1 2h 30m 2w 5m )
        NS  ns1
        MX  10 mail
ns1     A   192.0.2.1
mail    A   192.0.2.25
www     CNAME mail
lab     NS  ns.lab
ns.lab  A   192.0.2.53
"""


def show(response):
    flags = [name for name in ("auth", "trunc") if getattr(response, name)]
    print(f"  rcode={response.rCode} flags={','.join(flags) or '-'}")
    for title, section in [
        ("answer", response.answers),
        ("authority", response.authority),
        ("additional", response.additional),
    ]:
        for rr in section:
            print(f"  {title}: {rr.toText()}")


async def main():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "example.com")
    with open(path, "w") as f:
        f.write(ZONE)
    zone = authority.BindAuthority(path)
    factory = server.DNSServerFactory(authorities=[zone])
    udp = reactor.listenUDP(0, dns.DNSDatagramProtocol(factory), interface="127.0.0.1")

    resolver = client.Resolver(servers=[("127.0.0.1", udp.getHost().port)])
    for name, type in [
        ("www.example.com", dns.A),
        ("example.com", dns.MX),
        ("mail.example.com", dns.TXT),
        ("nothere.example.com", dns.A),
        ("host.lab.example.com", dns.A),
    ]:
        print(f"{name} {dns.typeToText(type)}:")
        show(await resolver.queryUDP([dns.Query(name, type)]))

    await udp.stopListening()
    os.remove(path)
    os.rmdir(directory)


def stop(result):
    if hasattr(result, "printTraceback"):
        result.printTraceback()
    reactor.callLater(0.1, reactor.stop)


defer.ensureDeferred(main()).addBoth(stop)
reactor.run()
