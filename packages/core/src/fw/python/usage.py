"""Command-line parsing: subclass `Options` and declare what your program understands.

::

    from fw.python import usage

    class Options(usage.Options):
        optFlags = [["verbose", "v", "Say more."]]
        optParameters = [["port", "p", 8080, "Port to listen on.", usage.portCoerce]]

        def parseArgs(self, root):
            self["root"] = root

    config = Options()
    try:
        config.parseOptions()          # sys.argv[1:]
    except usage.UsageError as e:
        raise SystemExit(f"{e}\\n{config}")

``--help`` prints the usage message (built from the declarations) and exits.

Shell completion: ``program --_shell-completion bash`` (or ``zsh``) prints a
completion script covering every option and sub-command; ``compData =
Completions(...)`` on an `Options` subclass refines it.  To install it:

- bash: ``eval "$(program --_shell-completion bash)"`` in ``~/.bashrc``, or
  save the output as ``~/.local/share/bash-completion/completions/program``.
- zsh: save the output of ``program --_shell-completion zsh`` as ``_program``
  in a directory of ``$fpath``, or ``source <(program --_shell-completion
  zsh)`` after ``compinit``.  Twisted's ``_twisted`` stub (which passes
  ``zsh:N``) also works.
"""

from fw.python._usage import (
    CoerceParameter,
    Options,
    error,
    flagFunction,
    portCoerce,
)
from fw.python._usage_completers import (
    CompleteDirs,
    CompleteFiles,
    CompleteGroups,
    CompleteHostnames,
    CompleteList,
    CompleteMultiList,
    CompleteNetInterfaces,
    Completer,
    CompleteUserAtHost,
    CompleteUsernames,
    Completions,
)
from fw.python._usage_getopt import UsageError
from fw.python._usage_help import docMakeChunks

__all__ = [
    "CoerceParameter",
    "CompleteDirs",
    "CompleteFiles",
    "CompleteGroups",
    "CompleteHostnames",
    "CompleteList",
    "CompleteMultiList",
    "CompleteNetInterfaces",
    "CompleteUserAtHost",
    "CompleteUsernames",
    "Completer",
    "Completions",
    "Options",
    "UsageError",
    "docMakeChunks",
    "error",
    "flagFunction",
    "portCoerce",
]


def _showPublicModule() -> None:
    """Make tracebacks and documentation name this module, not the private ones."""
    for name in __all__:
        public = globals()[name]
        if getattr(public, "__module__", "").startswith("fw.python._usage"):
            public.__module__ = __name__


_showPublicModule()

# The shell names Completer._shellCode understands, as Twisted spells them.
_ZSH = "zsh"
_BASH = "bash"
