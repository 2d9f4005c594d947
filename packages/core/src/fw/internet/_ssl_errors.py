"""
The errors a TLS connection ends with, and turning OpenSSL's error lists into
sentences.

Private: :mod:`fw.internet.ssl` and :mod:`fw.protocols.tls` export them.
"""

from __future__ import annotations

from typing import Any

from OpenSSL import SSL

__all__ = ["TLSError", "TLSHandshakeError", "describeOpenSSLError"]


class TLSError(SSL.Error):
    """
    A TLS connection failed after its handshake (a corrupt record, a fatal
    alert from the peer...).

    It is an ``OpenSSL.SSL.Error``, so code written for Twisted that checks
    ``reason.check(SSL.Error)`` keeps working; ``args[0]`` is OpenSSL's own
    list of ``(library, function, reason)`` tuples, and ``str()`` gives a
    readable sentence.

    Attributes:
        openSSLErrors: OpenSSL's error list (may be empty).
        description: the readable sentence.
    """

    _what = "TLS connection failed"

    def __init__(self, openSSLErrors: Any, description: str = "") -> None:
        super().__init__(openSSLErrors)
        self.openSSLErrors = openSSLErrors
        self.description = description or f"{self._what}: {_reasons(openSSLErrors)}"

    def __str__(self) -> str:
        return self.description


class TLSHandshakeError(TLSError):
    """
    The TLS handshake failed: the peer's certificate was not trusted, no
    protocol version or cipher suite was acceptable to both sides, the
    peer sent something that is not TLS...
    """

    _what = "TLS handshake failed"


def _reasons(openSSLErrors: Any) -> str:
    """The reason strings of OpenSSL's error list, joined."""
    if isinstance(openSSLErrors, list):
        parts = []
        for entry in openSSLErrors:
            if isinstance(entry, tuple) and entry:
                parts.append(str(entry[-1]))
            else:
                parts.append(str(entry))
        if parts:
            return "; ".join(parts)
    if isinstance(openSSLErrors, tuple) and len(openSSLErrors) == 2:
        # SysCallError's (errno, message).
        return str(openSSLErrors[1])
    return str(openSSLErrors) or "unknown error"


def describeOpenSSLError(error: SSL.Error, detail: str = "", handshake: bool = True) -> TLSError:
    """
    Wrap ``error`` (raised by pyOpenSSL) in a :class:`TLSHandshakeError`
    (or :class:`TLSError` after the handshake) with a readable message;
    ``detail``, when given, is added (the reason a certificate was not
    trusted, for example).
    """
    cls = TLSHandshakeError if handshake else TLSError
    openSSLErrors = error.args[0] if len(error.args) == 1 else error.args
    description = f"{cls._what}: {_reasons(openSSLErrors)}"
    if detail:
        description += f" ({detail})"
    wrapped = cls(openSSLErrors, description)
    wrapped.__cause__ = error
    return wrapped
