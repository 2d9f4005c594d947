"""Tests for fw.python.context: dynamic context on contextvars."""

from __future__ import annotations

import asyncio
import threading

import pytest

from fw.python import context


def test_call_and_get() -> None:
    assert context.get("user") is None
    assert context.get("user", "nobody") == "nobody"

    def handler(a: int, *, b: int) -> tuple[object, int]:
        return context.get("user"), a + b

    assert context.call({"user": "alice"}, handler, 1, b=2) == ("alice", 3)
    assert context.get("user") is None


def test_nesting_and_overriding() -> None:
    seen = []

    def inner() -> None:
        seen.append((context.get("user"), context.get("request")))

    def outer() -> None:
        context.call({"request": 2}, inner)
        context.call({"user": "bob"}, inner)
        inner()

    context.call({"user": "alice", "request": 1}, outer)
    assert seen == [("alice", 2), ("bob", 1), ("alice", 1)]


def test_restored_after_exception() -> None:
    def fail() -> None:
        assert context.get("k") == "v"
        raise ValueError("x")

    with pytest.raises(ValueError, match="x"):
        context.call({"k": "v"}, fail)
    assert context.get("k") is None


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(context.defaultContextDict, "colour", "blue")
    assert context.get("colour") == "blue"
    assert context.call({"colour": "red"}, context.get, "colour") == "red"
    context.setDefault("shape", "round")
    try:
        assert context.call({}, context.get, "shape") == "round"
    finally:
        del context.defaultContextDict["shape"]
    assert context.get("shape") is None


def test_context_values_may_be_none() -> None:
    assert context.call({"k": None}, context.get, "k", "default") is None


def test_threads_are_separate() -> None:
    started = threading.Event()
    release = threading.Event()
    seen = []

    def other() -> None:
        seen.append(context.get("who"))
        started.set()
        release.wait(5)

    def main() -> None:
        thread = threading.Thread(target=context.call, args=({"who": "thread"}, other))
        thread.start()
        started.wait(5)
        seen.append(context.get("who"))
        release.set()
        thread.join()

    context.call({"who": "main"}, main)
    assert seen == ["thread", "main"]


def test_asyncio_tasks_are_separate() -> None:
    async def task(name: str, gate: asyncio.Event, seen: list[tuple[str, object]]) -> None:
        def body() -> None:
            seen.append((name, context.get("task")))

        context.call({"task": name}, body)
        await gate.wait()
        seen.append((name, context.get("task")))

    async def main() -> list[tuple[str, object]]:
        seen: list[tuple[str, object]] = []
        gate = asyncio.Event()
        tasks = [asyncio.create_task(task(n, gate, seen)) for n in ("a", "b")]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*tasks)
        return seen

    assert asyncio.run(main()) == [("a", "a"), ("b", "b"), ("a", None), ("b", None)]


def test_trackers_are_independent() -> None:
    tracker = context.ContextTracker()
    assert tracker.callWithContext({"k": 1}, context.get, "k") is None
    assert context.call({"k": 2}, tracker.getContext, "k") is None
    assert tracker.callWithContext({"k": 1}, tracker.getContext, "k") == 1
    assert context.ThreadedContextTracker is context.ContextTracker
    assert isinstance(context.theContextTracker, context.ContextTracker)
