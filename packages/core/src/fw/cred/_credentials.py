"""Credentials interfaces, and the simple credentials: passwords, anonymity, keys, CRAM-MD5."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import socket
import time

from zope.interface import Attribute, Interface, implementer

__all__ = [
    "Anonymous",
    "CramMD5Credentials",
    "IAnonymous",
    "ICredentials",
    "ISSHPrivateKey",
    "IUsernameDigestHash",
    "IUsernameHashedPassword",
    "IUsernamePassword",
    "SSHPrivateKey",
    "UsernameHashedPassword",
    "UsernamePassword",
]


class ICredentials(Interface):
    """
    Something a user offers to prove who they are.

    Every credentials interface extends this one; a checker says which it
    can verify in its ``credentialInterfaces``.
    """


class IUsernameDigestHash(ICredentials):
    """Credentials that can be checked against a stored digest hash (HTTP Digest's HA1)."""

    username = Attribute("The user name, as bytes.")

    def checkHash(digestHash: bytes) -> bool:
        """
        Return whether these credentials match ``digestHash``, the hex
        digest of ``username:realm:password`` in the credentials' algorithm.
        """


class IUsernameHashedPassword(ICredentials):
    """
    Credentials that can be checked against a plaintext password, but do not
    reveal it (a challenge-response, for example).
    """

    username = Attribute("The user name, as bytes.")

    def checkPassword(password: bytes) -> bool:
        """Return whether ``password`` is the password these credentials prove."""


class IUsernamePassword(ICredentials):
    """
    A user name and the plaintext password, as typed.

    A checker can compare the password with a stored one
    (``checkPassword``) or hash it to compare with a stored hash.
    """

    username = Attribute("The user name, as bytes.")
    password = Attribute("The password, as bytes.")

    def checkPassword(password: bytes) -> bool:
        """Return whether ``password`` is this password, compared in constant time."""


class IAnonymous(ICredentials):
    """No proof at all: the user wants anonymous access."""


class ISSHPrivateKey(ICredentials):
    """
    Proof of holding the private key of a public key (SSH's "publickey"
    method, RFC 4252 section 7).
    """

    username = Attribute("The user name, as bytes.")
    algName = Attribute("The key algorithm, as bytes (``b'ssh-ed25519'``...).")
    blob = Attribute("The public key, in SSH wire format.")
    sigData = Attribute("The data the signature is over, or ``None`` when the client only asks.")
    signature = Attribute("The signature, or ``None`` when the client only asks.")


@implementer(IUsernamePassword)
class UsernamePassword:
    """
    A user name and password, as the user typed them.

    Args:
        username: the user name.
        password: the password.
    """

    def __init__(self, username: bytes, password: bytes) -> None:
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        # The password is never shown.
        return f"<UsernamePassword {self.username!r}>"

    def checkPassword(self, password: bytes) -> bool:
        """Return whether ``password`` is this password, compared in constant time."""
        return _equal(self.password, password)


@implementer(IUsernameHashedPassword)
class UsernameHashedPassword:
    """
    A user name and a password "hashed" by some protocol step, checked by
    comparing it with a password the checker holds.

    Args:
        username: the user name.
        hashed: the value to compare the stored password with.
    """

    def __init__(self, username: bytes, hashed: bytes) -> None:
        self.username = username
        self.hashed = hashed

    def __repr__(self) -> str:
        return f"<UsernameHashedPassword {self.username!r}>"

    def checkPassword(self, password: bytes) -> bool:
        """Return whether ``password`` equals the hashed value, in constant time."""
        return _equal(self.hashed, password)


@implementer(IAnonymous)
class Anonymous:
    """Credentials of an anonymous user."""

    def __repr__(self) -> str:
        return "<Anonymous>"


@implementer(ISSHPrivateKey)
class SSHPrivateKey:
    """
    An SSH public key and, when the client proves it holds the private key,
    a signature.  The checker verifies the signature (fw.conch has one).

    Args:
        username: the user name.
        algName: the key's algorithm name.
        blob: the public key in SSH wire format.
        sigData: the signed data, or ``None``.
        signature: the signature of ``sigData``, or ``None``.
    """

    def __init__(
        self,
        username: bytes,
        algName: bytes,
        blob: bytes,
        sigData: bytes | None,
        signature: bytes | None,
    ) -> None:
        self.username = username
        self.algName = algName
        self.blob = blob
        self.sigData = sigData
        self.signature = signature

    def __repr__(self) -> str:
        return f"<SSHPrivateKey {self.username!r} {self.algName!r}>"


#: CRAM-MD5 responses are "user SP 32-hex-digits" (RFC 2195 section 2); user
#: names beyond this many bytes are refused rather than buffered.
MAX_CRAM_MD5_RESPONSE = 1024


@implementer(IUsernameHashedPassword)
class CramMD5Credentials:
    """
    CRAM-MD5 challenge and response (RFC 2195), as used by SMTP, IMAP and
    POP3 AUTH.

    The server sends :meth:`getChallenge`, hands the client's answer to
    :meth:`setResponse`, and a checker holding the plaintext password calls
    :meth:`checkPassword`.

    Args:
        host: the host name put in the challenge; the machine's name by
            default.

    Attributes:
        challenge: the challenge sent, once made.
        response: the client's HMAC-MD5 digest, in lowercase hex.
        username: the user name the client gave.
    """

    challenge = b""
    response = b""

    def __init__(self, host: bytes | str | None = None) -> None:
        if host is None:
            host = socket.gethostname()
        self.host = host.encode("idna") if isinstance(host, str) else host
        self.username: bytes | None = None

    def __repr__(self) -> str:
        return f"<CramMD5Credentials {self.username!r}>"

    def getChallenge(self) -> bytes:
        """
        Return the challenge, ``<random.timestamp@host>``; made once, then
        the same one is returned.
        """
        if not self.challenge:
            nonce = secrets.randbelow(2**63)
            self.challenge = b"<%d.%d.%d@%s>" % (nonce, os.getpid(), int(time.time()), self.host)
        return self.challenge

    def setResponse(self, response: bytes) -> None:
        """
        Take the client's response, ``username SP hex-digest``.

        Raises:
            ValueError: the response is malformed or too long.
        """
        if len(response) > MAX_CRAM_MD5_RESPONSE:
            raise ValueError(f"CRAM-MD5 response longer than {MAX_CRAM_MD5_RESPONSE} bytes")
        username, sep, digest = response.strip().rpartition(b" ")
        if not sep or not username:
            raise ValueError("CRAM-MD5 response is not 'username digest'")
        self.username = username
        self.response = digest.lower()

    def moreChallenges(self) -> bool:
        """Return ``False``: CRAM-MD5 has one challenge only."""
        return False

    def checkPassword(self, password: bytes) -> bool:
        """Return whether the response proves knowledge of ``password``."""
        expected = hmac.new(password, self.getChallenge(), hashlib.md5).hexdigest().encode("ascii")
        return _equal(expected, self.response)


def _equal(a: bytes | str, b: bytes | str) -> bool:
    # Constant time; text is compared as UTF-8 so that str and bytes mix.
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hmac.compare_digest(a, b)
