# An RFC 1413 ident server answering from a table, and fw's ident client
# asking it about three connections.

from fw.internet import endpoints, task
from fw.internet.protocol import Factory, connectProtocol
from fw.protocols import ident

# Which local port belongs to whom (a real server would ask the kernel:
# mix in ident.ProcServerMixin to read Linux's /proc/net/tcp).
OWNERS = {6193: "alice", 8080: "www-data"}


class TableIdent(ident.IdentServer):
    def lookup(self, serverAddress, clientAddress):
        port = serverAddress[1]
        if port == 8080:
            raise ident.HiddenUser()
        if port not in OWNERS:
            raise ident.NoUser()
        return ("UNIX", OWNERS[port])


async def main(reactor):
    port = reactor.listenTCP(0, Factory.forProtocol(TableIdent), interface="127.0.0.1")
    server = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    client = await connectProtocol(server, ident.IdentClient())
    for serverPort in (6193, 8080, 22):
        try:
            kind, info = await client.lookup(serverPort, 40000)
            print(f"{serverPort}: {kind} {info}")
        except ident.IdentError as e:
            print(f"{serverPort}: error {type(e).__name__}")
    client.transport.loseConnection()
    await port.stopListening()


if __name__ == "__main__":
    task.react(main)
