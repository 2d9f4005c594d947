"""
``fwd finger``: a finger server (RFC 1288) answering from a users file.

The users file has one user per line, ``name: information`` (the format of
Twisted's finger tutorial); blank lines and lines starting with ``#`` are
ignored.  The file is read again when it changes, so users can be edited
while the server runs.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from fw.application import strports
from fw.application.service import IService
from fw.internet.protocol import ServerFactory
from fw.protocols.finger import Finger
from fw.python import usage

__all__ = ["FingerUsers", "Options", "UsersFileFinger", "makeService", "parseUsers"]

#: The largest users file read (1 MiB: far more than a users list; a bound
#: on what a mistaken path can make the server hold).
MAX_USERS_FILE = 1 << 20


def parseUsers(text: bytes) -> dict[bytes, bytes]:
    """Parse a users file: ``name: information`` lines."""
    users: dict[bytes, bytes] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue
        name, _, info = line.partition(b":")
        users[name.strip()] = info.strip()
    return users


class FingerUsers:
    """
    The users of a users file, read again whenever its modification time
    or size changes.

    Args:
        path: the users file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._users: dict[bytes, bytes] = {}
        self.users()

    def users(self) -> dict[bytes, bytes]:
        """The users, by name."""
        stat = os.stat(self.path)
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            with open(self.path, "rb") as f:
                data = f.read(MAX_USERS_FILE + 1)
            if len(data) > MAX_USERS_FILE:
                raise ValueError(f"{self.path} is larger than {MAX_USERS_FILE} bytes")
            self._users = parseUsers(data)
            self._stamp = stamp
        return self._users


class UsersFileFinger(Finger):
    """Answers a query for a user from the factory's users file."""

    factory: Any

    def getUser(self, slash_w: bool, user: bytes) -> None:
        """Write the user's information, or "No such user"."""
        assert self.transport is not None
        try:
            users = self.factory.users.users()
        except (OSError, ValueError):
            self.transport.write(b"The users file cannot be read\r\n")
        else:
            info = users.get(user)
            if info is None:
                self.transport.write(b"Login: " + user + b"\r\nNo such user\r\n")
            else:
                self.transport.write(b"Login: " + user + b"\r\n" + info + b"\r\n")
        self.transport.loseConnection()

    def getDomain(self, slash_w: bool) -> None:
        """List the users when --list was given, else refuse."""
        if not self.factory.listUsers:
            super().getDomain(slash_w)
            return
        assert self.transport is not None
        for name in sorted(self.factory.users.users()):
            self.transport.write(name + b"\r\n")
        self.transport.loseConnection()


class Options(usage.Options):
    """A finger server answering from a users file of 'name: information' lines."""

    synopsis = "--file USERS [--listen ENDPOINT] [--list]"

    optParameters: ClassVar[list[list[Any]]] = [
        ["file", "f", None, "The users file: one 'name: information' line per user."],
        ["listen", None, "tcp:79", "The endpoint to listen on (port 79 needs root)."],
    ]
    optFlags: ClassVar[list[list[Any]]] = [
        ["list", None, "Answer an empty query with the list of users."]
    ]

    def postOptions(self) -> None:
        """Check that the users file is given and readable."""
        if not self["file"]:
            raise usage.UsageError("--file is required")
        if not os.access(self["file"], os.R_OK):
            raise usage.UsageError(f"cannot read the users file {self['file']}")
        self["file"] = os.path.abspath(self["file"])


def makeService(config: Any) -> IService:
    """A service listening with a finger server for the users file."""
    factory = ServerFactory.forProtocol(UsersFileFinger)
    factory.users = FingerUsers(config["file"])  # type: ignore[attr-defined]
    factory.listUsers = bool(config["list"])  # type: ignore[attr-defined]
    return strports.service(config["listen"], factory)
