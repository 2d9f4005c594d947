"""
Twisted's TLS echo server and client (echoserv_ssl.py / echoclient_ssl.py),
in one script: a certificate authority and a server certificate are made at
start-up into a temporary directory, the server listens on a free port, and
the client checks the server's certificate and name before it talks.
"""

import sys
import tempfile
from pathlib import Path

from fw.internet import ssl, task
from fw.internet.defer import Deferred
from fw.internet.protocol import ClientFactory, Factory, Protocol


def makeCertificates(directory):
    """A CA, and a certificate for "localhost" signed by it, as PEM files."""
    caKey = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    ca = caKey.selfSignedCert(1, commonName="Example CA")
    serverKey = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    request = serverKey.requestObject(ssl.DN(commonName="localhost"))
    server = ca.signRequestObject(request, serialNumber=2)
    (directory / "ca.pem").write_bytes(ca.dump(ssl.FILETYPE_PEM))
    (directory / "server.pem").write_bytes(
        server.dump(ssl.FILETYPE_PEM) + serverKey.dump(ssl.FILETYPE_PEM)
    )


# -- echoserv_ssl.py


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def startServer(reactor, directory):
    certificate = ssl.PrivateCertificate.loadPEM((directory / "server.pem").read_bytes())
    factory = Factory.forProtocol(Echo)
    return reactor.listenSSL(0, factory, certificate.options(), interface="127.0.0.1")


# -- echoclient_ssl.py


class EchoClient(Protocol):
    end = b"Bye-bye!"

    def connectionMade(self):
        self.transport.write(b"hello, world!")
        self.transport.write(b"What a fine day it is.")
        self.transport.write(self.end)

    def dataReceived(self, data):
        self.factory.received += data
        if self.factory.received.endswith(self.end):
            self.transport.loseConnection()


class EchoClientFactory(ClientFactory):
    protocol = EchoClient

    def __init__(self):
        self.done = Deferred()
        self.received = b""

    def clientConnectionFailed(self, connector, reason):
        print("connection failed:", reason.getErrorMessage())
        self.done.callback(None)

    def clientConnectionLost(self, connector, reason):
        print("receive:", self.received.decode())
        print("connection lost:", reason.getErrorMessage())
        self.done.callback(None)


async def main(reactor):
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        makeCertificates(directory)
        port = startServer(reactor, directory)

        # The client trusts our CA only, and checks the name "localhost".
        authority = ssl.Certificate.loadPEM((directory / "ca.pem").read_bytes())
        options = ssl.optionsForClientTLS("localhost", trustRoot=authority)
        factory = EchoClientFactory()
        reactor.connectSSL("127.0.0.1", port.getHost().port, factory, options)
        await factory.done

        # A client expecting another name refuses the same server.
        options = ssl.optionsForClientTLS("www.example.com", trustRoot=authority)
        factory = EchoClientFactory()
        reactor.connectSSL("127.0.0.1", port.getHost().port, factory, options)
        await factory.done
        await port.stopListening()


task.react(main, sys.argv[1:])
