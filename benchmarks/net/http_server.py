"""An HTTP hello-world benchmark server, on one of the implementations.

Usage::

    python benchmarks/net/http_server.py --impl fw [--cpu 0]

Listens on 127.0.0.1, on a port the kernel picks, prints ``PORT <n>`` on
stdout once it accepts connections, and serves ``Hello, world!`` to every
``GET`` until it is killed (SIGTERM).

Implementations:

- ``fw``: a full ``fw.web.server.Site`` with a leaf ``Resource`` whose
  ``render_GET`` returns the body, on fw's epoll reactor, access log off;
- ``twisted``: the same code with the package renamed, on Twisted's epoll reactor;
- ``aiohttp``: an ``aiohttp.web`` application with one handler, on the
  stdlib asyncio loop.

With ``--static DIRECTORY`` each serves that directory's files instead:
``fw.web.static.File`` / ``twisted.web.static.File`` as the site's root, and
aiohttp's ``add_static`` route.

Exits with status 3 when the implementation is not installed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

IMPLS = ("fw", "twisted", "aiohttp")
UNAVAILABLE = 3
BODY = b"Hello, world!"


def announce(port: int) -> None:
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


def serveReactor(package: str, directory: str | None) -> None:
    """Serve with fw.web or twisted.web."""
    epoll: Any = importlib.import_module(f"{package}.internet.epollreactor")
    epoll.install()
    reactor: Any = importlib.import_module(f"{package}.internet.reactor")
    resource: Any = importlib.import_module(f"{package}.web.resource")
    server: Any = importlib.import_module(f"{package}.web.server")

    class Hello(resource.Resource):  # type: ignore[misc]
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return BODY

    if directory is None:
        root = Hello()
    else:
        static: Any = importlib.import_module(f"{package}.web.static")
        root = static.File(directory)
    port = reactor.listenTCP(0, server.Site(root), backlog=1024, interface="127.0.0.1")
    reactor.callWhenRunning(announce, port.getHost().port)
    reactor.run()


def serveAiohttp(directory: str | None) -> None:
    """Serve with aiohttp on the stdlib asyncio loop."""
    import asyncio

    from aiohttp import web

    async def hello(request: Any) -> Any:
        return web.Response(body=BODY, content_type="text/html")

    async def start() -> None:
        app = web.Application()
        if directory is None:
            app.router.add_get("/", hello)
        else:
            app.router.add_static("/", directory)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server: Any = site._server
        announce(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(start())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", required=True, choices=IMPLS)
    parser.add_argument("--cpu", type=int, help="pin this process to that CPU")
    parser.add_argument(
        "--static", metavar="DIRECTORY", help="serve this directory's files instead"
    )
    options = parser.parse_args(argv)
    if options.cpu is not None:
        os.sched_setaffinity(0, {options.cpu})
    try:
        if options.impl == "aiohttp":
            serveAiohttp(options.static)
        else:
            serveReactor(options.impl, options.static)
    except ImportError as e:
        print(f"{options.impl} is not installed: {e}", file=sys.stderr)
        sys.exit(UNAVAILABLE)


if __name__ == "__main__":
    main()
