"""
A DNS server in a few lines of the wire-format API: a controller whose
``messageReceived`` answers each query from a table of records, on UDP
(``DNSDatagramProtocol``) and TCP (``DNSProtocol``), with zone transfers.

``startTestServer`` is used by the client examples beside this one; run
alone, the script starts it and asks it one question with the bare
``DNSDatagramProtocol.query``.
"""

from fw.internet import protocol
from fw.internet.error import CannotListenError
from fw.internet.task import react
from fw.names import dns

ZONE = "example.test"
RECORDS = {
    (ZONE, dns.SOA): [
        dns.Record_SOA(
            "ns1.example.test",
            "hostmaster.example.test",
            serial=2026120201,
            refresh=3600,
            retry=600,
            expire=86400,
            minimum=300,
        )
    ],
    (ZONE, dns.NS): [dns.Record_NS("ns1.example.test")],
    (ZONE, dns.MX): [
        dns.Record_MX(10, "mail.example.test"),
        dns.Record_MX(20, "backup.example.test"),
    ],
    (ZONE, dns.TXT): [dns.Record_TXT(b"v=spf1 mx -all")],
    ("www.example.test", dns.A): [dns.Record_A("192.0.2.80")],
    ("www.example.test", dns.AAAA): [dns.Record_AAAA("2001:db8::80")],
    ("ns1.example.test", dns.A): [dns.Record_A("192.0.2.53")],
    ("mail.example.test", dns.A): [dns.Record_A("192.0.2.25")],
    ("localhost.example.test", dns.A): [dns.Record_A("127.0.0.1")],
    ("_xmpp-client._tcp.example.test", dns.SRV): [
        dns.Record_SRV(10, 70, 5222, "chat1.example.test"),
        dns.Record_SRV(10, 30, 5222, "chat2.example.test"),
    ],
    ("80.2.0.192.in-addr.arpa", dns.PTR): [dns.Record_PTR("www.example.test")],
    ("25.2.0.192.in-addr.arpa", dns.PTR): [dns.Record_PTR("mail.example.test")],
}


class Controller:
    """Answers queries from ``records``; NXDOMAIN for names it has nothing for."""

    def __init__(self, records):
        self.records = records

    def answer(self, query):
        response = dns.Message(id=query.id, answer=1, auth=1, recDes=query.recDes)
        response.queries = query.queries
        q = query.queries[0]
        name = str(q.name).lower()
        found = self.records.get((name, q.type), [])
        for record in found:
            response.answers.append(dns.RRHeader(name, q.type, ttl=300, payload=record, auth=True))
        if not found and not any(n == name for n, _ in self.records):
            response.rCode = dns.ENAME
        return response

    def zoneTransfer(self, query):
        name = str(query.queries[0].name).lower()
        soa = dns.RRHeader(name, dns.SOA, ttl=300, payload=self.records[(name, dns.SOA)][0])
        middle = [
            dns.RRHeader(owner, type, ttl=300, payload=record)
            for (owner, type), records in sorted(self.records.items())
            if type != dns.SOA and (owner == name or owner.endswith("." + name))
            for record in records
        ]
        message = dns.Message(id=query.id, answer=1, auth=1, maxSize=0)
        message.queries = query.queries
        message.answers = [soa, *middle, soa]
        return message

    def messageReceived(self, message, protocol, address=None):
        if message.answer or not message.queries:
            return
        if message.queries[0].type == dns.AXFR and address is None:
            protocol.writeMessage(self.zoneTransfer(message))
        elif address is None:
            protocol.writeMessage(self.answer(message))
        else:
            protocol.writeMessage(self.answer(message), address)

    def connectionMade(self, protocol):
        pass

    def connectionLost(self, protocol):
        pass


class TCPFactory(protocol.ServerFactory):
    def __init__(self, controller):
        self.controller = controller

    def buildProtocol(self, addr):
        return dns.DNSProtocol(self.controller)


def startTestServer(reactor, records=RECORDS):
    """Serve ``records`` on 127.0.0.1, UDP and TCP on the same free port; return the port."""
    controller = Controller(records)
    while True:
        udp = reactor.listenUDP(0, dns.DNSDatagramProtocol(controller), interface="127.0.0.1")
        port = udp.getHost().port
        try:
            reactor.listenTCP(port, TCPFactory(controller), interface="127.0.0.1")
        except CannotListenError:  # that port is taken for TCP: try another
            udp.stopListening()
            continue
        return port


async def main(reactor):
    port = startTestServer(reactor)
    asker = dns.DNSDatagramProtocol(controller=None)
    message = await asker.query(("127.0.0.1", port), [dns.Query("www.example.test", dns.A)])
    print("answer:", bool(message.answer), "authoritative:", bool(message.auth))
    for rr in message.answers:
        print(rr.toText())
    asker.transport.stopListening()


if __name__ == "__main__":
    react(main)
