# Twisted's docs/core/howto/listings/udp/basic_example.py, ported: "twisted"
# became "fw" in the imports.  Two changes keep the output the same from run to
# run: Echo prints the sender's host but not its port (which the system picks),
# and instead of listening on port 9999 forever, main() listens on a free port
# of 127.0.0.1, sends the server one datagram from a client, and ends once the
# echo is back.

from fw.internet.defer import Deferred
from fw.internet.protocol import DatagramProtocol
from fw.internet.task import react


class Echo(DatagramProtocol):
    def datagramReceived(self, data, addr):
        print(f"received {data!r} from {addr[0]}")
        self.transport.write(data, addr)


class Client(DatagramProtocol):
    def __init__(self, server):
        self.server = server
        self.echoed = Deferred()

    def startProtocol(self):
        self.transport.write(b"hello, UDP", self.server)

    def datagramReceived(self, data, addr):
        print(f"echoed back: {data!r}")
        self.echoed.callback(data)


async def main(reactor):
    server = reactor.listenUDP(0, Echo(), interface="127.0.0.1")
    client = Client(("127.0.0.1", server.getHost().port))
    port = reactor.listenUDP(0, client, interface="127.0.0.1")
    await client.echoed
    await port.stopListening()
    await server.stopListening()


if __name__ == "__main__":
    react(main)
