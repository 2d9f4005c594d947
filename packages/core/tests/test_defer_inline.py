"""Tests for coroutines over Deferreds: ensureDeferred, inlineCallbacks, maybeDeferred, asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from fw.internet.defer import (
    CancelledError,
    Deferred,
    NotACoroutineError,
    ensureDeferred,
    execute,
    fail,
    inlineCallbacks,
    maybeDeferred,
    returnValue,
    succeed,
)
from fw.python.failure import Failure


def result(d: Deferred[Any]) -> Any:
    assert d.called, f"{d!r} has not fired"
    value = d.result
    if isinstance(value, Failure):
        d.addErrback(lambda _: None)
    return value


# -- ensureDeferred / fromCoroutine ------------------------------------------


def test_coroutineAwaitingFiredDeferreds() -> None:
    async def add() -> int:
        a = await succeed(1)
        b = await succeed(2)
        return a + b

    assert result(ensureDeferred(add())) == 3


def test_coroutineAwaitingPendingDeferred() -> None:
    waiting: Deferred[str] = Deferred()

    async def task() -> str:
        value = await waiting
        return value.upper()

    d = ensureDeferred(task())
    assert not d.called
    waiting.callback("done")
    assert result(d) == "DONE"
    # Like a callback, awaiting consumed the result.
    assert waiting.result is None


def test_awaitingFiredDeferredLeavesItsResult() -> None:
    fired = succeed(4)

    async def task() -> int:
        return await fired

    assert result(ensureDeferred(task())) == 4
    assert fired.result == 4


def test_coroutineAwaitingFailure() -> None:
    waiting: Deferred[str] = Deferred()

    async def task() -> str:
        try:
            await waiting
        except KeyError as e:
            return f"caught {e.args[0]}"
        return "not caught"

    d = ensureDeferred(task())
    waiting.errback(KeyError("k"))
    assert result(d) == "caught k"


def test_coroutineAwaitingFiredFailure() -> None:
    async def task() -> None:
        await fail(ValueError("already failed"))

    f = result(ensureDeferred(task()))
    assert isinstance(f, Failure)
    assert f.check(ValueError)


def test_coroutineRaising() -> None:
    async def task() -> None:
        raise ZeroDivisionError("in coroutine")

    f = result(ensureDeferred(task()))
    assert f.check(ZeroDivisionError)
    # The traceback starts in the coroutine, not in the driver.
    assert [frame[0] for frame in f.frames] == ["task"]


def test_coroutineRaisingAfterWait() -> None:
    waiting: Deferred[None] = Deferred()

    async def task() -> None:
        await waiting
        raise ValueError("later")

    d = ensureDeferred(task())
    waiting.callback(None)
    f = result(d)
    assert f.check(ValueError)
    assert [frame[0] for frame in f.frames] == ["task"]


def test_nestedCoroutines() -> None:
    waiting: Deferred[int] = Deferred()

    async def inner() -> int:
        return await waiting * 2

    async def outer() -> int:
        return await ensureDeferred(inner()) + 1

    d = ensureDeferred(outer())
    waiting.callback(10)
    assert result(d) == 21


def test_awaitingCoroutineDirectly() -> None:
    async def inner() -> int:
        return await succeed(5)

    async def outer() -> int:
        return await inner()

    assert result(ensureDeferred(outer())) == 5


def test_fromCoroutine() -> None:
    async def task() -> str:
        return "from coroutine"

    assert result(Deferred.fromCoroutine(task())) == "from coroutine"


def test_fromCoroutineGenerator() -> None:
    def gen() -> Generator[Any, Any, int]:
        value: int = yield succeed(3)
        return value + 1

    assert result(Deferred.fromCoroutine(gen())) == 4


def test_ensureDeferredOfDeferred() -> None:
    d = succeed(1)
    assert ensureDeferred(d) is d


def test_notACoroutine() -> None:
    with pytest.raises(NotACoroutineError):
        ensureDeferred(1)  # type: ignore[arg-type]
    with pytest.raises(NotACoroutineError):
        Deferred.fromCoroutine(lambda: None)  # type: ignore[arg-type]
    assert issubclass(NotACoroutineError, TypeError)


def test_cancelCoroutineCancelsAwaited() -> None:
    waiting: Deferred[str] = Deferred()

    async def task() -> str:
        return await waiting

    d = ensureDeferred(task())
    d.cancel()
    assert waiting.called
    assert result(d).check(CancelledError)


def test_cancelledCoroutineMayCarryOn() -> None:
    first: Deferred[str] = Deferred()
    second: Deferred[str] = Deferred()

    async def task() -> str:
        try:
            await first
        except CancelledError:
            pass
        return "then " + await second

    d = ensureDeferred(task())
    d.cancel()
    assert first.called
    assert not d.called or d.paused
    second.callback("second")
    assert result(d) == "then second"


def test_cancelTwice() -> None:
    first: Deferred[str] = Deferred()
    second: Deferred[str] = Deferred()

    async def task() -> str:
        try:
            await first
        except CancelledError:
            pass
        return await second

    d = ensureDeferred(task())
    d.cancel()
    d.cancel()
    assert second.called
    assert result(d).check(CancelledError)


def test_cancelFromInsideCoroutine() -> None:
    holder: list[Deferred[str]] = []
    waiting: Deferred[None] = Deferred()

    async def task() -> str:
        await waiting
        holder[0].cancel()
        return "finished anyway"

    d = ensureDeferred(task())
    holder.append(d)
    waiting.callback(None)
    assert result(d).check(CancelledError)


def test_cancelNestedCoroutines() -> None:
    waiting: Deferred[int] = Deferred()

    async def inner() -> int:
        return await waiting

    async def outer() -> int:
        return await ensureDeferred(inner())

    d = ensureDeferred(outer())
    d.cancel()
    assert waiting.called
    assert result(d).check(CancelledError)


def test_deepCoroutineChainOfAwaits() -> None:
    # A coroutine awaiting 10,000 pending Deferreds in turn runs in constant stack.
    deferreds: list[Deferred[int]] = [Deferred() for _ in range(10_000)]

    async def task() -> int:
        total = 0
        for d in deferreds:
            total += await d
        return total

    d = ensureDeferred(task())
    for each in deferreds:
        each.callback(1)
    assert result(d) == 10_000


# -- inlineCallbacks ------------------------------------------------------------


def test_inlineCallbacks() -> None:
    waiting: Deferred[int] = Deferred()

    @inlineCallbacks
    def gen(a: int) -> Generator[Any, Any, int]:
        b: int = yield succeed(2)
        c: int = yield waiting
        d = yield "not a Deferred"
        assert d == "not a Deferred"
        return a + b + c

    d = gen(1)
    assert not d.called
    waiting.callback(3)
    assert result(d) == 6


def test_inlineCallbacksPreservesMetadata() -> None:
    @inlineCallbacks
    def documented() -> Generator[Any, Any, None]:
        """The docstring."""
        yield succeed(None)

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "The docstring."


def test_inlineCallbacksReturnValue() -> None:
    @inlineCallbacks
    def gen() -> Generator[Any, Any, None]:
        yield succeed(None)
        returnValue("returned")

    assert result(gen()) == "returned"


def test_inlineCallbacksFailureThrownIn() -> None:
    @inlineCallbacks
    def gen() -> Generator[Any, Any, str]:
        try:
            yield fail(KeyError("k"))
        except KeyError:
            return "caught"
        return "not caught"

    assert result(gen()) == "caught"


def test_inlineCallbacksRaising() -> None:
    @inlineCallbacks
    def gen() -> Generator[Any, Any, None]:
        yield succeed(None)
        raise OSError("gen failed")

    f = result(gen())
    assert f.check(OSError)
    assert [frame[0] for frame in f.frames] == ["gen"]


def test_inlineCallbacksYieldingCoroutine() -> None:
    async def coro() -> int:
        return 9

    @inlineCallbacks
    def gen() -> Generator[Any, Any, int]:
        value: int = yield coro()
        return value

    assert result(gen()) == 9


def test_inlineCallbacksNotAGenerator() -> None:
    @inlineCallbacks
    def notGen() -> Any:
        return 1

    with pytest.raises(TypeError, match="generator"):
        notGen()


def test_inlineCallbacksReturnValueOutsideGenerator() -> None:
    @inlineCallbacks
    def notGen() -> Any:
        returnValue(1)

    with pytest.raises(TypeError, match="returnValue"):
        notGen()


def test_inlineCallbacksCancellation() -> None:
    waiting: Deferred[None] = Deferred()
    seen: list[str] = []

    @inlineCallbacks
    def gen() -> Generator[Any, Any, None]:
        try:
            yield waiting
        except CancelledError:
            seen.append("cancelled")
            raise

    d = gen()
    d.cancel()
    assert seen == ["cancelled"]
    assert result(d).check(CancelledError)


def test_inlineCallbacksManyFiredYields() -> None:
    @inlineCallbacks
    def gen() -> Generator[Any, Any, int]:
        total = 0
        for _ in range(100_000):
            total += yield succeed(1)
        return total

    assert result(gen()) == 100_000


# -- maybeDeferred and execute ------------------------------------------------------


def test_maybeDeferred() -> None:
    assert result(maybeDeferred(lambda x: x + 1, 1)) == 2
    d = succeed(3)
    assert maybeDeferred(lambda: d) is d
    f = Failure(KeyError())
    assert result(maybeDeferred(lambda: f)) is f

    def raises(message: str) -> None:
        raise ValueError(message)

    failure = result(maybeDeferred(raises, "m"))
    assert failure.check(ValueError)
    assert [frame[0] for frame in failure.frames] == ["raises"]

    async def coro(x: int) -> int:
        return x * 2

    assert result(maybeDeferred(coro, 4)) == 8
    assert result(maybeDeferred(dict, a=1)) == {"a": 1}


def test_execute() -> None:
    assert result(execute(lambda: 5)) == 5
    assert result(execute(int, "x")).check(ValueError)


# -- asyncio ----------------------------------------------------------------------


def test_asFuture() -> None:
    async def main() -> tuple[int, str]:
        loop = asyncio.get_running_loop()
        d: Deferred[int] = Deferred()
        loop.call_soon(d.callback, 7)
        value = await d.asFuture(loop)
        e: Deferred[int] = Deferred()
        loop.call_soon(e.errback, KeyError("async"))
        with pytest.raises(KeyError) as info:
            await e.asFuture(loop)
        return value, info.value.args[0]

    assert asyncio.run(main()) == (7, "async")


def test_asFutureCancelCancelsDeferred() -> None:
    cancelled: list[Deferred[Any]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        d: Deferred[int] = Deferred(cancelled.append)
        future = d.asFuture(loop)
        future.cancel()
        await asyncio.sleep(0)
        assert d.called
        assert d.result is None  # the failure went to the (cancelled) future

    asyncio.run(main())
    assert len(cancelled) == 1


def test_fromFuture() -> None:
    async def main() -> list[object]:
        loop = asyncio.get_running_loop()
        outcomes: list[object] = []
        future: asyncio.Future[int] = loop.create_future()
        d = Deferred.fromFuture(future)
        d.addCallback(outcomes.append)
        future.set_result(3)
        bad: asyncio.Future[int] = loop.create_future()
        Deferred.fromFuture(bad).addErrback(lambda f: outcomes.append(f.type))
        bad.set_exception(OSError())
        cancelled: asyncio.Future[int] = loop.create_future()
        Deferred.fromFuture(cancelled).addErrback(lambda f: outcomes.append(f.type))
        cancelled.cancel()
        await asyncio.sleep(0)
        return outcomes

    assert asyncio.run(main()) == [3, OSError, CancelledError]


def test_fromFutureCancel() -> None:
    async def main() -> tuple[bool, object]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        d = Deferred.fromFuture(future)
        d.cancel()
        outcome = result(d)
        await asyncio.sleep(0)
        return future.cancelled(), outcome.type

    assert asyncio.run(main()) == (True, CancelledError)


def test_fromFutureCancelAfterDone() -> None:
    async def main() -> object:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        d = Deferred.fromFuture(future)
        future.set_result(11)  # done, but its callbacks have not run yet
        d.cancel()
        return result(d)

    assert asyncio.run(main()) == 11


def test_coroutineAwaitingAsyncioFuture() -> None:
    async def task() -> str:
        await asyncio.sleep(0)
        value = await asyncio.get_running_loop().run_in_executor(None, str.upper, "thread")
        return value + "!"

    async def main() -> str:
        d = ensureDeferred(task())
        return await d.asFuture(asyncio.get_running_loop())

    assert asyncio.run(main()) == "THREAD!"


def test_coroutineMixingDeferredsAndAsyncio() -> None:
    async def task(d: Deferred[int]) -> int:
        await asyncio.sleep(0)
        return await d + 1

    async def main() -> int:
        loop = asyncio.get_running_loop()
        d: Deferred[int] = Deferred()
        loop.call_later(0, d.callback, 41)
        return await ensureDeferred(task(d)).asFuture(loop)

    assert asyncio.run(main()) == 42


def test_cancelCoroutineAwaitingAsyncioFuture() -> None:
    async def main() -> tuple[bool, object]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()

        async def task() -> int:
            return await future

        d = ensureDeferred(task())
        d.cancel()
        await asyncio.sleep(0)
        return future.cancelled(), result(d).type

    assert asyncio.run(main()) == (True, CancelledError)
