"""
Giving up on a connection attempt, as Twisted's "Getting Connected with
Endpoints" howto shows: the Deferred from ``connect`` or ``connectProtocol``
can be cancelled, so a timeout is one ``callLater`` away.

The first attempt connects well within its 30 seconds, so its timer is
cancelled; the second is abandoned before it completes, and fails with
``ConnectingCancelledError``.
"""

from fw.internet import task
from fw.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from fw.internet.error import ConnectingCancelledError
from fw.internet.protocol import Factory, Protocol


async def main(reactor):
    server = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    port = await server.listen(Factory.forProtocol(Protocol))
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)

    # A 30-second timeout: cancel the attempt unless it is over by then.
    attempt = connectProtocol(endpoint, Protocol())
    timer = reactor.callLater(30, attempt.cancel)
    try:
        protocol = await attempt
    finally:
        if timer.active():
            timer.cancel()
    print("first attempt: connected in time")
    protocol.transport.loseConnection()

    # A user who has lost patience at once.
    attempt = connectProtocol(endpoint, Protocol())
    attempt.cancel()
    try:
        await attempt
    except ConnectingCancelledError as e:
        print(f"second attempt: cancelled; the connection to {e.address.host} was abandoned")

    await port.stopListening()


task.react(main)
