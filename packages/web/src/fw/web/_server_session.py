"""Server-side sessions: :class:`Session`, kept by a :class:`~fw.web.server.Site`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fw.internet.interfaces import IDelayedCall, IReactorTime
from fw.python.components import Componentized

__all__ = ["Session"]


class Session(Componentized):
    """
    A user's session: an object kept by the site under a random id sent as a cookie.

    It expires after :attr:`sessionTimeout` seconds without a request using it;
    components (``session.setComponent(IFoo, value)``) hold per-user state.

    Args:
        site: The site keeping the session.
        uid: The session id.
        reactor: The clock used for expiry (the site's reactor by default).
    """

    #: Seconds of inactivity after which the session expires.
    sessionTimeout: float = 900

    _expireCall: IDelayedCall | None = None

    def __init__(self, site: Any, uid: bytes, reactor: IReactorTime | None = None) -> None:
        super().__init__()
        if reactor is None:
            reactor = getattr(site, "_reactor", None)
            if reactor is None:
                from fw.internet import reactor as globalReactor

                reactor = globalReactor  # type: ignore[assignment]
        assert reactor is not None
        self._reactor = reactor
        self.site = site
        self.uid = uid
        self.expireCallbacks: list[Callable[[], object]] = []
        self.sessionNamespaces: dict[str, Any] = {}
        self.lastModified = reactor.seconds()

    def startCheckingExpiration(self) -> None:
        """Start the expiry timer (the site calls this when it makes the session)."""
        self._expireCall = self._reactor.callLater(self.sessionTimeout, self.expire)

    def notifyOnExpire(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when the session expires."""
        self.expireCallbacks.append(callback)

    def expire(self) -> None:
        """Expire now: forget the session and run the expiry callbacks."""
        sessions = getattr(self.site, "sessions", {})
        if sessions.get(self.uid) is self:
            del sessions[self.uid]
        callbacks, self.expireCallbacks = self.expireCallbacks, []
        for callback in callbacks:
            callback()
        if self._expireCall is not None and self._expireCall.active():
            self._expireCall.cancel()
        self._expireCall = None

    def touch(self) -> None:
        """Mark the session used now, postponing its expiry."""
        self.lastModified = self._reactor.seconds()
        if self._expireCall is not None and self._expireCall.active():
            self._expireCall.reset(self.sessionTimeout)
