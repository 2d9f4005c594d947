"""Plugin discovery through Python entry points.

A plugin interface names one entry-point group (see :func:`pluginGroup`); a
distribution offers a plugin by declaring an entry point in that group, whose
name is the plugin's name and whose value is the importable object that
provides the interface.  Listing plugins reads distribution metadata only;
nothing is imported until a plugin is loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final

from zope.interface import Interface
from zope.interface.exceptions import Invalid
from zope.interface.interface import InterfaceClass
from zope.interface.verify import verifyObject

__all__ = [
    "BrokenPlugin",
    "IPlugin",
    "PluginDoesNotProvide",
    "PluginEntry",
    "PluginError",
    "PluginNotFound",
    "declarePluginGroup",
    "getPlugin",
    "getPlugins",
    "iterPluginEntries",
    "pluginGroup",
]

_log = logging.getLogger("fw.plugin")

#: The tagged value on an interface that names its entry-point group.
GROUP_TAG: Final = "fw.plugin.group"


class IPlugin(Interface):
    """
    A marker for objects offered as plugins.

    Kept for programs ported from Twisted, which declare it beside the
    interface their plugin really provides.  fw does not require it:
    discovery is by the plugin interface's entry-point group.
    """


class PluginError(Exception):
    """The base of every error the plugin registry raises."""


class PluginNotFound(PluginError, LookupError):
    """No plugin of that name is installed for the interface."""


class BrokenPlugin(PluginError):
    """
    A plugin's entry point could not be loaded.

    The original exception is the ``__cause__``.
    """


class PluginDoesNotProvide(PluginError):
    """A loaded plugin object does not provide the plugin interface."""


def declarePluginGroup(group: str) -> Any:
    """
    Class decorator naming the entry-point group of a plugin interface::

        @declarePluginGroup("fw.service_makers")
        class IServiceMaker(Interface):
            ...

    Args:
        group: the entry-point group in which distributions register
            plugins providing the decorated interface.
    """

    def decorate(interface: InterfaceClass) -> InterfaceClass:
        interface.setTaggedValue(GROUP_TAG, group)
        return interface

    return decorate


def pluginGroup(interface: InterfaceClass) -> str:
    """
    Return the entry-point group of a plugin interface.

    It is the group given with :func:`declarePluginGroup`, or else the
    interface's dotted name (``mypackage.interfaces.IThing``), so that any
    interface can serve as a plugin interface without registration.
    """
    group = interface.queryTaggedValue(GROUP_TAG)
    if isinstance(group, str):
        return group
    return f"{interface.__module__}.{interface.__name__}"


@dataclass(frozen=True, slots=True)
class PluginEntry:
    """
    One installed plugin, not yet loaded.

    Attributes:
        name: the plugin's name (the entry point's name).
        group: the entry-point group it is registered in.
        value: the ``module:attribute`` reference to the plugin object.
        distribution: the name of the distribution that declares it, or
            ``None`` when the metadata does not say.
        version: that distribution's version, or ``None``.
    """

    name: str
    group: str
    value: str
    distribution: str | None
    version: str | None
    _entryPoint: metadata.EntryPoint

    def load(self) -> object:
        """
        Import and return the plugin object.

        Raises:
            BrokenPlugin: importing it failed; the cause is chained.
        """
        try:
            return self._entryPoint.load()
        except Exception as e:
            raise BrokenPlugin(
                f"plugin {self.name!r} in group {self.group!r} "
                f"from {self._origin()} failed to load ({self.value}): {e!r}"
            ) from e

    def _origin(self) -> str:
        if self.distribution is None:
            return "an unknown distribution"
        return f"distribution {self.distribution} {self.version or ''}".rstrip()


def _groupOf(interfaceOrGroup: InterfaceClass | str) -> str:
    if isinstance(interfaceOrGroup, str):
        return interfaceOrGroup
    return pluginGroup(interfaceOrGroup)


def iterPluginEntries(interfaceOrGroup: InterfaceClass | str) -> list[PluginEntry]:
    """
    List the installed plugins of an interface (or of a group by name),
    without importing any of them.

    The list is ordered by plugin name, then distribution name, so that the
    order does not depend on ``sys.path``.
    """
    group = _groupOf(interfaceOrGroup)
    entries = []
    for ep in metadata.entry_points(group=group):
        dist = ep.dist
        entries.append(
            PluginEntry(
                name=ep.name,
                group=group,
                value=ep.value,
                distribution=dist.name if dist is not None else None,
                version=dist.version if dist is not None else None,
                _entryPoint=ep,
            )
        )
    entries.sort(key=lambda e: (e.name, e.distribution or ""))
    return entries


def _loadVerified(entry: PluginEntry, interface: InterfaceClass) -> object:
    plugin = entry.load()
    try:
        verifyObject(interface, plugin)
    except Invalid as e:
        raise PluginDoesNotProvide(
            f"plugin {entry.name!r} from {entry._origin()} ({entry.value}) "
            f"does not provide {interface.__module__}.{interface.__name__}: {e}"
        ) from e
    return plugin


def getPlugins(interface: InterfaceClass, group: str | None = None) -> Iterator[Any]:
    """
    Load and yield every installed plugin that provides ``interface``.

    A plugin that fails to import, or whose object does not provide the
    interface, is logged (naming its distribution) and skipped; the others
    are still yielded.

    Args:
        interface: the plugin interface.
        group: the entry-point group to search, when it is not the one
            :func:`pluginGroup` gives for the interface.
    """
    for entry in iterPluginEntries(group if group is not None else interface):
        try:
            yield _loadVerified(entry, interface)
        except PluginError as e:
            _log.error("skipping plugin: %s", e, exc_info=e)


def getPlugin(interface: InterfaceClass, name: str, group: str | None = None) -> Any:
    """
    Load and return the plugin called ``name`` that provides ``interface``.

    Raises:
        PluginNotFound: no plugin of that name is installed.
        PluginError: two distributions offer a plugin of that name.
        BrokenPlugin: it failed to import.
        PluginDoesNotProvide: it does not provide the interface.
    """
    groupName = group if group is not None else pluginGroup(interface)
    matches = [e for e in iterPluginEntries(groupName) if e.name == name]
    if not matches:
        known = ", ".join(sorted({e.name for e in iterPluginEntries(groupName)})) or "none"
        raise PluginNotFound(
            f"no plugin named {name!r} in group {groupName!r} (installed: {known})"
        )
    if len(matches) > 1:
        origins = "; ".join(f"{e._origin()} ({e.value})" for e in matches)
        raise PluginError(
            f"plugin name {name!r} in group {groupName!r} is claimed by more than one "
            f"distribution: {origins}"
        )
    return _loadVerified(matches[0], interface)
