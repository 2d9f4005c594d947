"""
Choosing the reactor by name, as ``fwd -r NAME`` and ``trial -r NAME`` do.

Installable reactors are plugins in the ``fw.reactors`` entry-point group:
each entry point names an object providing :class:`IReactorInstaller`.
fw-core registers its own backends (``epoll``, ``poll``, ``select``,
``asyncio``, ``uvloop``, ``glib`` with its Twisted alias ``gi``, and
``default``); a distribution adds one by declaring, in its
``pyproject.toml``::

    [project.entry-points."fw.reactors"]
    myloop = "mypackage.reactors:myloop"

where ``mypackage.reactors.myloop`` is, for example,
``Reactor("myloop", "mypackage.myreactor", "My event loop")``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zope.interface import Attribute, Interface, implementer

from fw.plugin import (
    IPlugin,
    PluginError,
    PluginNotFound,
    declarePluginGroup,
    getPlugin,
    getPlugins,
    iterPluginEntries,
)

__all__ = [
    "IReactorInstaller",
    "NoSuchReactor",
    "Reactor",
    "getReactorTypes",
    "installReactor",
]


@declarePluginGroup("fw.reactors")
class IReactorInstaller(Interface):
    """An installable reactor, found by its short name."""

    shortName: str = Attribute("The name users give, as in ``fwd -r epoll``.")
    description: str = Attribute("A one-line description, for ``--help-reactors``.")
    moduleName: str = Attribute("The module that implements the reactor.")

    def install() -> Any:
        """Install this reactor as the global reactor and return it."""


class NoSuchReactor(KeyError):
    """No installable reactor has the short name asked for."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such reactor"


@implementer(IReactorInstaller, IPlugin)
@dataclass(frozen=True, slots=True)
class Reactor:
    """
    An installable reactor that lives in a module with an install function.

    Args:
        shortName: the name users give.
        moduleName: the module to import.
        description: a one-line description.
        installFunction: the module's function that installs the reactor and
            returns it (``install`` by default).
    """

    shortName: str
    moduleName: str
    description: str
    installFunction: str = "install"

    def install(self) -> Any:
        """Import the module and call its install function."""
        module = importlib.import_module(self.moduleName)
        return getattr(module, self.installFunction)()


def getReactorTypes() -> Iterator[IReactorInstaller]:
    """Every installable reactor (broken plugins are logged and skipped)."""
    return iter(getPlugins(IReactorInstaller))


def installReactor(shortName: str) -> Any:
    """
    Install the reactor called ``shortName`` and return it.

    Raises:
        NoSuchReactor: no reactor has that name, or its plugin is broken (the
            message says which and why).
        ReactorAlreadyInstalledError: a reactor is installed already.
    """
    try:
        installer: IReactorInstaller = getPlugin(IReactorInstaller, shortName)
    except PluginNotFound:
        known = ", ".join(sorted(e.name for e in iterPluginEntries(IReactorInstaller)))
        raise NoSuchReactor(f"no reactor called {shortName!r} (known: {known})") from None
    except PluginError as e:
        raise NoSuchReactor(f"the reactor {shortName!r} cannot be loaded: {e}") from e
    return installer.install()


# fw-core's own reactors, registered in its fw.reactors entry points.
epoll = Reactor("epoll", "fw.internet.epollreactor", "epoll(7)-based reactor (Linux)")
poll = Reactor("poll", "fw.internet.pollreactor", "poll(2)-based reactor")
select = Reactor("select", "fw.internet.selectreactor", "select(2)-based reactor")
asyncio = Reactor("asyncio", "fw.internet.asyncioreactor", "reactor on an asyncio event loop")
uvloop = Reactor(
    "uvloop",
    "fw.internet.asyncioreactor",
    "reactor on a uvloop event loop (needs fw-core[uvloop])",
    installFunction="installUvloop",
)
glib = Reactor("glib", "fw.internet.gireactor", "reactor on GLib's main loop (needs PyGObject)")
gi = Reactor("gi", "fw.internet.gireactor", "the glib reactor, under Twisted's name for it")
default = Reactor("default", "fw.internet.default", "the platform's best reactor (epoll on Linux)")
