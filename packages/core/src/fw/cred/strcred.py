"""
Checkers from strings: ``--auth memory:alice:secret``, ``--auth
file:/etc/fw/passwd``, ``--auth anonymous``.

A description is ``TYPE`` or ``TYPE:ARGUMENTS``; the type names a checker
factory (:class:`ICheckerFactory`) in the ``fw.cred.checkers`` entry-point
group, which any distribution can add to::

    [project.entry-points."fw.cred.checkers"]
    ldap = "mypackage.auth:ldapCheckerFactory"

fw-core's own types are ``memory``, ``file`` and ``anonymous``.
:class:`AuthOptionMixin` gives a :class:`fw.python.usage.Options` subclass
the ``--auth``, ``--help-auth`` and ``--help-auth-type`` options.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from zope.interface import Attribute, Interface

from fw.plugin import PluginError, declarePluginGroup, getPlugin, getPlugins, iterPluginEntries
from fw.python import usage

__all__ = [
    "AuthOptionMixin",
    "ICheckerFactory",
    "InvalidAuthArgumentString",
    "InvalidAuthType",
    "StrcredException",
    "UnsupportedInterfaces",
    "findCheckerFactories",
    "findCheckerFactory",
    "makeChecker",
    "notSupportedWarning",
]


@declarePluginGroup("fw.cred.checkers")
class ICheckerFactory(Interface):
    """
    Makes a checker from the argument of an ``--auth TYPE:ARGUMENTS``
    option.  Offered as a plugin in the ``fw.cred.checkers`` group, named
    by its ``authType``.
    """

    authType = Attribute("The type's name, as in --auth TYPE (no colons).")
    authHelp = Attribute("A description of the checker, possibly several lines long.")
    argStringFormat = Attribute("A one-line description of the argument's format.")
    credentialInterfaces = Attribute("The credentials interfaces its checkers verify.")

    def generateChecker(argstring: str) -> Any:
        """
        Return an :class:`~fw.cred.checkers.ICredentialsChecker` configured
        by ``argstring`` (the text after ``TYPE:``, or ``""``).

        Raises:
            InvalidAuthArgumentString: ``argstring`` is not valid.
        """


class StrcredException(Exception):
    """The base of the errors of :mod:`fw.cred.strcred`."""


class InvalidAuthType(StrcredException):
    """No checker factory of that type is installed."""


class InvalidAuthArgumentString(StrcredException):
    """The argument of an ``--auth`` description is not valid for its type."""


class UnsupportedInterfaces(StrcredException):
    """The checker verifies no kind of credentials the program can use."""


#: Shown in ``--help-auth`` beside types the program cannot use.
notSupportedWarning = "WARNING: This authType is not supported by this application."


def _builtinFactories() -> list[Any]:
    # fw-core's own factories, also declared as entry points; kept here so
    # that they work from a source tree whose metadata is not installed.
    from fw.cred import _checker_factories as f

    return [f.theAnonymousCheckerFactory, f.theFileCheckerFactory, f.theInMemoryCheckerFactory]


def findCheckerFactories() -> list[Any]:
    """Return every installed checker factory, one per type, sorted by type."""
    found: dict[str, Any] = {}
    for factory in getPlugins(ICheckerFactory):
        found.setdefault(factory.authType, factory)
    for factory in _builtinFactories():
        found.setdefault(factory.authType, factory)
    return [found[name] for name in sorted(found)]


def findCheckerFactory(authType: str) -> Any:
    """
    Return the checker factory of ``authType``.

    Raises:
        InvalidAuthType: none is installed.
    """
    if any(entry.name == authType for entry in iterPluginEntries(ICheckerFactory)):
        try:
            return getPlugin(ICheckerFactory, authType)
        except PluginError as e:
            raise InvalidAuthType(f"{authType}: {e}") from e
    for factory in _builtinFactories():
        if factory.authType == authType:
            return factory
    raise InvalidAuthType(authType)


def makeChecker(description: str) -> Any:
    """
    Return the checker that ``description`` (``TYPE`` or
    ``TYPE:ARGUMENTS``) describes.

    Raises:
        InvalidAuthType: the type is unknown.
        InvalidAuthArgumentString: the arguments are not valid.
    """
    authType, _, argstring = description.partition(":")
    return findCheckerFactory(authType).generateChecker(argstring)


class AuthOptionMixin:
    """
    Adds ``--auth``, ``--help-auth`` and ``--help-auth-type`` to a
    :class:`fw.python.usage.Options` subclass::

        class Options(usage.Options, strcred.AuthOptionMixin):
            supportedInterfaces = (IUsernamePassword,)

    After parsing, ``options["credCheckers"]`` lists the checkers, and
    ``options["credInterfaces"]`` maps each supported credentials interface
    to its checkers.

    Attributes:
        supportedInterfaces: the credentials interfaces the program can use,
            or ``None`` for any.
        authOutput: where the help options write.
    """

    supportedInterfaces: Any = None
    authOutput: IO[str] = sys.stdout

    def supportsInterface(self, interface: Any) -> bool:
        """Return whether the program can use credentials of ``interface``."""
        return self.supportedInterfaces is None or interface in self.supportedInterfaces

    def supportsCheckerFactory(self, factory: Any) -> bool:
        """Return whether the program can use a checker made by ``factory``."""
        return any(self.supportsInterface(i) for i in factory.credentialInterfaces)

    def addChecker(self, checker: Any) -> None:
        """Add a checker to ``credCheckers`` and ``credInterfaces``."""
        options: Any = self
        options.setdefault("credInterfaces", {})
        options.setdefault("credCheckers", [])
        options["credCheckers"].append(checker)
        for interface in checker.credentialInterfaces:
            if self.supportsInterface(interface):
                options["credInterfaces"].setdefault(interface, []).append(checker)

    def opt_auth(self, description: str) -> None:
        """
        Specify an authentication method for the server (TYPE or
        TYPE:ARGUMENTS; see --help-auth).
        """
        try:
            factory = findCheckerFactory(description.partition(":")[0])
            if not self.supportsCheckerFactory(factory):
                raise UnsupportedInterfaces(factory.authType)
            self.addChecker(factory.generateChecker(description.partition(":")[2]))
        except UnsupportedInterfaces as e:
            raise usage.UsageError(f"Auth plugin not supported: {e.args[0]}") from e
        except InvalidAuthType as e:
            raise usage.UsageError(f"Auth plugin not recognized: {e.args[0]}") from e
        except InvalidAuthArgumentString as e:
            raise usage.UsageError(f"Invalid --auth argument: {e}") from e

    def _checkerFactoriesForOptHelpAuth(self) -> list[Any]:
        return [f for f in findCheckerFactories() if self.supportsCheckerFactory(f)]

    def opt_help_auth(self) -> None:
        """Show all authentication methods available."""
        out = self.authOutput
        out.write("Usage: --auth AuthType[:ArgString]\n")
        out.write("For detailed help: --help-auth-type AuthType\n\n")
        out.write(f"  {'AuthType':<16}ArgString format\n")
        out.write(f"  {'=' * 8:<16}{'=' * 16}\n")
        for factory in self._checkerFactoriesForOptHelpAuth():
            out.write(f"  {factory.authType:<16}{factory.argStringFormat}\n")
        out.write("\n")
        raise SystemExit(0)

    def opt_help_auth_type(self, authType: str) -> None:
        """Show help for a particular authentication type."""
        try:
            factory = findCheckerFactory(authType)
        except InvalidAuthType:
            raise usage.UsageError(f"Invalid auth type: {authType}") from None
        out = self.authOutput
        out.write(f"Usage: --auth {authType}[:ArgString]\n")
        out.write(f"ArgString format: {factory.argStringFormat}\n\n")
        for line in factory.authHelp.strip().splitlines():
            out.write(f"  {line}\n")
        if not self.supportsCheckerFactory(factory):
            out.write(f"\n  {notSupportedWarning}\n")
        out.write("\n")
        raise SystemExit(0)
