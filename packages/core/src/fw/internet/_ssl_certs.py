"""
Certificates, keys, certificate requests and distinguished names.

Each object keeps its pyOpenSSL form in ``original`` (as Twisted's do);
generating and signing is done with ``cryptography``.

Private: :mod:`fw.internet.ssl` is the public module.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import crypto

from fw.internet.defer import Deferred, maybeDeferred

__all__ = [
    "DN",
    "FILETYPE_ASN1",
    "FILETYPE_PEM",
    "Certificate",
    "CertificateError",
    "CertificateRequest",
    "DistinguishedName",
    "KeyPair",
    "PrivateCertificate",
    "PublicKey",
]

#: The PEM (base64 text) encoding, for ``load``/``dump`` ``format`` arguments.
FILETYPE_PEM: int = crypto.FILETYPE_PEM
#: The DER (binary) encoding.
FILETYPE_ASN1: int = crypto.FILETYPE_ASN1

# How long a certificate signed here is valid by default: one year.
_DEFAULT_EXPIRY = 60 * 60 * 24 * 365

_ENCODING = {FILETYPE_PEM: serialization.Encoding.PEM, FILETYPE_ASN1: serialization.Encoding.DER}


def _encoding(format: int) -> serialization.Encoding:
    try:
        return _ENCODING[format]
    except KeyError:
        raise ValueError(f"unknown format {format!r}: use FILETYPE_PEM or FILETYPE_ASN1") from None


def _hash(name: str) -> Any:
    algorithms: dict[str, type[hashes.HashAlgorithm]] = {
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
        "sha224": hashes.SHA224,
    }
    try:
        return algorithms[name.lower().replace("-", "")]()
    except KeyError:
        raise ValueError(f"unsupported digest algorithm {name!r}") from None


# -- distinguished names -----------------------------------------------------

# Long name, short name, the OID.
_DN_FIELDS: tuple[tuple[str, str, x509.ObjectIdentifier], ...] = (
    ("commonName", "CN", NameOID.COMMON_NAME),
    ("organizationName", "O", NameOID.ORGANIZATION_NAME),
    ("organizationalUnitName", "OU", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("localityName", "L", NameOID.LOCALITY_NAME),
    ("stateOrProvinceName", "ST", NameOID.STATE_OR_PROVINCE_NAME),
    ("countryName", "C", NameOID.COUNTRY_NAME),
    ("emailAddress", "emailAddress", NameOID.EMAIL_ADDRESS),
)
_LONG = {short: long for long, short, _ in _DN_FIELDS} | {long: long for long, _, _ in _DN_FIELDS}
_OIDS = {long: oid for long, _, oid in _DN_FIELDS}


class DistinguishedName(dict[str, str]):
    """
    An X.509 name: its fields by long name (``commonName``,
    ``organizationName``, ``organizationalUnitName``, ``localityName``,
    ``stateOrProvinceName``, ``countryName``, ``emailAddress``), also
    readable and settable as attributes under those names or the short
    ones (``CN``, ``O``, ``OU``, ``L``, ``ST``, ``C``).

    Example::

        dn = DistinguishedName(commonName="example.com", O="Example Ltd")
        dn.CN  # 'example.com'
    """

    def __init__(self, **fields: str | bytes) -> None:
        super().__init__()
        for name, value in fields.items():
            self[name] = value

    def __setitem__(self, name: str, value: str | bytes) -> None:
        long = _LONG.get(name)
        if long is None:
            raise AttributeError(f"{name!r} is not a distinguished name field")
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        super().__setitem__(long, value)

    def __getattr__(self, name: str) -> str | None:
        long = _LONG.get(name)
        if long is None:
            raise AttributeError(name)
        return self.get(long)

    def __setattr__(self, name: str, value: str | bytes) -> None:
        self[name] = value

    def _toName(self) -> x509.Name:
        return x509.Name([x509.NameAttribute(_OIDS[long], value) for long, value in self.items()])

    @classmethod
    def _fromName(cls, name: x509.Name) -> DistinguishedName:
        dn = cls()
        byOid = {oid: long for long, _, oid in _DN_FIELDS}
        for attribute in name:
            long = byOid.get(attribute.oid)
            if long is not None:
                value = attribute.value
                dn[long] = value.decode("utf-8") if isinstance(value, bytes) else value
        return dn

    def inspect(self) -> str:
        """A readable multi-line rendering of the fields."""
        width = max((len(k) for k in self), default=0)
        return "\n".join(f"{k.rjust(width)}: {v}" for k, v in self.items())


#: Twisted's short name for :class:`DistinguishedName`.
DN = DistinguishedName


# -- certificates ------------------------------------------------------------


class CertificateRequest:
    """
    A certificate signing request (PKCS #10).

    Args:
        original: the ``cryptography`` request object.
    """

    def __init__(self, original: x509.CertificateSigningRequest) -> None:
        self.original = original

    @classmethod
    def load(cls, requestData: bytes, requestFormat: int = FILETYPE_ASN1) -> CertificateRequest:
        """Load a request from PEM or DER bytes."""
        if requestFormat == FILETYPE_PEM:
            return cls(x509.load_pem_x509_csr(requestData))
        _encoding(requestFormat)
        return cls(x509.load_der_x509_csr(requestData))

    def dump(self, format: int = FILETYPE_ASN1) -> bytes:
        """The request encoded as PEM or DER."""
        return self.original.public_bytes(_encoding(format))

    def getSubject(self) -> DistinguishedName:
        """The name the request asks a certificate for."""
        return DistinguishedName._fromName(self.original.subject)


class PublicKey:
    """
    A public key.

    Args:
        osslpkey: the pyOpenSSL ``PKey``.
    """

    def __init__(self, osslpkey: crypto.PKey) -> None:
        self.original = osslpkey

    def _key(self) -> Any:
        return self.original.to_cryptography_key()

    def keyHash(self) -> str:
        """A SHA-256 hex digest of the key (DER SubjectPublicKeyInfo): an identity for it."""
        der = self._key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        digest = hashes.Hash(hashes.SHA256())
        digest.update(der)
        return digest.finalize().hex()

    def matches(self, otherKey: PublicKey) -> bool:
        """Whether ``otherKey`` is the same key."""
        return self.keyHash() == otherKey.keyHash()

    def inspect(self) -> str:
        """A one-line description."""
        return f"Public Key with Hash: {self.keyHash()}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.keyHash()[:16]}>"


class Certificate:
    """
    An X.509 certificate.

    Args:
        original: the pyOpenSSL ``X509``.

    Attributes:
        original: the pyOpenSSL ``X509``.
    """

    def __init__(self, original: crypto.X509) -> None:
        if not isinstance(original, crypto.X509):
            raise TypeError(f"Certificate needs an OpenSSL.crypto.X509, not {original!r}")
        self.original = original

    @classmethod
    def load(cls, requestData: bytes, format: int = FILETYPE_ASN1, args: Any = ()) -> Any:
        """Load a certificate from PEM or DER bytes."""
        _encoding(format)
        return cls(crypto.load_certificate(format, requestData), *args)

    @classmethod
    def loadPEM(cls, data: bytes | str) -> Any:
        """Load a certificate from PEM text."""
        if isinstance(data, str):
            data = data.encode("ascii")
        return cls.load(data, FILETYPE_PEM)

    @classmethod
    def peerFromTransport(cls, transport: Any) -> Certificate:
        """
        The certificate of a TLS transport's peer.

        Raises:
            CertificateError: the peer sent none.
        """
        peer = transport.getPeerCertificate()
        if peer is None:
            raise CertificateError(f"{transport!r} has no peer certificate")
        return Certificate(peer)

    @classmethod
    def hostFromTransport(cls, transport: Any) -> Certificate:
        """
        The certificate this end of a TLS transport presented.

        Raises:
            CertificateError: it presented none.
        """
        mine = transport.getHandle().get_certificate()
        if mine is None:
            raise CertificateError(f"{transport!r} has no certificate of its own")
        return Certificate(mine)

    def _crypto(self) -> x509.Certificate:
        return self.original.to_cryptography()

    def dump(self, format: int = FILETYPE_ASN1) -> bytes:
        """The certificate encoded as PEM or DER."""
        return self._crypto().public_bytes(_encoding(format))

    def dumpPEM(self) -> bytes:
        """The certificate as PEM."""
        return self.dump(FILETYPE_PEM)

    def getSubject(self) -> DistinguishedName:
        """Whom the certificate is for."""
        return DistinguishedName._fromName(self._crypto().subject)

    def getIssuer(self) -> DistinguishedName:
        """Who signed the certificate."""
        return DistinguishedName._fromName(self._crypto().issuer)

    def serialNumber(self) -> int:
        """The certificate's serial number."""
        return int(self._crypto().serial_number)

    def digest(self, method: str = "sha256") -> bytes:
        """The fingerprint, as ``AA:BB:...`` bytes (Twisted defaulted to MD5; fw to SHA-256)."""
        return bytes(self.original.digest(method))

    def getPublicKey(self) -> PublicKey:
        """The certificate's public key."""
        return PublicKey(self.original.get_pubkey())

    def subjectAltNames(self) -> list[str]:
        """The DNS names and IP addresses the certificate is valid for."""
        try:
            san = self._crypto().extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return []
        names: list[str] = list(san.value.get_values_for_type(x509.DNSName))
        names += [str(a) for a in san.value.get_values_for_type(x509.IPAddress)]
        return names

    def options(self, *authorities: Certificate) -> Any:
        """
        Client TLS options that trust only this certificate (as a CA or as the
        server's own).  Prefer :func:`~fw.internet.ssl.optionsForClientTLS`,
        which also checks the host name.
        """
        from fw.internet._ssl_options import CertificateOptions, trustRootFromCertificates

        return CertificateOptions(trustRoot=trustRootFromCertificates([self, *authorities]))

    def inspect(self) -> str:
        """A readable description: subject, issuer, serial and fingerprint."""
        return "\n".join(
            [
                "Certificate For Subject:",
                self.getSubject().inspect(),
                "",
                "Issuer:",
                self.getIssuer().inspect(),
                "",
                f"Serial Number: {self.serialNumber()}",
                f"Digest: {self.digest().decode('ascii')}",
                self.getPublicKey().inspect(),
            ]
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Certificate):
            return self.dump() == other.dump()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.dump())

    def __repr__(self) -> str:
        subject = self.getSubject().get("commonName", "?")
        issuer = self.getIssuer().get("commonName", "?")
        return f"<{type(self).__name__} Subject={subject} Issuer={issuer}>"


class CertificateError(ValueError):
    """A certificate is missing or unusable."""


class PrivateCertificate(Certificate):
    """
    A certificate together with its private key: what a server (or a client
    that authenticates itself) presents.

    Attributes:
        privateKey: the :class:`KeyPair`.
    """

    privateKey: KeyPair

    def __init__(self, original: crypto.X509, privateKey: KeyPair | None = None) -> None:
        super().__init__(original)
        if privateKey is not None:
            self._setPrivateKey(privateKey)

    def _setPrivateKey(self, privateKey: KeyPair) -> PrivateCertificate:
        if not privateKey.matches(self.getPublicKey()):
            raise CertificateError("the private key does not match the certificate's public key")
        self.privateKey = privateKey
        return self

    @classmethod
    def load(  # type: ignore[override]
        cls, data: bytes, privateKey: KeyPair, format: int = FILETYPE_ASN1
    ) -> PrivateCertificate:
        """Load a certificate from PEM or DER bytes, with its private key."""
        _encoding(format)
        return cls(crypto.load_certificate(format, data), privateKey)

    @classmethod
    def loadPEM(cls, data: bytes | str) -> PrivateCertificate:
        """
        Load a certificate and its private key from PEM text holding both (in
        either order).
        """
        if isinstance(data, str):
            data = data.encode("ascii")
        return cls.load(data, KeyPair.load(data, FILETYPE_PEM), FILETYPE_PEM)

    @classmethod
    def fromCertificateAndKeyPair(
        cls, certificateInstance: Certificate, privateKey: KeyPair
    ) -> PrivateCertificate:
        """Pair ``certificateInstance`` with its ``privateKey``."""
        return cls(certificateInstance.original, privateKey)

    def dumpPEM(self) -> bytes:
        """The certificate, then the private key, as PEM."""
        return self.dump(FILETYPE_PEM) + self.privateKey.dump(FILETYPE_PEM)

    def options(self, *authorities: Certificate) -> Any:
        """
        Server (or client) TLS options presenting this certificate; given
        ``authorities``, the peer must present a certificate signed by one.
        """
        from fw.internet._ssl_options import CertificateOptions, trustRootFromCertificates

        kw: dict[str, Any] = {"privateKey": self.privateKey.original, "certificate": self.original}
        if authorities:
            kw["trustRoot"] = trustRootFromCertificates(list(authorities))
        return CertificateOptions(**kw)

    def certificateRequest(
        self, format: int = FILETYPE_ASN1, digestAlgorithm: str = "sha256"
    ) -> bytes:
        """A request for a certificate with this one's subject and key."""
        return self.privateKey.certificateRequest(self.getSubject(), format, digestAlgorithm)

    def signCertificateRequest(
        self,
        requestData: bytes,
        verifyDNCallback: Callable[[DistinguishedName], Any],
        serialNumber: int,
        requestFormat: int = FILETYPE_ASN1,
        certificateFormat: int = FILETYPE_ASN1,
    ) -> Deferred[bytes]:
        """Sign a request as this certificate's subject (as ``KeyPair.signCertificateRequest``)."""
        return self.privateKey.signCertificateRequest(
            self.getSubject(),
            requestData,
            verifyDNCallback,
            serialNumber,
            requestFormat,
            certificateFormat,
        )

    def signRequestObject(
        self,
        certificateRequest: CertificateRequest,
        serialNumber: int,
        secondsToExpiry: int = _DEFAULT_EXPIRY,
        digestAlgorithm: str = "sha256",
    ) -> Certificate:
        """Sign a request as this certificate's subject (see :meth:`KeyPair.signRequestObject`)."""
        return self.privateKey.signRequestObject(
            self.getSubject(), certificateRequest, serialNumber, secondsToExpiry, digestAlgorithm
        )

    def inspect(self) -> str:
        """The certificate's description, and its key's."""
        return "\n".join([super().inspect(), "Private " + self.privateKey.inspect()])


# -- keys --------------------------------------------------------------------


class KeyPair(PublicKey):
    """
    A private key (and so its public key).

    Args:
        osslpkey: the pyOpenSSL ``PKey``.
    """

    #: Key kinds :meth:`generate` knows: RSA (Twisted's default) and EC (P-256).
    TYPE_RSA: ClassVar[int] = crypto.TYPE_RSA
    TYPE_EC: ClassVar[int] = crypto.TYPE_EC

    @classmethod
    def generate(cls, kind: int = crypto.TYPE_RSA, size: int = 2048) -> KeyPair:
        """
        A new random key: RSA of ``size`` bits (2048 by default), or, with
        ``kind=KeyPair.TYPE_EC``, an elliptic curve key on P-256 (fast to
        make; ``size`` ignored).
        """
        key: Any
        if kind == crypto.TYPE_RSA:
            key = rsa.generate_private_key(public_exponent=65537, key_size=size)
        elif kind == crypto.TYPE_EC:
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"unsupported key kind {kind!r}: use TYPE_RSA or TYPE_EC")
        return cls(crypto.PKey.from_cryptography_key(key))

    @classmethod
    def load(cls, data: bytes | str, format: int = FILETYPE_ASN1) -> KeyPair:
        """Load a private key (unencrypted) from PEM or DER bytes."""
        if isinstance(data, str):
            data = data.encode("ascii")
        if format == FILETYPE_PEM:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            _encoding(format)
            key = serialization.load_der_private_key(data, password=None)
        return cls(crypto.PKey.from_cryptography_key(key))  # type: ignore[arg-type]

    def dump(self, format: int = FILETYPE_ASN1) -> bytes:
        """The private key, unencrypted, as PEM or DER (PKCS #8)."""
        return bytes(
            self._key().private_bytes(
                _encoding(format),
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def _key(self) -> Any:
        return self.original.to_cryptography_key()

    def keyHash(self) -> str:
        """The hash of the public half (see :meth:`PublicKey.keyHash`)."""
        der = (
            self._key()
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        digest = hashes.Hash(hashes.SHA256())
        digest.update(der)
        return digest.finalize().hex()

    def inspect(self) -> str:
        """A one-line description."""
        return f"Key Pair with Hash: {self.keyHash()}"

    def requestObject(
        self, distinguishedName: DistinguishedName, digestAlgorithm: str = "sha256"
    ) -> CertificateRequest:
        """A certificate request for ``distinguishedName`` and this key."""
        builder = x509.CertificateSigningRequestBuilder().subject_name(distinguishedName._toName())
        return CertificateRequest(builder.sign(self._key(), _hash(digestAlgorithm)))

    def certificateRequest(
        self,
        distinguishedName: DistinguishedName,
        format: int = FILETYPE_ASN1,
        digestAlgorithm: str = "sha256",
    ) -> bytes:
        """:meth:`requestObject`, encoded."""
        return self.requestObject(distinguishedName, digestAlgorithm).dump(format)

    def signCertificateRequest(
        self,
        issuerDistinguishedName: DistinguishedName,
        requestData: bytes,
        verifyDNCallback: Callable[[DistinguishedName], Any],
        serialNumber: int,
        requestFormat: int = FILETYPE_ASN1,
        certificateFormat: int = FILETYPE_ASN1,
        secondsToExpiry: int = _DEFAULT_EXPIRY,
        digestAlgorithm: str = "sha256",
    ) -> Deferred[bytes]:
        """
        Sign an encoded request, once ``verifyDNCallback`` (given the
        requested name; it may return a Deferred) approves it.

        Returns:
            A Deferred of the encoded certificate; it fails with
            :class:`CertificateError` when the callback returns false.
        """
        request = CertificateRequest.load(requestData, requestFormat)
        subject = request.getSubject()

        def approved(ok: Any) -> bytes:
            if not ok:
                raise CertificateError(f"the request for {subject!r} was refused")
            certificate = self.signRequestObject(
                issuerDistinguishedName, request, serialNumber, secondsToExpiry, digestAlgorithm
            )
            return certificate.dump(certificateFormat)

        return maybeDeferred(verifyDNCallback, subject).addCallback(approved)

    def signRequestObject(
        self,
        issuerDistinguishedName: DistinguishedName,
        requestObject: CertificateRequest,
        serialNumber: int,
        secondsToExpiry: int = _DEFAULT_EXPIRY,
        digestAlgorithm: str = "sha256",
    ) -> Certificate:
        """
        Sign ``requestObject`` as ``issuerDistinguishedName`` with this key:
        a leaf certificate (not a CA) valid for ``secondsToExpiry`` seconds,
        usable by servers and clients.  Extensions in the request are kept;
        without a subjectAltName, one is made from the common name when it
        is a host name or an IP address, since TLS clients check names
        against subjectAltName only (RFC 6125).
        """
        request = requestObject.original
        builder = _validity(x509.CertificateBuilder(), secondsToExpiry)
        builder = builder.subject_name(request.subject)
        builder = builder.issuer_name(issuerDistinguishedName._toName())
        builder = builder.public_key(request.public_key())
        builder = builder.serial_number(serialNumber)
        present = {extension.oid for extension in request.extensions}
        for extension in request.extensions:
            builder = builder.add_extension(extension.value, extension.critical)
        if x509.BasicConstraints.oid not in present:
            builder = builder.add_extension(
                x509.BasicConstraints(ca=False, path_length=None), critical=True
            )
        if x509.SubjectAlternativeName.oid not in present:
            builder = _withAltName(builder, DistinguishedName._fromName(request.subject))
        if x509.ExtendedKeyUsage.oid not in present:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(request.public_key()), critical=False
        )
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key().public_key()),
            critical=False,
        )
        signed = builder.sign(self._key(), _signingHash(self._key(), digestAlgorithm))
        return Certificate(crypto.X509.from_cryptography(signed))

    def newCertificate(
        self, newCertData: bytes, format: int = FILETYPE_ASN1
    ) -> PrivateCertificate:
        """Pair an encoded certificate issued for this key with it."""
        return PrivateCertificate.load(newCertData, self, format)

    def selfSignedCert(
        self, serialNumber: int, secondsToExpiry: int = _DEFAULT_EXPIRY, **kw: str
    ) -> PrivateCertificate:
        """
        A self-signed certificate for the name made of ``kw``
        (``commonName="My CA"``...): a CA certificate, which can sign others
        (:meth:`PrivateCertificate.signRequestObject`) and be trusted as a
        root; a subjectAltName is added when the common name is a host name
        or an IP address, so it can also serve TLS directly.
        """
        dn = DistinguishedName(**kw)
        name = dn._toName()
        public = self._key().public_key()
        builder = _validity(x509.CertificateBuilder(), secondsToExpiry)
        builder = builder.subject_name(name).issuer_name(name).public_key(public)
        builder = builder.serial_number(serialNumber)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public), critical=False
        )
        builder = _withAltName(builder, dn)
        signed = builder.sign(self._key(), _signingHash(self._key(), "sha256"))
        return PrivateCertificate(crypto.X509.from_cryptography(signed), self)


def _signingHash(key: Any, digestAlgorithm: str) -> Any:
    return _hash(digestAlgorithm)


def _validity(builder: x509.CertificateBuilder, secondsToExpiry: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    # An hour of slack for clocks that disagree a little.
    return builder.not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(
        now + datetime.timedelta(seconds=secondsToExpiry)
    )


def _altNames(dn: DistinguishedName) -> Iterator[x509.GeneralName]:
    commonName = dn.get("commonName")
    if not commonName:
        return
    try:
        yield x509.IPAddress(ipaddress.ip_address(commonName))
        return
    except ValueError:
        pass
    label = commonName.rstrip(".")
    if label and all(part and len(part) < 64 for part in label.split(".")) and " " not in label:
        yield x509.DNSName(label)


def _withAltName(
    builder: x509.CertificateBuilder, dn: DistinguishedName
) -> x509.CertificateBuilder:
    names = list(_altNames(dn))
    if not names:
        return builder
    return builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
