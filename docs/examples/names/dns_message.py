"""
Building, encoding and parsing a DNS message with ``fw.names.dns`` - no
network, no reactor: the wire format is a pure function of the message.
"""

from fw.names import dns, error

# A query, as a stub resolver sends it.
query = dns.Message(id=0x2A2A, recDes=1)
query.addQuery("www.example.com", dns.A)
wire = query.toStr()
print(len(wire), "octets:", wire.hex(" "))

# The answer a server might send back.
response = dns.Message(id=query.id, answer=1, auth=1, recDes=1, recAv=1)
response.queries = query.queries
response.answers = [
    dns.RRHeader(
        "www.example.com", dns.CNAME, ttl=3600, payload=dns.Record_CNAME("web.example.com")
    ),
    dns.RRHeader("web.example.com", dns.A, ttl=300, payload=dns.Record_A("192.0.2.1")),
]
response.authority = [
    dns.RRHeader("example.com", dns.NS, ttl=86400, payload=dns.Record_NS("ns1.example.com"))
]
wire = response.toStr()
print(len(wire), "octets, names compressed")

# Parse it back.
received = dns.Message()
received.fromStr(wire)
print("id", hex(received.id), "rCode", received.rCode, "authoritative", bool(received.auth))
for section in ("answers", "authority"):
    for rr in getattr(received, section):
        print(section, "|", rr.toText())

# Hostile input gives DNSFormatError, never a crash or a hang:
loop = wire[:12] + b"\xc0\x0c" + wire[14:]
try:
    dns.Message().fromStr(loop)
except error.DNSFormatError as e:
    print("rejected:", e)
