"""
The platform's default reactor: epoll on Linux, poll on other POSIX systems.

``fw.internet.default.install()`` installs it; importing
``fw.internet.reactor`` does so when no reactor is installed yet.
"""

from __future__ import annotations

from typing import Any

from fw.internet._posixbase import _platformDefault

__all__ = ["install"]


def install() -> Any:
    """Install the platform's default reactor and return it."""
    from fw.internet.main import installReactor

    reactor = _platformDefault()()
    installReactor(reactor)
    return reactor
