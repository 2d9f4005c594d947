"""Implementation of :mod:`fw.python.deprecate`."""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, Generic, Protocol, TypeAlias, TypeVar, cast, overload

from fw.python._deprecate_version import Version, getVersionString
from fw.python._reflect import fullyQualifiedName

_F = TypeVar("_F", bound=Callable[..., Any])
_S = TypeVar("_S")
_T = TypeVar("_T")

#: The default format of a deprecation warning: ``%(fqpn)s`` is the deprecated
#: thing's fully qualified name and ``%(version)s`` the version string.
DEPRECATION_WARNING_FORMAT = "%(fqpn)s was deprecated in %(version)s"

#: What a deprecation API accepts as the release that deprecated something:
#: a :class:`Version`, or a string such as ``"fw-core 1.4.0"``.
VersionLike: TypeAlias = Version | str
#: What to use instead of the deprecated thing: text, or a callable that is
#: named by its fully qualified name.
Replacement: TypeAlias = str | Callable[..., object] | None


class WarningMethod(Protocol):
    """The signature of a callable that issues deprecation warnings."""

    def __call__(self, message: str, category: type[Warning], stacklevel: int) -> object: ...


_warn: WarningMethod = warnings.warn


def getWarningMethod() -> WarningMethod:
    """Return the callable deprecation warnings are currently issued through."""
    return _warn


def setWarningMethod(newMethod: WarningMethod) -> None:
    """Issue deprecation warnings through ``newMethod`` from now on.

    ``newMethod`` is called as ``newMethod(message, category, stacklevel=n)``
    and its result is ignored.  ``n`` is right for :func:`warnings.warn` itself
    (the default method); a wrapper that calls :func:`warnings.warn` must add
    one for its own frame.
    """
    global _warn
    _warn = newMethod


def _issue(message: str, stacklevel: int) -> None:
    """Issue ``message`` as a DeprecationWarning ``stacklevel`` frames above our caller."""
    _warn(message, DeprecationWarning, stacklevel=stacklevel + 1)


def _replacementString(replacement: str | Callable[..., object]) -> str:
    """``"please use X instead"``, naming callables by their fully qualified name."""
    if callable(replacement):
        replacement = fullyQualifiedName(replacement)
    return f"please use {replacement} instead"


def _deprecationDocstring(version: VersionLike, replacement: Replacement) -> str:
    text = f"Deprecated in {getVersionString(version)}"
    if replacement:
        text += "; " + _replacementString(replacement)
    return text + "."


def _warningString(
    fqpn: str, version: VersionLike, format: str | None = None, replacement: Replacement = None
) -> str:
    if format is None:
        format = DEPRECATION_WARNING_FORMAT
    text = format % {"fqpn": fqpn, "version": getVersionString(version)}
    if replacement:
        text += "; " + _replacementString(replacement)
    return text


def getDeprecationWarningString(
    callableThing: Callable[..., object],
    version: VersionLike,
    format: str | None = None,
    replacement: Replacement = None,
) -> str:
    """Return the text of the warning issued when ``callableThing`` is used.

    Args:
        callableThing: the deprecated function, method or class.
        version: the release that deprecated it, as a :class:`Version` or
            a string such as ``"fw-core 1.4.0"``.
        format: a ``%``-format with ``fqpn`` and ``version`` keys; by default
            :data:`DEPRECATION_WARNING_FORMAT`.
        replacement: what to use instead: text, or a callable which is named
            by its fully qualified name.

    Returns:
        Such as ``"pkg.f was deprecated in fw-core 1.4.0; please use pkg.g instead"``.
    """
    return _warningString(fullyQualifiedName(callableThing), version, format, replacement)


def _appendToDocstring(thing: Any, text: str) -> None:
    """Add ``text`` as a final paragraph of ``thing``'s docstring, keeping its indentation."""
    doc = thing.__doc__
    if not doc:
        thing.__doc__ = text
        return
    lines = doc.splitlines()
    if len(lines) == 1:
        thing.__doc__ = f"{doc.rstrip()}\n\n{text}"
        return
    indent = ""
    for line in lines[1:]:
        if line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            break
    trailer = lines[-1] if not lines[-1].strip() else ""
    body = doc.rstrip()
    thing.__doc__ = f"{body}\n\n{indent}{text}\n{trailer}"


def _deprecateClass(cls: type[Any], message: str) -> None:
    """Make instantiating ``cls`` (or a subclass) issue ``message``."""
    originalInit = cls.__init__

    if originalInit is object.__init__:

        def __init__(self: object, *args: object, **kwargs: object) -> None:
            _issue(message, 2)
            # Arguments are an error unless a __new__ took them, as they would
            # be without this wrapper; object.__init__ itself takes none.
            if (args or kwargs) and type(self).__new__ is object.__new__:
                raise TypeError(f"{type(self).__qualname__}() takes no arguments")
            object.__init__(self)

    else:

        @functools.wraps(originalInit)
        def __init__(self: object, *args: object, **kwargs: object) -> None:
            _issue(message, 2)
            originalInit(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__


def deprecated(version: VersionLike, replacement: Replacement = None) -> Callable[[_F], _F]:
    """Return a decorator marking a function, method or class as deprecated.

    Calling the function (or instantiating the class) issues a
    :class:`DeprecationWarning` that names it, the release that deprecated it,
    and ``replacement``, attributed to the calling line.  The decorated
    object's docstring gains a note and its ``deprecatedVersion`` attribute is
    ``version``.  A decorated class stays a class: ``isinstance`` and
    subclassing keep working.  ``classmethod`` and ``staticmethod`` objects
    may be decorated too.

    Args:
        version: the release that deprecated it (a :class:`Version`, or a string
            such as ``"fw-core 1.4.0"``).
        replacement: what to use instead: text, or a callable which is named by
            its fully qualified name.
    """

    def deprecationDecorator(thing: _F) -> _F:
        if isinstance(thing, classmethod | staticmethod):
            # Deprecate the function inside, then wrap it again the same way.
            inner = deprecationDecorator(thing.__func__)
            return cast(_F, type(thing)(inner))
        message = getDeprecationWarningString(thing, version, None, replacement)
        if isinstance(thing, type):
            _deprecateClass(thing, message)
            result: Any = thing
        else:

            @functools.wraps(thing)
            def deprecatedFunction(*args: object, **kwargs: object) -> object:
                _issue(message, 2)
                return thing(*args, **kwargs)

            result = deprecatedFunction
            # The wrapper returns the coroutine itself, so the warning points at
            # the call; say that it is a coroutine function where Python can.
            markCoroutine = getattr(inspect, "markcoroutinefunction", None)
            if markCoroutine is not None and inspect.iscoroutinefunction(thing):
                markCoroutine(result)
        _appendToDocstring(result, _deprecationDocstring(version, replacement))
        result.deprecatedVersion = version
        return cast(_F, result)

    return deprecationDecorator


class DeprecatedProperty(Generic[_S, _T]):
    """A property whose reading, writing and deleting each issue a deprecation warning.

    Made by :func:`deprecatedProperty`; ``getter``, ``setter`` and ``deleter``
    return a copy with that accessor replaced, as for :class:`property`.
    """

    deprecatedVersion: VersionLike

    def __init__(
        self,
        fget: Callable[[_S], _T],
        version: VersionLike,
        replacement: Replacement = None,
        fset: Callable[[_S, _T], None] | None = None,
        fdel: Callable[[_S], None] | None = None,
    ) -> None:
        self.fget = fget
        self.fset = fset
        self.fdel = fdel
        self.deprecatedVersion = version
        self.replacement = replacement
        self.__name__: str = getattr(fget, "__name__", "")
        self.warningString = getDeprecationWarningString(fget, version, None, replacement)
        doc = fget.__doc__
        self.__doc__ = doc
        _appendToDocstring(self, _deprecationDocstring(version, replacement))

    def __set_name__(self, owner: type[Any], name: str) -> None:
        # Name the attribute as the class knows it, which need not be the getter's name.
        self.__name__ = name
        self.warningString = _warningString(
            f"{owner.__module__}.{owner.__qualname__}.{name}",
            self.deprecatedVersion,
            replacement=self.replacement,
        )

    @overload
    def __get__(
        self, instance: None, owner: type[Any] | None = None
    ) -> DeprecatedProperty[_S, _T]: ...
    @overload
    def __get__(self, instance: _S, owner: type[Any] | None = None) -> _T: ...
    def __get__(
        self, instance: _S | None, owner: type[Any] | None = None
    ) -> _T | DeprecatedProperty[_S, _T]:
        if instance is None:
            return self
        _issue(self.warningString, 2)
        return self.fget(instance)

    def __set__(self, instance: _S, value: _T) -> None:
        if self.fset is None:
            raise AttributeError(f"property {self.__name__!r} has no setter")
        _issue(self.warningString, 2)
        self.fset(instance, value)

    def __delete__(self, instance: _S) -> None:
        if self.fdel is None:
            raise AttributeError(f"property {self.__name__!r} has no deleter")
        _issue(self.warningString, 2)
        self.fdel(instance)

    def getter(self, fget: Callable[[_S], _T]) -> DeprecatedProperty[_S, _T]:
        """Return a copy of this property reading with ``fget``."""
        return self._replace(fget, self.fset, self.fdel)

    def setter(self, fset: Callable[[_S, _T], None]) -> DeprecatedProperty[_S, _T]:
        """Return a copy of this property writing with ``fset``."""
        return self._replace(self.fget, fset, self.fdel)

    def deleter(self, fdel: Callable[[_S], None]) -> DeprecatedProperty[_S, _T]:
        """Return a copy of this property deleting with ``fdel``."""
        return self._replace(self.fget, self.fset, fdel)

    def _replace(
        self,
        fget: Callable[[_S], _T],
        fset: Callable[[_S, _T], None] | None,
        fdel: Callable[[_S], None] | None,
    ) -> DeprecatedProperty[_S, _T]:
        new = DeprecatedProperty(fget, self.deprecatedVersion, self.replacement, fset, fdel)
        new.__doc__ = self.__doc__
        new.warningString = self.warningString
        return new


def deprecatedProperty(
    version: VersionLike, replacement: Replacement = None
) -> Callable[[Callable[[_S], _T]], DeprecatedProperty[_S, _T]]:
    """Return a decorator that makes a deprecated property of a getter.

    Use it where ``@property`` would go.  Reading, writing or deleting the
    attribute on an instance issues a :class:`DeprecationWarning` naming it
    (``pkg.Class.attribute``), attributed to the line doing it; reading it on
    the class gives the :class:`DeprecatedProperty` silently.

    Twisted's ``@name.setter`` / ``@name.deleter`` idiom works at run time,
    but mypy only understands that idiom for the builtin ``property``; typed
    code spells it without redefinitions::

        name = deprecatedProperty(version)(_getName).setter(_setName)

    Args:
        version: the release that deprecated it.
        replacement: what to use instead: text or a callable.
    """

    def deprecationDecorator(fget: Callable[[_S], _T]) -> DeprecatedProperty[_S, _T]:
        return DeprecatedProperty(fget, version, replacement)

    return deprecationDecorator


class _DeprecatedAttribute:
    """A module attribute that warns when read."""

    __slots__ = ("loaded", "message", "name", "value")

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        self.loaded = False
        self.value: object = None


class _ModuleDeprecations:
    """The deprecated attributes of one module, and the module ``__getattr__`` serving them."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.attributes: dict[str, _DeprecatedAttribute] = {}
        namespace = module.__dict__
        self.fallbackGetattr: Callable[[str], object] | None = namespace.get("__getattr__")
        self.fallbackDir: Callable[[], list[str]] | None = namespace.get("__dir__")

    def getattr(self, name: str) -> object:
        attribute = self.attributes.get(name)
        if attribute is None:
            if self.fallbackGetattr is not None:
                return self.fallbackGetattr(name)
            raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r}")
        # Two frames up: past this method and the module's __getattr__.
        _issue(attribute.message, 3)
        return self.load(attribute)

    def load(self, attribute: _DeprecatedAttribute) -> object:
        if not attribute.loaded:
            # A name that was not an attribute when it was deprecated is a
            # submodule that has not been imported yet.
            submodule = f"{self.module.__name__}.{attribute.name}"
            importlib.import_module(submodule)
            attribute.value = self.module.__dict__.pop(attribute.name, sys.modules[submodule])
            attribute.loaded = True
        return attribute.value

    def dir(self) -> list[str]:
        names = self.fallbackDir() if self.fallbackDir is not None else list(self.module.__dict__)
        return sorted({*names, *self.attributes})


def _deprecationsOf(module: ModuleType) -> _ModuleDeprecations:
    existing = module.__dict__.get("__getattr__")
    owner = getattr(existing, "_fwDeprecations", None)
    if isinstance(owner, _ModuleDeprecations):
        return owner
    deprecations = _ModuleDeprecations(module)

    def __getattr__(name: str) -> object:
        return deprecations.getattr(name)

    def __dir__() -> list[str]:
        return deprecations.dir()

    __getattr__._fwDeprecations = deprecations  # type: ignore[attr-defined]
    module.__dict__["__getattr__"] = __getattr__
    module.__dict__["__dir__"] = __dir__
    return deprecations


def deprecatedModuleAttribute(
    version: VersionLike, message: str, moduleName: str, name: str
) -> None:
    """Make reading the module attribute ``moduleName.name`` issue a deprecation warning.

    Call it in the module, after defining ``name``::

        deprecatedModuleAttribute(Version("fw-core", 1, 4, 0), "Use g.", __name__, "f")

    Reading ``module.name`` (including ``from module import name``) then issues
    a :class:`DeprecationWarning` reading ``"module.name was deprecated in
    fw-core 1.4.0: Use g."``, attributed to the line doing it.  The module
    gains a ``__getattr__`` (which defers to one it already had) and a
    ``__dir__`` still listing the name.  ``name`` may also be a submodule not
    imported yet.

    Args:
        version: the release that deprecated the attribute.
        message: what to do instead.
        moduleName: the name of the (already imported) module.
        name: the attribute's name.
    """
    module = sys.modules[moduleName]
    deprecations = _deprecationsOf(module)
    fqpn = f"{moduleName}.{name}"
    attribute = _DeprecatedAttribute(name, _warningString(fqpn, version) + ": " + message)
    if name in module.__dict__:
        attribute.value = module.__dict__.pop(name)
        attribute.loaded = True
    elif name in deprecations.attributes:
        previous = deprecations.attributes[name]
        attribute.value, attribute.loaded = previous.value, previous.loaded
    deprecations.attributes[name] = attribute


def _codeOf(offender: Callable[..., object]) -> Any:
    target: Any = inspect.unwrap(offender)
    target = getattr(target, "__func__", target)
    if isinstance(target, type):
        target = vars(target).get("__init__")
    return getattr(target, "__code__", None)


def warnAboutFunction(offender: Callable[..., object], warningString: str) -> None:
    """Issue a deprecation warning attributed to the definition of ``offender``.

    Unlike :func:`warnings.warn`, the blamed location need not be on the call
    stack: use it to warn that a function a user supplied relies on deprecated
    behaviour.  The warning names the file and first line of ``offender``'s
    code and is registered against its module, so the usual "once per
    location" filters apply.

    Args:
        offender: the function (or method) responsible.
        warningString: the warning's text.
    """
    moduleName = getattr(offender, "__module__", None) or "__main__"
    module = sys.modules.get(moduleName)
    code = _codeOf(offender)
    if code is not None:
        filename: str = code.co_filename
        lineno: int = code.co_firstlineno
    else:
        filename = getattr(module, "__file__", None) or moduleName
        lineno = 1
    registry: dict[Any, Any] = (
        module.__dict__.setdefault("__warningregistry__", {}) if module is not None else {}
    )
    warnings.warn_explicit(
        warningString,
        category=DeprecationWarning,
        filename=filename,
        lineno=lineno,
        module=moduleName,
        registry=registry,
    )


def _positionalIndex(function: Callable[..., object], name: str) -> int | None:
    """The position ``name`` may be passed at, if it may be passed positionally."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return None
    parameter = parameters.get(name)
    if parameter is None or parameter.kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        return None
    return list(parameters).index(name)


def deprecatedKeywordParameter(
    version: VersionLike, name: str, replacement: str | None = None
) -> Callable[[_F], _F]:
    """Return a decorator that deprecates passing the parameter ``name``.

    The warning is issued when a caller supplies the parameter, by keyword or
    by position, and reads ``"The 'name' parameter to pkg.f was deprecated in
    fw-core 1.4.0; please use ... instead"``.

    Args:
        version: the release that deprecated the parameter.
        name: the parameter's name.
        replacement: text saying what to use instead.
    """

    def wrapper(function: _F) -> _F:
        message = _warningString(
            f"The {name!r} parameter to {fullyQualifiedName(function)}",
            version,
            replacement=replacement,
        )
        index = _positionalIndex(function, name)

        @functools.wraps(function)
        def checkDeprecatedParameter(*args: object, **kwargs: object) -> object:
            if name in kwargs or (index is not None and len(args) > index):
                _issue(message, 2)
            return function(*args, **kwargs)

        doc = f"The {name!r} parameter was deprecated in {getVersionString(version)}"
        if replacement:
            doc += "; " + _replacementString(replacement)
        _appendToDocstring(checkDeprecatedParameter, doc + ".")
        return cast(_F, checkDeprecatedParameter)

    return wrapper
