"""
fw.enterprise.adbapi against a real PostgreSQL server (Debian's postgresql)
through psycopg 3, including server restarts while the pool is in use.

The fixture makes a cluster with initdb in a temporary directory, starts it
on a free port of 127.0.0.1 (and a socket directory of its own), and stops
it.  As root (as in CI) the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from fw.enterprise import adbapi
from fw.internet.defer import Deferred, gatherResults
from fw.internet.threads import deferToThreadPool
from fw.logger import capturedLogs
from fw.trial.pytestplugin import missingPeer, requireModule

pytestmark = pytest.mark.timeout(120)

psycopg: Any = requireModule("psycopg")


def findPostgresProgram(name: str) -> str:
    """Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if candidates:
        return max(candidates, key=lambda p: int(p.split("/")[4]))
    return name


def requirePeer(program: str) -> str:
    # As fw-trial's requirePeer, but the path is initdb's or pg_ctl's, which
    # Debian keeps off PATH (findPostgresProgram).
    path = shutil.which(program)
    if path is None:
        missingPeer(f"peer program {program!r} is not installed (Debian: postgresql)")
    return path


@dataclass
class PostgresServer:
    pgctl: str
    data: str
    log: str
    port: int
    sockets: str
    asUser: list[str]

    def options(self) -> str:
        return (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c full_page_writes=off"
        )

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.asUser, self.pgctl, "-D", self.data, "-l", self.log, "-w", "-t", "30", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=fwtest dbname=postgres connect_timeout=10"

    def serverLog(self) -> str:
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    initdb = requirePeer(findPostgresProgram("initdb"))
    pgctl = requirePeer(findPostgresProgram("pg_ctl"))
    base = tempfile.mkdtemp(prefix="fw-pg-")
    asUser: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root.
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        asUser = [requirePeer("runuser"), "-u", "postgres", "--"]
    sockets = os.path.join(base, "sockets")
    data = os.path.join(base, "data")
    subprocess.run([*asUser, "mkdir", sockets], check=True)
    subprocess.run(
        [*asUser, initdb, "-D", data, "-U", "fwtest", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PostgresServer(
        pgctl, data, os.path.join(base, "server.log"), freePort(), sockets, asUser
    )
    server.ctl("-o", server.options(), "start")
    try:
        yield server
    finally:
        try:
            server.ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(base, ignore_errors=True)


def psycopgPool(reactor: Any, server: PostgresServer, **kw: Any) -> adbapi.ConnectionPool:
    return adbapi.ConnectionPool("psycopg", server.conninfo(), cp_reactor=reactor, **kw)


@pytest.fixture
def reactor() -> Iterator[Any]:
    # One backend is enough here: the sqlite tests run on every one.
    from fw.internet.epollreactor import EPollReactor

    instance = EPollReactor()
    yield instance
    for reader in list(instance._internalReaders):
        instance.removeReader(reader)
        reader.connectionLost(None)
    instance._poller.close()
    if instance.threadpool is not None:
        instance.threadpool.stop()


RunReactor = Callable[..., Any]


async def failureOf(d: Deferred[Any]) -> BaseException:
    try:
        await d
    except BaseException as e:
        return e
    raise AssertionError("the Deferred succeeded")


def test_queriesAndTransactions(
    reactor: Any, runReactor: RunReactor, postgres: PostgresServer
) -> None:
    pool = psycopgPool(reactor, postgres, cp_min=1, cp_max=3)

    async def scenario() -> None:
        await pool.runOperation("DROP TABLE IF EXISTS accounts")
        await pool.runOperation("CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INT)")
        await pool.runOperation(
            "INSERT INTO accounts VALUES (%s, %s), (%s, %s)", ("alice", 100, "bob", 0)
        )

        def transfer(txn: adbapi.Transaction, amount: int) -> int:
            txn.execute(
                "UPDATE accounts SET balance = balance - %s WHERE name = 'alice'", (amount,)
            )
            txn.execute("UPDATE accounts SET balance = balance + %s WHERE name = 'bob'", (amount,))
            txn.execute("SELECT balance FROM accounts WHERE name = 'alice'")
            balance: int = txn.fetchone()[0]
            if balance < 0:
                raise ValueError("insufficient funds")
            return balance

        assert await pool.runInteraction(transfer, 30) == 70
        assert isinstance(await failureOf(pool.runInteraction(transfer, 500)), ValueError)
        rows = await pool.runQuery("SELECT name, balance FROM accounts ORDER BY name")
        assert rows == [("alice", 70), ("bob", 30)]
        e = await failureOf(pool.runQuery("SELECT * FROM nonesuch"))
        assert isinstance(e, psycopg.errors.UndefinedTable)
        # Concurrent queries, each in a transaction of its own thread.
        results = await gatherResults(
            [pool.runQuery("SELECT pg_backend_pid(), pg_sleep(0.05)") for _ in range(6)]
        )
        assert len({r[0][0] for r in results}) > 1
        pool.close()

    runReactor(reactor, scenario, timeout=60)


def test_serverRestartDuringUse(
    reactor: Any, runReactor: RunReactor, postgres: PostgresServer
) -> None:
    pool = psycopgPool(reactor, postgres, cp_min=2, cp_max=2, cp_reconnect=True)

    def restart() -> Deferred[None]:
        return deferToThreadPool(
            reactor,
            reactor.getThreadPool(),
            postgres.ctl,
            "-m",
            "fast",
            "-o",
            postgres.options(),
            "restart",
        )

    def waitForSleeper() -> None:
        with psycopg.connect(postgres.conninfo(), autocommit=True) as conn:
            for _ in range(200):
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'"
                ).fetchone()
                if count and count[0]:
                    return
                import time

                time.sleep(0.05)
        raise AssertionError("the long query never started")

    async def scenario() -> None:
        await pool.runOperation("DROP TABLE IF EXISTS kept")
        await pool.runOperation("CREATE TABLE kept (x INT)")
        await pool.runOperation("INSERT INTO kept VALUES (1)")
        # Give both threads a connection.
        await gatherResults([pool.runQuery("SELECT pg_sleep(0.1)") for _ in range(2)])
        assert len(pool.connections) == 2
        before = {id(c) for c in pool.connections.values()}

        # A query in flight when the server restarts fails with ConnectionLost.
        inFlight = pool.runQuery("SELECT pg_sleep(60)")
        await deferToThreadPool(reactor, reactor.getThreadPool(), waitForSleeper)
        with capturedLogs():
            await restart()
            e = await failureOf(inFlight)
        assert isinstance(e, adbapi.ConnectionLost), repr(e)
        assert isinstance(e.__cause__, psycopg.OperationalError)

        # The queries after the restart succeed, on new connections, in
        # both threads, and the committed data is still there.
        results = await gatherResults([pool.runQuery("SELECT x FROM kept") for _ in range(4)])
        assert results == [[(1,)]] * 4
        assert not before & {id(c) for c in pool.connections.values()}

        # A restart while the pool is idle: the next queries succeed too.
        await restart()
        results = await gatherResults([pool.runQuery("SELECT 1") for _ in range(4)])
        assert results == [[(1,)]] * 4
        pool.close()

    try:
        runReactor(reactor, scenario, timeout=90)
    except BaseException:
        print(postgres.serverLog())
        raise


def test_withoutReconnectARestartBreaksTheConnection(
    reactor: Any, runReactor: RunReactor, postgres: PostgresServer
) -> None:
    pool = psycopgPool(reactor, postgres, cp_min=1, cp_max=1)

    async def scenario() -> None:
        await pool.runQuery("SELECT 1")
        await deferToThreadPool(
            reactor,
            reactor.getThreadPool(),
            postgres.ctl,
            "-m",
            "fast",
            "-o",
            postgres.options(),
            "restart",
        )
        with capturedLogs():
            e = await failureOf(pool.runQuery("SELECT 1"))
        assert isinstance(e, psycopg.OperationalError)
        pool.close()

    runReactor(reactor, scenario, timeout=60)
    assert runReactor.flushLoggedErrors()  # the broken connection, logged
