"""What only the GLib reactor does: sharing GLib's loop, GApplications, signals, installing.

The conformance suite (test_reactor_core.py, test_tcp.py ...) runs on this
backend too, as "glib"; these tests cover the rest.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from fw.internet import error
from fw.internet.defer import Deferred, succeed
from fw.internet.interfaces import IReactorCore, IReactorFDSet, IReactorTCP, IReactorTime
from fw.internet.main import CONNECTION_DONE, CONNECTION_LOST
from fw.logger import capturedLogs
from fw.trial.pytestplugin import peersRequired

if TYPE_CHECKING:
    from fw.internet.gireactor import GIReactor

# Without PyGObject these tests skip, except where FW_REQUIRE_PEERS=1 (CI): there
# each fails, rather than the whole run stopping at this module's collection.
_MISSING: str | None = None
try:
    from gi.repository import Gio, GLib  # type: ignore[import-not-found, import-untyped, unused-ignore]
except ImportError as e:  # pragma: no cover - depends on the machine
    if not peersRequired():
        pytest.skip(f"PyGObject is not installed: {e}", allow_module_level=True)
    _MISSING = f"PyGObject is not installed: {e} (FW_REQUIRE_PEERS=1)"
    Gio = GLib = None


@pytest.fixture(autouse=True)
def _requirePyGObject() -> None:
    if _MISSING is not None:
        pytest.fail(_MISSING)


@pytest.fixture
def gireactor() -> Iterator[GIReactor]:
    """A new GLib reactor, released afterwards as conftest releases the others."""
    from fw.internet.gireactor import GIReactor

    reactor = GIReactor()
    yield reactor
    for reader in list(reactor._internalReaders):
        reactor.removeReader(reader)
        reader.connectionLost(None)
    if reactor.threadpool is not None:
        reactor.threadpool.stop()


class SocketReader:
    """A minimal selectable over one end of a socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.disconnected = False
        self.received = b""
        # Fires with a one-tuple: a Failure given to callback() would errback.
        self.lost: Deferred[tuple[Any]] = Deferred()

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "SocketReader"

    def doRead(self) -> BaseException | None:
        self.received += self.sock.recv(100)
        return None

    def doWrite(self) -> None:
        pass

    def connectionLost(self, reason: Any) -> None:
        self.disconnected = True
        self.lost.callback((reason,))


def test_interfaces(gireactor: GIReactor) -> None:
    from zope.interface.verify import verifyObject

    for interface in (IReactorCore, IReactorTime, IReactorFDSet, IReactorTCP):
        assert verifyObject(interface, gireactor)


def test_useGtkIsAccepted(gireactor: GIReactor) -> None:
    # Twisted's signature; GTK needs nothing but the default main context.
    other = type(gireactor)(useGtk=True)
    try:
        assert other._context == gireactor._context == GLib.MainContext.default()
    finally:
        for reader in list(other._internalReaders):
            other.removeReader(reader)
            reader.connectionLost(None)


def test_sharesTheLoopWithGLibCode(gireactor: GIReactor, runReactor: Any) -> None:
    """Plain GLib sources run inside reactor.run(), handing over to fw's timers and back."""
    order: list[str] = []

    def go() -> Deferred[None]:
        done: Deferred[None] = Deferred()

        def glibIdle() -> bool:
            order.append("glib idle")
            gireactor.callLater(0.01, fwTimer)
            return False

        def fwTimer() -> None:
            order.append("fw timer")
            GLib.timeout_add(10, glibTimeout)

        def glibTimeout() -> bool:
            order.append("glib timeout")
            gireactor.callLater(0, done.callback, None)
            return False

        GLib.idle_add(glibIdle)
        return done

    runReactor(gireactor, go)
    assert order == ["glib idle", "fw timer", "glib timeout"]


def test_noTimerSourceLeftAtRest(gireactor: GIReactor, runReactor: Any) -> None:
    """A stopped reactor leaves no GLib timeout in the shared default context."""
    later = gireactor.callLater(100, lambda: None)
    assert gireactor._timerSource is None  # not armed until the loop runs

    def go() -> Deferred[None]:
        checked: Deferred[None] = Deferred()

        def check() -> bool:
            # An idle callback: the loop is running, and has armed the timer.
            try:
                assert gireactor._timerSource is not None
                later.cancel()
            except BaseException as e:
                checked.errback(e)
            else:
                checked.callback(None)
            return False

        GLib.idle_add(check)
        return checked

    runReactor(gireactor, go)
    assert gireactor._timerSource is None


def test_registerGApplication(gireactor: GIReactor) -> None:
    """A registered GApplication runs as the main loop; reactor.stop() quits it."""
    app = Gio.Application(flags=Gio.ApplicationFlags.NON_UNIQUE)
    events: list[str] = []

    def activate(application: Any) -> None:
        events.append("activate")
        gireactor.callLater(0.01, gireactor.stop)

    app.connect("activate", activate)
    gireactor.registerGApplication(app)
    with pytest.raises(RuntimeError, match="more than one"):
        gireactor.registerGApplication(Gio.Application(flags=Gio.ApplicationFlags.NON_UNIQUE))
    gireactor.callWhenRunning(events.append, "running")
    gireactor.addSystemEventTrigger("after", "shutdown", events.append, "shutdown")
    gireactor.run(installSignalHandlers=False)
    assert events == ["running", "activate", "shutdown"]
    assert not gireactor.running


def test_registerGApplicationAfterStartRefused(gireactor: GIReactor, runReactor: Any) -> None:
    def go() -> Deferred[None]:
        app = Gio.Application(flags=Gio.ApplicationFlags.NON_UNIQUE)
        with pytest.raises(error.ReactorAlreadyRunning):
            gireactor.registerGApplication(app)
        return succeed(None)

    runReactor(gireactor, go)


def test_closedDescriptorIsDropped(gireactor: GIReactor, runReactor: Any) -> None:
    """A reader closed without being removed is disconnected, not polled forever."""
    a, b = socket.socketpair()
    reader = SocketReader(a)

    def addAndClose() -> None:
        gireactor.addReader(reader)
        a.close()

    def go() -> Deferred[tuple[Any]]:
        # Once the loop runs: starting it opens descriptors that could reuse the number.
        gireactor.callLater(0, addAndClose)
        return reader.lost

    try:
        (reason,) = runReactor(gireactor, go)
    finally:
        b.close()
    assert reason.check(type(CONNECTION_LOST))
    assert gireactor._reads.get(reader.fd) is None


def test_errorEscapingDispatchIsLogged(gireactor: GIReactor, runReactor: Any) -> None:
    """An error past the dispatch's own handling is logged; the loop and its waker go on."""
    a, b = socket.socketpair()

    class BrokenHalfClose(SocketReader):
        def doRead(self) -> BaseException | None:
            return CONNECTION_DONE

        def readConnectionLost(self, reason: Any) -> None:
            raise RuntimeError("broken readConnectionLost")

    reader = BrokenHalfClose(a)

    def go() -> Deferred[str]:
        gireactor.addReader(reader)
        b.send(b"x")
        d: Deferred[str] = Deferred()

        def later() -> None:
            # A thread call needs the waker's source, which must still be there.
            threading.Thread(target=gireactor.callFromThread, args=(d.callback, "alive")).start()

        gireactor.callLater(0.01, later)
        return d

    try:
        with capturedLogs() as events:
            assert runReactor(gireactor, go) == "alive"
    finally:
        a.close()
        b.close()
    failures = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert [f.type for f in failures] == [RuntimeError]
    assert len(runReactor.flushLoggedErrors(RuntimeError)) == 1
    assert gireactor.getReaders() == []


def test_readerAndWriterOnOneDescriptor(gireactor: GIReactor, runReactor: Any) -> None:
    """Reading and writing interest on one descriptor are separate GLib sources."""
    a, b = socket.socketpair()
    a.setblocking(False)
    writes: list[int] = []

    class Both(SocketReader):
        def doRead(self) -> BaseException | None:
            super().doRead()
            if self.received == b"ping":
                gireactor.removeReader(self)
                got.callback(self.received)
            return None

        def doWrite(self) -> None:
            writes.append(1)
            gireactor.removeWriter(self)
            b.send(b"ping")

    both = Both(a)
    got: Deferred[bytes] = Deferred()

    def go() -> Deferred[bytes]:
        gireactor.addReader(both)
        gireactor.addWriter(both)
        assert gireactor.getReaders() == [both]
        assert gireactor.getWriters() == [both]
        return got

    try:
        assert runReactor(gireactor, go) == b"ping"
    finally:
        a.close()
        b.close()
    assert writes == [1]
    assert gireactor.getWriters() == []


def test_iterateWaitsAtMostTheDelay(gireactor: GIReactor) -> None:
    """iterate(delay) returns with nothing to do, and dispatches a ready descriptor."""
    gireactor.iterate(0.01)
    a, b = socket.socketpair()
    reader = SocketReader(a)
    try:
        gireactor.addReader(reader)
        b.send(b"x")
        for _ in range(100):
            if reader.received:
                break
            gireactor.iterate(0.01)
        assert reader.received == b"x"
        gireactor.removeReader(reader)
    finally:
        a.close()
        b.close()
    assert gireactor._timerSource is None


def test_callFromManyThreads(gireactor: GIReactor, runReactor: Any) -> None:
    """Thread calls from many threads all run, in each thread's order."""
    threads, perThread = 8, 200
    seen: dict[int, list[int]] = {}

    def go() -> Deferred[None]:
        done: Deferred[None] = Deferred()
        remaining = [threads * perThread]

        def record(t: int, i: int) -> None:
            seen.setdefault(t, []).append(i)
            remaining[0] -= 1
            if not remaining[0]:
                done.callback(None)

        def work(t: int) -> None:
            for i in range(perThread):
                gireactor.callFromThread(record, t, i)

        for t in range(threads):
            threading.Thread(target=work, args=(t,)).start()
        return done

    runReactor(gireactor, go)
    assert seen == {t: list(range(perThread)) for t in range(threads)}


def test_signalWakesABlockedLoop(gireactor: GIReactor) -> None:
    """A signal arriving while GLib sleeps in poll(2) still runs the reactor's handler."""
    events: list[str] = []
    gireactor.addSystemEventTrigger("after", "shutdown", events.append, "stopped")

    def killSoon() -> None:
        # From another thread, so the main thread is (most likely) in poll(2).
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    gireactor.callWhenRunning(threading.Thread(target=killSoon).start)
    guard = gireactor.callLater(5, gireactor.stop)
    previousHandler = signal.getsignal(signal.SIGTERM)
    previousWakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(previousWakeup)
    gireactor.run(installSignalHandlers=True)
    assert events == ["stopped"]
    assert guard.active(), "stopped by the guard, not by the signal"
    guard.cancel()
    assert signal.getsignal(signal.SIGTERM) == previousHandler
    assert signal.set_wakeup_fd(previousWakeup) == previousWakeup


def test_installAsTheGlobalReactor(tmp_path: Any) -> None:
    """gireactor.install() in a fresh process: the global reactor, run and stopped."""
    script = tmp_path / "main.py"
    script.write_text(
        textwrap.dedent(
            """
            from fw.internet import error, gireactor
            installed = gireactor.install()
            from fw.internet import reactor
            assert reactor is installed, reactor
            try:
                gireactor.install()
            except error.ReactorAlreadyInstalledError:
                print("second install refused")
            reactor.callLater(0.01, print, "timer ran")
            reactor.callLater(0.02, reactor.stop)
            reactor.run()
            print("stopped", type(reactor).__name__)
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "second install refused",
        "timer ran",
        "stopped GIReactor",
    ]
