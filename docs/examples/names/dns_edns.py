"""
EDNS(0): the UDP payload size, the DO bit, extended response codes and
options (client subnet, cookie, padding), as attributes of ``EDNSMessage``
(Twisted's ``_EDNSMessage``) instead of an OPT record to build by hand.
"""

from fw.names import dns

query = dns.EDNSMessage(id=7, recDes=True, maxSize=1232, dnssecOK=True)
query.addQuery("example.org", dns.AAAA)
query.options = [
    dns.ClientSubnetOption("198.51.100.0", 24).toOption(),
    dns.CookieOption(bytes(range(8))).toOption(),
]
wire = query.toStr()
padding = dns.PaddingOption.forBlock(len(wire), 128)
query.options.append(padding.toOption())
wire = query.toStr()
print("query:", len(wire), "octets (padded to a multiple of 128)")

# A plain Message shows the OPT pseudo-record; EDNSMessage folds it away.
plain = dns.Message()
plain.fromStr(wire)
print("OPT record:", plain.additional[0].type == dns.OPT, "class field =", plain.additional[0].cls)
received = dns.EDNSMessage()
received.fromStr(wire)
print("payload size", received.maxSize, "DO", received.dnssecOK, "version", received.ednsVersion)
subnet = dns.ClientSubnetOption.fromOption(received.option(dns.OPTION_CLIENT_SUBNET))
print("client subnet", subnet.address, "/", subnet.sourcePrefixLength)
print(
    "client cookie",
    dns.CookieOption.fromOption(received.option(dns.OPTION_COOKIE)).clientCookie.hex(),
)

# An answer too big for the client's payload size is cut at a record boundary, TC set.
answer = dns.EDNSMessage(id=7, answer=True, maxSize=512)
answer.queries = received.queries
answer.answers = [
    dns.RRHeader("example.org", dns.AAAA, ttl=60, payload=dns.Record_AAAA(f"2001:db8::{i:x}"))
    for i in range(40)
]
wire = answer.toStr()
cut = dns.EDNSMessage()
cut.fromStr(wire)
print(
    len(wire),
    "octets, truncated:",
    cut.trunc,
    "records kept:",
    len(cut.answers),
    "EDNS kept:",
    cut.ednsVersion == 0,
)
