"""The Deferred class: a result that is not there yet, and what to do with it.

See :mod:`fw.internet.defer` for the callback order and the context rule.
The loop that runs chains, :meth:`Deferred._runCallbacks`, is iterative: a
chain of any length, and any depth of Deferreds waiting on Deferreds, runs in
constant Python stack.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Coroutine, Generator, Mapping
from contextvars import copy_context
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Generic,
    NoReturn,
    ParamSpec,
    TypeVar,
    overload,
)

from fw.internet._defer_support import (
    _CONTINUE,
    AlreadyCalledError,
    CancelledError,
    NotACoroutineError,
    _DebugInfo,
    _describe,
    _isCoroutine,
    _stack,
    _timeoutAfter,
)
from fw.python.failure import Failure

if TYPE_CHECKING:
    import asyncio

    from fw.internet.interfaces import IReactorTime

__all__ = ["Deferred", "getDebugging", "setDebugging"]

_T = TypeVar("_T")
_SelfResultT = TypeVar("_SelfResultT")
_NextResultT = TypeVar("_NextResultT")
_P = ParamSpec("_P")


def setDebugging(on: bool) -> None:
    """Record where each Deferred is created and first fired, from now on.

    The stacks are shown by ``repr(deferred)``, added to
    :class:`AlreadyCalledError` messages and to "Unhandled error in
    Deferred" log events; failures also capture the variables of their
    frames.  Slow: for debugging only.
    """
    Deferred.debug = bool(on)


def getDebugging() -> bool:
    """Return whether Deferred debugging is on (see :func:`setDebugging`)."""
    return Deferred.debug


# One chain entry:
#   (callback, callbackArgs, callbackKeywords, errback, errbackArgs, errbackKeywords, context)
# A callable of None passes the result on untouched (addCallback's errback,
# addErrback's callback).  Args of None mean "just the result": the call then
# needs no argument tuple.  A context of None (internal entries) runs the
# callable in whatever context is current.
_Entry = tuple[Any, ...]


_CoroutineType = types.CoroutineType


class Deferred(Generic[_SelfResultT]):
    """A result that will be available later, and what to do with it then.

    Add callbacks (for a result) and errbacks (for a :class:`Failure`) in
    pairs; when the Deferred fires, with :meth:`callback` or :meth:`errback`,
    the result runs through them in order.  Each one's return value is the
    next one's argument; raising an exception or returning a Failure moves
    to the errback side, and an errback returning anything else moves back.

    Args:
        canceller: called with this Deferred by :meth:`cancel` before it
            fires; it should stop the operation and may fire the Deferred.
            If it does not, :meth:`cancel` errbacks with
            :class:`CancelledError`.  Without a canceller, cancelling still
            errbacks, and the one ``callback``/``errback`` the operation makes
            later is ignored.

    Attributes:
        called: true once :meth:`callback` or :meth:`errback` was called.
        paused: how many :meth:`pause` calls are not yet matched by
            :meth:`unpause` (waiting on another Deferred counts as one).
        result: the current result; absent until the Deferred fires.
        debug: class attribute; see :func:`setDebugging`.
    """

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_canceller",
        "_chainedTo",
        "_debugInfo",
        "_runningCallbacks",
        "_suppressAlreadyCalled",
        "called",
        "paused",
        "result",
    )

    debug: ClassVar[bool] = False

    called: bool
    paused: int
    result: Any
    _callbacks: list[_Entry]
    _canceller: Callable[[Deferred[Any]], object] | None
    _chainedTo: Deferred[Any] | None
    _runningCallbacks: bool
    _suppressAlreadyCalled: bool
    _debugInfo: _DebugInfo | None

    def __init__(self, canceller: Callable[[Deferred[Any]], object] | None = None) -> None:
        self.called = False
        self.paused = 0
        self._callbacks = []
        self._canceller = canceller
        self._chainedTo = None
        self._runningCallbacks = False
        self._suppressAlreadyCalled = False
        self._debugInfo = None
        if Deferred.debug:
            info = self._debugInfo = _DebugInfo()
            info.creator = _stack(1)

    # -- adding callbacks ---------------------------------------------------

    def addCallbacks(
        self,
        callback: Callable[..., Any],
        errback: Callable[..., Any] | None = None,
        callbackArgs: tuple[Any, ...] = (),
        callbackKeywords: Mapping[str, Any] | None = None,
        errbackArgs: tuple[Any, ...] = (),
        errbackKeywords: Mapping[str, Any] | None = None,
    ) -> Deferred[Any]:
        """Add a callback and an errback, as one step of the chain.

        Only one of the two runs, depending on the result reaching this step;
        so an exception raised by ``callback`` does not reach ``errback`` (add
        them separately for that).  ``errback=None`` passes failures on.

        Prefer :meth:`addCallback`, :meth:`addErrback` and :meth:`addBoth`:
        they are typed; this signature, older than ``ParamSpec``, is not.

        Returns:
            this Deferred.
        """
        cbArgs: tuple[Any, ...] | None = callbackArgs or None
        cbKw = callbackKeywords or None
        if cbKw is not None and cbArgs is None:
            cbArgs = ()
        ebArgs: tuple[Any, ...] | None = errbackArgs or None
        ebKw = errbackKeywords or None
        if ebKw is not None and ebArgs is None:
            ebArgs = ()
        self._callbacks.append((callback, cbArgs, cbKw, errback, ebArgs, ebKw, copy_context()))
        if self.called:
            self._runCallbacks()
        return self

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_SelfResultT, _P], Deferred[_NextResultT]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_SelfResultT, _P], Coroutine[Any, Any, _NextResultT]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_SelfResultT, _P], Failure],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[NoReturn]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_SelfResultT, _P], Failure | Deferred[_NextResultT]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_SelfResultT, _P], Deferred[_NextResultT] | _NextResultT],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_SelfResultT, _P], Failure | _NextResultT],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    def addCallback(
        self, callback: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Deferred[Any]:
        """Add ``callback(result, *args, **kwargs)`` to the chain; failures pass it by.

        ``callback`` may return a value, a Deferred or a coroutine (both are
        waited for), or a :class:`Failure`; or raise.

        Returns:
            this Deferred, typed by ``callback``'s result.
        """
        self._callbacks.append(
            (
                callback,
                args if (args or kwargs) else None,
                kwargs or None,
                None,
                None,
                None,
                copy_context(),
            )
        )
        if self.called:
            self._runCallbacks()
        return self

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Deferred[_NextResultT]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_SelfResultT | _NextResultT]: ...

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Coroutine[Any, Any, _NextResultT]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_SelfResultT | _NextResultT]: ...

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Failure],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_SelfResultT]: ...

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Failure | _NextResultT],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_SelfResultT | _NextResultT]: ...

    def addErrback(
        self, errback: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Deferred[Any]:
        """Add ``errback(failure, *args, **kwargs)`` to the chain; results pass it by.

        The errback handles the failure by returning a value (back to the
        callback side), or passes it on by returning it or raising
        (``failure.trap(SomeError)`` does both).

        Returns:
            this Deferred.
        """
        self._callbacks.append(
            (
                None,
                None,
                None,
                errback,
                args if (args or kwargs) else None,
                kwargs or None,
                copy_context(),
            )
        )
        if self.called:
            self._runCallbacks()
        return self

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[_SelfResultT | Failure, _P], Deferred[_NextResultT]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[
            Concatenate[_SelfResultT | Failure, _P], Coroutine[Any, Any, _NextResultT]
        ],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[_SelfResultT | Failure, _P], Failure],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[NoReturn]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[_T, _P], _T],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_SelfResultT]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[
            Concatenate[_SelfResultT | Failure, _P], Failure | Deferred[_NextResultT]
        ],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[_SelfResultT | Failure, _P], Failure | _NextResultT],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_NextResultT]: ...

    def addBoth(self, callback: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Deferred[Any]:
        """Add ``callback(resultOrFailure, *args, **kwargs)`` on both sides of the chain.

        Returns:
            this Deferred.
        """
        callArgs = args if (args or kwargs) else None
        callKw = kwargs or None
        self._callbacks.append(
            (callback, callArgs, callKw, callback, callArgs, callKw, copy_context())
        )
        if self.called:
            self._runCallbacks()
        return self

    def _addInternal(
        self,
        callback: Callable[..., object] | None,
        errback: Callable[..., object] | None,
        args: tuple[Any, ...] | None = None,
    ) -> None:
        """Add a pair of fw's own callables, which need no context of their own."""
        self._callbacks.append((callback, args, None, errback, args, None, None))
        if self.called:
            self._runCallbacks()

    @overload
    def addTimeout(
        self, timeout: float, clock: IReactorTime, onTimeoutCancel: None = None
    ) -> Deferred[_SelfResultT]: ...

    @overload
    def addTimeout(
        self,
        timeout: float,
        clock: IReactorTime,
        onTimeoutCancel: Callable[[_SelfResultT | Failure, float], _NextResultT | Failure],
    ) -> Deferred[_SelfResultT | _NextResultT]: ...

    def addTimeout(
        self,
        timeout: float,
        clock: IReactorTime,
        onTimeoutCancel: Callable[[Any, float], Any] | None = None,
    ) -> Deferred[Any]:
        """Cancel this Deferred if it has not fired ``timeout`` seconds from now.

        The timeout covers the callbacks added before this call, not those
        added after.  When it strikes, the Deferred is cancelled; the
        resulting :class:`CancelledError` failure is then given to
        ``onTimeoutCancel(result, timeout)``, whose result continues down the
        chain; by default it becomes a :class:`TimeoutError` failure.

        Args:
            timeout: seconds.
            clock: what schedules the timeout (a reactor or a
                ``fw.internet.task.Clock``).
            onTimeoutCancel: translates the result after a timeout.

        Returns:
            this Deferred.
        """
        _timeoutAfter(self, timeout, clock, onTimeoutCancel)
        return self

    def chainDeferred(self, d: Deferred[_SelfResultT]) -> Deferred[None]:
        """Fire ``d`` with this Deferred's result, when it has one.

        Shorthand for ``self.addCallbacks(d.callback, d.errback)``: ``d``'s
        own chain then runs.  Firing ``d`` does not affect this Deferred; this
        Deferred's result becomes ``None``.

        Returns:
            this Deferred.
        """
        d._chainedTo = self
        return self.addCallbacks(d.callback, d.errback)

    # -- firing ---------------------------------------------------------------

    def callback(self, result: _SelfResultT | Failure) -> None:
        """Fire this Deferred with ``result``, running its chain.

        A :class:`Failure` as ``result`` starts on the errback side.

        Raises:
            AlreadyCalledError: this Deferred already fired.
        """
        if self.called:
            self._alreadyCalled()
            return
        if Deferred.debug:
            self._recordInvoker()
        self.called = True
        self._canceller = None
        self.result = result
        if self._callbacks or self._chainedTo is not None or isinstance(result, Failure):
            self._runCallbacks()

    def errback(self, fail: Failure | BaseException | None = None) -> None:
        """Fire this Deferred with a failure, running its chain.

        Args:
            fail: a :class:`Failure`; an exception, which is wrapped in one;
                or ``None`` for the exception being handled.

        Raises:
            AlreadyCalledError: this Deferred already fired.
            fw.python.failure.NoCurrentExceptionError: ``fail`` is ``None``
                outside an ``except`` block.
        """
        if fail is None:
            fail = Failure(captureVars=Deferred.debug)
        elif not isinstance(fail, Failure):
            fail = Failure(fail)
        if self.called:
            self._alreadyCalled()
            return
        if Deferred.debug:
            self._recordInvoker()
        self.called = True
        self._canceller = None
        self.result = fail
        self._runCallbacks()

    def _alreadyCalled(self) -> None:
        if self._suppressAlreadyCalled:
            # Cancelled without a canceller: this is the operation's late result.
            self._suppressAlreadyCalled = False
            return
        if Deferred.debug:
            info = self._debugInfo
            if info is None:
                info = self._debugInfo = _DebugInfo()
            raise AlreadyCalledError("\n" + info._getDebugTracebacks())
        raise AlreadyCalledError()

    def _recordInvoker(self) -> None:
        info = self._debugInfo
        if info is None:
            info = self._debugInfo = _DebugInfo()
        info.invoker = _stack(2)

    def _fireWithResultOf(self, other: Deferred[Any]) -> None:
        """Fire now, then wait for ``other``, as if a first callback had returned it."""
        self.called = True
        self._canceller = None
        self.result = other
        self.paused += 1
        self._chainedTo = other
        other._callbacks.append((_CONTINUE, self, None, _CONTINUE, self, None, None))
        if other.called:
            other._runCallbacks()

    def pause(self) -> None:
        """Stop running the chain until a matching :meth:`unpause`."""
        self.paused += 1

    def unpause(self) -> None:
        """Undo one :meth:`pause`; the last one resumes the chain."""
        self.paused -= 1
        if self.paused:
            return
        if self.called:
            self._runCallbacks()

    def cancel(self) -> None:
        """Ask the operation behind this Deferred to stop.

        Before the Deferred fires, this calls the canceller; if the Deferred
        has still not fired, it errbacks with :class:`CancelledError`.  If the
        Deferred is waiting on another Deferred (a callback returned one),
        that one is cancelled instead.  Otherwise this does nothing.
        """
        if not self.called:
            canceller = self._canceller
            if canceller is not None:
                canceller(self)
            else:
                self._suppressAlreadyCalled = True
            if not self.called:
                self.errback(Failure(CancelledError()))
        else:
            result = self.result
            if isinstance(result, Deferred):
                result.cancel()

    def _runCallbacks(self) -> None:
        """Run the chain, and the chains of Deferreds waiting on this one, iteratively.

        ``stack`` holds the Deferreds whose chains were interrupted to run
        the chain of a Deferred that was waiting on them; each is taken up
        again when that one is done or waits on something else.
        """
        if self._runningCallbacks:
            # Already running, further up the stack: it will see new entries.
            return
        current: Deferred[Any] = self
        stack: list[Deferred[Any]] | None = None
        while True:
            if current.paused:
                return
            current._chainedTo = None
            callbacks = current._callbacks
            result = current.result
            failed = isinstance(result, Failure)
            waitFor: Deferred[Any] | None = None
            chainee: Deferred[Any] | None = None
            index = 0
            current._runningCallbacks = True
            try:
                # Entries added while this runs are appended: the loop sees them.
                for entry in callbacks:
                    index += 1
                    if failed:
                        function = entry[3]
                        args = entry[4]
                    else:
                        function = entry[0]
                        args = entry[1]
                    if function is None:
                        continue
                    if function is _CONTINUE:
                        chainee = args
                        break
                    context = entry[6]
                    try:
                        if args is None:
                            if context is None:
                                result = function(result)
                            else:
                                result = context.run(function, result)
                        else:
                            kwargs = entry[5] if failed else entry[2]
                            if context is None:
                                if kwargs is None:
                                    result = function(result, *args)
                                else:
                                    result = function(result, *args, **kwargs)
                            elif kwargs is None:
                                result = context.run(function, result, *args)
                            else:
                                result = context.run(function, result, *args, **kwargs)
                    except BaseException as e:  # noqa: BLE001 - it becomes the result
                        result = _failureFromCallback(e)
                        failed = True
                        continue
                    if isinstance(result, Failure):
                        failed = True
                        continue
                    failed = False
                    if not isinstance(result, Deferred):
                        if type(result) is not _CoroutineType:
                            continue
                        result = _coroutineDeferred(result)
                    if result is current:
                        result = _selfReturnFailure(function)
                        failed = True
                        continue
                    if (
                        result.called
                        and not result.paused
                        and not result._runningCallbacks
                        and not isinstance(result.result, Deferred)
                    ):
                        # It already has a result: take it and go on.
                        inner = result
                        result = inner.result
                        inner.result = None
                        if inner._debugInfo is not None:
                            inner._debugInfo.failResult = None
                        failed = isinstance(result, Failure)
                        continue
                    waitFor = result
                    break
            finally:
                current._runningCallbacks = False
                del callbacks[:index]
                current.result = result

            if chainee is not None:
                # Hand our result to the Deferred that was waiting on us and
                # run its chain.
                chainee.result = result
                current.result = None
                info = current._debugInfo
                if info is not None:
                    info.failResult = None
                chainee.paused -= 1
                if callbacks:
                    # Come back for the callbacks added after the hand-over.
                    if stack is None:
                        stack = [current]
                    else:
                        stack.append(current)
                current = chainee
                continue

            if waitFor is not None:
                # Wait for that Deferred: it continues us when it fires.
                current.paused += 1
                current._chainedTo = waitFor
                waitFor._callbacks.append(
                    (_CONTINUE, current, None, _CONTINUE, current, None, None)
                )
                info = current._debugInfo
                if info is not None:
                    info.failResult = None
            elif failed:
                info = current._debugInfo
                if info is None:
                    info = current._debugInfo = _DebugInfo()
                info.failResult = result
            elif current._debugInfo is not None:
                current._debugInfo.failResult = None

            if not stack:
                return
            current = stack.pop()

    # -- coroutines and asyncio --------------------------------------------------

    def __await__(self) -> Generator[Any, Any, _SelfResultT]:
        """Wait for the result, from a coroutine run by :func:`ensureDeferred`
        or by an asyncio task.

        A failure is raised as its exception.
        """
        if self.called and not self.paused and not self._runningCallbacks:
            result = self.result
            if isinstance(result, Failure):
                info = self._debugInfo
                if info is not None:
                    info.failResult = None
                result.raiseException()
            return result  # type: ignore[no-any-return]
        asyncio = sys.modules.get("asyncio")
        if asyncio is not None:
            loop = asyncio.events._get_running_loop()
            if loop is not None and asyncio.current_task(loop) is not None:
                # Awaited in an asyncio task, which can only wait for futures.
                # (fw's own driver accepts futures too, should it be the one
                # stepping this coroutine inside a task.)
                return (yield from self.asFuture(loop).__await__())
        # The driver sends the result, or throws the failure, back in here.
        return (yield self)  # type: ignore[no-any-return]

    __iter__ = __await__

    def asFuture(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[_SelfResultT]:
        """Return an asyncio future of ``loop`` that completes with this Deferred's result.

        The result, or failure, is consumed: this Deferred's result becomes
        ``None``.  Cancelling the future cancels this Deferred.
        """
        from fw.internet._defer_asyncio import asFuture

        return asFuture(self, loop)

    @classmethod
    def fromFuture(cls: type[Deferred[_T]], future: asyncio.Future[_T]) -> Deferred[_T]:
        """Return a Deferred that fires with the outcome of asyncio ``future``.

        Cancelling the Deferred cancels the future and fails the Deferred with
        :class:`CancelledError`; if the future was already done, the Deferred
        gets its outcome instead.  For a coroutine, wrap it in a task first
        (``asyncio.ensure_future``), or use :func:`ensureDeferred`.
        """
        from fw.internet._defer_asyncio import fromFuture

        return fromFuture(cls, future)

    @classmethod
    def fromCoroutine(
        cls, coro: Coroutine[Any, Any, _T] | Generator[Any, Any, _T]
    ) -> Deferred[_T]:
        """Run coroutine (or generator) ``coro``; return a Deferred of its result.

        The coroutine may ``await`` Deferreds (and, when the reactor runs on
        asyncio, asyncio futures).  It runs at once, until its first wait.
        Cancelling the returned Deferred cancels the Deferred it is waiting
        on, which raises :class:`CancelledError` at its ``await``.

        Raises:
            NotACoroutineError: ``coro`` is not a coroutine or generator.
        """
        from fw.internet._defer_inline import _cancellableCoroutine

        if not _isCoroutine(coro):
            raise NotACoroutineError(f"{coro!r} is not a coroutine")
        return _cancellableCoroutine(coro)

    # -- display -------------------------------------------------------------

    def __repr__(self) -> str:
        return _describe(self)

    __str__ = __repr__


def _coroutineDeferred(coro: Coroutine[Any, Any, _T]) -> Deferred[_T]:
    from fw.internet._defer_inline import _cancellableCoroutine

    return _cancellableCoroutine(coro)


def _failureFromCallback(e: BaseException) -> Failure:
    """Wrap what a callback raised; its traceback starts in the callback."""
    tb = e.__traceback__
    if tb is not None:
        # Leave out the frame of _runCallbacks: it says nothing to the reader.
        tb = tb.tb_next
        e.__traceback__ = tb
    return Failure(e, type(e), tb, Deferred.debug)


def _selfReturnFailure(function: object) -> Failure:
    return Failure(
        TypeError(
            f"callback {function!r} returned the Deferred it was added to; "
            "a Deferred cannot wait for itself"
        )
    )


Deferred.__module__ = "fw.internet.defer"
