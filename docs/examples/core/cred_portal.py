"""
The pieces of cred, without a network: a realm makes avatars, a checker
verifies passwords, and a portal joins them.
"""

from zope.interface import Interface, implementer

from fw.cred import checkers, credentials, error, portal


class IGreeter(Interface):
    """What a logged-in user can do here: be greeted."""

    def greet():
        """Return a greeting."""


@implementer(IGreeter)
class Greeter:
    def __init__(self, name):
        self.name = name

    def greet(self):
        return f"hello, {self.name}"

    def logout(self):
        print(f"{self.name} logged out")


@implementer(portal.IRealm)
class GreeterRealm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        if IGreeter not in interfaces:
            raise NotImplementedError("this realm only has greeters")
        avatar = Greeter(avatarId.decode())
        return IGreeter, avatar, avatar.logout


checker = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland")
thePortal = portal.Portal(GreeterRealm(), [checker])


def loggedIn(result):
    _interface, avatar, logout = result
    print(avatar.greet())
    logout()


def failed(reason):
    reason.trap(error.UnauthorizedLogin, error.UnhandledCredentials)
    print(f"refused: {type(reason.value).__name__}")


for creds in [
    credentials.UsernamePassword(b"alice", b"wonderland"),
    credentials.UsernamePassword(b"alice", b"looking-glass"),
    credentials.UsernamePassword(b"mallory", b"wonderland"),
    credentials.Anonymous(),
]:
    thePortal.login(creds, None, IGreeter).addCallbacks(loggedIn, failed)

# Anonymous users are welcome once a checker accepts them.
thePortal.registerChecker(checkers.AllowAnonymousAccess())


@implementer(portal.IRealm)
class AsyncRealm:
    # Beyond Twisted: a realm (or a checker) may be a coroutine.
    async def requestAvatar(self, avatarId, mind, *interfaces):
        name = "guest" if avatarId is checkers.ANONYMOUS else avatarId.decode()
        avatar = Greeter(name)
        return IGreeter, avatar, avatar.logout


thePortal.realm = AsyncRealm()
thePortal.login(credentials.Anonymous(), None, IGreeter).addCallbacks(loggedIn, failed)
