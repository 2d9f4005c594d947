"""Implementation of :mod:`fw.python.failure`: an exception, packaged to travel.

A :class:`Failure` holds an exception together with enough of its traceback
to report it later, somewhere else: in an errback, in a log event, or on the
other side of a Perspective Broker connection.  Creating one is cheap (it
keeps the traceback object and does nothing more); the frame summaries
(:attr:`Failure.frames`) are computed on first use, and :meth:`Failure.cleanFailure`
swaps the live traceback for those summaries so that no frame, and no local
variable of one, is kept alive by a stored failure.
"""

from __future__ import annotations

import builtins
import copyreg
import importlib
import itertools
import linecache
import sys
from collections.abc import Callable, Iterator, Sequence
from io import StringIO
from types import TracebackType
from typing import Any, NoReturn, Protocol, TypeVar, cast

from fw.python.reflect import qual, safe_repr, safe_str

__all__ = [
    "DefaultException",
    "Failure",
    "FrameInfo",
    "NoCurrentExceptionError",
    "startDebugMode",
]

#: One frame of a failure's traceback, outermost first:
#: ``(functionName, fileName, lineNumber, localsItems, globalsItems)``.  The
#: two sequences of ``(name, value)`` pairs are empty unless the failure was
#: created with ``captureVars=True``; once the failure is cleaned or pickled
#: the values are ``repr`` strings.
FrameInfo = tuple[str, str, int, Sequence[tuple[str, object]], Sequence[tuple[str, object]]]

_ErrorT = TypeVar("_ErrorT", bound="type[BaseException] | str")

# ``cls.__new__(cls)``, which every pickle protocol knows how to name.
_newobj: Callable[..., Any] = copyreg.__newobj__  # type: ignore[attr-defined]

_DETAILS = ("default", "brief", "verbose")

# Every failure gets a serial number, shown by the verbose traceback.
_counter = itertools.count(1)


class NoCurrentExceptionError(Exception):
    """:class:`Failure` was called with no exception, outside an ``except`` block."""


class DefaultException(Exception):
    """Stands for a non-exception object given to :class:`Failure` as its error."""


class _Writable(Protocol):
    def write(self, data: str, /) -> object: ...


class _Throwable(Protocol):
    """A generator or a coroutine: something an exception can be thrown into."""

    def throw(self, value: BaseException, /) -> Any: ...


class Failure(BaseException):
    """An exception and its traceback, as a value that can be passed around.

    ``Failure()`` inside an ``except`` block wraps the exception being handled;
    ``Failure(exc)`` wraps ``exc`` (and its ``__traceback__``, if it was raised).
    ``Failure(otherFailure)`` makes a copy of ``otherFailure``.

    Attributes:
        type: the class of the exception.
        value: the exception.
        tb: the traceback, or ``None`` once the failure is cleaned or pickled
            (or if the exception was never raised).
        count: the serial number of this failure in this process.
        captureVars: whether the local and global variables of each frame
            were captured, for :meth:`printDetailedTraceback`.
        pickled: true when this failure was rebuilt from a pickle or state.

    Args:
        exc_value: the exception; by default, the one being handled.
        exc_type: the exception's class; by default ``type(exc_value)``.
        exc_tb: the traceback; by default ``exc_value.__traceback__``.
        captureVars: capture the variables of each frame (slow; for debugging).

    Raises:
        NoCurrentExceptionError: no ``exc_value`` was given and no exception
            is being handled.
    """

    # Class-level defaults: instances only pay for what they set.
    pickled: int = 0
    captureVars: bool = False
    _parents: list[str] | None = None
    _frames: list[FrameInfo] | None = None
    _tracebackText: str | None = None
    _varsAreReprs: bool = False

    type: builtins.type[BaseException]
    value: BaseException
    tb: TracebackType | None
    count: int

    def __init__(
        self,
        exc_value: BaseException | None = None,
        exc_type: builtins.type[BaseException] | None = None,
        exc_tb: TracebackType | None = None,
        captureVars: bool = False,
    ) -> None:
        self.count = next(_counter)
        if exc_value is None:
            excType, excValue, tb = sys.exc_info()
            if excValue is None or excType is None:
                raise NoCurrentExceptionError()
            if excType is Failure:
                self._copyFrom(cast(Failure, excValue))
                return
            self.type = excType
            self.value = excValue
            self.tb = tb
        else:
            if isinstance(exc_value, Failure):
                self._copyFrom(exc_value)
                return
            given: object = exc_value
            if not isinstance(given, BaseException):
                # Accept, at run time, what the annotation refuses.
                exc_value = DefaultException(given)
                exc_type = None
            self.value = exc_value
            self.type = exc_value.__class__ if exc_type is None else exc_type
            self.tb = exc_tb if exc_tb is not None else exc_value.__traceback__
        if captureVars:
            # Local variables change as frames keep running: take them now.
            self.captureVars = True
            self._frames = self._summarise()

    def _copyFrom(self, other: Failure) -> None:
        """Become a copy of ``other`` (``Failure(failure)``), serial number included."""
        self.__dict__.update(other.__dict__)

    @classmethod
    def _withoutTraceback(cls, value: BaseException) -> Failure:
        """Wrap ``value``, which was never raised, as quickly as possible."""
        self = cls.__new__(cls)
        self.count = next(_counter)
        self.value = value
        self.type = value.__class__
        self.tb = None
        return self

    # -- frames --------------------------------------------------------------

    def _summarise(self) -> list[FrameInfo]:
        """Walk the traceback into frame summaries (outermost frame first)."""
        frames: list[FrameInfo] = []
        tb = self.tb
        capture = self.captureVars
        noVars: tuple[tuple[str, object], ...] = ()
        while tb is not None:
            frame = tb.tb_frame
            code = frame.f_code
            if capture:
                localz = dict(frame.f_locals)
                globalz = {} if frame.f_locals is frame.f_globals else dict(frame.f_globals)
                localz.pop("__builtins__", None)
                globalz.pop("__builtins__", None)
                frames.append(
                    (
                        code.co_name,
                        code.co_filename,
                        tb.tb_lineno,
                        tuple(localz.items()),
                        tuple(globalz.items()),
                    )
                )
            else:
                frames.append((code.co_name, code.co_filename, tb.tb_lineno, noVars, noVars))
            tb = tb.tb_next
        return frames

    @property
    def frames(self) -> list[FrameInfo]:
        """The frames of the traceback, outermost first (see :data:`FrameInfo`)."""
        frames = self._frames
        if frames is None:
            frames = self._frames = self._summarise()
        return frames

    @frames.setter
    def frames(self, frames: list[FrameInfo]) -> None:
        self._frames = frames

    @property
    def parents(self) -> list[str]:
        """The fully qualified names of the exception's class and its bases."""
        parents = self._parents
        if parents is None:
            parents = self._parents = [qual(c) for c in self.type.__mro__]
        return parents

    @parents.setter
    def parents(self, parents: list[str]) -> None:
        self._parents = parents

    def getTracebackObject(self) -> TracebackType | None:
        """Return a traceback for the standard :mod:`traceback` functions.

        This is the original traceback while the failure has it; after
        :meth:`cleanFailure` or pickling it is a stand-in object, built from
        :attr:`frames`, with the attributes those functions read.  ``None``
        when there are no frames at all.
        """
        if self.tb is not None:
            return self.tb
        frames = self.frames
        if not frames:
            return None
        return cast(TracebackType, _fakeTraceback(frames))

    # -- matching ------------------------------------------------------------

    def check(self, *errorTypes: _ErrorT) -> _ErrorT | None:
        """Return the first of ``errorTypes`` this failure's exception is an instance of.

        Each may be an exception class or the fully qualified name of one
        (``"builtins.ValueError"``), which is how a failure whose class is not
        importable here (one copied from a remote peer) is matched.

        Returns:
            the matching argument, or ``None`` if none matches.
        """
        excType = self.type
        for error in errorTypes:
            if isinstance(error, type):
                if issubclass(excType, error) or qual(error) in self.parents:
                    return error
            elif error in self.parents:
                return error
        return None

    def trap(self, *errorTypes: _ErrorT) -> _ErrorT:
        """Like :meth:`check`, but re-raise the exception when nothing matches.

        Used at the top of an errback to handle some errors and pass the
        others down the errback chain.

        Returns:
            the matching argument.

        Raises:
            BaseException: the wrapped exception, when it matches none of
                ``errorTypes``.
        """
        error = self.check(*errorTypes)
        if error is None:
            self.raiseException()
        return error

    # -- raising -------------------------------------------------------------

    def raiseException(self) -> NoReturn:
        """Raise the wrapped exception, with its original traceback if it is still held."""
        raise self.value.with_traceback(self.tb)

    def throwExceptionIntoGenerator(self, g: _Throwable) -> Any:
        """Throw the wrapped exception into generator or coroutine ``g``.

        Returns:
            what ``g`` yields next.

        Raises:
            StopIteration: ``g`` returned instead.
            BaseException: whatever ``g`` raised instead.
        """
        return g.throw(self.value.with_traceback(self.tb))

    # -- cleaning and pickling ----------------------------------------------

    def cleanFailure(self) -> None:
        """Drop every reference to frames and their variables.

        The frame summaries are kept (captured variables become their
        ``repr``), so the failure can still print its traceback; the
        traceback object is released, here and on the exception.
        """
        self.frames  # noqa: B018 - summarise while the traceback is still held
        _ = self.parents
        if self.captureVars and not self._varsAreReprs:
            self._frames = _reprFrames(self.frames)
            self._varsAreReprs = True
        self.tb = None
        value = self.value
        if value.__traceback__ is not None:
            value.__traceback__ = None

    def __getstate__(self) -> dict[str, Any]:
        """Return this failure's state, free of frames, for pickling or serialising.

        The state holds the exception, the frame summaries (captured variables
        as ``repr`` strings), the qualified names of the exception's classes
        under ``"parents"``, and the rendered default traceback under
        ``"_tracebackText"`` so that a process without the source files can
        still print it.
        """
        state = dict(self.__dict__)
        state.pop("_frames", None)
        state.pop("_parents", None)
        state.pop("_varsAreReprs", None)
        frames = self.frames
        if self.captureVars and not self._varsAreReprs:
            frames = _reprFrames(frames)
        state["frames"] = frames
        state["parents"] = self.parents
        state["stack"] = []
        state["tb"] = None
        state["pickled"] = 1
        state["captureVars"] = self.captureVars
        state["_tracebackText"] = self.getTraceback()
        return state

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        """Restore the state made by :meth:`__getstate__`."""
        state = dict(state or {})
        state.pop("stack", None)
        if "parents" in state:
            state["_parents"] = state.pop("parents")
        if "frames" in state:
            state["_frames"] = [_frameFromState(f) for f in state.pop("frames")]
        state["_varsAreReprs"] = True
        state.setdefault("tb", None)
        self.__dict__.update(state)

    def __reduce__(
        self,
    ) -> tuple[Callable[..., Any], tuple[builtins.type[Failure]], dict[str, Any]]:
        # BaseException's own __reduce__ would pickle ``args`` only.
        return (_newobj, (self.__class__,), self.__getstate__())

    # -- rendering -----------------------------------------------------------

    def getErrorMessage(self) -> str:
        """Return ``str()`` of the exception, never raising."""
        value = self.value
        if isinstance(value, Failure):
            return value.getErrorMessage()
        return safe_str(value)

    def getBriefTraceback(self) -> str:
        """Return the traceback as :meth:`printBriefTraceback` writes it."""
        io = StringIO()
        self.printTraceback(io, detail="brief")
        return io.getvalue()

    def getTraceback(self, elideFrameworkCode: int = 0, detail: str = "default") -> str:
        """Return the traceback as :meth:`printTraceback` writes it."""
        io = StringIO()
        self.printTraceback(io, elideFrameworkCode, detail)
        return io.getvalue()

    def printTraceback(
        self,
        file: _Writable | None = None,
        elideFrameworkCode: bool | int = False,
        detail: str = "default",
    ) -> None:
        """Write the traceback, in the shape of Python's own, to ``file``.

        Args:
            file: where to write; by default the error log
                (``fw.python.log.logerr``, or standard error without it).
            elideFrameworkCode: ignored; kept for compatibility.
            detail: ``"default"`` (Python's format, with source lines),
                ``"brief"`` (one line per frame) or ``"verbose"`` (with the
                variables of each frame, if they were captured).

        Raises:
            ValueError: ``detail`` is none of those.
        """
        if detail not in _DETAILS:
            raise ValueError(f"detail must be one of {', '.join(_DETAILS)}, not {detail!r}")
        if file is None:
            file = _defaultErrorFile()
        w = file.write
        if detail == "default" and self._tracebackText is not None:
            # Rendered where the source files were; keep it as it was.
            w(self._tracebackText)
            return
        frames = self.frames
        if detail == "verbose":
            w(f"*--- Failure #{self.count}{' (pickled) ' if self.pickled else ' '}---\n")
        elif detail == "brief":
            header = "Traceback" if frames else "Traceback (failure with no frames)"
            w(f"{header}: {safe_str(self.type)}: {safe_str(self.value)}\n")
        else:
            w("Traceback (most recent call last):\n")

        if frames:
            _formatFrames(frames, w, detail, self.captureVars, self._varsAreReprs)
        elif detail != "brief":
            w("Failure: ")

        if detail != "brief":
            w(f"{qual(self.type)}: {safe_str(self.value)}\n")

        value = self.value
        if isinstance(value, Failure):
            w(" (chained Failure)\n")
            value.printTraceback(file, elideFrameworkCode, detail)
        if detail == "verbose":
            w(f"*--- End of Failure #{self.count} ---\n")

    def printBriefTraceback(
        self, file: _Writable | None = None, elideFrameworkCode: bool | int = 0
    ) -> None:
        """Write the traceback with one line per frame."""
        self.printTraceback(file, elideFrameworkCode, detail="brief")

    def printDetailedTraceback(
        self, file: _Writable | None = None, elideFrameworkCode: bool | int = 0
    ) -> None:
        """Write the traceback with the variables of each frame (``captureVars=True``)."""
        self.printTraceback(file, elideFrameworkCode, detail="verbose")

    def __repr__(self) -> str:
        return f"<{qual(self.__class__)} {qual(self.type)}: {self.getErrorMessage()}>"

    def __str__(self) -> str:
        return f"[Failure instance: {self.getBriefTraceback()}]"


# Pickles name the public module, where users import the class from.
Failure.__module__ = "fw.python.failure"


def _defaultErrorFile() -> _Writable:
    # fw.python.log imports this module: find it at call time.
    try:
        log = importlib.import_module("fw.python.log")
    except ImportError:
        return sys.stderr
    return cast(_Writable, getattr(log, "logerr", sys.stderr))


def _reprFrames(frames: Sequence[FrameInfo]) -> list[FrameInfo]:
    """Replace the captured variables of ``frames`` by their ``repr``."""
    return [
        (
            name,
            filename,
            lineno,
            tuple((k, safe_repr(v)) for k, v in localz),
            tuple((k, safe_repr(v)) for k, v in globalz),
        )
        for name, filename, lineno, localz, globalz in frames
    ]


def _frameFromState(frame: Sequence[Any]) -> FrameInfo:
    """Rebuild a frame summary that went through a serialiser (lists for tuples)."""
    name, filename, lineno, localz, globalz = frame
    return (
        name,
        filename,
        lineno,
        tuple((k, v) for k, v in localz),
        tuple((k, v) for k, v in globalz),
    )


def _formatFrames(
    frames: Sequence[FrameInfo],
    w: Callable[[str], object],
    detail: str,
    captured: bool,
    varsAreReprs: bool,
) -> None:
    if detail == "brief":
        for name, filename, lineno, _, _ in frames:
            w(f"{filename}:{lineno}:{name}\n")
    elif detail == "default":
        for name, filename, lineno, _, _ in frames:
            w(f'  File "{filename}", line {lineno}, in {name}\n')
            w(f"    {linecache.getline(filename, lineno).strip()}\n")
    else:
        for name, filename, lineno, localz, globalz in frames:
            w(f"{filename}:{lineno}: {name}(...)\n")
            if captured:
                w(" [ Locals ]\n")
                for k, v in localz:
                    w(f"  {k} : {v if varsAreReprs else safe_repr(v)}\n")
                w(" ( Globals )\n")
                for k, v in globalz:
                    w(f"  {k} : {v if varsAreReprs else safe_repr(v)}\n")
        if not captured:
            w(" [Capture of Locals and Globals disabled (use captureVars=True)]\n")


# -- stand-in traceback objects, for the traceback module ---------------------


class _FakeCode:
    """The parts of a code object that :mod:`traceback` reads."""

    co_argcount = 0
    co_posonlyargcount = 0
    co_kwonlyargcount = 0
    co_nlocals = 0
    co_stacksize = 0
    co_flags = 0
    co_firstlineno = 0
    co_code = b""
    co_lnotab = b""
    co_consts = ()
    co_names = ()
    co_varnames = ()
    co_cellvars = ()
    co_freevars = ()

    def __init__(self, name: str, filename: str) -> None:
        self.co_name = name
        self.co_qualname = name
        self.co_filename = filename

    def co_positions(self) -> Iterator[tuple[None, None, None, None]]:
        return iter(((None, None, None, None),))


class _FakeFrame:
    """The parts of a frame object that :mod:`traceback` reads."""

    f_lasti = 0
    f_trace = None

    def __init__(self, info: FrameInfo, back: _FakeFrame | None) -> None:
        name, filename, lineno, localz, globalz = info
        self.f_code = _FakeCode(name, filename)
        self.f_lineno = lineno
        self.f_locals = dict(localz)
        self.f_globals = dict(globalz)
        self.f_builtins = vars(builtins)
        self.f_back = back


class _FakeTraceback:
    """The parts of a traceback object that :mod:`traceback` reads."""

    tb_lasti = 0

    def __init__(self, frame: _FakeFrame) -> None:
        self.tb_frame = frame
        self.tb_lineno = frame.f_lineno
        self.tb_next: _FakeTraceback | None = None


def _fakeTraceback(frames: Sequence[FrameInfo]) -> _FakeTraceback:
    frame = _FakeFrame(frames[0], None)
    first = last = _FakeTraceback(frame)
    for info in frames[1:]:
        frame = _FakeFrame(info, frame)
        last.tb_next = _FakeTraceback(frame)
        last = last.tb_next
    return first


# -- post-mortem debugging ---------------------------------------------------

_plainInit = Failure.__init__


def _debugInit(
    self: Failure,
    exc_value: BaseException | None = None,
    exc_type: type[BaseException] | None = None,
    exc_tb: TracebackType | None = None,
    captureVars: bool = False,
) -> None:
    if exc_value is None and exc_type is None and exc_tb is None:
        _, current, tb = sys.exc_info()
        if current is not None and not isinstance(current, Failure):
            import pdb

            print(f"Jumping into debugger for post-mortem of exception {safe_str(current)!r}:")
            pdb.post_mortem(tb)
    _plainInit(self, exc_value, exc_type, exc_tb, captureVars)


def startDebugMode() -> None:
    """Start the debugger on every exception wrapped by ``Failure()``.

    From then on, ``Failure()`` (wrapping the exception being handled) runs
    :func:`pdb.post_mortem` on the exception's traceback first.  Used by
    ``fwd --debug``.
    """
    setattr(Failure, "__init__", _debugInit)  # noqa: B010 - mypy refuses method assignment
