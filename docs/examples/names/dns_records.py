"""
Records in presentation (zone file) format and on the wire: every type
parses its rdata text, shows it back, and has an uncompressed wire form.
Types fw does not know use RFC 3597's generic ``\\# length hex`` form.
"""

from fw.names import dns

lines = [
    ("MX", "10 mail"),
    ("TXT", '"v=spf1 -all" "second string"'),
    ("SRV", "0 5 5060 sip"),
    ("CAA", '0 issue "ca.example.net"'),
    ("SSHFP", "4 2 " + "ab" * 32),
    ("HTTPS", '1 . alpn="h2,h3" port=8443'),
    ("DS", "60485 13 2 " + "2b" * 32),
    ("NSEC", "host.example.com. A MX RRSIG NSEC"),
    ("SOA", "ns1 hostmaster ( 2026120201 3600 600 86400 300 )"),
    ("TYPE4321", "\\# 3 010203"),
]
for type, text in lines:
    record = dns.recordFromText(type, text, origin="example.com")
    print(f"{type:8} {record.toText()}")
    print(f"{'':8} wire: {record.toWire().hex()[:48]}{'...' if len(record.toWire()) > 24 else ''}")

# Records are ordinary objects, equal by value, with Twisted's constructors.
mx = dns.Record_MX(10, "mail.example.com", ttl=3600)
print(mx, mx == dns.Record_MX.fromText("10 mail.example.com.", ttl=3600))
print(dns.Record_A("192.0.2.1").dottedQuad(), dns.Record_AAAA("2001:db8::1").toText())
