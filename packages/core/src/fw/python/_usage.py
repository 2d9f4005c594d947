"""`Options`: declarative command-line parsing, Twisted's ``usage.Options``.

Private; `fw.python.usage` is the public module.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from fw.python._usage_completers import Completions
from fw.python._usage_getopt import OptionSpelling, UsageError, splitCommandLine
from fw.python._usage_help import (
    commandName,
    describeArity,
    docMakeChunks,
    programName,
    terminalWidth,
    wrapParagraphs,
)

error = UsageError
"""Another name for `UsageError`, kept for programs written against Twisted."""

_SHELL_COMPLETION_OPTION = "--_shell-completion"


class CoerceParameter:
    """Converts a parameter's value with a coercion function before storing it.

    Args:
        options: the `Options` the value is stored in.
        coerce: called with the string from the command line; what it
            returns is stored.  A `ValueError` it raises becomes a
            `UsageError`.  Its ``coerceDoc`` attribute, if any, is appended to
            the option's help.
    """

    def __init__(self, options: Options, coerce: Callable[[str], object]) -> None:
        self.options = options
        self.coerce = coerce
        self.doc: str = getattr(coerce, "coerceDoc", "") or ""

    def dispatch(self, parameterName: str, value: str | None) -> None:
        """Coerce ``value`` and store it in the options under ``parameterName``.

        Raises:
            UsageError: if ``value`` is None or the coercion raises `ValueError`.
        """
        if value is None:
            raise UsageError(f"Parameter '{parameterName}' requires an argument.")
        try:
            coerced = self.coerce(value)
        except ValueError as e:
            reason = str(e)
            message = (
                f"Parameter type enforcement failed for option --{parameterName} "
                f"with value {value!r}"
            )
            raise UsageError(f"{message}: {reason}" if reason else message) from e
        self.options.opts[parameterName] = coerced


def flagFunction(method: Callable[..., object], name: str | None = None) -> bool:
    """Tell whether an ``opt_*`` method is a flag (takes no value) or takes one.

    Args:
        method: the bound method.
        name: the option's name, for the error message.

    Returns:
        True if ``method`` takes no argument, False if it takes one.

    Raises:
        UsageError: if ``method`` takes more than one argument.
    """
    count = len(inspect.signature(method).parameters)
    if count > 1:
        label = name or getattr(method, "__name__", repr(method))
        raise UsageError(f"Invalid Option function for {label}")
    return count == 0


def portCoerce(value: str) -> int:
    """Coerce a string to a TCP/UDP port number.

    Raises:
        ValueError: if ``value`` is not an integer from 0 to 65535.
    """
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(f"Port number not in range: {port}")
    return port


portCoerce.__dict__["coerceDoc"] = "Must be an int between 0 and 65535."


@dataclass(eq=False)
class _OptionSpec:
    """One option an `Options` understands, however it was declared."""

    name: str
    takesArg: bool
    dispatch: Callable[[str | None], None]
    doc: str | None = None
    longNames: list[str] = field(default_factory=list)
    shortNames: list[str] = field(default_factory=list)
    coerce: CoerceParameter | None = None

    @property
    def short(self) -> str | None:
        return self.shortNames[0] if self.shortNames else None

    @property
    def long(self) -> str | None:
        return self.longNames[0] if self.longNames else None


def _accumulate(cls: type, attribute: str) -> list[Sequence[Any]]:
    """Every entry of the list ``attribute`` on ``cls`` and its bases, bases first."""
    entries: list[Sequence[Any]] = []
    for klass in reversed(cls.__mro__):
        entries.extend(klass.__dict__.get(attribute) or ())
    return entries


def _padTo(size: int, entry: Sequence[Any], attribute: str) -> list[Any]:
    if isinstance(entry, str) or len(entry) > size:
        raise ValueError(f"{attribute} entries have at most {size} items, not {entry!r}")
    return [*entry, *([None] * (size - len(entry)))]


def _checkNames(long: object, short: object, attribute: str) -> tuple[str, list[str]]:
    if not isinstance(long, str) or not long:
        kind = "A flag" if attribute == "optFlags" else "A parameter"
        raise ValueError(f"{kind} cannot be without a name.")
    if short is None or short == "":
        return long, []
    if not isinstance(short, str) or len(short) != 1:
        raise ValueError(f"The short name of --{long} must be one character, not {short!r}")
    return long, [short]


def subCommandEntries(
    options: Options,
) -> Iterator[tuple[str, str | None, Callable[[], Options], str | None]]:
    """The ``subCommands`` of ``options``, each as (name, shortcut, factory, doc)."""
    for entry in getattr(options, "subCommands", None) or ():
        if isinstance(entry, str) or len(entry) != 4:
            raise ValueError(f"subCommands entries have 4 items, not {entry!r}")
        name, shortcut, factory, doc = entry
        yield name, shortcut or None, factory, doc


class Options(dict[str, Any]):
    """A command line parser, declared by subclassing.

    Options are stored as items: a flag's value is 1 if it was given and 0
    if not; a parameter's value is its (coerced) value or its default.

    Class attributes declare what is understood:

    - ``optFlags = [[long, short, doc], ...]``: options without a value.
    - ``optParameters = [[long, short, default, doc, coerce], ...]``: options
      with a value (``--long=value``, ``--long value``, ``-svalue``,
      ``-s value``).  Trailing items may be left out.  ``coerce`` converts the
      string (see `CoerceParameter`); defaults are stored as given.
    - ``opt_name(self)`` / ``opt_name(self, value)`` methods: called each time
      the option ``--name`` is seen (an ``_`` in the name is a ``-`` on the
      command line; a one-letter name is a short option).  The docstring is the
      help.  Assigning the same method to several names (``opt_v =
      opt_verbose``) makes aliases of the longest.  Setting ``opt_x = None``
      in a subclass removes an inherited option.
    - ``subCommands = [[name, shortcut, factory, doc], ...]``: the first
      argument selects a sub-command; ``factory()`` makes the `Options` that
      parses the rest of the command line.  ``defaultSubCommand`` names the
      one used when no argument is given.
    - ``synopsis``, ``longdesc``: override the usage line and the description
      (which otherwise comes from the class docstring, else the ``__main__``
      module's docstring).
    - ``version``: when set, ``--version`` prints it and exits.
    - ``compData``: a `Completions` with extra shell-completion metadata.

    Flags, parameters and methods are gathered from every base class; a
    later declaration of the same name overrides an earlier one, and a
    method overrides a flag or parameter of the same name.

    ``--help`` prints the usage message and exits.  ``--_shell-completion
    SHELL`` prints a completion script for bash or zsh and exits (see
    `fw.python.usage`).
    """

    subCommand: str | None = None
    defaultSubCommand: str | None = None
    parent: Options | None = None
    longdesc: str | None = None
    version: str | None = None

    # Declared for type checkers; set by subclasses (or by parseOptions).
    # (subCommands is left undeclared: subclasses may make it a property.)
    subOptions: Options
    optFlags: ClassVar[Sequence[Sequence[Any]]]
    optParameters: ClassVar[Sequence[Sequence[Any]]]
    compData: ClassVar[Completions]
    synopsis: str

    # Where --_shell-completion writes; None means sys.stdout at that time.
    _shellCompFile: IO[str] | None = None

    # Options is a mutable mapping but must stay usable as a dict key and in
    # sets (parent pointers, registries), as Twisted's is.
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.opts = self
        self.defaults: dict[str, Any] = {}
        self._options: dict[str, _OptionSpec] = {}
        self._gatherFlags()
        self._gatherParameters()
        self._gatherHandlers()
        self._index()

    # -- gathering declarations

    def _define(self, spec: _OptionSpec) -> None:
        self._options.pop(spec.name, None)
        self._options[spec.name] = spec

    def _setDefault(self, name: str, value: object) -> None:
        self[name] = value
        self.defaults[name] = value

    def _gatherFlags(self) -> None:
        for entry in _accumulate(type(self), "optFlags"):
            long, short, doc = _padTo(3, entry, "optFlags")
            name, shorts = _checkNames(long, short, "optFlags")
            dispatch = functools.partial(self._flagSeen, name)
            self._define(_OptionSpec(name, False, dispatch, doc, [name], shorts))
            self._setDefault(name, 0)

    def _gatherParameters(self) -> None:
        for entry in _accumulate(type(self), "optParameters"):
            long, short, default, doc, coerce = _padTo(5, entry, "optParameters")
            name, shorts = _checkNames(long, short, "optParameters")
            if coerce is None:
                coerce = str
            if not callable(coerce):
                raise TypeError(f"The coerce function of --{name} is not callable: {coerce!r}")
            coercer = CoerceParameter(self, coerce)
            dispatch = functools.partial(coercer.dispatch, name)
            spec = _OptionSpec(name, True, dispatch, doc, [name], shorts, coercer)
            self._define(spec)
            self._setDefault(name, default)

    def _handlerGroups(self) -> dict[types.FunctionType, list[str]]:
        """Names of the ``opt_*`` methods (without prefix), grouped by function."""
        names: dict[str, None] = {}
        for klass in reversed(type(self).__mro__):
            for attribute, value in vars(klass).items():
                if attribute.startswith("opt_") and isinstance(value, types.FunctionType):
                    names.setdefault(attribute[4:], None)
        groups: dict[types.FunctionType, list[str]] = {}
        for name in names:
            function = getattr(type(self), "opt_" + name, None)
            if name and isinstance(function, types.FunctionType):
                groups.setdefault(function, []).append(name)
        return groups

    def _gatherHandlers(self) -> None:
        for names in self._handlerGroups().values():
            pretty = [n.replace("_", "-") for n in names]
            canonical = max(pretty, key=len)
            method = getattr(self, "opt_" + names[pretty.index(canonical)])
            takesArg = not flagFunction(method, canonical)
            dispatch = functools.partial(self._callHandler, method, takesArg)
            doc = inspect.getdoc(method)
            longs = [n for n in pretty if len(n) > 1]
            shorts = [n for n in pretty if len(n) == 1]
            existing = self._options.get(canonical)
            if existing is not None:
                longs = [*existing.longNames, *(n for n in longs if n not in existing.longNames)]
                shorts = [
                    *existing.shortNames,
                    *(s for s in shorts if s not in existing.shortNames),
                ]
                doc = doc or existing.doc
            self._define(_OptionSpec(canonical, takesArg, dispatch, doc, longs, shorts))
        if "version" not in self._options and self.version is not None:
            dispatch = functools.partial(self._callHandler, self._printVersion, False)
            doc = inspect.getdoc(self._printVersion)
            self._define(_OptionSpec("version", False, dispatch, doc, ["version"]))

    def _index(self) -> None:
        """Map every spelling to its option; later options take a spelling from earlier ones."""
        longOwners: dict[str, _OptionSpec] = {}
        shortOwners: dict[str, _OptionSpec] = {}
        for spec in self._options.values():
            longOwners.update(dict.fromkeys(spec.longNames, spec))
            shortOwners.update(dict.fromkeys(spec.shortNames, spec))
        for spec in self._options.values():
            spec.longNames = [n for n in spec.longNames if longOwners[n] is spec]
            spec.shortNames = [s for s in spec.shortNames if shortOwners[s] is spec]
        self._longSpellings = {
            n: OptionSpelling(s.name, s.takesArg) for n, s in longOwners.items()
        }
        self._shortSpellings = {
            n: OptionSpelling(s.name, s.takesArg) for n, s in shortOwners.items()
        }
        # The getopt-style views Twisted exposes.
        self.longOpt = [n + ("=" if s.takesArg else "") for n, s in longOwners.items()]
        self.shortOpt = "".join(n + (":" if s.takesArg else "") for n, s in shortOwners.items())
        self.synonyms = {n: s.name for n, s in (longOwners | shortOwners).items()}
        self.docs = {n: s.doc for n, s in longOwners.items()}
        self.docs.update({s.name: s.doc for s in self._options.values()})

    # -- dispatch

    def _flagSeen(self, name: str, value: str | None) -> None:
        if value not in ("", None):
            raise UsageError(f"Flag '{name}' takes no argument. Not even \"{value}\".")
        self[name] = 1

    @staticmethod
    def _callHandler(method: Callable[..., object], takesArg: bool, value: str | None) -> None:
        if takesArg:
            method(value)
        else:
            method()

    def opt_help(self) -> None:
        """Display this help and exit."""
        print(self.__str__())
        sys.exit(0)

    def _printVersion(self) -> None:
        """Display version information and exit."""
        print(f"{programName()} {self.version}")
        sys.exit(0)

    # -- parsing

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        """Parse a command line, then the arguments or sub-command, then call `postOptions`.

        Args:
            options: the words to parse, without the program name;
                ``sys.argv[1:]`` when None.

        Raises:
            UsageError: if the command line is wrong.
            SystemExit: after ``--help``, ``--version`` or ``--_shell-completion``.
        """
        if options is None:
            options = sys.argv[1:]
        options = list(options)
        # Checked before any option is handled: the shell calls this on
        # half-typed command lines, where handlers would raise errors.
        if len(options) > 1 and options[-2] == _SHELL_COMPLETION_OPTION:
            from fw.python._usage_shellcomp import shellComplete

            output = self._shellCompFile or sys.stdout
            shellComplete(self, commandName(), options, output)
            sys.exit(0)

        found, args = splitCommandLine(options, self._longSpellings, self._shortSpellings)
        for occurrence in found:
            self._options[occurrence.canonical].dispatch(occurrence.value)

        if getattr(self, "subCommands", None) and (args or self.defaultSubCommand is not None):
            self._parseSubCommand(args or [self.defaultSubCommand or ""])
        else:
            self._callParseArgs(args)
        self.postOptions()

    def _parseSubCommand(self, args: list[str]) -> None:
        given, rest = args[0], args[1:]
        entries = list(subCommandEntries(self))
        for name, shortcut, factory, _doc in entries:
            if given in (name, shortcut):
                self.subCommand = name
                self.subOptions = factory()
                self.subOptions.parent = self
                self.subOptions.parseOptions(rest)
                return
        known = ", ".join(sorted(e[0] for e in entries))
        raise UsageError(f"Unknown command: {given} (expected one of: {known})")

    def _callParseArgs(self, args: list[str]) -> None:
        method = self.parseArgs
        if getattr(method, "__func__", None) is Options.parseArgs:
            parameters: list[inspect.Parameter] = []
        else:
            try:
                parameters = list(inspect.signature(method).parameters.values())
            except (TypeError, ValueError):  # no signature to check against
                method(*args)
                return
        positional = [
            p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        required = [p for p in positional if p.default is p.empty]
        variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
        tooFew = len(args) < len(required)
        tooMany = not variadic and len(args) > len(positional)
        if tooFew or tooMany:
            expected = describeArity(len(required), len(positional) - len(required), variadic)
            names = ", ".join(
                "*" + p.name if p.kind is p.VAR_POSITIONAL else p.name
                for p in parameters
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
            )
            if names:
                expected += f" ({names})"
            raise UsageError(f"Wrong number of arguments: expected {expected}, got {len(args)}.")
        method(*args)

    def postOptions(self) -> None:
        """Called after all options and arguments are parsed.

        Override to check or adjust the result; raise `UsageError` to reject it.
        """

    def parseArgs(self, *args: Any, **kwargs: Any) -> None:
        """Called with the arguments left after the options.

        Override with the parameters your command takes, e.g. ``def
        parseArgs(self, origin, changed)`` or ``def parseArgs(self, *files)``;
        a command line with a number of arguments the signature does not
        accept is a `UsageError`.  This default accepts none.
        """

    # -- usage message

    def getSynopsis(self) -> str:
        """The usage line: ``Usage: program [options]``, extended for sub-commands.

        A ``synopsis`` attribute replaces this object's part of it.
        """
        hasOptions = bool(self._options)
        if self.parent is None:
            default = f"Usage: {programName()}" + (" [options]" if hasOptions else "")
        else:
            default = "[options]" if hasOptions else ""
        synopsis = str(getattr(self, "synopsis", default)).rstrip()
        if self.parent is not None:
            parts = (self.parent.getSynopsis(), self.parent.subCommand or "", synopsis)
            synopsis = " ".join(p for p in parts if p)
        return synopsis

    def _longDescription(self) -> str:
        if self.longdesc is not None:
            return self.longdesc
        for klass in type(self).__mro__:
            if klass is Options:
                break
            doc = klass.__dict__.get("__doc__")
            if isinstance(doc, str) and doc.strip():
                return doc
        main = sys.modules.get("__main__")
        doc = getattr(main, "__doc__", None)
        return doc if isinstance(doc, str) else ""

    def _optionRows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for spec in self._options.values():
            if not (spec.longNames or spec.shortNames):
                continue
            rows.append(
                {
                    "long": spec.long,
                    "short": spec.short,
                    "doc": spec.doc,
                    "optType": "parameter" if spec.takesArg else "flag",
                    "default": self.defaults.get(spec.name) if spec.takesArg else None,
                    "dispatch": spec.coerce,
                }
            )
        return rows

    def getUsage(self, width: int | None = None) -> str:
        """The usage message without the synopsis line.

        It lists the options, the long description and the sub-commands.
        After a sub-command was selected, it is that sub-command's message.

        Args:
            width: the width to wrap to; ``$COLUMNS`` (else 80) when None.
        """
        if hasattr(self, "subOptions"):
            return self.subOptions.getUsage(width=width)
        if not width:
            width = terminalWidth()
        rows = self._optionRows()
        if rows:
            text = "Options:\n" + "".join(docMakeChunks(rows, width))
        else:
            text = "Options: None\n"
        longdesc = self._longDescription()
        if longdesc.strip():
            text += "\n" + wrapParagraphs(longdesc, width) + "\n"
        commands = [
            {"long": name, "short": shortcut, "doc": doc, "optType": "command"}
            for name, shortcut, _factory, doc in subCommandEntries(self)
        ]
        if commands:
            text += "Commands:\n" + "".join(docMakeChunks(commands, width))
        return text

    def __str__(self) -> str:
        if hasattr(self, "subOptions"):
            return str(self.subOptions)
        return self.getSynopsis() + "\n" + self.getUsage(width=None)
