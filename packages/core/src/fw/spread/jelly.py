"""
Jelly: Python values as s-expressions of lists, ints, floats and bytes,
for Banana to carry.  Wire compatible with Twisted's ``twisted.spread.jelly``.

=====================  ===============================================
value                  jellied
=====================  ===============================================
``None``               ``[b"None"]``
``True``/``False``     ``[b"boolean", b"true"]`` / ``b"false"``
int, float, bytes      themselves
str                    ``[b"unicode", utf8]``
list/tuple             ``[b"list", item...]`` / ``[b"tuple", item...]``
set/frozenset          ``[b"set", item...]`` / ``[b"frozenset", item...]``
dict                   ``[b"dictionary", [key, value]...]``
datetime               ``[b"datetime", b"Y M D h m s us"]`` (also
                       ``date``, ``time``, ``timedelta``)
Decimal                ``[b"decimal", signed digits, exponent]``
an instance            ``[b"module.Class", state]``
the same container     ``[b"reference", n, value]`` the first time,
again (or a cycle)     ``[b"dereference", n]`` after
=====================  ===============================================

Unjellying is where the danger is: a peer chooses the type names.  Only the
types a :class:`SecurityOptions` allows are rebuilt -- by default the basic
ones above and the classes registered with :func:`setUnjellyableForClass`;
anything else raises :class:`InsecureJelly`.  Unlike Twisted, :func:`unjelly`
is safe by default: it uses ``SecurityOptions()`` unless given another
taster (pass ``DummySecurityOptions()`` to allow everything, for trusted
data only).
"""

from __future__ import annotations

import datetime
import decimal
import types
from collections.abc import Callable
from typing import Any, Final

from zope.interface import Interface, implementer

from fw.python.reflect import namedModule, qual
from fw.spread._banana_codec import DEFAULT_MAX_DEPTH

__all__ = [
    "DummySecurityOptions",
    "IJellyable",
    "IUnjellyable",
    "InsecureJelly",
    "Jellyable",
    "MalformedJelly",
    "SecurityOptions",
    "Unjellyable",
    "Unpersistable",
    "getInstanceState",
    "globalSecurity",
    "jelly",
    "setInstanceState",
    "setUnjellyableFactoryForClass",
    "setUnjellyableForClass",
    "setUnjellyableForClassTree",
    "unjelly",
    "unjellyableFactoryRegistry",
    "unjellyableRegistry",
]

None_atom: Final = b"None"
class_atom: Final = b"class"
module_atom: Final = b"module"
function_atom: Final = b"function"
dereference_atom: Final = b"dereference"
reference_atom: Final = b"reference"
dictionary_atom: Final = b"dictionary"
list_atom: Final = b"list"
set_atom: Final = b"set"
tuple_atom: Final = b"tuple"
frozenset_atom: Final = b"frozenset"
unpersistable_atom: Final = b"unpersistable"
persistent_atom: Final = b"persistent"

_BASIC_TYPES: Final = (
    b"None",
    b"bool",
    b"boolean",
    b"string",
    b"str",
    b"int",
    b"float",
    b"datetime",
    b"time",
    b"date",
    b"timedelta",
    b"NoneType",
    b"unicode",
    b"decimal",
    b"set",
    b"frozenset",
    b"dictionary",
    b"list",
    b"tuple",
    b"reference",
    b"dereference",
    b"unpersistable",
)


class InsecureJelly(Exception):
    """
    An s-expression names a type, class or module the security options do
    not allow, or an object of a disallowed type was to be jellied.
    """


class MalformedJelly(InsecureJelly):
    """An s-expression that is not valid jelly (a peer broke the format)."""


def _asBytes(name: str | bytes) -> bytes:
    return name.encode("utf-8") if isinstance(name, str) else name


def _qualBytes(cls: type) -> bytes:
    return qual(cls).encode("utf-8")


class SecurityOptions:
    """
    What :func:`unjelly` may rebuild: types by jelly name, classes, and the
    modules classes may come from.  A new instance allows the basic types.
    """

    basicTypes: Final = tuple(t.decode() for t in _BASIC_TYPES)

    def __init__(self) -> None:
        self.allowedTypes: dict[bytes, int] = {}
        self.allowedModules: dict[str, int] = {}
        self.allowedClasses: dict[type, int] = {}
        self.allowBasicTypes()

    def allowBasicTypes(self) -> None:
        """Allow None, booleans, numbers, strings, containers and dates."""
        self.allowTypes(*_BASIC_TYPES)

    def allowTypes(self, *types: str | bytes) -> None:
        """Allow the jelly types named ``types`` (``b"module.Class"`` or basic names)."""
        for t in types:
            self.allowedTypes[_asBytes(t)] = 1

    def allowInstancesOf(self, *classes: type) -> None:
        """Allow instances of ``classes`` (and so their modules and names)."""
        for cls in classes:
            self.allowModules(cls.__module__)
            self.allowedClasses[cls] = 1
            self.allowTypes(_qualBytes(cls))

    def allowModules(self, *modules: str | types.ModuleType) -> None:
        """Allow classes (and, with their types allowed, functions) from ``modules``."""
        for module in modules:
            name = module if isinstance(module, str) else module.__name__
            self.allowedModules[name] = 1

    def isModuleAllowed(self, moduleName: str | bytes) -> bool:
        """Whether classes may be looked up in ``moduleName``."""
        if isinstance(moduleName, bytes):
            moduleName = moduleName.decode("utf-8", "replace")
        return moduleName in self.allowedModules

    def isClassAllowed(self, klass: type) -> bool:
        """Whether instances of ``klass`` may be rebuilt."""
        return klass in self.allowedClasses

    def isTypeAllowed(self, typeName: str | bytes) -> bool:
        """Whether the jelly type ``typeName`` may be rebuilt."""
        return _asBytes(typeName) in self.allowedTypes


class DummySecurityOptions(SecurityOptions):
    """Security options that allow everything: for trusted data only."""

    def isModuleAllowed(self, moduleName: str | bytes) -> bool:
        """Every module is allowed."""
        return True

    def isClassAllowed(self, klass: type) -> bool:
        """Every class is allowed."""
        return True

    def isTypeAllowed(self, typeName: str | bytes) -> bool:
        """Every type is allowed."""
        return True


#: The security options PB brokers use by default: the basic types, PB's own
#: types, and every class registered with :func:`setUnjellyableForClass`.
globalSecurity = SecurityOptions()
globalSecurity.allowTypes(b"cached", b"lcache", b"local", b"remote")

#: Jelly type names (``bytes``) to the classes instances are rebuilt as.
unjellyableRegistry: dict[bytes, Any] = {}
#: Jelly type names to factories making instances to rebuild.
unjellyableFactoryRegistry: dict[bytes, Callable[[], Any]] = {}

# Types handled by a function: PB's references (b"remote", b"cached"...).
# Each takes the unjellier and the whole s-expression.
_typeHandlers: dict[bytes, Callable[[_Unjellier, list[Any]], Any]] = {}


def _registerTypeHandler(typeName: bytes, handler: Callable[[_Unjellier, list[Any]], Any]) -> None:
    """Rebuild jelly type ``typeName`` with ``handler(unjellier, sexp)`` (for PB)."""
    _typeHandlers[typeName] = handler


def setUnjellyableForClass(classname: str | bytes | type, unjellyable: Any) -> None:
    """
    Rebuild instances jellied as ``classname`` as instances of ``unjellyable``,
    and allow that type in :data:`globalSecurity`.

    Args:
        classname: the jelly type name, or a class whose qualified name it is.
        unjellyable: the class to rebuild as: its ``unjellyFor(unjellier,
            sexp)`` if it has one, else its ``setStateFor``/``__setstate__``
            or ``__dict__`` takes the state.
    """
    name = _qualBytes(classname) if isinstance(classname, type) else _asBytes(classname)
    unjellyableRegistry[name] = unjellyable
    globalSecurity.allowTypes(name)


def setUnjellyableFactoryForClass(
    classname: str | bytes | type, copyFactory: Callable[[], Any]
) -> None:
    """
    Rebuild instances jellied as ``classname`` by calling ``copyFactory()``
    and giving the new object the state, and allow that type in
    :data:`globalSecurity`.
    """
    name = _qualBytes(classname) if isinstance(classname, type) else _asBytes(classname)
    unjellyableFactoryRegistry[name] = copyFactory
    globalSecurity.allowTypes(name)


def setUnjellyableForClassTree(
    module: types.ModuleType, baseClass: type, prefix: str | None = None
) -> None:
    """
    Register every subclass of ``baseClass`` found in ``module`` with
    :func:`setUnjellyableForClass`, under ``prefix`` + its name (by default
    the module's name and a dot).
    """
    if prefix is None:
        prefix = module.__name__
    if prefix:
        prefix = prefix + "."
    for name in dir(module):
        value = getattr(module, name)
        if isinstance(value, type) and issubclass(value, baseClass):
            setUnjellyableForClass(prefix + name, value)


class IJellyable(Interface):
    """An object that chooses how it is jellied."""

    def jellyFor(jellier: Any) -> Any:
        """Return this object's s-expression, made with ``jellier``."""


class IUnjellyable(Interface):
    """An object that chooses how it is rebuilt from its s-expression."""

    def unjellyFor(unjellier: Any, jellyList: Any) -> Any:
        """Become the object ``jellyList`` describes; return the result."""


def getInstanceState(inst: Any, jellier: _Jellier) -> list[Any]:
    """
    Jelly ``inst`` as ``[b"module.Class", state]``, its state being
    ``__getstate__()`` or its ``__dict__``.
    """
    getter = getattr(inst, "__getstate__", None)
    state = getter() if getter is not None else None
    if state is None:
        state = dict(getattr(inst, "__dict__", {}))
    sxp = jellier.prepare(inst)
    sxp.extend([_qualBytes(type(inst)), jellier.jelly(state)])
    return jellier.preserve(inst, sxp)


def setInstanceState(inst: Any, unjellier: _Unjellier, jellyList: list[Any]) -> Any:
    """Give ``inst`` the state in ``jellyList[1]`` (by ``__setstate__`` or ``__dict__``)."""
    _requireLength(jellyList, 2)
    state = unjellier.unjelly(jellyList[1])
    setter = getattr(inst, "__setstate__", None)
    if setter is not None and not isinstance(inst, type):
        try:
            setter(state)
            return inst
        except TypeError:
            pass
        except ValueError as e:
            # The state is not what the class takes (say, a list where a
            # dictionary belongs): the peer's fault, refused like any other.
            raise MalformedJelly(f"a {type(inst).__name__} refused its state: {e}") from None
    if not isinstance(state, dict):
        raise MalformedJelly(f"the state of a {type(inst).__name__} is not a dictionary")
    inst.__dict__.update(state)
    return inst


@implementer(IJellyable)
class Jellyable:
    """Inherit to be jellied as ``[b"module.Class", getStateFor(jellier)]``."""

    def getStateFor(self, jellier: _Jellier) -> Any:
        """Return the state to jelly: by default a copy of ``__dict__``."""
        return dict(self.__dict__)

    def jellyFor(self, jellier: _Jellier) -> Any:
        """Return this object's s-expression."""
        sxp = jellier.prepare(self)
        sxp.extend([_qualBytes(type(self)), jellier.jelly(self.getStateFor(jellier))])
        return jellier.preserve(self, sxp)


@implementer(IUnjellyable)
class Unjellyable:
    """Inherit to be rebuilt with :meth:`setStateFor`."""

    def setStateFor(self, unjellier: _Unjellier, state: Any) -> None:
        """Take ``state``: by default it becomes ``__dict__``."""
        self.__dict__ = state

    def unjellyFor(self, unjellier: _Unjellier, jellyList: list[Any]) -> Any:
        """Rebuild from ``jellyList``; return ``self``."""
        _requireLength(jellyList, 2)
        self.setStateFor(unjellier, unjellier.unjelly(jellyList[1]))
        return self


class Unpersistable:
    """Stands for an object that could not be jellied; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unpersistable({self.reason!r})"


def _requireLength(sexp: list[Any], minimum: int, maximum: int | None = None) -> None:
    if len(sexp) < minimum or (maximum is not None and len(sexp) > maximum):
        raise MalformedJelly(f"malformed {sexp[0]!r:.50} s-expression of {len(sexp)} elements")


# -- jellying -------------------------------------------------------------


class _Jellier:
    """
    Turns one object graph into an s-expression.

    Containers and instances met a second time become ``[b"dereference",
    n]``; once the whole graph is done, the first occurrence of each is
    wrapped, in place, as ``[b"reference", n, ...]``.  Numbers are given in
    the order second meetings happen, as Twisted does.
    """

    def __init__(self, taster: SecurityOptions, persistentStore: Any, invoker: Any) -> None:
        self.taster = taster
        self.persistentStore = persistentStore
        self.invoker = invoker
        # id(obj) -> [obj, its s-expression list, reference number or None]
        self._seen: dict[int, list[Any]] = {}
        self._referenced: list[list[Any]] = []
        self._depth = 0

    def prepare(self, obj: object) -> list[Any]:
        """Start ``obj``'s s-expression: return the list to fill."""
        sxp: list[Any] = []
        self._seen[id(obj)] = [obj, sxp, None]
        return sxp

    def preserve(self, obj: object, sxp: list[Any]) -> list[Any]:
        """Finish ``obj``'s s-expression as ``sxp``; return the list to use."""
        entry = self._seen.get(id(obj))
        if entry is None:
            entry = self._seen[id(obj)] = [obj, sxp, None]
            return sxp
        prepared: list[Any] = entry[1]
        if prepared is not sxp:
            prepared[:] = sxp
        return prepared

    def _seenAgain(self, obj: object) -> list[Any] | None:
        entry = self._seen.get(id(obj))
        if entry is None or entry[0] is not obj:
            return None
        if entry[2] is None:
            entry[2] = len(self._referenced) + 1
            self._referenced.append(entry)
        return [dereference_atom, entry[2]]

    def finish(self, sxp: Any) -> Any:
        for entry in self._referenced:
            body: list[Any] = entry[1]
            inner = list(body)
            body[:] = [reference_atom, entry[2], inner]
        return sxp

    def jelly(self, obj: Any) -> Any:
        """Return ``obj``'s s-expression (part of the graph being jellied)."""
        kind = type(obj)
        if kind is int or kind is float or kind is bytes:
            return obj
        if kind is str:
            return [b"unicode", obj.encode("utf-8")]
        if obj is None:
            return [None_atom]
        if kind is bool:
            return [b"boolean", b"true" if obj else b"false"]
        if kind is datetime.datetime:
            if obj.tzinfo is not None:
                raise InsecureJelly("datetime objects with a tzinfo cannot be jellied")
            return [
                b"datetime",
                b"%d %d %d %d %d %d %d"
                % (
                    obj.year,
                    obj.month,
                    obj.day,
                    obj.hour,
                    obj.minute,
                    obj.second,
                    obj.microsecond,
                ),
            ]
        if kind is datetime.date:
            return [b"date", b"%d %d %d" % (obj.year, obj.month, obj.day)]
        if kind is datetime.time:
            if obj.tzinfo is not None:
                raise InsecureJelly("time objects with a tzinfo cannot be jellied")
            return [b"time", b"%d %d %d %d" % (obj.hour, obj.minute, obj.second, obj.microsecond)]
        if kind is datetime.timedelta:
            return [b"timedelta", b"%d %d %d" % (obj.days, obj.seconds, obj.microseconds)]
        if kind is decimal.Decimal:
            return self._jellyDecimal(obj)
        again = self._seenAgain(obj)
        if again is not None:
            return again
        self._depth += 1
        if self._depth > DEFAULT_MAX_DEPTH:
            raise InsecureJelly(
                f"objects nested more than {DEFAULT_MAX_DEPTH} deep cannot be jellied"
            )
        try:
            return self._jellyContainer(obj, kind)
        finally:
            self._depth -= 1

    def _jellyDecimal(self, value: decimal.Decimal) -> list[Any]:
        if not value.is_finite():
            raise InsecureJelly(f"Decimal {value} cannot be jellied: only finite values can")
        sign, digits, exponent = value.as_tuple()
        guts = 0
        for digit in digits:
            guts = guts * 10 + digit
        if sign:
            guts = -guts
        return [b"decimal", guts, exponent]

    def _jellyContainer(self, obj: Any, kind: type) -> Any:
        if kind is list or kind is tuple or kind is set or kind is frozenset:
            name = {list: list_atom, tuple: tuple_atom, set: set_atom, frozenset: frozenset_atom}[
                kind
            ]
            sxp = self.prepare(obj)
            sxp.append(name)
            for item in obj:
                sxp.append(self.jelly(item))
            return sxp
        if kind is dict:
            sxp = self.prepare(obj)
            sxp.append(dictionary_atom)
            for key, value in obj.items():
                sxp.append([self.jelly(key), self.jelly(value)])
            return sxp
        jellyFor = getattr(obj, "jellyFor", None)
        if jellyFor is not None and not isinstance(obj, type):
            return jellyFor(self)
        if isinstance(obj, type):
            self._checkAllowed(class_atom, obj)
            return [class_atom, _qualBytes(obj)]
        if isinstance(obj, types.ModuleType):
            if not self.taster.isTypeAllowed(module_atom) or not self.taster.isModuleAllowed(
                obj.__name__
            ):
                raise InsecureJelly(f"module {obj.__name__} is not allowed")
            return [module_atom, obj.__name__.encode("utf-8")]
        if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
            self._checkAllowed(function_atom, obj)
            return [function_atom, (obj.__module__ + "." + obj.__qualname__).encode("utf-8")]
        if isinstance(obj, (list, tuple, set, frozenset, dict, str, bytes, int, float)):
            # A subclass of a basic type: sent as the basic type.
            base: Any = next(
                b
                for b in (list, tuple, set, frozenset, dict, str, bytes, bool, int, float)
                if isinstance(obj, b)
            )
            return self.jelly(base(obj))
        if not (self.taster.isTypeAllowed(_qualBytes(kind)) or self.taster.isClassAllowed(kind)):
            raise InsecureJelly(f"Type not allowed for object: {kind} {obj!r:.100}")
        return getInstanceState(obj, self)

    def _checkAllowed(self, atom: bytes, obj: Any) -> None:
        module = getattr(obj, "__module__", "") or ""
        if not self.taster.isTypeAllowed(atom) or not self.taster.isModuleAllowed(module):
            raise InsecureJelly(f"{atom.decode()} {obj!r:.100} is not allowed")


def jelly(
    object: Any,
    taster: SecurityOptions | None = None,
    persistentStore: Any = None,
    invoker: Any = None,
) -> Any:
    """
    Return ``object`` as an s-expression.

    Args:
        object: the value to jelly.
        taster: what may be jellied; by default anything.
        persistentStore: unused (Twisted's persistence hook).
        invoker: the PB broker jellying for a connection, or ``None``.

    Raises:
        InsecureJelly: something in ``object`` cannot or may not be jellied.
    """
    jellier = _Jellier(
        taster if taster is not None else DummySecurityOptions(), persistentStore, invoker
    )
    return jellier.finish(jellier.jelly(object))


# -- unjellying -----------------------------------------------------------


class _Unresolved:
    """
    A value not built yet: what a ``[b"dereference", n]`` stands for while
    object ``n`` is still being rebuilt (a reference cycle).  The places it
    was put are patched once the value exists.
    """

    __slots__ = ("_callbacks", "_owner")

    def __init__(self, owner: _Unjellier) -> None:
        self._callbacks: list[Callable[[Any], None]] = []
        self._owner = owner
        owner._unresolved += 1

    def whenResolved(self, callback: Callable[[Any], None]) -> None:
        self._callbacks.append(callback)

    def resolve(self, value: Any) -> None:
        self._owner._unresolved -= 1
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(value)


def _setItem(container: Any, key: Any) -> Callable[[Any], None]:
    def put(value: Any) -> None:
        container[key] = value

    return put


class _Unjellier:
    """Rebuilds objects from one s-expression."""

    def __init__(
        self, taster: SecurityOptions, persistentLoad: Any, invoker: Any, maxDepth: int
    ) -> None:
        self.taster = taster
        self.persistentLoad = persistentLoad
        self.invoker = invoker
        self.references: dict[int, Any] = {}
        self._pendingReference: int | None = None
        self._currentClaim: int | None = None
        self._unresolved = 0
        self._depth = 0
        self._maxDepth = maxDepth

    def unjellyFull(self, obj: Any) -> Any:
        result = self.unjelly(obj)
        if isinstance(result, _Unresolved) or self._unresolved:
            raise MalformedJelly("a reference was never resolved")
        return result

    def claimReference(self, obj: Any) -> None:
        """
        Register ``obj``, just created, as the value of the ``reference``
        that encloses it, so that references to it inside it find it.
        """
        number = self._currentClaim
        if number is not None:
            self._currentClaim = None
            self._setReference(number, obj)

    def _setReference(self, number: int, obj: Any) -> None:
        old = self.references.get(number)
        self.references[number] = obj
        if isinstance(old, _Unresolved) and old is not obj:
            if isinstance(obj, _Unresolved):
                obj.whenResolved(old.resolve)
            else:
                old.resolve(obj)

    def unjelly(self, obj: Any) -> Any:
        """Return the object the s-expression ``obj`` describes."""
        kind = type(obj)
        if kind is int or kind is float or kind is bytes:
            return obj
        if kind is not list:
            raise MalformedJelly(f"{kind.__name__} is not valid in jelly")
        if not obj:
            raise MalformedJelly("an empty list is not valid jelly")
        head = obj[0]
        if type(head) is not bytes:
            raise MalformedJelly(f"a jelly type name must be bytes, not {type(head).__name__}")
        self._depth += 1
        if self._depth > self._maxDepth:
            raise MalformedJelly(f"jelly nested more than {self._maxDepth} deep")
        try:
            # A ``reference`` just above this node: its constructor may claim it.
            self._currentClaim = self._pendingReference
            self._pendingReference = None
            method = _BUILTIN.get(head)
            if method is not None:
                if not self.taster.isTypeAllowed(head):
                    raise InsecureJelly(f"Type {head.decode('utf-8', 'replace')} not allowed.")
                return method(self, obj)
            return self._unjellyOther(head, obj)
        finally:
            self._depth -= 1

    def _unjellyOther(self, head: bytes, obj: list[Any]) -> Any:
        name = head.decode("utf-8", "replace")
        handler = _typeHandlers.get(head)
        if handler is not None:
            if not self.taster.isTypeAllowed(head):
                raise InsecureJelly(f"Type {name} not allowed.")
            return handler(self, obj)
        registered: Any = unjellyableRegistry.get(head)
        factory = unjellyableFactoryRegistry.get(head)
        if registered is not None or factory is not None:
            if not self.taster.isTypeAllowed(head):
                raise InsecureJelly(f"Class {name} not allowed.")
            if factory is not None:
                inst = factory()
            else:
                inst = registered.__new__(registered)
            return self._rebuild(inst, obj)
        if head in (class_atom, function_atom, module_atom):
            return self._unjellyNamed(head, obj)
        # An instance of a class not registered: allowed only by name.
        moduleName, _, className = name.rpartition(".")
        if not moduleName or not className or not self.taster.isModuleAllowed(moduleName):
            raise InsecureJelly(f"Class {name} not allowed.")
        klass: Any = self._findClass(moduleName, className)
        if not self.taster.isClassAllowed(klass) and not self.taster.isTypeAllowed(head):
            raise InsecureJelly(f"Class {name} not allowed.")
        return self._rebuild(klass.__new__(klass), obj)

    def _findClass(self, moduleName: str, className: str) -> type:
        try:
            module = namedModule(moduleName)
        except Exception as e:
            raise InsecureJelly(f"module {moduleName} cannot be imported: {e}") from e
        klass = getattr(module, className, None)
        if not isinstance(klass, type):
            raise InsecureJelly(f"{moduleName}.{className} is not a class")
        return klass

    def _unjellyNamed(self, head: bytes, obj: list[Any]) -> Any:
        _requireLength(obj, 2, 2)
        target = obj[1]
        if type(target) is not bytes:
            raise MalformedJelly(f"a {head.decode()} name must be bytes")
        name = target.decode("utf-8", "replace")
        if not self.taster.isTypeAllowed(head):
            raise InsecureJelly(f"Type {head.decode()} not allowed.")
        if head == module_atom:
            if not self.taster.isModuleAllowed(name):
                raise InsecureJelly(f"Module {name} not allowed.")
            try:
                return namedModule(name)
            except Exception as e:
                raise InsecureJelly(f"module {name} cannot be imported: {e}") from e
        moduleName, _, attr = name.rpartition(".")
        if not moduleName or not self.taster.isModuleAllowed(moduleName):
            raise InsecureJelly(f"Module {moduleName or name} not allowed (in {name}).")
        try:
            module = namedModule(moduleName)
        except Exception as e:
            raise InsecureJelly(f"module {moduleName} cannot be imported: {e}") from e
        value: Any = module
        for part in attr.split("."):
            value = getattr(value, part, None)
            if value is None:
                raise InsecureJelly(f"{name} does not exist")
        if head == class_atom and not (
            isinstance(value, type) and self.taster.isClassAllowed(value)
        ):
            raise InsecureJelly(f"Class {name} not allowed.")
        return value

    def _rebuild(self, inst: Any, obj: list[Any]) -> Any:
        self.claimReference(inst)
        unjellyFor = getattr(inst, "unjellyFor", None)
        if unjellyFor is not None:
            return unjellyFor(self, obj)
        _requireLength(obj, 2)
        state = self.unjelly(obj[1])
        setStateFor = getattr(inst, "setStateFor", None)
        if setStateFor is not None:
            setStateFor(self, state)
            return inst
        setter = getattr(type(inst), "__setstate__", None)
        if setter is not None and setter is not getattr(object, "__setstate__", None):
            inst.__setstate__(state)
            return inst
        if not isinstance(state, dict):
            raise MalformedJelly(f"the state of a {type(inst).__name__} is not a dictionary")
        inst.__dict__.update(state)
        return inst

    # The built-in types.

    def _none(self, obj: list[Any]) -> None:
        _requireLength(obj, 1, 1)

    def _unicode(self, obj: list[Any]) -> str:
        _requireLength(obj, 2, 2)
        if type(obj[1]) is not bytes:
            raise MalformedJelly("unicode must be bytes")
        try:
            text: str = obj[1].decode("utf-8")
            return text
        except UnicodeDecodeError as e:
            raise MalformedJelly(f"unicode is not UTF-8: {e}") from e

    def _boolean(self, obj: list[Any]) -> bool:
        _requireLength(obj, 2, 2)
        if obj[1] == b"true":
            return True
        if obj[1] == b"false":
            return False
        raise MalformedJelly(f"a boolean is b'true' or b'false', not {obj[1]!r:.50}")

    def _numbers(self, obj: list[Any], count: int) -> list[Any]:
        _requireLength(obj, 2, 2)
        if type(obj[1]) is not bytes or len(obj[1]) > 100:
            raise MalformedJelly(f"malformed {obj[0].decode()}")
        parts = obj[1].split()
        try:
            numbers = [int(p) for p in parts]
        except ValueError as e:
            raise MalformedJelly(f"malformed {obj[0].decode()}: {obj[1]!r}") from e
        if len(numbers) != count:
            raise MalformedJelly(f"malformed {obj[0].decode()}: {obj[1]!r}")
        return numbers

    def _datetime(self, obj: list[Any]) -> Any:
        head = obj[0]
        try:
            if head == b"datetime":
                return datetime.datetime(*self._numbers(obj, 7))
            if head == b"date":
                return datetime.date(*self._numbers(obj, 3))
            if head == b"time":
                return datetime.time(*self._numbers(obj, 4))
            days, seconds, microseconds = self._numbers(obj, 3)
            return datetime.timedelta(days, seconds, microseconds)
        except (ValueError, OverflowError) as e:
            raise MalformedJelly(f"invalid {head.decode()}: {e}") from e

    def _decimal(self, obj: list[Any]) -> decimal.Decimal:
        _requireLength(obj, 3, 3)
        value, exponent = obj[1], obj[2]
        if type(value) is not int or type(exponent) is not int:
            raise MalformedJelly("a decimal is two integers")
        sign = 1 if value < 0 else 0
        digits = tuple(int(d) for d in str(abs(value)))
        try:
            return decimal.Decimal((sign, digits, exponent))
        except (ValueError, OverflowError) as e:
            raise MalformedJelly(f"invalid decimal: {e}") from e

    def _unpersistable(self, obj: list[Any]) -> Unpersistable:
        _requireLength(obj, 2, 2)
        reason = obj[1]
        if type(reason) is list:
            reason = self.unjelly(reason)
        return Unpersistable(f"Unpersistable data: {reason!r:.200}")

    def _list(self, obj: list[Any]) -> list[Any]:
        result: list[Any] = []
        self.claimReference(result)
        for index, item in enumerate(obj[1:]):
            value = self.unjelly(item)
            result.append(value)
            if isinstance(value, _Unresolved):
                value.whenResolved(_setItem(result, index))
        return result

    def _dictionary(self, obj: list[Any]) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        self.claimReference(result)
        for pair in obj[1:]:
            if type(pair) is not list or len(pair) != 2:
                raise MalformedJelly("a dictionary item is a [key, value] pair")
            key = self.unjelly(pair[0])
            if isinstance(key, _Unresolved):
                raise MalformedJelly("a dictionary key cannot refer to an object being built")
            value = self.unjelly(pair[1])
            try:
                result[key] = value
            except TypeError as e:
                raise MalformedJelly(f"unhashable dictionary key: {e}") from e
            if isinstance(value, _Unresolved):
                value.whenResolved(_setItem(result, key))
        return result

    def _collection(self, obj: list[Any]) -> Any:
        head = obj[0]
        build: Callable[[list[Any]], Any] = {
            tuple_atom: tuple,
            set_atom: set,
            frozenset_atom: frozenset,
        }[head]
        items = [self.unjelly(item) for item in obj[1:]]
        waiting = [i for i, item in enumerate(items) if isinstance(item, _Unresolved)]
        if not waiting:
            try:
                return build(items)
            except TypeError as e:
                raise MalformedJelly(f"unhashable {head.decode()} member: {e}") from e
        # Some members are still being built: so is this.
        placeholder = _Unresolved(self)
        remaining = [len(waiting)]

        def fill(index: int) -> Callable[[Any], None]:
            def put(value: Any) -> None:
                items[index] = value
                remaining[0] -= 1
                if remaining[0] == 0:
                    try:
                        built = build(items)
                    except TypeError as e:
                        raise MalformedJelly(f"unhashable {head.decode()} member: {e}") from e
                    placeholder.resolve(built)

            return put

        for index in waiting:
            items[index].whenResolved(fill(index))
        return placeholder

    def _reference(self, obj: list[Any]) -> Any:
        _requireLength(obj, 3, 3)
        number = obj[1]
        if type(number) is not int or number in self.references:
            raise MalformedJelly(f"invalid or repeated reference number {number!r:.50}")
        placeholder = _Unresolved(self)
        self.references[number] = placeholder
        self._pendingReference = number
        try:
            value = self.unjelly(obj[2])
        finally:
            self._pendingReference = None
        if self.references[number] is placeholder:
            # Nothing claimed it at creation (a tuple, a scalar...): the
            # finished value is its value.
            self._setReference(number, value)
        return value

    def _dereference(self, obj: list[Any]) -> Any:
        _requireLength(obj, 2, 2)
        number = obj[1]
        if type(number) is not int or number not in self.references:
            raise MalformedJelly(f"dereference of unknown reference {number!r:.50}")
        return self.references[number]


_BUILTIN: dict[bytes, Callable[[_Unjellier, list[Any]], Any]] = {
    b"None": _Unjellier._none,
    b"unicode": _Unjellier._unicode,
    b"boolean": _Unjellier._boolean,
    b"datetime": _Unjellier._datetime,
    b"date": _Unjellier._datetime,
    b"time": _Unjellier._datetime,
    b"timedelta": _Unjellier._datetime,
    b"decimal": _Unjellier._decimal,
    b"unpersistable": _Unjellier._unpersistable,
    b"list": _Unjellier._list,
    b"dictionary": _Unjellier._dictionary,
    b"tuple": _Unjellier._collection,
    b"set": _Unjellier._collection,
    b"frozenset": _Unjellier._collection,
    b"reference": _Unjellier._reference,
    b"dereference": _Unjellier._dereference,
}


def unjelly(
    sexp: Any,
    taster: SecurityOptions | None = None,
    persistentLoad: Any = None,
    invoker: Any = None,
    maxDepth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """
    Return the object the s-expression ``sexp`` describes.

    Args:
        sexp: what :func:`jelly` made (after a trip through Banana).
        taster: what may be rebuilt; by default ``SecurityOptions()``,
            which allows the basic types only (Twisted allows everything by
            default: pass ``DummySecurityOptions()`` for that).
        persistentLoad: unused (Twisted's persistence hook).
        invoker: the PB broker unjellying for a connection, or ``None``.
        maxDepth: how deeply ``sexp`` may nest.

    Raises:
        InsecureJelly: ``sexp`` names a type, class or module ``taster``
            does not allow.
        MalformedJelly: ``sexp`` is not valid jelly.
    """
    unjellier = _Unjellier(
        taster if taster is not None else SecurityOptions(), persistentLoad, invoker, maxDepth
    )
    return unjellier.unjellyFull(sexp)
