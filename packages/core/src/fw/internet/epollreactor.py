"""
The epoll reactor: the default on Linux.

``fw.internet.epollreactor.install()`` makes it the global reactor.
"""

from __future__ import annotations

import select
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._pollingbase import PollingReactorBase

__all__ = ["EPollReactor", "install"]


@implementer(IReactorFDSet)
class EPollReactor(PollingReactorBase):
    """A reactor waiting with Linux's epoll(7), level-triggered."""

    _IN = select.EPOLLIN
    _OUT = select.EPOLLOUT
    _ERR = select.EPOLLERR | select.EPOLLHUP

    def _makePoller(self) -> Any:
        return select.epoll()

    def _pollWait(self, timeout: float | None) -> list[tuple[int, int]]:
        return self._poller.poll(-1 if timeout is None else timeout)  # type: ignore[no-any-return]


def install() -> EPollReactor:
    """Install an epoll reactor as the global reactor and return it."""
    from fw.internet.main import installReactor

    reactor = EPollReactor()
    installReactor(reactor)
    return reactor
