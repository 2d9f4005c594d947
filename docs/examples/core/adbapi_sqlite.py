"""
A connection pool over sqlite3: queries, an interaction that commits, one
that rolls back, all in the pool's threads while the reactor runs.
"""

import shutil
import tempfile
from pathlib import Path

from fw.enterprise import adbapi
from fw.internet import reactor
from fw.internet.defer import ensureDeferred

directory = Path(tempfile.mkdtemp())
# sqlite3 connections are closed by the pool from the reactor thread.
dbpool = adbapi.ConnectionPool("sqlite3", str(directory / "shop.db"), check_same_thread=False)


def buy(txn, item, quantity):
    """Runs in a pool thread: commits if it returns, rolls back if it raises."""
    txn.execute("UPDATE stock SET count = count - ? WHERE item = ?", (quantity, item))
    txn.execute("SELECT count FROM stock WHERE item = ?", (item,))
    (left,) = txn.fetchone()
    if left < 0:
        raise ValueError(f"only {left + quantity} {item} left")
    return left


async def main():
    await dbpool.runOperation("CREATE TABLE stock (item TEXT PRIMARY KEY, count INT)")
    await dbpool.runOperation("INSERT INTO stock VALUES ('apples', 10), ('pears', 3)")
    print("apples left:", await dbpool.runInteraction(buy, "apples", 4))
    try:
        await dbpool.runInteraction(buy, "pears", 5)
    except ValueError as e:
        print("refused:", e)
    for item, count in await dbpool.runQuery("SELECT item, count FROM stock ORDER BY item"):
        print(f"{item}: {count}")


def done(_):
    reactor.stop()


reactor.callWhenRunning(lambda: ensureDeferred(main()).addBoth(done))
reactor.run()  # the pool starts with the reactor and is closed at shutdown
shutil.rmtree(directory)
