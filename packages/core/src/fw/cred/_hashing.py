"""
Password hashes for password files: scrypt (from :mod:`hashlib`) and bcrypt
(with the optional ``bcrypt`` package).

The scrypt format, defined by fw::

    $scrypt$n=16384,r=8,p=1$<salt>$<key>

``n`` (CPU/memory cost, a power of two), ``r`` (block size) and ``p``
(parallelism) are scrypt's parameters (RFC 7914); ``salt`` and ``key`` are
standard base64 without ``=`` padding; the key is 32 bytes long unless the
hash says otherwise by its length.  bcrypt hashes are the usual
``$2b$12$...`` (``$2a$`` and ``$2y$`` too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import importlib
import os
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "DEFAULT_SCRYPT_N",
    "DEFAULT_SCRYPT_P",
    "DEFAULT_SCRYPT_R",
    "InvalidPasswordHash",
    "UnsupportedPasswordHash",
    "hashPassword",
    "identifyHash",
    "verifyPassword",
]

#: scrypt's defaults: 16 MiB and about 50 ms a hash on a current CPU, the
#: parameters Django uses; a hash keeps its own parameters, so these can
#: grow without invalidating existing files.
DEFAULT_SCRYPT_N: Final = 2**14
DEFAULT_SCRYPT_R: Final = 8
DEFAULT_SCRYPT_P: Final = 1
_KEY_LENGTH: Final = 32
_SALT_LENGTH: Final = 16

# What a hash may ask of verification, so that a planted hash cannot make a
# login take gigabytes or minutes: n up to 2**20 with r up to 16 is 2 GiB.
_MAX_N: Final = 2**20
_MAX_R: Final = 16
_MAX_P: Final = 16
_MAX_MEMORY: Final = 2**31

#: bcrypt uses the first 72 bytes of a password only.
BCRYPT_MAX_PASSWORD: Final = 72
_BCRYPT_PREFIXES: Final = ("$2a$", "$2b$", "$2y$")


class InvalidPasswordHash(ValueError):
    """A stored password hash is malformed or has out-of-range parameters."""


class UnsupportedPasswordHash(InvalidPasswordHash):
    """
    A stored password hash uses a scheme this installation cannot verify
    (bcrypt without the ``bcrypt`` package: ``pip install fw-core[bcrypt]``).
    """


@dataclass(frozen=True, slots=True)
class _Scrypt:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def derive(self, password: bytes) -> bytes:
        return _scrypt(password, self.salt, self.n, self.r, self.p, len(self.key))


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # hashlib's default memory limit (32 MiB) is too small for some valid
    # parameters; allow what these need, plus slack.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), validate=True)


def _checkScryptParameters(n: int, r: int, p: int) -> None:
    if n < 2 or n & (n - 1) or n > _MAX_N:
        raise InvalidPasswordHash(f"scrypt n must be a power of two from 2 to {_MAX_N}, not {n}")
    if not 1 <= r <= _MAX_R:
        raise InvalidPasswordHash(f"scrypt r must be from 1 to {_MAX_R}, not {r}")
    if not 1 <= p <= _MAX_P:
        raise InvalidPasswordHash(f"scrypt p must be from 1 to {_MAX_P}, not {p}")
    if 128 * r * n > _MAX_MEMORY:
        raise InvalidPasswordHash("scrypt parameters need more than 2 GiB")


def _parseScrypt(hashed: str) -> _Scrypt:
    parts = hashed.split("$")
    # "", "scrypt", params, salt, key
    if len(parts) != 5 or parts[0] or parts[1] != "scrypt":
        raise InvalidPasswordHash("a scrypt hash is $scrypt$n=N,r=R,p=P$salt$key")
    params: dict[str, int] = {}
    for item in parts[2].split(","):
        name, sep, value = item.partition("=")
        if not sep or name not in ("n", "r", "p") or name in params:
            raise InvalidPasswordHash(f"bad scrypt parameter {item!r}")
        if not value.isdigit() or len(value) > 8:
            raise InvalidPasswordHash(f"bad scrypt parameter {item!r}")
        params[name] = int(value)
    if set(params) != {"n", "r", "p"}:
        raise InvalidPasswordHash("a scrypt hash needs n, r and p")
    _checkScryptParameters(params["n"], params["r"], params["p"])
    try:
        salt = _b64decode(parts[3])
        key = _b64decode(parts[4])
    except (binascii.Error, ValueError):
        raise InvalidPasswordHash("scrypt salt or key is not base64") from None
    if not 8 <= len(salt) <= 64:
        raise InvalidPasswordHash("scrypt salt must be 8 to 64 bytes")
    if not 16 <= len(key) <= 64:
        raise InvalidPasswordHash("scrypt key must be 16 to 64 bytes")
    return _Scrypt(params["n"], params["r"], params["p"], salt, key)


def _bcrypt() -> Any:
    try:
        return importlib.import_module("bcrypt")
    except ImportError:
        raise UnsupportedPasswordHash(
            "bcrypt hashes need the bcrypt package (pip install fw-core[bcrypt])"
        ) from None


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidPasswordHash("a password hash is ASCII text") from None
    return value


def _bytes(password: bytes | str) -> bytes:
    return password.encode("utf-8") if isinstance(password, str) else password


def identifyHash(hashed: bytes | str) -> str | None:
    """
    Return the scheme of a stored hash, ``"scrypt"`` or ``"bcrypt"``, or
    ``None`` when it is neither (a plaintext password, say).
    """
    text = hashed.decode("ascii", "replace") if isinstance(hashed, bytes) else hashed
    if text.startswith("$scrypt$"):
        return "scrypt"
    if text.startswith(_BCRYPT_PREFIXES):
        return "bcrypt"
    return None


def checkHash(hashed: bytes | str) -> str:
    """
    Check that ``hashed`` is a well-formed hash; return its scheme.

    Raises:
        InvalidPasswordHash: it is malformed, or not a hash at all.
        UnsupportedPasswordHash: it is bcrypt and bcrypt is not installed.
    """
    text = _text(hashed)
    scheme = identifyHash(text)
    if scheme == "scrypt":
        _parseScrypt(text)
    elif scheme == "bcrypt":
        _bcrypt()
        if len(text) != 60:
            raise InvalidPasswordHash("a bcrypt hash is 60 characters long")
    else:
        raise InvalidPasswordHash(
            "not a password hash (expected $scrypt$... or a bcrypt $2b$...; "
            "make one with python -m fw.cred.passwd)"
        )
    return scheme


def hashPassword(
    password: bytes | str,
    scheme: str = "scrypt",
    *,
    n: int = DEFAULT_SCRYPT_N,
    r: int = DEFAULT_SCRYPT_R,
    p: int = DEFAULT_SCRYPT_P,
    rounds: int = 12,
) -> str:
    """
    Hash a password for storing in a password file.

    Args:
        password: the password (text is encoded as UTF-8).
        scheme: ``"scrypt"`` (always available) or ``"bcrypt"`` (needs the
            ``bcrypt`` package).
        n: scrypt's cost, a power of two.
        r: scrypt's block size.
        p: scrypt's parallelism.
        rounds: bcrypt's cost (log2 of its rounds).

    Returns:
        The hash, as ASCII text.

    Raises:
        ValueError: an unknown scheme, bad parameters, or (bcrypt) a
            password longer than 72 bytes.
    """
    secret = _bytes(password)
    if scheme == "scrypt":
        _checkScryptParameters(n, r, p)
        salt = os.urandom(_SALT_LENGTH)
        key = _scrypt(secret, salt, n, r, p, _KEY_LENGTH)
        return f"$scrypt$n={n},r={r},p={p}${_b64encode(salt)}${_b64encode(key)}"
    if scheme == "bcrypt":
        if len(secret) > BCRYPT_MAX_PASSWORD:
            raise ValueError(f"bcrypt passwords are at most {BCRYPT_MAX_PASSWORD} bytes")
        bcrypt = _bcrypt()
        hashed: bytes = bcrypt.hashpw(secret, bcrypt.gensalt(rounds))
        return hashed.decode("ascii")
    raise ValueError(f"unknown password hash scheme {scheme!r} (scrypt or bcrypt)")


def verifyPassword(password: bytes | str, hashed: bytes | str) -> bool:
    """
    Return whether ``password`` matches the stored ``hashed``; the final
    comparison is constant-time.

    Raises:
        InvalidPasswordHash: ``hashed`` is malformed or not a hash.
        UnsupportedPasswordHash: ``hashed`` is bcrypt and bcrypt is not
            installed.
    """
    text = _text(hashed)
    secret = _bytes(password)
    scheme = checkHash(text)
    if scheme == "scrypt":
        parsed = _parseScrypt(text)
        return hmac.compare_digest(parsed.derive(secret), parsed.key)
    bcrypt = _bcrypt()
    # bcrypt only ever used the first 72 bytes; newer releases refuse more.
    try:
        return bool(bcrypt.checkpw(secret[:BCRYPT_MAX_PASSWORD], text.encode("ascii")))
    except ValueError as e:
        raise InvalidPasswordHash(f"bad bcrypt hash: {e}") from None


_dummy: str | None = None


def burnVerification(password: bytes | str) -> None:
    """
    Spend the time a verification takes, for a user who does not exist, so
    that the time of a refusal does not tell whether the user exists.
    """
    global _dummy
    if _dummy is None:
        _dummy = hashPassword(b"fw dummy password")
    verifyPassword(password, _dummy)
