"""
Utilities: run a program and get its output or exit code as a Deferred;
run code with some warnings silenced.

::

    output = await utils.getProcessOutput("ls", ["-l"], env=None, reactor=reactor)
    code = await utils.getProcessValue("/bin/false", reactor=reactor)
    out, err, code = await utils.getProcessOutputAndValue("sh", ["-c", "..."])
"""

from __future__ import annotations

from fw.internet._procutils import (
    ProcessSignalled,
    getProcessOutput,
    getProcessOutputAndValue,
    getProcessValue,
    runWithWarningsSuppressed,
    suppressWarnings,
)

__all__ = [
    "ProcessSignalled",
    "getProcessOutput",
    "getProcessOutputAndValue",
    "getProcessValue",
    "runWithWarningsSuppressed",
    "suppressWarnings",
]
