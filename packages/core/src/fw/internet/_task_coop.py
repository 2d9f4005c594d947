"""
Cooperative multitasking: many long iterations sharing the reactor thread in
small steps.

A :class:`Cooperator` takes iterators and, each time its scheduler calls it,
advances them in turn, one step each, until its time slice is used up.  An
iterator that yields a Deferred (or a coroutine) is paused until that
Deferred fires.

Public names are re-exported by :mod:`fw.internet.task`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, ClassVar

from fw.internet._interfaces_core import IDelayedCall
from fw.internet.defer import Deferred
from fw.python.failure import Failure

__all__ = [
    "CooperativeTask",
    "Cooperator",
    "NotPaused",
    "SchedulerError",
    "SchedulerStopped",
    "TaskDone",
    "TaskFailed",
    "TaskFinished",
    "TaskStopped",
    "coiterate",
    "cooperate",
]


class SchedulerError(Exception):
    """
    The base of the errors a :class:`CooperativeTask` raises when asked to
    do something its state does not allow.
    """


class SchedulerStopped(SchedulerError):
    """The task's :class:`Cooperator` was stopped."""


class TaskFinished(SchedulerError):
    """The task is finished; the subclass says how."""


class TaskDone(TaskFinished):
    """The task's iterator ran to its end."""


class TaskStopped(TaskFinished):
    """The task was stopped with :meth:`CooperativeTask.stop`."""


class TaskFailed(TaskFinished):
    """The task's iterator raised, or a Deferred it yielded failed."""


class NotPaused(SchedulerError):
    """:meth:`CooperativeTask.resume` was called on a task that is not paused."""


class _Timer:
    """A termination predicate: true once its time slice has passed."""

    #: The longest a Cooperator works in one go, in seconds, by default.
    MAX_SLICE: ClassVar[float] = 0.01

    def __init__(self) -> None:
        self.end = time.monotonic() + self.MAX_SLICE

    def __call__(self) -> bool:
        return time.monotonic() >= self.end


# The scheduler's delay: as soon as possible, but not now, so other events
# (I/O, other timers) get their turn between time slices.
_EPSILON = 0.00000001


def _defaultScheduler(x: Callable[[], None]) -> IDelayedCall:
    # Imported on use: nothing may import the global reactor at import time.
    from fw.internet import reactor

    return reactor.callLater(_EPSILON, x)  # type: ignore[no-any-return, attr-defined]


def _awaitable(result: object) -> Deferred[Any] | None:
    """Return ``result`` as a Deferred if it is one, or a coroutine; else ``None``."""
    if isinstance(result, Deferred):
        return result
    if isinstance(result, Coroutine):
        return Deferred.fromCoroutine(result)
    return None


class CooperativeTask:
    """
    One iterator being run by a :class:`Cooperator` (see
    :meth:`Cooperator.cooperate`).

    A task is running, paused (:meth:`pause`, or waiting for a Deferred its
    iterator yielded), or finished: done, stopped, or failed.  Every
    operation on a finished task raises the :class:`TaskFinished` (or
    :class:`SchedulerStopped`) subclass that says why.
    """

    def __init__(self, iterator: Iterator[object], cooperator: Cooperator) -> None:
        self._iterator = iterator
        self._cooperator = cooperator
        self._deferreds: list[Deferred[Any]] = []
        self._pauseCount = 0
        self._completionState: SchedulerError | None = None
        self._completionResult: Iterator[object] | Failure | None = None
        cooperator._addTask(self)

    def whenDone(self) -> Deferred[Iterator[object]]:
        """
        Return a new Deferred that fires with the iterator when it is
        exhausted, or fails with :class:`TaskStopped`,
        :class:`SchedulerStopped`, or the iterator's error.  Each call gives
        a new, independent Deferred.
        """
        d: Deferred[Iterator[object]] = Deferred()
        if self._completionState is None:
            self._deferreds.append(d)
        else:
            d.callback(self._completionResult)  # type: ignore[arg-type]
        return d

    def pause(self) -> None:
        """
        Stop advancing the iterator until :meth:`resume`.  Pauses nest: as
        many resumes as pauses are needed.

        Raises:
            TaskFinished: the task is finished.
            SchedulerStopped: its cooperator was stopped.
        """
        self._checkFinish()
        self._pauseCount += 1
        if self._pauseCount == 1:
            self._cooperator._removeTask(self)

    def resume(self) -> None:
        """
        Undo one :meth:`pause`.

        Raises:
            NotPaused: the task is not paused.
        """
        if self._pauseCount == 0:
            raise NotPaused()
        self._pauseCount -= 1
        if self._pauseCount == 0 and self._completionState is None:
            self._cooperator._addTask(self)

    def stop(self) -> None:
        """
        Stop the task for good: the iterator is not advanced again, and
        :meth:`whenDone`'s Deferreds fail with :class:`TaskStopped`.

        Raises:
            TaskFinished: the task is already finished.
            SchedulerStopped: its cooperator was stopped.
        """
        self._checkFinish()
        self._completeWith(TaskStopped(), Failure(TaskStopped()))

    def _checkFinish(self) -> None:
        if self._completionState is not None:
            raise self._completionState

    def _completeWith(
        self, state: SchedulerError, result: Iterator[object] | Failure, running: bool = True
    ) -> None:
        self._completionState = state
        self._completionResult = result
        if running and not self._pauseCount:
            self._cooperator._removeTask(self)
        # Fire last: a callback may act on the cooperator, which must no
        # longer hold this task.
        waiting, self._deferreds = self._deferreds, []
        for d in waiting:
            d.callback(result)

    def _oneWorkUnit(self) -> None:
        try:
            result = next(self._iterator)
        except StopIteration:
            self._completeWith(TaskDone(), self._iterator)
        except BaseException as e:  # noqa: BLE001 - it becomes the task's result
            self._completeWith(TaskFailed(), Failure(e))
        else:
            waitFor = _awaitable(result)
            if waitFor is not None:
                self.pause()

                def failed(failure: Failure) -> None:
                    self._completeWith(TaskFailed(), failure)

                waitFor.addCallbacks(lambda _: self.resume(), failed)


class Cooperator:
    """
    Runs iterators in turn, a step at a time, a time slice at a time.

    Args:
        terminationPredicateFactory: called at the start of each time slice;
            the predicate it returns is called after each step and ends the
            slice when it returns true.  By default a slice lasts 10 ms.
        scheduler: called with a function of no arguments, to run it "soon";
            by default ``reactor.callLater`` with a tiny delay.  It may return
            an object with a ``cancel()`` method, used when there is no more
            work.
        started: start at once; else tasks wait for :meth:`start`.
    """

    def __init__(
        self,
        terminationPredicateFactory: Callable[[], Callable[[], bool]] = _Timer,
        scheduler: Callable[[Callable[[], None]], Any] = _defaultScheduler,
        started: bool = True,
    ) -> None:
        self._tasks: list[CooperativeTask] = []
        self._metarator: Iterator[CooperativeTask] = iter(())
        self._terminationPredicateFactory = terminationPredicateFactory
        self._scheduler = scheduler
        self._delayedCall: Any = None
        self._stopped = False
        self._started = started
        self._mustScheduleOnStart = False

    def coiterate(
        self, iterator: Iterator[object], doneDeferred: Deferred[Iterator[object]] | None = None
    ) -> Deferred[Iterator[object]]:
        """
        Run ``iterator`` to its end.

        Args:
            iterator: its items are ignored, except Deferreds and coroutines,
                which are waited for before the next step.
            doneDeferred: the Deferred to fire; a new one by default.

        Returns:
            A Deferred firing with the iterator when it is exhausted, or
            failing with its error, :class:`SchedulerStopped`, or
            :class:`TaskStopped`.
        """
        if doneDeferred is None:
            doneDeferred = Deferred()
        CooperativeTask(iterator, self).whenDone().chainDeferred(doneDeferred)
        return doneDeferred

    def cooperate(self, iterator: Iterator[object]) -> CooperativeTask:
        """
        Start running ``iterator``, and return its task, which can be paused,
        resumed, stopped and waited for.
        """
        return CooperativeTask(iterator, self)

    def _addTask(self, task: CooperativeTask) -> None:
        if self._stopped:
            task._completeWith(SchedulerStopped(), Failure(SchedulerStopped()), running=False)
            return
        self._tasks.append(task)
        self._reschedule()

    def _removeTask(self, task: CooperativeTask) -> None:
        self._tasks.remove(task)
        if not self._tasks and self._delayedCall is not None:
            self._delayedCall.cancel()
            self._delayedCall = None

    def _tasksWhileNotStopped(self) -> Iterator[CooperativeTask]:
        terminator = self._terminationPredicateFactory()
        while self._tasks:
            for task in self._metarator:
                yield task
                if terminator():
                    return
            # One round done: the next one sees the tasks added meanwhile.
            self._metarator = iter(list(self._tasks))

    def _tick(self) -> None:
        self._delayedCall = None
        for task in self._tasksWhileNotStopped():
            if task._completionState is None and not task._pauseCount:
                task._oneWorkUnit()
        self._reschedule()

    def _reschedule(self) -> None:
        if not self._started:
            self._mustScheduleOnStart = True
            return
        if self._delayedCall is None and self._tasks:
            self._delayedCall = self._scheduler(self._tick)

    def start(self) -> None:
        """Begin running the tasks (for a cooperator made with ``started=False``)."""
        self._stopped = False
        self._started = True
        if self._mustScheduleOnStart:
            self._mustScheduleOnStart = False
            self._reschedule()

    def stop(self) -> None:
        """
        Stop running tasks: every task's :meth:`~CooperativeTask.whenDone`
        Deferreds fail with :class:`SchedulerStopped`, and tasks added later
        fail at once, until :meth:`start` is called.
        """
        self._stopped = True
        tasks, self._tasks = self._tasks, []
        self._metarator = iter(())
        for task in tasks:
            task._completeWith(SchedulerStopped(), Failure(SchedulerStopped()), running=False)
        if self._delayedCall is not None:
            self._delayedCall.cancel()
            self._delayedCall = None

    @property
    def running(self) -> bool:
        """Whether the cooperator is started and not stopped."""
        return self._started and not self._stopped


_theCooperator = Cooperator()


def coiterate(iterator: Iterator[object]) -> Deferred[Iterator[object]]:
    """Run ``iterator`` with the global :class:`Cooperator` (see :meth:`Cooperator.coiterate`)."""
    return _theCooperator.coiterate(iterator)


def cooperate(iterator: Iterator[object]) -> CooperativeTask:
    """Run ``iterator`` with the global :class:`Cooperator` (see :meth:`Cooperator.cooperate`)."""
    return _theCooperator.cooperate(iterator)
