"""
fw's client (fw.names.client) against servers that are not fw: a small
responder written on dnspython (UDP and TCP, truncation, loss, spoofed
ports, AXFR) and, when installed, dnsmasq.
"""

from __future__ import annotations

import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import dns.flags
import dns.message
import dns.name as dpname
import dns.rcode
import dns.rdata as dprdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from fw.internet import defer
from fw.internet.defer import maybeDeferred
from fw.internet.error import DNSLookupError
from fw.names import client
from fw.names import dns as fwdns
from fw.names.error import DNSFormatError, DNSNameError, DNSQueryTimeoutError
from fw.python.failure import Failure


class DnspythonServer:
    """``records`` maps ``(name, type)`` text pairs to lists of rdata text."""

    def __init__(
        self, records: dict[tuple[str, str], list[str]], ttl: int = 300, host: str = "127.0.0.1"
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.records = records
        self.ttl = ttl
        self.truncateUDP = False
        self.dropFirst = 0
        self.spoofFirst = 0
        self.queries: list[tuple[str, Any, Any]] = []
        for _ in range(50):
            self.udp = socket.socket(family, socket.SOCK_DGRAM)
            self.udp.bind((host, 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(family, socket.SOCK_STREAM)
            try:
                self.tcp.bind((host, self.port))
            except OSError:
                self.udp.close()
                self.tcp.close()
                continue
            break
        self.tcp.listen(5)
        self.spoofer = socket.socket(family, socket.SOCK_DGRAM)
        self.spoofer.bind((host, 0))
        self._stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._serveUDP, daemon=True),
            threading.Thread(target=self._serveTCP, daemon=True),
        ]
        for t in self.threads:
            t.start()

    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def answer(self, query: Any) -> Any:
        response = dns.message.make_response(query)
        q = query.question[0]
        name = q.name.to_text()
        rdtype = dns.rdatatype.to_text(q.rdtype)
        found = self.records.get((name, rdtype))
        cname = self.records.get((name, "CNAME"))
        if found is None and cname is not None and rdtype != "CNAME":
            response.answer.append(dns.rrset.from_text(q.name, self.ttl, "IN", "CNAME", *cname))
            target = cname[0]
            found = self.records.get((target, rdtype))
            name = target
        if found is None:
            if not any(n == name for n, _ in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        response.answer.append(
            dns.rrset.from_text(dns.name.from_text(name), self.ttl, "IN", rdtype, *found)
        )
        return response

    def _serveUDP(self) -> None:
        self.udp.settimeout(0.1)
        while not self._stop.is_set():
            try:
                data, addr = self.udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            self.queries.append(("udp", query, addr))
            if self.dropFirst > 0:
                self.dropFirst -= 1
                continue
            response = self.answer(query)
            wire = response.to_wire()
            if self.truncateUDP:
                response.answer = []
                response.flags |= dns.flags.TC
                wire = response.to_wire()
            if self.spoofFirst > 0:
                self.spoofFirst -= 1
                self.spoofer.sendto(wire, addr)
                continue
            self.udp.sendto(wire, addr)

    def _serveTCP(self) -> None:
        self.tcp.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    size = struct.unpack("!H", self._read(conn, 2))[0]
                    query = dns.message.from_wire(self._read(conn, size))
                except (OSError, struct.error):
                    continue
                self.queries.append(("tcp", query, None))
                try:
                    for response in self._tcpAnswers(query):
                        wire = response.to_wire()
                        conn.sendall(struct.pack("!H", len(wire)) + wire)
                except OSError:
                    continue  # the client hung up (as it does after a refused transfer)

    def _tcpAnswers(self, query: Any) -> list[Any]:
        if query.question[0].rdtype != dns.rdatatype.AXFR:
            return [self.answer(query)]
        zone = query.question[0].name.to_text()
        soa = self.records[(zone, "SOA")]
        messages = []
        first = dns.message.make_response(query)
        first.answer.append(dns.rrset.from_text(zone, self.ttl, "IN", "SOA", *soa))
        messages.append(first)
        for (name, rdtype), values in self.records.items():
            if rdtype == "SOA" or not name.endswith(zone):
                continue
            m = dns.message.make_response(query)
            m.answer.append(dns.rrset.from_text(name, self.ttl, "IN", rdtype, *values))
            messages.append(m)
        last = dns.message.make_response(query)
        last.answer.append(dns.rrset.from_text(zone, self.ttl, "IN", "SOA", *soa))
        messages.append(last)
        return messages

    @staticmethod
    def _read(conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def close(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(5)
        self.udp.close()
        self.tcp.close()
        self.spoofer.close()


# -- running fw code ---------------------------------------------------------------


def run(f: Any, timeout: float = 10) -> Any:
    """Run a new reactor until ``f(reactor)``'s Deferred fires; return or raise its result."""
    from fw.internet.selectreactor import SelectReactor

    reactor = SelectReactor()
    box: list[Any] = []

    def start() -> None:
        d = maybeDeferred(f, reactor)
        d.addBoth(lambda r: (box.append(r), reactor.stop()))

    reactor.callWhenRunning(start)
    guard = reactor.callLater(timeout, reactor.stop)
    reactor.run(installSignalHandlers=False)
    if guard.active():
        guard.cancel()
    leftover = [c for c in reactor.getDelayedCalls() if c.active()]
    for call in leftover:
        call.cancel()
    assert box, f"nothing happened in {timeout}s"
    assert not leftover, f"timers left behind: {[(c.func, c.args) for c in leftover]}"
    if isinstance(box[0], Failure):
        box[0].raiseException()
    return box[0]


ZONE = {
    ("example.test.", "SOA"): ["ns.example.test. admin.example.test. 7 3600 600 86400 60"],
    ("example.test.", "NS"): ["ns.example.test."],
    ("example.test.", "MX"): ["10 mail.example.test.", "20 backup.example.test."],
    ("example.test.", "TXT"): ['"v=spf1 -all"', '"hello" "world"'],
    ("www.example.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("www.example.test.", "AAAA"): ["2001:db8::10"],
    ("v6only.example.test.", "AAAA"): ["2001:db8::66"],
    ("alias.example.test.", "CNAME"): ["www.example.test."],
    ("10.2.0.192.in-addr.arpa.", "PTR"): ["www.example.test."],
    ("_sip._tcp.example.test.", "SRV"): ["10 60 5060 sip.example.test."],
    ("sub.example.test.", "DNAME"): ["other.example.test."],
    ("example.test.", "SPF"): ['"v=spf1 mx -all"'],
    ("example.test.", "NAPTR"): ['100 10 "S" "SIP+D2U" "" _sip._udp.example.test.'],
    ("host.example.test.", "HINFO"): ['"PDP-11" "UNIX"'],
    ("host.example.test.", "RP"): ["admin.example.test. info.example.test."],
    ("example.test.", "AFSDB"): ["1 afs.example.test."],
    ("host.example.test.", "SSHFP"): ["4 2 " + "AB" * 32],
    ("example.test.", "CAA"): ['0 issue "ca.example.net"'],
    ("_443._tcp.www.example.test.", "TLSA"): ["3 1 1 " + "CD" * 32],
    ("_dns.example.test.", "SVCB"): ['1 fwdns.example.test. alpn="dot" port=853'],
    ("www.example.test.", "HTTPS"): ['1 . alpn="h2,h3" ipv4hint=192.0.2.10'],
    ("example.test.", "DNSKEY"): ["257 3 13 " + "A" * 86 + "=="],
    ("example.test.", "DS"): ["12345 13 2 " + "EF" * 32],
    ("example.test.", "RRSIG"): [
        "SOA 13 2 3600 20300101000000 20200101000000 12345 example.test. c2ln"
    ],
    ("example.test.", "NSEC"): ["www.example.test. NS SOA MX TXT RRSIG NSEC DNSKEY"],
    ("example.test.", "NSEC3"): ["1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG"],
    ("example.test.", "NULL"): ["\\# 3 010203"],
    ("example.test.", "TYPE4321"): ["\\# 2 ABCD"],
}


@pytest.fixture
def server() -> Iterator[DnspythonServer]:
    s = DnspythonServer(ZONE)
    yield s
    s.close()


def resolver(server: DnspythonServer, reactor: Any, **kw: Any) -> client.Resolver:
    return client.Resolver(servers=[server.address()], reactor=reactor, **kw)


# -- every record type from a non-fw server ----------------------------------------------


@pytest.mark.parametrize(("name", "rdtype"), sorted(ZONE))
def test_everyRecordType(server: DnspythonServer, name: str, rdtype: str) -> None:
    """fw's client asks dnspython's server for each type and reads what it says."""
    type = fwdns.textToType(rdtype)
    answers, _authority, _additional = run(
        lambda r: resolver(server, r).query(fwdns.Query(name, type), timeout=(2,))
    )
    got = sorted(rr.payload.toWire() for rr in answers if rr.type == type)
    want = sorted(
        dprdata.from_text("IN", rdtype, text, origin=dpname.root, relativize=False).to_wire()
        for text in ZONE[(name, rdtype)]
    )
    assert got == want
    assert all(rr.ttl == 300 and rr.name == fwdns.Name(name) for rr in answers)


def test_lookupMethods(server: DnspythonServer) -> None:
    def go(reactor: Any) -> Any:
        r = resolver(server, reactor)
        return defer.gatherResults(
            [
                r.lookupAddress("www.example.test"),
                r.lookupIPV6Address("www.example.test"),
                r.lookupMailExchange("example.test"),
                r.lookupText("example.test"),
                r.lookupService("_sip._tcp.example.test"),
                r.lookupPointer("10.2.0.192.in-addr.arpa"),
                r.lookupNameservers("example.test"),
                r.lookupAuthority("example.test"),
                r.lookupCanonicalName("alias.example.test"),
                r.lookupHostInfo("host.example.test"),
                r.lookupNamingAuthorityPointer("example.test"),
                r.lookupSenderPolicy("example.test"),
                r.lookupResponsibility("host.example.test"),
                r.lookupAFSDatabase("example.test"),
            ]
        )

    results = run(go)
    a, _aaaa, mx, txt, srv, ptr, _ns, soa, _cname, hinfo, _naptr, _spf, _rp, _afsdb = results
    assert sorted(rr.payload.dottedQuad() for rr in a[0]) == ["192.0.2.10", "192.0.2.11"]
    assert [
        rr.payload.preference for rr in sorted(mx[0], key=lambda rr: rr.payload.preference)
    ] == [10, 20]
    assert srv[0][0].payload.port == 5060
    assert srv[0][0].payload.target == fwdns.Name("sip.example.test")
    assert ptr[0][0].payload.name == fwdns.Name("www.example.test")
    assert soa[0][0].payload.serial == 7
    assert sorted(rr.payload.data for rr in txt[0]) == [
        [b"hello", b"world"],
        [b"v=spf1 -all"],
    ]
    assert hinfo[0][0].payload.cpu == b"PDP-11"


def test_getHostByName(server: DnspythonServer) -> None:
    assert run(lambda r: resolver(server, r).getHostByName("www.example.test")) in (
        "192.0.2.10",
        "192.0.2.11",
    )
    assert run(lambda r: resolver(server, r).getHostByName("alias.example.test")) in (
        "192.0.2.10",
        "192.0.2.11",
    )
    assert (
        run(lambda r: resolver(server, r).getHostByName("v6only.example.test")) == "2001:db8::66"
    )
    with pytest.raises(DNSLookupError):
        run(lambda r: resolver(server, r).getHostByName("nowhere.example.test"))


def test_nxdomain(server: DnspythonServer) -> None:
    with pytest.raises(DNSNameError):
        run(lambda r: resolver(server, r).lookupAddress("missing.example.test"))


def test_retriesAfterLoss(server: DnspythonServer) -> None:
    """Two queries lost: the third try (same server, growing timeouts) is answered."""
    server.dropFirst = 2
    result = run(
        lambda r: resolver(server, r, timeout=(0.2, 0.2, 0.5)).lookupAddress("www.example.test")
    )
    assert len(result[0]) == 2
    assert len([q for q in server.queries if q[0] == "udp"]) == 3
    ids = {q[1].id for q in server.queries}
    ports = {q[2][1] for q in server.queries}
    assert len(ids) == 3, "each try has a fresh random ID"
    assert len(ports) == 3, "each try has a fresh random source port"


def test_timeout(server: DnspythonServer) -> None:
    server.dropFirst = 100
    with pytest.raises(DNSQueryTimeoutError):
        run(lambda r: resolver(server, r, timeout=(0.1, 0.2)).lookupAddress("www.example.test"))


def test_answerFromWrongPortIgnored(server: DnspythonServer) -> None:
    """RFC 5452: an answer from another port is not accepted; the retry's answer is."""
    server.spoofFirst = 1
    result = run(lambda r: resolver(server, r, timeout=(0.3, 1)).lookupAddress("www.example.test"))
    assert len(result[0]) == 2
    assert len(server.queries) == 2


def test_tcpFallbackOnTruncation(server: DnspythonServer) -> None:
    server.truncateUDP = True
    result = run(lambda r: resolver(server, r).lookupMailExchange("example.test"))
    assert len(result[0]) == 2
    assert [q[0] for q in server.queries] == ["udp", "tcp"]


def test_lookupZone(server: DnspythonServer) -> None:
    records, _, _ = run(lambda r: resolver(server, r).lookupZone("example.test"))
    assert records[0].type == fwdns.SOA
    assert records[-1].type == fwdns.SOA
    types = {rr.type for rr in records}
    assert {fwdns.MX, fwdns.A, fwdns.AAAA, fwdns.SRV, fwdns.TXT} <= types


def test_lookupZoneLimit(server: DnspythonServer) -> None:
    """A transfer longer than the limit fails cleanly instead of growing without bound."""

    def go(reactor: Any) -> Any:
        r = resolver(server, reactor)
        r.maxZoneRecords = 5
        return r.lookupZone("example.test")

    with pytest.raises(DNSFormatError):
        run(go)


def test_searchList(server: DnspythonServer, tmp_path: Any) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "nameserver 127.0.0.1\nsearch nothere.test example.test\n"
        "options ndots:2 timeout:1 attempts:2\n"
    )

    def go(reactor: Any) -> Any:
        r = client.Resolver(resolv=str(conf), reactor=reactor)
        r.dynServers = [server.address()]
        assert (r.ndots, r.timeout, r.search) == (
            2,
            (1.0, 1.0),
            [b"nothere.test", b"example.test"],
        )
        return r.lookupAddress("www")

    result = run(go)
    assert result[0][0].name == fwdns.Name("www.example.test")
    asked = [str(q[1].question[0].name) for q in server.queries]
    assert asked == ["www.nothere.test.", "www.example.test."]


def test_ipv6Server() -> None:
    """A name server on ::1: the query goes out from an IPv6 socket."""
    try:
        server = DnspythonServer(ZONE, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        result = run(lambda r: resolver(server, r).lookupAddress("www.example.test"))
    finally:
        server.close()
    assert len(result[0]) == 2
    assert server.queries[0][2][0] == "::1"
    assert [q[0] for q in server.queries] == ["udp"]


def test_rereadsChangedResolvConf(tmp_path: Any) -> None:
    from fw.internet.task import Clock

    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 192.0.2.1\n")
    clock = Clock()
    r = client.Resolver(resolv=str(conf), reactor=clock)
    assert r.dynServers == [("192.0.2.1", 53)]
    conf.write_text("nameserver 192.0.2.2\nnameserver 192.0.2.3\n")
    import os

    os.utime(conf, (1, 1))
    r.maybeParseConfig()
    assert r.dynServers == [("192.0.2.2", 53), ("192.0.2.3", 53)]
    conf.write_text("nameserver 192.0.2.4\n")
    os.utime(conf, (2, 2))
    r.maybeParseConfig()  # within a minute of the last check: not read again
    assert r.dynServers == [("192.0.2.2", 53), ("192.0.2.3", 53)]
    clock.advance(61)
    r.maybeParseConfig()
    assert r.dynServers == [("192.0.2.4", 53)]


def test_resolvConfParsing(tmp_path: Any) -> None:
    from fw.names._client_config import parseResolvConf

    conf = parseResolvConf(
        b"# comment\nnameserver 192.0.2.1\nnameserver fe80::1%eth0\ndomain a.test\n"
        b"search b.test c.test.\noptions ndots:3 timeout:2 attempts:3 rotate bogus:x\n"
    )
    assert conf.nameservers == [("192.0.2.1", 53), ("fe80::1", 53)]
    assert conf.search == [b"b.test", b"c.test"]
    assert (conf.ndots, conf.timeout, conf.attempts) == (3, 2, 3)
    missing = client.Resolver(resolv=str(tmp_path / "nope"), reactor=object())
    assert missing.dynServers == [("127.0.0.1", 53)]


def test_candidates() -> None:
    r = client.Resolver(servers=[("127.0.0.1", 53)], reactor=object())
    r.search, r.ndots = [b"s.test"], 1
    assert r._candidates(b"host") == [b"host.s.test", b"host"]
    assert r._candidates(b"a.host") == [b"a.host", b"a.host.s.test"]
    assert r._candidates(b"abs.") == [b"abs"]


def test_noServers() -> None:
    with pytest.raises(ValueError):
        client.Resolver(servers=[], resolv="", reactor=object())


def test_hostnameEndpointUsesIt(server: DnspythonServer) -> None:
    """Installed as the reactor's name resolver, it feeds HostnameEndpoint."""
    from fw.internet import protocol
    from fw.internet.endpoints import HostnameEndpoint

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    server.records[("loop.example.test.", "A")] = ["127.0.0.1"]

    def go(reactor: Any) -> Any:
        client.installResolver(resolver(server, reactor), reactor=reactor)
        endpoint = HostnameEndpoint(reactor, "loop.example.test", port, timeout=5)
        d = endpoint.connect(protocol.Factory.forProtocol(protocol.Protocol))

        def connected(p: Any) -> Any:
            peer = p.transport.getPeer()
            p.transport.loseConnection()
            return peer

        return d.addCallback(connected)

    try:
        peer = run(go)
    finally:
        listener.close()
    assert (peer.host, peer.port) == ("127.0.0.1", port)
    assert any(str(q[1].question[0].name) == "loop.example.test." for q in server.queries)


def test_hostnameResolverLiterals() -> None:
    from fw.internet.address import IPv4Address, IPv6Address

    class Receiver:
        def __init__(self) -> None:
            self.addresses: list[Any] = []
            self.done = False

        def resolutionBegan(self, resolution: Any) -> None:
            pass

        def addressResolved(self, address: Any) -> None:
            self.addresses.append(address)

        def resolutionComplete(self) -> None:
            self.done = True

    receiver = Receiver()
    client.HostnameResolver(object()).resolveHostName(receiver, "::1", 80)
    assert receiver.done
    assert receiver.addresses == [IPv6Address("TCP", "::1", 80)]
    receiver = Receiver()
    client.HostnameResolver(object()).resolveHostName(receiver, "10.0.0.1", 80, [IPv6Address])
    assert receiver.done
    assert receiver.addresses == []
    assert IPv4Address  # both families covered above


def test_createResolverChainsHostsFile(server: DnspythonServer, tmp_path: Any) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("10.9.8.7 fromhosts.test\n")

    def go(reactor: Any) -> Any:
        chain = client.createResolver(
            servers=[server.address()], hosts=str(hosts), reactor=reactor
        )
        return defer.gatherResults(
            [
                chain.getHostByName("fromhosts.test"),
                chain.lookupAddress("www.example.test"),
            ]
        )

    viaHosts, viaServer = run(go)
    assert viaHosts == "10.9.8.7"
    assert len(viaServer[0]) == 2


def test_dnsmasqPeer(requirePeer: Any, tmp_path: Any) -> None:
    """A second independent server: dnsmasq serving a hosts file and a few records."""
    dnsmasq = requirePeer("dnsmasq")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.77 peer.example.test\n2001:db8::77 peer.example.test\n")
    proc = subprocess.Popen(
        [
            dnsmasq,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            f"--addn-hosts={hosts}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            f"--port={port}",
            "--user=root",
            "--pid-file=",
            "--log-facility=-",
            "--mx-host=example.test,mail.example.test,10",
            "--txt-record=example.test,hello world",
            "--srv-host=_x._tcp.example.test,t.example.test,99,1,2",
            "--ptr-record=77.2.0.192.in-addr.arpa,peer.example.test",
            "--conf-file=/dev/null",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)

        def go(reactor: Any) -> Any:
            r = client.Resolver(servers=[("127.0.0.1", port)], reactor=reactor, timeout=(1, 2))
            return defer.gatherResults(
                [
                    r.lookupAddress("peer.example.test"),
                    r.lookupIPV6Address("peer.example.test"),
                    r.lookupMailExchange("example.test"),
                    r.lookupText("example.test"),
                    r.lookupService("_x._tcp.example.test"),
                    r.lookupPointer("77.2.0.192.in-addr.arpa"),
                ]
            )

        a, aaaa, mx, txt, srv, ptr = run(go)
    finally:
        proc.terminate()
        proc.wait(5)
    assert a[0][0].payload.dottedQuad() == "192.0.2.77"
    assert aaaa[0][0].payload.toText() == "2001:db8::77"
    assert mx[0][0].payload.name == fwdns.Name("mail.example.test")
    assert txt[0][0].payload.data == [b"hello world"]
    assert (srv[0][0].payload.port, srv[0][0].payload.priority) == (99, 1)
    assert ptr[0][0].payload.name == fwdns.Name("peer.example.test")
