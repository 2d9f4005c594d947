"""Deferreds: results that are not there yet.

A function that cannot return its result at once returns a :class:`Deferred`;
the caller adds callbacks (for the result) and errbacks (for a
:class:`~fw.python.failure.Failure`) to it, and the function fires it with
:meth:`Deferred.callback` or :meth:`Deferred.errback` when it is done::

    d = getUser("alice")            # a Deferred
    d.addCallback(lambda user: user.email)
    d.addErrback(lambda failure: failure.trap(KeyError) and None)

Callback order, for one Deferred::

    (addCallback | addErrback | addBoth | addCallbacks)* -> callback | errback
        -> each pair, in order: the callback if the result is not a Failure,
           else the errback; what it returns (or raises) is the next result
    addCallback* after firing -> run at once

A callback that returns a Deferred (or a coroutine) pauses the chain until
that Deferred fires; its result then continues down the chain.  Chains of
any length, and Deferreds waiting on Deferreds to any depth, run without
recursion.

Coroutines are first class: a Deferred can be awaited in an ``async def``
function run by :func:`ensureDeferred`, and callbacks may be coroutine
functions.  :meth:`Deferred.asFuture` and :meth:`Deferred.fromFuture` bridge
to asyncio.

Context variables (:mod:`contextvars`) follow one rule, the one asyncio uses
for ``Future.add_done_callback``: *a callback or errback runs in a copy of the
context that was current when it was added*.  A value set before
``d.addCallback(f)`` is seen by ``f`` whenever and wherever ``d`` fires (in
the reactor, or in another request's code), and what ``f`` sets stays in
``f``'s copy.  A coroutine run by :func:`ensureDeferred` (or a generator run
by :func:`inlineCallbacks`) runs, from start to end, in one copy of the
context current when it started, like an asyncio task: what it sets before
an ``await`` it still sees after it, and ``ContextVar.reset`` works across
awaits.
"""

from typing import TYPE_CHECKING, Any

from fw.internet._defer_core import Deferred, getDebugging, setDebugging
from fw.internet._defer_inline import (
    ensureDeferred,
    execute,
    fail,
    inlineCallbacks,
    maybeDeferred,
    returnValue,
    succeed,
)
from fw.internet._defer_list import (
    FAILURE,
    SUCCESS,
    DeferredList,
    FailureGroup,
    FirstError,
    gatherResults,
    race,
)
from fw.internet._defer_support import (
    AlreadyCalledError,
    AlreadyTryingToLockError,
    CancelledError,
    NotACoroutineError,
    TimeoutError,
    logError,
    passthru,
)
from fw.internet._defer_sync import (
    DeferredLock,
    DeferredQueue,
    DeferredSemaphore,
    QueueOverflow,
    QueueUnderflow,
)

if TYPE_CHECKING:
    from fw.internet._defer_fslock import DeferredFilesystemLock

__all__ = [
    "FAILURE",
    "SUCCESS",
    "AlreadyCalledError",
    "AlreadyTryingToLockError",
    "CancelledError",
    "Deferred",
    "DeferredFilesystemLock",
    "DeferredList",
    "DeferredLock",
    "DeferredQueue",
    "DeferredSemaphore",
    "FailureGroup",
    "FirstError",
    "NotACoroutineError",
    "QueueOverflow",
    "QueueUnderflow",
    "TimeoutError",
    "ensureDeferred",
    "execute",
    "fail",
    "gatherResults",
    "getDebugging",
    "inlineCallbacks",
    "logError",
    "maybeDeferred",
    "passthru",
    "race",
    "returnValue",
    "setDebugging",
    "succeed",
]


def __getattr__(name: str) -> Any:
    # DeferredFilesystemLock needs fw.python.lockfile: load it on first use.
    if name == "DeferredFilesystemLock":
        from fw.internet._defer_fslock import DeferredFilesystemLock

        globals()[name] = DeferredFilesystemLock
        return DeferredFilesystemLock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
