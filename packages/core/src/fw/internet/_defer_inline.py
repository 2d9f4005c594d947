"""Making Deferreds: from values (succeed, fail), calls (maybeDeferred) and coroutines.

One driver runs both an ``async def`` coroutine (which awaits Deferreds)
and an ``inlineCallbacks`` generator (which yields them): it sends each
result in, or throws each failure in, and waits on whatever Deferred comes
out.  The whole run happens in one copy of the context that was current when
it started (see :mod:`fw.internet._defer_core` for the context rule).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context, copy_context
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar, overload

from fw.internet._defer_core import Deferred
from fw.internet._defer_support import CancelledError, NotACoroutineError, _isCoroutine
from fw.python.failure import Failure

__all__ = [
    "ensureDeferred",
    "execute",
    "fail",
    "inlineCallbacks",
    "maybeDeferred",
    "returnValue",
    "succeed",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")


def succeed(result: _T) -> Deferred[_T]:
    """Return a Deferred that has already fired with ``result``.

    For a function that must return a Deferred but has its result at once.
    """
    if Deferred.debug:
        d: Deferred[_T] = Deferred()
        d.callback(result)
        return d
    # What Deferred() then callback() would do, without the calls: this is hot.
    d = _newDeferred(Deferred)
    d.called = True
    d.paused = 0
    d._callbacks = []
    d._canceller = None
    d._chainedTo = None
    d._runningCallbacks = False
    d._suppressAlreadyCalled = False
    d._debugInfo = None
    d.result = result
    return d


_newDeferred = object.__new__


def fail(result: Failure | BaseException | None = None) -> Deferred[Any]:
    """Return a Deferred that has already failed with ``result``.

    Args:
        result: as for :meth:`Deferred.errback`.

    Raises:
        fw.python.failure.NoCurrentExceptionError: ``result`` is ``None``
            outside an ``except`` block.
    """
    d: Deferred[Any] = Deferred()
    d.errback(result)
    return d


class _DefGen_Return(BaseException):
    """Raised by :func:`returnValue` to end an ``inlineCallbacks`` generator."""

    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value


def returnValue(val: object) -> NoReturn:
    """End the ``inlineCallbacks`` generator this is called from, with result ``val``.

    Kept for old code: a plain ``return val`` does the same.  It works by
    raising an exception derived from :class:`BaseException`, so a bare
    ``except:`` between here and the generator would catch it.
    """
    raise _DefGen_Return(val)


class _Runner:
    """Drives one coroutine or generator to completion over Deferreds."""

    __slots__ = ("context", "deferred", "gen", "waitingOn")

    def __init__(self, gen: Coroutine[Any, Any, Any] | Generator[Any, Any, Any]) -> None:
        self.gen: Coroutine[Any, Any, Any] | Generator[Any, Any, Any] | None = gen
        self.context: Context = copy_context()
        self.waitingOn: Deferred[Any] | None = None
        self.deferred: Deferred[Any] = Deferred(self._cancel)

    def _step(self, result: object) -> None:
        """Send ``result`` in, or throw it in if it is a failure, until the next wait."""
        gen = self.gen
        if gen is None:  # pragma: no cover - woken after it finished; nothing to do
            return
        run = self.context.run
        send = gen.send
        while True:
            try:
                if isinstance(result, Failure):
                    yielded = run(result.throwExceptionIntoGenerator, gen)
                else:
                    yielded = run(send, result)
            except StopIteration as e:
                value = e.value
                break
            except _DefGen_Return as e:
                value = e.value
                break
            except BaseException as e:  # noqa: BLE001 - it becomes the result
                self.gen = None
                self.deferred.errback(_failureFromGenerator(e))
                return

            if not isinstance(yielded, Deferred):
                if type(yielded) is types.CoroutineType or type(yielded) is types.GeneratorType:
                    yielded = _cancellableCoroutine(yielded)
                elif _isAsyncioFuture(yielded):
                    yielded._asyncio_future_blocking = False
                    yielded = Deferred.fromFuture(yielded)
                else:
                    # Not something to wait for: it is its own result.
                    result = yielded
                    continue

            if (
                yielded.called
                and not yielded.paused
                and not yielded._runningCallbacks
                and not isinstance(yielded.result, Deferred)
            ):
                # Already has a result: take it (as a callback would) and go on.
                result = yielded.result
                yielded.result = None
                info = yielded._debugInfo
                if info is not None:
                    info.failResult = None
                continue

            self.waitingOn = yielded
            yielded._addInternal(self._resume, self._resume)
            return

        self.gen = None
        self.deferred.callback(value)

    def _resume(self, result: object) -> None:
        self.waitingOn = None
        self._step(result)

    def _cancel(self, d: Deferred[Any]) -> None:
        """Cancel what the coroutine waits on; its outcome stays the outcome of ``d``.

        The coroutine may catch the :class:`CancelledError` and go on, so ``d``
        is made to wait on a fresh Deferred that the coroutine will fire.
        """
        waitingOn = self.waitingOn
        if waitingOn is None:
            # Running now (cancelled from inside itself): let cancel() fail d,
            # and ignore the coroutine's own result when it comes.
            d._suppressAlreadyCalled = True
            return
        replacement: Deferred[Any] = Deferred(self._cancel)
        self.deferred = replacement
        d._fireWithResultOf(replacement)
        waitingOn.cancel()


def _isAsyncioFuture(obj: object) -> bool:
    # What asyncio.isfuture checks, without importing asyncio.
    return getattr(type(obj), "_asyncio_future_blocking", None) is not None and (
        getattr(obj, "_asyncio_future_blocking", None) is not None
    )


# Frames of the driver: left out of the tracebacks of failures it reports.
_DRIVER_CODES = frozenset(
    {
        _Runner._step.__code__,
        Failure.throwExceptionIntoGenerator.__code__,
    }
)


def _failureFromGenerator(e: BaseException) -> Failure:
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code in _DRIVER_CODES:
        tb = tb.tb_next
    e.__traceback__ = tb
    return Failure(e, type(e), tb, Deferred.debug)


def _cancellableCoroutine(
    gen: Coroutine[Any, Any, _T] | Generator[Any, Any, _T],
) -> Deferred[_T]:
    """Start running ``gen``; return the Deferred of its result."""
    runner = _Runner(gen)
    deferred = runner.deferred
    runner._step(None)
    return deferred


def ensureDeferred(
    coro: Coroutine[Any, Any, _T] | Generator[Any, Any, _T] | Deferred[_T],
) -> Deferred[_T]:
    """Return ``coro`` if it is a Deferred, else run it as :meth:`Deferred.fromCoroutine` does.

    Raises:
        NotACoroutineError: ``coro`` is neither a Deferred nor a coroutine.
    """
    if isinstance(coro, Deferred):
        return coro
    if not _isCoroutine(coro):
        raise NotACoroutineError(f"{coro!r} is not a coroutine or a Deferred")
    return _cancellableCoroutine(coro)


def inlineCallbacks(
    f: Callable[_P, Generator[Any, Any, _T]],
) -> Callable[_P, Deferred[_T]]:
    """Decorate a generator function yielding Deferreds into one returning a Deferred.

    Each ``yield d`` gives back ``d``'s result, or raises its failure's
    exception; yielding anything else gives it back at once.  The
    generator's ``return value`` (or :func:`returnValue`) is the result of
    the Deferred; an exception it lets out is the failure.  Cancelling that
    Deferred cancels the Deferred the generator is waiting on, which raises
    :class:`CancelledError` at its ``yield``.

    New code can use ``async def`` with ``await`` and :func:`ensureDeferred`.

    Raises:
        TypeError: (when the decorated function is called) it did not return
            a generator.
    """

    @wraps(f)
    def unwindGenerator(*args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
        try:
            gen = f(*args, **kwargs)
        except _DefGen_Return:
            raise TypeError(
                f"inlineCallbacks requires {f!r} to produce a generator; instead it "
                "called returnValue without being a generator"
            ) from None
        if not isinstance(gen, types.GeneratorType):
            raise TypeError(
                f"inlineCallbacks requires {f!r} to produce a generator; instead got {gen!r}"
            )
        return _cancellableCoroutine(gen)

    return unwindGenerator


@overload
def maybeDeferred(
    f: Callable[_P, Deferred[_T]], /, *args: _P.args, **kwargs: _P.kwargs
) -> Deferred[_T]: ...


@overload
def maybeDeferred(
    f: Callable[_P, Coroutine[Any, Any, _T]], /, *args: _P.args, **kwargs: _P.kwargs
) -> Deferred[_T]: ...


@overload
def maybeDeferred(f: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]: ...


def maybeDeferred(f: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Deferred[Any]:
    """Call ``f(*args, **kwargs)`` and return its outcome as a Deferred.

    A Deferred result is returned as it is; a coroutine is run (see
    :func:`ensureDeferred`); a :class:`Failure` or a raised exception becomes
    a failed Deferred; any other value a fired one.
    """
    try:
        result = f(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 - it becomes the result
        return fail(_failureFromCall(e))
    if isinstance(result, Deferred):
        return result
    if isinstance(result, Failure):
        return fail(result)
    if type(result) is types.CoroutineType:
        return _cancellableCoroutine(result)
    return succeed(result)


def execute(f: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
    """Call ``f(*args, **kwargs)`` and return its result, or exception, in a fired Deferred."""
    try:
        result = f(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 - it becomes the result
        return fail(_failureFromCall(e))
    return succeed(result)


def _failureFromCall(e: BaseException) -> Failure:
    tb = e.__traceback__
    if tb is not None:
        tb = tb.tb_next
        e.__traceback__ = tb
    return Failure(e, type(e), tb, Deferred.debug)


_ = CancelledError  # re-exported by fw.internet.defer; named here for the docstrings
