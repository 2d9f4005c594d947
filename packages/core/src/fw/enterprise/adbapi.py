"""
Asynchronous access to blocking DB-API 2.0 (:pep:`249`) database drivers.

A :class:`ConnectionPool` runs database calls in a thread pool of its own,
one connection per thread, and returns Deferreds that fire in the reactor
thread::

    dbpool = adbapi.ConnectionPool("sqlite3", "app.db", check_same_thread=False)
    d = dbpool.runQuery("SELECT name FROM users WHERE id = ?", (42,))
    d.addCallback(lambda rows: print(rows))

``runInteraction(f, *args)`` runs ``f(transaction, *args)`` in a thread:
the transaction is committed when ``f`` returns and rolled back when it
raises.  The pool's threads start when the reactor starts and stop (closing
the connections) when it shuts down.

With ``cp_reconnect=True`` a lost connection is replaced: the interaction
that was using it fails with :class:`ConnectionLost` (its driver error is
the ``__cause__``), and later ones run on a new connection.  Beyond
Twisted, an idle connection whose socket shows the server went away (for
drivers with ``fileno()``, such as psycopg) is checked with ``cp_good_sql``
and replaced before use, so the first query after a server restart
succeeds.
"""

from __future__ import annotations

import select
import threading
import types
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from fw.internet.defer import Deferred, fail
from fw.internet.threads import deferToThreadPool
from fw.logger import Logger
from fw.python import reflect
from fw.python.failure import Failure
from fw.python.threadpool import ThreadPool

__all__ = ["Connection", "ConnectionLost", "ConnectionPool", "Transaction"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_log = Logger(namespace="fw.enterprise.adbapi")


class ConnectionLost(Exception):
    """
    The connection to the database was lost.  The pool has dropped it; the
    operation may be tried again, and will get a new connection.
    """


class Connection:
    """
    A pool's connection, as handed to :meth:`ConnectionPool.runWithConnection`.

    It stands for the DB-API connection of the calling thread: attributes
    not defined here (``cursor``, ``commit``...) are the DB-API
    connection's.  ``close`` does nothing: the pool closes connections.

    Args:
        pool: the pool the connection belongs to.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._connection: Any = None
        self.reconnect()

    def close(self) -> None:
        """Do nothing: the pool owns the connection and closes it."""

    def rollback(self) -> None:
        """
        Roll back the transaction.  With ``cp_reconnect``, also check that
        the connection still works (running ``cp_good_sql``); when it does
        not, drop it and raise :class:`ConnectionLost`.
        """
        if not self._pool.reconnect:
            self._connection.rollback()
            return
        try:
            self._connection.rollback()
            cursor = self._connection.cursor()
            cursor.execute(self._pool.good_sql)
            cursor.close()
            self._connection.commit()
        except Exception as e:
            self._pool._lost(self._connection)
            raise ConnectionLost(f"the database connection was lost: {e}") from e

    def reconnect(self) -> None:
        """Drop this thread's connection (if any) and take a new one from the pool."""
        if self._connection is not None:
            self._pool.disconnect(self._connection)
        self._connection = self._pool.connect()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class Transaction:
    """
    A cursor on a pool's connection, as handed to the function given to
    :meth:`ConnectionPool.runInteraction`.

    Attributes not defined here (``execute``, ``fetchall``, ``rowcount``...)
    are the DB-API cursor's.

    Args:
        pool: the pool.
        connection: the :class:`Connection` the cursor is on.
    """

    _cursor: Any = None

    def __init__(self, pool: ConnectionPool, connection: Connection) -> None:
        self._pool = pool
        self._connection = connection
        self.reopen()

    def close(self) -> None:
        """Close the cursor."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            cursor.close()

    def reopen(self) -> None:
        """
        Close the cursor and open a new one; with ``cp_reconnect``, on a new
        connection if the old one cannot make cursors any more.
        """
        if self._cursor is not None:
            self.close()
        try:
            self._cursor = self._connection.cursor()
            return
        except Exception:
            if not self._pool.reconnect:
                raise
            _log.failure("cursor creation failed; reconnecting")
        self.reconnect()
        self._cursor = self._connection.cursor()

    def reconnect(self) -> None:
        """Replace the connection with a new one (the cursor is dropped)."""
        self._connection.reconnect()
        self._cursor = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class ConnectionPool:
    """
    A pool of DB-API connections used from a thread pool.

    Arguments that are not ``cp_*`` are passed to the driver's
    ``connect()``.

    Args:
        dbapiName: the DB-API module's name (``"sqlite3"``, ``"psycopg"``...),
            or the module itself.
        connargs: positional arguments for ``connect()``.
        cp_min: the fewest threads (and connections) kept.
        cp_max: the most threads (and connections) used at once.
        cp_name: a name for the thread pool.
        cp_noisy: log connections opened and closed.
        cp_openfun: called with each new DB-API connection, in its thread.
        cp_reconnect: replace lost connections (see :class:`ConnectionLost`).
        cp_good_sql: a statement that succeeds on a working connection.
        cp_reactor: the reactor; the global one by default.
        connkw: keyword arguments for ``connect()``.

    Attributes:
        dbapi: the DB-API module.
        connections: the open connections, by thread id.
        threadpool: the pool's :class:`~fw.python.threadpool.ThreadPool`.
        running: whether the thread pool is started.
    """

    CP_ARGS = ("min", "max", "name", "noisy", "openfun", "reconnect", "good_sql", "reactor")

    noisy = False
    min = 3
    max = 5
    name: str | None = None
    openfun: Callable[[Any], object] | None = None
    reconnect = False
    good_sql = "select 1"
    running = False
    connectionFactory: Callable[[ConnectionPool], Connection] = Connection
    transactionFactory: Callable[[ConnectionPool, Connection], Transaction] = Transaction
    shutdownID: Any = None
    startID: Any = None

    def __init__(self, dbapiName: str | types.ModuleType, *connargs: Any, **connkw: Any) -> None:
        if isinstance(dbapiName, str):
            self.dbapiName = dbapiName
            self.dbapi: Any = reflect.namedModule(dbapiName)
        else:
            self.dbapiName = dbapiName.__name__
            self.dbapi = dbapiName
        if getattr(self.dbapi, "apilevel", None) != "2.0":
            _log.warn("DB API module {name} does not say it is DB-API 2.0", name=self.dbapiName)
        if getattr(self.dbapi, "threadsafety", 0) < 1:
            _log.warn("DB API module {name} is not sufficiently thread-safe", name=self.dbapiName)
        reactor = connkw.pop("cp_reactor", None)
        for arg in self.CP_ARGS:
            key = f"cp_{arg}"
            if key in connkw:
                setattr(self, arg, connkw.pop(key))
        unknown = [k for k in connkw if k.startswith("cp_")]
        if unknown:
            raise TypeError(f"unknown ConnectionPool arguments: {', '.join(unknown)}")
        self.connargs = connargs
        self.connkw = connkw
        self.connections: dict[int, Any] = {}
        self._lock = threading.Lock()
        if reactor is None:
            from fw.internet import reactor as globalReactor

            reactor = globalReactor
        self._reactor: Any = reactor
        self.threadpool = ThreadPool(self.min, self.max, self.name or f"adbapi-{self.dbapiName}")
        self.startID = self._reactor.callWhenRunning(self._start)

    def __repr__(self) -> str:
        return (
            f"<ConnectionPool {self.dbapiName} min={self.min} max={self.max} "
            f"running={self.running} connections={len(self.connections)}>"
        )

    def _start(self) -> None:
        self.startID = None
        self.start()

    def start(self) -> None:
        """Start the thread pool (done when the reactor starts) and close on shutdown."""
        if not self.running:
            self.threadpool.start()
            self.shutdownID = self._reactor.addSystemEventTrigger(
                "during", "shutdown", self.finalClose
            )
            self.running = True

    def _defer(self, f: Callable[..., _T], *args: Any, **kw: Any) -> Deferred[_T]:
        if self.threadpool.joined:
            return fail(Failure(RuntimeError("the ConnectionPool is closed")))
        return deferToThreadPool(self._reactor, self.threadpool, f, *args, **kw)

    def runWithConnection(
        self, func: Callable[Concatenate[Connection, _P], _T], *args: _P.args, **kw: _P.kwargs
    ) -> Deferred[_T]:
        """
        Run ``func(connection, *args, **kw)`` in a pool thread, with a
        :class:`Connection`; commit when it returns, roll back when it
        raises.

        Returns:
            A Deferred firing with ``func``'s result, or failing with its
            exception (or :class:`ConnectionLost`).
        """
        return self._defer(self._runWithConnection, func, *args, **kw)

    def _runWithConnection(self, func: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        conn = self.connectionFactory(self)
        try:
            result = func(conn, *args, **kw)
            conn.commit()
            return result
        except BaseException as e:
            self._rollbackAfter(conn, e)
            raise

    def runInteraction(
        self,
        interaction: Callable[Concatenate[Transaction, _P], _T],
        *args: _P.args,
        **kw: _P.kwargs,
    ) -> Deferred[_T]:
        """
        Run ``interaction(transaction, *args, **kw)`` in a pool thread, with
        a :class:`Transaction` (a cursor).  When it returns the transaction
        is committed; when it raises it is rolled back.

        Returns:
            A Deferred firing with ``interaction``'s result, or failing with
            its exception (or :class:`ConnectionLost` when, with
            ``cp_reconnect``, the connection turned out to be lost).
        """
        return self._defer(self._runInteraction, interaction, *args, **kw)

    def _runInteraction(self, interaction: Callable[..., _T], *args: Any, **kw: Any) -> _T:
        conn = self.connectionFactory(self)
        trans = self.transactionFactory(self, conn)
        try:
            result = interaction(trans, *args, **kw)
            trans.close()
            conn.commit()
            return result
        except BaseException as e:
            self._rollbackAfter(conn, e)
            raise

    def _rollbackAfter(self, conn: Connection, error: BaseException) -> None:
        # Roll back after ``error``; a lost connection replaces the error
        # with ConnectionLost, anything else that goes wrong is logged.
        try:
            conn.rollback()
        except ConnectionLost as lost:
            if self.noisy:
                _log.info("connection lost: {error!r}", error=error)
            raise lost from error
        except Exception:  # noqa: BLE001 - logged; the original error is raised
            _log.failure("rollback failed")

    def runQuery(self, *args: Any, **kw: Any) -> Deferred[list[Any]]:
        """
        Execute a query and return its rows: ``runQuery(sql, params)`` runs
        ``cursor.execute(sql, params)`` then ``cursor.fetchall()`` in an
        interaction.

        Returns:
            A Deferred firing with the list of rows.
        """
        return self.runInteraction(self._runQuery, *args, **kw)

    def _runQuery(self, trans: Transaction, *args: Any, **kw: Any) -> list[Any]:
        trans.execute(*args, **kw)
        return list(trans.fetchall())

    def runOperation(self, *args: Any, **kw: Any) -> Deferred[None]:
        """
        Execute a statement that returns no rows (``INSERT``, ``CREATE``...)
        in an interaction.

        Returns:
            A Deferred firing with ``None``.
        """
        return self.runInteraction(self._runOperation, *args, **kw)

    def _runOperation(self, trans: Transaction, *args: Any, **kw: Any) -> None:
        trans.execute(*args, **kw)

    def close(self) -> None:
        """
        Stop the thread pool (waiting for queued work) and close every
        connection, now rather than at reactor shutdown.
        """
        if self.shutdownID is not None:
            self._reactor.removeSystemEventTrigger(self.shutdownID)
            self.shutdownID = None
        if self.startID is not None:
            self._reactor.removeSystemEventTrigger(self.startID)
            self.startID = None
        self.finalClose()

    def finalClose(self) -> None:
        """Stop the thread pool and close every connection (at reactor shutdown)."""
        self.shutdownID = None
        self.threadpool.stop()
        self.running = False
        with self._lock:
            connections = list(self.connections.values())
            self.connections.clear()
        for conn in connections:
            self._close(conn)

    def connect(self) -> Any:
        """
        Return the calling thread's DB-API connection, opening it if need
        be.  Called in pool threads; use :meth:`runWithConnection` instead.
        """
        tid = threading.get_ident()
        with self._lock:
            conn = self.connections.get(tid)
        if conn is not None and self.reconnect and self._looksLost(conn):
            if self.noisy:
                _log.info("replacing a lost connection of {pool!r}", pool=self)
            self.disconnect(conn)
            conn = None
        if conn is None:
            if self.noisy:
                _log.info("{pool!r} connecting: {dbapi}", pool=self, dbapi=self.dbapiName)
            conn = self.dbapi.connect(*self.connargs, **self.connkw)
            if self.openfun is not None:
                self.openfun(conn)
            with self._lock:
                self.connections[tid] = conn
        return conn

    def disconnect(self, conn: Any) -> None:
        """
        Close the calling thread's connection ``conn`` and forget it.

        Raises:
            Exception: ``conn`` is not the calling thread's connection.
        """
        tid = threading.get_ident()
        with self._lock:
            if conn is not self.connections.get(tid):
                raise Exception("wrong connection for thread")
            del self.connections[tid]
        self._close(conn)

    def _lost(self, conn: Any) -> None:
        try:
            self.disconnect(conn)
        except Exception:  # noqa: BLE001 - logged; the connection is dropped anyway
            _log.failure("dropping a lost connection failed")

    def _close(self, conn: Any) -> None:
        if self.noisy:
            _log.info("{pool!r} closing: {dbapi}", pool=self, dbapi=self.dbapiName)
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - logged; a close that fails leaves nothing to do
            _log.failure("connection close failed")

    def _looksLost(self, conn: Any) -> bool:
        # An idle connection has nothing to read; if its socket is readable
        # the server has spoken (usually to say it is going away) or hung
        # up: check it with good_sql.  Drivers without fileno() are trusted.
        fileno = getattr(conn, "fileno", None)
        if not callable(fileno):
            return False
        try:
            poller = select.poll()
            poller.register(fileno(), select.POLLIN)
            readable = poller.poll(0)
        except Exception:  # noqa: BLE001 - a driver error here means the connection is unusable
            return True
        if not readable:
            return False
        try:
            cursor = conn.cursor()
            cursor.execute(self.good_sql)
            cursor.close()
            conn.commit()
        except Exception:  # noqa: BLE001 - any failure of good_sql means the connection is lost
            return True
        return False
