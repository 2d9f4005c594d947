"""fw.enterprise.adbapi with sqlite3 (a file database) and with a fake DB-API driver."""

from __future__ import annotations

import sqlite3
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fw.enterprise import adbapi
from fw.internet.defer import Deferred, gatherResults
from fw.logger import capturedLogs

pytestmark = pytest.mark.timeout(60)

RunReactor = Callable[..., Any]


async def failureOf(d: Deferred[Any]) -> BaseException:
    try:
        await d
    except BaseException as e:
        return e
    raise AssertionError("the Deferred succeeded")


def sqlitePool(reactor: Any, path: Path, **kw: Any) -> adbapi.ConnectionPool:
    return adbapi.ConnectionPool(
        "sqlite3", str(path), check_same_thread=False, cp_reactor=reactor, **kw
    )


def test_queriesOperationsInteractions(
    reactor: Any, runReactor: RunReactor, tmp_path: Path
) -> None:
    pool = sqlitePool(reactor, tmp_path / "db.sqlite", cp_min=1, cp_max=3)
    assert not pool.running

    async def scenario() -> None:
        assert pool.running
        await pool.runOperation("CREATE TABLE users (name TEXT PRIMARY KEY, age INT)")
        await pool.runOperation("INSERT INTO users VALUES (?, ?)", ("alice", 30))

        def addTwo(txn: adbapi.Transaction, first: str, second: str) -> int:
            txn.execute("INSERT INTO users VALUES (?, 1)", (first,))
            txn.execute("INSERT INTO users VALUES (?, 2)", (second,))
            txn.execute("SELECT count(*) FROM users")
            count: int = txn.fetchone()[0]
            return count

        assert await pool.runInteraction(addTwo, "bob", "carol") == 3
        rows = await pool.runQuery("SELECT name, age FROM users ORDER BY name")
        assert rows == [("alice", 30), ("bob", 1), ("carol", 2)]
        # Many at once, in several threads.
        results = await gatherResults(
            [
                pool.runQuery("SELECT age FROM users WHERE name = ?", (n,))
                for n in ["alice", "bob"] * 5
            ]
        )
        assert results == [[(30,)], [(1,)]] * 5
        assert 1 <= len(pool.connections) <= 3
        pool.close()
        assert not pool.running
        assert pool.connections == {}

    runReactor(reactor, scenario)


def test_rollbackOnError(reactor: Any, runReactor: RunReactor, tmp_path: Path) -> None:
    pool = sqlitePool(reactor, tmp_path / "db.sqlite", cp_min=1, cp_max=1)

    async def scenario() -> None:
        await pool.runOperation("CREATE TABLE t (x INT)")

        def halfDone(txn: adbapi.Transaction) -> None:
            txn.execute("INSERT INTO t VALUES (1)")
            raise ValueError("changed my mind")

        e = await failureOf(pool.runInteraction(halfDone))
        assert isinstance(e, ValueError)
        assert await pool.runQuery("SELECT count(*) FROM t") == [(0,)]
        # A bad statement fails with the driver's error.
        e = await failureOf(pool.runQuery("SELECT * FROM nonesuch"))
        assert isinstance(e, sqlite3.OperationalError)
        # runWithConnection: commit on success, roll back on error.

        def insert(conn: adbapi.Connection, value: int, fail: bool = False) -> str:
            cursor = conn.cursor()
            cursor.execute("INSERT INTO t VALUES (?)", (value,))
            cursor.close()
            if fail:
                raise KeyError(value)
            return "done"

        assert await pool.runWithConnection(insert, 5) == "done"
        assert isinstance(await failureOf(pool.runWithConnection(insert, 6, fail=True)), KeyError)
        assert await pool.runQuery("SELECT x FROM t") == [(5,)]
        pool.close()

    runReactor(reactor, scenario)


def test_committedDataIsVisibleToOtherConnections(
    reactor: Any, runReactor: RunReactor, tmp_path: Path
) -> None:
    path = tmp_path / "db.sqlite"
    pool = sqlitePool(reactor, path, cp_min=1, cp_max=1)

    async def scenario() -> None:
        await pool.runOperation("CREATE TABLE t (x INT)")
        await pool.runOperation("INSERT INTO t VALUES (42)")
        other = sqlite3.connect(path)
        assert other.execute("SELECT x FROM t").fetchall() == [(42,)]
        other.close()
        pool.close()

    runReactor(reactor, scenario)


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_closedAtReactorShutdown(reactor: Any, runReactor: RunReactor, tmp_path: Path) -> None:
    opened: list[Any] = []
    pool = sqlitePool(reactor, tmp_path / "db.sqlite", cp_openfun=opened.append, cp_noisy=True)

    async def scenario() -> None:
        with capturedLogs() as events:
            await pool.runQuery("SELECT 1")
        assert any("connecting" in str(e.get("log_format")) for e in events)
        assert len(opened) == 1
        assert isinstance(opened[0], sqlite3.Connection)

    runReactor(reactor, scenario)
    # The reactor's shutdown closed the pool.
    assert not pool.running
    assert pool.connections == {}
    assert pool.threadpool.joined
    with pytest.raises(sqlite3.ProgrammingError):
        opened[0].execute("SELECT 1")


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_closeBeforeStartAndUseAfterClose(
    reactor: Any, runReactor: RunReactor, tmp_path: Path
) -> None:
    pool = sqlitePool(reactor, tmp_path / "db.sqlite")
    pool.close()
    assert pool.startID is None

    async def scenario() -> None:
        assert not pool.running
        e = await failureOf(pool.runQuery("SELECT 1"))
        assert isinstance(e, RuntimeError)
        assert "closed" in str(e)

    runReactor(reactor, scenario)


def test_arguments(tmp_path: Path) -> None:
    from fw.internet.testing import MemoryReactor

    reactor = MemoryReactor()
    with pytest.raises(TypeError, match="cp_bogus"):
        adbapi.ConnectionPool("sqlite3", ":memory:", cp_bogus=1, cp_reactor=reactor)
    pool = adbapi.ConnectionPool(
        sqlite3,
        ":memory:",
        cp_min=0,
        cp_max=2,
        cp_good_sql="SELECT 2",
        cp_name="x",
        cp_reactor=reactor,
        timeout=3,
    )
    assert (pool.min, pool.max, pool.good_sql, pool.name) == (0, 2, "SELECT 2", "x")
    assert pool.connkw == {"timeout": 3}
    assert pool.connargs == (":memory:",)
    assert pool.dbapiName == "sqlite3"
    assert "sqlite3" in repr(pool)
    with pytest.raises(ImportError):
        adbapi.ConnectionPool("no_such_dbapi_module", cp_reactor=reactor)


# A fake DB-API driver whose "server" can go away, for the reconnect logic.


class FakeServer:
    def __init__(self) -> None:
        self.up = True
        self.generation = 0
        self.connects = 0
        self.rows: list[Any] = []


class FakeError(Exception):
    pass


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.result: list[Any] = []

    def execute(self, sql: str, params: Any = ()) -> None:
        self.conn.check()
        if sql == "boom":
            raise FakeError("syntax error")
        if sql.startswith("insert"):
            self.conn.pending.append(params)
        self.result = [(sql, self.conn.generation)]

    def fetchall(self) -> list[Any]:
        return self.result

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.generation = server.generation
        self.pending: list[Any] = []
        self.closed = False

    def check(self) -> None:
        if self.closed or not self.server.up or self.generation != self.server.generation:
            raise FakeError("server closed the connection unexpectedly")

    def cursor(self) -> FakeCursor:
        if self.closed:
            raise FakeError("connection closed")
        return FakeCursor(self)

    def commit(self) -> None:
        self.check()
        self.server.rows += self.pending
        self.pending = []

    def rollback(self) -> None:
        self.pending = []
        self.check()

    def close(self) -> None:
        self.closed = True


def fakeDriver(server: FakeServer) -> types.ModuleType:
    module = types.ModuleType("fakedb")
    module.apilevel = "2.0"  # type: ignore[attr-defined]
    module.threadsafety = 1  # type: ignore[attr-defined]

    def connect() -> FakeConnection:
        if not server.up:
            raise FakeError("connection refused")
        server.connects += 1
        return FakeConnection(server)

    module.connect = connect  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_reconnectAfterLostConnection(reactor: Any, runReactor: RunReactor) -> None:
    server = FakeServer()
    pool = adbapi.ConnectionPool(
        fakeDriver(server), cp_min=1, cp_max=1, cp_reconnect=True, cp_reactor=reactor
    )

    async def scenario() -> None:
        assert await pool.runQuery("q") == [("q", 0)]
        assert server.connects == 1
        server.generation += 1  # the server restarted: old connections are dead
        with capturedLogs():
            e = await failureOf(pool.runQuery("q"))
        assert isinstance(e, adbapi.ConnectionLost)
        assert isinstance(e.__cause__, FakeError)
        assert pool.connections == {}
        # The next query reconnects and succeeds.
        assert await pool.runQuery("q") == [("q", 1)]
        assert server.connects == 2
        # A plain SQL error is not a lost connection: the driver's error,
        # and the connection is kept.
        e = await failureOf(pool.runQuery("boom"))
        assert isinstance(e, FakeError)
        assert "syntax" in str(e)
        assert server.connects == 2
        assert len(pool.connections) == 1
        await pool.runOperation("insert", (1,))
        assert server.rows == [(1,)]
        pool.close()

    runReactor(reactor, scenario)


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_withoutReconnectTheDriverErrorIsKept(reactor: Any, runReactor: RunReactor) -> None:
    server = FakeServer()
    pool = adbapi.ConnectionPool(fakeDriver(server), cp_min=1, cp_max=1, cp_reactor=reactor)

    async def scenario() -> None:
        await pool.runQuery("q")
        server.generation += 1
        with capturedLogs() as events:
            e = await failureOf(pool.runQuery("q"))
        assert isinstance(e, FakeError)
        assert any("rollback failed" in str(ev.get("log_format")) for ev in events)
        pool.close()

    runReactor(reactor, scenario)
    assert runReactor.flushLoggedErrors()  # the failed rollback, logged


def test_disconnectChecksTheThread() -> None:
    from fw.internet.testing import MemoryReactor

    server = FakeServer()
    pool = adbapi.ConnectionPool(fakeDriver(server), cp_reactor=MemoryReactor())
    conn = pool.connect()
    assert pool.connect() is conn
    errors: list[Exception] = []

    def elsewhere() -> None:
        try:
            pool.disconnect(conn)
        except Exception as e:
            errors.append(e)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert errors
    assert "wrong connection" in str(errors[0])
    pool.disconnect(conn)
    assert conn.closed
    assert pool.connections == {}
    # Connection and Transaction stand for the DB-API objects.
    c = adbapi.Connection(pool)
    t = adbapi.Transaction(pool, c)
    t.execute("q")
    assert t.fetchall() == [("q", 0)]
    c.close()  # the pool owns it: not closed
    assert not c._connection.closed
    t.reconnect()
    assert t._cursor is None
    pool.finalClose()
