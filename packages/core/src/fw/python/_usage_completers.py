"""Shell-completion metadata for `Options`: `Completions` and the ``Complete*`` actions.

Each action knows how to say, in zsh and in bash, what may be completed for
one option value or positional argument.  In bash the code runs inside the
generated completion function, where ``$cur`` holds the word to complete and
the ``_fw_usage_*`` helpers (see `fw.python._usage_bash`) add to
``COMPREPLY``.

Private; `fw.python.usage` re-exports the public names.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence

_ZSH = "zsh"
_BASH = "bash"


def zshEscapeMessage(text: str) -> str:
    """Escape text for the message part of a zsh ``_arguments`` action (``:message:``)."""
    return text.replace("\\", "\\\\").replace(":", "\\:")


class Completer:
    """A completion action that offers nothing: the base of the other actions.

    Args:
        descr: the description shown above the matches (zsh); defaults to
            the option's name.
        repeat: whether this action completes every remaining argument.
            Only allowed on the last of `Completions.extraActions`.
    """

    _descr: str | None = None

    def __init__(self, descr: str | None = None, repeat: bool = False) -> None:
        if descr is not None:
            self._descr = descr
        self._repeat = repeat

    @property
    def _repeatFlag(self) -> str:
        return "*" if self._repeat else ""

    def _description(self, optName: str) -> str:
        return self._descr if self._descr is not None else optName

    def _zshAction(self, optName: str) -> str:
        """The action part of a zsh ``_arguments`` spec (after the message)."""
        return ""

    def _bashAction(self) -> str:
        """A bash command adding matches for ``$cur`` to ``COMPREPLY``."""
        return ":"

    def _shellCode(self, optName: str, shellType: str) -> str:
        """Shell code for this action, completing a value of option ``optName``.

        Args:
            optName: the long name of the option (used as the description
                when none was given).
            shellType: ``"zsh"`` or ``"bash"``.

        Returns:
            For zsh, the ``[*]:message:action`` part of an ``_arguments`` spec;
            for bash, a command that adds the matches for ``$cur``.

        Raises:
            NotImplementedError: for any other shell.
        """
        if shellType == _ZSH:
            message = zshEscapeMessage(self._description(optName))
            return f"{self._repeatFlag}:{message}:{self._zshAction(optName)}"
        if shellType == _BASH:
            return self._bashAction()
        raise NotImplementedError(f"Unknown shellType {shellType!r}")


class CompleteFiles(Completer):
    """Complete file names matching a glob pattern (and directories, to descend into).

    Args:
        globPattern: the pattern file names must match.
    """

    def __init__(
        self, globPattern: str = "*", descr: str | None = None, repeat: bool = False
    ) -> None:
        super().__init__(descr=descr, repeat=repeat)
        self._globPattern = globPattern

    def _description(self, optName: str) -> str:
        return f"{super()._description(optName)} ({self._globPattern})"

    def _zshAction(self, optName: str) -> str:
        pattern = self._globPattern.replace("\\", "\\\\").replace('"', '\\"')
        return f'_files -g "{pattern}"'

    def _bashAction(self) -> str:
        return f"_fw_usage_files {shlex.quote(self._globPattern)}"


class CompleteDirs(Completer):
    """Complete directory names."""

    def _zshAction(self, optName: str) -> str:
        return "_directories"

    def _bashAction(self) -> str:
        return "_fw_usage_dirs"


class CompleteList(Completer):
    """Complete one word from a fixed list.

    Args:
        items: the words.
    """

    def __init__(
        self, items: Iterable[str], descr: str | None = None, repeat: bool = False
    ) -> None:
        super().__init__(descr=descr, repeat=repeat)
        self._items = list(items)

    def _zshAction(self, optName: str) -> str:
        words = " ".join(_zshWord(i) for i in self._items)
        return f"({words})"

    def _bashAction(self) -> str:
        return " ".join(["_fw_usage_words", *(shlex.quote(i) for i in self._items)])


class CompleteMultiList(Completer):
    """Complete a comma-separated list of words from a fixed list.

    Args:
        items: the words.
    """

    def __init__(
        self, items: Iterable[str], descr: str | None = None, repeat: bool = False
    ) -> None:
        super().__init__(descr=descr, repeat=repeat)
        self._items = list(items)

    def _zshAction(self, optName: str) -> str:
        description = self._description(optName).replace("'", "")
        words = " ".join(_zshWord(i) for i in self._items)
        return f"_values -s , '{description}' {words}"

    def _bashAction(self) -> str:
        return " ".join(["_fw_usage_multi", *(shlex.quote(i) for i in self._items)])


class CompleteUsernames(Completer):
    """Complete the names of the users of this system."""

    def _zshAction(self, optName: str) -> str:
        return "_users"

    def _bashAction(self) -> str:
        return "_fw_usage_compgen -u"


class CompleteGroups(Completer):
    """Complete the names of the groups of this system."""

    _descr = "group"

    def _zshAction(self, optName: str) -> str:
        return "_groups"

    def _bashAction(self) -> str:
        return "_fw_usage_compgen -g"


class CompleteHostnames(Completer):
    """Complete host names (from the shell's known hosts)."""

    def _zshAction(self, optName: str) -> str:
        return "_hosts"

    def _bashAction(self) -> str:
        return "_fw_usage_compgen -A hostname"


class CompleteUserAtHost(Completer):
    """Complete ``user``, ``host`` or ``user@host``, as ssh's destination is completed."""

    _descr = "host | user@host"

    def _zshAction(self, optName: str) -> str:
        # _user_at_host completes "user@" and, after the "@", the host.
        return "_alternative 'hosts:remote host name:_hosts' 'users:login name:_user_at_host'"

    def _bashAction(self) -> str:
        return "_fw_usage_userathost"


class CompleteNetInterfaces(Completer):
    """Complete the names of this system's network interfaces."""

    def _zshAction(self, optName: str) -> str:
        return "_net_interfaces"

    def _bashAction(self) -> str:
        return "_fw_usage_interfaces"


def _zshWord(word: str) -> str:
    """Quote a word inside a zsh ``(a b c)`` or ``_values`` list."""
    special = set(" \t\n\\()'\":;|&<>$`*?[]{}#~")
    return "".join("\\" + c if c in special else c for c in word)


ActionSpec = Completer | Callable[[], Completer]


class Completions:
    """Extra information for shell completion, set as an `Options`' ``compData``.

    Every name is an option's long name.  The ``compData`` of base classes
    is merged in (``extraActions`` comes from the most derived class that
    sets it).

    Args:
        descriptions: descriptions to show instead of the options' docs.
        multiUse: options that may be given more than once (others are
            offered once).
        mutuallyExclusive: groups of options that exclude each other (once
            one is on the command line, the others are not offered).
        optActions: what to complete as each option's value: a `Completer`,
            or a callable returning one.  Options with a value default to
            `CompleteFiles`.
        extraActions: what to complete as each positional argument, in
            order; the last may have ``repeat=True``.
    """

    def __init__(
        self,
        descriptions: Mapping[str, str] | None = None,
        multiUse: Iterable[str] | None = None,
        mutuallyExclusive: Iterable[Sequence[str]] | None = None,
        optActions: Mapping[str, ActionSpec] | None = None,
        extraActions: Sequence[Completer] | None = None,
    ) -> None:
        self.descriptions: dict[str, str] = dict(descriptions or {})
        self.multiUse: list[str] = list(multiUse or [])
        self.mutuallyExclusive: list[Sequence[str]] = list(mutuallyExclusive or [])
        self.optActions: dict[str, ActionSpec] = dict(optActions or {})
        self.extraActions: list[Completer] = list(extraActions or [])
