"""fw-core's ``--auth`` checker factories (the ``fw.cred.checkers`` entry-point group)."""

from __future__ import annotations

from typing import Any

from zope.interface import implementer

from fw.cred import checkers
from fw.cred.credentials import IAnonymous, IUsernameHashedPassword, IUsernamePassword
from fw.cred.strcred import ICheckerFactory, InvalidAuthArgumentString

__all__ = [
    "AnonymousCheckerFactory",
    "FileCheckerFactory",
    "InMemoryCheckerFactory",
    "theAnonymousCheckerFactory",
    "theFileCheckerFactory",
    "theInMemoryCheckerFactory",
]


@implementer(ICheckerFactory)
class InMemoryCheckerFactory:
    """``--auth memory:alice:secret:bob:pw``: users and passwords from the command line."""

    authType = "memory"
    authHelp = (
        "A checker that uses an in-memory user database.\n\n"
        "This is only of use in one-off test programs or examples which "
        "don't want to focus too much on how credentials are verified.  "
        "Passwords on a command line are visible to other local users: "
        "use --auth file: for anything real."
    )
    argStringFormat = "A colon-separated list (name:password:...)"
    credentialInterfaces = (IUsernamePassword, IUsernameHashedPassword)

    def generateChecker(self, argstring: str) -> Any:
        """Return an in-memory checker holding the users of ``argstring``."""
        checker = checkers.InMemoryUsernamePasswordDatabaseDontUse()
        if argstring:
            pieces = argstring.split(":")
            if len(pieces) % 2:
                raise InvalidAuthArgumentString(
                    "memory: needs name:password pairs (name:password:name2:password2...)"
                )
            for i in range(0, len(pieces), 2):
                if not pieces[i]:
                    raise InvalidAuthArgumentString("memory: a user name is empty")
                checker.addUser(pieces[i].encode("utf-8"), pieces[i + 1].encode("utf-8"))
        return checker


@implementer(ICheckerFactory)
class FileCheckerFactory:
    """``--auth file:/etc/fw/passwd``: a password file of hashed passwords."""

    authType = "file"
    authHelp = (
        "A checker that uses a password file of username:hash lines, the "
        "hashes scrypt (or bcrypt, with the bcrypt package) as made by "
        "'python -m fw.cred.passwd'.  The file is read at each login, so "
        "changes take effect at once; it is checked when the server starts."
    )
    argStringFormat = "Location of a FilePasswordDB-formatted file."
    credentialInterfaces = (IUsernamePassword,)

    def generateChecker(self, argstring: str) -> Any:
        """
        Return a :class:`~fw.cred.checkers.FilePasswordDB` for the file,
        after checking every line of it.

        Raises:
            InvalidAuthArgumentString: no file name, or the file cannot be
                read or is malformed (the message names the line).
        """
        if not argstring.strip():
            raise InvalidAuthArgumentString("file: needs the password file's name")
        checker = checkers.FilePasswordDB(argstring)
        try:
            checker.validate()
        except (OSError, checkers.PasswordFileError) as e:
            raise InvalidAuthArgumentString(f"file: {e}") from e
        return checker


@implementer(ICheckerFactory)
class AnonymousCheckerFactory:
    """``--auth anonymous``: let anyone in."""

    authType = "anonymous"
    authHelp = "A checker that lets anyone in, as the anonymous avatar."
    argStringFormat = "No argstring required."
    credentialInterfaces = (IAnonymous,)

    def generateChecker(self, argstring: str = "") -> Any:
        """Return an :class:`~fw.cred.checkers.AllowAnonymousAccess`."""
        if argstring:
            raise InvalidAuthArgumentString("anonymous takes no argument")
        return checkers.AllowAnonymousAccess()


theInMemoryCheckerFactory = InMemoryCheckerFactory()
theFileCheckerFactory = FileCheckerFactory()
theAnonymousCheckerFactory = AnonymousCheckerFactory()
