"""fw.cred: the portal, the simple credentials, the in-memory and anonymous checkers."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from zope.interface import Interface, implementer
from zope.interface.verify import verifyObject

from fw.cred import checkers, credentials, error, portal
from fw.internet.defer import Deferred, succeed
from fw.python.failure import Failure


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def failureResultOf(d: Deferred[Any], *types: type[BaseException]) -> Failure:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    assert isinstance(results[0], Failure), f"not a failure: {results}"
    if types:
        assert results[0].check(*types), results[0]
    return results[0]


class IAvatar(Interface):
    pass


class IOther(Interface):
    pass


@implementer(IAvatar)
class Avatar:
    def __init__(self, avatarId: Any, mind: Any) -> None:
        self.avatarId = avatarId
        self.mind = mind
        self.loggedOut = False

    def logout(self) -> None:
        self.loggedOut = True


@implementer(portal.IRealm)
class Realm:
    def __init__(self) -> None:
        self.avatars: list[Avatar] = []

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        if IAvatar not in interfaces:
            raise NotImplementedError("only IAvatar")
        avatar = Avatar(avatarId, mind)
        self.avatars.append(avatar)
        return IAvatar, avatar, avatar.logout


def makePortal() -> tuple[portal.Portal, Realm]:
    realm = Realm()
    p = portal.Portal(realm, [checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret")])
    return p, realm


def test_loginReturnsInterfaceAvatarLogout() -> None:
    p, _realm = makePortal()
    mind = object()
    iface, avatar, logout = successResultOf(
        p.login(credentials.UsernamePassword(b"alice", b"secret"), mind, IAvatar)
    )
    assert iface is IAvatar
    assert avatar.avatarId == b"alice"
    assert avatar.mind is mind
    logout()
    assert avatar.loggedOut


def test_wrongPasswordAndUnknownUserAreUnauthorized() -> None:
    p, realm = makePortal()
    for user, password in [(b"alice", b"wrong"), (b"mallory", b"secret"), (b"alice", b"")]:
        f = failureResultOf(
            p.login(credentials.UsernamePassword(user, password), None, IAvatar),
            error.UnauthorizedLogin,
        )
        assert isinstance(f.value, error.LoginFailed)
    assert realm.avatars == []


def test_unhandledCredentials() -> None:
    p, _ = makePortal()
    f = failureResultOf(
        p.login(credentials.Anonymous(), None, IAvatar), error.UnhandledCredentials
    )
    assert "Anonymous" in str(f.value)
    assert "IUsernamePassword" in str(f.value)


def test_realmRefusalPropagates() -> None:
    p, _ = makePortal()
    creds = credentials.UsernamePassword(b"alice", b"secret")
    failureResultOf(p.login(creds, None, IOther), NotImplementedError)


def test_listAndRegisterCheckers() -> None:
    p, _ = makePortal()
    assert set(p.listCredentialsInterfaces()) == {
        credentials.IUsernamePassword,
        credentials.IUsernameHashedPassword,
    }
    anonymous = checkers.AllowAnonymousAccess()
    p.registerChecker(anonymous)
    assert credentials.IAnonymous in p.listCredentialsInterfaces()
    _, avatar, _ = successResultOf(p.login(credentials.Anonymous(), None, IAvatar))
    assert avatar.avatarId == checkers.ANONYMOUS == ()
    # An explicit interface list overrides the checker's own.
    p2 = portal.Portal(Realm())
    p2.registerChecker(anonymous, credentials.IUsernamePassword)
    assert p2.listCredentialsInterfaces() == [credentials.IUsernamePassword]
    with pytest.raises(TypeError):
        p2.registerChecker(object())
    with pytest.raises(TypeError):
        p2.registerChecker(anonymous, "not an interface")  # type: ignore[arg-type]


def test_deferredAndCoroutineRealmsAndCheckers() -> None:
    @implementer(checkers.ICredentialsChecker)
    class AsyncChecker:
        credentialInterfaces = (credentials.IUsernamePassword,)

        async def requestAvatarId(self, c: Any) -> bytes:
            if c.checkPassword(b"pw"):
                return bytes(c.username)
            raise error.UnauthorizedLogin()

    @implementer(portal.IRealm)
    class AsyncRealm:
        async def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
            return interfaces[0], ("avatar", avatarId), lambda: None

    @implementer(portal.IRealm)
    class DeferredRealm:
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
            return succeed((interfaces[0], ("deferred", avatarId), lambda: None))

    for realm, kind in [(AsyncRealm(), "avatar"), (DeferredRealm(), "deferred")]:
        p = portal.Portal(realm, [AsyncChecker()])
        _, avatar, _ = successResultOf(
            p.login(credentials.UsernamePassword(b"bob", b"pw"), None, IAvatar)
        )
        assert avatar == (kind, b"bob")
        failureResultOf(
            p.login(credentials.UsernamePassword(b"bob", b"no"), None, IAvatar),
            error.UnauthorizedLogin,
        )


def test_realmLoginDenied() -> None:
    @implementer(portal.IRealm)
    class Denying:
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
            raise error.LoginDenied("account disabled")

    p = portal.Portal(Denying(), [checkers.InMemoryUsernamePasswordDatabase(alice="x")])
    f = failureResultOf(
        p.login(credentials.UsernamePassword(b"alice", b"x"), None, IAvatar), error.LoginDenied
    )
    assert isinstance(f.value, error.LoginFailed)


def test_errorHierarchy() -> None:
    assert issubclass(error.UnauthorizedLogin, error.LoginFailed)
    assert issubclass(error.UnauthorizedLogin, error.Unauthorized)
    assert issubclass(error.UnhandledCredentials, error.LoginFailed)
    assert issubclass(error.LoginDenied, error.LoginFailed)


def test_interfacesAreProvided() -> None:
    verifyObject(credentials.IUsernamePassword, credentials.UsernamePassword(b"a", b"b"))
    verifyObject(
        credentials.IUsernameHashedPassword, credentials.UsernameHashedPassword(b"a", b"b")
    )
    verifyObject(credentials.IAnonymous, credentials.Anonymous())
    verifyObject(
        credentials.ISSHPrivateKey,
        credentials.SSHPrivateKey(b"u", b"ssh-ed25519", b"k", None, None),
    )
    verifyObject(credentials.IUsernameHashedPassword, credentials.CramMD5Credentials(b"host"))
    verifyObject(checkers.ICredentialsChecker, checkers.AllowAnonymousAccess())
    verifyObject(checkers.ICredentialsChecker, checkers.InMemoryUsernamePasswordDatabase())
    verifyObject(portal.IRealm, Realm())
    for cls in [credentials.IUsernamePassword, credentials.IAnonymous, credentials.ISSHPrivateKey]:
        assert cls.extends(credentials.ICredentials)


def test_usernamePassword() -> None:
    c = credentials.UsernamePassword(b"alice", b"secret")
    assert c.checkPassword(b"secret")
    assert not c.checkPassword(b"secreT")
    assert not c.checkPassword(b"")
    assert "secret" not in repr(c)
    h = credentials.UsernameHashedPassword(b"alice", b"secret")
    assert h.checkPassword(b"secret")
    assert not h.checkPassword(b"nope")


def test_inMemoryCheckerHashedCredentialsAndAddUser() -> None:
    checker = checkers.InMemoryUsernamePasswordDatabase(alice="pässword")
    checker.addUser(b"bob", b"pw")
    assert checker.users == {b"alice": "pässword".encode(), b"bob": b"pw"}
    assert (
        successResultOf(checker.requestAvatarId(credentials.UsernameHashedPassword(b"bob", b"pw")))
        == b"bob"
    )
    assert (
        successResultOf(
            checker.requestAvatarId(credentials.UsernamePassword(b"alice", "pässword".encode()))
        )
        == b"alice"
    )
    failureResultOf(
        checker.requestAvatarId(credentials.UsernamePassword(b"bob", b"p")),
        error.UnauthorizedLogin,
    )
    assert issubclass(
        checkers.InMemoryUsernamePasswordDatabaseDontUse, checkers.InMemoryUsernamePasswordDatabase
    )


def test_cramMD5() -> None:
    server = credentials.CramMD5Credentials(b"example.org")
    challenge = server.getChallenge()
    assert challenge.startswith(b"<")
    assert challenge.endswith(b"@example.org>")
    assert server.getChallenge() == challenge
    assert not server.moreChallenges()
    # The client side, computed independently with the stdlib (RFC 2195).
    digest = hmac.new(b"tanstaaftanstaaf", challenge, hashlib.md5).hexdigest()
    server.setResponse(b"tim " + digest.upper().encode())
    assert server.username == b"tim"
    assert server.checkPassword(b"tanstaaftanstaaf")
    assert not server.checkPassword(b"tanstaaf")
    checker = checkers.InMemoryUsernamePasswordDatabase(tim="tanstaaftanstaaf")
    assert successResultOf(checker.requestAvatarId(server)) == b"tim"


def test_cramMD5RFCExample() -> None:
    # RFC 2195 section 2's worked example.
    c = credentials.CramMD5Credentials()
    c.challenge = b"<1896.697170952@postoffice.reston.mci.net>"
    c.setResponse(b"tim b913a602c7eda7a495b4e6e7334d3890")
    assert c.checkPassword(b"tanstaaftanstaaf")


def test_cramMD5MalformedResponses() -> None:
    c = credentials.CramMD5Credentials(b"h")
    for bad in [b"", b"nodigest", b" leadingspace", b"x" * 5000]:
        with pytest.raises(ValueError):
            c.setResponse(bad)
    c.setResponse(b"user zz")
    assert not c.checkPassword(b"anything")


def test_challengesAreUnique() -> None:
    seen = {credentials.CramMD5Credentials(b"h").getChallenge() for _ in range(50)}
    assert len(seen) == 50


def test_telnetUsesCredUsernamePassword() -> None:
    from fw.protocols import _telnet_stateful

    c = _telnet_stateful._credentials(b"alice", b"pw")
    assert isinstance(c, credentials.UsernamePassword)
    assert credentials.IUsernamePassword.providedBy(c)


def test_telnetAuthenticatesThroughPortal() -> None:
    from fw.internet.testing import StringTransport
    from fw.protocols import telnet

    @implementer(portal.IRealm)
    class TelnetRealm:
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
            assert telnet.ITelnetProtocol in interfaces
            shell = telnet.TelnetProtocol()
            shell.avatarId = avatarId  # type: ignore[attr-defined]
            return telnet.ITelnetProtocol, shell, lambda: None

    p = portal.Portal(TelnetRealm(), [checkers.InMemoryUsernamePasswordDatabase(alice="pw")])
    proto = telnet.AuthenticatingTelnetProtocol(p)
    transport = telnet.TelnetTransport(lambda: proto)
    transport.makeConnection(StringTransport())
    transport.dataReceived(b"alice\r\npw\r\n")
    assert getattr(proto.protocol, "avatarId", None) == b"alice"


def test_socksTakesCredChecker() -> None:
    from fw.protocols._socks_policy import checkCredentials

    checker = checkers.InMemoryUsernamePasswordDatabase(alice="secret")
    assert successResultOf(checkCredentials(checker, b"alice", b"secret")) == b"alice"
    assert successResultOf(checkCredentials(checker, b"alice", b"nope")) is None
