"""Declare a plugin interface, then list and load its plugins."""

from zope.interface import Interface

from fw.plugin import declarePluginGroup, getPlugins, iterPluginEntries


@declarePluginGroup("example.greeters")
class IGreeter(Interface):
    def greet(name):  # type: ignore[no-untyped-def]
        """Return a greeting for name."""


# No distribution in this environment offers a greeter, so both are empty;
# a distribution would declare one under [project.entry-points."example.greeters"].
print([entry.name for entry in iterPluginEntries(IGreeter)])
print([plugin.greet("world") for plugin in getPlugins(IGreeter)])
