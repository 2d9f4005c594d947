"""
A server behind a load balancer: proxyEndpoint wraps the server's endpoint
(as the "haproxy:" prefix does: "haproxy:tcp:8080") so that each connection
starts with a PROXY protocol header, and transport.getPeer() is the client
the load balancer saw.  Here a client
plays the load balancer and sends the headers itself: a version 1 one, a
version 2 one, and garbage, which is refused without troubling the server.
"""

import struct

from fw.internet import reactor
from fw.internet.endpoints import serverFromString
from fw.internet.protocol import ClientFactory, Factory, Protocol
from fw.protocols.haproxy import proxyEndpoint

V1 = b"PROXY TCP4 203.0.113.7 198.51.100.1 51000 443\r\n"
# Version 2: signature, "PROXY" over TCP/IPv4, 12 bytes of addresses and ports.
V2 = (
    b"\r\n\r\n\x00\r\nQUIT\n\x21\x11"
    + struct.pack("!H", 12)
    + bytes([192, 0, 2, 33, 198, 51, 100, 1])
    + struct.pack("!HH", 40000, 443)
)


class Greeter(Protocol):
    def connectionMade(self):
        peer = self.transport.getPeer()
        print(f"server: a client from {peer.host} port {peer.port}")
        self.transport.write(f"hello, {peer.host}".encode())
        self.transport.loseConnection()


class LoadBalancer(Protocol):
    answered = False

    def connectionMade(self):
        self.transport.write(self.factory.header + b"GET / HTTP/1.0\r\n\r\n")

    def dataReceived(self, data):
        self.answered = True
        print("load balancer: got", data)

    def connectionLost(self, reason):
        if not self.answered:
            print("load balancer: closed without an answer")
        self.factory.next()


def main(port):
    headers = [V1, V2, b"garbage\r\n"]

    def next():
        if not headers:
            reactor.stop()
            return
        factory = ClientFactory.forProtocol(LoadBalancer)
        factory.header = headers.pop(0)
        factory.next = next
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)

    next()


endpoint = proxyEndpoint(serverFromString(reactor, "tcp:0:interface=127.0.0.1"))
endpoint.listen(Factory.forProtocol(Greeter)).addCallback(main)
reactor.run()
