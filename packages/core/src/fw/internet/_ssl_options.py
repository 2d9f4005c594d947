"""
TLS connection options: :class:`CertificateOptions` and what it is made of
(protocol versions, cipher suites, trust roots), and server name indication.

Private: :mod:`fw.internet.ssl` is the public module.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from OpenSSL import SSL, crypto
from zope.interface import Interface, implementer

from fw.internet._interfaces_transport import (
    IOpenSSLContextFactory,
    IOpenSSLServerConnectionCreator,
)
from fw.internet._ssl_certs import Certificate

__all__ = [
    "AcceptableCiphers",
    "CertificateOptions",
    "DiffieHellmanParameters",
    "IOpenSSLTrustRoot",
    "OpenSSLCertificateAuthorities",
    "OpenSSLDefaultPaths",
    "ServerNameIndication",
    "TLSVersion",
    "installRenegotiationGuard",
    "platformTrust",
    "trustRootFromCertificates",
]


class TLSVersion(enum.Enum):
    """TLS protocol versions, for :class:`CertificateOptions`' version bounds."""

    SSLv3 = SSL.SSL3_VERSION
    TLSv1_0 = SSL.TLS1_VERSION
    TLSv1_1 = SSL.TLS1_1_VERSION
    TLSv1_2 = SSL.TLS1_2_VERSION
    TLSv1_3 = SSL.TLS1_3_VERSION


# OpenSSL's SSL_MODE_ENABLE_PARTIAL_WRITE (ssl.h), which pyOpenSSL turns on
# for every context but does not export.
_SSL_MODE_ENABLE_PARTIAL_WRITE = 0x00000001

#: The lowest version fw accepts unless told otherwise (design: security defaults).
_DEFAULT_MINIMUM = TLSVersion.TLSv1_2

# TLS 1.2 cipher suites: forward secrecy and AEAD only (ECDHE/DHE with
# AES-GCM or ChaCha20-Poly1305), as in the common "intermediate" server
# configurations.  TLS 1.3's own suites are all of that kind already.
_MODERN_TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
)


class AcceptableCiphers:
    """
    The TLS 1.2 (and older) cipher suites a connection may use, as an
    OpenSSL cipher string.  (TLS 1.3 suites are OpenSSL's defaults, all
    strong.)
    """

    def __init__(self, cipherString: str) -> None:
        self.cipherString = cipherString

    @classmethod
    def fromOpenSSLCipherString(cls, cipherString: str) -> AcceptableCiphers:
        """The suites named by an OpenSSL cipher string such as ``"ECDHE+AESGCM"``."""
        return cls(cipherString)

    def __repr__(self) -> str:
        return f"AcceptableCiphers({self.cipherString!r})"


#: fw's default suites.
_DEFAULT_CIPHERS = AcceptableCiphers(_MODERN_TLS12_CIPHERS)


class DiffieHellmanParameters:
    """
    Finite-field Diffie-Hellman parameters for the DHE suites, from a PEM file
    (``openssl dhparam``).  ECDHE needs none.
    """

    def __init__(self, parameterFile: Any) -> None:
        self._dhFile = parameterFile

    @classmethod
    def fromFile(cls, filePath: Any) -> DiffieHellmanParameters:
        """Parameters from ``filePath`` (a path or a ``FilePath``)."""
        return cls(filePath)

    def _path(self) -> str:
        path = getattr(self._dhFile, "path", self._dhFile)
        return str(path)


class IOpenSSLTrustRoot(Interface):
    """The certificate authorities a TLS connection trusts."""

    def _addCACertsToContext(context: SSL.Context) -> None:
        """Make ``context`` trust these authorities."""


@implementer(IOpenSSLTrustRoot)
class OpenSSLCertificateAuthorities:
    """
    Trust exactly the given certificates (as authorities, or as the peers'
    own certificates).

    Args:
        caCerts: ``OpenSSL.crypto.X509`` objects.
    """

    def __init__(self, caCerts: Sequence[crypto.X509]) -> None:
        self._caCerts = list(caCerts)

    def _addCACertsToContext(self, context: SSL.Context) -> None:
        store = context.get_cert_store()
        assert store is not None
        for cert in self._caCerts:
            try:
                store.add_cert(cert)
            except crypto.Error:
                # The same certificate given twice is not an error here.
                pass


@implementer(IOpenSSLTrustRoot)
class OpenSSLDefaultPaths:
    """Trust the system's certificate authorities (OpenSSL's default paths)."""

    def _addCACertsToContext(self, context: SSL.Context) -> None:
        context.set_default_verify_paths()


def platformTrust() -> OpenSSLDefaultPaths:
    """The system's trusted certificate authorities."""
    return OpenSSLDefaultPaths()


def trustRootFromCertificates(certificates: Iterable[Certificate]) -> IOpenSSLTrustRoot:
    """
    A trust root of exactly ``certificates``.

    Raises:
        TypeError: an item is not a :class:`~fw.internet.ssl.Certificate`.
    """
    certs = []
    for cert in certificates:
        if not isinstance(cert, Certificate):
            raise TypeError(
                f"certificates must be fw.internet.ssl.Certificate objects, not {cert!r}"
            )
        certs.append(cert.original)
    return OpenSSLCertificateAuthorities(certs)


def _verifyCallback(
    conn: SSL.Connection, cert: crypto.X509, errno: int, depth: int, ok: int
) -> bool:
    """Keep OpenSSL's verdict, and remember why a certificate was refused."""
    if not ok and not hasattr(conn, "_fwVerifyFailure"):
        subject = cert.to_cryptography().subject.rfc4514_string()
        reason = _verifyErrorString(errno)
        conn._fwVerifyFailure = (  # type: ignore[attr-defined]
            f"{reason}, for the certificate of {subject or 'an unnamed subject'} "
            f"at depth {depth} of the chain"
        )
    return bool(ok)


def _verifyErrorString(errno: int) -> str:
    try:
        from OpenSSL._util import ffi, lib

        text = ffi.string(lib.X509_verify_cert_error_string(errno))
        return str(text.decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - a private binding that may move: fall back
        return f"X509 verification error {errno}"


@implementer(IOpenSSLContextFactory)
class CertificateOptions:
    """
    How TLS connections are set up: this end's certificate, what peers must
    present, which versions and cipher suites, ALPN.  Works for servers
    (``listenSSL``, ``ssl:`` endpoints, ``startTLS``) and as plain client
    options; clients should prefer :func:`~fw.internet.ssl.optionsForClientTLS`,
    which also checks the server's host name.

    The defaults are secure: TLS 1.2 and 1.3 only, no compression,
    forward-secret AEAD cipher suites only, no renegotiation.

    Args:
        privateKey: this end's private key (an ``OpenSSL.crypto.PKey``).
        certificate: this end's certificate (an ``OpenSSL.crypto.X509``).
        method: an ``OpenSSL.SSL`` method: deprecated by Twisted; use the
            version bounds.
        verify: whether to verify the peer's certificate (implied by
            ``trustRoot``).
        caCerts: the authorities to verify against (``X509`` objects; with
            ``verify``).
        verifyDepth: the longest chain accepted.
        requireCertificate: servers: refuse clients without a certificate
            (when verifying).
        verifyOnce: servers: ask for the client certificate only in the
            first handshake.
        enableSingleUseKeys: fresh ephemeral keys per handshake.
        enableSessions: server-side session caching.
        fixBrokenPeers: OpenSSL's work-arounds for old broken peers.
        enableSessionTickets: RFC 5077 session tickets.
        extraCertChain: intermediate certificates sent after ``certificate``.
        acceptableCiphers: an :class:`AcceptableCiphers`.
        dhParameters: :class:`DiffieHellmanParameters` for the DHE suites.
        trustRoot: an :class:`IOpenSSLTrustRoot` (see
            :func:`trustRootFromCertificates`, :func:`platformTrust`); implies
            ``verify``.
        acceptableProtocols: ALPN protocol names, most preferred first.
        raiseMinimumTo: a :class:`TLSVersion` above the default minimum.
        insecurelyLowerMinimumTo: a :class:`TLSVersion` below it (TLS 1.0
            and 1.1 are insecure; only for old peers you must serve).
        lowerMaximumSecurityTo: a :class:`TLSVersion` to cap the version at.

    Raises:
        ValueError: inconsistent arguments (a key without a certificate,
            ``verify`` without authorities...).
    """

    def __init__(
        self,
        privateKey: Any = None,
        certificate: Any = None,
        method: int | None = None,
        verify: bool = False,
        caCerts: Sequence[Any] | None = None,
        verifyDepth: int = 9,
        requireCertificate: bool = True,
        verifyOnce: bool = True,
        enableSingleUseKeys: bool = True,
        enableSessions: bool = False,
        fixBrokenPeers: bool = False,
        enableSessionTickets: bool = False,
        extraCertChain: Sequence[Any] | None = None,
        acceptableCiphers: AcceptableCiphers | None = None,
        dhParameters: DiffieHellmanParameters | None = None,
        trustRoot: Any = None,
        acceptableProtocols: Sequence[bytes] | None = None,
        raiseMinimumTo: TLSVersion | None = None,
        insecurelyLowerMinimumTo: TLSVersion | None = None,
        lowerMaximumSecurityTo: TLSVersion | None = None,
    ) -> None:
        if (privateKey is None) != (certificate is None):
            raise ValueError("Specify neither or both of privateKey and certificate")
        if extraCertChain and certificate is None:
            raise ValueError("extraCertChain needs a certificate and privateKey")
        if verify and caCerts is None and trustRoot is None:
            raise ValueError("verify=True needs caCerts or trustRoot: whom to trust")
        if caCerts is not None and trustRoot is not None:
            raise ValueError("give caCerts or trustRoot, not both")
        if insecurelyLowerMinimumTo is not None and raiseMinimumTo is not None:
            raise ValueError("give raiseMinimumTo or insecurelyLowerMinimumTo, not both")
        self.privateKey = _asPKey(privateKey)
        self.certificate = _asX509(certificate)
        if self.privateKey is not None and self.certificate is not None:
            mine = Certificate(self.certificate).getPublicKey()
            if not mine.matches(_publicOf(self.privateKey)):
                raise ValueError("the private key does not match the certificate")
        self.method = method
        if caCerts is not None:
            trustRoot = OpenSSLCertificateAuthorities([_asX509(c) for c in caCerts])
            verify = True
        if trustRoot is not None:
            if isinstance(trustRoot, Certificate):
                trustRoot = trustRootFromCertificates([trustRoot])
            verify = True
        self.trustRoot = trustRoot
        self.verify = verify
        self.verifyDepth = verifyDepth
        self.requireCertificate = requireCertificate
        self.verifyOnce = verifyOnce
        self.enableSingleUseKeys = enableSingleUseKeys
        self.enableSessions = enableSessions
        self.fixBrokenPeers = fixBrokenPeers
        self.enableSessionTickets = enableSessionTickets
        self.extraCertChain = [_asX509(c) for c in extraCertChain or ()]
        self.acceptableCiphers = acceptableCiphers or _DEFAULT_CIPHERS
        self.dhParameters = dhParameters
        self._acceptableProtocols = list(acceptableProtocols or ())
        minimum = _DEFAULT_MINIMUM
        if raiseMinimumTo is not None:
            minimum = max(minimum, raiseMinimumTo, key=lambda v: v.value)
        if insecurelyLowerMinimumTo is not None:
            minimum = insecurelyLowerMinimumTo
        if lowerMaximumSecurityTo is not None and lowerMaximumSecurityTo.value < minimum.value:
            raise ValueError(
                f"the maximum version {lowerMaximumSecurityTo.name} is below the "
                f"minimum {minimum.name}"
            )
        self._minimumVersion = minimum
        self._maximumVersion = lowerMaximumSecurityTo
        self._context: SSL.Context | None = None

    def getContext(self) -> SSL.Context:
        """The OpenSSL context (made once, then shared by every connection)."""
        if self._context is None:
            self._context = self._makeContext()
        return self._context

    def _makeContext(self) -> SSL.Context:
        ctx = SSL.Context(self.method if self.method is not None else SSL.TLS_METHOD)
        ctx.set_min_proto_version(self._minimumVersion.value)
        if self._maximumVersion is not None:
            ctx.set_max_proto_version(self._maximumVersion.value)
        options = SSL.OP_NO_COMPRESSION | SSL.OP_CIPHER_SERVER_PREFERENCE
        options |= getattr(SSL, "OP_NO_RENEGOTIATION", 0)
        if self.enableSingleUseKeys:
            options |= SSL.OP_SINGLE_DH_USE | SSL.OP_SINGLE_ECDH_USE
        if self.fixBrokenPeers:
            options |= SSL.OP_ALL
        if not self.enableSessionTickets:
            options |= SSL.OP_NO_TICKET
        ctx.set_options(options)
        # Memory BIOs never block: one SSL_write may encrypt a whole
        # application write (several records) instead of one record per call.
        ctx.clear_mode(_SSL_MODE_ENABLE_PARTIAL_WRITE)
        cipherString = self.acceptableCiphers.cipherString
        if self._minimumVersion.value < SSL.TLS1_2_VERSION:
            # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level.
            cipherString = "DEFAULT:@SECLEVEL=0"
        ctx.set_cipher_list(cipherString.encode("ascii"))
        if self.certificate is not None and self.privateKey is not None:
            ctx.use_certificate(self.certificate.to_cryptography())
            ctx.use_privatekey(self.privateKey.to_cryptography_key())
            for extra in self.extraCertChain:
                ctx.add_extra_chain_cert(extra.to_cryptography())
            ctx.check_privatekey()
        if self.verify:
            mode = SSL.VERIFY_PEER
            if self.requireCertificate:
                mode |= SSL.VERIFY_FAIL_IF_NO_PEER_CERT
            if self.verifyOnce:
                mode |= SSL.VERIFY_CLIENT_ONCE
            ctx.set_verify(mode, _verifyCallback)
            ctx.set_verify_depth(self.verifyDepth)
            self.trustRoot._addCACertsToContext(ctx)
            if self.trustRoot is not None and isinstance(
                self.trustRoot, OpenSSLCertificateAuthorities
            ):
                # Tell clients which authorities' certificates we accept.
                for ca in self.trustRoot._caCerts:
                    ctx.add_client_ca(ca.to_cryptography())
        else:
            ctx.set_verify(SSL.VERIFY_NONE)
        if self.enableSessions:
            ctx.set_session_id(b"fw")
            ctx.set_session_cache_mode(SSL.SESS_CACHE_SERVER)
        else:
            ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
        if self.dhParameters is not None:
            ctx.load_tmp_dh(self.dhParameters._path())
        if self._acceptableProtocols:
            _setAcceptableProtocols(ctx, self._acceptableProtocols)
        return ctx


def _setAcceptableProtocols(context: SSL.Context, protocols: Sequence[bytes]) -> None:
    """Offer (as a client) and choose among (as a server) ``protocols`` with ALPN."""
    ours = list(protocols)

    def select(conn: SSL.Connection, offered: list[bytes]) -> bytes | Any:
        for protocol in ours:
            if protocol in offered:
                return protocol
        # RFC 7301 section 3.2 says to refuse with no_application_protocol;
        # like most servers, carry on without ALPN instead.
        return SSL.NO_OVERLAPPING_PROTOCOLS

    context.set_alpn_select_callback(select)
    context.set_alpn_protos(ours)


def _asX509(cert: Any) -> Any:
    if cert is None or isinstance(cert, crypto.X509):
        return cert
    if isinstance(cert, Certificate):
        return cert.original
    if hasattr(cert, "public_bytes"):
        return crypto.X509.from_cryptography(cert)
    raise TypeError(f"not a certificate: {cert!r}")


def _asPKey(key: Any) -> Any:
    if key is None or isinstance(key, crypto.PKey):
        return key
    original = getattr(key, "original", None)
    if isinstance(original, crypto.PKey):
        return original
    return crypto.PKey.from_cryptography_key(key)


def _publicOf(pkey: crypto.PKey) -> Any:
    from fw.internet._ssl_certs import KeyPair

    return KeyPair(pkey)


@implementer(IOpenSSLServerConnectionCreator, IOpenSSLContextFactory)
class ServerNameIndication:
    """
    Server TLS options that present a different certificate for each server
    name a client asks for (SNI, RFC 6066 section 3).

    Example::

        sni = ServerNameIndication(
            {"a.example": aCert.options(), "*.b.example": bCert.options()},
            default=aCert.options(),
        )
        reactor.listenSSL(443, factory, sni)

    Args:
        mapping: server names (lowercase; ``*.`` wildcards match one label)
            to the options of each (anything with ``getContext``: a
            :class:`CertificateOptions`, a ``PrivateCertificate.options()``).
        default: the options for clients that send no name, or an unknown
            one; ``None`` refuses those clients.
        sniCallback: instead of (or before) ``mapping``, a function given the
            requested name (``str``) that returns options, or ``None`` to
            fall back to the mapping and the default.
    """

    def __init__(
        self,
        mapping: Mapping[str, Any] | None = None,
        default: Any = None,
        sniCallback: Callable[[str], Any] | None = None,
    ) -> None:
        self._mapping = {name.lower().rstrip("."): opts for name, opts in (mapping or {}).items()}
        self._default = default
        self._callback = sniCallback
        base = default if default is not None else next(iter(self._mapping.values()), None)
        if base is None:
            raise ValueError("ServerNameIndication needs a default or at least one name")
        self._base = base
        self._context: SSL.Context | None = None

    def optionsFor(self, serverName: str | None) -> Any:
        """The options for a client asking for ``serverName`` (``None``: no name)."""
        if serverName:
            name = serverName.lower().rstrip(".")
            if self._callback is not None:
                chosen = self._callback(name)
                if chosen is not None:
                    return chosen
            if name in self._mapping:
                return self._mapping[name]
            _, dot, rest = name.partition(".")
            if dot and f"*.{rest}" in self._mapping:
                return self._mapping[f"*.{rest}"]
        return self._default

    def getContext(self) -> SSL.Context:
        """The context connections start with; the name callback may switch it."""
        if self._context is None:
            ctx = self._base.getContext()
            ctx.set_tlsext_servername_callback(self._switch)
            self._context = ctx
        return self._context

    def _switch(self, connection: SSL.Connection) -> None:
        raw = connection.get_servername()
        name = raw.decode("idna") if raw else None
        chosen = self.optionsFor(name)
        if chosen is None:
            # Refuse: pyOpenSSL turns an exception here into a fatal alert.
            raise ValueError(f"no certificate for server name {name!r}")
        context = chosen.getContext()
        if context is not connection.get_context():
            connection.set_context(context)

    def serverConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        """A server connection starting with the default context."""
        connection = SSL.Connection(self.getContext(), None)
        connection.set_app_data(tlsProtocol)
        installRenegotiationGuard(connection, tlsProtocol)
        return connection


def installRenegotiationGuard(connection: SSL.Connection, tlsProtocol: Any) -> None:
    """
    Make ``connection`` end itself when its peer starts a renegotiation
    (TLS 1.2 and older; TLS 1.3 has none) once the first handshake is done.
    """

    def info(conn: SSL.Connection, where: int, ret: int) -> None:
        if not where & SSL.SSL_CB_HANDSHAKE_START:
            return
        try:
            if (
                getattr(tlsProtocol, "_handshakeDone", False)
                and conn.get_protocol_version() < SSL.TLS1_3_VERSION
            ):
                tlsProtocol._refuseRenegotiation()
        except Exception:  # noqa: BLE001 - an exception must not escape into OpenSSL
            tlsProtocol._refuseRenegotiation()

    connection.set_info_callback(info)
