"""fw and asyncio on one loop: the asyncio reactor inside asyncio.run, and Deferreds in tasks."""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

import pytest

from fw.internet.asyncioreactor import AsyncioSelectorReactor
from fw.internet.defer import Deferred, ensureDeferred, fail, succeed
from fw.internet.protocol import ClientFactory, Factory, Protocol

LOOPS = ["asyncio"] + (["uvloop"] if importlib.util.find_spec("uvloop") else [])


def runWith(loopName: str, main: Any) -> Any:
    if loopName == "uvloop":
        import uvloop

        return uvloop.run(main())
    return asyncio.run(main())


class Echo(Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class Greeter(Protocol):
    def connectionMade(self) -> None:
        self.received = b""
        self.transport.write(b"hello asyncio")

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self.received.endswith(b"!"):
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.factory.done.callback(self.received)


class GreeterFactory(ClientFactory):
    protocol = Greeter

    def __init__(self) -> None:
        self.done: Deferred[bytes] = Deferred()


@pytest.mark.parametrize("loopName", LOOPS)
def test_sharesARunningLoopWithAsyncio(loopName: str) -> None:
    """Inside asyncio.run: an fw server with an asyncio client, and the other way round."""

    async def main() -> tuple[bytes, bytes]:
        reactor = AsyncioSelectorReactor(asyncio.get_running_loop())
        reactor.startRunning(installSignalHandlers=False)
        port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
        reader, writer = await asyncio.open_connection("127.0.0.1", port.getHost().port)
        writer.write(b"ping from asyncio")
        echoed = await reader.readexactly(17)
        writer.close()
        await writer.wait_closed()

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            w.write(await r.read(100) + b"!")
            await w.drain()
            w.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        factory = GreeterFactory()
        reactor.connectTCP("127.0.0.1", server.sockets[0].getsockname()[1], factory)
        greeted = await factory.done  # a Deferred, awaited by an asyncio task
        server.close()
        await server.wait_closed()
        await port.stopListening()
        reactor.stop()
        # Stopping the reactor fires its shutdown but leaves the loop to its owner.
        await asyncio.sleep(0.01)
        assert not reactor.running
        return echoed, greeted

    assert runWith(loopName, main) == (b"ping from asyncio", b"hello asyncio!")


def test_awaitDeferredInAsyncioTask() -> None:
    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        later: Deferred[str] = Deferred()
        loop.call_later(0.01, later.callback, "later")
        results: list[Any] = [await succeed(1), await later]
        try:
            await fail(KeyError("k"))
        except KeyError as e:
            results.append(e.args)
        failing: Deferred[None] = Deferred()
        loop.call_soon(failing.errback, ValueError("v"))
        try:
            await failing
        except ValueError as e:
            results.append(e.args)
        return results

    assert asyncio.run(main()) == [1, "later", ("k",), ("v",)]


def test_cancellingTheTaskCancelsTheDeferred() -> None:
    cancelled: list[bool] = []

    async def main() -> None:
        d: Deferred[None] = Deferred(lambda _: cancelled.append(True))
        task = asyncio.ensure_future(_wait(d))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def _wait(d: Deferred[None]) -> None:
        await d

    asyncio.run(main())
    assert cancelled == [True]


def test_fwDriverStillDrivesAwaitInsideATask() -> None:
    """A coroutine run by ensureDeferred, stepped while an asyncio task is current."""

    async def fwCoroutine(d: Deferred[int]) -> int:
        return (await d) + 1

    async def main() -> int:
        inner: Deferred[int] = Deferred()
        outer = ensureDeferred(fwCoroutine(inner))
        asyncio.get_running_loop().call_soon(inner.callback, 41)
        return await outer

    assert asyncio.run(main()) == 42
