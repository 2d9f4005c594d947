"""
Running a program and getting its output or exit code as a Deferred; running
code with some warnings silenced.
"""

from __future__ import annotations

import functools
import inspect
import io
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar, cast

from fw.internet.defer import Deferred
from fw.internet.protocol import ProcessProtocol
from fw.python.failure import Failure

__all__ = [
    "ProcessSignalled",
    "getProcessOutput",
    "getProcessOutputAndValue",
    "getProcessValue",
    "runWithWarningsSuppressed",
    "suppressWarnings",
]

_StrOrBytes = str | bytes
_Env = Mapping[Any, Any] | None
_P = ParamSpec("_P")
_T = TypeVar("_T")

# Twisted's default: the child gets an empty environment (None: a copy of ours).
_NO_ENVIRONMENT: Mapping[str, str] = MappingProxyType({})


def _spawnWithDeferred(
    protocol: ProcessProtocol,
    deferred: Deferred[Any],
    executable: _StrOrBytes,
    args: Sequence[_StrOrBytes],
    env: _Env,
    path: _StrOrBytes | None,
    reactor: Any,
) -> None:
    if reactor is None:
        from fw.internet import reactor as globalReactor

        reactor = globalReactor
    try:
        reactor.spawnProcess(protocol, executable, (executable, *args), env, path)
    except Exception:  # noqa: BLE001 - a failure to start is the Deferred's failure
        deferred.errback(Failure())


class _UnexpectedErrorOutput(IOError):
    """
    The program wrote to its standard error, and ``errortoo`` was false.

    Attributes:
        processEnded: fires (with a failure: the exit's reason) once the
            process has ended.
    """

    def __init__(self, text: bytes, processEnded: Deferred[Any]) -> None:
        super().__init__(f"got stderr: {text!r}")
        self.processEnded = processEnded


class ProcessSignalled(Exception):
    """
    A program run by :func:`getProcessOutputAndValue` was killed by a signal.

    It unpacks like the ``(out, err, signalNumber)`` tuple Twisted fails
    with: ``out, err, signum = failure.value``.

    Attributes:
        out: what it wrote to standard output.
        err: what it wrote to standard error.
        signal: the signal's number.
    """

    def __init__(self, out: bytes, err: bytes, signal: int) -> None:
        super().__init__(out, err, signal)
        self.out = out
        self.err = err
        self.signal = signal

    def __iter__(self) -> Any:
        return iter((self.out, self.err, self.signal))

    def __getitem__(self, index: int) -> Any:
        return (self.out, self.err, self.signal)[index]

    def __len__(self) -> int:
        return 3


class _BackRelay(ProcessProtocol):
    """Collects standard output (and error, with ``errortoo``) for a Deferred."""

    def __init__(self, deferred: Deferred[bytes], errortoo: bool = False) -> None:
        self.deferred: Deferred[bytes] | None = deferred
        self.onProcessEnded: Deferred[Any] | None = None
        self.errortoo = errortoo
        self.buffer = io.BytesIO()

    def outReceived(self, data: bytes) -> None:
        self.buffer.write(data)

    def errReceived(self, data: bytes) -> None:
        if self.errortoo:
            self.buffer.write(data)
            return
        deferred, self.deferred = self.deferred, None
        if deferred is not None:
            self.onProcessEnded = Deferred()
            deferred.errback(Failure(_UnexpectedErrorOutput(data, self.onProcessEnded)))
            if self.transport is not None:
                self.transport.loseConnection()

    def processEnded(self, reason: Failure) -> None:
        if self.deferred is not None:
            self.deferred.callback(self.buffer.getvalue())
        elif self.onProcessEnded is not None:
            self.onProcessEnded.errback(reason)


class _ValueGetter(ProcessProtocol):
    """Fires a Deferred with the exit code."""

    def __init__(self, deferred: Deferred[int | None]) -> None:
        self.deferred = deferred

    def processEnded(self, reason: Failure) -> None:
        self.deferred.callback(getattr(reason.value, "exitCode", None))


class _EverythingGetter(ProcessProtocol):
    """Feeds standard input, collects both outputs and the exit code."""

    def __init__(
        self, deferred: Deferred[tuple[bytes, bytes, int | None]], stdinBytes: bytes | None
    ) -> None:
        self.deferred = deferred
        self.stdinBytes = stdinBytes
        self.out = io.BytesIO()
        self.err = io.BytesIO()

    def connectionMade(self) -> None:
        if self.stdinBytes is not None and self.transport is not None:
            self.transport.writeToChild(0, self.stdinBytes)
            self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        self.out.write(data)

    def errReceived(self, data: bytes) -> None:
        self.err.write(data)

    def processEnded(self, reason: Failure) -> None:
        out, err = self.out.getvalue(), self.err.getvalue()
        signum = getattr(reason.value, "signal", None)
        if signum:
            self.deferred.errback(Failure(ProcessSignalled(out, err, signum)))
        else:
            self.deferred.callback((out, err, getattr(reason.value, "exitCode", None)))


def getProcessOutput(
    executable: _StrOrBytes,
    args: Sequence[_StrOrBytes] = (),
    env: _Env = _NO_ENVIRONMENT,
    path: _StrOrBytes | None = None,
    reactor: Any = None,
    errortoo: bool = False,
) -> Deferred[bytes]:
    """
    Run a program and get what it writes to its standard output.

    Args:
        executable: the program (a path, or a name looked up in ``PATH``).
        args: its arguments, *without* the program's name.
        env: its environment: empty by default, ``None`` for ours.
        path: its working directory.
        reactor: the reactor; the global one by default.
        errortoo: also collect its standard error, in the same result.

    Returns:
        A Deferred firing with the output once the process has ended (whatever
        its exit code).  Without ``errortoo``, the first write to standard
        error fails it at once with an ``IOError`` whose ``processEnded``
        Deferred fires when the process has ended, and closes the pipes.  A
        program that cannot be started fails it with the ``OSError``.
    """
    d: Deferred[bytes] = Deferred()
    _spawnWithDeferred(_BackRelay(d, errortoo), d, executable, args, env, path, reactor)
    return d


def getProcessValue(
    executable: _StrOrBytes,
    args: Sequence[_StrOrBytes] = (),
    env: _Env = _NO_ENVIRONMENT,
    path: _StrOrBytes | None = None,
    reactor: Any = None,
) -> Deferred[int | None]:
    """
    Run a program and get its exit code (``None`` when a signal killed it).

    The arguments are those of :func:`getProcessOutput`.
    """
    d: Deferred[int | None] = Deferred()
    _spawnWithDeferred(_ValueGetter(d), d, executable, args, env, path, reactor)
    return d


def getProcessOutputAndValue(
    executable: _StrOrBytes,
    args: Sequence[_StrOrBytes] = (),
    env: _Env = _NO_ENVIRONMENT,
    path: _StrOrBytes | None = None,
    reactor: Any = None,
    stdinBytes: bytes | None = None,
) -> Deferred[tuple[bytes, bytes, int | None]]:
    """
    Run a program and get ``(stdout, stderr, exitCode)``.

    Args:
        stdinBytes: written to its standard input, which is then closed.

    The other arguments are those of :func:`getProcessOutput`.

    Returns:
        A Deferred firing with the three once the process has ended; it
        fails with :class:`ProcessSignalled` (``out, err, signum``) when a
        signal killed the program.
    """
    d: Deferred[tuple[bytes, bytes, int | None]] = Deferred()
    _spawnWithDeferred(_EverythingGetter(d, stdinBytes), d, executable, args, env, path, reactor)
    return d


# -- warnings ----------------------------------------------------------------


def _filtersChanged() -> None:
    # The warnings module caches decisions per filter version; removing
    # filters by hand must bump it, or warnings seen while suppressed stay so.
    mutated = getattr(warnings, "_filters_mutated", None)
    if mutated is None:
        mutated = getattr(warnings, "_filters_mutated_lock_held", None)
    if mutated is not None:
        mutated()


class _AddedFilters:
    """
    The filters one call added, and those they displaced: ``filterwarnings``
    drops an existing identical filter before putting the new one first, and
    that one must come back afterwards.
    """

    def __init__(self, before: list[Any]) -> None:
        now = {id(entry) for entry in warnings.filters}
        known = {id(entry) for entry in before}
        self.added = [entry for entry in warnings.filters if id(entry) not in known]
        self.displaced = [(i, e) for i, e in enumerate(before) if id(e) not in now]

    def remove(self) -> None:
        filters = cast(list[Any], warnings.filters)
        for entry in self.added:
            for i, existing in enumerate(filters):
                if existing is entry:
                    del filters[i]
                    break
        for index, entry in self.displaced:
            filters.insert(min(index, len(filters)), entry)
        _filtersChanged()


def _resetFilters(result: _T, added: _AddedFilters) -> _T:
    added.remove()
    return result


def runWithWarningsSuppressed(
    suppressedWarnings: Iterable[tuple[Sequence[Any], Mapping[str, Any]]],
    f: Callable[_P, _T],
    /,
    *a: _P.args,
    **kw: _P.kwargs,
) -> _T:
    """
    Call ``f(*a, **kw)`` with some warnings filtered out.

    Args:
        suppressedWarnings: ``(args, kwargs)`` pairs for
            :func:`warnings.filterwarnings`, such as
            ``(("ignore",), {"category": DeprecationWarning})``.
        f: the callable.

    Returns:
        What ``f`` returns.  When that is a Deferred the filters stay until it
        fires; a coroutine is run as a Deferred (``Deferred.fromCoroutine``),
        which is returned instead, with the filters in place until it is done.

    The filters are process-wide: other code running meanwhile (threads, or
    other Deferreds' callbacks) sees them too.
    """
    before = list(warnings.filters)
    for args, kwargs in suppressedWarnings:
        warnings.filterwarnings(*args, **kwargs)
    added = _AddedFilters(before)
    try:
        result: Any = f(*a, **kw)
    except BaseException:
        added.remove()
        raise
    if inspect.iscoroutine(result):
        result = Deferred.fromCoroutine(result)
    if isinstance(result, Deferred):
        return result.addBoth(_resetFilters, added)  # type: ignore[return-value]
    added.remove()
    return result  # type: ignore[no-any-return]


def suppressWarnings(
    f: Callable[_P, _T], *suppressedWarnings: tuple[Sequence[Any], Mapping[str, Any]]
) -> Callable[_P, _T]:
    """
    Wrap ``f`` so that each call runs with ``suppressedWarnings`` filtered
    out, as :func:`runWithWarningsSuppressed` does.
    """

    @functools.wraps(f)
    def warningSuppressingWrapper(*a: _P.args, **kw: _P.kwargs) -> _T:
        return runWithWarningsSuppressed(suppressedWarnings, f, *a, **kw)

    return warningSuppressingWrapper
