"""
The portal: the one door through which users log in.

A :class:`Portal` joins a realm (which makes avatars: the objects a logged-in
user acts through) with checkers (which verify credentials and name the
avatar).  A protocol that authenticates users calls::

    d = portal.login(credentials, mind, IMyAvatar)
    # d fires with (IMyAvatar, avatar, logout), or fails with LoginFailed

Login order::

    login -> checker.requestAvatarId(credentials) -> realm.requestAvatar(
        avatarId, mind, *interfaces) -> (interface, avatar, logout)

Either step may return its result at once, as a Deferred, or (beyond
Twisted) as a coroutine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from zope.interface import Interface, providedBy
from zope.interface.interface import InterfaceClass

from fw.cred import error
from fw.internet.defer import Deferred, fail, maybeDeferred
from fw.python.failure import Failure

__all__ = ["IRealm", "LoginResult", "Portal"]

#: What a successful login gives: the interface the avatar provides, the
#: avatar, and a no-argument callable to call when the user logs out.
LoginResult: TypeAlias = tuple[Any, Any, Callable[[], object]]


class IRealm(Interface):
    """
    The place where avatars live: turns an avatar id into an avatar.
    """

    def requestAvatar(avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        """
        Return the avatar of ``avatarId`` for the first of ``interfaces``
        the realm supports.

        Args:
            avatarId: what the checker returned: usually the user name as
                bytes, or :data:`fw.cred.checkers.ANONYMOUS`.
            mind: the protocol's object standing for the remote user, or
                ``None``.
            interfaces: the interfaces the caller can use, most wanted first.

        Returns:
            ``(interface, avatar, logout)``, or a Deferred (or an awaitable)
            of it.  ``logout`` is called with no arguments when the user
            logs out.  Raise (or fail with) :class:`fw.cred.error.LoginDenied`
            to refuse, or ``NotImplementedError`` when none of
            ``interfaces`` is supported.
        """


class Portal:
    """
    Joins a realm with the checkers that verify its users' credentials.

    Args:
        realm: an :class:`IRealm` provider.
        checkers: :class:`~fw.cred.checkers.ICredentialsChecker` providers
            to register at once (see :meth:`registerChecker`).

    Attributes:
        realm: the realm.
        checkers: the registered checkers, by credentials interface.
    """

    def __init__(self, realm: Any, checkers: Iterable[Any] = ()) -> None:
        self.realm = realm
        self.checkers: dict[InterfaceClass, Any] = {}
        for checker in checkers or ():
            self.registerChecker(checker)

    def __repr__(self) -> str:
        names = ", ".join(i.__name__ for i in self.checkers)
        return f"<Portal realm={self.realm!r} credentials=[{names}]>"

    def listCredentialsInterfaces(self) -> list[InterfaceClass]:
        """Return the credentials interfaces that a checker is registered for."""
        return list(self.checkers)

    def registerChecker(self, checker: Any, *credentialInterfaces: InterfaceClass) -> None:
        """
        Use ``checker`` for credentials providing ``credentialInterfaces``
        (by default the checker's own ``credentialInterfaces``).  A checker
        registered later for the same interface replaces the earlier one.

        Raises:
            TypeError: no interface was given, or one is not a
                zope.interface interface.
        """
        interfaces = credentialInterfaces or tuple(getattr(checker, "credentialInterfaces", ()))
        if not interfaces:
            raise TypeError(f"{checker!r} names no credentials interfaces")
        for interface in interfaces:
            if not isinstance(interface, InterfaceClass):
                raise TypeError(f"{interface!r} is not an interface")
            self.checkers[interface] = checker

    def login(self, credentials: Any, mind: Any, *interfaces: Any) -> Deferred[LoginResult]:
        """
        Log in with ``credentials``, asking for an avatar providing one of
        ``interfaces``.

        The checker registered for an interface that ``credentials``
        provides decides who the user is; the realm then makes the avatar.

        Args:
            credentials: an :class:`~fw.cred.credentials.ICredentials`
                provider.
            mind: the protocol's object for the remote user (or ``None``),
                passed to the realm.
            interfaces: the avatar interfaces wanted, most wanted first.

        Returns:
            A Deferred firing with ``(interface, avatar, logout)``.  It fails
            with :class:`~fw.cred.error.UnhandledCredentials` when no checker
            handles the credentials, with
            :class:`~fw.cred.error.UnauthorizedLogin` (or another
            :class:`~fw.cred.error.LoginFailed`) when the checker refuses
            them, or with whatever the realm raised.
        """
        for interface in providedBy(credentials).flattened():
            checker = self.checkers.get(interface)
            if checker is not None:
                d: Deferred[Any] = maybeDeferred(checker.requestAvatarId, credentials)
                d.addCallback(self._requestAvatar, mind, interfaces)
                return d
        names = ", ".join(i.__name__ for i in providedBy(credentials)) or "none"
        return fail(
            Failure(
                error.UnhandledCredentials(
                    f"no checker for {type(credentials).__name__} "
                    f"(it provides {names}; the portal checks "
                    f"{', '.join(i.__name__ for i in self.checkers) or 'nothing'})"
                )
            )
        )

    def _requestAvatar(
        self, avatarId: Any, mind: Any, interfaces: tuple[Any, ...]
    ) -> Deferred[LoginResult]:
        return maybeDeferred(self.realm.requestAvatar, avatarId, mind, *interfaces)
