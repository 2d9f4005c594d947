"""
TLS options, certificates and keys, on pyOpenSSL (install ``fw-core[tls]``).

Servers present a certificate with :class:`CertificateOptions` (or
``PrivateCertificate.options()``); clients check the server with
:func:`optionsForClientTLS`, which verifies the certificate chain *and* the
host name by default::

    from fw.internet import ssl

    serverOptions = ssl.PrivateCertificate.loadPEM(pem).options()
    reactor.listenSSL(8443, factory, serverOptions)

    clientOptions = ssl.optionsForClientTLS("example.com")
    reactor.connectSSL("example.com", 443, clientFactory, clientOptions)

Defaults are secure: TLS 1.2 at least (1.3 preferred), no compression,
forward-secret AEAD cipher suites, no renegotiation.  Also here: ALPN
(``acceptableProtocols``), a certificate per server name
(:class:`ServerNameIndication`), client certificates (``trustRoot`` on a
server's options, ``clientCertificate`` on a client's), certificate
generation and signing (:class:`KeyPair`), and Twisted's older
:class:`DefaultOpenSSLContextFactory` and :class:`ClientContextFactory` for
ported code.
"""

from __future__ import annotations

from fw.internet._ssl_certs import (
    DN,
    FILETYPE_ASN1,
    FILETYPE_PEM,
    Certificate,
    CertificateError,
    CertificateRequest,
    DistinguishedName,
    KeyPair,
    PrivateCertificate,
    PublicKey,
)
from fw.internet._ssl_client import (
    ClientContextFactory,
    ClientTLSOptions,
    ContextFactory,
    DefaultOpenSSLContextFactory,
    optionsForClientTLS,
)
from fw.internet._ssl_errors import TLSError, TLSHandshakeError
from fw.internet._ssl_options import (
    AcceptableCiphers,
    CertificateOptions,
    DiffieHellmanParameters,
    IOpenSSLTrustRoot,
    OpenSSLCertificateAuthorities,
    OpenSSLDefaultPaths,
    ServerNameIndication,
    TLSVersion,
    platformTrust,
    trustRootFromCertificates,
)

#: Twisted's name for the TLS connection options class.
OpenSSLCertificateOptions = CertificateOptions

__all__ = [
    "DN",
    "FILETYPE_ASN1",
    "FILETYPE_PEM",
    "AcceptableCiphers",
    "Certificate",
    "CertificateError",
    "CertificateOptions",
    "CertificateRequest",
    "ClientContextFactory",
    "ClientTLSOptions",
    "ContextFactory",
    "DefaultOpenSSLContextFactory",
    "DiffieHellmanParameters",
    "DistinguishedName",
    "IOpenSSLTrustRoot",
    "KeyPair",
    "OpenSSLCertificateAuthorities",
    "OpenSSLCertificateOptions",
    "OpenSSLDefaultPaths",
    "PrivateCertificate",
    "PublicKey",
    "ServerNameIndication",
    "TLSError",
    "TLSHandshakeError",
    "TLSVersion",
    "optionsForClientTLS",
    "platformTrust",
    "trustRootFromCertificates",
]
