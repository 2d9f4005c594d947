"""Deferred semantics: the chain against a synchronous model, context variables, coroutines."""

from __future__ import annotations

import contextvars
import gc
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fw.internet.defer import Deferred, ensureDeferred, fail, inlineCallbacks, succeed
from fw.logger import capturedLogs
from fw.python.failure import Failure


class ModelError(Exception):
    """The only error the random chains raise."""


SIDES = ("callback", "errback", "both")
ACTIONS = ("value", "raise", "failure", "fired", "firedFailure", "unfired", "unfiredFailure")

steps = st.lists(
    st.tuples(st.sampled_from(SIDES), st.sampled_from(ACTIONS), st.integers(-5, 5)),
    max_size=12,
)


def _outcome(action: str, incoming: object, k: int) -> tuple[bool, object]:
    """What a step does to its input, as (succeeded, value-or-error-argument)."""
    base = incoming if isinstance(incoming, int) else 100
    if action in ("value", "fired", "unfired"):
        return True, base + k
    return False, base * 10 + k


def _model(initial: tuple[bool, int], chain: list[tuple[str, str, int]]) -> tuple[bool, object]:
    """The same steps, composed synchronously with try/except."""
    ok: bool = initial[0]
    value: object = initial[1]
    for side, action, k in chain:
        runs = side == "both" or (side == "callback") == ok
        if not runs:
            continue
        incoming: object = value if ok else ("error", value)
        ok, value = _outcome(action, incoming, k)
    return ok, value


def _step(action: str, k: int, pending: list[tuple[Deferred[Any], bool, object]]) -> Any:
    def step(incoming: object) -> object:
        argument: object = incoming
        if isinstance(incoming, Failure):
            assert incoming.check(ModelError)
            argument = ("error", incoming.value.args[0])
        ok, value = _outcome(action, argument, k)
        if action == "value":
            return value
        if action == "raise":
            raise ModelError(value)
        if action == "failure":
            return Failure(ModelError(value))
        if action == "fired":
            return succeed(value)
        if action == "firedFailure":
            return fail(ModelError(value))
        d: Deferred[object] = Deferred()
        pending.append((d, ok, value))
        return d

    return step


@settings(max_examples=300, deadline=None)
@given(
    initialOk=st.booleans(),
    initialValue=st.integers(-5, 5),
    chain=steps,
    fireAt=st.integers(0, 12),
)
def test_chainBehavesLikeSynchronousComposition(
    initialOk: bool, initialValue: int, chain: list[tuple[str, str, int]], fireAt: int
) -> None:
    pending: list[tuple[Deferred[Any], bool, object]] = []
    d: Deferred[Any] = Deferred()

    def fire() -> None:
        if initialOk:
            d.callback(initialValue)
        else:
            d.errback(ModelError(initialValue))

    for index, (side, action, k) in enumerate(chain):
        if index == fireAt:
            fire()
        step = _step(action, k, pending)
        if side == "callback":
            d.addCallback(step)
        elif side == "errback":
            d.addErrback(step)
        else:
            d.addBoth(step)
    if fireAt >= len(chain):
        fire()
    # Fire the Deferreds the chain waits on, one at a time, as they appear.
    while pending:
        waitedOn, ok, value = pending.pop(0)
        if ok:
            waitedOn.callback(value)
        else:
            waitedOn.errback(ModelError(value))

    expectedOk, expectedValue = _model((initialOk, initialValue), chain)
    result = d.result
    if expectedOk:
        assert result == expectedValue
    else:
        assert isinstance(result, Failure)
        assert result.check(ModelError)
        assert result.value.args == (expectedValue,)
        d.addErrback(lambda _: None)


# -- context variables ------------------------------------------------------

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


def test_callbackSeesContextOfAddCallback() -> None:
    d: Deferred[None] = Deferred()
    seen: list[str] = []

    def add() -> None:
        var.set("at add time")
        d.addCallback(lambda _: seen.append(var.get()))

    contextvars.copy_context().run(add)
    var.set("at fire time")
    try:
        d.callback(None)
    finally:
        var.set("unset")
    assert seen == ["at add time"]


def test_callbackChangesStayInsideIt() -> None:
    d: Deferred[None] = Deferred()
    seen: list[str] = []

    def setter(_: object) -> None:
        var.set("set by callback")

    d.addCallback(setter)
    d.addCallback(lambda _: seen.append(var.get()))
    d.callback(None)
    assert seen == ["unset"]
    assert var.get() == "unset"


def test_errbackSeesContextOfAddErrback() -> None:
    d: Deferred[None] = Deferred()
    seen: list[str] = []

    def add() -> None:
        var.set("errback context")
        d.addErrback(lambda _: seen.append(var.get()))
        d.addBoth(lambda _: seen.append(var.get()))

    contextvars.copy_context().run(add)
    d.errback(ValueError())
    assert seen == ["errback context", "errback context"]


def test_addCallbacksContext() -> None:
    seen: list[str] = []

    def add() -> None:
        var.set("pair")
        d = succeed(1)
        d.addCallbacks(lambda _: seen.append(var.get()), lambda _: None)

    contextvars.copy_context().run(add)
    assert seen == ["pair"]


def test_coroutineKeepsOneContextAcrossAwaits() -> None:
    waiting: Deferred[None] = Deferred()
    seen: list[str] = []

    async def task() -> None:
        token = var.set("inside coroutine")
        await waiting
        seen.append(var.get())
        var.reset(token)  # the same context: reset works
        seen.append(var.get())

    var.set("caller")
    try:
        d = ensureDeferred(task())
        assert var.get() == "caller"
        var.set("firing")
        waiting.callback(None)
    finally:
        var.set("unset")
    assert seen == ["inside coroutine", "caller"]
    assert d.result is None


def test_coroutineStartsWithCallersContext() -> None:
    seen: list[str] = []

    async def task() -> None:
        seen.append(var.get())

    var.set("caller")
    try:
        ensureDeferred(task())
    finally:
        var.set("unset")
    assert seen == ["caller"]


def test_inlineCallbacksKeepsOneContext() -> None:
    waiting: Deferred[None] = Deferred()
    seen: list[str] = []

    @inlineCallbacks
    def gen() -> Any:
        var.set("generator")
        yield waiting
        seen.append(var.get())

    gen()
    waiting.callback(None)
    assert seen == ["generator"]
    assert var.get() == "unset"


# -- callbacks that are coroutine functions ------------------------------------


def test_coroutineCallbackIsAwaited() -> None:
    inner: Deferred[int] = Deferred()

    async def cb(x: int) -> int:
        y = await inner
        return x + y

    d = succeed(1)
    d.addCallback(cb)
    d.addCallback(lambda r: r * 2)
    assert d.paused == 1
    inner.callback(2)
    assert d.result == 6


def test_coroutineCallbackFinishingAtOnce() -> None:
    async def cb(x: int) -> int:
        return x + 1

    d = succeed(1).addCallback(cb)
    assert d.result == 2


def test_coroutineErrbackRaising() -> None:
    async def eb(f: Failure) -> None:
        raise KeyError("from async errback")

    d = fail(ValueError()).addErrback(eb)
    result = d.result
    assert isinstance(result, Failure)
    assert result.check(KeyError)
    d.addErrback(lambda _: None)


def test_cancelWaitingOnCoroutineCallback() -> None:
    inner: Deferred[int] = Deferred()
    seen: list[str] = []

    async def cb(x: int) -> int:
        try:
            return await inner
        except BaseException as e:
            seen.append(type(e).__name__)
            raise

    d = succeed(1).addCallback(cb)
    d.cancel()
    assert seen == ["CancelledError"]
    assert isinstance(d.result, Failure)
    d.addErrback(lambda _: None)


# -- memory ------------------------------------------------------------------


def test_handledChainLeavesNoGarbage() -> None:
    def make(n: int) -> Callable[[], None]:
        def run() -> None:
            inner: Deferred[int] = Deferred()
            outer = succeed(n).addCallback(lambda _: inner)
            outer.addCallback(lambda r: r + 1)
            inner.callback(n)

        return run

    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        for n in range(100):
            make(n)()
        after = len(gc.get_objects())
    finally:
        gc.enable()
    assert after - before < 50


def test_noLogForConsumedAwaitFailure() -> None:
    async def task() -> str:
        try:
            await fail(ValueError())
        except ValueError:
            return "caught"
        return "not caught"

    with capturedLogs() as events:
        d = ensureDeferred(task())
        assert d.result == "caught"
        del d
        gc.collect()
    assert [e for e in events if e.get("log_namespace") == "fw.internet.defer"] == []
