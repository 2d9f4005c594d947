"""
Fixtures for fw-core's tests: every reactor backend (fw-trial's plugin runs
them), a short directory for socket files (``sockDir``), the protocols and
factories of the stream connection tests (``streams``), and the Twisted peers
of the interoperability tests (``twistedPython``, ``twistedPeer``).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import select
import selectors
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from zope.interface import implementer

from fw.internet.defer import Deferred, gatherResults
from fw.internet.interfaces import IHalfCloseableProtocol
from fw.internet.protocol import ClientFactory, Factory, ProcessProtocol, Protocol
from fw.python.failure import Failure
from fw.trial.pytestplugin import missingPeer, peersRequired

# The conformance suite: each backend available here, by module and class.
_BACKENDS = {
    "select": ("fw.internet.selectreactor", "SelectReactor"),
    "poll": ("fw.internet.pollreactor", "PollReactor"),
    "epoll": ("fw.internet.epollreactor", "EPollReactor"),
    "asyncio": ("fw.internet.asyncioreactor", "AsyncioSelectorReactor"),
    "uvloop": ("fw.internet.asyncioreactor", "AsyncioSelectorReactor"),
    "glib": ("fw.internet.gireactor", "GIReactor"),
}


def _available(name: str) -> bool:
    if name in ("poll", "epoll"):
        return hasattr(select, name)
    if name == "uvloop":
        return importlib.util.find_spec("uvloop") is not None
    if name == "glib":
        # PyGObject: CI installs it, so there a missing one fails (in _build).
        return peersRequired() or importlib.util.find_spec("gi") is not None
    return True


_AVAILABLE = [name for name in _BACKENDS if _available(name)]


def _build(name: str) -> Any:
    module, cls = _BACKENDS[name]
    if name == "glib":
        try:
            importlib.import_module("gi.repository.GLib")
        except ImportError as e:
            missingPeer(f"the glib backend needs PyGObject: {e}")
    factory = getattr(importlib.import_module(module), cls)
    if name == "uvloop":
        import uvloop

        return factory(uvloop.new_event_loop())
    return factory()


# ``requirePeer`` and ``requireModule`` (skip a test whose peer is missing, or
# fail it under FW_REQUIRE_PEERS=1 as in CI) are fw-trial's pytest plugin's.


@pytest.fixture(params=_AVAILABLE)
def reactor(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new, not yet running reactor of each available backend."""
    instance = _build(request.param)
    yield instance
    # Release what the reactor itself holds (its waker, its poller).
    for reader in list(instance._internalReaders):
        instance.removeReader(reader)
        reader.connectionLost(None)
    poller = getattr(instance, "_poller", None)
    if poller is not None and hasattr(poller, "close"):
        poller.close()
    if instance.threadpool is not None:
        instance.threadpool.stop()
    loop = getattr(instance, "_asyncioEventloop", None)
    if loop is not None:
        loop.close()
    gc.collect()


# ``runReactor(reactor, f, timeout=10)``, which runs one of these reactors until
# ``f``'s Deferred fires and checks what the test left behind and logged, is
# fw-trial's pytest plugin's fixture: fw-core's tests need fw-trial installed
# (fw-core's ``test`` dependency group, PEP 735).


@pytest.fixture
def sockDir() -> Iterator[str]:
    """A short directory for socket files (their paths are limited to 108 bytes)."""
    path = tempfile.mkdtemp(prefix="fw-sock-", dir="/tmp")
    yield path
    shutil.rmtree(path)


# -- stream connections: the TCP, UNIX and endpoint tests' protocols and factories


class Echo(Protocol):
    """Echoes; ``made`` fires with the transport, ``done`` once the connection is lost."""

    def __init__(self) -> None:
        self.done: Deferred[None] = Deferred()
        self.made: Deferred[Any] = Deferred()

    def connectionMade(self) -> None:
        self.made.callback(self.transport)

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)

    def connectionLost(self, reason: Any) -> None:
        self.done.callback(None)


class RecordingFactory(Factory):
    """Builds ``protocol`` and keeps every instance, to wait for them to close."""

    def __init__(self, protocol: Any = Echo) -> None:
        self.protocol = protocol
        self.instances: list[Any] = []
        self.addresses: list[Any] = []
        #: Fires with the first connection's transport, once it is made.
        self.firstMade: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Any:
        p = self.protocol()
        p.factory = self
        if not self.instances and hasattr(p, "made"):
            p.made.chainDeferred(self.firstMade)
        self.instances.append(p)
        self.addresses.append(addr)
        return p

    def allClosed(self) -> Deferred[Any]:
        return gatherResults([p.done for p in self.instances])


class Collector(Protocol):
    """Sends ``payload`` on connect, closes after ``closeAfter`` bytes, fires ``done`` on close."""

    def __init__(self, payload: bytes = b"", closeAfter: int | None = None) -> None:
        self.payload = payload
        self.closeAfter = closeAfter
        self.received = bytearray()
        self.made: Deferred[Any] = Deferred()
        self.done: Deferred[bytes] = Deferred()
        self.reason: Any = None

    def connectionMade(self) -> None:
        self.made.callback(self.transport)
        if self.payload:
            self.transport.write(self.payload)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self.closeAfter is not None and len(self.received) >= self.closeAfter:
            self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.done.callback(bytes(self.received))


class OneShotClientFactory(ClientFactory):
    """Connects ``protocol``; ``failed`` and ``lost`` fire with the reason, in a one-tuple."""

    def __init__(self, protocol: Protocol) -> None:
        self.instance = protocol
        self.failed: Deferred[Any] = Deferred()
        self.lost: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Protocol:
        self.instance.factory = self
        return self.instance

    # Each fires with a one-tuple: a Failure given to callback() would errback.
    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed.callback((reason,))

    def clientConnectionLost(self, connector: Any, reason: Any) -> None:
        self.lost.callback((reason,))


@implementer(IHalfCloseableProtocol)
class HalfCloser(Echo):
    """Reads until the peer's write side closes, then answers and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.data = b""

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def readConnectionLost(self) -> None:
        self.transport.write(b"got " + self.data)
        self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        pass


@implementer(IHalfCloseableProtocol)
class Asker(Collector):
    """Sends ``question`` and closes its write side; ``writeClosed`` fires once that is done."""

    def __init__(self) -> None:
        super().__init__()
        self.writeClosed: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        super().connectionMade()
        self.transport.write(b"question")
        self.transport.loseWriteConnection()

    def readConnectionLost(self) -> None:
        self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        self.writeClosed.callback(None)


def finish(port: Any, factory: RecordingFactory, value: Any) -> Deferred[Any]:
    """Wait for the server side to close, stop listening, and give back ``value``."""
    d = factory.allClosed()
    d.addCallback(lambda _: port.stopListening())
    d.addCallback(lambda _: value)
    return d


class Streams:
    """What the ``streams`` fixture gives: ``streams.Echo``, ``streams.finish``..."""

    Echo = Echo
    RecordingFactory = RecordingFactory
    Collector = Collector
    OneShotClientFactory = OneShotClientFactory
    HalfCloser = HalfCloser
    Asker = Asker
    finish = staticmethod(finish)


@pytest.fixture
def streams() -> type[Streams]:
    """The stream connection tests' helpers: ``factory = streams.RecordingFactory()``."""
    return Streams


# -- Twisted peers: the interoperability tests' other side


INTEROP = Path(__file__).parent / "interop"


@pytest.fixture
def twistedPython() -> str:
    """The Python with Twisted in it, from ``FW_TWISTED_PYTHON``."""
    path = os.environ.get("FW_TWISTED_PYTHON")
    if not path:
        missingPeer("FW_TWISTED_PYTHON is not set: no Twisted to test against")
    probe = subprocess.run(
        [path, "-c", "import twisted; print(twisted.__version__)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, f"{path} cannot import twisted: {probe.stderr}"
    return path


def importInteropPeer(name: str) -> ModuleType:
    """
    ``interop/<name>.py``, imported here (once: it stays in ``sys.modules``
    as ``_fw_<name>``) for the definitions and checks it shares with fw.
    """
    moduleName = f"_fw_{name}"
    if moduleName in sys.modules:
        return sys.modules[moduleName]
    spec = importlib.util.spec_from_file_location(moduleName, INTEROP / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def readLines(process: subprocess.Popen[bytes], count: int, timeout: float) -> list[str]:
    """Read ``count`` lines from the process's stdout, failing after ``timeout``."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    received = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while received.count(b"\n") < count:
            if not selector.select(timeout):
                raise AssertionError(f"the Twisted peer said only {received!r}")
            data = os.read(fd, 4096)
            if not data:
                raise AssertionError(f"the Twisted peer ended after {received!r}")
            received += data
    return received.decode().splitlines()[:count]


class _Collect(ProcessProtocol):
    """Collects a child's output; ``ended`` fires with (output, errors, exit code)."""

    def __init__(self) -> None:
        self.output: list[bytes] = []
        self.errors: list[bytes] = []
        self.ended: Deferred[tuple[str, str, int | None]] = Deferred()

    def outReceived(self, data: bytes) -> None:
        self.output.append(data)

    def errReceived(self, data: bytes) -> None:
        self.errors.append(data)

    def processEnded(self, reason: Failure) -> None:
        code = getattr(reason.value, "exitCode", None)
        self.ended.callback(
            (
                b"".join(self.output).decode("utf-8", "replace"),
                b"".join(self.errors).decode("utf-8", "replace"),
                code,
            )
        )


class TwistedPeer:
    """
    One of ``interop/``'s peer scripts, run by the Python with Twisted;
    ``module`` is the same script imported here.
    """

    def __init__(self, python: str, name: str) -> None:
        self.python = python
        self.script = INTEROP / f"{name}.py"
        self.module = importInteropPeer(name)

    @contextmanager
    def serving(self, *args: str, lines: int) -> Iterator[list[str]]:
        """
        Run the peer with ``args`` and give the first ``lines`` lines it
        announces (within 20 seconds); at the end, close its standard input
        and wait for it to exit.
        """
        server = subprocess.Popen(
            [self.python, str(self.script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            yield readLines(server, lines, timeout=20)
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=20)
            assert server.stdout is not None
            server.stdout.close()

    def spawn(self, reactor: Any, *args: str) -> Deferred[tuple[str, str, int | None]]:
        """Run the peer with ``args`` from ``reactor``: fires with (output, errors, exit code)."""
        child = _Collect()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        reactor.spawnProcess(child, self.python, [self.python, str(self.script), *args], env=env)
        return child.ended

    def assertAllPassed(self, results: dict[str, str]) -> None:
        """Every one of the peer's ``CHECKS`` ran, and passed."""
        assert sorted(results) == sorted(self.module.CHECKS)
        failed = {name: outcome for name, outcome in results.items() if outcome != "ok"}
        assert not failed, failed


@pytest.fixture
def twistedPeer(twistedPython: str) -> Callable[[str], TwistedPeer]:
    """``peer = twistedPeer("amp_twisted_peer")``: that script of ``interop/``, run by Twisted."""
    return lambda name: TwistedPeer(twistedPython, name)
