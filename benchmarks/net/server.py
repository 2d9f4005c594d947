"""A TCP benchmark server: echo or sink, on one of the implementations.

Usage::

    python benchmarks/net/server.py --impl fw --mode echo [--cpu 0]

Listens on 127.0.0.1, on a port the kernel picks, prints ``PORT <n>`` on
stdout once it accepts connections, and serves until it is killed (SIGTERM).

Implementations:

- ``fw``: fw's default reactor on Linux (epoll), a ``Protocol`` whose
  ``dataReceived`` writes the data back (echo) or drops it (sink);
- ``fw-uvloop``: the same protocol on fw's asyncio reactor, on uvloop;
- ``twisted``: the same protocol on Twisted's epoll reactor;
- ``asyncio``: an ``asyncio.Protocol`` on the stdlib loop (epoll selector);
- ``uvloop``: the same ``asyncio.Protocol`` on uvloop.

The fw and Twisted servers are the same code with the package renamed.

Exits with status 3 when the implementation is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from typing import Any

IMPLS = ("fw", "fw-uvloop", "twisted", "asyncio", "uvloop")
UNAVAILABLE = 3


def announce(port: int) -> None:
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


def serveReactor(impl: str, mode: str) -> None:
    """Serve with fw's or Twisted's reactor."""
    if impl == "fw-uvloop":
        from fw.internet import asyncioreactor

        asyncioreactor.installUvloop()
        package = "fw"
    elif impl == "fw":
        from fw.internet import epollreactor

        epollreactor.install()
        package = "fw"
    else:
        from twisted.internet import epollreactor as tepoll

        tepoll.install()
        package = "twisted"
    protocol: Any = importlib.import_module(f"{package}.internet.protocol")
    reactor: Any = importlib.import_module(f"{package}.internet.reactor")

    class Echo(protocol.Protocol):  # type: ignore[misc]
        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data)

    class Sink(protocol.Protocol):  # type: ignore[misc]
        def dataReceived(self, data: bytes) -> None:
            pass

    factory = protocol.Factory.forProtocol(Echo if mode == "echo" else Sink)
    port = reactor.listenTCP(0, factory, backlog=1024, interface="127.0.0.1")
    reactor.callWhenRunning(announce, port.getHost().port)
    reactor.run()


class AsyncioEcho(asyncio.Protocol):
    transport: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses.
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


class AsyncioSink(asyncio.Protocol):
    def data_received(self, data: bytes) -> None:
        pass


def serveAsyncio(impl: str, mode: str) -> None:
    """Serve with a bare asyncio loop (``asyncio`` or ``uvloop``)."""
    if impl == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    factory = AsyncioEcho if mode == "echo" else AsyncioSink
    listening = loop.create_server(factory, "127.0.0.1", 0, backlog=1024)
    server: Any = loop.run_until_complete(listening)
    announce(server.sockets[0].getsockname()[1])
    loop.run_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True, choices=IMPLS)
    parser.add_argument("--mode", required=True, choices=["echo", "sink"])
    parser.add_argument("--cpu", type=int, help="pin this process to that CPU")
    options = parser.parse_args(argv)
    if options.cpu is not None:
        os.sched_setaffinity(0, {options.cpu})
    try:
        if options.impl in ("asyncio", "uvloop"):
            serveAsyncio(options.impl, options.mode)
        else:
            serveReactor(options.impl, options.mode)
    except ImportError as e:
        print(f"{options.impl} is not installed: {e}", file=sys.stderr)
        sys.exit(UNAVAILABLE)


if __name__ == "__main__":
    main()
