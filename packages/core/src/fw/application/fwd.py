"""
``fwd``: run an application (fw's ``twistd``).

::

    fwd -n -y app.tac                 # a .tac file, in the foreground
    fwd --pidfile app.pid -y app.tac  # as a daemon (logging to fwd.log)
    fwd -n finger --file users.txt    # a plugin (fwd --help lists them)
    fwd --save-config app.toml finger --file users.txt
    fwd -n --config app.toml          # the saved plugin and options

``python -m fw.application`` is the same program.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from fw.application.app import ServerOptions, runApp
from fw.python import usage

__all__ = ["main", "run"]


def main(argv: Sequence[str] | None = None) -> int:
    """
    Parse ``argv`` (``sys.argv[1:]`` by default) and run; return the exit
    status: 0 after a clean stop, 1 when the start failed, 2 for a wrong
    command line.
    """
    config = ServerOptions()
    try:
        config.parseOptions(list(sys.argv[1:] if argv is None else argv))
    except usage.UsageError as e:
        sys.stderr.write(f"{config.getSynopsis()}\nfwd: {e}\nfwd --help for details\n")
        return 2
    return runApp(config)


def run() -> None:
    """The ``fwd`` console script: :func:`main`, then exit with its status."""
    sys.exit(main())
