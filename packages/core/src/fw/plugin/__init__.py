"""
The plugin registry: plugins are Python entry points.

``getPlugins(IFoo)`` loads every installed plugin that provides ``IFoo``;
``getPlugin(IFoo, "name")`` loads one by name; ``iterPluginEntries(IFoo)``
lists them without importing anything.  Each plugin interface has one
entry-point group (:data:`PLUGIN_GROUPS` lists fw's own); a distribution
offers a plugin by declaring an entry point in that group::

    [project.entry-points."fw.service_makers"]
    web = "fw.web.tap:serviceMaker"

This replaces Twisted's ``twisted/plugins`` directories and their
``dropin.cache``.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fw.plugin._registry import (
    BrokenPlugin,
    IPlugin,
    PluginDoesNotProvide,
    PluginEntry,
    PluginError,
    PluginNotFound,
    declarePluginGroup,
    getPlugin,
    getPlugins,
    iterPluginEntries,
    pluginGroup,
)

#: fw's entry-point groups, each with what its plugins are.  The docs' plugin
#: page shows this table; new groups are added here first.
PLUGIN_GROUPS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "fw.service_makers": "fwd sub-commands (IServiceMaker)",
        "fw.reactors": "installable reactors",
        "fw.endpoints.server": "server endpoint string prefixes",
        "fw.endpoints.client": "client endpoint string prefixes",
        "fw.cred.checkers": "--auth checker factories",
        "fw.trial.reporters": "trial reporters",
    }
)

__all__ = [
    "PLUGIN_GROUPS",
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
