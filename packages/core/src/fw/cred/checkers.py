"""
Credentials checkers: they verify credentials and name the avatar.

A checker provides :class:`ICredentialsChecker`: ``credentialInterfaces``
lists the kinds of credentials it verifies, and
``requestAvatarId(credentials)`` returns (a Deferred of) the avatar id, or
fails with :class:`~fw.cred.error.UnauthorizedLogin`.

- :class:`InMemoryUsernamePasswordDatabase` (Twisted's name,
  :class:`InMemoryUsernamePasswordDatabaseDontUse`, is kept): users and
  passwords held in memory, for tests and small programs.
- :class:`FilePasswordDB`: a password file, ``user:hash`` a line, with
  scrypt or bcrypt hashes (see :mod:`fw.cred.passwd`); plaintext files only
  when asked for by name.
- :class:`AllowAnonymousAccess`: anyone, as :data:`ANONYMOUS`.

Secrets are compared in constant time, and an unknown user costs as much
time as a wrong password.
"""

from __future__ import annotations

import hmac
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Final

from zope.interface import Attribute, Interface, implementer

from fw.cred import _hashing, error
from fw.cred.credentials import IAnonymous, IUsernameHashedPassword, IUsernamePassword
from fw.internet.defer import Deferred, fail, maybeDeferred, succeed
from fw.internet.threads import deferToThreadPool
from fw.logger import Logger
from fw.python.failure import Failure

__all__ = [
    "ANONYMOUS",
    "HASHED",
    "AllowAnonymousAccess",
    "FilePasswordDB",
    "ICredentialsChecker",
    "InMemoryUsernamePasswordDatabase",
    "InMemoryUsernamePasswordDatabaseDontUse",
    "PasswordFileError",
]

_log = Logger(namespace="fw.cred.checkers")

#: The avatar id of an anonymous user.
ANONYMOUS: Final[tuple[()]] = ()


class ICredentialsChecker(Interface):
    """Verifies credentials of some kinds and names the avatar they belong to."""

    credentialInterfaces = Attribute(
        "The credentials interfaces this checker verifies (a sequence of interfaces)."
    )

    def requestAvatarId(credentials: Any) -> Any:
        """
        Verify ``credentials``.

        Returns:
            The avatar id (usually the user name, as bytes), or a Deferred
            (or awaitable) of it.  On refusal, fail with
            :class:`~fw.cred.error.UnauthorizedLogin`.
        """


@implementer(ICredentialsChecker)
class AllowAnonymousAccess:
    """Lets anyone in, as the avatar id :data:`ANONYMOUS`."""

    credentialInterfaces = (IAnonymous,)

    def requestAvatarId(self, credentials: Any) -> Deferred[tuple[()]]:
        """Return :data:`ANONYMOUS`."""
        return succeed(ANONYMOUS)


def _asBytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _unauthorized(_: object = None) -> Deferred[Any]:
    return fail(Failure(error.UnauthorizedLogin()))


def _matched(matched: bool, username: bytes) -> bytes | Deferred[Any]:
    if matched:
        return username
    return _unauthorized()


def _matchedUser(user: bytes | None) -> bytes | Deferred[Any]:
    return user if user is not None else _unauthorized()


def _checkFailed(reason: Failure) -> Deferred[Any]:
    reason.trap(OSError, PasswordFileError)
    _log.error("cannot check a password: {error}", error=reason.value)
    return _unauthorized()


@implementer(ICredentialsChecker)
class InMemoryUsernamePasswordDatabase:
    """
    User names and plaintext passwords held in memory.

    For tests, examples and small programs: a real service should keep
    hashes in a file (:class:`FilePasswordDB`).

    Args:
        users: user name = password (text is encoded as UTF-8).

    Attributes:
        users: the passwords, by user name, as bytes.
    """

    credentialInterfaces = (IUsernamePassword, IUsernameHashedPassword)

    def __init__(self, **users: bytes | str) -> None:
        self.users: dict[bytes, bytes] = {}
        for username, password in users.items():
            self.addUser(username, password)

    def addUser(self, username: bytes | str, password: bytes | str) -> None:
        """Add a user, or change a user's password."""
        self.users[_asBytes(username)] = _asBytes(password)

    def _cbPasswordMatch(self, matched: bool, username: bytes) -> bytes | Deferred[Any]:
        return _matched(matched, username)

    def requestAvatarId(self, credentials: Any) -> Deferred[Any]:
        """
        Return the user name when the password matches, else fail with
        :class:`~fw.cred.error.UnauthorizedLogin`.
        """
        username = credentials.username
        password = self.users.get(username)
        if password is None:
            # Compare anyway, so that an unknown user takes as long.
            maybeDeferred(credentials.checkPassword, b"\0" * 16).addErrback(lambda _: None)
            return _unauthorized()
        d: Deferred[Any] = maybeDeferred(credentials.checkPassword, password)
        return d.addCallback(self._cbPasswordMatch, username)


class InMemoryUsernamePasswordDatabaseDontUse(InMemoryUsernamePasswordDatabase):
    """
    Twisted's name for :class:`InMemoryUsernamePasswordDatabase`, kept so
    that programs port unchanged.
    """


class PasswordFileError(ValueError):
    """
    A password file is malformed; the message names the file and the line.

    Attributes:
        filename: the file.
        lineNumber: the line (counting from 1), or ``None``.
    """

    def __init__(self, filename: str, lineNumber: int | None, message: str) -> None:
        where = filename if lineNumber is None else f"{filename}, line {lineNumber}"
        super().__init__(f"{where}: {message}")
        self.filename = filename
        self.lineNumber = lineNumber


class _Hashed:
    def __repr__(self) -> str:
        return "HASHED"


#: ``FilePasswordDB``'s default ``hash``: the file holds scrypt or bcrypt
#: hashes, verified with :func:`fw.cred.passwd.verifyPassword`.
HASHED: Final[Any] = _Hashed()

#: The longest line read from a password file.
MAX_LINE_LENGTH: Final = 64 * 1024

HashFunction = Callable[[bytes, bytes, bytes], bytes]


@implementer(ICredentialsChecker)
class FilePasswordDB:
    """
    Checks user names and passwords against a password file.

    The file has one user a line, fields separated by ``delim``: by default
    ``username:hash``, the hash made by ``python -m fw.cred.passwd`` (see
    :mod:`fw.cred.passwd` for the format).  Blank lines and lines starting
    with ``#`` are skipped.  A malformed line is an error naming the file
    and the line (:class:`PasswordFileError`): logged at login, and raised
    by :meth:`validate`.

    Args:
        filename: the password file.
        delim: the field separator.
        usernameField: the index of the user name field.
        passwordField: the index of the password (hash) field.
        caseSensitive: whether user names are case-sensitive; if not, the
            file's and the credentials' user names are lowercased.
        hash: how passwords are stored.  :data:`HASHED` (the default):
            scrypt or bcrypt hashes.  ``None``: plaintext, only when asked
            for by name (as ``plaintext=True`` does).  A callable
            ``hash(username, password, storedPassword)`` (Twisted's form):
            its result is compared with the stored password.
        cache: read the file once, on first use, instead of on every login.
        plaintext: the file holds plaintext passwords (the same as
            ``hash=None``).
        reactor: whose thread pool reads the file and verifies
            :data:`HASHED` passwords while that reactor runs (beyond
            Twisted, which hashes in the reactor thread): a scrypt
            verification takes tens of milliseconds, which would stall
            every other connection.  By default the installed reactor, if
            any.  When it is not running, the check is done at once and the
            Deferred has already fired.

    Attributes:
        credentialInterfaces: :class:`~fw.cred.credentials.IUsernamePassword`,
            and for a plaintext file
            :class:`~fw.cred.credentials.IUsernameHashedPassword` too.
    """

    credentialInterfaces: tuple[Any, ...]
    _credCache: dict[bytes, bytes] | None = None

    def __init__(
        self,
        filename: str | os.PathLike[str],
        delim: bytes = b":",
        usernameField: int = 0,
        passwordField: int = 1,
        caseSensitive: bool = True,
        hash: HashFunction | Any | None = HASHED,
        cache: bool = False,
        *,
        plaintext: bool = False,
        reactor: Any = None,
    ) -> None:
        self.filename = os.fspath(filename)
        self._reactor = reactor
        self.delim = delim
        self.ufield = usernameField
        self.pfield = passwordField
        self.caseSensitive = caseSensitive
        if plaintext:
            if hash is not HASHED and hash is not None:
                raise TypeError("plaintext=True and a hash function contradict each other")
            hash = None
        self.hash = hash
        self.cache = cache
        if hash is None:
            self.credentialInterfaces = (IUsernamePassword, IUsernameHashedPassword)
        else:
            self.credentialInterfaces = (IUsernamePassword,)

    def __repr__(self) -> str:
        kind = "plaintext" if self.hash is None else "hashed"
        return f"<FilePasswordDB {self.filename!r} {kind}>"

    def _loadCredentials(self) -> Iterator[tuple[bytes, bytes]]:
        """
        Yield ``(username, password)`` for each user in the file.

        Raises:
            PasswordFileError: a line is malformed.
            OSError: the file cannot be read.
        """
        width = max(self.ufield, self.pfield) + 1
        with open(self.filename, "rb") as f:
            for number, line in enumerate(f, 1):
                if len(line) > MAX_LINE_LENGTH:
                    raise PasswordFileError(
                        self.filename, number, f"line longer than {MAX_LINE_LENGTH} bytes"
                    )
                line = line.rstrip(b"\r\n")
                if not line.strip() or line.lstrip().startswith(b"#"):
                    continue
                parts = line.split(self.delim)
                if len(parts) < width:
                    raise PasswordFileError(
                        self.filename,
                        number,
                        f"expected at least {width} fields separated by {self.delim!r}, "
                        f"found {len(parts)}",
                    )
                username = parts[self.ufield]
                password = parts[self.pfield].rstrip()
                if not username:
                    raise PasswordFileError(self.filename, number, "empty user name")
                if self.hash is HASHED:
                    try:
                        _hashing.checkHash(password)
                    except _hashing.InvalidPasswordHash as e:
                        raise PasswordFileError(self.filename, number, str(e)) from None
                if not self.caseSensitive:
                    username = username.lower()
                yield username, password

    def validate(self) -> int:
        """
        Read the whole file and check every line; return the number of users.

        Raises:
            PasswordFileError: a line is malformed (the first one is named).
            OSError: the file cannot be read.
        """
        return sum(1 for _ in self._loadCredentials())

    def getUser(self, username: bytes) -> tuple[bytes, bytes]:
        """
        Return ``(username, password)`` from the file.

        Raises:
            KeyError: there is no such user.
            PasswordFileError: the file is malformed.
            OSError: the file cannot be read.
        """
        if not self.caseSensitive:
            username = username.lower()
        if self.cache:
            if self._credCache is None:
                self._credCache = dict(self._loadCredentials())
            return username, self._credCache[username]
        for user, password in self._loadCredentials():
            if hmac.compare_digest(user, username):
                return user, password
        raise KeyError(username)

    def _runningReactor(self) -> Any:
        reactor = self._reactor
        if reactor is None:
            # The installed reactor, without installing one.
            reactor = sys.modules.get("fw.internet.reactor")
        if reactor is not None and getattr(reactor, "running", False):
            return reactor
        return None

    def _checkHashed(self, username: bytes, password: bytes | str) -> bytes | None:
        """
        Return the user name if ``password`` is right, ``None`` if not (in a
        thread while the reactor runs).

        Raises:
            PasswordFileError: the file, or the user's hash, is malformed.
            OSError: the file cannot be read.
        """
        try:
            user, stored = self.getUser(username)
        except KeyError:
            _hashing.burnVerification(password)
            return None
        try:
            matched = _hashing.verifyPassword(password, stored)
        except _hashing.InvalidPasswordHash as e:
            raise PasswordFileError(self.filename, None, f"the hash of {user!r}: {e}") from e
        return user if matched else None

    def requestAvatarId(self, credentials: Any) -> Deferred[Any]:
        """
        Return the user name when the password matches the file, else fail
        with :class:`~fw.cred.error.UnauthorizedLogin` (also when the file
        cannot be read or is malformed, which is logged).
        """
        if self.hash is HASHED:
            username = _asBytes(credentials.username)
            password = credentials.password
            reactor = self._runningReactor()
            if reactor is None:
                d: Deferred[Any] = maybeDeferred(self._checkHashed, username, password)
            else:
                d = deferToThreadPool(
                    reactor, reactor.getThreadPool(), self._checkHashed, username, password
                )
            return d.addCallbacks(_matchedUser, _checkFailed)
        try:
            user, stored = self.getUser(_asBytes(credentials.username))
        except KeyError:
            return _unauthorized()
        except (OSError, PasswordFileError) as e:
            _log.error("cannot check a password: {error}", error=e)
            return _unauthorized()
        if self.hash is None:
            d = maybeDeferred(credentials.checkPassword, stored)
            return d.addCallback(_matched, user)
        hashed = self.hash(credentials.username, credentials.password, stored)
        return succeed(hmac.compare_digest(_asBytes(hashed), stored)).addCallback(_matched, user)
