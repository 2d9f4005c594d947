"""fw's zone-file reading agrees with dnspython's on a zone using many record types."""

from __future__ import annotations

from pathlib import Path

import dns.rdataclass
import dns.rdatatype
import dns.zone
import pytest

from fw.names import dns as fdns
from fw.names.authority import BindAuthority

ZONE = """\
$ORIGIN example.com.
$TTL 1h
@   IN  SOA ns1.example.com. hostmaster ( 2024010101 2h 30m 2w 5m )
    NS  ns1
    NS  ns2.elsewhere.net.
    MX  10 mail
    MX  20 mail.backup.net.
    TXT "v=spf1 -all" "second string"
    TXT "quote \\" and \\\\ backslash" "\\196\\128 octets"
    CAA 0 issue "ca.example.net"
    HINFO "PC" "Linux"
ns1         A       192.0.2.1
ns1         AAAA    2001:db8::1
mail  300   IN A    192.0.2.25
www         CNAME   @
alias       CNAME   www.example.com.
_sip._udp   SRV     10 60 5060 sip
sip         A       192.0.2.5
1.2.0.192.in-addr.arpa.example.com. PTR www
naptr       NAPTR   100 10 "S" "SIP+D2U" "" _sip._udp
rp          RP      admin.example.com. txt.example.com.
afs         AFSDB   1 afs1
dname       DNAME   example.net.
sshfp       SSHFP   1 1 ( 123456789abcdef67890123456789abcdef67890 )
tlsa        TLSA    3 1 1 ( d2abde240d7cd3ee6b4b28c54df034b9
                            7983a1d16e8a410e4561cb106618e971 )
ds          DS      60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
*.wild      A       192.0.2.80
deep.ent    A       192.0.2.81
unknown     TYPE65280 \\# 4 0a000001
"""


def test_sameRecordsAsDnspython(tmp_path: Path) -> None:
    path = tmp_path / "example.com"
    path.write_text(ZONE)
    ours = BindAuthority(str(path))
    theirs = dns.zone.from_text(ZONE, origin="example.com.", relativize=False)

    fromDnspython = set()
    for name, node in theirs.nodes.items():
        owner = name.to_text(omit_final_dot=True).lower().encode()
        for rdataset in node.rdatasets:
            for rdata in rdataset:
                fromDnspython.add((owner, rdataset.ttl, int(rdataset.rdtype), rdata.to_wire()))

    fromFw = set()
    for owner, records in ours.records.items():
        for record in records:
            fromFw.add((owner, record.ttl, record.TYPE, record.toWire()))

    assert fromFw == fromDnspython
    assert len(fromFw) == 27


@pytest.mark.parametrize("rdtype", ["A", "MX", "TXT", "SRV", "CAA", "TLSA"])
def test_presentationMatches(tmp_path: Path, rdtype: str) -> None:
    """Each record, presented by fw, is read back by dnspython as the same rdata."""
    path = tmp_path / "example.com"
    path.write_text(ZONE)
    ours = BindAuthority(str(path))
    number = fdns.textToType(rdtype)
    for owner, records in ours.records.items():
        for record in records:
            if number != record.TYPE:
                continue
            parsed = dns.rdata.from_text(
                dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), record.toText(), origin=None
            )
            assert parsed.to_wire() == record.toWire(), owner
