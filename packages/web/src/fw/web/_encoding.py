"""
Response content codings (RFC 9110 section 8.4): gzip, and brotli when the
optional ``brotli`` package is installed.

An encoder factory is given to
:class:`~fw.web.resource.EncodingResourceWrapper`; for a request whose
``Accept-Encoding`` admits its coding, it returns an encoder that the request
runs every body write through.  The encoder decides at the first write,
when the status and headers are known, and leaves alone responses that must
not be re-encoded: partial content (206), bodies that already have a
``Content-Encoding`` (a pre-compressed ``.gz`` file), and bodiless statuses.
"""

from __future__ import annotations

import re
import zlib
from typing import Any, Protocol

__all__ = ["BrotliEncoderFactory", "GzipEncoderFactory", "brotliAvailable"]

try:
    import brotli as _brotli  # type: ignore[import-untyped, import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the optional extra
    _brotli = None

#: Whether the ``brotli`` package is installed.
brotliAvailable = _brotli is not None

_NO_ENCODE_CODES = frozenset({204, 206, 304})


def _accepts(request: Any, coding: bytes) -> bool:
    # RFC 9110 12.5.3: a coding is acceptable unless absent or given q=0.
    values = request.requestHeaders.getRawHeaders(b"accept-encoding") or []
    for value in values:
        for item in value.split(b","):
            name, _, params = item.strip().partition(b";")
            if name.strip().lower() not in (coding, b"*"):
                continue
            match = re.search(rb"q\s*=\s*([0-9.]+)", params)
            if match is None:
                return True
            try:
                return float(match.group(1)) > 0
            except ValueError:
                return False
    return False


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Encoder:
    """Encodes one response body; identity if the response is unsuitable."""

    def __init__(self, coding: bytes, compressor: _Compressor, request: Any) -> None:
        self._coding = coding
        self._compressor: _Compressor | None = compressor
        self._request = request
        self._decided = False

    def _decide(self) -> None:
        self._decided = True
        request = self._request
        headers = request.responseHeaders
        if getattr(request, "code", 200) in _NO_ENCODE_CODES or headers.hasHeader(
            b"content-encoding"
        ):
            self._compressor = None
            return
        headers.setRawHeaders(b"content-encoding", [self._coding])
        headers.removeHeader(b"content-length")
        vary = headers.getRawHeaders(b"vary") or []
        if not any(b"accept-encoding" in v.lower() for v in vary):
            headers.addRawHeader(b"vary", b"Accept-Encoding")

    def encode(self, data: bytes) -> bytes:
        """The encoded form of the next piece of the body."""
        if not self._decided:
            self._decide()
        if self._compressor is None:
            return data
        return self._compressor.compress(data)

    def finish(self) -> bytes:
        """The encoded body's last bytes."""
        if not self._decided:
            self._decide()
        if self._compressor is None:
            return b""
        compressor, self._compressor = self._compressor, None
        return compressor.flush()


class GzipEncoderFactory:
    """
    Encodes responses with gzip for clients that accept it.

    Args:
        compressLevel: zlib's level, 1 (fast) to 9 (small).
    """

    compressLevel = 9

    def __init__(self, compressLevel: int | None = None) -> None:
        if compressLevel is not None:
            self.compressLevel = compressLevel

    def encoderForRequest(self, request: Any) -> _Encoder | None:
        """An encoder, or ``None`` when the client does not accept gzip."""
        if not _accepts(request, b"gzip"):
            return None
        # wbits 16 + MAX_WBITS: the gzip container (RFC 1952) around deflate.
        compressor = zlib.compressobj(self.compressLevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return _Encoder(b"gzip", compressor, request)


class _BrotliCompressor:
    def __init__(self, quality: int) -> None:
        assert _brotli is not None
        self._compressor = _brotli.Compressor(quality=quality)

    def compress(self, data: bytes) -> bytes:
        return self._compressor.process(data)  # type: ignore[no-any-return]

    def flush(self) -> bytes:
        return self._compressor.finish()  # type: ignore[no-any-return]


class BrotliEncoderFactory:
    """
    Encodes responses with brotli (RFC 7932) for clients that accept ``br``.
    Needs the ``brotli`` package (the ``fw-web[brotli]`` extra).

    Args:
        quality: brotli's quality, 0 to 11; 5 is a good speed/size balance
            for dynamic content.

    Raises:
        RuntimeError: ``brotli`` is not installed.
    """

    def __init__(self, quality: int = 5) -> None:
        if _brotli is None:
            raise RuntimeError("BrotliEncoderFactory needs the 'brotli' package")
        self.quality = quality

    def encoderForRequest(self, request: Any) -> _Encoder | None:
        """An encoder, or ``None`` when the client does not accept ``br``."""
        if not _accepts(request, b"br"):
            return None
        return _Encoder(b"br", _BrotliCompressor(self.quality), request)
