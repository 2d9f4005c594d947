"""
Child processes as transports: the pipes to a child, and the child itself.

:class:`Process` connects a :class:`~fw.internet.protocol.ProcessProtocol`
to a child through one pipe per child descriptor (by default the child's
standard input, output and error); :class:`PTYProcess` through a
pseudo-terminal.  Both are made by ``reactor.spawnProcess``.

The protocol hears, in this order::

    makeConnection -> connectionMade
        -> (childDataReceived | childConnectionLost)*
        -> processExited -> processEnded

``processExited`` comes when the child has exited and been collected, even
if a pipe to it is still open (a grandchild may hold one); ``processEnded``
when, in addition, every pipe is closed: it is always the last call.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import stat
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from zope.interface import implementer

from fw.internet import error
from fw.internet._interfaces_core import IConsumer, IProducer, IPushProducer
from fw.internet._interfaces_transport import IProcessTransport
from fw.internet._process_reap import ExitWatch, reapProcessHandlers
from fw.internet._process_spawn import (
    SpawnRequest,
    normalizeArguments,
    normalizeEnvironment,
    resolveExecutable,
    spawn,
)
from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST, FileDescriptor
from fw.internet.address import _ProcessAddress
from fw.internet.fdesc import setNonBlocking
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = ["PTYProcess", "Process", "ProcessReader", "ProcessWriter"]

_log = Logger(namespace="fw.internet.process")

_StrOrBytes = str | bytes


def _restoreFlags(fd: int, flags: int | None) -> None:
    """Put back the status flags (blocking mode) a descriptor we borrowed had."""
    if flags is None:
        return
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)
    except OSError:
        pass


class _PipeEnd(FileDescriptor):
    """
    Our end of one pipe to a child (or of standard input or output, for
    ``StandardIO``), reporting to ``proc``.

    ``proc`` receives ``childDataReceived(name, data)`` and
    ``childConnectionLost(name, reason)``.  When ``closeOnLost`` is false
    the descriptor is borrowed: it is left open, its blocking mode restored.
    """

    connected = True

    def __init__(
        self, reactor: Any, proc: Any, name: Any, fileno: int, closeOnLost: bool = True
    ) -> None:
        super().__init__(reactor)
        self.proc = proc
        self.name = name
        self.fd = fileno
        self._closeOnLost = closeOnLost
        self._savedFlags: int | None = None
        if not closeOnLost:
            self._savedFlags = fcntl.fcntl(fileno, fcntl.F_GETFL)
        setNonBlocking(fileno)

    def fileno(self) -> int:
        """The descriptor (-1 once closed)."""
        return self.fd

    def logPrefix(self) -> str:
        """Name this pipe in log messages."""
        return f"{type(self).__name__}({self.name!r}, fd={self.fd})"

    def connectionLost(self, reason: Failure) -> None:
        """Stop watching the descriptor, close it (or give it back), tell ``proc``."""
        if self.disconnected:
            return
        super().connectionLost(reason)
        fd, self.fd = self.fd, -1
        if self._closeOnLost:
            os.close(fd)
        else:
            _restoreFlags(fd, self._savedFlags)
        self.proc.childConnectionLost(self.name, reason)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} fd={self.fd}>"


class ProcessWriter(_PipeEnd):
    """
    Our writing end of a pipe to a child (its standard input, usually).

    A pipe's writing end cannot be read, but a readiness API reports it
    readable (an error) once the reader closed it: when ``enableReadHack``
    is true the descriptor is watched for reading to notice that at once,
    even with nothing to write.
    """

    enableReadHack = False

    def __init__(
        self,
        reactor: Any,
        proc: Any,
        name: Any,
        fileno: int,
        forceReadHack: bool = False,
        closeOnLost: bool = True,
    ) -> None:
        super().__init__(reactor, proc, name, fileno, closeOnLost)
        if stat.S_ISFIFO(os.fstat(fileno).st_mode):
            if forceReadHack:
                self.enableReadHack = True
            else:
                try:
                    os.read(fileno, 0)
                except OSError:
                    # Not readable: a pipe's writing end.
                    self.enableReadHack = True
        if self.enableReadHack:
            self.startReading()

    def writeSomeData(self, data: bytes | bytearray) -> int | BaseException:
        """Write what the pipe takes of ``data`` now."""
        try:
            return os.write(self.fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            # EPIPE: the child closed its end.
            return CONNECTION_LOST

    def doRead(self) -> BaseException | None:
        """The reading end was closed (the only way this end becomes "readable")."""
        if self.enableReadHack:
            return CONNECTION_LOST
        self.stopReading()
        return None


class ProcessReader(_PipeEnd):
    """Our reading end of a pipe from a child (its standard output, say)."""

    def __init__(
        self, reactor: Any, proc: Any, name: Any, fileno: int, closeOnLost: bool = True
    ) -> None:
        super().__init__(reactor, proc, name, fileno, closeOnLost)
        self.startReading()

    def doRead(self) -> BaseException | None:
        """Read what the child wrote and hand it to ``proc``."""
        try:
            data = os.read(self.fd, self.bufferSize)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return CONNECTION_LOST
        if not data:
            return CONNECTION_DONE
        self.proc.childDataReceived(self.name, data)
        return None

    def writeSomeData(self, data: bytes | bytearray) -> int | BaseException:
        """A reading end takes no data."""
        return CONNECTION_LOST

    def write(self, data: bytes) -> None:
        """Refuse: this end of the pipe is read, not written."""
        raise ValueError(f"pipe {self.name!r} is read from the child, not written to it")

    def loseConnection(self, _connDone: Failure | None = None) -> None:
        """Stop reading and close the pipe, soon (never inside the caller's call)."""
        if self.connected and not self.disconnecting:
            self.disconnecting = True
            self.stopReading()
            self.reactor.callLater(0, self.connectionLost, _connDone or Failure(CONNECTION_DONE))


def _signalNumber(signalID: str | int) -> int:
    if isinstance(signalID, str):
        name = signalID.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        try:
            return int(signal.Signals[name])
        except KeyError:
            raise ValueError(f"unknown signal {signalID!r}") from None
    return int(signalID)


class _BaseProcess:
    """
    What both kinds of child process share: watching for the child's exit,
    collecting it, signalling it, and telling the protocol it exited.

    Attributes:
        pid: the child's process ID; ``None`` once it has been collected.
        status: ``-1`` while the child runs, then its raw wait status
            (``None`` when someone else collected it and it is unknown).
        proto: the protocol; ``None`` once ``processEnded`` was called.
    """

    pid: int | None = None
    status: int | None = -1
    lostProcess = 0
    proto: Any = None
    _exited = False
    _watch: ExitWatch | None = None

    def __init__(self, reactor: Any, proto: Any) -> None:
        self._reactor = reactor
        self.proto = proto

    def _watchForExit(self) -> None:
        assert self.pid is not None
        self._watch = ExitWatch(self._reactor, self.pid, self)

    def reapProcess(self) -> None:
        """Collect the child if it has exited (never blocks)."""
        pid = self.pid
        if pid is None:
            return
        if reapProcessHandlers.get(pid, self) is not self:
            # Our child was collected elsewhere and its ID given to a new
            # child: waiting for it would take the new one's status.
            self._collectedElsewhere(pid)
            return
        try:
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            # Someone else (a foreign SIGCHLD handler, SIG_IGN) collected it.
            self._collectedElsewhere(pid)
            return
        except OSError:
            _log.failure("could not collect process {pid}", pid=pid)
            return
        if reaped:
            self._collected(status)

    def _collectedElsewhere(self, pid: int) -> None:
        _log.warn("process {pid} was collected elsewhere: its exit status is unknown", pid=pid)
        self._collected(None)

    def _collected(self, status: int | None) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()
        if self.pid is not None and reapProcessHandlers.get(self.pid) is self:
            del reapProcessHandlers[self.pid]
        self.processEnded(status)

    def _getReason(self, status: int | None) -> BaseException:
        """Turn a wait status into ``ProcessDone`` or ``ProcessTerminated``."""
        if status is None:
            return error.ProcessTerminated(None, None, None)
        if os.WIFEXITED(status):
            code = os.WEXITSTATUS(status)
            if code == 0:
                return error.ProcessDone(status)
            return error.ProcessTerminated(code, None, status)
        if os.WIFSIGNALED(status):
            return error.ProcessTerminated(None, os.WTERMSIG(status), status)
        return error.ProcessTerminated(None, None, status)

    def processEnded(self, status: int | None) -> None:
        """The child exited with wait status ``status``: tell the protocol."""
        self.status = status
        self.lostProcess += 1
        self.pid = None
        self._exited = True
        proto = self.proto
        if proto is not None:
            try:
                proto.processExited(Failure(self._getReason(status)))
            except Exception:  # noqa: BLE001 - a protocol's error is logged; the process goes on
                _log.failure("{proto!r}.processExited raised", proto=proto)
        self.maybeCallProcessEnded()

    def maybeCallProcessEnded(self) -> None:
        """Call the protocol's ``processEnded`` if the child exited (subclasses add conditions)."""
        proto = self.proto
        if proto is None or not self._exited:
            return
        self.proto = None
        try:
            proto.processEnded(Failure(self._getReason(self.status)))
        except Exception:  # noqa: BLE001 - a protocol's error is logged; the process goes on
            _log.failure("{proto!r}.processEnded raised", proto=proto)

    def signalProcess(self, signalID: str | int) -> None:
        """
        Send a signal to the child.

        Args:
            signalID: a signal number or name (``"TERM"``, ``"KILL"``,
                ``"INT"``, ``"HUP"``...; a ``SIG`` prefix is allowed).

        Raises:
            ProcessExitedAlready: the child has exited.
            ValueError: the name is no signal's.
        """
        signum = _signalNumber(signalID)
        if self.pid is None:
            raise error.ProcessExitedAlready()
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            raise error.ProcessExitedAlready() from None

    def getHost(self) -> _ProcessAddress:
        """A process has no address: a placeholder."""
        return _ProcessAddress()

    def getPeer(self) -> _ProcessAddress:
        """A process has no address: a placeholder."""
        return _ProcessAddress()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} pid={self.pid} status={self.status}>"


def _prepare(
    executable: _StrOrBytes,
    args: Sequence[_StrOrBytes],
    environment: Mapping[Any, Any] | None,
    path: _StrOrBytes | None,
) -> tuple[bytes, list[bytes], dict[bytes, bytes], bytes | None]:
    exe, argv = normalizeArguments(executable, args)
    env = normalizeEnvironment(environment)
    cwd = None if path is None else os.fsencode(path)
    return resolveExecutable(exe), argv, env, cwd


def _checkChildFDs(childFDs: Mapping[int, int | str], hasProtocol: bool) -> None:
    for childFD, target in childFDs.items():
        key: object = childFD
        if not isinstance(key, int) or isinstance(key, bool) or key < 0:
            raise ValueError(f"child descriptor {childFD!r} is not a descriptor number")
        if target in ("r", "w"):
            if not hasProtocol:
                raise ValueError("pipes ('r' or 'w') need a process protocol")
        elif not isinstance(target, int) or isinstance(target, bool) or target < 0:
            raise ValueError(
                f"childFDs[{childFD}] is {target!r}: use 'r', 'w' or a descriptor number"
            )


@implementer(IProcessTransport, IConsumer, IPushProducer)
class Process(_BaseProcess):
    """
    A child process connected through pipes.

    Attributes:
        pipes: our end of each pipe, by child descriptor; a pipe is removed
            when it closes.
    """

    processWriterFactory: Any = ProcessWriter
    processReaderFactory: Any = ProcessReader

    def __init__(
        self,
        reactor: Any,
        executable: _StrOrBytes,
        args: Sequence[_StrOrBytes],
        environment: Mapping[Any, Any] | None,
        path: _StrOrBytes | None,
        proto: Any,
        uid: int | None = None,
        gid: int | None = None,
        childFDs: Mapping[int, int | str] | None = None,
    ) -> None:
        super().__init__(reactor, proto)
        if childFDs is None:
            childFDs = {0: "w", 1: "r", 2: "r"}
        _checkChildFDs(childFDs, proto is not None)
        exe, argv, env, cwd = _prepare(executable, args, environment, path)
        self.pipes: dict[int, Any] = {}
        fdmap: dict[int, int] = {}
        ours: dict[int, tuple[str, int]] = {}
        opened: list[int] = []
        try:
            for childFD, target in childFDs.items():
                if target == "r" or target == "w":
                    readFD, writeFD = os.pipe()
                    opened += (readFD, writeFD)
                    if target == "r":
                        fdmap[childFD], ours[childFD] = writeFD, ("r", readFD)
                    else:
                        fdmap[childFD], ours[childFD] = readFD, ("w", writeFD)
                else:
                    fdmap[childFD] = int(target)
            self.pid = spawn(
                SpawnRequest(exe, argv, env, cwd, uid, gid, fdmap),
                allowPosixSpawn=not getattr(reactor, "_neverUseSpawn", False),
            )
        except BaseException:
            for fd in opened:
                os.close(fd)
            raise
        self.status = -1
        for childFD, (kind, parentFD) in ours.items():
            os.close(fdmap[childFD])
            if kind == "r":
                self.pipes[childFD] = self.processReaderFactory(reactor, self, childFD, parentFD)
            else:
                self.pipes[childFD] = self.processWriterFactory(
                    reactor, self, childFD, parentFD, forceReadHack=True
                )
        if proto is not None:
            try:
                proto.makeConnection(self)
            except Exception:  # noqa: BLE001 - a protocol's error is logged; the process goes on
                _log.failure("{proto!r}.makeConnection raised", proto=proto)
        self._watchForExit()

    # -- from the pipes

    def childDataReceived(self, name: int, data: bytes) -> None:
        """A pipe delivered ``data`` from child descriptor ``name``."""
        self.proto.childDataReceived(name, data)

    def childConnectionLost(self, childFD: int, reason: Failure) -> None:
        """The pipe to child descriptor ``childFD`` closed."""
        self.pipes.pop(childFD, None)
        proto = self.proto
        if proto is not None:
            try:
                proto.childConnectionLost(childFD)
            except Exception:  # noqa: BLE001 - a protocol's error is logged; the process goes on
                _log.failure("{proto!r}.childConnectionLost raised", proto=proto)
        self.maybeCallProcessEnded()

    def maybeCallProcessEnded(self) -> None:
        """Call ``processEnded`` once the child is collected and every pipe is closed."""
        if self.pipes:
            return
        if not self._exited:
            # The pipes closing usually means the child is exiting: try now.
            self.reapProcess()
            return
        super().maybeCallProcessEnded()

    # -- IProcessTransport

    def writeToChild(self, childFD: int, data: bytes) -> None:
        """
        Write ``data`` to the pipe to child descriptor ``childFD``.

        Raises:
            KeyError: there is no (open) pipe to ``childFD``.
            ValueError: that pipe carries data from the child.
        """
        self.pipes[childFD].write(data)

    def closeChildFD(self, childFD: int) -> None:
        """Close the pipe to child descriptor ``childFD`` (a writer once drained)."""
        pipe = self.pipes.get(childFD)
        if pipe is not None:
            pipe.loseConnection()

    def closeStdin(self) -> None:
        """Close the child's standard input once what was written to it is sent."""
        self.closeChildFD(0)

    def closeStdout(self) -> None:
        """Close the pipe from the child's standard output."""
        self.closeChildFD(1)

    def closeStderr(self) -> None:
        """Close the pipe from the child's standard error."""
        self.closeChildFD(2)

    def loseConnection(self) -> None:
        """Close every pipe to the child (standard input once drained)."""
        for childFD in sorted(self.pipes):
            self.closeChildFD(childFD)

    def write(self, data: bytes) -> None:
        """Write ``data`` to the child's standard input (dropped when there is none)."""
        pipe = self.pipes.get(0)
        if pipe is not None:
            pipe.write(data)

    def writeSequence(self, seq: Iterable[bytes]) -> None:
        """Write each of ``seq`` to the child's standard input."""
        pipe = self.pipes.get(0)
        if pipe is not None:
            pipe.writeSequence(seq)

    # -- IConsumer: producing into the child's standard input

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Let ``producer`` write to standard input (it is stopped when there is none)."""
        pipe = self.pipes.get(0)
        if pipe is not None:
            pipe.registerProducer(producer, streaming)
        else:
            producer.stopProducing()

    def unregisterProducer(self) -> None:
        """Forget the producer writing to standard input."""
        pipe = self.pipes.get(0)
        if pipe is not None:
            pipe.unregisterProducer()

    # -- IPushProducer: the child's output

    def pauseProducing(self) -> None:
        """Stop reading the child's output until :meth:`resumeProducing`."""
        for pipe in self.pipes.values():
            if isinstance(pipe, ProcessReader):
                pipe.pauseProducing()

    def resumeProducing(self) -> None:
        """Read the child's output again."""
        for pipe in self.pipes.values():
            if isinstance(pipe, ProcessReader):
                pipe.resumeProducing()

    def stopProducing(self) -> None:
        """Close every pipe."""
        self.loseConnection()


@implementer(IProcessTransport)
class PTYProcess(FileDescriptor, _BaseProcess):
    """
    A child process whose standard input, output and error are one
    pseudo-terminal: it is the child's controlling terminal, in a session of
    its own, with a terminal's echo, line editing and signals (``^C``).

    Everything the child writes arrives as ``childDataReceived(1, data)``.
    Closing the terminal (:meth:`loseConnection`) hangs it up: the child
    gets ``SIGHUP``.
    """

    def __init__(
        self,
        reactor: Any,
        executable: _StrOrBytes,
        args: Sequence[_StrOrBytes],
        environment: Mapping[Any, Any] | None,
        path: _StrOrBytes | None,
        proto: Any,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: Any = True,
    ) -> None:
        FileDescriptor.__init__(self, reactor)
        _BaseProcess.__init__(self, reactor, proto)
        exe, argv, env, cwd = _prepare(executable, args, environment, path)
        if isinstance(usePTY, (tuple, list)):
            masterFD, slaveFD, ttyName = usePTY
            owned = False
        else:
            masterFD, slaveFD = os.openpty()
            ttyName = os.ttyname(slaveFD)
            owned = True
        try:
            self.pid = spawn(
                SpawnRequest(
                    exe,
                    argv,
                    env,
                    cwd,
                    uid,
                    gid,
                    {0: slaveFD, 1: slaveFD, 2: slaveFD},
                    (slaveFD, os.fsencode(ttyName)),
                ),
                allowPosixSpawn=not getattr(reactor, "_neverUseSpawn", False),
            )
        except BaseException:
            if owned:
                os.close(masterFD)
                os.close(slaveFD)
            raise
        # The child has its own; ours would keep the terminal from hanging up.
        os.close(slaveFD)
        setNonBlocking(masterFD)
        self.fd: int = int(masterFD)
        self.status = -1
        self.connected = True
        self.startReading()
        if proto is not None:
            try:
                proto.makeConnection(self)
            except Exception:  # noqa: BLE001 - a protocol's error is logged; the process goes on
                _log.failure("{proto!r}.makeConnection raised", proto=proto)
        self._watchForExit()

    def fileno(self) -> int:
        """The terminal's master descriptor (-1 once closed)."""
        return self.fd

    def logPrefix(self) -> str:
        """Name this process in log messages."""
        return f"PTYProcess({self.pid})"

    def doRead(self) -> BaseException | None:
        """Read what the child wrote to its terminal."""
        try:
            data = os.read(self.fd, self.bufferSize)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            # EIO: every descriptor of the terminal's slave side is closed.
            return CONNECTION_DONE if e.errno == errno.EIO else CONNECTION_LOST
        if not data:
            return CONNECTION_DONE
        proto = self.proto
        if proto is not None:
            proto.childDataReceived(1, data)
        return None

    def writeSomeData(self, data: bytes | bytearray) -> int | BaseException:
        """Write what the terminal takes of ``data`` now."""
        try:
            return os.write(self.fd, data)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            return CONNECTION_LOST

    def connectionLost(self, reason: Failure) -> None:
        """The terminal closed: release it; ``processEnded`` once the child is collected."""
        if self.disconnected:
            return
        FileDescriptor.connectionLost(self, reason)
        self.lostProcess += 1
        if self._exited or self.disconnecting or not reason.check(error.ConnectionDone):
            self._closeMaster()
        # Otherwise the child closed its side and is exiting: closing ours now
        # would hang the terminal up and kill it with SIGHUP before it is done.
        # The master is closed once the child is collected.
        self.maybeCallProcessEnded()

    def _closeMaster(self) -> None:
        fd, self.fd = self.fd, -1
        if fd != -1:
            os.close(fd)

    def processEnded(self, status: int | None) -> None:
        """The child exited: release the terminal if it was kept for it."""
        if self.disconnected:
            self._closeMaster()
        _BaseProcess.processEnded(self, status)

    def maybeCallProcessEnded(self) -> None:
        """Call ``processEnded`` once the child is collected and the terminal closed."""
        if not self.disconnected:
            return
        if not self._exited:
            self.reapProcess()
            return
        _BaseProcess.maybeCallProcessEnded(self)

    def closeStdin(self) -> None:
        """A terminal cannot be closed one way only: nothing happens (send ``^D``)."""

    def closeStdout(self) -> None:
        """A terminal cannot be closed one way only: nothing happens."""

    def closeStderr(self) -> None:
        """A terminal cannot be closed one way only: nothing happens."""

    def closeChildFD(self, descriptor: int) -> None:
        """A terminal cannot be closed one way only: nothing happens."""

    def writeToChild(self, childFD: int, data: bytes) -> None:
        """
        Write ``data`` to the terminal (the child's descriptor 0).

        Raises:
            KeyError: ``childFD`` is not 0.
        """
        if childFD != 0:
            raise KeyError(childFD)
        self.write(data)

    def getHost(self) -> _ProcessAddress:
        """A process has no address: a placeholder."""
        return _ProcessAddress()

    def getPeer(self) -> _ProcessAddress:
        """A process has no address: a placeholder."""
        return _ProcessAddress()

    def __repr__(self) -> str:
        return _BaseProcess.__repr__(self)
