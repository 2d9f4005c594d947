"""
Starting peer programs (nginx, nghttpd, tinyproxy...) for fw-web's tests:
a free loopback port to give one, and waiting until it accepts connections.
"""

from __future__ import annotations

import socket
import subprocess
import time

__all__ = ["freePort", "waitForPort"]


def freePort() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def waitForPort(port: int, process: subprocess.Popen[bytes]) -> None:
    """Wait (5 seconds at most) until ``process`` accepts connections on ``port``."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("the server did not start")
