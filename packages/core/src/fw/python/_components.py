"""Implementation of :mod:`fw.python.components`: adapter registration and Componentized."""

from __future__ import annotations

import pprint
from collections.abc import Callable
from typing import Any, TypeVar, overload

from zope.interface import Interface, declarations
from zope.interface import interface as _interface
from zope.interface.adapter import AdapterRegistry
from zope.interface.interface import InterfaceClass

from fw.python._reflect import qual

# The stubs leave these untyped.
_implementedBy: Any = declarations.implementedBy
_classImplements: Any = declarations.classImplements

_I = TypeVar("_I", bound=Interface)
_D = TypeVar("_D")

#: Something an adapter can be registered *from*: an interface, or a class
#: (meaning everything its instances provide by virtue of being instances).
AdaptedFrom = InterfaceClass | type[Any]
#: An adapter factory: called with the original object, returns the adapter
#: (or ``None`` when it cannot adapt that object after all).
AdapterFactory = Callable[[Any], Any]

#: The registry behind ``IFoo(obj)`` adaptation for :func:`registerAdapter`.
globalRegistry = AdapterRegistry()


class _Missing:
    """The "no default given" marker."""

    def __repr__(self) -> str:
        return "<no default>"


_MISSING: Any = _Missing()


def _specificationOf(origInterface: AdaptedFrom) -> Any:
    """An interface stands for itself; a class for what its instances provide."""
    if isinstance(origInterface, InterfaceClass):
        return origInterface
    return _implementedBy(origInterface)


def _registerAdapter(
    registry: AdapterRegistry,
    allowDuplicates: object,
    adapterFactory: AdapterFactory,
    origInterface: AdaptedFrom,
    interfaceClasses: tuple[type[Interface], ...],
) -> None:
    if not interfaceClasses:
        raise TypeError("registerAdapter needs at least one interface to adapt to")
    required = _specificationOf(origInterface)
    if not allowDuplicates:
        # Check them all first so that a refused call registers nothing.
        for interfaceClass in interfaceClasses:
            existing = registry.registered([required], interfaceClass)
            if existing is not None:
                raise ValueError(
                    f"an adapter ({existing!r}) was already registered from "
                    f"{qual(origInterface)} to {qual(interfaceClass)}"
                )
    for interfaceClass in interfaceClasses:
        registry.register([required], interfaceClass, "", adapterFactory)


def getAdapterFactory(
    fromInterface: AdaptedFrom, toInterface: type[Interface], default: _D
) -> AdapterFactory | _D:
    """Return the adapter factory registered from ``fromInterface`` to ``toInterface``.

    Registrations for base interfaces and base classes count, as for
    adaptation itself.

    Args:
        fromInterface: an interface, or a class.
        toInterface: the interface adapted to.
        default: what to return when nothing is registered.
    """
    lookup: Any = globalRegistry.lookup1  # type: ignore[attr-defined]
    factory: AdapterFactory | None = lookup(_specificationOf(fromInterface), toInterface)
    if factory is None:
        return default
    return factory


def _addHook(registry: AdapterRegistry) -> Callable[[Any, object], object]:
    """Make ``IFoo(obj)`` consult ``registry``; returns the hook for :func:`_removeHook`."""
    lookup: Any = registry.lookup1  # type: ignore[attr-defined]

    def _hook(iface: Any, ob: object) -> object:
        factory = lookup(declarations.providedBy(ob), iface)
        if factory is None:
            return None
        return factory(ob)

    _interface.adapter_hooks.append(_hook)
    return _hook


def _removeHook(hook: Callable[[Any, object], object]) -> None:
    """Undo :func:`_addHook`."""
    _interface.adapter_hooks.remove(hook)


_addHook(globalRegistry)


def getRegistry() -> AdapterRegistry:
    """Return the adapter registry :func:`registerAdapter` registers in."""
    return globalRegistry


@overload
def getAdapter(obj: object, interfaceClass: type[_I]) -> _I: ...
@overload
def getAdapter(obj: object, interfaceClass: type[_I], default: _D) -> _I | _D: ...
def getAdapter(obj: object, interfaceClass: type[_I], default: object = _MISSING) -> object:
    """Adapt ``obj`` to ``interfaceClass``: the same as ``interfaceClass(obj[, default])``.

    ``obj`` itself is returned when it already provides the interface; its
    ``__conform__`` and then the registered adapters are consulted otherwise.

    Raises:
        TypeError: ``obj`` cannot be adapted and no ``default`` was given.
    """
    adapt: Any = interfaceClass
    if default is _MISSING:
        return adapt(obj)
    return adapt(obj, default)


class Adapter:
    """A base class for adapters: keeps the adapted object as ``original``.

    Adapters made by a :class:`Componentized` are cached by it unless
    ``temporaryAdapter`` is true; with ``multiComponent`` true (the default)
    they are also cached for every other interface they provide.
    """

    temporaryAdapter: int | bool = 0
    multiComponent: int | bool = 1

    def __init__(self, original: Any) -> None:
        """Adapt ``original``."""
        self.original = original

    def __conform__(self, interface: Any) -> Any:
        """Let the original object adapt to ``interface``, if it knows how."""
        conform = getattr(self.original, "__conform__", None)
        if conform is not None:
            return conform(interface)
        return None

    def isuper(self, iface: Any, adapter: Any) -> Any:
        """Forward to ``original.isuper``."""
        return self.original.isuper(iface, adapter)


class Componentized:
    """An object made of components, one per interface.

    ``IFoo(componentized)`` returns the component set for ``IFoo``; failing
    that it builds one with the adapter registered from the object's class
    to ``IFoo`` (see :func:`registerAdapter`), and keeps it for next time.
    """

    persistenceVersion = 1

    def __init__(self) -> None:
        self._adapterCache: dict[Any, Any] = {}

    def locateAdapterClass(
        self, klass: AdaptedFrom, interfaceClass: type[Interface], default: _D
    ) -> AdapterFactory | _D:
        """Return the adapter factory from ``klass`` to ``interfaceClass``, or ``default``."""
        return getAdapterFactory(klass, interfaceClass, default)

    def setAdapter(self, interfaceClass: type[Interface], adapterClass: AdapterFactory) -> None:
        """Make ``adapterClass(self)`` my component for ``interfaceClass``."""
        self.setComponent(interfaceClass, adapterClass(self))

    def addAdapter(self, adapterClass: AdapterFactory, ignoreClass: int | bool = 0) -> None:
        """Add ``adapterClass(self)`` as a component; see :meth:`addComponent`."""
        self.addComponent(adapterClass(self), ignoreClass)

    def setComponent(self, interfaceClass: type[Interface], component: object) -> None:
        """Make ``component`` my component for ``interfaceClass``."""
        self._adapterCache[interfaceClass] = component

    def addComponent(self, component: object, ignoreClass: int | bool = 0) -> None:
        """Add ``component`` for each interface it provides that is appropriate.

        With ``ignoreClass`` true, every interface ``component`` provides is
        appropriate; otherwise only those for which ``component``'s class is
        the adapter registered from my class.
        """
        for iface in declarations.providedBy(component):
            if ignoreClass or (
                self.locateAdapterClass(type(self), iface, None) is type(component)
            ):
                self._adapterCache[iface] = component

    def unsetComponent(self, interfaceClass: type[Interface]) -> None:
        """Forget my component for ``interfaceClass``.

        Raises:
            KeyError: I have no component for it.
        """
        del self._adapterCache[interfaceClass]

    def removeComponent(self, component: object) -> list[type[Interface]]:
        """Forget ``component`` for every interface; return those interfaces."""
        removed = [iface for iface, value in self._adapterCache.items() if value is component]
        for iface in removed:
            del self._adapterCache[iface]
        return removed

    @overload
    def getComponent(self, interface: type[_I]) -> _I | None: ...
    @overload
    def getComponent(self, interface: type[_I], default: _D) -> _I | _D: ...
    def getComponent(self, interface: type[_I], default: object = None) -> object:
        """Return my component for ``interface``, creating and caching it if need be.

        A set component wins.  Otherwise ``interface`` adapts me through the
        registered adapters (or returns me if I provide it); the adapter is
        cached unless its ``temporaryAdapter`` is true, and with a true
        ``multiComponent`` it is also added with :meth:`addComponent`.

        Returns:
            The component, or ``default`` when there is none.
        """
        if interface in self._adapterCache:
            return self._adapterCache[interface]
        adapter = interface.__adapt__(self)
        if adapter is None:
            return default
        if not getattr(adapter, "temporaryAdapter", False):
            self._adapterCache[interface] = adapter
            if getattr(adapter, "multiComponent", False):
                self.addComponent(adapter)
        return adapter

    def __conform__(self, interface: Any) -> Any:
        """Adapt to ``interface`` through :meth:`getComponent`."""
        return self.getComponent(interface)


class ReprableComponentized(Componentized):
    """A :class:`Componentized` whose ``repr`` lists its components by interface."""

    def __repr__(self) -> str:
        return pprint.pformat({qual(iface): value for iface, value in self._adapterCache.items()})


class _ProxiedClassMethod:
    """A proxy class's method looked up on the class: call it with the proxy first."""

    def __init__(self, methodName: str, originalAttribute: str) -> None:
        self.methodName = self.__name__ = methodName
        self.originalAttribute = originalAttribute

    def __call__(self, oself: object, *args: Any, **kwargs: Any) -> Any:
        original = getattr(oself, self.originalAttribute)
        return getattr(original, self.methodName)(*args, **kwargs)


class _ProxyDescriptor:
    """Forward one attribute of the proxy to the same attribute of the original."""

    def __init__(self, attributeName: str, originalAttribute: str) -> None:
        self.attributeName = attributeName
        self.originalAttribute = originalAttribute

    def __get__(self, oself: object, owner: type[Any] | None = None) -> Any:
        if oself is None:
            return _ProxiedClassMethod(self.attributeName, self.originalAttribute)
        return getattr(getattr(oself, self.originalAttribute), self.attributeName)

    def __set__(self, oself: object, value: object) -> None:
        setattr(getattr(oself, self.originalAttribute), self.attributeName, value)

    def __delete__(self, oself: object) -> None:
        delattr(getattr(oself, self.originalAttribute), self.attributeName)


def proxyForInterface(iface: type[_I], originalAttribute: str = "original") -> type[_I]:
    """Make a class whose instances provide ``iface`` by forwarding to a wrapped object.

    The class's constructor takes the object to wrap and stores it as
    ``originalAttribute``; every method and attribute ``iface`` names
    (including those of its base interfaces) reads, writes and deletes
    through to that object.  Subclass it to override some of them::

        class LoudHello(proxyForInterface(IHello)):  # type: ignore[misc]
            def hello(self) -> str:
                return self.original.hello().upper()

    Args:
        iface: the interface to provide.
        originalAttribute: the attribute holding the wrapped object.
    """

    def __init__(self: object, original: object) -> None:
        setattr(self, originalAttribute, original)

    contents: dict[str, Any] = {"__init__": __init__}
    for name in iface:
        contents[name] = _ProxyDescriptor(name, originalAttribute)
    proxy = type(f"(Proxy for {qual(iface)})", (object,), contents)
    _classImplements(proxy, iface)
    return proxy
