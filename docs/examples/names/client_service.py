"""
SRV lookups (Twisted's ``dns-service.py``): where is a service offered?
"""

from dns_server_minimal import startTestServer

from fw.internet.task import react
from fw.names import client


async def main(reactor):
    port = startTestServer(reactor)
    resolver = client.Resolver(servers=[("127.0.0.1", port)])
    name = "_xmpp-client._tcp.example.test"
    answers, _authority, _additional = await resolver.lookupService(name)
    for rr in sorted(answers, key=lambda rr: (rr.payload.priority, -rr.payload.weight)):
        srv = rr.payload
        print(f"priority={srv.priority} weight={srv.weight} target={srv.target}:{srv.port}")


react(main)
