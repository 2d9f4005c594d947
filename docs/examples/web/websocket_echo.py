"""A WebSocket echo server on the resource tree, and fw's client talking to it."""

from fw.internet import defer, task
from fw.web.resource import Resource
from fw.web.server import Site
from fw.web.websocket import WebSocketProtocol, WebSocketResource, connectWebSocket


class Echo(WebSocketProtocol):
    """Server side: send every message straight back."""

    def messageReceived(self, data, isBinary):
        self.sendMessage(data)


class Client(WebSocketProtocol):
    """Client side: hand each message to whoever waits for it."""

    def connectionMade(self):
        self.replies = defer.DeferredQueue()
        self.done = defer.Deferred()

    def messageReceived(self, data, isBinary):
        self.replies.put(data)

    def connectionLost(self, reason):
        self.done.callback(self.closeCode)


async def main(reactor):
    root = Resource()
    root.putChild(b"echo", WebSocketResource(Echo, subprotocols=["echo.v1"]))
    port = reactor.listenTCP(0, Site(root), interface="127.0.0.1")
    url = f"ws://127.0.0.1:{port.getHost().port}/echo"

    client = await connectWebSocket(reactor, url, Client, subprotocols=["echo.v1"])
    print("subprotocol:", client.subprotocol)
    client.sendMessage("hello, websocket")
    print("text:", await client.replies.get())
    client.sendMessage(b"\x00\x01\x02")
    print("bytes:", await client.replies.get())
    client.close(1000, "done")
    print("closed with", await client.done)
    await port.stopListening()


task.react(main)
