"""
A pool of worker threads for blocking work, sized between a minimum and a maximum.

The reactor owns one (``reactor.getThreadPool()``), used by
``reactor.callInThread`` and :func:`fw.internet.threads.deferToThread`.  Work
runs in a copy of the :mod:`contextvars` context current when it was queued,
as :func:`asyncio.to_thread` does.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

from fw.python.failure import Failure

__all__ = ["ThreadPool"]

_Work = tuple[contextvars.Context, Callable[[], object]]
_STOP: Any = object()


class ThreadPool:
    """
    Worker threads that run queued callables.

    Threads are started as work arrives, up to ``maxthreads``; ``minthreads``
    are started with the pool.  Work queued before :meth:`start` waits for it.

    Args:
        minthreads: threads to start with the pool.
        maxthreads: the most threads that run at once.
        name: a name for the pool, used in its threads' names.

    Attributes:
        min: the minimum number of threads.
        max: the maximum number of threads.
        started: whether the pool is running.
        joined: whether the pool has been stopped.
        threads: the pool's live worker threads.
    """

    def __init__(self, minthreads: int = 5, maxthreads: int = 20, name: str | None = None) -> None:
        if minthreads < 0:
            raise ValueError("minimum is negative")
        if maxthreads < minthreads:
            raise ValueError("maximum is less than minimum")
        self.min = minthreads
        self.max = maxthreads
        self.name = name
        self.started = False
        self.joined = False
        self.threads: list[threading.Thread] = []
        self._queue: SimpleQueue[_Work] = SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._waiting = 0
        self._counter = 0

    def __repr__(self) -> str:
        return (
            f"<ThreadPool {self.name or ''} min={self.min} max={self.max} "
            f"threads={len(self.threads)} idle={self._idle}>"
        )

    @property
    def workers(self) -> int:
        """The number of live worker threads."""
        return len(self.threads)

    def start(self) -> None:
        """Start the pool: its minimum threads, and enough for the work already queued."""
        with self._lock:
            self.joined = False
            self.started = True
            wanted = max(self.min, min(self._waiting, self.max))
            while len(self.threads) < wanted:
                self._startThread()

    def _startThread(self) -> None:
        # Called with the lock held.
        self._counter += 1
        name = f"PoolThread-{self.name or id(self)}-{self._counter}"
        thread = threading.Thread(target=self._worker, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def callInThread(self, func: Callable[..., object], /, *args: object, **kw: object) -> None:
        """Run ``func(*args, **kw)`` in a worker thread; its result is discarded."""
        self.callInThreadWithCallback(None, func, *args, **kw)

    def callInThreadWithCallback(
        self,
        onResult: Callable[[bool, object], object] | None,
        func: Callable[..., object],
        /,
        *args: object,
        **kw: object,
    ) -> None:
        """
        Run ``func(*args, **kw)`` in a worker thread, then, in that thread,
        ``onResult(True, result)`` or ``onResult(False, failure)``.

        ``onResult`` must not raise; if it does, the error is logged.
        """
        if self.joined:
            raise RuntimeError("the thread pool has been stopped")

        def work() -> None:
            try:
                result: object = func(*args, **kw)
                ok = True
            except BaseException:  # noqa: BLE001 - delivered to the caller as a Failure
                result = Failure()
                ok = False
            if onResult is not None:
                try:
                    onResult(ok, result)
                except Exception:  # noqa: BLE001 - logged; the worker goes on
                    _logFailure("onResult callback of a thread pool call raised")
            elif not ok:
                _logFailure("unhandled error in a thread pool call", result)

        with self._lock:
            self._waiting += 1
            if self.started and self._idle < self._waiting and len(self.threads) < self.max:
                self._startThread()
        self._queue.put((contextvars.copy_context(), work))

    def _worker(self) -> None:
        queue = self._queue
        me = threading.current_thread()
        while True:
            with self._lock:
                self._idle += 1
            context, work = queue.get()
            with self._lock:
                self._idle -= 1
                if work is not _STOP:
                    self._waiting -= 1
            if work is _STOP:
                break
            context.run(work)
            del context, work
        with self._lock:
            self.threads.remove(me)

    def adjustPoolsize(self, minthreads: int | None = None, maxthreads: int | None = None) -> None:
        """Change the minimum and maximum; extra threads stop as they finish their work."""
        newMin = self.min if minthreads is None else minthreads
        newMax = self.max if maxthreads is None else maxthreads
        if newMin < 0:
            raise ValueError("minimum is negative")
        if newMax < newMin:
            raise ValueError("maximum is less than minimum")
        with self._lock:
            self.min, self.max = newMin, newMax
            if not self.started:
                return
            excess = len(self.threads) - self.max
            while len(self.threads) < max(self.min, min(self._waiting, self.max)):
                self._startThread()
        for _ in range(max(0, excess)):
            self._queue.put((contextvars.copy_context(), _STOP))

    def stop(self) -> None:
        """Stop the pool: queued work runs first, then every thread exits and is joined."""
        with self._lock:
            self.joined = True
            self.started = False
            threads = list(self.threads)
        for _ in threads:
            self._queue.put((contextvars.copy_context(), _STOP))
        for thread in threads:
            thread.join()


def _logFailure(why: str, failure: object = None) -> None:
    from fw.logger import Logger

    Logger(namespace="fw.python.threadpool").failure(
        why, failure if isinstance(failure, Failure) else None
    )
