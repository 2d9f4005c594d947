"""
TLS as a protocol wrapper, over any transport.

:class:`TLSMemoryBIOFactory` wraps a factory's protocols in TLS: the
wrapper runs OpenSSL on memory buffers, so it works over TCP, UNIX
sockets, standard I/O, or another TLS connection alike.  It is what
``reactor.listenSSL``/``connectSSL``, ``ITLSTransport.startTLS`` and the
``ssl:``/``tls:`` endpoints use::

    from fw.internet.ssl import optionsForClientTLS
    from fw.protocols.tls import TLSMemoryBIOFactory

    factory = TLSMemoryBIOFactory(optionsForClientTLS("example.com"), True, appFactory)
    reactor.connectTCP("example.com", 443, factory)

The application protocol's transport is the TLS protocol: it provides
``ISSLTransport`` (``getPeerCertificate``), ``INegotiated``
(``negotiatedProtocol``), producers with back-pressure, half-close
(``loseWriteConnection`` sends ``close_notify``) and ``abortConnection``.
Handshake and certificate failures reach ``connectionLost`` as a
:class:`~fw.internet.ssl.TLSHandshakeError`, an ``OpenSSL.SSL.Error`` with
a readable message (importable from here too; documented in
:mod:`fw.internet.ssl`).
"""

from __future__ import annotations

from fw.internet._ssl_errors import TLSError as TLSError
from fw.internet._ssl_errors import TLSHandshakeError as TLSHandshakeError
from fw.protocols._tls_protocol import TLSMemoryBIOFactory, TLSMemoryBIOProtocol

__all__ = ["TLSMemoryBIOFactory", "TLSMemoryBIOProtocol"]
