# The fw demo application: run it with
#
#     fwd -n -y demo/demo.tac
#
# It serves, on 127.0.0.1 only and unprivileged ports:
#
# - a finger server (RFC 1288) answering about the users below
#   (try: python -c "import socket; s=socket.create_connection(('127.0.0.1', 8079));
#    s.sendall(b'alice\r\n'); print(s.recv(1000).decode())"  or  finger alice@127.0.0.1 -p 8079
#   where your finger client takes a port);
#
# - when fw-names is installed, a DNS server for the zone in example.com.zone
#   (try: dig @127.0.0.1 -p 10053 www.example.com);
# - when fw-web is installed, a web server for the files in demo/www
#   (try: curl http://127.0.0.1:8080/);
#
# and says on standard output what it serves where.  Later issues add their
# subprojects' servers here (web, names, mail, words, conch).
#
# FW_DEMO_FINGER, FW_DEMO_DNS and FW_DEMO_WEB override the servers'
# endpoints (the tests use tcp:0:interface=127.0.0.1 to get free ports).

import os

from fw.application import service, strports
from fw.internet import protocol
from fw.protocols import finger

USERS = {
    b"alice": b"Happy and well; writing the reactor.",
    b"bob": b"Out to lunch.",
    b"moshez": b"Happy and well",
}


class DemoFinger(finger.Finger):
    def getUser(self, slash_w, user):
        info = self.factory.users.get(user)
        if info is None:
            self.transport.write(b"Login: " + user + b"\r\nNo such user\r\n")
        else:
            self.transport.write(b"Login: " + user + b"\r\n" + info + b"\r\n")
        self.transport.loseConnection()

    def getDomain(self, slash_w):
        self.transport.write(b"\r\n".join(sorted(self.factory.users)) + b"\r\n")
        self.transport.loseConnection()


class Announce(service.Service):
    """Says what the demo serves where, once its ports are bound."""

    def __init__(self, servers):
        self.servers = servers

    def startService(self):
        super().startService()
        for what, server in self.servers:
            port = getattr(server, "listeningPort", None) or server._port
            address = port.getHost()
            print(f"fw demo: {what} on {address.host}:{address.port}", flush=True)
        print("fw demo: running; stop it with Ctrl-C (or SIGTERM)", flush=True)


fingerFactory = protocol.ServerFactory.forProtocol(DemoFinger)
fingerFactory.users = USERS

application = service.Application("fw-demo")
fingerServer = strports.service(
    os.environ.get("FW_DEMO_FINGER", "tcp:8079:interface=127.0.0.1"), fingerFactory
)
fingerServer.setServiceParent(application)
served = [("finger server (users: alice, bob, moshez)", fingerServer)]

# DNS, when fw-names is installed: the demo zone, over UDP and TCP.
try:
    from fw.names import authority, dns, server
except ImportError:
    pass
else:
    zone = authority.BindAuthority(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "example.com.zone"),
        origin="example.com",
    )
    dnsFactory = server.DNSServerFactory(authorities=[zone])
    dnsTCP = strports.service(
        os.environ.get("FW_DEMO_DNS", "tcp:10053:interface=127.0.0.1"), dnsFactory
    )
    dnsTCP.setServiceParent(application)
    class DNSOverUDP(service.Service):
        """DNS over UDP, on the port number DNS over TCP got."""

        udpPort = None

        def privilegedStartService(self):
            from fw.internet import reactor

            number = dnsTCP.listeningPort.getHost().port
            self.udpPort = reactor.listenUDP(
                number, dns.DNSDatagramProtocol(dnsFactory), interface="127.0.0.1"
            )

        def stopService(self):
            super().stopService()
            if self.udpPort is not None:
                return self.udpPort.stopListening()

    DNSOverUDP().setServiceParent(application)
    served.append(("DNS server for example.com (UDP and TCP)", dnsTCP))

# The web, when fw-web is installed: static files from demo/www.
try:
    from fw.web import server as webserver
    from fw.web import static
except ImportError:
    pass
else:
    root = static.File(os.path.join(os.path.dirname(os.path.abspath(__file__)), "www"))
    webServer = strports.service(
        os.environ.get("FW_DEMO_WEB", "tcp:8080:interface=127.0.0.1"), webserver.Site(root)
    )
    webServer.setServiceParent(application)
    served.append(("web server (static files from demo/www)", webServer))

Announce(served).setServiceParent(application)
