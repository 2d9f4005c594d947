"""
Testing a DNS server without a network: hand the factory a parsed query and
a stand-in protocol that keeps what the server writes.

This is how a server's behaviour is checked in unit tests: no sockets, no
reactor run; the authority answers synchronously, so the response is there
as soon as ``messageReceived`` returns.
"""

import os
import tempfile

from fw.names import authority, dns, server

ZONE = """\
$TTL 300
@    SOA ns hostmaster 1 3600 600 86400 60
     NS  ns
ns   A   192.0.2.1
*.users A 192.0.2.80
"""


class RecordingProtocol:
    """Keeps every message the server writes, as the client would read it."""

    def __init__(self):
        self.responses = []

    def writeMessage(self, message, address=None):
        response = dns.Message()
        response.fromStr(message.toStr())
        self.responses.append(response)


def ask(factory, name, type=dns.A):
    query = dns.Message(id=1234, recDes=1)
    query.queries = [dns.Query(name, type)]
    protocol = RecordingProtocol()
    factory.messageReceived(query, protocol, ("192.0.2.99", 53000))
    (response,) = protocol.responses
    return response


directory = tempfile.mkdtemp()
path = os.path.join(directory, "example.org")
with open(path, "w") as f:
    f.write(ZONE)
factory = server.DNSServerFactory(authorities=[authority.BindAuthority(path)])

response = ask(factory, "alice.users.example.org")
print("id", response.id, "authoritative", bool(response.auth), "rcode", response.rCode)
print(response.answers[0].toText())

response = ask(factory, "nobody.example.org")
print(f"rcode {response.rCode} (NXDOMAIN is {dns.ENAME})")
print("authority:", response.authority[0].toText())

response = ask(factory, "elsewhere.example.net")
print(f"rcode {response.rCode} (REFUSED is {dns.EREFUSED}): not our zone, and no recursion")

os.remove(path)
os.rmdir(directory)
