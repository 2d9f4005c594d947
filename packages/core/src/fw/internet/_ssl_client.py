"""
TLS clients that check whom they talk to (:func:`optionsForClientTLS`), and
the older context factories kept for code ported from Twisted.

Private: :mod:`fw.internet.ssl` is the public module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import idna
from OpenSSL import SSL
from zope.interface import implementer

from fw.internet._interfaces_transport import (
    IOpenSSLClientConnectionCreator,
    IOpenSSLContextFactory,
)
from fw.internet._ssl_certs import PrivateCertificate
from fw.internet._ssl_options import CertificateOptions, platformTrust
from fw.internet.abstract import isIPAddress, isIPv6Address
from fw.python.failure import Failure

__all__ = [
    "ClientContextFactory",
    "ClientTLSOptions",
    "ContextFactory",
    "DefaultOpenSSLContextFactory",
    "optionsForClientTLS",
]


def _isIP(hostname: str) -> bool:
    return isIPAddress(hostname) or isIPv6Address(hostname)


@implementer(IOpenSSLClientConnectionCreator)
class ClientTLSOptions:
    """
    Client connections that check the server's certificate is for
    ``hostname`` (with ``service_identity``, RFC 6125), and send it as the
    SNI server name (not for IP addresses, as RFC 6066 says).

    Made by :func:`optionsForClientTLS`; the context should already verify
    the certificate chain.

    Args:
        hostname: the name (or IP address) the server must prove it is.
        ctx: the ``OpenSSL.SSL.Context`` to make connections from.
    """

    def __init__(self, hostname: str, ctx: SSL.Context) -> None:
        self._hostname = hostname
        self._ctx = ctx
        if _isIP(hostname):
            self._hostnameBytes: bytes | None = None
        else:
            try:
                self._hostnameBytes = idna.encode(hostname)
            except idna.IDNAError:
                self._hostnameBytes = hostname.encode("ascii", "replace")

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        """A client connection whose handshake ends with the host name check."""
        connection = SSL.Connection(self._ctx, None)
        connection.set_app_data(tlsProtocol)
        if self._hostnameBytes is not None:
            connection.set_tlsext_host_name(self._hostnameBytes)
        hostname = self._hostname
        checked = False

        def info(conn: SSL.Connection, where: int, ret: int) -> None:
            nonlocal checked
            if not where & SSL.SSL_CB_HANDSHAKE_DONE or checked:
                return
            checked = True
            try:
                _verifyName(conn, hostname)
            except Exception:  # noqa: BLE001 - the reason goes to connectionLost
                failVerification = getattr(tlsProtocol, "failVerification", None)
                if failVerification is not None:
                    failVerification(Failure())

        connection.set_info_callback(info)
        return connection


def _verifyName(connection: SSL.Connection, hostname: str) -> None:
    from service_identity import pyopenssl

    if _isIP(hostname):
        pyopenssl.verify_ip_address(connection, hostname.split("%", 1)[0])
    else:
        pyopenssl.verify_hostname(connection, hostname)


def optionsForClientTLS(
    hostname: str,
    trustRoot: Any = None,
    clientCertificate: PrivateCertificate | None = None,
    acceptableProtocols: Sequence[bytes] | None = None,
    *,
    extraCertificateOptions: dict[str, Any] | None = None,
) -> ClientTLSOptions:
    """
    Options for a TLS client connecting to ``hostname``: the server's
    certificate must chain to ``trustRoot`` (the system's authorities by
    default) and be valid for ``hostname`` (a name or an IP address).

    Args:
        hostname: the server's name, as the user gave it (text, not bytes).
        trustRoot: whom to trust: :func:`~fw.internet.ssl.platformTrust`
            (the default), :func:`~fw.internet.ssl.trustRootFromCertificates`,
            or a :class:`~fw.internet.ssl.Certificate`.
        clientCertificate: a :class:`~fw.internet.ssl.PrivateCertificate` to
            authenticate this client with.
        acceptableProtocols: ALPN protocol names to offer, most preferred
            first.
        extraCertificateOptions: more :class:`CertificateOptions` arguments.

    Raises:
        TypeError: ``hostname`` is bytes.
    """
    if not isinstance(hostname, str):
        raise TypeError(
            f"optionsForClientTLS needs the host name as text, not {type(hostname).__name__}"
        )
    extra = dict(extraCertificateOptions or {})
    for forbidden in ("trustRoot", "verify", "caCerts", "privateKey", "certificate"):
        if forbidden in extra:
            raise TypeError(f"give {forbidden!r} through optionsForClientTLS's own arguments")
    if trustRoot is None:
        trustRoot = platformTrust()
    if clientCertificate is not None:
        extra["privateKey"] = clientCertificate.privateKey.original
        extra["certificate"] = clientCertificate.original
    options = CertificateOptions(
        trustRoot=trustRoot, acceptableProtocols=acceptableProtocols, **extra
    )
    return ClientTLSOptions(hostname, options.getContext())


@implementer(IOpenSSLContextFactory)
class ContextFactory:
    """The base of old-style context factories: subclasses provide ``getContext``."""

    isClient = 0

    def getContext(self) -> SSL.Context:
        """The ``OpenSSL.SSL.Context``."""
        raise NotImplementedError


class DefaultOpenSSLContextFactory(ContextFactory):
    """
    A server context from a private key file and a certificate (chain) file,
    both PEM, with fw's secure defaults (TLS 1.2 minimum...).  For code
    ported from Twisted; new code uses :class:`CertificateOptions`.

    Args:
        privateKeyFileName: the key's PEM file.
        certificateFileName: the certificate's PEM file (its chain may follow).
        sslmethod: an ``OpenSSL.SSL`` method constant.
        _contextFactory: the ``Context`` class.
    """

    _context: SSL.Context | None = None

    def __init__(
        self,
        privateKeyFileName: str,
        certificateFileName: str,
        sslmethod: int = SSL.TLS_METHOD,
        _contextFactory: Any = SSL.Context,
    ) -> None:
        self.privateKeyFileName = privateKeyFileName
        self.certificateFileName = certificateFileName
        self.sslmethod = sslmethod
        self._contextFactory = _contextFactory
        self.cacheContext()

    def cacheContext(self) -> None:
        """Make the context now (so that a bad file fails here, not per connection)."""
        if self._context is None:
            ctx = self._contextFactory(self.sslmethod)
            ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
            ctx.set_options(SSL.OP_NO_COMPRESSION | getattr(SSL, "OP_NO_RENEGOTIATION", 0))
            ctx.use_certificate_chain_file(self.certificateFileName)
            ctx.use_privatekey_file(self.privateKeyFileName)
            ctx.check_privatekey()
            self._context = ctx

    def getContext(self) -> SSL.Context:
        """The cached context."""
        assert self._context is not None
        return self._context


class ClientContextFactory(ContextFactory):
    """
    A client context that does **not** verify the server: for code ported
    from Twisted only.  Use :func:`optionsForClientTLS` instead.
    """

    isClient = 1
    method = SSL.TLS_METHOD
    _contextFactory: Any = SSL.Context

    def getContext(self) -> SSL.Context:
        """A new, unverifying client context (TLS 1.2 minimum)."""
        ctx = self._contextFactory(self.method)
        ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
        ctx.set_options(SSL.OP_NO_COMPRESSION | getattr(SSL, "OP_NO_RENEGOTIATION", 0))
        return ctx  # type: ignore[no-any-return]
