"""Bridges between Deferreds and asyncio futures.

Imported by :meth:`Deferred.asFuture` and :meth:`Deferred.fromFuture` when
first used, so that using Deferreds does not import asyncio.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from fw.internet._defer_core import Deferred
from fw.internet._defer_support import CancelledError
from fw.python.failure import Failure

__all__ = ["asFuture", "fromFuture"]

_T = TypeVar("_T")


def asFuture(d: Deferred[_T], loop: asyncio.AbstractEventLoop) -> asyncio.Future[_T]:
    """Implement :meth:`Deferred.asFuture`."""
    future: asyncio.Future[_T] = loop.create_future()

    def succeeded(result: _T) -> None:
        if not future.cancelled():
            future.set_result(result)

    def failed(failure: Failure) -> None:
        if not future.cancelled():
            future.set_exception(failure.value)

    def futureDone(f: asyncio.Future[_T]) -> None:
        if f.cancelled():
            d.cancel()

    d.addCallbacks(succeeded, failed)
    future.add_done_callback(futureDone)
    return future


def fromFuture(cls: type[Deferred[_T]], future: asyncio.Future[_T]) -> Deferred[_T]:
    """Implement :meth:`Deferred.fromFuture`."""

    def adapt(f: asyncio.Future[_T]) -> None:
        if d.called:
            return
        if f.cancelled():
            d.errback(Failure(CancelledError()))
            return
        exc = f.exception()
        if exc is not None:
            d.errback(Failure(exc))
        else:
            d.callback(f.result())

    def cancel(_: Deferred[_T]) -> None:
        if not future.cancel():
            adapt(future)

    d = cls(cancel)
    future.add_done_callback(adapt)
    return d
