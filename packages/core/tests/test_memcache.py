"""fw.protocols.memcache: the client in memory, then against a real memcached."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fw.internet import error
from fw.internet.defer import Deferred, TimeoutError
from fw.internet.endpoints import TCP4ClientEndpoint
from fw.internet.protocol import connectProtocol
from fw.internet.task import Clock
from fw.internet.testing import StringTransport
from fw.protocols.memcache import (
    ClientError,
    MemCacheProtocol,
    NoSuchCommand,
    ResponseError,
    ServerError,
)
from fw.python.failure import Failure


def client() -> tuple[MemCacheProtocol, StringTransport, Clock]:
    proto = MemCacheProtocol(timeOut=5)
    clock = Clock()
    proto.callLater = clock.callLater
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport, clock


def result(d: Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "the Deferred has not fired"
    return out[0]


def answer(proto: MemCacheProtocol, data: bytes, bytewise: bool = False) -> None:
    if bytewise:
        for i in range(len(data)):
            proto.dataReceived(data[i : i + 1])
    else:
        proto.dataReceived(data)


@pytest.mark.parametrize("bytewise", [False, True])
def test_getAndSet(bytewise: bool) -> None:
    proto, t, _ = client()
    d1 = proto.set(b"foo", b"bar", flags=3, expireTime=10)
    assert t.value() == b"set foo 3 10 3\r\nbar\r\n"
    answer(proto, b"STORED\r\n", bytewise)
    assert result(d1) is True
    t.clear()
    d2 = proto.get(b"foo")
    d3 = proto.get(b"missing", withIdentifier=True)
    d4 = proto.getMultiple([b"a", b"b"], withIdentifier=True)
    assert t.value() == b"get foo\r\ngets missing\r\ngets a b\r\n"
    answer(
        proto,
        b"VALUE foo 3 5\r\nb\r\nr\n\r\nEND\r\nEND\r\nVALUE a 1 2 77\r\nxy\r\nEND\r\n",
        bytewise,
    )
    assert result(d2) == (3, b"b\r\nr\n")
    assert result(d3) == (0, b"", None)
    assert result(d4) == {b"a": (1, b"77", b"xy"), b"b": (0, b"", None)}


def test_storeCommands() -> None:
    proto, t, _ = client()
    ds = [
        proto.add(b"k", b"v"),
        proto.replace(b"k", b"v"),
        proto.append(b"k", b"w"),
        proto.prepend(b"k", b"u"),
        proto.checkAndSet(b"k", b"z", cas=b"42"),
        proto.checkAndSet(b"k", b"z", cas=b"42"),
    ]
    assert t.value().split(b"\r\n")[:-1] == [
        b"add k 0 0 1", b"v", b"replace k 0 0 1", b"v", b"append k 0 0 1", b"w",
        b"prepend k 0 0 1", b"u", b"cas k 0 0 1 42", b"z", b"cas k 0 0 1 42", b"z",
    ]  # fmt: skip
    proto.dataReceived(b"STORED\r\nNOT_STORED\r\nSTORED\r\nSTORED\r\nEXISTS\r\nNOT_FOUND\r\n")
    assert [result(d) for d in ds] == [True, False, True, True, False, False]


def test_otherCommands() -> None:
    proto, t, _ = client()
    ds = [
        proto.increment(b"n"),
        proto.decrement(b"n", 5),
        proto.increment(b"none"),
        proto.delete(b"n"),
        proto.delete(b"n"),
        proto.flushAll(),
        proto.version(),
        proto.stats(),
        proto.stats(b"items"),
    ]
    assert t.value().split(b"\r\n")[:-1] == [
        b"incr n 1", b"decr n 5", b"incr none 1", b"delete n", b"delete n",
        b"flush_all", b"version", b"stats", b"stats items",
    ]  # fmt: skip
    proto.dataReceived(
        b"6\r\n1\r\nNOT_FOUND\r\nDELETED\r\nNOT_FOUND\r\nOK\r\nVERSION 1.6.18\r\n"
        b"STAT pid 12\r\nSTAT version 1.6.18\r\nEND\r\nEND\r\n"
    )
    assert [result(d) for d in ds] == [
        6, 1, False, True, False, True, b"1.6.18",
        {b"pid": b"12", b"version": b"1.6.18"}, {},
    ]  # fmt: skip


def test_serverErrors() -> None:
    proto, _, _ = client()
    d1, d2, d3 = proto.get(b"a"), proto.get(b"b"), proto.get(b"c")
    proto.dataReceived(b"ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\n")
    assert result(d1).check(NoSuchCommand)
    f2 = result(d2)
    assert f2.check(ClientError)
    assert f2.value.args == (b"bad data chunk",)
    assert result(d3).check(ServerError)


@pytest.mark.parametrize("key", [b"", b"with space", b"x" * 251, "text", b"ctl\x01", b"new\nline"])
def test_invalidKeysFailWithoutSending(key: Any) -> None:
    proto, t, _ = client()
    for d in (proto.get(key), proto.set(key, b"v"), proto.delete(key), proto.increment(key)):
        assert result(d).check(ClientError)
    assert result(proto.getMultiple([b"ok", key])).check(ClientError)
    assert t.value() == b""


def test_invalidValues() -> None:
    proto, t, _ = client()
    assert result(proto.set(b"k", "text")).check(ClientError)  # type: ignore[arg-type]
    assert result(proto.increment(b"k", -1)).check(ClientError)
    assert result(proto.checkAndSet(b"k", b"v", b"notdigits")).check(ClientError)
    assert result(proto.getMultiple([])).check(ClientError)
    assert t.value() == b""


@pytest.mark.parametrize(
    "garbage",
    [
        b"STORED\r\n",  # answer to the wrong command
        b"VALUE other 0 1\r\nx\r\nEND\r\n",  # key not asked for
        b"VALUE foo 0 x\r\n",  # malformed
        b"VALUE foo 0 3\r\nabcXY",  # value not followed by CRLF
        b"VALUE foo 0 999999999999\r\n",  # over the value limit
        b"WHAT\r\n",
        b"y" * 20000,  # line too long
    ],
)
def test_protocolViolationsFailAllAndClose(garbage: bytes) -> None:
    proto, t, _ = client()
    d1, d2 = proto.get(b"foo"), proto.version()
    proto.dataReceived(garbage)
    assert result(d1).check(ResponseError)
    assert result(d2).check(ResponseError)
    assert t.disconnecting


def test_unsolicitedAnswerCloses() -> None:
    proto, t, _ = client()
    proto.dataReceived(b"END\r\n")
    assert t.disconnecting


def test_timeout() -> None:
    proto, t, clock = client()
    d = proto.get(b"foo")
    clock.advance(4)
    proto.dataReceived(b"VALUE foo 0 3\r\n")  # activity restarts the timer
    clock.advance(4)
    assert not d.called
    clock.advance(1)
    assert result(d).check(TimeoutError)
    assert t.disconnecting


def test_noTimeoutWhenIdle() -> None:
    proto, _, clock = client()
    d = proto.version()
    proto.dataReceived(b"VERSION 1\r\n")
    assert result(d) == b"1"
    assert clock.getDelayedCalls() == []


def test_connectionLostFailsPendingAndLaterCalls() -> None:
    proto, _, _ = client()
    d = proto.get(b"foo")
    proto.connectionLost(Failure(error.ConnectionDone()))
    assert result(d).check(error.ConnectionDone)
    assert result(proto.get(b"foo")).check(RuntimeError)


# -- against a real memcached


def freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def memcached(requirePeer: Any) -> Iterator[int]:
    """A memcached of Debian's on 127.0.0.1 and a free port, stopped afterwards."""
    program = requirePeer("memcached")
    port = freePort()
    command = [program, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "16", "-t", "1"]
    if os.geteuid() == 0:
        # memcached refuses to run as root without naming a user.
        command += ["-u", "nobody"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("memcached did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


class Tracked(MemCacheProtocol):
    def __init__(self) -> None:
        super().__init__()
        self.closed: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure = error.ConnectionDone) -> None:  # type: ignore[assignment]
        super().connectionLost(reason)
        self.closed.callback(None)


def test_againstMemcached(reactor: Any, runReactor: Any, memcached: int) -> None:
    big = bytes(range(256)) * 2000

    async def go() -> Any:
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", memcached)
        proto = await connectProtocol(endpoint, Tracked())
        out: dict[str, Any] = {}
        await proto.flushAll()
        out["set"] = await proto.set(b"fw-key", b"hello", flags=7)
        out["get"] = await proto.get(b"fw-key")
        out["add"] = await proto.add(b"fw-key", b"x")
        out["append"] = await proto.append(b"fw-key", b"!")
        out["prepend"] = await proto.prepend(b"fw-key", b">")
        flags, cas, value = await proto.get(b"fw-key", withIdentifier=True)
        out["gets"] = (flags, value)
        out["cas"] = await proto.checkAndSet(b"fw-key", b"new", cas)
        out["casAgain"] = await proto.checkAndSet(b"fw-key", b"newer", cas)
        out["replace"] = await proto.replace(b"fw-missing", b"x")
        await proto.set(b"fw-n", b"10")
        out["incr"] = await proto.increment(b"fw-n", 5)
        out["decr"] = await proto.decrement(b"fw-n", 100)
        out["incrMissing"] = await proto.increment(b"fw-none")
        await proto.set(b"fw-big", big)
        multi = await proto.getMultiple([b"fw-key", b"fw-big", b"fw-missing"])
        out["multi"] = {k: (f, v if k != b"fw-big" else v == big) for k, (f, v) in multi.items()}
        out["delete"] = await proto.delete(b"fw-key")
        out["deleteAgain"] = await proto.delete(b"fw-key")
        out["version"] = (await proto.version()).split(b".")[0].isdigit()
        stats = await proto.stats()
        out["stats"] = b"pid" in stats and b"curr_items" in stats
        try:
            await proto.increment(b"fw-big")
        except ClientError as e:
            out["incrBig"] = "client error"
            del e
        proto.transport.loseConnection()
        await proto.closed
        return out

    assert runReactor(reactor, go) == {
        "set": True,
        "get": (7, b"hello"),
        "add": False,
        "append": True,
        "prepend": True,
        "gets": (7, b">hello!"),
        "cas": True,
        "casAgain": False,
        "replace": False,
        "incr": 15,
        "decr": 0,
        "incrMissing": False,
        "multi": {b"fw-key": (0, b"new"), b"fw-big": (0, True), b"fw-missing": (0, None)},
        "delete": True,
        "deleteAgain": False,
        "version": True,
        "stats": True,
        "incrBig": "client error",
    }
