"""Perspective Broker between two fw brokers: in memory, then over TCP and TLS."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest

from fw.cred import checkers, credentials, portal
from fw.cred.error import UnauthorizedLogin
from fw.internet.defer import Deferred, ensureDeferred
from fw.internet.testing import StringTransport, connectedServerAndClient
from fw.python.failure import Failure
from fw.spread import banana, jelly, pb
from fw.spread.banana import PB_VOCABULARY, encode


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def failureResultOf(d: Deferred[Any]) -> Failure:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    assert isinstance(results[0], Failure), results[0]
    return results[0]


class MyError(pb.Error):
    pass


class Point(pb.Copyable):
    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


class RemotePoint(pb.RemoteCopy):
    pass


pb.setUnjellyableForClass(Point, RemotePoint)


class Counter(pb.Cacheable):
    def __init__(self) -> None:
        self.value = 0
        self.observers: list[Any] = []
        self.stopped = 0

    def getStateToCacheAndObserveFor(self, perspective: Any, observer: Any) -> Any:
        self.observers.append(observer)
        return {"value": self.value}

    def stoppedObserving(self, perspective: Any, observer: Any) -> None:
        self.observers.remove(observer)
        self.stopped += 1

    def add(self, n: int) -> None:
        self.value += n
        for observer in self.observers:
            observer.callRemote("setValue", self.value)


class RemoteCounter(pb.RemoteCache):
    def observe_setValue(self, value: int) -> None:
        self.value = value


pb.setUnjellyableForClass(Counter, RemoteCounter)


class Thing(pb.Referenceable):
    def remote_name(self) -> str:
        return "thing"


class Pinger(pb.Referenceable):
    def remote_ping(self, n: int) -> int:
        return n * 2


class Board(pb.Viewable):
    def view_who(self, perspective: Any) -> str:
        return perspective.name


class Evil:
    pass


class Root(pb.Root):
    def __init__(self) -> None:
        self.thing = Thing()
        self.counter = Counter()
        self.calls: list[Any] = []

    def remote_echo(self, *args: Any, **kw: Any) -> Any:
        return [list(args), kw]

    def remote_fail(self) -> None:
        raise MyError("on purpose")

    def remote_crash(self) -> None:
        raise ValueError("by accident")

    def remote_thing(self) -> Thing:
        return self.thing

    def remote_isThing(self, thing: Any) -> bool:
        return thing is self.thing

    def remote_ping(self, ref: Any, n: int) -> Any:
        return ref.callRemote("ping", n)

    def remote_move(self, point: RemotePoint) -> Point:
        return Point(point.x + 1, point.y)

    def remote_counter(self) -> Counter:
        return self.counter

    def remote_add(self, n: int) -> None:
        self.counter.add(n)

    async def remote_later(self, n: int) -> int:
        return n + 1

    def remote_never(self) -> Deferred[None]:
        return Deferred()

    def remote_record(self, value: Any) -> None:
        self.calls.append(value)

    def remote_evil(self) -> Evil:
        return Evil()


def connect(root: Any = None) -> tuple[pb.PBClientFactory, pb.Broker, pb.Broker, Any]:
    server = pb.PBServerFactory(root if root is not None else Root())
    client = pb.PBClientFactory()
    clientBroker, serverBroker, pump = connectedServerAndClient(server, client)
    pump.flush()
    return client, clientBroker, serverBroker, pump


def call(pump: Any, d: Deferred[Any]) -> Any:
    pump.flush()
    return successResultOf(d)


def test_callRemote() -> None:
    """Calls carry every jelly type and keyword arguments, and answer."""
    factory, _, _, pump = connect()
    root = successResultOf(factory.getRootObject())
    assert root.luid == b"root"
    values = [1, -(2**70), 1.5, b"b", "s", None, True, (1,), {"k": [2]}, {3}, frozenset()]
    assert call(pump, root.callRemote("echo", *values, key="v")) == [values, {"key": "v"}]
    assert call(pump, root.remoteMethod("echo")(1)) == [[1], {}]
    assert call(pump, root.callRemote("later", 1)) == 2


def test_remoteErrors() -> None:
    """Errors travel as CopiedFailures: matched by class name, raised as RemoteError."""
    factory, _, _, pump = connect()
    root = successResultOf(factory.getRootObject())
    d = root.callRemote("fail")
    pump.flush()
    failure = failureResultOf(d)
    assert isinstance(failure, pb.CopiedFailure)
    assert failure.check(MyError) is MyError
    assert failure.check(pb.Error) is pb.Error
    assert failure.getErrorMessage() == "on purpose"
    with pytest.raises(pb.RemoteError, match="on purpose") as info:
        failure.raiseException()
    assert (
        info.value.remoteType == f"twisted.{__name__}.MyError".encode()
        or info.value.remoteType.endswith(b"MyError")
    )
    d = root.callRemote("crash")
    pump.flush()
    assert failureResultOf(d).check(ValueError) is ValueError
    d = root.callRemote("nosuch")
    pump.flush()
    failure = failureResultOf(d)
    assert failure.check(pb.NoSuchMethod) is pb.NoSuchMethod
    assert failure.remoteType == b"twisted.spread.flavors.NoSuchMethod"
    d = root.callRemote("evil")
    pump.flush()
    assert failureResultOf(d).check(jelly.InsecureJelly)


def test_referenceableBothWays() -> None:
    """References go out as RemoteReferences, come home as the object; drops are counted."""
    factory, _, serverBroker, pump = connect()
    root = successResultOf(factory.getRootObject())
    thing = call(pump, root.callRemote("thing"))
    assert isinstance(thing, pb.RemoteReference)
    assert call(pump, thing.callRemote("name")) == "thing"
    assert call(pump, root.callRemote("isThing", thing)) is True
    assert call(pump, root.callRemote("ping", Pinger(), 4)) == 8
    exported = len(serverBroker.localObjects)
    del thing
    gc.collect()
    pump.flush()
    assert len(serverBroker.localObjects) == exported - 1


def test_copyable() -> None:
    factory, _, _, pump = connect()
    root = successResultOf(factory.getRootObject())
    point = call(pump, root.callRemote("move", Point(1, 2)))
    assert isinstance(point, RemotePoint)
    assert (point.x, point.y) == (2, 2)


def test_cacheable() -> None:
    """A Cacheable's copy gets updates, goes home as the original, and is decached."""
    rootObject = Root()
    factory, _, serverBroker, pump = connect(rootObject)
    root = successResultOf(factory.getRootObject())
    counter = call(pump, root.callRemote("counter"))
    again = call(pump, root.callRemote("counter"))
    assert counter is again
    assert isinstance(counter, RemoteCounter)
    assert counter.value == 0
    call(pump, root.callRemote("add", 3))
    pump.flush()
    assert counter.value == 3
    assert len(rootObject.counter.observers) == 1
    del counter, again
    gc.collect()
    pump.flush()
    assert rootObject.counter.stopped == 1
    assert serverBroker.remotelyCachedObjects == {}


def test_viewable() -> None:
    """A Viewable's view_ methods get the caller's avatar."""

    class User(pb.Avatar):
        name = "ann"

        def perspective_board(self) -> Board:
            return Board()

    root = _LoginRoot(lambda avatarId, mind: User())
    factory, _, _, pump = connect(root.portal)
    d = factory.login(credentials.UsernamePassword(b"ann", b"pw"))
    avatar = call(pump, d)
    board = call(pump, avatar.callRemote("board"))
    assert call(pump, board.callRemote("who")) == "ann"


class _LoginRoot:
    def __init__(self, makeAvatar: Callable[[Any, Any], Any]) -> None:
        self.minds: list[Any] = []
        self.logouts: list[Any] = []
        outer = self

        from zope.interface import implementer

        @implementer(portal.IRealm)
        class Realm:
            def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
                outer.minds.append(mind)
                return (
                    pb.IPerspective,
                    makeAvatar(avatarId, mind),
                    lambda: outer.logouts.append(avatarId),
                )

        checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(ann=b"pw")
        self.portal = portal.Portal(Realm(), [checker, checkers.AllowAnonymousAccess()])


class Account(pb.Avatar):
    def __init__(self, avatarId: Any, mind: Any) -> None:
        self.avatarId = avatarId
        self.mind = mind

    def perspective_whoami(self) -> Any:
        return self.avatarId

    def perspective_askMind(self) -> Any:
        return self.mind.callRemote("ping", 5)


def test_login() -> None:
    """Challenge and response log in; the mind is the client's object; logout on disconnect."""
    root = _LoginRoot(Account)
    factory, _, _, pump = connect(root.portal)
    avatar = call(
        pump, factory.login(credentials.UsernamePassword(b"ann", b"pw"), client=Pinger())
    )
    assert call(pump, avatar.callRemote("whoami")) == b"ann"
    assert call(pump, avatar.callRemote("askMind")) == 10
    assert root.logouts == []
    factory.disconnect()
    pump.flush()
    assert root.logouts == [b"ann"]


def test_loginFails() -> None:
    root = _LoginRoot(Account)
    factory, _, _, pump = connect(root.portal)
    d = factory.login(credentials.UsernamePassword(b"ann", b"wrong"))
    pump.flush()
    assert failureResultOf(d).check(UnauthorizedLogin)
    d = factory.login(credentials.UsernamePassword(b"bob", b"pw"))
    pump.flush()
    assert failureResultOf(d).check(UnauthorizedLogin)


def test_loginAnonymous() -> None:
    root = _LoginRoot(Account)
    factory, _, _, pump = connect(root.portal)
    avatar = call(pump, factory.login(credentials.Anonymous()))
    assert call(pump, avatar.callRemote("whoami")) == ()


def test_respond() -> None:
    """The response is MD5(MD5(password) + challenge), as Twisted's (checked against its bytes)."""
    challenge = b"\xbb\xf5\x02\xce\xd2\xa1g=\x8e\xff;5\xdb\xe8|\x88"
    assert pb.respond(challenge, b"secret") == b"7\xc0\xaa\xf1\x02y\xca\xb17&#\xb6\xc4\x986\x17"
    assert len(pb.challenge()) == 16


def test_disconnect() -> None:
    """Pending calls fail with PBConnectionLost, later ones with DeadReferenceError."""
    factory, _, _, pump = connect()
    root = successResultOf(factory.getRootObject())
    notified: list[Any] = []
    root.notifyOnDisconnect(notified.append)
    removed: list[Any] = []
    root.notifyOnDisconnect(removed.append)
    root.dontNotifyOnDisconnect(removed.append)
    pending = root.callRemote("never")
    pump.flush()
    factory.disconnect()
    pump.flush()
    assert failureResultOf(pending).check(pb.PBConnectionLost)
    assert notified == [root]
    assert removed == []
    assert failureResultOf(root.callRemote("echo")).check(pb.DeadReferenceError)


def test_noAnswer() -> None:
    rootObject = Root()
    factory, clientBroker, _, pump = connect(rootObject)
    root = successResultOf(factory.getRootObject())
    assert successResultOf(root.callRemote("record", 7, pbanswer=False)) is None
    pump.flush()
    assert rootObject.calls == [7]
    assert clientBroker.waitingForAnswers == {}


def _rawServer() -> tuple[pb.Broker, StringTransport, Root]:
    """A server broker fed raw bytes, past the negotiation."""
    rootObject = Root()
    factory = pb.PBServerFactory(rootObject)
    broker = factory.buildProtocol(None)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(encode(b"pb") + encode([b"version", 6], PB_VOCABULARY))
    transport.clear()
    return broker, transport, rootObject


def _message(*args: Any) -> bytes:
    return encode(
        [b"message", 1, b"root", b"echo", 1, [b"tuple", *args], [b"dictionary"]], PB_VOCABULARY
    )


def test_hostileClassClosesConnection() -> None:
    """An unknown class in a call is answered with InsecureJelly, then the connection closes."""
    broker, transport, _ = _rawServer()
    broker.dataReceived(_message([b"os.system", [b"unicode", b"rm -rf /"]]))
    answer = banana.decode(transport.value(), dialect=b"pb")
    assert answer[0] == b"error"
    assert answer[2][0] == b"twisted.spread.pb.CopyableFailure"
    assert b"twisted.spread.jelly.InsecureJelly" in repr(answer).encode()
    assert transport.disconnecting


@pytest.mark.parametrize(
    "data",
    [
        encode(5),
        encode([]),
        encode([1, 2]),
        encode([b"message", 1], PB_VOCABULARY),
        encode([b"answer", 99, 1], PB_VOCABULARY),
        encode([b"version", 5], PB_VOCABULARY),
        encode([b"message", [1], b"root", b"echo", 1, [b"tuple"], [b"dictionary"]], PB_VOCABULARY),
        encode([b"message", 1, [b"x"], b"echo", 1, [b"tuple"], [b"dictionary"]], PB_VOCABULARY),
        b"\x01\xff",
        b"\x01\x00\x28\x82",
        b"\x01\x80" * 300,
    ],
)
def test_protocolViolationsCloseConnection(data: bytes) -> None:
    broker, transport, _ = _rawServer()
    broker.dataReceived(data)
    assert transport.disconnecting


def test_unknownCommand() -> None:
    broker, transport, _ = _rawServer()
    broker.dataReceived(encode([b"frobnicate", 1]))
    assert banana.decode(transport.value(), dialect=b"pb") == [b"didNotUnderstand", b"frobnicate"]
    assert not transport.disconnecting


def test_invalidObjectID() -> None:
    broker, transport, _ = _rawServer()
    broker.dataReceived(
        encode([b"message", 1, 99, b"echo", 1, [b"tuple"], [b"dictionary"]], PB_VOCABULARY)
    )
    answer = banana.decode(transport.value(), dialect=b"pb")
    assert answer[0] == b"error"
    assert b"Invalid Object ID" in repr(answer).encode()


def test_referenceLimit() -> None:
    """A broker exports at most MAX_BROKER_REFS objects."""
    broker, _, _ = _rawServer()
    # The root is one of them.
    for _ in range(pb.MAX_BROKER_REFS - 1):
        broker.registerReference(Thing())
    with pytest.raises(pb.Error, match="Maximum"):
        broker.registerReference(Thing())


@pytest.mark.parametrize("reactor", ["epoll", "asyncio"], indirect=True)
def test_overTCP(reactor: Any, runReactor: Callable[..., Any]) -> None:
    """PB over real loopback TCP."""

    async def scenario() -> Any:
        port = reactor.listenTCP(0, pb.PBServerFactory(Root()), interface="127.0.0.1")
        factory = pb.PBClientFactory()
        reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
        try:
            root = await factory.getRootObject()
            return await root.callRemote("echo", b"x" * 100000, "y")
        finally:
            factory.disconnect()
            await port.stopListening()
            d: Deferred[None] = Deferred()
            reactor.callLater(0.05, d.callback, None)
            await d

    assert runReactor(reactor, lambda: ensureDeferred(scenario())) == [[b"x" * 100000, "y"], {}]


@pytest.mark.parametrize("reactor", ["epoll"], indirect=True)
def test_overTLS(reactor: Any, runReactor: Callable[..., Any]) -> None:
    """PB is just a protocol: it runs over listenSSL/connectSSL."""
    ssl = pytest.importorskip("fw.internet.ssl")
    ca = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC).selfSignedCert(1, commonName="pb CA")
    key = ssl.KeyPair.generate(ssl.KeyPair.TYPE_EC)
    cert = ca.signRequestObject(key.requestObject(ssl.DN(commonName="localhost")), 2)
    server = ssl.PrivateCertificate.fromCertificateAndKeyPair(cert, key)
    serverOptions = ssl.CertificateOptions(
        privateKey=server.privateKey.original, certificate=server.original
    )
    clientOptions = ssl.optionsForClientTLS("localhost", trustRoot=ca)

    async def scenario() -> Any:
        port = reactor.listenSSL(
            0, pb.PBServerFactory(Root()), serverOptions, interface="127.0.0.1"
        )
        factory = pb.PBClientFactory()
        reactor.connectSSL("127.0.0.1", port.getHost().port, factory, clientOptions)
        try:
            root = await factory.getRootObject()
            return await root.callRemote("echo", "over TLS")
        finally:
            factory.disconnect()
            await port.stopListening()
            d: Deferred[None] = Deferred()
            reactor.callLater(0.1, d.callback, None)
            await d

    assert runReactor(reactor, lambda: ensureDeferred(scenario())) == [["over TLS"], {}]


@pytest.mark.parametrize("module", [banana, jelly, pb])
def test_publicSurface(module: Any) -> None:
    """Every exported name exists and, where it is a class or function, is documented."""
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value) and not isinstance(value, (bytes, int)):
            assert value.__doc__, f"{module.__name__}.{name} has no docstring"
