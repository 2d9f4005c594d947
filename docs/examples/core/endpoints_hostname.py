"""
``HostnameEndpoint``, from the TCP (Hostname) entry of Twisted's "Getting
Connected with Endpoints" howto: give it a host name; it resolves it and
connects to whichever of its addresses answers first, trying IPv6 and IPv4
side by side ("Happy Eyeballs", RFC 8305).

The howto connects to twistedmatrix.com; here the host is ``localhost``,
where a server of this program listens on IPv4 only: if ``localhost`` has an
IPv6 address too, that attempt is refused and the IPv4 one wins.
"""

from fw.internet import task
from fw.internet.endpoints import HostnameEndpoint, TCP4ServerEndpoint
from fw.internet.protocol import Factory, Protocol


async def main(reactor):
    server = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    port = await server.listen(Factory.forProtocol(Protocol))

    endpoint = HostnameEndpoint(reactor, "localhost", port.getHost().port)
    print("connecting to localhost")
    protocol = await endpoint.connect(Factory.forProtocol(Protocol))
    print("connected to", protocol.transport.getPeer().host)
    protocol.transport.loseConnection()
    await port.stopListening()


task.react(main)
