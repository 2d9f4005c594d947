"""
Scheduling helpers: a clock for tests, repeating calls, delayed results and
cooperative iteration.

- :class:`Clock`: an :class:`~fw.internet.interfaces.IReactorTime` whose time
  moves only when told, so code that schedules calls can be tested
  deterministically.
- :class:`LoopingCall`: call a function every *n* seconds.
- :func:`deferLater`: a Deferred that fires after a delay.
- :class:`Cooperator`, :func:`coiterate`, :func:`cooperate`: run long
  iterations in small steps without blocking the reactor.
- :func:`react`: run a reactor for one main function (or coroutine
  function), then exit the process with its outcome.

Every helper takes its clock or scheduler as a parameter (or attribute), so
tests run them on a :class:`Clock`::

    clock = Clock()
    loop = LoopingCall(tick)
    loop.clock = clock
    loop.start(1.0)
    clock.advance(3)      # tick ran 4 times: at 0, 1, 2 and 3
"""

from fw.internet._task_clock import Clock
from fw.internet._task_coop import (
    CooperativeTask,
    Cooperator,
    NotPaused,
    SchedulerError,
    SchedulerStopped,
    TaskDone,
    TaskFailed,
    TaskFinished,
    TaskStopped,
    coiterate,
    cooperate,
)
from fw.internet._task_loop import LoopingCall, deferLater
from fw.internet._task_react import react

__all__ = [
    "Clock",
    "CooperativeTask",
    "Cooperator",
    "LoopingCall",
    "NotPaused",
    "SchedulerError",
    "SchedulerStopped",
    "TaskDone",
    "TaskFailed",
    "TaskFinished",
    "TaskStopped",
    "coiterate",
    "cooperate",
    "deferLater",
    "react",
]
