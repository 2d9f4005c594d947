"""
The errors of fw's HTTP/2 client (:mod:`fw.web._client_http2`), found in
the ``reasons`` of the client's failures.  Private: :mod:`fw.web.client` is
the public module.
"""

from __future__ import annotations

from fw.web._newclient import RequestNotSent

__all__ = [
    "HTTP2ConnectionTerminated",
    "HTTP2HeadersTooLarge",
    "HTTP2ProtocolError",
    "HTTP2RequestRefused",
    "HTTP2StreamReset",
]


class HTTP2StreamReset(Exception):
    """
    The server reset the request's stream (RST_STREAM) with ``errorCode``.
    Found in the ``reasons`` of a :class:`~fw.web.client.ResponseFailed`.
    """

    def __init__(self, streamID: int, errorCode: int) -> None:
        super().__init__(streamID, errorCode)
        self.streamID = streamID
        self.errorCode = errorCode

    def __str__(self) -> str:
        return f"the server reset HTTP/2 stream {self.streamID} ({_codeName(self.errorCode)})"


class HTTP2ProtocolError(Exception):
    """
    The server broke the HTTP/2 protocol (or a limit of this client): the
    connection was closed with GOAWAY ``errorCode`` and every request on it
    failed with this in its ``reasons``.
    """

    def __init__(self, message: str, errorCode: int) -> None:
        super().__init__(message, errorCode)
        self.message = message
        self.errorCode = errorCode

    def __str__(self) -> str:
        return f"HTTP/2 protocol error ({_codeName(self.errorCode)}): {self.message}"


class HTTP2ConnectionTerminated(Exception):
    """
    The server ended the connection with GOAWAY ``errorCode`` while the
    request was in progress (``lastStreamID`` is the last stream it
    processed).
    """

    def __init__(self, errorCode: int, lastStreamID: int, additionalData: bytes = b"") -> None:
        super().__init__(errorCode, lastStreamID, additionalData)
        self.errorCode = errorCode
        self.lastStreamID = lastStreamID
        self.additionalData = additionalData

    def __str__(self) -> str:
        return (
            f"the server sent GOAWAY ({_codeName(self.errorCode)}, "
            f"last stream {self.lastStreamID})"
        )


class HTTP2HeadersTooLarge(Exception):
    """A response's header section was larger than the client's limit."""


class HTTP2RequestRefused(RequestNotSent):
    """
    The server did not process the request (its stream was above a GOAWAY's
    last stream, refused with REFUSED_STREAM, or never sent before the
    connection went away).  RFC 9113 section 8.7: it may be retried; the
    pool does so once, on another connection, for a request without a body.
    """

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why

    def __str__(self) -> str:
        return f"the server did not process the request: {self.why}"


def _codeName(code: int) -> str:
    try:
        from h2.errors import ErrorCodes
    except ImportError:  # pragma: no cover - fw-web's ``http2`` extra is not installed
        return f"error code {code:#x}"
    try:
        return ErrorCodes(code).name
    except ValueError:
        return f"error code {code:#x}"
