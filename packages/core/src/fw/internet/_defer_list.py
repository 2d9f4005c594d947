"""Waiting on several Deferreds: DeferredList, gatherResults and race."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeVar, overload

from fw.internet._defer_core import Deferred
from fw.internet._defer_support import _logFailure
from fw.python.failure import Failure

__all__ = [
    "FAILURE",
    "SUCCESS",
    "DeferredList",
    "FailureGroup",
    "FirstError",
    "gatherResults",
    "race",
]

_T = TypeVar("_T")
_ResultT = TypeVar("_ResultT")

#: The first item of a :class:`DeferredList` result pair.
SUCCESS = True
FAILURE = False


class FirstError(Exception):
    """The first failure among the Deferreds of a :class:`DeferredList`.

    Attributes:
        subFailure: that failure.
        index: the position of its Deferred in the list.
    """

    def __init__(self, failure: Failure, index: int) -> None:
        super().__init__(failure, index)
        self.subFailure = failure
        self.index = index

    def __repr__(self) -> str:
        return f"FirstError[#{self.index}, {self.subFailure.value!r}]"

    def __str__(self) -> str:
        return f"FirstError[#{self.index}, {self.subFailure}]"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FirstError):
            return NotImplemented
        return (self.index, self.subFailure) == (other.index, other.subFailure)

    def __hash__(self) -> int:
        return hash((self.index, id(self.subFailure)))


class FailureGroup(Exception):
    """Every Deferred given to :func:`race` failed.

    Attributes:
        failures: their failures, in the order of the Deferreds.
    """

    def __init__(self, failures: Sequence[Failure]) -> None:
        super().__init__(failures)
        self.failures = failures


class DeferredList(Deferred[_ResultT]):
    """A Deferred that fires when the Deferreds of a list have fired.

    By default it fires, once every Deferred has fired, with a list of
    ``(success, result)`` pairs in the order of the list: ``(True, value)``
    for a result, ``(False, failure)`` for a failure.  It never fails,
    unless ``fireOnOneErrback`` is set.

    Args:
        deferredList: the Deferreds.  Callbacks added to them before this
            list see their results first; those added after see what this
            list passes on (the result unchanged, or ``None`` for failures
            with ``consumeErrors``).
        fireOnOneCallback: fire with ``(result, index)`` as soon as one
            Deferred succeeds.
        fireOnOneErrback: fail with a :class:`FirstError` as soon as one
            Deferred fails.
        consumeErrors: handle the failures of the Deferreds (they pass on
            ``None``), so that they are not logged as unhandled.

    Cancelling the list, before it fires, cancels each of its Deferreds.
    """

    fireOnOneCallback: bool
    fireOnOneErrback: bool
    consumeErrors: bool
    finishedCount: int
    resultList: list[Any]

    @overload
    def __init__(
        self: DeferredList[tuple[_T, int]],
        deferredList: Iterable[Deferred[_T]],
        fireOnOneCallback: Literal[True],
        fireOnOneErrback: bool = False,
        consumeErrors: bool = False,
    ) -> None: ...

    @overload
    def __init__(
        self: DeferredList[list[tuple[bool, _T]]],
        deferredList: Iterable[Deferred[_T]],
        fireOnOneCallback: Literal[False] = False,
        fireOnOneErrback: bool = False,
        consumeErrors: bool = False,
    ) -> None: ...

    @overload
    def __init__(
        self: DeferredList[Any],
        deferredList: Iterable[Deferred[_T]],
        fireOnOneCallback: bool = False,
        fireOnOneErrback: bool = False,
        consumeErrors: bool = False,
    ) -> None: ...

    def __init__(
        self,
        deferredList: Iterable[Deferred[Any]],
        fireOnOneCallback: bool = False,
        fireOnOneErrback: bool = False,
        consumeErrors: bool = False,
    ) -> None:
        self._deferredList = list(deferredList)
        self.resultList = [None] * len(self._deferredList)
        Deferred.__init__(self)
        if not self._deferredList and not fireOnOneCallback:
            self.callback([])  # type: ignore[arg-type]
        # Set before adding callbacks: fired Deferreds call back at once.
        self.fireOnOneCallback = fireOnOneCallback
        self.fireOnOneErrback = fireOnOneErrback
        self.consumeErrors = consumeErrors
        self.finishedCount = 0
        for index, deferred in enumerate(self._deferredList):
            deferred._addInternal(self._cbDeferred, self._ebDeferred, (index,))

    def _cbDeferred(self, result: object, index: int) -> object:
        self.resultList[index] = (SUCCESS, result)
        self.finishedCount += 1
        if not self.called:
            if self.fireOnOneCallback:
                self.callback((result, index))  # type: ignore[arg-type]
            elif self.finishedCount == len(self.resultList):
                self.callback(self.resultList)  # type: ignore[arg-type]
        return result

    def _ebDeferred(self, failure: Failure, index: int) -> Failure | None:
        self.resultList[index] = (FAILURE, failure)
        self.finishedCount += 1
        if not self.called:
            if self.fireOnOneErrback:
                self.errback(Failure(FirstError(failure, index)))
            elif self.finishedCount == len(self.resultList):
                self.callback(self.resultList)  # type: ignore[arg-type]
        if self.consumeErrors:
            return None
        return failure

    def cancel(self) -> None:
        """Cancel every Deferred of the list, unless the list has fired.

        A canceller that raises is logged; the others still run.
        """
        if self.called:
            return
        for deferred in self._deferredList:
            try:
                deferred.cancel()
            except Exception:  # noqa: BLE001 - logged; the other cancellers still run
                _logFailure("Exception raised from user supplied canceller", Failure())


def _parseResults(results: list[tuple[bool, _T]]) -> list[_T]:
    return [value for _, value in results]


def gatherResults(
    deferredList: Iterable[Deferred[_T]], consumeErrors: bool = False
) -> Deferred[list[_T]]:
    """Return a Deferred of the list of the results of ``deferredList``, in order.

    It fails with a :class:`FirstError` as soon as one of them fails.
    Cancelling it cancels them all.

    Args:
        consumeErrors: as for :class:`DeferredList`.
    """
    d: DeferredList[list[tuple[bool, _T]]] = DeferredList(
        deferredList, fireOnOneErrback=True, consumeErrors=consumeErrors
    )
    d._addInternal(_parseResults, None)
    return d  # type: ignore[return-value]


def race(ds: Sequence[Deferred[_T]]) -> Deferred[tuple[int, _T]]:
    """Return a Deferred of the first success among ``ds``, as ``(index, result)``.

    When one succeeds, the others are cancelled.  If all of them fail, it
    fails with a :class:`FailureGroup` of their failures.  Cancelling it
    cancels them all.
    """
    deferreds = list(ds)
    winner: Deferred[_T] | None = None
    failures: list[tuple[int, Failure]] = []

    def cancelAll(_: Deferred[tuple[int, _T]]) -> None:
        for d in deferreds:
            d.cancel()

    final: Deferred[tuple[int, _T]] = Deferred(cancelAll)

    def succeeded(result: _T, index: int) -> None:
        nonlocal winner
        if winner is not None:
            return
        winner = deferreds[index]
        for d in deferreds:
            if d is not winner:
                d.cancel()
        final.callback((index, result))

    def failed(failure: Failure, index: int) -> None:
        failures.append((index, failure))
        if len(failures) == len(deferreds):
            failures.sort(key=lambda pair: pair[0])
            final.errback(FailureGroup([f for _, f in failures]))

    for index, d in enumerate(deferreds):
        d._addInternal(succeeded, failed, (index,))
    return final


for _public in (FirstError, FailureGroup, DeferredList):
    _public.__module__ = "fw.internet.defer"
del _public
