"""Splitting a command line into options and arguments, the way ``getopt`` does.

The grammar (POSIX ``getopt`` with GNU long options, no permutation)::

    command-line = option* ["--"] argument*
    option       = "--" long ["=" value] | "-" short+ [value]

Scanning stops at the first word that is not an option (``-`` alone is an
argument), or after ``--``.  A long option may be abbreviated to any unique
prefix.  Short options cluster (``-abc``); the first one that takes a value
takes the rest of the word (``-pVALUE``) or, when nothing is left, the next
word.

Private; `fw.python.usage` re-exports `UsageError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class UsageError(Exception):
    """The command line is wrong: the message says what to fix, for the user to read."""


@dataclass(frozen=True, slots=True)
class OptionSpelling:
    """How one spelling of an option (a long name or a short letter) behaves.

    Attributes:
        canonical: the name of the option this spelling belongs to.
        takesArg: whether the option takes a value.
    """

    canonical: str
    takesArg: bool


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One option found on a command line.

    Attributes:
        spelling: the option as it is usually written: ``--name`` (prefixes
            expanded) or ``-n``.
        canonical: the name of the option it belongs to.
        value: its value, or None for an option that takes none.
    """

    spelling: str
    canonical: str
    value: str | None


def _resolveLong(name: str, longOptions: Mapping[str, OptionSpelling]) -> str:
    """Find the long option ``name`` names, allowing unique prefixes."""
    if name in longOptions:
        return name
    candidates = sorted(n for n in longOptions if name and n.startswith(name))
    if not candidates:
        message = f"option --{name} not recognized"
        close = difflib.get_close_matches(name, list(longOptions), n=1)
        if close:
            message += f" (did you mean --{close[0]}?)"
        raise UsageError(message)
    if len({longOptions[c].canonical for c in candidates}) > 1:
        spelled = ", ".join(f"--{c}" for c in candidates)
        raise UsageError(f"option --{name} not a unique prefix (could be {spelled})")
    return candidates[0]


def splitCommandLine(
    words: Sequence[str],
    longOptions: Mapping[str, OptionSpelling],
    shortOptions: Mapping[str, OptionSpelling],
) -> tuple[list[Occurrence], list[str]]:
    """Split ``words`` into the options at its start and the arguments after them.

    Args:
        words: the command line, without the program name.
        longOptions: long option names (without ``--``) and how they behave.
        shortOptions: short option letters (without ``-``) and how they behave.

    Returns:
        The options found, in order, and the remaining arguments.

    Raises:
        UsageError: for an unknown or ambiguous option, an option missing its
            value, or a value given to an option that takes none.
    """
    found: list[Occurrence] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            return found, list(words[index + 1 :])
        if not word.startswith("-") or word == "-":
            return found, list(words[index:])
        index += 1
        if word.startswith("--"):
            given, equals, value = word[2:].partition("=")
            name = _resolveLong(given, longOptions)
            spelling = longOptions[name]
            if spelling.takesArg:
                if not equals:
                    if index >= len(words):
                        raise UsageError(f"option --{name} requires an argument")
                    value = words[index]
                    index += 1
                found.append(Occurrence(f"--{name}", spelling.canonical, value))
            elif equals:
                raise UsageError(f"option --{name} must not have an argument")
            else:
                found.append(Occurrence(f"--{name}", spelling.canonical, None))
            continue
        letters = word[1:]
        position = 0
        while position < len(letters):
            letter = letters[position]
            position += 1
            short = shortOptions.get(letter)
            if short is None:
                raise UsageError(f"option -{letter} not recognized")
            if not short.takesArg:
                found.append(Occurrence(f"-{letter}", short.canonical, None))
                continue
            value = letters[position:]
            if not value:
                if index >= len(words):
                    raise UsageError(f"option -{letter} requires an argument")
                value = words[index]
                index += 1
            found.append(Occurrence(f"-{letter}", short.canonical, value))
            break
    return found, []
