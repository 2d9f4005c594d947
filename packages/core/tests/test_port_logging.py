"""
What listening ports log: the bound port number when a TCP port closes, and
a warning (not a critical error) when a UNIX port cannot remove its lock file.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from fw.internet.protocol import Factory, Protocol
from fw.logger import LogLevel, capturedLogs, formatEvent

pytestmark = pytest.mark.timeout(30)


class NamedFactory(Factory):
    protocol = Protocol

    def logPrefix(self) -> str:
        return "NamedFactory"


def messages(events: list[Any]) -> list[str]:
    return [formatEvent(e) for e in events]


def test_tcpPortLogsBoundPortWhenClosed(reactor: Any, runReactor: Any) -> None:
    with capturedLogs() as events:

        async def go() -> int:
            port = reactor.listenTCP(0, NamedFactory(), interface="127.0.0.1")
            number = int(port.getHost().port)
            await port.stopListening()
            return number

        bound = runReactor(reactor, go)
    assert bound != 0
    logged = messages(events)
    assert f"NamedFactory starting on {bound}" in logged
    assert f"(NamedFactory Port {bound} Closed)" in logged
    assert "(NamedFactory Port 0 Closed)" not in logged


def test_tcpPortAskedForLogsThatPort(reactor: Any, runReactor: Any) -> None:
    """A port asked for by number logs that number when it closes."""

    async def go() -> int:
        probe = reactor.listenTCP(0, NamedFactory(), interface="127.0.0.1")
        number = int(probe.getHost().port)
        await probe.stopListening()
        with capturedLogs() as events:
            port = reactor.listenTCP(number, NamedFactory(), interface="127.0.0.1")
            await port.stopListening()
        assert f"(NamedFactory Port {number} Closed)" in messages(events)
        return number

    runReactor(reactor, go)


@pytest.fixture
def sockDir() -> Iterator[str]:
    # Short: UNIX socket paths are limited to about 100 bytes.
    directory = tempfile.mkdtemp(prefix="fwlog")
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_unixLockFileNotRemovableIsAWarning(reactor: Any, runReactor: Any, sockDir: str) -> None:
    """
    After dropping privileges a server may not be allowed to remove its
    ``.lock`` file: that is logged as a warning naming the file, not as a
    critical failure.
    """
    path = os.path.join(sockDir, "s.sock")
    lockName = path + ".lock"

    async def go() -> None:
        port = reactor.listenUNIX(path, NamedFactory(), wantPID=True)
        assert os.readlink(lockName) == str(os.getpid())

        def refuse() -> None:
            raise PermissionError(errno.EACCES, "Permission denied", lockName)

        port.lockFile.unlock = refuse
        await port.stopListening()

    with capturedLogs() as events:
        runReactor(reactor, go)
    about = [e for e in events if lockName in formatEvent(e)]
    assert len(about) == 1
    [event] = about
    assert event["log_level"] is LogLevel.warn
    assert "Could not remove the lock file" in formatEvent(event)
    assert "Permission denied" in formatEvent(event)
    assert "privileges" in formatEvent(event)
    assert not [e for e in events if e["log_level"] in (LogLevel.critical, LogLevel.error)]
    # The lock still names this (soon dead) process; the socket file is gone.
    assert os.readlink(lockName) == str(os.getpid())
    assert not os.path.exists(path)
