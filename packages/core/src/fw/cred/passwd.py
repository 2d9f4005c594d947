"""
Password hashes for :class:`~fw.cred.checkers.FilePasswordDB` files, and a
command to make them.

A password file has one ``username:hash`` a line.  Hashes are scrypt by
default, in fw's format::

    $scrypt$n=16384,r=8,p=1$<salt>$<key>

where ``n``, ``r`` and ``p`` are scrypt's cost, block size and parallelism
(RFC 7914), and the 16-byte salt and the 32-byte key are base64 without
``=`` padding.  bcrypt hashes (``$2b$12$...``, as made by ``htpasswd -B``
and most tools) are accepted too when the ``bcrypt`` package is installed
(``pip install fw-core[bcrypt]``).

From the shell::

    python -m fw.cred.passwd alice                   # prints alice:$scrypt$...
    python -m fw.cred.passwd -f /etc/fw/passwd alice  # adds or replaces alice
    python -m fw.cred.passwd --scheme bcrypt --stdin alice < pw.txt

The password is asked for (twice) on the terminal, or read from the first
line of standard input with ``--stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
from collections.abc import Sequence

from fw.cred._hashing import (
    DEFAULT_SCRYPT_N,
    DEFAULT_SCRYPT_P,
    DEFAULT_SCRYPT_R,
    InvalidPasswordHash,
    UnsupportedPasswordHash,
    checkHash,
    hashPassword,
    identifyHash,
    verifyPassword,
)

__all__ = [
    "DEFAULT_SCRYPT_N",
    "DEFAULT_SCRYPT_P",
    "DEFAULT_SCRYPT_R",
    "InvalidPasswordHash",
    "UnsupportedPasswordHash",
    "checkHash",
    "hashPassword",
    "identifyHash",
    "main",
    "setPassword",
    "verifyPassword",
]


def setPassword(path: str | os.PathLike[str], username: str, hashed: str) -> None:
    """
    Add ``username:hashed`` to the password file at ``path``, replacing the
    user's line if there is one.  The file is replaced atomically and made
    readable by its owner only when it is new.

    Raises:
        ValueError: the user name contains ``:`` or a line break.
    """
    if not username or any(c in username for c in ":\r\n"):
        raise ValueError("a user name must be non-empty, without ':' or line breaks")
    path = os.fspath(path)
    lines: list[bytes] = []
    mode = 0o600
    try:
        with open(path, "rb") as f:
            lines = f.read().splitlines()
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        pass
    entry = username.encode("utf-8") + b":" + hashed.encode("ascii")
    prefix = username.encode("utf-8") + b":"
    replaced = False
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            lines[i] = entry
            replaced = True
    if not replaced:
        lines.append(entry)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".passwd-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _readPassword(fromStdin: bool) -> str:
    if fromStdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m fw.cred.passwd``; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m fw.cred.passwd",
        description="Hash a password for an fw password file (fw.cred.checkers.FilePasswordDB).",
    )
    parser.add_argument("username")
    parser.add_argument("-f", "--file", help="add or replace the user in this password file")
    parser.add_argument("--scheme", choices=["scrypt", "bcrypt"], default="scrypt")
    parser.add_argument("--stdin", action="store_true", help="read the password from stdin")
    parser.add_argument("--scrypt-n", type=int, default=DEFAULT_SCRYPT_N, help="scrypt cost")
    parser.add_argument("--bcrypt-rounds", type=int, default=12, help="bcrypt cost")
    options = parser.parse_args(argv)
    if any(c in options.username for c in ":\r\n"):
        parser.error("a user name cannot contain ':' or line breaks")
    password = _readPassword(options.stdin)
    if not password:
        parser.error("the password is empty")
    try:
        hashed = hashPassword(
            password, options.scheme, n=options.scrypt_n, rounds=options.bcrypt_rounds
        )
    except ValueError as e:
        parser.error(str(e))
    if options.file:
        setPassword(options.file, options.username, hashed)
    else:
        print(f"{options.username}:{hashed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
