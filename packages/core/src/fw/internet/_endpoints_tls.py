"""
TLS endpoints: :class:`SSL4ServerEndpoint`, :class:`SSL4ClientEndpoint`,
:func:`wrapClientTLS`, and the parsers of the ``ssl:`` (server and client)
and ``tls:`` (client) endpoint descriptions.

fw-core registers the parsers as plugins (entry points in the
``fw.endpoints.server`` and ``fw.endpoints.client`` groups), so that
pyOpenSSL is imported only when a TLS description is used.

Private: :mod:`fw.internet.endpoints` is the public module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from zope.interface import implementer

from fw.internet._endpoints_basic import _connectWith
from fw.internet._endpoints_hostname import HostnameEndpoint
from fw.internet._endpoints_parse import _bind, _integer, _port, _seconds
from fw.internet._interfaces_protocol import (
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from fw.internet.defer import Deferred, execute

if TYPE_CHECKING:
    from fw.internet._interfaces_transport import IListeningPort

__all__ = [
    "SSL4ClientEndpoint",
    "SSL4ServerEndpoint",
    "sslClientParser",
    "sslServerParser",
    "tlsClientParser",
    "wrapClientTLS",
]


@implementer(IStreamServerEndpoint)
class SSL4ServerEndpoint:
    """
    A TLS server over TCP/IPv4.

    Args:
        reactor: an ``IReactorSSL``.
        port: the port to listen on (0: any free one).
        sslContextFactory: the server's TLS options (a
            :class:`~fw.internet.ssl.CertificateOptions`...).
        backlog: the length of the queue of connections not yet accepted.
        interface: the local address to listen on (all IPv4 ones by default).
    """

    def __init__(
        self,
        reactor: Any,
        port: int,
        sslContextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> None:
        self._reactor = reactor
        self._port = port
        self._sslContextFactory = sslContextFactory
        self._backlog = backlog
        self._interface = interface

    def __repr__(self) -> str:
        return f"<SSL4ServerEndpoint {self._interface or '*'}:{self._port}>"

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Listen with ``protocolFactory``'s protocols under TLS."""
        return execute(
            self._reactor.listenSSL,
            self._port,
            protocolFactory,
            self._sslContextFactory,
            backlog=self._backlog,
            interface=self._interface,
        )


@implementer(IStreamClientEndpoint)
class SSL4ClientEndpoint:
    """
    A TLS client over TCP/IPv4.

    Args:
        reactor: an ``IReactorSSL``.
        host: the address or host name to connect to.
        port: the port.
        sslContextFactory: the client's TLS options (preferably
            :func:`~fw.internet.ssl.optionsForClientTLS`).
        timeout: seconds to wait for the TCP connection.
        bindAddress: the local ``(host, port)`` to connect from, if any.
    """

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        sslContextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> None:
        self._reactor = reactor
        self._host = host
        self._port = port
        self._sslContextFactory = sslContextFactory
        self._timeout = timeout
        self._bindAddress = bindAddress

    def __repr__(self) -> str:
        return f"<SSL4ClientEndpoint {self._host}:{self._port}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """
        Connect, building the protocol with ``protocolFactory``; the
        Deferred fires once TCP is connected (the TLS handshake follows).
        """
        return _connectWith(
            lambda wrapper: self._reactor.connectSSL(
                self._host,
                self._port,
                wrapper,
                self._sslContextFactory,
                timeout=self._timeout,
                bindAddress=self._bindAddress,
            ),
            protocolFactory,
        )


@implementer(IStreamClientEndpoint)
class _WrapperEndpoint:
    """A client endpoint whose protocols are wrapped (in TLS) over another endpoint's."""

    def __init__(
        self,
        wrappedEndpoint: IStreamClientEndpoint,
        wrapperFactory: Callable[[IProtocolFactory], IProtocolFactory],
    ) -> None:
        self._wrappedEndpoint = wrappedEndpoint
        self._wrapperFactory = wrapperFactory

    def __repr__(self) -> str:
        return f"<TLS over {self._wrappedEndpoint!r}>"

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """Connect the wrapped endpoint; fire with the user's protocol."""

        def unwrap(wrapper: Any) -> IProtocol:
            protocol: IProtocol = wrapper.wrappedProtocol
            return protocol

        return self._wrappedEndpoint.connect(self._wrapperFactory(protocolFactory)).addCallback(
            unwrap
        )


def wrapClientTLS(
    connectionCreator: Any, wrappedEndpoint: IStreamClientEndpoint
) -> IStreamClientEndpoint:
    """
    A client endpoint that runs TLS over ``wrappedEndpoint`` (any stream
    client endpoint: TCP, UNIX, a SOCKS tunnel, a process...).

    Args:
        connectionCreator: the TLS client options, usually
            :func:`~fw.internet.ssl.optionsForClientTLS`.
        wrappedEndpoint: the endpoint to run TLS over.
    """
    from fw.protocols._tls_protocol import TLSMemoryBIOFactory

    return _WrapperEndpoint(
        wrappedEndpoint,
        lambda factory: TLSMemoryBIOFactory(connectionCreator, True, factory),
    )


# -- loading PEM files named in descriptions ---------------------------------------


def _readFile(what: str, name: str, path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{what}: cannot read {name} {path!r}: {e.strerror}") from e


def _certificatesIn(what: str, data: bytes, path: str) -> list[Any]:
    from fw.internet import ssl

    marker = b"-----BEGIN CERTIFICATE-----"
    blocks = [marker + block for block in data.split(marker)[1:]]
    try:
        return [ssl.Certificate.loadPEM(block) for block in blocks]
    except Exception as e:  # any parse failure is the file's fault
        raise ValueError(f"{what}: {path!r} holds an unreadable certificate: {e}") from e


def _loadPrivateCertificate(what: str, keyPath: str, certPath: str | None) -> Any:
    from fw.internet import ssl

    keyData = _readFile(what, "privateKey", keyPath)
    certData = keyData if certPath is None else _readFile(what, "certKey", certPath)
    try:
        key = ssl.KeyPair.load(keyData, ssl.FILETYPE_PEM)
    except Exception as e:  # any parse failure is the file's fault
        raise ValueError(f"{what}: no readable PEM private key in {keyPath!r}: {e}") from e
    chain = _certificatesIn(what, certData, certPath or keyPath)
    if not chain:
        raise ValueError(f"{what}: no PEM certificate in {certPath or keyPath!r}")
    try:
        return ssl.PrivateCertificate.fromCertificateAndKeyPair(chain[0], key), chain[1:]
    except ssl.CertificateError as e:
        raise ValueError(f"{what}: {e}") from e


def _trustRootFromDirectory(what: str, path: str) -> Any:
    """Every PEM certificate in the files of directory ``path``."""
    from fw.internet import ssl

    try:
        names = sorted(os.listdir(path))
    except OSError as e:
        raise ValueError(f"{what}: cannot list trustRoots {path!r}: {e.strerror}") from e
    certificates = []
    for name in names:
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        data = _readFile(what, "a trust root", full)
        if b"-----BEGIN CERTIFICATE-----" in data:
            certificates += _certificatesIn(what, data, full)
    if not certificates:
        raise ValueError(f"{what}: no PEM certificate in the directory {path!r}")
    return ssl.trustRootFromCertificates(certificates)


# -- the parsers ---------------------------------------------------------------------


@implementer(IStreamServerEndpointStringParser)
class _SSLServerParser:
    """
    ``ssl:PORT:privateKey=KEY.pem[:certKey=CERT.pem][:extraCertChain=CHAIN.pem]
    [:dhParameters=DH.pem][:interface=ADDRESS][:backlog=N]``: an
    :class:`SSL4ServerEndpoint`.  Without ``certKey`` the certificate is
    read from the ``privateKey`` file; more certificates after the first
    in ``certKey`` are sent as its chain, as are those of ``extraCertChain``.
    """

    prefix = "ssl"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the endpoint; positional fields are port, privateKey, certKey, ... (Twisted's)."""
        from fw.internet import ssl

        what = "an 'ssl' server endpoint"
        params = (
            "port",
            "privateKey",
            "certKey",
            "sslmethod",
            "interface",
            "backlog",
            "extraCertChain",
            "dhParameters",
        )
        p = _bind(what, params, args, kwargs, ["port", "privateKey"])
        if "sslmethod" in p:
            raise ValueError(
                f"{what}: sslmethod is not supported (fw negotiates TLS 1.2 or 1.3); remove it"
            )
        certificate, chain = _loadPrivateCertificate(what, p["privateKey"], p.get("certKey"))
        if "extraCertChain" in p:
            extraPath = p["extraCertChain"]
            chain += _certificatesIn(what, _readFile(what, "extraCertChain", extraPath), extraPath)
        dh = None
        if "dhParameters" in p:
            _readFile(what, "dhParameters", p["dhParameters"])
            dh = ssl.DiffieHellmanParameters.fromFile(p["dhParameters"])
        options = ssl.CertificateOptions(
            privateKey=certificate.privateKey.original,
            certificate=certificate.original,
            extraCertChain=[c.original for c in chain] or None,
            dhParameters=dh,
        )
        try:
            options.getContext()
        except Exception as e:  # report it now, not at the first connection
            raise ValueError(f"{what}: the TLS options are unusable: {e}") from e
        return SSL4ServerEndpoint(
            reactor,
            _port(what, p["port"]),
            options,
            backlog=_integer(what, "backlog", p.get("backlog", "50"), 1),
            interface=p.get("interface", ""),
        )


def _clientOptions(what: str, host: str, p: dict[str, str], trustKey: str) -> Any:
    from fw.internet import ssl

    trustRoot = None
    if trustKey in p:
        trustRoot = _trustRootFromDirectory(what, p[trustKey])
    clientCertificate = None
    if "privateKey" in p or "certificate" in p:
        if "privateKey" not in p:
            raise ValueError(f"{what}: a client 'certificate' needs its 'privateKey'")
        clientCertificate, _ = _loadPrivateCertificate(what, p["privateKey"], p.get("certificate"))
    return ssl.optionsForClientTLS(
        p.get("hostname", host), trustRoot=trustRoot, clientCertificate=clientCertificate
    )


@implementer(IStreamClientEndpointStringParserWithReactor)
class _SSLClientParser:
    """
    ``ssl:host=HOST:port=PORT[:caCertsDir=DIR][:certKey=CERT.pem]
    [:privateKey=KEY.pem][:hostname=NAME][:timeout=S][:bindAddress=A]``:
    an :class:`SSL4ClientEndpoint` that checks the server's certificate
    against the authorities in ``caCertsDir`` (the system's by default)
    and its name against ``hostname`` (``host`` by default).  Unlike
    Twisted's, which checked nothing without ``caCertsDir``.
    """

    prefix = "ssl"

    def parseStreamClient(self, reactor: Any, *args: str, **kwargs: str) -> IStreamClientEndpoint:
        """Build the endpoint; positional fields are host, port."""
        what = "an 'ssl' client endpoint"
        params = (
            "host",
            "port",
            "timeout",
            "bindAddress",
            "certKey",
            "privateKey",
            "caCertsDir",
            "hostname",
        )
        p = _bind(what, params, args, kwargs, ["host", "port"])
        if not p["host"]:
            raise ValueError(f"{what} needs a non-empty host")
        fields = {"privateKey": p["privateKey"]} if "privateKey" in p else {}
        if "certKey" in p:
            fields["certificate"] = p["certKey"]
        for key in ("caCertsDir", "hostname"):
            if key in p:
                fields[key] = p[key]
        options = _clientOptions(what, p["host"], fields, "caCertsDir")
        bindAddress = (p["bindAddress"], 0) if "bindAddress" in p else None
        return SSL4ClientEndpoint(
            reactor,
            p["host"],
            _port(what, p["port"]),
            options,
            timeout=_seconds(what, "timeout", p.get("timeout", "30")),
            bindAddress=bindAddress,
        )


@implementer(IStreamClientEndpointStringParserWithReactor)
class _TLSClientParser:
    """
    ``tls:HOST:PORT[:timeout=S][:bindAddress=A][:trustRoots=DIR]
    [:certificate=CERT.pem][:privateKey=KEY.pem]``: TLS over a
    :class:`~fw.internet.endpoints.HostnameEndpoint` (IPv6 and IPv4 raced),
    checking the server's certificate against the authorities in
    ``trustRoots`` (the system's by default) and its name against ``HOST``.
    """

    prefix = "tls"

    def parseStreamClient(self, reactor: Any, *args: str, **kwargs: str) -> IStreamClientEndpoint:
        """Build the endpoint; positional fields are host, port."""
        what = "a 'tls' client endpoint"
        params = (
            "host",
            "port",
            "timeout",
            "bindAddress",
            "trustRoots",
            "certificate",
            "privateKey",
        )
        p = _bind(what, params, args, kwargs, ["host", "port"])
        host = p["host"]
        if not host:
            raise ValueError(f"{what} needs a non-empty host")
        options = _clientOptions(what, host, p, "trustRoots")
        inner = HostnameEndpoint(
            reactor,
            host,
            _port(what, p["port"]),
            timeout=_seconds(what, "timeout", p.get("timeout", "30")),
            bindAddress=p.get("bindAddress"),
        )
        return wrapClientTLS(options, inner)


#: ``ssl:`` server descriptions (entry point ``ssl`` in ``fw.endpoints.server``).
sslServerParser: Final = _SSLServerParser()
#: ``ssl:`` client descriptions (entry point ``ssl`` in ``fw.endpoints.client``).
sslClientParser: Final = _SSLClientParser()
#: ``tls:`` client descriptions (entry point ``tls`` in ``fw.endpoints.client``).
tlsClientParser: Final = _TLSClientParser()
