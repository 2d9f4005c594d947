"""Failures: exceptions as values, for asynchronous code.

An exception raised in a callback cannot travel up the stack to the code that
cares about it: that code is not on the stack any more.  A :class:`Failure`
wraps the exception and its traceback so that it can be passed down a
Deferred's errback chain, logged, or sent to a remote peer, and re-raised or
printed there::

    try:
        1 / 0
    except ZeroDivisionError:
        f = Failure()
    f.check(ZeroDivisionError)   # -> ZeroDivisionError
    print(f.getTraceback())
"""

from fw.python._failure import (
    DefaultException,
    Failure,
    FrameInfo,
    NoCurrentExceptionError,
    startDebugMode,
)

__all__ = [
    "DefaultException",
    "Failure",
    "FrameInfo",
    "NoCurrentExceptionError",
    "startDebugMode",
]
