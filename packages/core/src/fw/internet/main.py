"""
Installing the global reactor.

``from fw.internet import reactor`` gives the global reactor, installing the
platform's default (epoll on Linux, poll elsewhere) on first use.  To choose
another, install it before anything imports the reactor::

    from fw.internet import selectreactor
    selectreactor.install()
"""

from __future__ import annotations

import sys
from typing import Any

from fw.internet import error

__all__ = ["CONNECTION_DONE", "CONNECTION_LOST", "installReactor"]

from fw.internet.abstract import CONNECTION_DONE, CONNECTION_LOST


def installReactor(reactor: Any) -> None:
    """
    Make ``reactor`` the global reactor (``fw.internet.reactor``).

    Raises:
        ReactorAlreadyInstalledError: a reactor is installed already.
    """
    if "fw.internet.reactor" in sys.modules:
        raise error.ReactorAlreadyInstalledError("reactor already installed")
    import fw.internet

    sys.modules["fw.internet.reactor"] = reactor
    setattr(fw.internet, "reactor", reactor)  # noqa: B010
