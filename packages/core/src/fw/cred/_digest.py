"""
HTTP Digest authentication (RFC 7616): the server's challenges and the
client's credentials.

The challenge's ``opaque`` carries the nonce, the client's address and the
time, authenticated with a key that lives only in the factory, so no
per-client state is kept: a response is valid for
``DigestCredentialFactory.CHALLENGE_LIFETIME_SECS`` from the same address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, Final

from zope.interface import implementer

from fw.cred import error
from fw.cred._credentials import IUsernameDigestHash, IUsernameHashedPassword

__all__ = [
    "DigestCredentialFactory",
    "DigestedCredentials",
    "calcHA1",
    "calcHA2",
    "calcResponse",
]


def _sha512_256() -> Any:
    return hashlib.new("sha512_256")


#: RFC 7616 section 6.1's algorithms (the "-sess" variants hash the same
#: way; they differ in how HA1 is made).  Keys are lowercase.
_HASHES: Final[dict[bytes, Callable[[], Any]]] = {
    b"md5": hashlib.md5,
    b"md5-sess": hashlib.md5,
    b"sha-256": hashlib.sha256,
    b"sha-256-sess": hashlib.sha256,
    b"sha-512-256": _sha512_256,
    b"sha-512-256-sess": _sha512_256,
}

#: The longest Authorization header value ``decode`` parses.  Real clients
#: send a few hundred bytes; the limit bounds the work a peer can cause.
MAX_RESPONSE_LENGTH: Final = 8192

#: The most parameters a response may carry (RFC 7616 defines 12).
MAX_PARAMETERS: Final = 32


def _canonical(algorithm: bytes) -> bytes:
    # RFC 7616 section 6.1 spells them in upper case ("MD5", "SHA-256-sess");
    # some clients (Python's urllib) compare case-sensitively.
    name = algorithm.upper()
    return name[:-5] + b"-sess" if name.endswith(b"-SESS") else name


def _hasher(algorithm: bytes) -> Callable[[], Any]:
    try:
        return _HASHES[algorithm.lower()]
    except KeyError:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}") from None


def _hex(algorithm: bytes, data: bytes) -> bytes:
    h = _hasher(algorithm)()
    h.update(data)
    return h.hexdigest().encode("ascii")  # type: ignore[no-any-return]


def calcHA1(
    pszAlg: bytes,
    pszUserName: bytes,
    pszRealm: bytes,
    pszPassword: bytes,
    pszNonce: bytes,
    pszCNonce: bytes | None,
    preHA1: bytes | None = None,
) -> bytes:
    """
    Compute HA1 (RFC 7616 section 3.4.2), as lowercase hex.

    Args:
        pszAlg: the algorithm (``b"MD5"``, ``b"SHA-256-sess"``...).
        pszUserName: the user name.
        pszRealm: the realm.
        pszPassword: the password (ignored when ``preHA1`` is given).
        pszNonce: the server's nonce (used by the "-sess" algorithms).
        pszCNonce: the client's nonce (used by the "-sess" algorithms).
        preHA1: ``H(username:realm:password)`` already computed, in hex.

    Raises:
        ValueError: the algorithm is not supported, or a "-sess" algorithm
            lacks a client nonce.
    """
    if preHA1 is None:
        ha1 = _hex(pszAlg, b":".join((pszUserName, pszRealm, pszPassword)))
    else:
        _hasher(pszAlg)
        ha1 = preHA1.lower()
    if pszAlg.lower().endswith(b"-sess"):
        if not pszCNonce:
            raise ValueError("a -sess digest algorithm needs a client nonce")
        ha1 = _hex(pszAlg, b":".join((ha1, pszNonce, pszCNonce)))
    return ha1


def calcHA2(
    algo: bytes,
    pszMethod: bytes,
    pszDigestUri: bytes,
    pszQop: bytes | None,
    pszHEntity: bytes | None,
) -> bytes:
    """
    Compute HA2 (RFC 7616 section 3.4.3), as lowercase hex.

    Args:
        algo: the algorithm.
        pszMethod: the request method.
        pszDigestUri: the ``uri`` parameter.
        pszQop: the quality of protection, ``b"auth"`` or ``b"auth-int"``.
        pszHEntity: for ``auth-int``, the hash of the body, in hex.
    """
    parts = [pszMethod, pszDigestUri]
    if pszQop == b"auth-int":
        parts.append(pszHEntity or b"")
    return _hex(algo, b":".join(parts))


def calcResponse(
    HA1: bytes,
    HA2: bytes,
    algo: bytes,
    pszNonce: bytes,
    pszNonceCount: bytes | None,
    pszCNonce: bytes | None,
    pszQop: bytes | None,
) -> bytes:
    """Compute the ``response`` parameter (RFC 7616 section 3.4.1), as lowercase hex."""
    if pszNonceCount and pszCNonce and pszQop:
        data = b":".join((HA1, pszNonce, pszNonceCount, pszCNonce, pszQop, HA2))
    else:
        # RFC 2069 compatibility, without qop.
        data = b":".join((HA1, pszNonce, HA2))
    return _hex(algo, data)


@implementer(IUsernameHashedPassword, IUsernameDigestHash)
class DigestedCredentials:
    """
    The credentials of an HTTP Digest ``Authorization`` header, made by
    :meth:`DigestCredentialFactory.decode`.

    Args:
        username: the user name.
        method: the HTTP method of the request.
        realm: the realm the factory challenges for.
        fields: the header's parameters.
    """

    def __init__(self, username: bytes, method: bytes, realm: bytes, fields: dict[str, bytes]):
        self.username = username
        self.method = method
        self.realm = realm
        self.fields = fields

    def __repr__(self) -> str:
        return f"<DigestedCredentials {self.username!r} realm={self.realm!r}>"

    def _expected(self, password: bytes | None, preHA1: bytes | None) -> bytes:
        f = self.fields
        algo = f.get("algorithm", b"md5")
        qop = f.get("qop")
        nonce = f.get("nonce", b"")
        ha1 = calcHA1(
            algo, self.username, self.realm, password or b"", nonce, f.get("cnonce"), preHA1
        )
        ha2 = calcHA2(algo, self.method, f.get("uri", b""), qop, None)
        return calcResponse(ha1, ha2, algo, nonce, f.get("nc"), f.get("cnonce"), qop)

    def checkPassword(self, password: bytes) -> bool:
        """Return whether the response was made with ``password``; constant time."""
        try:
            expected = self._expected(password, None)
        except ValueError:
            return False
        return hmac.compare_digest(expected, self.fields.get("response", b"").lower())

    def checkHash(self, digestHash: bytes) -> bool:
        """Return whether the response was made from ``digestHash`` (the hex HA1)."""
        try:
            expected = self._expected(None, digestHash)
        except ValueError:
            return False
        return hmac.compare_digest(expected, self.fields.get("response", b"").lower())


def _parseParameters(header: bytes) -> dict[str, bytes]:
    """
    Parse ``name=token, name="quoted \\" string"`` (RFC 7235 auth-params).

    Raises:
        error.LoginFailed: malformed, duplicated or too many parameters.
    """
    fields: dict[str, bytes] = {}
    i, n = 0, len(header)
    while True:
        while i < n and header[i] in b" \t,":
            i += 1
        if i >= n:
            return fields
        start = i
        while i < n and header[i] not in b'= \t,"':
            i += 1
        name = header[start:i].decode("ascii", "replace").lower()
        while i < n and header[i] in b" \t":
            i += 1
        if not name or i >= n or header[i] != ord("="):
            raise error.LoginFailed("Invalid response, malformed parameter list.")
        i += 1
        while i < n and header[i] in b" \t":
            i += 1
        if i < n and header[i] == ord('"'):
            i += 1
            value = bytearray()
            while True:
                if i >= n:
                    raise error.LoginFailed("Invalid response, unterminated quoted string.")
                c = header[i]
                if c == ord('"'):
                    i += 1
                    break
                if c == ord("\\") and i + 1 < n:
                    i += 1
                    c = header[i]
                value.append(c)
                i += 1
            parsed = bytes(value)
        else:
            start = i
            while i < n and header[i] not in b" \t,":
                i += 1
            parsed = header[start:i]
        while i < n and header[i] in b" \t":
            i += 1
        if i < n and header[i] != ord(","):
            raise error.LoginFailed("Invalid response, parameters must be separated by commas.")
        if name in fields:
            raise error.LoginFailed(f"Invalid response, parameter {name!r} given twice.")
        if len(fields) >= MAX_PARAMETERS:
            raise error.LoginFailed("Invalid response, too many parameters.")
        fields[name] = parsed


def _addressBytes(address: object) -> bytes:
    # An IAddress with a host, or the host itself.
    host = getattr(address, "host", address)
    if host is None:
        return b""
    if isinstance(host, str):
        return host.encode("ascii", "replace")
    if isinstance(host, bytes):
        return host
    return str(host).encode("ascii", "replace")


class DigestCredentialFactory:
    """
    Makes HTTP Digest challenges and turns responses into credentials
    (RFC 7616; RFC 2617's MD5 too).

    Args:
        algorithm: ``b"md5"``, ``b"md5-sess"``, ``b"sha-256"``,
            ``b"sha-256-sess"``, ``b"sha-512-256"`` or
            ``b"sha-512-256-sess"`` (any case).  A response must use this
            algorithm: a client cannot pick a weaker one.
        authenticationRealm: the realm, shown to users.

    Attributes:
        scheme: the authentication scheme's name, ``b"digest"``.
        CHALLENGE_LIFETIME_SECS: how long a challenge can be answered.
        maxResponseLength: the longest header value :meth:`decode` parses.
    """

    scheme = b"digest"
    CHALLENGE_LIFETIME_SECS = 15 * 60
    maxResponseLength = MAX_RESPONSE_LENGTH

    def __init__(self, algorithm: bytes | str, authenticationRealm: bytes | str) -> None:
        if isinstance(algorithm, str):
            algorithm = algorithm.encode("ascii")
        if isinstance(authenticationRealm, str):
            authenticationRealm = authenticationRealm.encode("utf-8")
        _hasher(algorithm)
        self.algorithm = algorithm
        self.authenticationRealm = authenticationRealm
        self.privateKey = secrets.token_bytes(32)

    def _getTime(self) -> float:
        return time.time()

    def _generateNonce(self) -> bytes:
        return secrets.token_hex(16).encode("ascii")

    def _sign(self, key: bytes) -> bytes:
        return hmac.new(self.privateKey, key, hashlib.sha256).hexdigest().encode("ascii")

    def _generateOpaque(self, nonce: bytes, clientip: object) -> bytes:
        key = b",".join((nonce, _addressBytes(clientip), b"%d" % int(self._getTime())))
        return self._sign(key) + b"-" + base64.b64encode(key)

    def getChallenge(self, address: object) -> dict[str, bytes]:
        """
        Return a new challenge's parameters, for a ``WWW-Authenticate:
        Digest`` header: ``nonce``, ``opaque``, ``qop``, ``algorithm`` and
        ``realm``.

        Args:
            address: the client's address (an ``IAddress`` with a ``host``,
                or the host as text or bytes, or ``None``); a response is
                accepted from that address only.
        """
        nonce = self._generateNonce()
        return {
            "nonce": nonce,
            "opaque": self._generateOpaque(nonce, address),
            "qop": b"auth",
            "algorithm": _canonical(self.algorithm),
            "realm": self.authenticationRealm,
        }

    def _verifyOpaque(self, opaque: bytes, nonce: bytes, clientip: object) -> bool:
        """
        Check that ``opaque`` is one this factory made, for ``nonce`` and
        ``clientip``, and is not too old.

        Raises:
            error.LoginFailed: it is not.
        """
        signature, sep, encoded = opaque.partition(b"-")
        if not sep:
            raise error.LoginFailed("Invalid response, invalid opaque value")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise error.LoginFailed("Invalid response, invalid opaque value") from None
        if not hmac.compare_digest(self._sign(key), signature):
            raise error.LoginFailed("Invalid response, invalid opaque value")
        parts = key.split(b",")
        if len(parts) != 3:
            raise error.LoginFailed("Invalid response, invalid opaque value")
        madeFor, address, when = parts
        if not hmac.compare_digest(madeFor, nonce):
            raise error.LoginFailed("Invalid response, incompatible opaque/nonce values")
        if not hmac.compare_digest(address, _addressBytes(clientip)):
            raise error.LoginFailed("Invalid response, incompatible opaque/client address values")
        try:
            made = int(when)
        except ValueError:
            raise error.LoginFailed("Invalid response, invalid opaque value") from None
        age = self._getTime() - made
        if age > self.CHALLENGE_LIFETIME_SECS or age < -60:
            raise error.LoginFailed("Invalid response, incompatible opaque/nonce too old")
        return True

    def decode(self, response: bytes, method: bytes, host: object) -> DigestedCredentials:
        """
        Turn an ``Authorization`` header's value (without the ``Digest``
        scheme word) into credentials.

        Args:
            response: the parameters: ``username="..", nonce="..", ...``.
            method: the request's method.
            host: the client's address, as given to :meth:`getChallenge`.

        Raises:
            error.LoginFailed: the response is malformed, too long, answers
                a challenge this factory did not make (or made for another
                address, or too long ago), or uses another algorithm or a
                quality of protection other than ``auth``.
        """
        if len(response) > self.maxResponseLength:
            raise error.LoginFailed(
                f"Invalid response, longer than {self.maxResponseLength} bytes."
            )
        fields = _parseParameters(b" ".join(response.splitlines()))
        username = fields.get("username")
        if not username:
            raise error.LoginFailed("Invalid response, no username given.")
        for required in ("opaque", "nonce", "response"):
            if required not in fields:
                raise error.LoginFailed(f"Invalid response, no {required} given.")
        if fields.get("userhash", b"false").lower() != b"false":
            raise error.LoginFailed("Invalid response, userhash is not supported.")
        algorithm = fields.get("algorithm", b"md5")
        if algorithm.lower() != self.algorithm.lower():
            raise error.LoginFailed(f"Invalid response, algorithm {algorithm!r} was not offered.")
        # RFC 7616 section 3.4: the client answers with the qop offered.
        if fields.get("qop", b"").lower() != b"auth":
            raise error.LoginFailed("Invalid response, qop=auth is required.")
        if not (fields.get("cnonce") and fields.get("nc")):
            raise error.LoginFailed("Invalid response, no cnonce or nc given.")
        self._verifyOpaque(fields["opaque"], fields["nonce"], host)
        return DigestedCredentials(username, method, self.authenticationRealm, fields)
