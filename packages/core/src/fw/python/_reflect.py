"""Implementation of :mod:`fw.python.reflect`: names to objects and back."""

from __future__ import annotations

import importlib
import inspect
import os
import traceback
import types
from collections.abc import Callable, MutableMapping, MutableSequence
from typing import Any, TypeVar

_T = TypeVar("_T")


class InvalidName(ValueError):
    """The dotted name given is not a valid Python name."""


class ModuleNotFound(InvalidName):
    """The first segment of a dotted name does not name an importable module."""


class ObjectNotFound(InvalidName):
    """A dotted name's leading segments import, but no module along it holds the rest."""


class _NoModuleFound(Exception):
    """Internal: the module being imported does not exist."""


def _import(name: str) -> types.ModuleType:
    """Import ``name``, telling "no such module" apart from a module failing to import.

    Raises:
        _NoModuleFound: ``name`` (or a package above it) does not exist.
        ImportError: the module exists but raised ``ImportError`` while importing.
    """
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        missing = e.name
        # Only the absence of this very module, or a package on its path, means
        # "not found"; a missing import *inside* the module is the module's bug.
        if missing is not None and (missing == name or name.startswith(missing + ".")):
            raise _NoModuleFound(name) from e
        raise


def namedModule(name: str) -> types.ModuleType:
    """Import and return the module called ``name``.

    Args:
        name: a dotted module name, such as ``"fw.python.reflect"``.

    Raises:
        ImportError: the module cannot be imported.
    """
    return importlib.import_module(name)


def namedObject(name: str) -> Any:
    """Return the object ``name`` names: a module attribute, given as ``module.attribute``.

    Args:
        name: the module's dotted name, a dot, then the attribute's name.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.
    """
    moduleName, _, attribute = name.rpartition(".")
    module = namedModule(moduleName)
    return getattr(module, attribute)


namedClass = namedObject


def requireModule(name: str, default: _T | None = None) -> types.ModuleType | _T | None:
    """Import the module ``name``, returning ``default`` if it cannot be imported.

    Args:
        name: a dotted module name.
        default: what to return when importing fails with ``ImportError``.
    """
    try:
        return namedModule(name)
    except ImportError:
        return default


def namedAny(name: str) -> Any:
    """Return the module, class, function or other object a dotted ``name`` refers to.

    The longest importable prefix of ``name`` is imported and the remaining
    segments are looked up as attributes, so ``"os.path.join"`` gives
    :func:`os.path.join` and ``"fw.python"`` gives the package.

    Args:
        name: a ``.``-separated list of Python identifiers.

    Raises:
        InvalidName: ``name`` is empty or has an empty segment.
        ModuleNotFound: ``name`` is a single segment that is not a module.
        ObjectNotFound: no prefix of a multi-segment ``name`` is importable.
        AttributeError: a module imported but lacks one of the later segments.
        ImportError: a module along the way exists but fails to import.
    """
    if not name:
        raise InvalidName("Empty module name")
    names = name.split(".")
    if "" in names:
        raise InvalidName(
            f"name must be a string giving a '.'-separated list of Python identifiers, "
            f"not {name!r}"
        )
    topLevel: types.ModuleType | None = None
    moduleNames = names[:]
    while topLevel is None:
        if not moduleNames:
            if len(names) == 1:
                raise ModuleNotFound(f"No module named {name!r}")
            raise ObjectNotFound(f"{name!r} does not name an object")
        try:
            topLevel = _import(".".join(moduleNames))
        except _NoModuleFound:
            moduleNames.pop()
    obj: Any = topLevel
    for attribute in names[len(moduleNames) :]:
        obj = getattr(obj, attribute)
    return obj


def qual(clazz: Any) -> str:
    """Return the dotted name of a class (or interface): its module and its ``__name__``.

    As in Twisted, a nested class is named by its own ``__name__`` only
    (``"pkg.mod.Inner"``); :func:`fullyQualifiedName` gives the full path.
    """
    return f"{clazz.__module__}.{clazz.__name__}"


def fullyQualifiedName(obj: object) -> str:
    """Return the dotted name a module, class, function or method is known by.

    Classes, functions and methods are prefixed with their module (a method is
    named through its class: ``"pkg.mod.Class.method"``); anything else, such
    as a module or a builtin, gets its ``__qualname__`` or ``__name__`` alone.

    Raises:
        AttributeError: ``obj`` has no ``__qualname__`` and no ``__name__``.
    """
    name: str
    try:
        name = obj.__qualname__  # type: ignore[attr-defined]
    except AttributeError:
        name = obj.__name__  # type: ignore[attr-defined]
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismethod(obj):
        return f"{obj.__module__}.{name}"
    return name


def _className(o: object) -> str:
    """Name the class of ``o`` without ever raising."""
    try:
        cls: object = type(o)
        return str(cls.__qualname__)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a broken metaclass; fall back to an address
        return f"<BROKEN CLASS AT 0x{id(type(o)):x}>"


def _safeFormat(formatter: Callable[[object], str], o: object) -> str:
    """Describe ``o`` after ``formatter(o)`` raised, without raising again."""
    try:
        details = traceback.format_exc()
    except Exception:  # noqa: BLE001 - describing a failure must not fail
        details = "(traceback unavailable)"
    return (
        f"<{_className(o)} instance at 0x{id(o):x} with "
        f"{getattr(formatter, '__name__', 'formatter')} error:\n {details}>"
    )


def safe_repr(o: object) -> str:
    """Return ``repr(o)``, or a description of the failure if ``__repr__`` raises.

    Never raises :class:`Exception`; the result names the object's class, its
    address and the traceback of the error its ``__repr__`` raised.
    """
    try:
        return repr(o)
    except Exception:  # noqa: BLE001 - any error from __repr__ is reported in the result
        return _safeFormat(repr, o)


def safe_str(o: object) -> str:
    """Return ``str(o)``, or a description of the failure if ``__str__`` raises.

    ``bytes`` holding UTF-8 are decoded rather than shown as a ``b''`` literal.
    Never raises :class:`Exception`.
    """
    if isinstance(o, bytes):
        try:
            return o.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return str(o)
    except Exception:  # noqa: BLE001 - any error from __str__ is reported in the result
        return _safeFormat(str, o)


def _isPrefixedFunction(name: str, value: object, prefix: str) -> bool:
    return (
        isinstance(value, types.FunctionType)
        and name.startswith(prefix)
        and len(name) > len(prefix)
    )


def addMethodNamesToDict(
    classObj: type[Any],
    dict: MutableMapping[str, int],
    prefix: str,
    baseClass: type[Any] | None = None,
) -> None:
    """Record in ``dict`` the names, minus ``prefix``, of methods starting with ``prefix``.

    ``classObj`` and all its bases are searched.  With ``baseClass``, only
    classes directly derived from ``baseClass`` contribute their own methods.
    Each name found maps to ``1``.
    """
    for base in classObj.__bases__:
        addMethodNamesToDict(base, dict, prefix, baseClass)
    if baseClass is None or baseClass in classObj.__bases__:
        for name, value in classObj.__dict__.items():
            if _isPrefixedFunction(name, value, prefix):
                dict[name[len(prefix) :]] = 1


def prefixedMethodNames(classObj: type[Any], prefix: str) -> list[str]:
    """Return the names, minus ``prefix``, of the methods of ``classObj`` starting with it.

    Inherited methods are included; a name appears once however many classes
    define it.
    """
    names: dict[str, int] = {}
    addMethodNamesToDict(classObj, names, prefix)
    return list(names)


def accumulateMethods(
    obj: object,
    dict: MutableMapping[str, Any],
    prefix: str = "",
    curClass: type[Any] | None = None,
) -> None:
    """Map each name, minus ``prefix``, of ``obj``'s prefixed methods to the bound method.

    The results go into ``dict``.  Methods defined in subclasses override those of their bases.
    """
    if curClass is None:
        curClass = type(obj)
    for base in curClass.__bases__:
        if base is not object:
            accumulateMethods(obj, dict, prefix, base)
    for name, value in curClass.__dict__.items():
        if _isPrefixedFunction(name, value, prefix):
            dict[name[len(prefix) :]] = getattr(obj, name)


def prefixedMethods(obj: object, prefix: str = "") -> list[Callable[..., Any]]:
    """Return the bound methods of ``obj`` whose names start with ``prefix``."""
    methods: dict[str, Any] = {}
    accumulateMethods(obj, methods, prefix)
    return list(methods.values())


def accumulateClassList(
    classObj: type[Any],
    attr: str,
    listObj: MutableSequence[Any],
    baseClass: type[Any] | None = None,
) -> None:
    """Extend ``listObj`` with the list class attribute ``attr`` of ``classObj`` and its bases.

    Base classes come first, so a subclass's entries follow its parents'.  This
    lets each class in a hierarchy add to a list (such as ``optParameters``)
    rather than replace it.  With ``baseClass``, only classes directly derived
    from ``baseClass`` contribute their own attribute.
    """
    for base in classObj.__bases__:
        accumulateClassList(base, attr, listObj)
    if baseClass is None or baseClass in classObj.__bases__:
        listObj.extend(classObj.__dict__.get(attr, []))


def accumulateClassDict(
    classObj: type[Any],
    attr: str,
    adict: MutableMapping[Any, Any],
    baseClass: type[Any] | None = None,
) -> None:
    """Update ``adict`` with the dict class attribute ``attr`` of ``classObj`` and its bases.

    Bases are merged first, so a subclass's keys override its parents'.
    With ``baseClass``, only classes directly derived from ``baseClass``
    contribute their own attribute.
    """
    for base in classObj.__bases__:
        accumulateClassDict(base, attr, adict)
    if baseClass is None or baseClass in classObj.__bases__:
        adict.update(classObj.__dict__.get(attr, {}))


def allYourBase(classObj: type[Any], baseClass: type[Any] | None = None) -> list[type[Any]]:
    """Return every base class of ``classObj``, depth first (duplicates kept)."""
    bases: list[type[Any]] = []
    accumulateBases(classObj, bases, baseClass)
    return bases


def accumulateBases(
    classObj: type[Any],
    l: MutableSequence[type[Any]],  # noqa: E741 - Twisted's parameter name
    baseClass: type[Any] | None = None,
) -> None:
    """Append to ``l`` the bases of ``classObj``, depth first, that derive from ``baseClass``."""
    for base in classObj.__bases__:
        if baseClass is None or issubclass(base, baseClass):
            l.append(base)
        accumulateBases(base, l, baseClass)


def filenameToModuleName(fn: str | bytes) -> str:
    """Return the dotted module name of the Python source file ``fn``.

    Parent directories holding an ``__init__.py`` are packages and become
    leading segments: ``"pkg/sub/mod.py"`` is ``"pkg.sub.mod"`` when both
    ``pkg`` and ``pkg/sub`` have an ``__init__.py``.  A trailing separator
    is ignored, so a package directory names itself.
    """
    path = os.fsdecode(fn)
    full = os.path.abspath(path)
    base = os.path.basename(path) or os.path.basename(path[:-1])
    moduleName = os.path.splitext(base)[0]
    directory = os.path.dirname(full)
    while os.path.exists(os.path.join(directory, "__init__.py")):
        moduleName = f"{os.path.basename(directory)}.{moduleName}"
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return moduleName


__all__ = [
    "InvalidName",
    "ModuleNotFound",
    "ObjectNotFound",
    "accumulateBases",
    "accumulateClassDict",
    "accumulateClassList",
    "accumulateMethods",
    "addMethodNamesToDict",
    "allYourBase",
    "filenameToModuleName",
    "fullyQualifiedName",
    "namedAny",
    "namedClass",
    "namedModule",
    "namedObject",
    "prefixedMethodNames",
    "prefixedMethods",
    "qual",
    "requireModule",
    "safe_repr",
    "safe_str",
]
