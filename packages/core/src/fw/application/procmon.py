"""
:class:`ProcessMonitor`: a service that runs child processes and restarts
them when they exit, like Twisted's ``twisted.runner.procmon``.

::

    from fw.application.procmon import ProcessMonitor

    monitor = ProcessMonitor()
    monitor.addProcess("worker", ["/usr/bin/worker", "--queue", "jobs"])
    monitor.setServiceParent(application)

A child that exits is started again.  If it ran for less than
:attr:`~ProcessMonitor.threshold` seconds, it is probably failing at start,
so the delay before the next start doubles each time (from
:attr:`~ProcessMonitor.minRestartDelay` up to
:attr:`~ProcessMonitor.maxRestartDelay`); once a child has run longer, the
delay goes back to the minimum and a restart after a normal exit is
immediate.  Stopping a child sends it ``SIGTERM``, then ``SIGKILL`` after
:attr:`~ProcessMonitor.killTime` seconds.  The children's output is logged,
line by line, tagged with their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fw.application.service import Service
from fw.internet.defer import Deferred, DeferredList
from fw.internet.error import ProcessExitedAlready
from fw.internet.protocol import ProcessProtocol
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["LoggingProtocol", "ProcessMonitor"]

_log = Logger(namespace="fw.application.procmon")

#: The longest line of a child's output logged as one event; longer lines
#: are logged in pieces, so a child that never writes a newline cannot make
#: us buffer without bound.
MAX_LINE_LENGTH = 16 * 1024


@dataclass(frozen=True)
class _Process:
    """How to start one monitored process."""

    args: tuple[str, ...]
    uid: int | None = None
    gid: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None

    def toTuple(self) -> tuple[tuple[str, ...], int | None, int | None, Mapping[str, str]]:
        """``(args, uid, gid, env)``, Twisted's shape."""
        return self.args, self.uid, self.gid, self.env


class LoggingProtocol(ProcessProtocol):
    """
    Logs a monitored child's output, one event per line, and tells the
    monitor when the child has ended.

    Attributes:
        service: the :class:`ProcessMonitor`.
        name: the child's name.
    """

    service: ProcessMonitor
    name: str

    def __init__(self) -> None:
        self._partial: dict[int, bytes] = {}

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        """Log each complete line the child wrote."""
        buffered = self._partial.get(childFD, b"") + data
        *lines, rest = buffered.split(b"\n")
        while len(rest) > MAX_LINE_LENGTH:
            lines.append(rest[:MAX_LINE_LENGTH])
            rest = rest[MAX_LINE_LENGTH:]
        self._partial[childFD] = rest
        for line in lines:
            self._logLine(childFD, line)

    def _logLine(self, childFD: int, line: bytes) -> None:
        stream = {1: "stdout", 2: "stderr"}.get(childFD, f"fd {childFD}")
        _log.info(
            "[{name}] {line}",
            name=self.name,
            line=line.rstrip(b"\r").decode("utf-8", "replace"),
            stream=stream,
        )

    def processEnded(self, reason: Failure) -> None:
        """Log what is left of the output, and tell the monitor."""
        for childFD, rest in self._partial.items():
            if rest:
                self._logLine(childFD, rest)
        self._partial.clear()
        self.service.connectionLost(self.name)


class ProcessMonitor(Service):
    """
    Runs processes, restarting them when they exit.

    Args:
        reactor: the reactor (the global one by default); it spawns the
            children and times the restarts.

    Attributes:
        threshold: a child that ran less than this many seconds before
            exiting is restarted after a growing delay.
        killTime: seconds between ``SIGTERM`` and ``SIGKILL`` when stopping.
        minRestartDelay: the first delay, in seconds, after a quick exit.
        maxRestartDelay: the longest delay, in seconds.
        processes: name -> how to start it.
        protocols: name -> the :class:`LoggingProtocol` of the running child.
        delay: name -> the delay before its next restart after a quick exit.
        timeStarted: name -> when the child last started.
        murder: name -> the pending ``SIGKILL``.
        restart: name -> the pending restart.
    """

    threshold: float = 1
    killTime: float = 5
    minRestartDelay: float = 1
    maxRestartDelay: float = 3600

    def __init__(self, reactor: Any = None) -> None:
        self._reactor = reactor
        self.processes: dict[str, _Process] = {}
        self.protocols: dict[str, LoggingProtocol] = {}
        self.delay: dict[str, float] = {}
        self.timeStarted: dict[str, float] = {}
        self.murder: dict[str, Any] = {}
        self.restart: dict[str, Any] = {}
        self._ended: dict[str, list[Deferred[None]]] = {}

    @property
    def reactor(self) -> Any:
        """The reactor in use."""
        if self._reactor is None:
            from fw.internet import reactor

            self._reactor = reactor
        return self._reactor

    def __repr__(self) -> str:
        running = ", ".join(f"{n!r}: {self.processes[n].args!r}" for n in self.processes)
        return f"<ProcessMonitor processes={{{running}}}>"

    def addProcess(
        self,
        name: str,
        args: Sequence[str],
        uid: int | None = None,
        gid: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        """
        Add a process to monitor, and start it if the monitor runs.

        Args:
            name: a unique name for it.
            args: its argument vector; ``args[0]`` is the program.
            uid: the user to run it as.
            gid: the group to run it as.
            env: its environment (empty by default, as Twisted's).
            cwd: its working directory.

        Raises:
            KeyError: a process of that name exists.
        """
        if name in self.processes:
            raise KeyError(f"remove {name} first")
        if not args:
            raise ValueError("a process needs at least its program in args")
        self.processes[name] = _Process(tuple(args), uid, gid, dict(env or {}), cwd)
        self.delay[name] = self.minRestartDelay
        if self.running:
            self.startProcess(name)

    def removeProcess(self, name: str) -> None:
        """
        Stop the process called ``name`` and stop monitoring it.

        Raises:
            KeyError: there is no such process.
        """
        self.stopProcess(name)
        del self.processes[name]
        self.delay.pop(name, None)

    def startService(self) -> None:
        """Start every process."""
        super().startService()
        for name in list(self.processes):
            self.startProcess(name)

    def stopService(self) -> Deferred[Any]:
        """
        Stop every process (``SIGTERM``, then ``SIGKILL`` after
        :attr:`killTime`), and cancel pending restarts.

        Returns:
            A Deferred firing once every child has ended.
        """
        super().stopService()
        for call in self.restart.values():
            if call.active():
                call.cancel()
        self.restart.clear()
        waiting: list[Deferred[None]] = []
        for name in list(self.processes):
            if name in self.protocols:
                ended: Deferred[None] = Deferred()
                self._ended.setdefault(name, []).append(ended)
                waiting.append(ended)
            self.stopProcess(name)
        return DeferredList(waiting)

    def connectionLost(self, name: str) -> None:
        """The child called ``name`` ended: schedule its restart."""
        call = self.murder.pop(name, None)
        if call is not None and call.active():
            call.cancel()
        self.protocols.pop(name, None)
        for ended in self._ended.pop(name, []):
            ended.callback(None)
        if not self.running or name not in self.processes:
            return
        now = self.reactor.seconds()
        started = self.timeStarted.get(name)
        if started is not None and now - started < self.threshold:
            nextDelay = self.delay.get(name, self.minRestartDelay)
            self.delay[name] = min(nextDelay * 2, self.maxRestartDelay)
            _log.info(
                "{name} exited after {ran:.2f}s; restarting in {delay:g}s",
                name=name,
                ran=now - started,
                delay=nextDelay,
            )
        else:
            nextDelay = 0
            self.delay[name] = self.minRestartDelay
            _log.info("{name} exited; restarting", name=name)
        self.restart[name] = self.reactor.callLater(nextDelay, self._restartNow, name)

    def _restartNow(self, name: str) -> None:
        self.restart.pop(name, None)
        self.startProcess(name)

    def startProcess(self, name: str) -> None:
        """Start the process called ``name`` unless it runs already."""
        if name in self.protocols:
            return
        process = self.processes[name]
        protocol = LoggingProtocol()
        protocol.service = self
        protocol.name = name
        self.protocols[name] = protocol
        self.timeStarted[name] = self.reactor.seconds()
        try:
            self.reactor.spawnProcess(
                protocol,
                process.args[0],
                process.args,
                env=dict(process.env),
                path=process.cwd,
                uid=process.uid,
                gid=process.gid,
            )
        except Exception:  # noqa: BLE001 - a child that cannot start is retried, not fatal
            _log.failure("cannot start {name}", name=name)
            # Treated as an immediate exit: it is retried with back-off.
            self.connectionLost(name)

    def _signal(self, name: str, signal: str) -> None:
        protocol = self.protocols.get(name)
        if protocol is None or protocol.transport is None:
            return
        try:
            protocol.transport.signalProcess(signal)
        except ProcessExitedAlready:
            pass

    def stopProcess(self, name: str) -> None:
        """
        Stop the process called ``name``: ``SIGTERM`` now, ``SIGKILL`` after
        :attr:`killTime` seconds if it has not ended.  A monitor that runs
        restarts it.

        Raises:
            KeyError: there is no such process.
        """
        if name not in self.processes:
            raise KeyError(f"unrecognized process name: {name}")
        if name not in self.protocols:
            return
        self._signal(name, "TERM")
        if name not in self.murder:
            self.murder[name] = self.reactor.callLater(self.killTime, self._kill, name)

    def _kill(self, name: str) -> None:
        self.murder.pop(name, None)
        self._signal(name, "KILL")

    def restartAll(self) -> None:
        """Restart every process (each is stopped, then started again)."""
        for name in list(self.processes):
            self.stopProcess(name)
