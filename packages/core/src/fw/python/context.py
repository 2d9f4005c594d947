"""Dynamic context: values visible to everything a call makes, without passing them.

``call({"user": alice}, handle, request)`` runs ``handle(request)``; while it
runs, ``get("user")`` anywhere below it returns ``alice``.  Contexts nest
(an inner ``call`` sees the outer values it does not override) and, being
built on :mod:`contextvars`, are separate in each thread and each asyncio
task.  A context covers the synchronous run of the function only: a
coroutine function's body runs later, outside it.

Keys are any hashable objects; fw uses interfaces (``ILogContext``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "ContextTracker",
    "ThreadedContextTracker",
    "call",
    "defaultContextDict",
    "get",
    "setDefault",
    "theContextTracker",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_EMPTY: Mapping[object, object] = MappingProxyType({})

#: The values every context starts from; change with :func:`setDefault`.
defaultContextDict: dict[object, object] = {}


def setDefault(key: object, value: object) -> None:
    """Set the value of ``key`` in contexts that do not set it themselves."""
    defaultContextDict[key] = value


class ContextTracker:
    """A stack of contexts, one per thread and asyncio task.

    Each tracker is independent of the others; the module's :func:`call`
    and :func:`get` use :data:`theContextTracker`.  Values missing from every
    active context come from :data:`defaultContextDict`.
    """

    def __init__(self) -> None:
        self._current: ContextVar[Mapping[object, object]] = ContextVar(
            f"fw.python.context.{id(self):x}", default=_EMPTY
        )

    def callWithContext(
        self,
        newContext: Mapping[object, object],
        func: Callable[_P, _T],
        /,
        *args: _P.args,
        **kw: _P.kwargs,
    ) -> _T:
        """Call ``func(*args, **kw)`` with ``newContext``'s values added to the context.

        Returns:
            what ``func`` returns (its exceptions propagate).
        """
        current = self._current
        merged = {**current.get(), **newContext}
        token = current.set(merged)
        try:
            return func(*args, **kw)
        finally:
            current.reset(token)

    def getContext(self, key: object, default: Any = None) -> Any:
        """Return the value of ``key`` in the current context, or ``default``."""
        context = self._current.get()
        if key in context:
            return context[key]
        return defaultContextDict.get(key, default)


#: Kept for code written for Twisted: every tracker is safe across threads.
ThreadedContextTracker = ContextTracker

#: The tracker of :func:`call` and :func:`get`.
theContextTracker = ContextTracker()


def call(
    newContext: Mapping[object, object],
    func: Callable[_P, _T],
    /,
    *args: _P.args,
    **kw: _P.kwargs,
) -> _T:
    """Call ``func(*args, **kw)`` with ``newContext``'s values added to the context.

    Returns:
        what ``func`` returns (its exceptions propagate).
    """
    return theContextTracker.callWithContext(newContext, func, *args, **kw)


def get(key: object, default: Any = None) -> Any:
    """Return the value of ``key`` in the current context, or ``default``."""
    return theContextTracker.getContext(key, default)
