"""Shell completion for `Options`: what a command understands, as the generators see it.

``parseOptions`` hands ``--_shell-completion SHELL[:N]`` to `shellComplete`,
which writes a completion script for the whole command (all sub-commands
included) to stdout:

- ``zsh`` or ``zsh:N`` (``N`` is ignored; Twisted's zsh stub passes it): a
  ``#compdef`` script built on ``_arguments``.  It works saved as ``_cmd`` in
  a directory of ``$fpath``, sourced after ``compinit``, or ``eval``'d by
  Twisted's ``_twisted``-style stub.
- ``bash`` or ``bash:N``: functions and a ``complete -F`` registration, for
  ``eval "$(cmd --_shell-completion bash)"`` or a bash-completion directory.

Private.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from fw.python._usage_completers import _BASH, _ZSH, CompleteFiles, Completer, Completions
from fw.python._usage_getopt import UsageError

if TYPE_CHECKING:
    from fw.python._usage import Options

# Sub-commands nest; an Options class that (indirectly) lists itself as a
# sub-command would nest forever, so a class already on the path is not
# expanded again, and nesting stops at this depth whatever the classes.
MAX_SUBCOMMAND_DEPTH = 8


class _DefaultValueAction(CompleteFiles):
    """What an option's value completes to when ``optActions`` says nothing: files."""

    def _description(self, optName: str) -> str:
        return self._descr if self._descr is not None else optName

    def _zshAction(self, optName: str) -> str:
        return "_files"


@dataclass
class CompletionOption:
    """One option of a command, for completion.

    Attributes:
        name: the option's canonical name.
        longNames: its spellings after ``--``.
        shortNames: its spellings after ``-``.
        description: the help text to show.
        action: what its value completes to; None for an option without value.
        multiUse: whether it may be given more than once.
        excludes: names of the options it is mutually exclusive with.
    """

    name: str
    longNames: list[str]
    shortNames: list[str]
    description: str
    action: Completer | None
    multiUse: bool = False
    excludes: list[str] = field(default_factory=list)

    @property
    def takesArg(self) -> bool:
        return self.action is not None

    def spellings(self) -> list[str]:
        """Every way to write this option: ``--long`` and ``-s`` forms."""
        return [f"--{n}" for n in self.longNames] + [f"-{s}" for s in self.shortNames]


@dataclass
class CompletionSubCommand:
    """A sub-command: its name, shortcut, help and what it understands."""

    name: str
    shortcut: str | None
    description: str
    scope: CompletionScope


@dataclass
class CompletionScope:
    """What one `Options` understands: options, positional arguments, sub-commands.

    Attributes:
        path: the sub-command names leading here from the command.
    """

    path: tuple[str, ...]
    options: list[CompletionOption]
    extraActions: list[Completer]
    subCommands: list[CompletionSubCommand]

    def walk(self) -> Iterator[CompletionScope]:
        """This scope and every scope under it, depth first."""
        yield self
        for sub in self.subCommands:
            yield from sub.scope.walk()

    def option(self, name: str) -> CompletionOption:
        for opt in self.options:
            if opt.name == name:
                return opt
        raise KeyError(name)


def _oneLine(text: str | None) -> str:
    return " ".join((text or "").split())


def _mergedCompData(options: Options) -> Completions:
    """The ``compData`` of ``options``' class and its bases, merged (most derived wins)."""
    merged = Completions()
    datas = [k.__dict__.get("compData") for k in reversed(type(options).__mro__)]
    datas.append(vars(options).get("compData"))
    for data in datas:
        if not isinstance(data, Completions):
            continue
        merged.descriptions.update(data.descriptions)
        merged.optActions.update(data.optActions)
        merged.multiUse.extend(n for n in data.multiUse if n not in merged.multiUse)
        merged.mutuallyExclusive.extend(data.mutuallyExclusive)
        if data.extraActions:
            merged.extraActions = list(data.extraActions)
    return merged


def _resolveAction(name: str, action: object) -> Completer:
    if isinstance(action, Completer):
        return action
    if callable(action):
        made = action()
        if isinstance(made, Completer):
            return made
    raise TypeError(f"optActions[{name!r}] is not a Completer or a callable returning one")


def _buildOptions(options: Options, data: Completions) -> list[CompletionOption]:
    specs = list(options._options.values())
    canonical: dict[str, str] = {}
    for spec in specs:
        canonical[spec.name] = spec.name
        canonical.update(dict.fromkeys(spec.longNames, spec.name))

    def resolve(name: str) -> str:
        if name not in canonical:
            raise ValueError(
                f'Unknown option name "{name}" found while examining the Completions '
                f"(compData) of {type(options).__qualname__}"
            )
        return canonical[name]

    descriptions = {resolve(n): d for n, d in data.descriptions.items()}
    actions = {resolve(n): a for n, a in data.optActions.items()}
    multiUse = {resolve(n) for n in data.multiUse}
    excludes: dict[str, list[str]] = {}
    for group in data.mutuallyExclusive:
        names = [resolve(n) for n in group]
        for name in names:
            others = excludes.setdefault(name, [])
            others.extend(n for n in names if n != name and n not in others)

    built: list[CompletionOption] = []
    for spec in specs:
        if not (spec.longNames or spec.shortNames):
            continue
        action: Completer | None = None
        if spec.takesArg:
            if spec.name in actions:
                action = _resolveAction(spec.name, actions[spec.name])
            else:
                action = _DefaultValueAction()
        description = _oneLine(descriptions.get(spec.name) or spec.doc) or spec.name
        built.append(
            CompletionOption(
                name=spec.name,
                longNames=list(spec.longNames),
                shortNames=list(spec.shortNames),
                description=description,
                action=action,
                multiUse=spec.name in multiUse,
                excludes=excludes.get(spec.name, []),
            )
        )
    return built


def buildScope(
    options: Options, path: tuple[str, ...] = (), seen: tuple[type, ...] = ()
) -> CompletionScope:
    """Describe ``options`` and, recursively, its sub-commands, for the generators.

    Raises:
        ValueError: if ``compData`` names an option that does not exist, or a
            repeating extra action is not the last.
    """
    from fw.python._usage import subCommandEntries

    data = _mergedCompData(options)
    for index, action in enumerate(data.extraActions):
        if action._repeat and index != len(data.extraActions) - 1:
            raise ValueError(
                "Completer with repeat=True must be the last item in Completions.extraActions"
            )
    scope = CompletionScope(path, _buildOptions(options, data), data.extraActions, [])
    seen = (*seen, type(options))
    if len(path) >= MAX_SUBCOMMAND_DEPTH:
        return scope
    for name, shortcut, factory, doc in subCommandEntries(options):
        subOptions = factory()
        subOptions.parent = options
        if type(subOptions) in seen:
            subScope = CompletionScope((*path, name), [], [], [])
        else:
            subScope = buildScope(subOptions, (*path, name), seen)
        scope.subCommands.append(CompletionSubCommand(name, shortcut, _oneLine(doc), subScope))
    return scope


def functionName(cmdName: str) -> str:
    """The shell function name the completion of ``cmdName`` is installed as."""
    return "_fw_" + re.sub(r"[^A-Za-z0-9_]", "_", cmdName)


def completionScript(options: Options, cmdName: str, shell: str) -> str:
    """The completion script of ``shell`` for the command ``cmdName`` that ``options`` parses.

    Raises:
        UsageError: if ``shell`` is neither ``bash`` nor ``zsh``.
    """
    if shell == _ZSH:
        from fw.python._usage_zsh import zshScript

        return zshScript(buildScope(options), cmdName)
    if shell == _BASH:
        from fw.python._usage_bash import bashScript

        return bashScript(buildScope(options), cmdName)
    raise UsageError(f"--_shell-completion: unsupported shell {shell!r} (expected bash or zsh)")


def shellComplete(options: Options, cmdName: str, words: list[str], output: IO[str]) -> None:
    """Answer ``--_shell-completion``: write the requested shell's script to ``output``.

    Args:
        options: the command's (root) `Options`.
        cmdName: the command's name, as typed in the shell.
        words: the command line; its last word is ``SHELL`` or ``SHELL:POSITION``.
        output: where to write the script.
    """
    shell = words[-1].partition(":")[0]
    output.write(completionScript(options, cmdName, shell))
    output.flush()
