"""
Twisted's side of fw's Perspective Broker interoperability tests.

Run with a Python that has Twisted::

    python pb_twisted_peer.py server          # prints "root PORT" and "login PORT"
    python pb_twisted_peer.py client PORT LOGINPORT   # runs every check, prints JSON

The server serves until its standard input closes.  The client connects to
PB servers (fw's, in the tests), runs the checks of :func:`clientChecks`,
prints ``{"check": "ok" or "error text", ...}`` as one JSON line and exits.

The objects and the checks are written once, against modules passed in:
this script passes Twisted's ``pb``, ``portal``, ``checkers`` and
``credentials``; the fw tests import this file and pass fw's -- a Twisted
program ports to fw by a change of imports.  Twisted is imported only in
:func:`main`.
"""

# Checks run in Twisted too, without pytest: plain asserts on caught errors.
# ruff: noqa: PT017

from __future__ import annotations

import datetime
import decimal
import json
import sys
from types import SimpleNamespace
from typing import Any

#: The checks :func:`clientChecks` runs, by name.
CHECKS = [
    "echo",
    "bigString",
    "pbError",
    "crash",
    "noSuchMethod",
    "referenceable",
    "referenceSentBack",
    "callback",
    "copyable",
    "cacheable",
    "cacheSentBack",
    "login",
    "viewable",
    "mind",
    "badPassword",
    "insecure",
]


def sampleValues() -> list[Any]:
    """Values of every type jelly carries, to send and get back."""
    return [
        0,
        1,
        -1,
        2**31 - 1,
        2**31,
        -(2**31),
        -(2**31) - 1,
        2**100,
        -(2**100),
        1.5,
        -0.25,
        float("inf"),
        b"bytes",
        b"",
        "unicode \u00e9\u4e2d",
        "",
        None,
        True,
        False,
        [1, [2, [3]]],
        (1, "two", (3,)),
        {"a": 1, 2: "b", (3, 4): [5]},
        {1, 2, 3},
        frozenset(["x", "y"]),
        datetime.datetime(2024, 2, 29, 23, 59, 58, 123456),
        datetime.date(1999, 12, 31),
        datetime.time(12, 34, 56, 7),
        datetime.timedelta(days=3, seconds=4, microseconds=5),
        decimal.Decimal("-12.345"),
        decimal.Decimal("1E+10"),
    ]


def defineObjects(pb: Any, portal: Any, checkers: Any, defer: Any) -> SimpleNamespace:
    """The exported objects, built on the given ``pb`` and cred modules."""

    class MyError(pb.Error):
        """An error raised on purpose."""

    class Point(pb.Copyable):
        def __init__(self, x: int, y: int) -> None:
            self.x = x
            self.y = y

        def getTypeToCopy(self) -> bytes:
            return b"pbinterop.Point"

    class RemotePoint(pb.RemoteCopy):
        pass

    pb.setUnjellyableForClass(b"pbinterop.Point", RemotePoint)

    class Counter(pb.Cacheable):
        def __init__(self) -> None:
            self.value = 0
            self.observers: list[Any] = []

        def getTypeToCopy(self) -> bytes:
            return b"pbinterop.Counter"

        def getStateToCacheAndObserveFor(self, perspective: Any, observer: Any) -> Any:
            self.observers.append(observer)
            return {"value": self.value}

        def stoppedObserving(self, perspective: Any, observer: Any) -> None:
            self.observers.remove(observer)

        def add(self, n: int) -> Any:
            self.value += n
            return defer.gatherResults(
                [o.callRemote("setValue", self.value) for o in self.observers]
            )

    class RemoteCounter(pb.RemoteCache):
        def observe_setValue(self, value: int) -> None:
            self.value = value

    pb.setUnjellyableForClass(b"pbinterop.Counter", RemoteCounter)

    class Thing(pb.Referenceable):
        def __init__(self, name: str) -> None:
            self.name = name

        def remote_name(self) -> str:
            return self.name

    class Pinger(pb.Referenceable):
        def remote_ping(self, n: int) -> int:
            return n * 2

    class Root(pb.Root):
        def __init__(self) -> None:
            self.things: list[Any] = []
            self.counter = Counter()

        def remote_echo(self, *args: Any, **kw: Any) -> Any:
            return [list(args), kw]

        def remote_fail(self, message: str) -> None:
            raise MyError(message)

        def remote_crash(self) -> None:
            1 / 0  # noqa: B018

        def remote_thing(self, name: str) -> Any:
            thing = Thing(name)
            self.things.append(thing)
            return thing

        def remote_isMine(self, thing: Any) -> bool:
            return any(thing is t for t in self.things)

        def remote_callback(self, ref: Any, n: int) -> Any:
            return ref.callRemote("ping", n)

        def remote_movePoint(self, point: Any, dx: int) -> Any:
            if not isinstance(point, RemotePoint):
                raise MyError(f"not a RemotePoint: {point!r}")
            return Point(point.x + dx, point.y)

        def remote_counter(self) -> Any:
            return self.counter

        def remote_add(self, n: int) -> Any:
            return self.counter.add(n)

        def remote_sameCounter(self, counter: Any) -> bool:
            return counter is self.counter

    class Board(pb.Viewable):
        def view_whoAmI(self, perspective: Any, greeting: str) -> str:
            return f"{greeting}, {perspective.name}"

    class User(pb.Avatar):
        def __init__(self, name: str, mind: Any) -> None:
            self.name = name
            self.mind = mind

        def perspective_whoami(self) -> str:
            return self.name

        def perspective_board(self) -> Any:
            return Board()

        def perspective_askMind(self, n: int) -> Any:
            return self.mind.callRemote("ping", n)

    realmInterface = portal.IRealm

    class Realm:
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
            assert pb.IPerspective in interfaces
            name = avatarId.decode() if isinstance(avatarId, bytes) else str(avatarId)
            return pb.IPerspective, User(name, mind), lambda: None

    from zope.interface import classImplements

    classImplements(Realm, realmInterface)

    def loginPortal() -> Any:
        checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret")
        return portal.Portal(Realm(), [checker])

    class Evil(pb.Copyable):
        def getTypeToCopy(self) -> bytes:
            return b"os.system"

    return SimpleNamespace(
        MyError=MyError,
        Point=Point,
        RemotePoint=RemotePoint,
        Counter=Counter,
        RemoteCounter=RemoteCounter,
        Thing=Thing,
        Pinger=Pinger,
        Root=Root,
        User=User,
        Realm=Realm,
        Evil=Evil,
        loginPortal=loginPortal,
    )


def _name(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


async def _expectError(d: Any, typeSuffix: str, message: str | None = None) -> None:
    try:
        result = await d
    except Exception as e:
        remoteType = _name(getattr(e, "remoteType", type(e).__name__))
        assert type(e).__name__ == "RemoteError", f"{type(e).__name__}: {e}"
        assert remoteType.endswith(typeSuffix), remoteType
        if message is not None:
            assert str(e) == message, repr(str(e))
        return
    raise AssertionError(f"no error, but {result!r}")


async def clientChecks(
    pb: Any, credentials: Any, ns: SimpleNamespace, reactor: Any, port: int, loginPort: int
) -> dict[str, str]:
    """Run every check against the PB servers on ``port`` and ``loginPort``."""
    results: dict[str, str] = {}
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory)
    root = await factory.getRootObject()

    async def check(name: str, coroutine: Any) -> None:
        try:
            await coroutine
        except Exception as e:
            results[name] = f"{type(e).__name__}: {e}"
        else:
            results[name] = "ok"

    async def echo() -> None:
        values = sampleValues()
        result = await root.callRemote("echo", *values, keyword="value", other=[None])
        assert result == [values, {"keyword": "value", "other": [None]}], result

    async def bigString() -> None:
        data = bytes(range(256)) * 2400
        result = await root.callRemote("echo", data)
        assert result == [[data], {}]

    async def referenceable() -> None:
        thing = await root.callRemote("thing", "widget")
        assert await thing.callRemote("name") == "widget"

    async def referenceSentBack() -> None:
        thing = await root.callRemote("thing", "gadget")
        assert await root.callRemote("isMine", thing) is True

    async def callback() -> None:
        assert await root.callRemote("callback", ns.Pinger(), 21) == 42

    async def copyable() -> None:
        point = await root.callRemote("movePoint", ns.Point(1, 2), 10)
        assert isinstance(point, ns.RemotePoint), point
        assert (point.x, point.y) == (11, 2)

    async def cacheable() -> None:
        counter = await root.callRemote("counter")
        assert isinstance(counter, ns.RemoteCounter), counter
        start = counter.value
        await root.callRemote("add", 5)
        assert counter.value == start + 5, counter.value
        results["_counter"] = counter

    async def cacheSentBack() -> None:
        counter = await root.callRemote("counter")
        assert await root.callRemote("sameCounter", counter) is True

    async def insecure() -> None:
        # A class the server never registered: refused, and the connection closed.
        other = pb.PBClientFactory()
        reactor.connectTCP("127.0.0.1", port, other)
        otherRoot = await other.getRootObject()
        try:
            await _expectError(otherRoot.callRemote("echo", ns.Evil()), "InsecureJelly")
        finally:
            other.disconnect()

    await check("echo", echo())
    await check("bigString", bigString())
    await check(
        "pbError", _expectError(root.callRemote("fail", "bad thing"), "MyError", "bad thing")
    )
    await check(
        "crash",
        _expectError(root.callRemote("crash"), "builtins.ZeroDivisionError", "division by zero"),
    )
    await check(
        "noSuchMethod",
        _expectError(root.callRemote("nosuch"), "NoSuchMethod", "No such method: remote_nosuch"),
    )
    await check("referenceable", referenceable())
    await check("referenceSentBack", referenceSentBack())
    await check("callback", callback())
    await check("copyable", copyable())
    await check("cacheable", cacheable())
    await check("cacheSentBack", cacheSentBack())
    results.pop("_counter", None)
    await check("insecure", insecure())

    loginFactory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", loginPort, loginFactory)
    avatars: list[Any] = []

    async def login() -> None:
        avatar = await loginFactory.login(
            credentials.UsernamePassword(b"alice", b"secret"), client=ns.Pinger()
        )
        avatars.append(avatar)
        assert await avatar.callRemote("whoami") == "alice"

    async def viewable() -> None:
        board = await avatars[0].callRemote("board")
        assert await board.callRemote("whoAmI", "hello") == "hello, alice"

    async def mind() -> None:
        assert await avatars[0].callRemote("askMind", 4) == 8

    async def badPassword() -> None:
        other = pb.PBClientFactory()
        reactor.connectTCP("127.0.0.1", loginPort, other)
        await _expectError(
            other.login(credentials.UsernamePassword(b"alice", b"wrong")), "UnauthorizedLogin"
        )
        other.disconnect()

    await check("login", login())
    await check("viewable", viewable())
    await check("mind", mind())
    await check("badPassword", badPassword())
    factory.disconnect()
    loginFactory.disconnect()
    return results


def main(argv: list[str]) -> int:
    from twisted.cred import checkers, credentials, portal
    from twisted.internet import defer, reactor
    from twisted.spread import pb

    ns = defineObjects(pb, portal, checkers, defer)
    if argv[1] == "server":
        rootPort = reactor.listenTCP(0, pb.PBServerFactory(ns.Root()), interface="127.0.0.1")
        loginPort = reactor.listenTCP(
            0, pb.PBServerFactory(ns.loginPortal()), interface="127.0.0.1"
        )
        print("root", rootPort.getHost().port, flush=True)
        print("login", loginPort.getHost().port, flush=True)

        from twisted.internet import stdio
        from twisted.internet.protocol import Protocol

        class StopOnEOF(Protocol):
            def connectionLost(self, reason: Any = None) -> None:
                reactor.stop()

        stdio.StandardIO(StopOnEOF())
        reactor.run()
        return 0

    port, loginPort = int(argv[2]), int(argv[3])
    outcome: dict[str, Any] = {}

    def done(result: Any) -> None:
        outcome["result"] = result
        reactor.callLater(0.1, reactor.stop)

    def failed(reason: Any) -> None:
        outcome["error"] = reason.getTraceback()
        reactor.callLater(0.1, reactor.stop)

    def start() -> None:
        d = defer.ensureDeferred(clientChecks(pb, credentials, ns, reactor, port, loginPort))
        d.addCallbacks(done, failed)

    reactor.callWhenRunning(start)
    reactor.callLater(30, reactor.stop)
    reactor.run()
    if "error" in outcome:
        print(outcome["error"], file=sys.stderr)
        return 1
    print(json.dumps(outcome.get("result", {})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
