"""
STARTTLS, as SMTP, IMAP, POP3 and XMPP do it: the connection starts in the
clear; the client asks for TLS, the server agrees, and both call
``transport.startTLS`` on the transport they already have.  The protocols
stay connected: from then on what they write is encrypted.
"""

import sys

from fw.internet import ssl, task
from fw.internet.defer import Deferred
from fw.internet.interfaces import ISSLTransport
from fw.internet.protocol import ClientFactory, Factory, Protocol


class LineProtocol(Protocol):
    buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            self.lineReceived(line.decode())

    def sendLine(self, line):
        self.transport.write(line.encode() + b"\r\n")


class Server(LineProtocol):
    def connectionMade(self):
        self.sendLine("220 ready")

    def lineReceived(self, line):
        secure = ISSLTransport.providedBy(self.transport)
        print(f"server got {line!r} ({'encrypted' if secure else 'in the clear'})")
        if line == "STARTTLS":
            self.sendLine("220 go ahead")  # still in the clear
            self.transport.startTLS(self.factory.options)
        elif line == "QUIT":
            self.sendLine("221 bye")
            self.transport.loseConnection()
        else:
            self.sendLine("250 ok")


class Client(LineProtocol):
    def lineReceived(self, line):
        print("client got", repr(line))
        if line == "220 ready":
            self.sendLine("STARTTLS")
        elif line == "220 go ahead":
            self.transport.startTLS(self.factory.options)
            self.sendLine("MAIL FROM:<alice@example.com>")
        elif line == "250 ok":
            subject = ssl.Certificate.peerFromTransport(self.transport).getSubject()
            print("client: the server's certificate is for", subject.commonName)
            self.sendLine("QUIT")

    def connectionLost(self, reason):
        self.factory.done.callback(None)


async def main(reactor):
    caKey = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    ca = caKey.selfSignedCert(1, commonName="Example CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    certificate = ssl.PrivateCertificate.fromCertificateAndKeyPair(
        ca.signRequestObject(key.requestObject(ssl.DN(commonName="mail.example.com")), 2), key
    )

    serverFactory = Factory.forProtocol(Server)
    serverFactory.options = certificate.options()
    port = reactor.listenTCP(0, serverFactory, interface="127.0.0.1")

    clientFactory = ClientFactory.forProtocol(Client)
    clientFactory.options = ssl.optionsForClientTLS("mail.example.com", trustRoot=ca)
    clientFactory.done = Deferred()
    reactor.connectTCP("127.0.0.1", port.getHost().port, clientFactory)
    await clientFactory.done
    await port.stopListening()


task.react(main, sys.argv[1:])
