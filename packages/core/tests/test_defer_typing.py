"""The types mypy infers for Deferred code (checked when mypy runs on the tests).

``assert_type`` does nothing at run time; run under mypy, each is an
assertion about inference.  The tests also run, so every line is valid code.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NoReturn, assert_type

from fw.internet.defer import (
    Deferred,
    DeferredList,
    DeferredLock,
    DeferredQueue,
    DeferredSemaphore,
    ensureDeferred,
    gatherResults,
    inlineCallbacks,
    maybeDeferred,
    race,
    succeed,
)
from fw.python.failure import Failure


def test_addCallbackInfersTheNextType() -> None:
    d: Deferred[int] = succeed(1)
    assert_type(d.addCallback(lambda x: str(x)), Deferred[str])
    assert d.result == "1"


def test_addCallbackWithArguments() -> None:
    def join(x: int, sep: str, *, end: str = "") -> str:
        return f"{x}{sep}{end}"

    d = succeed(1)
    assert_type(d.addCallback(join, ",", end="."), Deferred[str])
    assert d.result == "1,."


def test_addCallbackReturningDeferredOrCoroutine() -> None:
    def later(x: int) -> Deferred[float]:
        return succeed(x / 2)

    async def asynchronous(x: float) -> list[float]:
        return [x]

    d = succeed(3)
    e = d.addCallback(later)
    assert_type(e, Deferred[float])
    f = e.addCallback(asynchronous)
    assert_type(f, Deferred[list[float]])
    assert f.result == [1.5]


def test_addCallbackReturningFailure() -> None:
    def toFailure(x: int) -> Failure:
        return Failure(ValueError(x))

    d = succeed(1).addCallback(toFailure)
    assert_type(d, Deferred[NoReturn])
    d.addErrback(lambda f: None)


def test_addErrbackWidensTheType() -> None:
    def recover(f: Failure) -> None:
        return None

    def passOn(f: Failure) -> Failure:
        return f

    d = succeed(1)
    assert_type(d.addErrback(passOn), Deferred[int])
    assert_type(d.addErrback(recover), Deferred[int | None])


def test_addBoth() -> None:
    def describe(r: int | Failure) -> str:
        return "failure" if isinstance(r, Failure) else "value"

    d = succeed(1)
    assert_type(d.addBoth(describe), Deferred[str])
    assert d.result == "value"


def test_collections() -> None:
    a: Deferred[int] = succeed(1)
    b: Deferred[int] = succeed(2)
    assert_type(DeferredList([a, b]), DeferredList[list[tuple[bool, int]]])
    c: Deferred[int] = succeed(3)
    assert_type(DeferredList([c], fireOnOneCallback=True), DeferredList[tuple[int, int]])
    assert_type(gatherResults([succeed(1), succeed(2)]), Deferred[list[int]])
    assert_type(race([succeed("x")]), Deferred[tuple[int, str]])


def test_coroutinesAndGenerators() -> None:
    async def coro() -> int:
        value = await succeed(1)
        assert_type(value, int)
        return value

    assert_type(ensureDeferred(coro()), Deferred[int])
    assert_type(Deferred.fromCoroutine(coro()), Deferred[int])

    @inlineCallbacks
    def gen(x: int) -> Generator[Deferred[Any], Any, str]:
        y = yield succeed(x)
        return str(y)

    assert_type(gen(1), Deferred[str])
    assert gen(4).result == "4"


def test_maybeDeferred() -> None:
    def plain(x: int) -> str:
        return str(x)

    def deferred(x: int) -> Deferred[bytes]:
        return succeed(b"")

    async def coro(x: int) -> float:
        return 1.0

    assert_type(maybeDeferred(plain, 1), Deferred[str])
    assert_type(maybeDeferred(deferred, 1), Deferred[bytes])
    assert_type(maybeDeferred(coro, 1), Deferred[float])


def test_primitives() -> None:
    lock = DeferredLock()
    assert_type(lock.acquire(), Deferred[DeferredLock])
    lock.release()
    semaphore = DeferredSemaphore(1)
    assert_type(semaphore.run(len, "abc"), Deferred[int])
    queue: DeferredQueue[str] = DeferredQueue()
    assert_type(queue.get(), Deferred[str])


def test_addTimeout() -> None:
    from fw.internet.task import Clock

    def onTimeout(result: int | Failure, timeout: float) -> str:
        return "timed out"

    d: Deferred[int] = Deferred()
    assert_type(d.addTimeout(1, Clock()), Deferred[int])
    e: Deferred[int] = Deferred()
    assert_type(e.addTimeout(1, Clock(), onTimeout), Deferred[int | str])
