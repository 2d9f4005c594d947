"""Tests for fw.python.failure."""

from __future__ import annotations

import copy
import gc
import inspect
import io
import json
import linecache
import pickle
import sys
import traceback
import types
import weakref
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from fw.python import failure as failureModule
from fw.python.failure import DefaultException, Failure, NoCurrentExceptionError, startDebugMode

HERE = __file__


class SpecificError(ValueError):
    """A subclass, to check matching by base class."""


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def _innermost(message: str) -> None:
    raise SpecificError(message)


def _middle(message: str) -> None:
    _innermost(message)


def _caught(message: str = "boom", captureVars: bool = False) -> Failure:
    try:
        _middle(message)
    except SpecificError:
        return Failure(captureVars=captureVars)
    raise AssertionError("not reached")


def _lineOf(function: Any, text: str) -> int:
    lines, start = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} not in {function}")


# -- construction ---------------------------------------------------------


def test_noCurrentException() -> None:
    with pytest.raises(NoCurrentExceptionError):
        Failure()


def test_currentException() -> None:
    exc = KeyError("k")
    try:
        raise exc
    except KeyError:
        f = Failure()
    assert f.value is exc
    assert f.type is KeyError
    assert f.tb is exc.__traceback__
    assert f.tb is not None


def test_isBaseException() -> None:
    assert isinstance(Failure(ValueError()), BaseException)


def test_unraisedException() -> None:
    exc = ValueError("x")
    f = Failure(exc)
    assert f.value is exc
    assert f.type is ValueError
    assert f.tb is None
    assert f.frames == []
    assert f.getTracebackObject() is None


def test_raisedExceptionKeepsItsTraceback() -> None:
    exc: SpecificError | None = None
    try:
        _middle("m")
    except SpecificError as e:
        exc = e
    assert exc is not None
    f = Failure(exc)
    assert f.tb is exc.__traceback__
    assert [frame[0] for frame in f.frames] == [
        "test_raisedExceptionKeepsItsTraceback",
        "_middle",
        "_innermost",
    ]


def test_explicitTypeAndTraceback() -> None:
    tb: types.TracebackType | None = None
    try:
        _middle("m")
    except SpecificError as e:
        tb = e.__traceback__
    exc = ValueError("other")
    f = Failure(exc, ValueError, tb)
    assert f.type is ValueError
    assert f.value is exc
    assert f.tb is tb


def test_copyOfFailure() -> None:
    original = _caught()
    copied = Failure(original)
    assert copied.value is original.value
    assert copied.type is original.type
    assert copied.tb is original.tb
    assert copied.count == original.count
    assert copied.getTraceback() == original.getTraceback()


def test_nonExceptionObjectIsWrapped() -> None:
    f = Failure("just a string")  # type: ignore[arg-type]
    assert f.type is DefaultException
    assert f.getErrorMessage() == "just a string"


def test_countIncreases() -> None:
    a = Failure(ValueError())
    b = Failure(ValueError())
    assert b.count > a.count


def test_withoutTraceback() -> None:
    exc = OSError("x")
    f = Failure._withoutTraceback(exc)
    assert f.value is exc
    assert f.type is OSError
    assert f.tb is None
    assert f.frames == []


# -- frames and parents -----------------------------------------------------


def test_framesAreComputedLazily() -> None:
    f = _caught()
    assert f._frames is None
    frames = f.frames
    assert frames is f.frames
    assert [frame[0] for frame in frames] == ["_caught", "_middle", "_innermost"]
    _, filename, lineno, localz, globalz = frames[-1]
    assert filename == HERE
    assert lineno == _lineOf(_innermost, "raise SpecificError")
    assert localz == ()
    assert globalz == ()


def test_framesSetter() -> None:
    f = Failure(ValueError())
    f.frames = [("fn", "file.py", 3, (), ())]
    assert f.frames == [("fn", "file.py", 3, (), ())]


def test_captureVarsTakesVariablesAtCreation() -> None:
    marker = "before"
    try:
        raise ValueError(marker)
    except ValueError:
        f = Failure(captureVars=True)
    marker = "after"
    localz = dict(f.frames[0][3])
    globalz = dict(f.frames[0][4])
    assert localz["marker"] == "before"
    assert marker == "after"
    assert "__builtins__" not in localz
    assert globalz["HERE"] == HERE


def test_parents() -> None:
    f = Failure(SpecificError())
    assert f.parents == [
        f"{__name__}.SpecificError",
        "builtins.ValueError",
        "builtins.Exception",
        "builtins.BaseException",
        "builtins.object",
    ]
    f.parents = ["x"]
    assert f.parents == ["x"]


# -- check and trap -----------------------------------------------------------


def test_checkByClass() -> None:
    f = Failure(SpecificError())
    assert f.check(KeyError) is None
    assert f.check(KeyError, ValueError) is ValueError
    assert f.check(SpecificError, ValueError) is SpecificError
    assert f.check(BaseException) is BaseException
    assert f.check() is None


def test_checkByName() -> None:
    f = Failure(SpecificError())
    assert f.check("builtins.ValueError") == "builtins.ValueError"
    assert f.check(f"{__name__}.SpecificError") == f"{__name__}.SpecificError"
    assert f.check("builtins.KeyError") is None


def test_checkBaseExceptionSubclasses() -> None:
    f = Failure(KeyboardInterrupt())
    assert f.check(KeyboardInterrupt) is KeyboardInterrupt
    assert f.check(BaseException) is BaseException
    assert f.check(Exception) is None


def test_checkMatchesSameNamedClass() -> None:
    # A failure rebuilt from a peer may carry a class object that is not the
    # local one; its qualified name still matches.
    f = Failure(ValueError())
    f.parents = [f"{__name__}.SpecificError", "builtins.ValueError"]
    assert f.check(SpecificError) is SpecificError


def test_trapMatch() -> None:
    f = Failure(SpecificError())
    assert f.trap(KeyError, ValueError) is ValueError


def test_trapReRaisesOriginal() -> None:
    f = _caught("original")
    with pytest.raises(SpecificError) as info:
        f.trap(KeyError)
    assert info.value is f.value
    names = [entry.name for entry in info.traceback]
    assert "_innermost" in names


# -- raising ------------------------------------------------------------------


def test_raiseException() -> None:
    f = _caught()
    with pytest.raises(SpecificError) as info:
        f.raiseException()
    assert info.value is f.value
    assert "_innermost" in [entry.name for entry in info.traceback]


def test_throwExceptionIntoGenerator() -> None:
    seen: list[BaseException] = []

    def gen() -> Generator[str, None, None]:
        try:
            yield "first"
        except SpecificError as e:
            seen.append(e)
            yield "handled"

    g = gen()
    assert next(g) == "first"
    f = _caught()
    assert f.throwExceptionIntoGenerator(g) == "handled"
    assert seen == [f.value]
    # Suspended outside the try block now: the exception comes back out.
    with pytest.raises(SpecificError):
        f.throwExceptionIntoGenerator(g)


def test_throwExceptionIntoGeneratorThatReturns() -> None:
    def gen() -> Generator[str, None, str]:
        try:
            yield "first"
        except KeyError:
            return "done"
        return "not reached"

    g = gen()
    next(g)
    with pytest.raises(StopIteration) as info:
        Failure(KeyError()).throwExceptionIntoGenerator(g)
    assert info.value.value == "done"


def test_throwExceptionIntoGeneratorUncaught() -> None:
    def gen() -> Generator[int, None, None]:
        yield 1

    g = gen()
    next(g)
    f = Failure(KeyError("k"))
    with pytest.raises(KeyError):
        f.throwExceptionIntoGenerator(g)


def test_throwExceptionIntoCoroutine() -> None:
    class Suspend:
        def __await__(self) -> Generator[None, None, None]:
            yield

    async def coro() -> str:
        try:
            await Suspend()
        except KeyError:
            return "caught"
        return "not caught"

    c = coro()
    c.send(None)
    with pytest.raises(StopIteration) as info:
        Failure(KeyError()).throwExceptionIntoGenerator(c)
    assert info.value.value == "caught"


# -- messages and tracebacks ------------------------------------------------


def test_getErrorMessage() -> None:
    assert Failure(ValueError("hello")).getErrorMessage() == "hello"
    assert Failure(ValueError()).getErrorMessage() == ""


def test_getErrorMessageBrokenStr() -> None:
    message = Failure(BrokenStr()).getErrorMessage()
    assert "BrokenStr" in message
    assert "no str for you" in message


def _chained() -> Failure:
    # Failure(aFailure) copies it; a failure wrapping another is only made by hand.
    inner = Failure(ValueError("inner"))
    outer = Failure(RuntimeError())
    outer.value = inner
    outer.type = Failure
    return outer


def test_failureOfFailureIsACopy() -> None:
    inner = Failure(ValueError("inner"))
    assert Failure(inner, Failure).value is inner.value
    try:
        raise inner
    except Failure:
        raised = Failure()
    assert raised.value is inner.value
    assert raised.type is ValueError


def test_getErrorMessageOfChainedFailure() -> None:
    assert _chained().getErrorMessage() == "inner"


def test_defaultTraceback() -> None:
    f = _caught("the message")
    expected = (
        "Traceback (most recent call last):\n"
        f'  File "{HERE}", line {_lineOf(_caught, "_middle(message)")}, in _caught\n'
        "    _middle(message)\n"
        f'  File "{HERE}", line {_lineOf(_middle, "_innermost(message)")}, in _middle\n'
        "    _innermost(message)\n"
        f'  File "{HERE}", line {_lineOf(_innermost, "raise")}, in _innermost\n'
        "    raise SpecificError(message)\n"
        f"{__name__}.SpecificError: the message\n"
    )
    assert f.getTraceback() == expected
    out = io.StringIO()
    f.printTraceback(out)
    assert out.getvalue() == expected


def test_defaultTracebackWithoutFrames() -> None:
    f = Failure(ValueError("v"))
    assert f.getTraceback() == (
        "Traceback (most recent call last):\nFailure: builtins.ValueError: v\n"
    )


def test_briefTraceback() -> None:
    f = _caught("brief")
    expected = (
        f"Traceback: {SpecificError!s}: brief\n"
        f"{HERE}:{_lineOf(_caught, '_middle(message)')}:_caught\n"
        f"{HERE}:{_lineOf(_middle, '_innermost(message)')}:_middle\n"
        f"{HERE}:{_lineOf(_innermost, 'raise')}:_innermost\n"
    )
    assert f.getBriefTraceback() == expected
    assert f.getTraceback(detail="brief") == expected
    out = io.StringIO()
    f.printBriefTraceback(out)
    assert out.getvalue() == expected


def test_briefTracebackWithoutFrames() -> None:
    f = Failure(ValueError("v"))
    assert f.getBriefTraceback() == (f"Traceback (failure with no frames): {ValueError!s}: v\n")


def test_verboseTracebackWithoutVariables() -> None:
    f = _caught("verbose")
    text = f.getTraceback(detail="verbose")
    lines = text.splitlines()
    assert lines[0] == f"*--- Failure #{f.count} ---"
    assert lines[1] == f"{HERE}:{_lineOf(_caught, '_middle(message)')}: _caught(...)"
    assert " [Capture of Locals and Globals disabled (use captureVars=True)]" in lines
    assert lines[-2] == f"{__name__}.SpecificError: verbose"
    assert lines[-1] == f"*--- End of Failure #{f.count} ---"


def test_verboseTracebackWithVariables() -> None:
    f = _caught("vars", captureVars=True)
    out = io.StringIO()
    f.printDetailedTraceback(out)
    text = out.getvalue()
    assert " [ Locals ]\n" in text
    assert " ( Globals )\n" in text
    assert "  message : 'vars'\n" in text
    assert "Capture of Locals" not in text
    # Once cleaned, values are shown by their repr, not the repr of their repr.
    f.cleanFailure()
    assert f.getTraceback(detail="verbose") == text


def test_badDetail() -> None:
    f = Failure(ValueError())
    with pytest.raises(ValueError, match="detail"):
        f.getTraceback(detail="loud")


def test_chainedFailureTraceback() -> None:
    text = _chained().getTraceback()
    assert " (chained Failure)\n" in text
    assert text.endswith("builtins.ValueError: inner\n")


def test_printTracebackDefaultFileIsLogerr(monkeypatch: pytest.MonkeyPatch) -> None:
    logerr = io.StringIO()
    fakeLog = types.ModuleType("fw.python.log")
    fakeLog.logerr = logerr  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fw.python.log", fakeLog)
    f = Failure(ValueError("to the log"))
    f.printTraceback()
    assert logerr.getvalue() == f.getTraceback()


def test_printTracebackDefaultFileFallsBackToStderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "fw.python.log", types.ModuleType("fw.python.log"))
    f = Failure(ValueError("to stderr"))
    f.printTraceback()
    assert capsys.readouterr().err == f.getTraceback()


def test_reprAndStr() -> None:
    f = Failure(ValueError("msg"))
    assert repr(f) == "<fw.python.failure.Failure builtins.ValueError: msg>"
    assert str(f) == f"[Failure instance: {f.getBriefTraceback()}]"


# -- cleaning -------------------------------------------------------------


class _Held:
    pass


def _failWithLocal() -> tuple[Failure, weakref.ref[_Held]]:
    held = _Held()
    ref = weakref.ref(held)
    try:
        raise ValueError(held)
    except ValueError:
        f = Failure()
    f.value.args = ()
    del held
    return f, ref


def test_cleanFailureReleasesFrames() -> None:
    f, ref = _failWithLocal()
    text = f.getTraceback()
    f.cleanFailure()
    gc.collect()
    assert ref() is None
    assert f.tb is None
    assert f.value.__traceback__ is None
    assert [frame[0] for frame in f.frames] == ["_failWithLocal"]
    assert f.getTraceback() == text
    assert f.pickled == 0


def test_cleanFailureTwice() -> None:
    f = _caught(captureVars=True)
    f.cleanFailure()
    frames = f.frames
    f.cleanFailure()
    assert f.frames == frames


def test_cleanFailureReprsCapturedVariables() -> None:
    f = _caught("cv", captureVars=True)
    f.cleanFailure()
    for _, _, _, localz, globalz in f.frames:
        for _, value in [*localz, *globalz]:
            assert isinstance(value, str)
    assert ("message", "'cv'") in f.frames[-2][3]


def test_tracebackObjectAfterClean() -> None:
    f = _caught()
    assert f.getTracebackObject() is f.tb
    live = [(s.filename, s.lineno, s.name, s.line) for s in traceback.extract_tb(f.tb)]
    f.cleanFailure()
    fake = f.getTracebackObject()
    assert fake is not None
    summary = [(s.filename, s.lineno, s.name, s.line) for s in traceback.extract_tb(fake)]
    assert summary == live
    formatted = traceback.format_tb(fake)
    assert formatted[-1] == (
        f'  File "{HERE}", line {_lineOf(_innermost, "raise")}, in _innermost\n'
        "    raise SpecificError(message)\n"
    )


# -- pickling and state -----------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickleRoundTrip(protocol: int) -> None:
    f = _caught("pickled")
    text = f.getTraceback()
    g = pickle.loads(pickle.dumps(f, protocol))
    assert isinstance(g, Failure)
    assert g.type is SpecificError
    assert isinstance(g.value, SpecificError)
    assert g.getErrorMessage() == "pickled"
    assert g.tb is None
    assert g.pickled == 1
    assert g.count == f.count
    assert g.frames == f.frames
    assert g.parents == f.parents
    assert g.getTraceback() == text
    assert g.getBriefTraceback() == f.getBriefTraceback()
    assert g.check(ValueError) is ValueError
    # The original is untouched.
    assert f.tb is not None
    assert f.pickled == 0


def test_pickledTracebackKeepsSourceLines(monkeypatch: pytest.MonkeyPatch) -> None:
    f = _caught("remote")
    data = pickle.dumps(f)
    # The receiving side has no source for these files.
    monkeypatch.setattr(linecache, "getline", lambda *args, **kwargs: "")
    g = pickle.loads(data)
    assert "    raise SpecificError(message)\n" in g.getTraceback()


def test_pickleWithCapturedVariables() -> None:
    f = _caught("cv", captureVars=True)
    g = pickle.loads(pickle.dumps(f))
    assert ("message", "'cv'") in g.frames[-2][3]
    assert "  message : 'cv'\n" in g.getTraceback(detail="verbose")
    assert "(pickled)" in g.getTraceback(detail="verbose")


def _walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)


def test_getStateHasNoFrames() -> None:
    f = _caught("state", captureVars=True)
    state = f.__getstate__()
    assert state["tb"] is None
    assert state["pickled"] == 1
    assert state["stack"] == []
    assert state["parents"] == f.parents
    assert state["_tracebackText"] == f.getTraceback()
    for item in _walk({k: v for k, v in state.items() if k != "value"}):
        assert not isinstance(item, (types.FrameType, types.TracebackType))
    # The failure itself still has its traceback.
    assert f.tb is not None


def test_stateSurvivesJSON() -> None:
    f = _caught("json")
    state = f.__getstate__()
    value = state.pop("value")
    state.pop("type")
    restored = json.loads(json.dumps(state))
    g = Failure.__new__(Failure)
    g.__setstate__({**restored, "value": value, "type": type(value)})
    assert g.frames == f.frames
    assert g.getTraceback() == f.getTraceback()
    assert g.getBriefTraceback() == f.getBriefTraceback()


def test_copy() -> None:
    f = _caught()
    g = copy.copy(f)
    assert g.value is f.value
    assert g.frames == f.frames


# -- debug mode -------------------------------------------------------------


@pytest.fixture
def restoreInit() -> Iterator[None]:
    init = Failure.__dict__["__init__"]
    try:
        yield
    finally:
        Failure.__init__ = init  # type: ignore[method-assign]


def test_startDebugMode(
    restoreInit: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pdb

    seen: list[types.TracebackType | None] = []
    monkeypatch.setattr(pdb, "post_mortem", seen.append)
    startDebugMode()
    try:
        raise ValueError("debug me")
    except ValueError as e:
        f = Failure()
        tb = e.__traceback__
    assert seen == [tb]
    assert f.value.args == ("debug me",)
    assert "post-mortem" in capsys.readouterr().out
    # Explicit exceptions do not start the debugger.
    Failure(KeyError())
    assert len(seen) == 1


def test_publicSurface() -> None:
    for name in failureModule.__all__:
        obj = getattr(failureModule, name)
        if callable(obj) and name != "FrameInfo":
            assert obj.__doc__, name
