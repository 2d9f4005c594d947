"""
HTTP authentication (RFC 9110 section 11) in front of a resource, through
:mod:`fw.cred`.

:class:`HTTPAuthSessionWrapper` asks a :class:`~fw.cred.portal.Portal` for
an ``IResource`` avatar using credentials from the ``Authorization`` header,
decoded by a :class:`BasicCredentialFactory` (RFC 7617) or a
:class:`DigestCredentialFactory` (RFC 7616).  Requests without credentials
log in anonymously, so a portal with an anonymous checker can serve them;
failures are answered ``401`` with one ``WWW-Authenticate`` challenge per
factory.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Sequence
from typing import Any

from zope.interface import implementer

from fw.cred import credentials as _credentials
from fw.cred import error
from fw.cred.credentials import Anonymous, UsernamePassword
from fw.internet.defer import Deferred
from fw.logger import Logger
from fw.python.failure import Failure
from fw.web import resource, util
from fw.web.iweb import ICredentialFactory

__all__ = [
    "BasicCredentialFactory",
    "DigestCredentialFactory",
    "HTTPAuthSessionWrapper",
    "UnauthorizedResource",
]

# The longest Basic credentials accepted (8 KiB); far beyond real user names and
# passwords, and bounds the base64 decoding work a client can ask for.
_MAX_BASIC_LENGTH = 8 * 1024


@implementer(ICredentialFactory)
class BasicCredentialFactory:
    """
    HTTP Basic authentication (RFC 7617): user and password in base64.

    Args:
        authenticationRealm: the realm shown to users.
    """

    scheme = b"basic"

    def __init__(self, authenticationRealm: bytes | str) -> None:
        if isinstance(authenticationRealm, str):
            authenticationRealm = authenticationRealm.encode("utf-8")
        self.authenticationRealm = authenticationRealm

    def getChallenge(self, request: Any) -> dict[str, bytes]:
        """The challenge: the realm."""
        return {"realm": self.authenticationRealm}

    def decode(self, response: bytes, request: Any) -> UsernamePassword:
        """
        The credentials in a Basic response.

        Raises:
            fw.cred.error.LoginFailed: it is not base64 of ``user:password``.
        """
        response = response.strip()
        if len(response) > _MAX_BASIC_LENGTH:
            raise error.LoginFailed("Invalid credentials")
        try:
            decoded = b64decode(response + b"=" * (-len(response) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise error.LoginFailed("Invalid credentials") from None
        user, colon, password = decoded.partition(b":")
        if not colon:
            raise error.LoginFailed("Invalid credentials")
        return UsernamePassword(user, password)


@implementer(ICredentialFactory)
class DigestCredentialFactory:
    """
    HTTP Digest authentication (RFC 7616) for web requests, over
    :class:`fw.cred.credentials.DigestCredentialFactory`.

    Args:
        algorithm: ``b"md5"``, ``b"sha-256"``... (see fw.cred).
        authenticationRealm: the realm shown to users.
    """

    scheme = b"digest"

    def __init__(self, algorithm: bytes | str, authenticationRealm: bytes | str) -> None:
        self.digest = _credentials.DigestCredentialFactory(algorithm, authenticationRealm)

    def getChallenge(self, request: Any) -> dict[str, bytes]:
        """A fresh challenge bound to the client's address."""
        return self.digest.getChallenge(request.getClientAddress())

    def decode(self, response: bytes, request: Any) -> _credentials.DigestedCredentials:
        """
        The credentials in a Digest response.

        Raises:
            fw.cred.error.LoginFailed: the response is invalid.
        """
        return self.digest.decode(response, request.method, request.getClientAddress())


def _quote(value: bytes) -> bytes:
    # RFC 9110 5.6.4 quoted-string.
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class UnauthorizedResource(resource.Resource):
    """Answers 401 with a challenge from each credential factory."""

    isLeaf = True

    def __init__(self, factories: Sequence[Any]) -> None:
        super().__init__()
        self._credentialFactories = factories

    def render(self, request: Any) -> bytes:
        """Send 401 and the challenges."""
        request.setResponseCode(401)
        for factory in self._credentialFactories:
            challenge = factory.getChallenge(request)
            params = b", ".join(
                k.encode("ascii")
                + b"="
                + _quote(v if isinstance(v, bytes) else str(v).encode("utf-8"))
                for k, v in challenge.items()
            )
            request.responseHeaders.addRawHeader(
                b"www-authenticate", factory.scheme.capitalize() + b" " + params
            )
        request.setHeader(b"content-type", b"text/plain")
        if request.method == b"HEAD":
            return b""
        return b"Unauthorized"

    def getChildWithDefault(self, path: bytes, request: Any) -> resource.IResource:
        """Every child is unauthorized too."""
        return self


class _LoggedIn(resource.Resource):
    """Wraps an avatar so that its logout runs when the request ends."""

    def __init__(self, avatar: resource.IResource, logout: Any) -> None:
        super().__init__()
        self._avatar = avatar
        self._logout = logout

    def _hook(self, request: Any) -> None:
        logout, self._logout = self._logout, None
        if logout is not None:
            request.notifyFinish().addBoth(lambda ignored: logout())

    def getChildWithDefault(self, path: bytes, request: Any) -> resource.IResource:
        self._hook(request)
        if getattr(self._avatar, "isLeaf", False):
            request.postpath.insert(0, request.prepath.pop())
            return self._avatar
        return self._avatar.getChildWithDefault(path, request)

    def render(self, request: Any) -> Any:
        self._hook(request)
        return self._avatar.render(request)


class HTTPAuthSessionWrapper(resource.Resource):
    """
    Guards a portal's ``IResource`` avatars with HTTP authentication.

    Args:
        portal: logs users in; its realm returns ``IResource`` avatars.
        credentialFactories: the schemes offered, such as
            ``[BasicCredentialFactory(b"realm")]``.
    """

    isLeaf = False
    _log = Logger()

    def __init__(self, portal: Any, credentialFactories: Sequence[Any]) -> None:
        super().__init__()
        self._portal = portal
        self._credentialFactories = list(credentialFactories)

    def render(self, request: Any) -> Any:
        """Authenticate, then render the avatar."""
        return self._authorizedResource(request).render(request)

    def getChildWithDefault(self, path: bytes, request: Any) -> resource.IResource:
        """Authenticate, then traverse the avatar from this segment."""
        request.postpath.insert(0, request.prepath.pop())
        return self._authorizedResource(request)

    def _authorizedResource(self, request: Any) -> resource.IResource:
        header = request.getHeader(b"authorization")
        if not header:
            return util.DeferredResource(self._login(Anonymous()))
        factory, response = self._selectParseHeader(header)
        if factory is None:
            return UnauthorizedResource(self._credentialFactories)
        try:
            creds = factory.decode(response, request)
        except error.LoginFailed:
            return UnauthorizedResource(self._credentialFactories)
        except Exception:  # noqa: BLE001 - a broken factory is answered 500 and logged
            self._log.failure("Unexpected failure from credentials factory")
            return resource.ErrorPage(500, "Internal Server Error", "")
        return util.DeferredResource(self._login(creds))

    def _login(self, creds: Any) -> Deferred[resource.Resource]:
        d: Deferred[Any] = self._portal.login(creds, None, resource.IResource)
        d.addCallbacks(self._loginSucceeded, self._loginFailed)
        return d

    def _loginSucceeded(self, result: tuple[Any, resource.IResource, Any]) -> resource.Resource:
        _, avatar, logout = result
        return _LoggedIn(avatar, logout)

    def _loginFailed(self, result: Failure) -> resource.Resource:
        if result.check(error.Unauthorized, error.LoginFailed):
            return UnauthorizedResource(self._credentialFactories)
        self._log.failure(
            "HTTPAuthSessionWrapper.getChildWithDefault encountered unexpected error",
            failure=result,
        )
        return resource.ErrorPage(500, "Internal Server Error", "")

    def _selectParseHeader(self, header: bytes) -> tuple[Any, bytes]:
        scheme, _, response = header.strip().partition(b" ")
        scheme = scheme.lower()
        for factory in self._credentialFactories:
            if factory.scheme == scheme:
                return factory, response.strip()
        return None, b""
