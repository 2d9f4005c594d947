"""
The errors of cred.

A failed login fails its Deferred with a :class:`LoginFailed`:
:class:`UnauthorizedLogin` when the credentials are wrong (or the user is
unknown: the two are never told apart), :class:`UnhandledCredentials` when
no checker accepts credentials of that kind, :class:`LoginDenied` when the
credentials are right but the realm refuses the avatar.
"""

from __future__ import annotations

__all__ = [
    "LoginDenied",
    "LoginFailed",
    "Unauthorized",
    "UnauthorizedLogin",
    "UnhandledCredentials",
]


class Unauthorized(Exception):
    """Someone tried to do something they may not."""


class LoginFailed(Exception):
    """The base of every login failure."""


class UnauthorizedLogin(LoginFailed, Unauthorized):
    """
    The credentials were refused: a wrong password, an unknown user, or
    credentials a checker could not verify.
    """


class UnhandledCredentials(LoginFailed):
    """
    No checker is registered for the kind of credentials offered (for
    example an anonymous login to a portal that has only password checkers).
    """


class LoginDenied(LoginFailed):
    """
    The credentials are right, but the realm refuses to give an avatar (for
    example for none of the interfaces asked for, or a disabled account).
    """
