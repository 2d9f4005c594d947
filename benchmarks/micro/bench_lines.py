"""LineReceiver throughput: lines per second through ``dataReceived``.

A buffer of 50,000 CRLF-terminated lines (41 bytes each, 2 MB in all) is fed
in 64 KiB chunks, the size a reactor reads at once, to a LineReceiver whose
``lineReceived`` counts them; the transport is the implementation's in-memory
``StringTransport``.  One operation is one line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

LINES = 50_000
CHUNK = 65_536


def makeBuffer() -> list[bytes]:
    """The input, already cut into chunks (lines straddle chunk boundaries)."""
    data = b"".join(b"%08d the quick brown fox jumps over\r\n" % i for i in range(LINES))
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def lineReceiverBenchmark(impl: str) -> tuple[Callable[[], object], int]:
    """One run over the whole buffer, and the number of lines it delivers."""
    basic: Any = importlib.import_module(f"{impl}.protocols.basic")
    testing: Any = importlib.import_module(f"{impl}.internet.testing")
    chunks = makeBuffer()

    class Counter(basic.LineReceiver):  # type: ignore[misc]
        count = 0

        def lineReceived(self, line: bytes) -> None:
            self.count += 1

    def feedAll() -> object:
        protocol = Counter()
        protocol.makeConnection(testing.StringTransport())
        for chunk in chunks:
            protocol.dataReceived(chunk)
        assert protocol.count == LINES, protocol.count
        return protocol.count

    return feedAll, LINES
