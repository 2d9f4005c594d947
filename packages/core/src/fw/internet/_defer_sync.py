"""Synchronisation for Deferred code: DeferredLock, DeferredSemaphore, DeferredQueue.

None of these block: acquiring returns a Deferred that fires when the lock,
token or item is available.  Waiters are served first come, first served.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, Literal, ParamSpec, Self, TypeVar, overload

from fw.internet._defer_core import Deferred
from fw.internet._defer_inline import maybeDeferred, succeed

__all__ = [
    "DeferredLock",
    "DeferredQueue",
    "DeferredSemaphore",
    "QueueOverflow",
    "QueueUnderflow",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")


class _ConcurrencyPrimitive:
    """What a lock and a semaphore share: a queue of waiters, ``run`` and ``async with``."""

    def __init__(self) -> None:
        self.waiting: list[Deferred[Self]] = []

    def _cancelAcquire(self, d: Deferred[Self]) -> None:
        # The canceller only runs before d fires, so d is still waiting.
        self.waiting.remove(d)

    def acquire(self) -> Deferred[Self]:  # pragma: no cover - overridden
        raise NotImplementedError

    def release(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _releaseAndReturn(self, result: _T) -> _T:
        self.release()
        return result

    @overload
    def run(
        self, f: Callable[_P, Deferred[_T]], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> Deferred[_T]: ...

    @overload
    def run(
        self,
        f: Callable[_P, Coroutine[Any, Any, _T]],
        /,
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_T]: ...

    @overload
    def run(self, f: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]: ...

    def run(self, f: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Deferred[Any]:
        """Acquire, call ``f(*args, **kwargs)``, and release when its result is ready.

        ``f`` may return a Deferred or a coroutine; the release waits for it.

        Returns:
            a Deferred of ``f``'s result.
        """

        def execute(_: object) -> Deferred[Any]:
            return maybeDeferred(f, *args, **kwargs).addBoth(self._releaseAndReturn)

        return self.acquire().addCallback(execute)

    def __aenter__(self) -> Deferred[Self]:
        return self.acquire()

    def __aexit__(
        self,
        excType: type[BaseException] | None,
        excValue: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> Deferred[Literal[False]]:
        self.release()
        return succeed(False)


class DeferredLock(_ConcurrencyPrimitive):
    """A lock: one holder at a time.

    ``async with lock:`` works in coroutines run by ``ensureDeferred``.

    Attributes:
        locked: whether the lock is held (read it; do not set it).
        waiting: the Deferreds of pending :meth:`acquire` calls.
    """

    locked = False

    def acquire(self) -> Deferred[Self]:
        """Return a Deferred that fires with this lock once it is acquired."""
        d: Deferred[Self] = Deferred(self._cancelAcquire)
        if self.locked:
            self.waiting.append(d)
        else:
            self.locked = True
            d.callback(self)
        return d

    def release(self: Self) -> None:
        """Release the lock, handing it to the first waiter if there is one.

        Raises:
            RuntimeError: the lock is not held.
        """
        if not self.locked:
            raise RuntimeError("Tried to release an unlocked lock")
        if self.waiting:
            self.waiting.pop(0).callback(self)
        else:
            self.locked = False


class DeferredSemaphore(_ConcurrencyPrimitive):
    """A semaphore: at most ``tokens`` holders at a time.

    Args:
        tokens: the limit.

    Attributes:
        limit: the limit.
        tokens: how many more can acquire now.

    Raises:
        ValueError: ``tokens`` is less than 1.
    """

    def __init__(self, tokens: int) -> None:
        super().__init__()
        if tokens < 1:
            raise ValueError("DeferredSemaphore requires tokens >= 1")
        self.tokens = tokens
        self.limit = tokens

    def acquire(self) -> Deferred[Self]:
        """Return a Deferred that fires with this semaphore once a token is taken."""
        d: Deferred[Self] = Deferred(self._cancelAcquire)
        if self.tokens:
            self.tokens -= 1
            d.callback(self)
        else:
            self.waiting.append(d)
        return d

    def release(self: Self) -> None:
        """Give a token back, handing it to the first waiter if there is one.

        Raises:
            RuntimeError: more releases than acquisitions.
        """
        if self.tokens >= self.limit:
            raise RuntimeError("Someone released me too many times: too many tokens!")
        if self.waiting:
            self.waiting.pop(0).callback(self)
        else:
            self.tokens += 1


class QueueOverflow(Exception):
    """:meth:`DeferredQueue.put` on a queue holding ``size`` items."""


class QueueUnderflow(Exception):
    """:meth:`DeferredQueue.get` with ``backlog`` gets already waiting."""


class DeferredQueue(Generic[_T]):
    """A queue whose :meth:`get` returns a Deferred of the next item.

    Args:
        size: the most items it holds; ``None`` for no limit.
        backlog: the most gets that wait for an item; ``None`` for no limit.

    Attributes:
        pending: the items not yet got.
        waiting: the Deferreds of gets waiting for an item.
    """

    def __init__(self, size: int | None = None, backlog: int | None = None) -> None:
        self.waiting: list[Deferred[_T]] = []
        self.pending: list[_T] = []
        self.size = size
        self.backlog = backlog

    def _cancelGet(self, d: Deferred[_T]) -> None:
        self.waiting.remove(d)

    def put(self, obj: _T) -> None:
        """Add ``obj``: to the first waiting get, or to the queue.

        Raises:
            QueueOverflow: the queue already holds ``size`` items.
        """
        if self.waiting:
            self.waiting.pop(0).callback(obj)
        elif self.size is None or len(self.pending) < self.size:
            self.pending.append(obj)
        else:
            raise QueueOverflow()

    def get(self) -> Deferred[_T]:
        """Return a Deferred of the next item, fired now if there is one.

        Cancelling a waiting get removes it from the queue of gets.

        Raises:
            QueueUnderflow: ``backlog`` gets are already waiting.
        """
        if self.pending:
            return succeed(self.pending.pop(0))
        if self.backlog is None or len(self.waiting) < self.backlog:
            d: Deferred[_T] = Deferred(self._cancelGet)
            self.waiting.append(d)
            return d
        raise QueueUnderflow()


for _public in (DeferredLock, DeferredSemaphore, QueueOverflow, QueueUnderflow, DeferredQueue):
    _public.__module__ = "fw.internet.defer"
del _public
