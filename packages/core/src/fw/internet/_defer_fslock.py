"""DeferredFilesystemLock: wait, without blocking, for a lock file.

Kept apart from the rest of fw.internet.defer so that importing Deferreds does
not import :mod:`fw.python.lockfile`; ``fw.internet.defer`` loads this module
the first time ``DeferredFilesystemLock`` is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

from fw.internet._defer_core import Deferred
from fw.internet._defer_inline import fail
from fw.internet._defer_support import AlreadyTryingToLockError, CancelledError, TimeoutError
from fw.python.failure import Failure
from fw.python.lockfile import FilesystemLock

if TYPE_CHECKING:
    from fw.internet.interfaces import IDelayedCall, IReactorTime

__all__ = ["AlreadyTryingToLockError", "DeferredFilesystemLock"]


class DeferredFilesystemLock(FilesystemLock):
    """A :class:`~fw.python.lockfile.FilesystemLock` that can wait for the lock.

    Args:
        name: the path of the lock.
        scheduler: what schedules the retries (a reactor, or a
            ``fw.internet.task.Clock`` in tests); the global reactor by
            default, found when the lock is created.
    """

    #: Seconds between attempts to take the lock.
    _interval: float = 1
    _tryLockCall: IDelayedCall | None = None
    _timeoutCall: IDelayedCall | None = None

    def __init__(self, name: str, scheduler: IReactorTime | None = None) -> None:
        super().__init__(name)
        if scheduler is None:
            # The global reactor, found now (never at import time).
            scheduler = cast("IReactorTime", importlib.import_module("fw.internet.reactor"))
        self._scheduler: IReactorTime = scheduler

    def deferUntilLocked(self, timeout: float | None = None) -> Deferred[None]:
        """Return a Deferred that fires once this process holds the lock.

        The lock is tried now, then every ``_interval`` seconds.  Cancelling
        the Deferred stops trying (it then fires if a last try succeeds, or
        fails with :class:`CancelledError`).  Not for concurrent use: one
        wait at a time.

        Args:
            timeout: seconds after which to give up with a
                :class:`TimeoutError` failure; ``None`` to wait forever.

        Returns:
            a Deferred of ``None``; a failed one (with
            :class:`AlreadyTryingToLockError`) if a wait is already going on.
        """
        if self._tryLockCall is not None:
            return fail(
                AlreadyTryingToLockError("deferUntilLocked isn't safe for concurrent use.")
            )

        def stopTrying(reason: Failure) -> None:
            if self._tryLockCall is not None:
                self._tryLockCall.cancel()
                self._tryLockCall = None
            if self._timeoutCall is not None:
                if self._timeoutCall.active():
                    self._timeoutCall.cancel()
                self._timeoutCall = None
            if self.lock():
                d.callback(None)
            else:
                d.errback(reason)

        d: Deferred[None] = Deferred(lambda _: stopTrying(Failure(CancelledError())))

        def tryLock() -> None:
            if self.lock():
                if self._timeoutCall is not None:
                    self._timeoutCall.cancel()
                    self._timeoutCall = None
                self._tryLockCall = None
                d.callback(None)
                return
            if timeout is not None and self._timeoutCall is None:
                reason = Failure(
                    TimeoutError(f"Timed out acquiring lock: {self.name} after {timeout:f}s")
                )
                self._timeoutCall = self._scheduler.callLater(timeout, stopTrying, reason)
            self._tryLockCall = self._scheduler.callLater(self._interval, tryLock)

        tryLock()
        return d


DeferredFilesystemLock.__module__ = "fw.internet.defer"
