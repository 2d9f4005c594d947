"""Tests for fw.python.reflect."""

from __future__ import annotations

import os
import os.path
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from zope.interface import Interface

import fw.python.reflect
from fw.python import reflect
from fw.python.reflect import (
    InvalidName,
    ModuleNotFound,
    ObjectNotFound,
    accumulateBases,
    accumulateClassDict,
    accumulateClassList,
    accumulateMethods,
    addMethodNamesToDict,
    allYourBase,
    filenameToModuleName,
    fullyQualifiedName,
    namedAny,
    namedClass,
    namedModule,
    namedObject,
    prefixedMethodNames,
    prefixedMethods,
    qual,
    requireModule,
    safe_repr,
    safe_str,
)


@pytest.fixture
def pkgdir(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path holding a package with some troublesome modules."""
    root = tmp_path / "site"
    pkg = root / "fwreflpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 1\n")
    (pkg / "good.py").write_text("class Thing:\n    attr = 'a'\n")
    (pkg / "brokenimport.py").write_text("import fwrefl_no_such_dependency\n")
    (pkg / "raiser.py").write_text("raise ImportError('deliberately broken')\n")
    (pkg / "valueerr.py").write_text("raise ValueError('boom')\n")
    sys.path.insert(0, str(root))
    try:
        yield pkg
    finally:
        sys.path.remove(str(root))
        for name in list(sys.modules):
            if name == "fwreflpkg" or name.startswith("fwreflpkg."):
                del sys.modules[name]


class TestNamedAny:
    def test_module(self) -> None:
        assert namedAny("os") is os

    def test_submodule(self) -> None:
        assert namedAny("os.path") is os.path

    def test_function(self) -> None:
        assert namedAny("os.path.join") is os.path.join

    def test_class_attribute(self, pkgdir: Path) -> None:
        assert namedAny("fwreflpkg.good.Thing.attr") == "a"

    def test_package_attribute(self, pkgdir: Path) -> None:
        assert namedAny("fwreflpkg.VALUE") == 1

    def test_empty(self) -> None:
        with pytest.raises(InvalidName, match="Empty module name"):
            namedAny("")

    @pytest.mark.parametrize("name", [".os", "os.", "os..path", "."])
    def test_empty_segment(self, name: str) -> None:
        with pytest.raises(InvalidName, match=r"'\.'-separated list"):
            namedAny(name)

    def test_invalid_name_is_value_error(self) -> None:
        assert issubclass(InvalidName, ValueError)
        assert issubclass(ModuleNotFound, InvalidName)
        assert issubclass(ObjectNotFound, InvalidName)

    def test_single_unknown_module(self) -> None:
        with pytest.raises(ModuleNotFound, match="No module named 'fwrefl_nosuch'"):
            namedAny("fwrefl_nosuch")

    def test_unknown_dotted(self) -> None:
        with pytest.raises(ObjectNotFound, match=r"'fwrefl_nosuch\.x' does not name an object"):
            namedAny("fwrefl_nosuch.x")

    def test_missing_attribute(self) -> None:
        with pytest.raises(AttributeError):
            namedAny("os.fwrefl_no_such_attribute")

    def test_missing_submodule_of_package(self, pkgdir: Path) -> None:
        with pytest.raises(AttributeError):
            namedAny("fwreflpkg.nosuchmodule")

    def test_module_with_broken_import(self, pkgdir: Path) -> None:
        """A module that exists but fails to import its dependency is an error, not absence."""
        with pytest.raises(ImportError) as info:
            namedAny("fwreflpkg.brokenimport")
        assert not isinstance(info.value, InvalidName)
        assert "fwrefl_no_such_dependency" in str(info.value)

    def test_module_raising_import_error(self, pkgdir: Path) -> None:
        with pytest.raises(ImportError, match="deliberately broken"):
            namedAny("fwreflpkg.raiser")

    def test_module_raising_other_error(self, pkgdir: Path) -> None:
        with pytest.raises(ValueError, match="boom"):
            namedAny("fwreflpkg.valueerr")

    def test_attribute_of_broken_module(self, pkgdir: Path) -> None:
        with pytest.raises(ImportError, match="deliberately broken"):
            namedAny("fwreflpkg.raiser.something")


class TestNamedModuleObject:
    def test_named_module(self) -> None:
        assert namedModule("os.path") is os.path
        assert namedModule("fw.python.reflect") is fw.python.reflect

    def test_named_module_missing(self) -> None:
        with pytest.raises(ImportError):
            namedModule("fwrefl_nosuch")

    def test_named_object(self) -> None:
        assert namedObject("os.path.join") is os.path.join
        assert namedObject("fw.python.reflect.qual") is qual

    def test_named_object_missing_attribute(self) -> None:
        with pytest.raises(AttributeError):
            namedObject("os.fwrefl_nothing")

    def test_named_object_missing_module(self) -> None:
        with pytest.raises(ImportError):
            namedObject("fwrefl_nosuch.thing")

    def test_named_object_no_module_part(self) -> None:
        with pytest.raises(ValueError):
            namedObject("justaname")

    def test_named_class(self, pkgdir: Path) -> None:
        cls = namedClass("fwreflpkg.good.Thing")
        assert cls.__name__ == "Thing"


class TestRequireModule:
    def test_present(self) -> None:
        assert requireModule("os") is os

    def test_absent_default_none(self) -> None:
        assert requireModule("fwrefl_nosuch") is None

    def test_absent_default(self) -> None:
        sentinel = object()
        assert requireModule("fwrefl_nosuch", sentinel) is sentinel

    def test_broken_dependency(self, pkgdir: Path) -> None:
        assert requireModule("fwreflpkg.brokenimport", 7) == 7


class Outer:
    class Inner:
        def method(self) -> None:
            pass

    def method(self) -> None:
        pass


def plainFunction() -> None:
    pass


class TestNames:
    def test_qual(self) -> None:
        assert qual(InvalidName) == "fw.python._reflect.InvalidName"
        assert qual(int) == "builtins.int"

    def test_qual_nested(self) -> None:
        """As in Twisted, the class's own name only; fullyQualifiedName has the path."""
        assert qual(Outer.Inner) == f"{__name__}.Inner"

    def test_qual_interface(self) -> None:
        class IThing(Interface):
            pass

        assert qual(IThing) == f"{__name__}.IThing"

    def test_fqn_module(self) -> None:
        assert fullyQualifiedName(reflect) == "fw.python.reflect"
        assert fullyQualifiedName(os.path) == os.path.__name__

    def test_fqn_class(self) -> None:
        assert fullyQualifiedName(Outer) == f"{__name__}.Outer"
        assert fullyQualifiedName(Outer.Inner) == f"{__name__}.Outer.Inner"

    def test_fqn_function(self) -> None:
        assert fullyQualifiedName(plainFunction) == f"{__name__}.plainFunction"

    def test_fqn_unbound_and_bound_method(self) -> None:
        assert fullyQualifiedName(Outer.method) == f"{__name__}.Outer.method"
        assert fullyQualifiedName(Outer().method) == f"{__name__}.Outer.method"
        assert fullyQualifiedName(Outer.Inner().method) == f"{__name__}.Outer.Inner.method"

    def test_fqn_builtin(self) -> None:
        assert fullyQualifiedName(len) == "len"

    def test_fqn_nameless(self) -> None:
        with pytest.raises(AttributeError):
            fullyQualifiedName(object())


class BrokenRepr:
    def __repr__(self) -> str:
        raise ZeroDivisionError("bad repr")

    def __str__(self) -> str:
        raise RuntimeError("bad str")


class BrokenClassName:
    """An object whose class lies about being a class."""

    @property  # type: ignore[misc]
    def __class__(self) -> Any:
        raise RuntimeError("no class for you")

    def __repr__(self) -> str:
        raise RuntimeError("and no repr")


class BrokenMeta(type):
    def __getattribute__(cls, name: str) -> Any:
        if name == "__qualname__":
            raise RuntimeError("no qualname")
        return super().__getattribute__(name)


class WithBrokenMeta(metaclass=BrokenMeta):
    def __repr__(self) -> str:
        raise RuntimeError("bad")


class TestSafe:
    def test_safe_repr_normal(self) -> None:
        assert safe_repr([1, "a"]) == "[1, 'a']"

    def test_safe_repr_broken(self) -> None:
        o = BrokenRepr()
        text = safe_repr(o)
        assert text.startswith(f"<BrokenRepr instance at 0x{id(o):x} with repr error:")
        assert "ZeroDivisionError: bad repr" in text
        assert text.endswith(">")

    def test_safe_str_normal(self) -> None:
        assert safe_str(12) == "12"
        assert safe_str("x") == "x"

    def test_safe_str_broken(self) -> None:
        o = BrokenRepr()
        text = safe_str(o)
        assert text.startswith(f"<BrokenRepr instance at 0x{id(o):x} with str error:")
        assert "RuntimeError: bad str" in text

    def test_safe_str_utf8_bytes(self) -> None:
        assert safe_str("h\N{LATIN SMALL LETTER E WITH ACUTE}".encode()) == (
            "h\N{LATIN SMALL LETTER E WITH ACUTE}"
        )

    def test_safe_str_non_utf8_bytes(self) -> None:
        assert safe_str(b"\xff\x00") == "b'\\xff\\x00'"

    def test_safe_repr_broken_class_attribute(self) -> None:
        text = safe_repr(BrokenClassName())
        assert "BrokenClassName instance at" in text
        assert "and no repr" in text

    def test_safe_repr_broken_metaclass(self) -> None:
        text = safe_repr(WithBrokenMeta())
        assert "<BROKEN CLASS AT 0x" in text
        assert "with repr error" in text

    def test_does_not_swallow_keyboard_interrupt(self) -> None:
        class Interrupting:
            def __repr__(self) -> str:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            safe_repr(Interrupting())


class Base:
    listAttr: ClassVar[list[str]] = ["base"]
    dictAttr: ClassVar[dict[str, int]] = {"a": 1, "b": 1}

    def proto_one(self) -> str:
        return "base-one"

    def proto_two(self) -> str:
        return "base-two"

    def other(self) -> None:
        pass

    proto_ = None


class Middle(Base):
    listAttr: ClassVar[list[str]] = ["middle"]

    def proto_two(self) -> str:
        return "middle-two"


class Sub(Middle):
    listAttr: ClassVar[list[str]] = ["sub1", "sub2"]
    dictAttr: ClassVar[dict[str, int]] = {"b": 3, "c": 3}

    def proto_three(self) -> str:
        return "sub-three"

    proto_notAFunction = 3


class TestPrefixed:
    def test_prefixed_method_names(self) -> None:
        assert sorted(prefixedMethodNames(Sub, "proto_")) == ["one", "three", "two"]

    def test_prefix_alone_is_not_a_method(self) -> None:
        class C:
            def proto_(self) -> None:
                pass

        assert prefixedMethodNames(C, "proto_") == []

    def test_add_method_names_base_class(self) -> None:
        found: dict[str, int] = {}
        addMethodNamesToDict(Sub, found, "proto_", Middle)
        assert found == {"three": 1}

    def test_prefixed_methods_bound_and_overridden(self) -> None:
        obj = Sub()
        methods = prefixedMethods(obj, "proto_")
        assert sorted(m() for m in methods) == ["base-one", "middle-two", "sub-three"]
        assert all(getattr(m, "__self__", None) is obj for m in methods)

    def test_accumulate_methods(self) -> None:
        found: dict[str, Any] = {}
        accumulateMethods(Sub(), found, "proto_")
        assert sorted(found) == ["one", "three", "two"]
        assert found["two"]() == "middle-two"

    def test_prefixed_methods_empty_prefix(self) -> None:
        names = {m.__name__ for m in prefixedMethods(Middle())}
        assert {"proto_one", "proto_two", "other"} <= names


class TestAccumulate:
    def test_class_list(self) -> None:
        result: list[str] = []
        accumulateClassList(Sub, "listAttr", result)
        assert result == ["base", "middle", "sub1", "sub2"]

    def test_class_list_base_class(self) -> None:
        result: list[str] = []
        accumulateClassList(Sub, "listAttr", result, Middle)
        assert result == ["base", "middle", "sub1", "sub2"]
        result = []
        accumulateClassList(Sub, "listAttr", result, Base)
        assert result == ["base", "middle"]

    def test_class_dict(self) -> None:
        result: dict[str, int] = {}
        accumulateClassDict(Sub, "dictAttr", result)
        assert result == {"a": 1, "b": 3, "c": 3}

    def test_class_dict_base_class(self) -> None:
        result: dict[str, int] = {}
        accumulateClassDict(Sub, "dictAttr", result, Base)
        assert result == {"a": 1, "b": 1}

    def test_all_your_base(self) -> None:
        assert allYourBase(Sub) == [Middle, Base, object]
        assert allYourBase(Sub, Base) == [Middle, Base]

    def test_accumulate_bases(self) -> None:
        found: list[type[Any]] = []
        accumulateBases(Middle, found, None)
        assert found == [Base, object]


class TestFilenameToModuleName:
    @pytest.fixture
    def tree(self, tmp_path: Path) -> Path:
        (tmp_path / "outer" / "pkg" / "sub").mkdir(parents=True)
        (tmp_path / "outer" / "pkg" / "__init__.py").write_text("")
        (tmp_path / "outer" / "pkg" / "sub" / "__init__.py").write_text("")
        return tmp_path

    def test_plain_file(self, tmp_path: Path) -> None:
        assert filenameToModuleName(str(tmp_path / "mod.py")) == "mod"

    def test_in_packages(self, tree: Path) -> None:
        path = tree / "outer" / "pkg" / "sub" / "mod.py"
        assert filenameToModuleName(str(path)) == "pkg.sub.mod"

    def test_package_directory(self, tree: Path) -> None:
        path = str(tree / "outer" / "pkg" / "sub")
        assert filenameToModuleName(path) == "pkg.sub"
        assert filenameToModuleName(path + os.sep) == "pkg.sub"

    def test_bytes(self, tree: Path) -> None:
        path = os.fsencode(tree / "outer" / "pkg" / "mod.py")
        assert filenameToModuleName(path) == "pkg.mod"

    def test_relative(self, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tree / "outer" / "pkg")
        assert filenameToModuleName("mod.py") == "pkg.mod"


def test_public_surface() -> None:
    for name in reflect.__all__:
        obj = getattr(reflect, name)
        assert obj.__doc__, name
    assert textwrap.dedent(reflect.__doc__ or "").strip()
