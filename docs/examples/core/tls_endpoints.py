"""
TLS from endpoint descriptions: ``ssl:`` for servers (a key and a
certificate file) and ``tls:`` for clients (the host name is checked
against the server's certificate; ``trustRoots`` names a directory of CA
certificates, the system's authorities being the default).  Code written
against endpoints gets TLS by changing a string.
"""

import sys
import tempfile
from pathlib import Path

from fw.internet import ssl, task
from fw.internet.defer import Deferred
from fw.internet.endpoints import clientFromString, connectProtocol, serverFromString
from fw.internet.protocol import Factory, Protocol


class Greeter(Protocol):
    def connectionMade(self):
        self.transport.write(b"hello from a TLS server\n")
        self.transport.loseConnection()


class Reader(Protocol):
    def __init__(self):
        self.finished = Deferred()

    def dataReceived(self, data):
        print("received:", data.decode().strip())

    def connectionLost(self, reason):
        print("closed:", reason.getErrorMessage())
        self.finished.callback(None)


def writeFiles(directory):
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="Example CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    (directory / "key.pem").write_bytes(key.dump(ssl.FILETYPE_PEM))
    (directory / "cert.pem").write_bytes(cert.dump(ssl.FILETYPE_PEM))
    (directory / "roots").mkdir()
    (directory / "roots" / "ca.pem").write_bytes(ca.dump(ssl.FILETYPE_PEM))


async def main(reactor):
    with tempfile.TemporaryDirectory() as name:
        d = Path(name)
        writeFiles(d)
        server = serverFromString(
            reactor,
            f"ssl:0:privateKey={d / 'key.pem'}:certKey={d / 'cert.pem'}:interface=127.0.0.1",
        )
        port = await server.listen(Factory.forProtocol(Greeter))
        number = port.getHost().port

        client = clientFromString(reactor, f"tls:localhost:{number}:trustRoots={d / 'roots'}")
        reader = await connectProtocol(client, Reader())
        await reader.finished
        await port.stopListening()


task.react(main, sys.argv[1:])
