"""
Fixtures for fw-names' tests: a DNS server running on loopback in a reactor
thread (``serveDNS``), so that blocking clients (dig, dnspython) can query it
from the test.  Peer programs come from fw-trial's plugin (``requirePeer``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def newReactor() -> Any:
    """A new, not yet running reactor (the select backend: available everywhere)."""
    from fw.internet.selectreactor import SelectReactor

    return SelectReactor()


class ReactorThread:
    """A reactor running in a thread; stop() stops it and joins the thread."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.thread = threading.Thread(
            target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def call(self, f: Callable[..., Any], *args: Any, timeout: float = 10) -> Any:
        """Run ``f(*args)`` in the reactor thread; wait for its result (Deferreds too)."""
        from fw.internet.defer import maybeDeferred

        done = threading.Event()
        box: list[Any] = []

        def run() -> None:
            d = maybeDeferred(f, *args)

            def finish(result: Any) -> None:
                box.append(result)
                done.set()

            d.addBoth(finish)

        self.reactor.callFromThread(run)
        if not done.wait(timeout):
            raise AssertionError(f"{f} did not finish in {timeout}s")
        from fw.python.failure import Failure

        if isinstance(box[0], Failure):
            box[0].raiseException()
        return box[0]

    def stop(self) -> None:
        if self.thread.is_alive():
            self.reactor.callFromThread(self.reactor.stop)
            self.thread.join(10)


def listenDNS(reactor: Any, factory: Any, host: str = "127.0.0.1") -> tuple[int, list[Any]]:
    """Listen with ``factory`` on UDP and TCP on the same free port of ``host``."""
    from fw.internet.error import CannotListenError
    from fw.names import dns

    for _ in range(20):
        udp = reactor.listenUDP(0, dns.DNSDatagramProtocol(factory), interface=host)
        port = udp.getHost().port
        try:
            tcp = reactor.listenTCP(port, factory, interface=host)
        except CannotListenError:
            udp.stopListening()
            continue
        return port, [udp, tcp]
    raise AssertionError("no port free for both UDP and TCP")


@pytest.fixture
def serveDNS() -> Iterator[Callable[..., int]]:
    """
    ``port = serveDNS(factory)``: serve ``factory`` on 127.0.0.1 (UDP and TCP,
    same port) from a reactor thread until the test ends.  The factory may
    be a callable taking the reactor and returning the factory.
    """
    running: list[tuple[ReactorThread, list[Any]]] = []

    def serve(factory: Any, host: str = "127.0.0.1") -> int:
        reactor = newReactor()
        if callable(factory) and not hasattr(factory, "buildProtocol"):
            factory = factory(reactor)
        port, ports = listenDNS(reactor, factory, host)
        thread = ReactorThread(reactor)
        running.append((thread, ports))
        thread.start()
        return port

    yield serve
    for thread, ports in running:
        for p in ports:
            thread.call(p.stopListening)
        thread.stop()


@pytest.fixture
def reactorThread() -> Iterator[ReactorThread]:
    """A new reactor running in a thread for the test; ``.call(f, *args)`` runs code in it."""
    thread = ReactorThread(newReactor())
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(name="listenDNS")
def listenDNSFixture() -> Callable[..., tuple[int, list[Any]]]:
    """The :func:`listenDNS` function: ``port, ports = listenDNS(reactor, factory)``."""
    return listenDNS
