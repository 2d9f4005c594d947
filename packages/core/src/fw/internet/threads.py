"""
Running blocking code in threads, and reactor code from threads.

``deferToThread(f, *args)`` runs ``f`` in the reactor's thread pool and returns
a Deferred that fires, in the reactor thread, with its result.
``blockingCallFromThread(reactor, f, *args)`` does the opposite: from a
non-reactor thread, run ``f`` in the reactor thread and wait for its result.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar, cast

from fw.internet.defer import Deferred, maybeDeferred
from fw.python.failure import Failure
from fw.python.threadpool import ThreadPool

__all__ = [
    "blockingCallFromThread",
    "callMultipleInThread",
    "deferToThread",
    "deferToThreadPool",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _defaultReactor() -> Any:
    from fw.internet import reactor

    return reactor


def deferToThreadPool(
    reactor: Any,
    threadpool: ThreadPool,
    f: Callable[_P, _T],
    /,
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> Deferred[_T]:
    """
    Run ``f(*args, **kwargs)`` in ``threadpool``; return a Deferred that fires
    in the reactor thread with its result or failure.

    Cancelling the Deferred does not interrupt the thread: the result, when it
    comes, is discarded.
    """
    d: Deferred[_T] = Deferred()

    def onResult(success: bool, result: object) -> None:
        if success:
            reactor.callFromThread(_fireIfWaiting, d, result)
        else:
            reactor.callFromThread(_failIfWaiting, d, cast(Failure, result))

    threadpool.callInThreadWithCallback(onResult, f, *args, **kwargs)
    return d


def _fireIfWaiting(d: Deferred[Any], result: object) -> None:
    if not d.called:
        d.callback(result)


def _failIfWaiting(d: Deferred[Any], failure: Failure) -> None:
    if not d.called:
        d.errback(failure)


def deferToThread(f: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
    """Run ``f(*args, **kwargs)`` in the global reactor's thread pool.

    See :func:`deferToThreadPool`.
    """
    reactor = _defaultReactor()
    return deferToThreadPool(reactor, reactor.getThreadPool(), f, *args, **kwargs)


def callMultipleInThread(
    tupleList: Iterable[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]],
) -> None:
    """Run each ``(f, args, kwargs)`` in turn, in one thread of the global reactor's pool."""
    calls = list(tupleList)

    def runAll() -> None:
        for f, args, kwargs in calls:
            f(*args, **kwargs)

    _defaultReactor().callInThread(runAll)


def blockingCallFromThread(
    reactor: Any, f: Callable[_P, Any], /, *args: _P.args, **kwargs: _P.kwargs
) -> Any:
    """
    From a thread that is not the reactor's, run ``f(*args, **kwargs)`` in the
    reactor thread and wait for its result.  If ``f`` returns a Deferred (or is
    a coroutine function), wait for that to fire.

    Returns:
        The result.

    Raises:
        Whatever ``f`` raised or its Deferred failed with.
    """
    results: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()

    def inReactor() -> None:
        d = maybeDeferred(f, *args, **kwargs)
        d.addCallbacks(
            lambda value: results.put((True, value)),
            lambda failure: results.put((False, failure)),
        )

    reactor.callFromThread(inReactor)
    ok, result = results.get()
    if not ok:
        cast(Failure, result).raiseException()
    return result
