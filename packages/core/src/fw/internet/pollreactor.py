"""
The poll(2) reactor, for POSIX platforms without epoll.

``fw.internet.pollreactor.install()`` makes it the global reactor.
"""

from __future__ import annotations

import math
import select
from typing import Any

from zope.interface import implementer

from fw.internet._interfaces_core import IReactorFDSet
from fw.internet._pollingbase import PollingReactorBase

__all__ = ["PollReactor", "install"]


@implementer(IReactorFDSet)
class PollReactor(PollingReactorBase):
    """A reactor waiting with poll(2)."""

    _IN = select.POLLIN
    _OUT = select.POLLOUT
    _ERR = select.POLLERR | select.POLLHUP | select.POLLNVAL

    def _makePoller(self) -> Any:
        return select.poll()

    def _pollWait(self, timeout: float | None) -> list[tuple[int, int]]:
        # poll(2) counts milliseconds; round up so a timer is never woken early.
        ms = None if timeout is None else math.ceil(timeout * 1000)
        return self._poller.poll(ms)  # type: ignore[no-any-return]


def install() -> PollReactor:
    """Install a poll reactor as the global reactor and return it."""
    from fw.internet.main import installReactor

    reactor = PollReactor()
    installReactor(reactor)
    return reactor
