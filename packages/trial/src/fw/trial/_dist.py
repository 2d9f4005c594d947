"""
``trial -j N``: tests run in N worker processes, each speaking AMP with
this (the manager) process over a pair of pipes.

The manager loads the suite as a serial run would, hands each worker test
ids (:class:`Run`; two ahead, so a worker never waits for the manager), and
the worker runs them in order, reporting each test's outcomes
(:class:`AddOutcome`, one-way) before answering.  The manager
replays each test's outcomes to its reporter when the answer arrives, so a
test's report is never interleaved with another's.  Workers run in
``_trial_temp/N``, with their own ``test.log``, ``out.log`` (standard
output) and ``err.log`` (standard error).
"""

from __future__ import annotations

import collections
import os
import selectors
import subprocess
import sys
import unittest as pyunit
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from fw.protocols.amp import AMP, Boolean, Command, Unicode
from fw.trial._synctest import Todo
from fw.trial.reporter import (
    ERROR,
    EXPECTED_FAILURE,
    FAILURE,
    SKIP,
    SUCCESS,
    UNEXPECTED_SUCCESS,
    RemoteFailure,
    TestResult,
    _formatFailure,
    _typeName,
)
from fw.trial.runner import TrialRunner, _RunEnvironment, iterateTests

__all__ = ["AddOutcome", "DistTrialRunner", "Run"]

#: The longest text an AMP value may carry is 65,535 bytes; tracebacks are
#: cut to this many bytes of UTF-8 so a huge one cannot break the connection.
_MAX_TEXT = 60_000

#: How long the manager waits for a worker to exit after its pipe closes.
_EXIT_TIMEOUT = 10.0

#: Tests handed to a worker ahead of its answers, so that it starts the next
#: one while the manager reports the last (one under ``-x``, which must not
#: run a test past the first failure).
_PIPELINE = 2


class Run(Command[dict[str, Any]]):
    """Manager to worker: run the test with this id."""

    arguments: ClassVar[Sequence[tuple[bytes, Any]]] = [(b"testCase", Unicode())]
    response: ClassVar[Sequence[tuple[bytes, Any]]] = [(b"success", Boolean())]


class AddOutcome(Command[None]):
    """Worker to manager: one outcome of the test being run."""

    arguments: ClassVar[Sequence[tuple[bytes, Any]]] = [
        (b"testName", Unicode()),
        (b"kind", Unicode()),
        (b"failureType", Unicode()),
        (b"message", Unicode()),
        (b"traceback", Unicode()),
        (b"reason", Unicode()),
    ]
    requiresAnswer = False


def _cut(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= _MAX_TEXT:
        return text
    return data[:_MAX_TEXT].decode("utf-8", "ignore") + "\n[... cut: too long for AMP]"


class _PipeTransport:
    """A write-only transport over a pipe, written synchronously."""

    disconnected = False

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def writeSequence(self, data: Sequence[bytes]) -> None:
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        if not self.disconnected:
            self.disconnected = True
            os.close(self.fd)

    def getPeer(self) -> Any:
        return None

    def getHost(self) -> Any:
        return None


# -- the worker side


class _WorkerResult(TestResult):
    """Sends every outcome of the test it runs to the manager."""

    def __init__(self, protocol: AMP, tbformat: str) -> None:
        super().__init__()
        self._protocol = protocol
        self._tbformat = tbformat

    def _record(
        self, test: Any, kind: str, failure: Any = None, reason: str | None = None
    ) -> None:
        super()._record(test, kind, failure, reason)
        self._protocol.callRemote(
            AddOutcome,
            testName=test.id(),
            kind=kind,
            failureType=_typeName(failure) if failure is not None else "",
            message=_cut(str(failure.getErrorMessage())) if failure is not None else "",
            traceback=_cut(_formatFailure(failure, self._tbformat)) if failure is not None else "",
            reason=_cut(reason or ""),
        )


class WorkerProtocol(AMP):
    """A worker's end: runs the tests the manager names."""

    def __init__(self, tests: dict[str, Any], tbformat: str) -> None:
        super().__init__()
        self._tests = tests
        self._tbformat = tbformat

    @Run.responder
    def run(self, testCase: str) -> dict[str, Any]:
        result = _WorkerResult(self, self._tbformat)
        test = self._tests[testCase]
        # A suite of one, so that class and module fixtures run.
        pyunit.TestSuite([test]).run(result)
        return {"success": result.wasSuccessful()}


def workerMain(argv: Sequence[str]) -> int:
    """``python -m fw.trial._dist IN OUT DIRECTORY [trial options] -- tests``."""
    from fw.logger import globalLogBeginner, textFileLogObserver
    from fw.trial import _synctest
    from fw.trial._script import Options, _applyProcessOptions, _loadSuite

    inFd, outFd, directory = int(argv[0]), int(argv[1]), argv[2]
    config = Options()
    config.parseOptions(list(argv[3:]))
    _applyProcessOptions(config)
    suite = _loadSuite(config)
    tests = {}
    for test in iterateTests(suite):
        try:
            tests[test.id()] = test
        except Exception:  # noqa: BLE001, S112 - a test without an id cannot be asked for
            continue
    os.makedirs(directory, exist_ok=True)
    os.chdir(directory)
    _synctest.config.tempRoot = os.getcwd()
    _synctest.config.forceGarbageCollection = config["force-gc"]
    with open(config["logfile"], "w", encoding="utf-8") as logFile:
        globalLogBeginner.beginLoggingTo([textFileLogObserver(logFile)], redirectStandardIO=False)
        protocol = WorkerProtocol(tests, config["tbformat"])
        protocol.makeConnection(_PipeTransport(outFd))  # type: ignore[arg-type]
        while True:
            data = os.read(inFd, 65536)
            if not data:
                break
            protocol.dataReceived(data)
    return 0


# -- the manager side


class _RemoteTest:
    """A test run by a worker, known by its id."""

    def __init__(self, testID: str) -> None:
        self._id = testID

    def id(self) -> str:
        return self._id

    def shortDescription(self) -> str:
        return self._id

    def countTestCases(self) -> int:
        return 1

    def __repr__(self) -> str:
        return f"<remote test {self._id}>"


class _ManagerProtocol(AMP):
    """The manager's end of one worker's connection."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[dict[str, str]] = []

    @AddOutcome.responder
    def addOutcome(self, **outcome: str) -> dict[str, Any]:
        self.outcomes.append(outcome)
        return {}


def _replay(result: Any, test: _RemoteTest, outcomes: list[dict[str, str]]) -> None:
    """Report a worker's outcomes for ``test`` to ``result``."""
    result.startTest(test)
    for o in outcomes:
        kind = o["kind"]
        failure = RemoteFailure(o["failureType"], o["message"], o["traceback"])
        if kind == SUCCESS:
            result.addSuccess(test)
        elif kind == FAILURE:
            result.addFailure(test, failure)
        elif kind == ERROR:
            result.addError(test, failure)
        elif kind == SKIP:
            result.addSkip(test, o["reason"])
        elif kind == EXPECTED_FAILURE:
            result.addExpectedFailure(test, failure, Todo(o["reason"]))
        elif kind == UNEXPECTED_SUCCESS:
            result.addUnexpectedSuccess(test, Todo(o["reason"]))
    result.stopTest(test)


class _Worker:
    def __init__(self, number: int, args: list[str], cwd: str, directory: str) -> None:
        self.number = number
        toWorkerRead, toWorkerWrite = os.pipe()
        fromWorkerRead, fromWorkerWrite = os.pipe()
        os.makedirs(directory, exist_ok=True)
        with (
            open(os.path.join(directory, "out.log"), "wb") as out,
            open(os.path.join(directory, "err.log"), "wb") as err,
        ):
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "fw.trial._dist",
                    str(toWorkerRead),
                    str(fromWorkerWrite),
                    directory,
                    *args,
                ],
                pass_fds=(toWorkerRead, fromWorkerWrite),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        os.close(toWorkerRead)
        os.close(fromWorkerWrite)
        self.readFd = fromWorkerRead
        self.transport = _PipeTransport(toWorkerWrite)
        self.protocol = _ManagerProtocol()
        self.protocol.makeConnection(self.transport)  # type: ignore[arg-type]
        #: The tests sent to this worker and not answered yet, oldest (the
        #: one running) first.
        self.inFlight: collections.deque[str] = collections.deque()
        self.alive = True

    def close(self) -> None:
        """Close the worker's input (it exits when its input ends), then wait for it."""
        self.transport.loseConnection()
        try:
            self.process.wait(_EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.readFd)


class DistTrialRunner:
    """
    Runs a suite in ``jobs`` worker processes, reporting as ``runner`` would.

    Args:
        runner: the serial runner whose reporter, temporary directory and
            options this run uses.
        jobs: how many workers.
        workerArguments: the ``trial`` options and test names the workers
            load the suite with.
    """

    def __init__(self, runner: TrialRunner, jobs: int, workerArguments: list[str]) -> None:
        self.runner = runner
        self.jobs = jobs
        self.workerArguments = workerArguments

    def run(self, suite: Any) -> Any:
        """Run ``suite``; return the reporter."""
        result = self.runner._makeResult()
        cwd = os.getcwd()
        environment = _RunEnvironment(self.runner)
        with environment:
            tests = list(iterateTests(suite))
            remote = [t.id() for t in tests if isinstance(t, pyunit.TestCase)]
            for test in tests:
                if not isinstance(test, pyunit.TestCase):
                    test.run(result)
            if remote:
                self._runRemotely(remote, result, cwd, os.getcwd())
        result.done()
        return result

    def runUntilFailure(self, makeSuite: Callable[[], Any]) -> Any:
        """Run the suite ``makeSuite()`` returns again and again until a run fails."""
        count = 0
        while True:
            count += 1
            self.runner.stream.write(f"Test Pass {count}\n")
            result = self.run(makeSuite())
            if not result.wasSuccessful():
                return result

    def _runRemotely(self, testIDs: list[str], result: Any, cwd: str, directory: str) -> None:
        queue = list(reversed(testIDs))
        count = min(self.jobs, len(testIDs))
        depth = 1 if self.runner.exitFirst else _PIPELINE
        workers = [
            _Worker(n, self.workerArguments, cwd, os.path.join(directory, str(n)))
            for n in range(count)
        ]
        selector = selectors.DefaultSelector()
        for worker in workers:
            selector.register(worker.readFd, selectors.EVENT_READ, worker)

        def report(worker: _Worker, testID: str, extra: list[dict[str, str]]) -> None:
            outcomes, worker.protocol.outcomes = worker.protocol.outcomes, []
            _replay(result, _RemoteTest(testID), [*outcomes, *extra])

        def dispatch(worker: _Worker) -> None:
            while len(worker.inFlight) < depth and queue and worker.alive:
                if result.shouldStop:
                    return
                testID = queue.pop()
                worker.inFlight.append(testID)
                d = worker.protocol.callRemote(Run, testCase=testID)
                d.addCallbacks(
                    answered, failed, callbackArgs=(worker, testID), errbackArgs=(worker, testID)
                )

        def answered(_: object, worker: _Worker, testID: str) -> None:
            # Answers come in the order the worker ran the tests.
            if worker.inFlight and worker.inFlight[0] == testID:
                worker.inFlight.popleft()
                report(worker, testID, [])
                dispatch(worker)

        def failed(failure: Any, worker: _Worker, testID: str) -> None:
            if worker.inFlight and worker.inFlight[0] == testID:
                worker.inFlight.popleft()
                error = {
                    "kind": ERROR,
                    "failureType": _typeName(failure),
                    "message": str(failure.getErrorMessage()),
                    "traceback": failure.getTraceback(),
                    "reason": "",
                }
                report(worker, testID, [error])
                dispatch(worker)

        def died(worker: _Worker) -> None:
            selector.unregister(worker.readFd)
            worker.alive = False
            if worker.inFlight:
                running = worker.inFlight.popleft()
                report(worker, running, [_workerDied(worker, running)])
                # Tests it had not started yet go to the others, next.
                queue.extend(reversed(worker.inFlight))
                worker.inFlight.clear()
            for other in workers:
                if other.alive:
                    dispatch(other)

        try:
            for worker in workers:
                dispatch(worker)
            while any(w.inFlight for w in workers):
                for key, _ in selector.select():
                    worker = key.data
                    data = os.read(worker.readFd, 65536)
                    if data:
                        worker.protocol.dataReceived(data)
                    else:
                        died(worker)
                if not any(w.alive for w in workers):
                    while queue:
                        testID = queue.pop()
                        _replay(result, _RemoteTest(testID), [_noWorkers(testID)])
                    break
        finally:
            selector.close()
            # Every worker sees its input end at once; then each is waited for.
            for worker in workers:
                worker.transport.loseConnection()
            for worker in workers:
                worker.close()


def _workerDied(worker: _Worker, testID: str) -> dict[str, str]:
    # Its pipe closed as it died: its exit status is a moment away.
    try:
        code: int | None = worker.process.wait(1.0)
    except subprocess.TimeoutExpired:
        code = None
    message = f"worker {worker.number} exited (status {code}) while running {testID}"
    return {
        "kind": ERROR,
        "failureType": "fw.trial._dist.WorkerDied",
        "message": message,
        "traceback": f"WorkerDied: {message}; see _trial_temp/{worker.number}/err.log\n",
        "reason": "",
    }


def _noWorkers(testID: str) -> dict[str, str]:
    message = f"no worker left to run {testID}"
    return {
        "kind": ERROR,
        "failureType": "fw.trial._dist.WorkerDied",
        "message": message,
        "traceback": f"WorkerDied: {message}\n",
        "reason": "",
    }


if __name__ == "__main__":
    sys.exit(workerMain(sys.argv[1:]))
