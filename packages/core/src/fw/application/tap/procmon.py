"""
``fwd procmon``: run a program and restart it whenever it exits.

::

    fwd -n procmon --minrestartdelay 2 -- /usr/bin/worker --queue jobs
"""

from __future__ import annotations

import os
import shutil
from typing import Any, ClassVar

from fw.application.procmon import ProcessMonitor
from fw.application.service import IService
from fw.python import usage

__all__ = ["Options", "makeService"]


def _seconds(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


class Options(usage.Options):
    """
    Run a program and restart it when it exits: at once after a normal run,
    after a doubling delay when it keeps exiting within --threshold seconds.
    """

    synopsis = "[procmon options] -- PROGRAM [ARG...]"

    optParameters: ClassVar[list[list[Any]]] = [
        ["threshold", "t", 1.0, "Exiting within this many seconds is a quick exit.", _seconds],
        ["killtime", "k", 5.0, "Seconds from SIGTERM to SIGKILL when stopping.", _seconds],
        ["minrestartdelay", "m", 1.0, "The first delay after a quick exit.", _seconds],
        ["maxrestartdelay", "M", 3600.0, "The longest delay after quick exits.", _seconds],
    ]

    def parseArgs(self, *args: str) -> None:
        """The program and its arguments."""
        if not args:
            raise usage.UsageError("give the program to run (and its arguments)")
        self["args"] = list(args)

    def postOptions(self) -> None:
        """Find the program on the PATH."""
        program = self["args"][0]
        if os.sep not in program:
            found = shutil.which(program)
            if found is None:
                raise usage.UsageError(f"program not found: {program}")
            self["args"][0] = found
        if self["minrestartdelay"] > self["maxrestartdelay"]:
            raise usage.UsageError("--minrestartdelay is larger than --maxrestartdelay")


def makeService(config: Any) -> IService:
    """A :class:`ProcessMonitor` running the program with our environment."""
    monitor = ProcessMonitor()
    monitor.threshold = config["threshold"]
    monitor.killTime = config["killtime"]
    monitor.minRestartDelay = config["minrestartdelay"]
    monitor.maxRestartDelay = config["maxrestartdelay"]
    monitor.addProcess(" ".join(config["args"]), config["args"], env=dict(os.environ))
    return monitor
