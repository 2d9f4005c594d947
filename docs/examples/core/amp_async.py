"""
AMP with coroutines: a responder may be an ``async def`` that awaits other
calls -- here the server, asked to greet, first asks the client what time
it is there.  ``Greet`` declares the type of its answer, so a type checker
knows that ``greeting["text"]`` is a ``str``.
"""

import datetime
from typing import TypedDict

from fw.internet import defer, task
from fw.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from fw.internet.protocol import Factory
from fw.protocols import amp


class Greeting(TypedDict):
    text: str


class Greet(amp.Command[Greeting]):
    arguments = [(b"name", amp.Unicode())]
    response = [(b"text", amp.Unicode())]


class WhatTime(amp.Command):
    response = [(b"now", amp.DateTime())]


class Stats(amp.Command):
    arguments = [(b"values", amp.ListOf(amp.Float()))]
    response = [(b"count", amp.Integer()), (b"largest", amp.Float())]
    errors = {ValueError: b"NO_VALUES"}


class Server(amp.AMP):
    @Greet.responder
    async def greet(self, name):
        answer = await self.callRemote(WhatTime)
        return {"text": f"Hello {name}, it is {answer['now']:%H:%M} where you are"}

    @Stats.responder
    def stats(self, values):
        if not values:
            raise ValueError("no values to look at")
        return {"count": len(values), "largest": max(values)}


class Client(amp.AMP):
    @WhatTime.responder
    def whatTime(self):
        paris = datetime.timezone(datetime.timedelta(hours=1))
        return {"now": datetime.datetime(2026, 1, 2, 9, 30, tzinfo=paris)}


async def main(reactor):
    server = TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    port = await server.listen(Factory.forProtocol(Server))
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    client = await connectProtocol(endpoint, Client())

    greeting = await client.callRemote(Greet, name="Ada")
    print(greeting["text"])
    print(await client.callRemote(Stats, values=[1.5, 2.5, float("inf")]))
    try:
        await client.callRemote(Stats, values=[])
    except ValueError as e:
        print("the server said:", e)

    client.transport.loseConnection()
    await port.stopListening()


task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
