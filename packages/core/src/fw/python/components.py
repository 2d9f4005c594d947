"""Components: adapting objects to zope.interface interfaces.

``registerAdapter(AdapterClass, OriginalClass, IFoo)`` makes ``IFoo(obj)``
return ``AdapterClass(obj)`` for instances of ``OriginalClass`` (or of
anything providing it, when it is an interface).  :class:`Componentized`
objects keep one component per interface, and :func:`proxyForInterface`
builds classes that provide an interface by forwarding to another object.

Set ``fw.python.components.ALLOW_DUPLICATES`` to a true value to let a
registration replace an earlier one instead of raising :class:`ValueError`.
"""

from zope.interface import Interface

from fw.python._components import (
    AdaptedFrom,
    Adapter,
    AdapterFactory,
    Componentized,
    ReprableComponentized,
    _registerAdapter,
    getAdapter,
    getAdapterFactory,
    getRegistry,
    globalRegistry,
    proxyForInterface,
)

# _addHook/_removeHook stay importable here, as in Twisted, for tests that
# need an adapter registry of their own.
from fw.python._components import _addHook as _addHook
from fw.python._components import _removeHook as _removeHook

#: When true, :func:`registerAdapter` replaces an existing registration
#: instead of raising :class:`ValueError`.
ALLOW_DUPLICATES: bool | int = False


def registerAdapter(
    adapterFactory: AdapterFactory,
    origInterface: AdaptedFrom,
    *interfaceClasses: type[Interface],
) -> None:
    """Register ``adapterFactory`` to adapt ``origInterface`` to each of ``interfaceClasses``.

    Afterwards ``IFoo(obj)``, for ``IFoo`` one of ``interfaceClasses`` and
    ``obj`` providing ``origInterface`` (or an instance of it, when it is a
    class) and not providing ``IFoo`` itself, returns ``adapterFactory(obj)``.

    Args:
        adapterFactory: called with the original object; returns the adapter.
        origInterface: the interface or class adapted from.
        interfaceClasses: the interfaces adapted to; at least one.

    Raises:
        ValueError: an adapter is already registered from ``origInterface``
            to one of ``interfaceClasses`` and :data:`ALLOW_DUPLICATES` is
            false.  Nothing is registered then.
        TypeError: no interface was given.
    """
    _registerAdapter(
        globalRegistry, ALLOW_DUPLICATES, adapterFactory, origInterface, interfaceClasses
    )


__all__ = [
    "ALLOW_DUPLICATES",
    "AdaptedFrom",
    "Adapter",
    "AdapterFactory",
    "Componentized",
    "ReprableComponentized",
    "getAdapter",
    "getAdapterFactory",
    "getRegistry",
    "globalRegistry",
    "proxyForInterface",
    "registerAdapter",
]
