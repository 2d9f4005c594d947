"""Filtering observers: pass on only the events predicates accept."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Final

from zope.interface import Interface, implementer

from fw.logger._interfaces import ILogObserver, LogEvent, LogTrace, ObserverCallable
from fw.logger._levels import InvalidLogLevelError, LogLevel

__all__ = [
    "FilteringLogObserver",
    "ILogFilterPredicate",
    "LogLevelFilterPredicate",
    "PredicateResult",
    "shouldLogEvent",
]


class PredicateResult(Enum):
    """What a filter predicate says about an event.

    The answers:

    - ``yes``: log it, whatever the later predicates say.
    - ``no``: drop it, whatever the later predicates say.
    - ``maybe``: no opinion; ask the next predicate (an event that every
      predicate answers ``maybe`` is logged).
    """

    yes = "yes"
    no = "no"
    maybe = "maybe"

    def __repr__(self) -> str:
        return f"<PredicateResult={self.name}>"


class ILogFilterPredicate(Interface):
    """Decides whether an event should be logged."""

    def __call__(event: LogEvent) -> PredicateResult:
        """Return the verdict on ``event``."""


PredicateCallable = Callable[[LogEvent], PredicateResult]

# Namespaces whose level is remembered; programs use a few hundred at most, and
# the bound keeps a stream of made-up namespaces from growing the cache forever.
_MAX_CACHED_NAMESPACES: Final = 4096


def shouldLogEvent(predicates: Iterable[PredicateCallable], event: LogEvent) -> bool:
    """Apply ``predicates`` in order; the first ``yes`` or ``no`` decides.

    Raises:
        TypeError: a predicate returned something other than a
            :class:`PredicateResult`.
    """
    for predicate in predicates:
        result = predicate(event)
        if result is PredicateResult.yes:
            return True
        if result is PredicateResult.no:
            return False
        if result is not PredicateResult.maybe:
            raise TypeError(f"Invalid predicate result: {result!r}")
    return True


def _discard(event: LogEvent) -> None:
    return None


@implementer(ILogObserver)
class FilteringLogObserver:
    """Passes events that the predicates accept to one observer, the others to another.

    Args:
        observer: receives the accepted events.
        predicates: applied in order (see :class:`PredicateResult`).
        negativeObserver: receives the refused events; by default they are
            dropped.
    """

    def __init__(
        self,
        observer: ObserverCallable,
        predicates: Iterable[PredicateCallable],
        negativeObserver: ObserverCallable = _discard,
    ) -> None:
        self._observer = observer
        self._predicates = tuple(predicates)
        self._negativeObserver = negativeObserver

    def __call__(self, event: LogEvent) -> None:
        """Pass ``event`` to the observer or to the negative observer."""
        if shouldLogEvent(self._predicates, event):
            if "log_trace" in event:
                trace: LogTrace = event["log_trace"]
                trace.append((self, self._observer))
            self._observer(event)
        else:
            self._negativeObserver(event)


@implementer(ILogFilterPredicate)
class LogLevelFilterPredicate:
    """Refuses events below the level set for their namespace.

    Levels are set per namespace, and a namespace without a level of its own
    takes its parent's (``"a.b.c"``, then ``"a.b"``, then ``"a"``), then
    :attr:`defaultLogLevel`.  Events without a level are refused; the
    accepted ones get ``maybe``, so later predicates still have a say.

    Args:
        defaultLogLevel: the level of namespaces with no level of their own.
    """

    def __init__(self, defaultLogLevel: LogLevel = LogLevel.info) -> None:
        self._levels: dict[str, LogLevel] = {}
        self._cache: dict[str | None, LogLevel] = {}
        self.defaultLogLevel = defaultLogLevel

    @property
    def defaultLogLevel(self) -> LogLevel:
        """The level of namespaces with no level set, directly or by a parent."""
        return self._levels[""]

    @defaultLogLevel.setter
    def defaultLogLevel(self, level: LogLevel) -> None:
        self.setLogLevelForNamespace("", level)

    def logLevelForNamespace(self, namespace: str | None) -> LogLevel:
        """Return the lowest level that events of ``namespace`` are logged at."""
        level = self._cache.get(namespace)
        if level is not None:
            return level
        level = self._levels[""]
        if namespace:
            name = namespace
            while True:
                found = self._levels.get(name)
                if found is not None:
                    level = found
                    break
                dot = name.rfind(".")
                if dot < 0:
                    break
                name = name[:dot]
        if len(self._cache) >= _MAX_CACHED_NAMESPACES:
            self._cache.clear()
        self._cache[namespace] = level
        return level

    def setLogLevelForNamespace(self, namespace: str, level: LogLevel) -> None:
        """Log the events of ``namespace`` and its children at ``level`` and above.

        ``""`` sets the default level.

        Raises:
            InvalidLogLevelError: ``level`` is not a :class:`LogLevel`.
        """
        if not isinstance(level, LogLevel):
            raise InvalidLogLevelError(level)
        self._levels[namespace] = level
        self._cache.clear()

    def clearLogLevels(self) -> None:
        """Forget every namespace's level; the default level stays."""
        default = self._levels[""]
        self._levels = {"": default}
        self._cache.clear()

    def __call__(self, event: LogEvent) -> PredicateResult:
        level = event.get("log_level")
        if not isinstance(level, LogLevel):
            return PredicateResult.no
        namespace = event.get("log_namespace")
        if level < self.logLevelForNamespace(namespace if isinstance(namespace, str) else None):
            return PredicateResult.no
        return PredicateResult.maybe
