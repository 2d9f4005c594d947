"""Per-client rate limiting for the DNS server's UDP queries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

__all__ = ["MAX_TRACKED_CLIENTS", "RateLimiter"]

#: The most client addresses tracked at once (64k entries are a few MiB; the
#: least recently seen are forgotten first, so spoofed sources cannot grow
#: the table without bound).
MAX_TRACKED_CLIENTS = 65536


class RateLimiter:
    """
    A token bucket per client address: ``rate`` queries a second on average,
    up to ``burst`` at once.

    Args:
        rate: tokens added per second.
        burst: the bucket's size.
        clock: returns the current time in seconds (``reactor.seconds``).
        maxClients: the most addresses tracked.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float],
        maxClients: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._maxClients = maxClients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str) -> bool:
        """Take a token for ``client``; whether there was one."""
        now = self._clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self._maxClients:
            self._buckets.popitem(last=False)
        return allowed
