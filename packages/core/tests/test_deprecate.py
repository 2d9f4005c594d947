"""Tests for fw.python.deprecate: warning text, warning location, and the wrapped objects."""

from __future__ import annotations

import asyncio
import inspect
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fw.python import deprecate
from fw.python.deprecate import (
    DEPRECATION_WARNING_FORMAT,
    IncomparableVersions,
    Version,
    deprecated,
    deprecatedKeywordParameter,
    deprecatedProperty,
    getDeprecationWarningString,
    getVersionString,
    getWarningMethod,
    setWarningMethod,
    warnAboutFunction,
)

V = Version("fw-core", 1, 4, 0)
MOD = __name__


def here() -> int:
    """The line number of the caller: put it on the same line as the call under test."""
    return sys._getframe(1).f_lineno


@pytest.fixture
def caught() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield records


def only(records: list[warnings.WarningMessage]) -> warnings.WarningMessage:
    assert len(records) == 1, [str(r.message) for r in records]
    assert records[0].category is DeprecationWarning
    return records[0]


def newThing() -> None:
    """The replacement."""


@deprecated(V)
def oldFunction(a: int, b: int = 2) -> int:
    """Add things."""
    return a + b


@deprecated(V, replacement=newThing)
def oldWithCallableReplacement() -> str:
    """First line.

    More details.
    """
    return "result"


@deprecated("fw-core 2.0.0", replacement="the new API")
def oldWithStringVersion() -> None:
    pass


class Host:
    @deprecated(V, "Host.newMethod")
    def oldMethod(self, x: int) -> int:
        return x * 2

    @deprecated(V)
    @classmethod
    def oldClassMethod(cls) -> str:
        return cls.__name__

    @deprecated(V)
    @staticmethod
    def oldStatic() -> int:
        return 5

    def __init__(self) -> None:
        self._value = 1

    def _getValue(self) -> int:
        """The value, the old way."""
        return self._value

    def _setValue(self, value: int) -> None:
        self._value = value

    def _delValue(self) -> None:
        self._value = 0

    # The spelling mypy understands fully: no redefinitions.
    oldValue = (
        deprecatedProperty(V, replacement="Host.value")(_getValue)
        .setter(_setValue)
        .deleter(_delValue)
    )

    @deprecatedProperty(V)
    def readOnly(self) -> str:
        return "ro"


class Legacy:
    """Twisted's spelling: mypy only knows the builtin property's setter idiom."""

    def __init__(self) -> None:
        self.stored = "initial"

    @deprecatedProperty(V)
    def legacy(self) -> str:
        return self.stored

    @legacy.setter  # type: ignore[no-redef]
    def legacy(self, value: str) -> None:
        self.stored = value


@deprecated(V, replacement=Host)
class OldClass:
    """An old class."""

    def __init__(self, x: int) -> None:
        self.x = x


@deprecated(V)
class OldClassNoInit:
    pass


@deprecated(V)
class OldTuple(tuple[int, int]):
    pass


class TestWarningString:
    def test_function(self) -> None:
        assert getDeprecationWarningString(newThing, V) == (
            f"{MOD}.newThing was deprecated in fw-core 1.4.0"
        )

    def test_replacement_text(self) -> None:
        text = getDeprecationWarningString(newThing, V, replacement="something")
        assert (
            text == f"{MOD}.newThing was deprecated in fw-core 1.4.0; please use something instead"
        )

    def test_replacement_callable(self) -> None:
        text = getDeprecationWarningString(Host.oldMethod, V, replacement=Host)
        assert text == (
            f"{MOD}.Host.oldMethod was deprecated in fw-core 1.4.0; please use {MOD}.Host instead"
        )

    def test_custom_format(self) -> None:
        text = getDeprecationWarningString(newThing, V, format="%(fqpn)s gone (%(version)s)")
        assert text == f"{MOD}.newThing gone (fw-core 1.4.0)"

    def test_default_format(self) -> None:
        assert DEPRECATION_WARNING_FORMAT == "%(fqpn)s was deprecated in %(version)s"

    def test_string_version(self) -> None:
        text = getDeprecationWarningString(newThing, "fw-web 2.1.0")
        assert text.endswith("was deprecated in fw-web 2.1.0")


class TestDeprecatedFunction:
    def test_warns_at_caller(self, caught: list[warnings.WarningMessage]) -> None:
        line, result = here(), oldFunction(1, b=3)
        assert result == 4
        w = only(caught)
        assert str(w.message) == f"{MOD}.oldFunction was deprecated in fw-core 1.4.0"
        assert w.filename == __file__
        assert w.lineno == line

    def test_replacement_in_message(self, caught: list[warnings.WarningMessage]) -> None:
        assert oldWithCallableReplacement() == "result"
        assert str(only(caught).message) == (
            f"{MOD}.oldWithCallableReplacement was deprecated in fw-core 1.4.0; "
            f"please use {MOD}.newThing instead"
        )

    def test_string_version(self, caught: list[warnings.WarningMessage]) -> None:
        oldWithStringVersion()
        assert str(only(caught).message) == (
            f"{MOD}.oldWithStringVersion was deprecated in fw-core 2.0.0; "
            "please use the new API instead"
        )

    def test_metadata(self) -> None:
        assert oldFunction.__name__ == "oldFunction"
        assert oldFunction.__qualname__ == "oldFunction"
        assert oldFunction.deprecatedVersion == V  # type: ignore[attr-defined]

    def test_docstring_one_line(self) -> None:
        assert oldFunction.__doc__ == "Add things.\n\nDeprecated in fw-core 1.4.0."

    def test_docstring_multi_line(self) -> None:
        doc = oldWithCallableReplacement.__doc__ or ""
        assert doc.rstrip().endswith(
            f"More details.\n\n    Deprecated in fw-core 1.4.0; please use {MOD}.newThing instead."
        )

    def test_docstring_absent(self) -> None:
        assert oldWithStringVersion.__doc__ == (
            "Deprecated in fw-core 2.0.0; please use the new API instead."
        )

    def test_error_format(self) -> None:
        """With warnings as errors, calling raises the DeprecationWarning at the call."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(DeprecationWarning, match="oldFunction was deprecated"):
                oldFunction(1)

    def test_each_call_warns(self, caught: list[warnings.WarningMessage]) -> None:
        for _ in range(3):
            oldFunction(0)
        assert len(caught) == 3


@deprecated(V)
async def oldCoroutine(x: int) -> int:
    return x + 1


class TestDeprecatedCoroutineFunction:
    def test_warns_at_call(self, caught: list[warnings.WarningMessage]) -> None:
        line, coroutine = here(), oldCoroutine(1)
        assert (only(caught).filename, only(caught).lineno) == (__file__, line)
        assert asyncio.run(coroutine) == 2

    @pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect.markcoroutinefunction")
    def test_still_a_coroutine_function(self) -> None:
        assert inspect.iscoroutinefunction(oldCoroutine)


class TestDeprecatedMethods:
    def test_method(self, caught: list[warnings.WarningMessage]) -> None:
        line, result = here(), Host().oldMethod(4)
        assert result == 8
        w = only(caught)
        assert str(w.message) == (
            f"{MOD}.Host.oldMethod was deprecated in fw-core 1.4.0; "
            "please use Host.newMethod instead"
        )
        assert (w.filename, w.lineno) == (__file__, line)

    def test_classmethod(self, caught: list[warnings.WarningMessage]) -> None:
        line, result = here(), Host.oldClassMethod()
        assert result == "Host"
        w = only(caught)
        assert "Host.oldClassMethod was deprecated" in str(w.message)
        assert w.lineno == line

    def test_staticmethod(self, caught: list[warnings.WarningMessage]) -> None:
        line, result = here(), Host.oldStatic()
        assert result == 5
        assert only(caught).lineno == line


class TestDeprecatedClass:
    def test_instantiation_warns(self, caught: list[warnings.WarningMessage]) -> None:
        line, obj = here(), OldClass(3)
        assert obj.x == 3
        w = only(caught)
        assert str(w.message) == (
            f"{MOD}.OldClass was deprecated in fw-core 1.4.0; please use {MOD}.Host instead"
        )
        assert (w.filename, w.lineno) == (__file__, line)

    def test_still_a_class(self, caught: list[warnings.WarningMessage]) -> None:
        assert isinstance(OldClass, type)
        assert isinstance(OldClass(1), OldClass)
        assert OldClass.deprecatedVersion == V  # type: ignore[attr-defined]
        assert (OldClass.__doc__ or "").startswith("An old class.")
        assert "Deprecated in fw-core 1.4.0" in (OldClass.__doc__ or "")
        assert OldClass.__init__.__qualname__ == "OldClass.__init__"

    def test_subclass_warns(self, caught: list[warnings.WarningMessage]) -> None:
        class Child(OldClass):
            pass

        line, child = here(), Child(2)
        assert child.x == 2
        assert only(caught).lineno == line

    def test_no_init(self, caught: list[warnings.WarningMessage]) -> None:
        line, _ = here(), OldClassNoInit()
        assert only(caught).lineno == line

    def test_new_consumes_arguments(self, caught: list[warnings.WarningMessage]) -> None:
        line, value = here(), OldTuple((1, 2))
        assert value == (1, 2)
        assert only(caught).lineno == line

    def test_class_without_init_rejects_arguments(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(TypeError):
                OldClassNoInit(1)  # type: ignore[call-arg]


class TestDeprecatedProperty:
    def test_get(self, caught: list[warnings.WarningMessage]) -> None:
        host = Host()
        line, value = here(), host.oldValue
        assert value == 1
        w = only(caught)
        assert str(w.message) == (
            f"{MOD}.Host.oldValue was deprecated in fw-core 1.4.0; please use Host.value instead"
        )
        assert (w.filename, w.lineno) == (__file__, line)

    def test_set(self, caught: list[warnings.WarningMessage]) -> None:
        host = Host()
        host.oldValue = 7
        line = here() - 1
        assert only(caught).lineno == line
        assert host._value == 7

    def test_delete(self, caught: list[warnings.WarningMessage]) -> None:
        host = Host()
        del host.oldValue
        line = here() - 1
        assert only(caught).lineno == line
        assert host._value == 0

    def test_read_only(self, caught: list[warnings.WarningMessage]) -> None:
        host = Host()
        assert host.readOnly == "ro"
        with pytest.raises(AttributeError, match="has no setter"):
            host.readOnly = "x"
        with pytest.raises(AttributeError, match="has no deleter"):
            del host.readOnly
        assert len(caught) == 1

    def test_decorator_setter_idiom(self, caught: list[warnings.WarningMessage]) -> None:
        legacy: Any = Legacy()
        assert legacy.legacy == "initial"
        legacy.legacy = "changed"
        line = here() - 1
        assert legacy.stored == "changed"
        assert [w.lineno for w in caught] == [line - 1, line]
        assert str(caught[1].message) == f"{MOD}.Legacy.legacy was deprecated in fw-core 1.4.0"

    def test_class_access_is_silent(self, caught: list[warnings.WarningMessage]) -> None:
        prop = Host.oldValue
        assert prop.deprecatedVersion == V
        assert (
            prop.__doc__ == "The value, the old way.\n\n"
            "Deprecated in fw-core 1.4.0; please use Host.value instead."
        )
        assert caught == []

    def test_getter_replacement(self, caught: list[warnings.WarningMessage]) -> None:
        class Other:
            @deprecatedProperty("fw-core 1.0.0")
            def thing(self) -> int:
                return 1

            @thing.getter  # type: ignore[no-redef]
            def thing(self) -> int:
                return 2

        assert Other().thing == 2
        assert "Other.thing was deprecated in fw-core 1.0.0" in str(only(caught).message)


def keywords(a: int, old: int = 0, *, other: int = 0) -> int:
    """Take keywords."""
    return a + old + other


class TestDeprecatedKeywordParameter:
    deco = staticmethod(deprecatedKeywordParameter(V, "old", "other"))

    def test_keyword(self, caught: list[warnings.WarningMessage]) -> None:
        f = self.deco(keywords)
        line, result = here(), f(1, old=2)
        assert result == 3
        w = only(caught)
        assert str(w.message) == (
            f"The 'old' parameter to {MOD}.keywords was deprecated in fw-core 1.4.0; "
            "please use other instead"
        )
        assert (w.filename, w.lineno) == (__file__, line)

    def test_positional(self, caught: list[warnings.WarningMessage]) -> None:
        f = self.deco(keywords)
        line, _ = here(), f(1, 2)
        assert only(caught).lineno == line

    def test_not_passed(self, caught: list[warnings.WarningMessage]) -> None:
        f = self.deco(keywords)
        assert f(1, other=4) == 5
        assert f(1) == 1
        assert caught == []

    def test_keyword_only(self, caught: list[warnings.WarningMessage]) -> None:
        f = deprecatedKeywordParameter(V, "other")(keywords)
        assert f(1, 2) == 3
        assert caught == []
        f(1, other=1)
        assert "The 'other' parameter" in str(only(caught).message)

    def test_kwargs_catch_all(self, caught: list[warnings.WarningMessage]) -> None:
        def takesKwargs(*args: int, **kwargs: int) -> int:
            return len(args) + len(kwargs)

        f = deprecatedKeywordParameter(V, "gone")(takesKwargs)
        assert f(1, 2, 3) == 3
        assert caught == []
        f(gone=1)
        assert len(caught) == 1

    def test_docstring(self) -> None:
        f = self.deco(keywords)
        assert f.__doc__ == (
            "Take keywords.\n\nThe 'old' parameter was deprecated in fw-core 1.4.0; "
            "please use other instead."
        )
        assert f.__name__ == "keywords"


@pytest.fixture
def tempModules(tmp_path: Path) -> Iterator[Callable[[str, str], ModuleType]]:
    """Write and import throwaway modules (a name ending in ``.`` is only written)."""
    sys.path.insert(0, str(tmp_path))
    created: list[str] = []

    def make(name: str, source: str) -> ModuleType:
        load = not name.endswith(".")
        name = name.rstrip(".")
        path = tmp_path.joinpath(*name.split("."))
        if name.count("."):
            path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".py").write_text(textwrap.dedent(source))
        created.append(name)
        return __import__(name, fromlist=["_"]) if load else ModuleType(name)

    try:
        yield make
    finally:
        sys.path.remove(str(tmp_path))
        for name in list(sys.modules):
            if name.split(".")[0] in {c.split(".")[0] for c in created}:
                del sys.modules[name]


MODULE_SOURCE = """
from fw.python.deprecate import deprecatedModuleAttribute, Version

OLD = 42
KEPT = 1

deprecatedModuleAttribute(Version("fw-core", 1, 4, 0), "Use KEPT.", __name__, "OLD")
"""


class TestDeprecatedModuleAttribute:
    def test_attribute_access(
        self, tempModules: Callable[[str, str], ModuleType], caught: list[warnings.WarningMessage]
    ) -> None:
        module = tempModules("fwdep_attr", MODULE_SOURCE)
        assert module.KEPT == 1
        assert caught == []
        line, value = here(), module.OLD
        assert value == 42
        w = only(caught)
        assert str(w.message) == "fwdep_attr.OLD was deprecated in fw-core 1.4.0: Use KEPT."
        assert (w.filename, w.lineno) == (__file__, line)

    def test_from_import(
        self, tempModules: Callable[[str, str], ModuleType], caught: list[warnings.WarningMessage]
    ) -> None:
        tempModules("fwdep_from", MODULE_SOURCE)
        line = here() + 1
        from fwdep_from import OLD  # type: ignore[import-not-found]

        assert OLD == 42
        w = only(caught)
        assert w.lineno == line
        assert w.filename == __file__

    def test_module_still_the_module(self, tempModules: Callable[[str, str], ModuleType]) -> None:
        module = tempModules("fwdep_same", MODULE_SOURCE)
        assert sys.modules["fwdep_same"] is module
        assert isinstance(module, ModuleType)
        assert "OLD" in dir(module)
        assert "KEPT" in dir(module)

    def test_missing_attribute(self, tempModules: Callable[[str, str], ModuleType]) -> None:
        module = tempModules("fwdep_missing", MODULE_SOURCE)
        with pytest.raises(AttributeError, match="module 'fwdep_missing' has no attribute 'NOPE'"):
            _ = module.NOPE

    def test_existing_getattr_kept(
        self, tempModules: Callable[[str, str], ModuleType], caught: list[warnings.WarningMessage]
    ) -> None:
        module = tempModules(
            "fwdep_lazy",
            """
            from fw.python.deprecate import deprecatedModuleAttribute

            A = "a"

            def __getattr__(name):
                if name == "LAZY":
                    return "lazy"
                raise AttributeError(name)

            def __dir__():
                return ["A", "LAZY"]

            deprecatedModuleAttribute("fw-core 1.0.0", "Gone.", __name__, "A")
            """,
        )
        assert module.LAZY == "lazy"
        assert caught == []
        assert module.A == "a"
        assert len(caught) == 1
        with pytest.raises(AttributeError):
            _ = module.OTHER
        assert dir(module) == ["A", "LAZY"]

    def test_two_attributes(
        self, tempModules: Callable[[str, str], ModuleType], caught: list[warnings.WarningMessage]
    ) -> None:
        module = tempModules(
            "fwdep_two",
            """
            from fw.python.deprecate import deprecatedModuleAttribute
            X = 1
            Y = 2
            deprecatedModuleAttribute("fw-core 1.0.0", "No X.", __name__, "X")
            deprecatedModuleAttribute("fw-core 1.1.0", "No Y.", __name__, "Y")
            """,
        )
        assert (module.X, module.Y) == (1, 2)
        assert [str(w.message) for w in caught] == [
            "fwdep_two.X was deprecated in fw-core 1.0.0: No X.",
            "fwdep_two.Y was deprecated in fw-core 1.1.0: No Y.",
        ]

    def test_redeprecating_keeps_value(
        self, tempModules: Callable[[str, str], ModuleType], caught: list[warnings.WarningMessage]
    ) -> None:
        module = tempModules(
            "fwdep_again",
            """
            from fw.python.deprecate import deprecatedModuleAttribute
            X = 1
            deprecatedModuleAttribute("fw-core 1.0.0", "First.", __name__, "X")
            deprecatedModuleAttribute("fw-core 1.0.0", "Second.", __name__, "X")
            """,
        )
        assert module.X == 1
        assert str(only(caught).message).endswith("Second.")

    def test_submodule(
        self, tempModules: Callable[[str, str], ModuleType], caught: list[warnings.WarningMessage]
    ) -> None:
        tempModules("fwdep_pkg.sub.", "VALUE = 3\n")
        tempModules(
            "fwdep_pkg.__init__.",
            """
            from fw.python.deprecate import deprecatedModuleAttribute
            deprecatedModuleAttribute("fw-core 1.0.0", "Use other.", "fwdep_pkg", "sub")
            """,
        )
        __import__("fwdep_pkg")
        assert "fwdep_pkg.sub" not in sys.modules
        package = sys.modules["fwdep_pkg"]
        assert "sub" not in vars(package)
        sub = package.sub
        assert sub.VALUE == 3
        assert "fwdep_pkg.sub was deprecated" in str(only(caught).message)
        # The import put the submodule in the package; it is kept behind the warning.
        assert "sub" not in vars(package)
        assert package.sub is sub
        assert len(caught) == 2


class TestWarnAboutFunction:
    def test_points_at_definition(self, caught: list[warnings.WarningMessage]) -> None:
        def offender() -> None:
            pass

        warnAboutFunction(offender, "offender does bad things")
        w = only(caught)
        assert str(w.message) == "offender does bad things"
        assert w.filename == offender.__code__.co_filename
        assert w.lineno == offender.__code__.co_firstlineno

    def test_method(self, caught: list[warnings.WarningMessage]) -> None:
        class Offending:
            def method(self) -> None:
                pass

        warnAboutFunction(Offending().method, "bad")
        w = only(caught)
        assert w.lineno == Offending.method.__code__.co_firstlineno

    def test_class(self, caught: list[warnings.WarningMessage]) -> None:
        warnAboutFunction(Host, "bad class")
        assert only(caught).lineno == vars(Host)["__init__"].__code__.co_firstlineno

    def test_registry_once(self) -> None:
        def offender() -> None:
            pass

        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("once")
            warnAboutFunction(offender, "repeat")
            warnAboutFunction(offender, "repeat")
        assert len(records) == 1

    def test_builtin(self, caught: list[warnings.WarningMessage]) -> None:
        warnAboutFunction(len, "builtin")
        w = only(caught)
        assert w.lineno == 1


class TestWarningMethod:
    def test_replace(self) -> None:
        calls: list[tuple[str, type[Warning], int]] = []

        def record(message: str, category: type[Warning], stacklevel: int) -> None:
            calls.append((message, category, stacklevel))

        original = getWarningMethod()
        assert original is warnings.warn
        setWarningMethod(record)
        try:
            oldFunction(1)
        finally:
            setWarningMethod(original)
        assert calls == [
            (f"{MOD}.oldFunction was deprecated in fw-core 1.4.0", DeprecationWarning, 3)
        ]
        assert getWarningMethod() is warnings.warn


class TestVersion:
    def test_strings(self) -> None:
        assert V.public() == V.short() == V.base() == "1.4.0"
        assert str(V) == getVersionString(V) == "fw-core 1.4.0"
        assert getVersionString("fw-web 1.0") == "fw-web 1.0"
        assert Version("p", 1, 0, 0, release_candidate=2).public() == "1.0.0rc2"
        assert Version("p", 1, 0, 0, post=1, dev=3).public() == "1.0.0.post1.dev3"

    def test_repr(self) -> None:
        assert repr(V) == "Version('fw-core', 1, 4, 0)"
        assert repr(Version("p", 1, 2, 3, dev=1)) == "Version('p', 1, 2, 3, dev=1)"

    def test_ordering(self) -> None:
        ordered = [
            Version("p", 1, 0, 0, dev=1),
            Version("p", 1, 0, 0, release_candidate=1, dev=1),
            Version("p", 1, 0, 0, release_candidate=1),
            Version("p", 1, 0, 0, release_candidate=2),
            Version("p", 1, 0, 0),
            Version("p", 1, 0, 0, post=1, dev=1),
            Version("p", 1, 0, 0, post=1),
            Version("p", 1, 0, 1),
            Version("p", 1, 1, 0),
            Version("p", 2, 0, 0),
        ]
        assert sorted(ordered[5:] + ordered[:5]) == ordered
        assert ordered[0] < ordered[-1]
        assert ordered[-1] >= ordered[0]

    def test_equality_and_hash(self) -> None:
        assert Version("P", 1, 0, 0) == Version("p", 1, 0, 0)
        assert hash(Version("P", 1, 0, 0)) == hash(Version("p", 1, 0, 0))
        assert Version("p", 1, 0, 0) != Version("q", 1, 0, 0)
        assert Version("p", 1, 0, 0) != "p 1.0.0"

    def test_incomparable(self) -> None:
        with pytest.raises(IncomparableVersions):
            _ = Version("p", 1, 0, 0) < Version("q", 1, 0, 0)
        with pytest.raises(TypeError):
            _ = Version("p", 1, 0, 0) < "p"

    def test_frozen(self) -> None:
        with pytest.raises(AttributeError):
            V.major = 2  # type: ignore[misc]


def test_public_surface() -> None:
    for name in deprecate.__all__:
        obj: Any = getattr(deprecate, name)
        assert obj is not None, name
        if callable(obj):
            assert obj.__doc__, name
