"""
HTTP/1.1 (RFC 9110, RFC 9112): status codes, :class:`Request`, :class:`HTTPChannel`,
:class:`HTTPFactory`.

The parser underneath is sans-IO (``fw.web._http_codec``); the channel is a
thin adapter.  Most programs use :mod:`fw.web.server`'s ``Site`` and
``Request``, which build on these.
"""

from __future__ import annotations

from fw.web._http_channel import HTTPChannel, HTTPFactory
from fw.web._http_dates import datetimeToLogString, datetimeToString, stringToDatetime, timegm
from fw.web._http_forms import parse_qs
from fw.web._http_request import CACHED, Request
from fw.web._http_status import (
    ACCEPTED,
    BAD_GATEWAY,
    BAD_REQUEST,
    CONFLICT,
    CONTINUE,
    CREATED,
    EARLY_HINTS,
    EXPECTATION_FAILED,
    FORBIDDEN,
    FOUND,
    GATEWAY_TIMEOUT,
    GONE,
    HTTP_VERSION_NOT_SUPPORTED,
    IM_A_TEAPOT,
    INSUFFICIENT_STORAGE_SPACE,
    INTERNAL_SERVER_ERROR,
    LENGTH_REQUIRED,
    MISDIRECTED_REQUEST,
    MOVED_PERMANENTLY,
    MULTI_STATUS,
    MULTIPLE_CHOICE,
    MULTIPLE_CHOICES,
    NETWORK_AUTHENTICATION_REQUIRED,
    NO_CONTENT,
    NON_AUTHORITATIVE_INFORMATION,
    NOT_ACCEPTABLE,
    NOT_ALLOWED,
    NOT_EXTENDED,
    NOT_FOUND,
    NOT_IMPLEMENTED,
    NOT_MODIFIED,
    OK,
    PARTIAL_CONTENT,
    PAYMENT_REQUIRED,
    PERMANENT_REDIRECT,
    PRECONDITION_FAILED,
    PRECONDITION_REQUIRED,
    PROCESSING,
    PROXY_AUTH_REQUIRED,
    REQUEST_ENTITY_TOO_LARGE,
    REQUEST_HEADER_FIELDS_TOO_LARGE,
    REQUEST_TIMEOUT,
    REQUEST_URI_TOO_LONG,
    REQUESTED_RANGE_NOT_SATISFIABLE,
    RESET_CONTENT,
    RESPONSES,
    SEE_OTHER,
    SERVICE_UNAVAILABLE,
    SWITCHING,
    TEMPORARY_REDIRECT,
    TOO_MANY_REQUESTS,
    UNAUTHORIZED,
    UNPROCESSABLE_ENTITY,
    UNSUPPORTED_MEDIA_TYPE,
    UPGRADE_REQUIRED,
    USE_PROXY,
)
from fw.web._log import combinedLogFormatter, proxiedLogFormatter

__all__ = [
    "ACCEPTED",
    "BAD_GATEWAY",
    "BAD_REQUEST",
    "CACHED",
    "CONFLICT",
    "CONTINUE",
    "CREATED",
    "EARLY_HINTS",
    "EXPECTATION_FAILED",
    "FORBIDDEN",
    "FOUND",
    "GATEWAY_TIMEOUT",
    "GONE",
    "HTTP_VERSION_NOT_SUPPORTED",
    "IM_A_TEAPOT",
    "INSUFFICIENT_STORAGE_SPACE",
    "INTERNAL_SERVER_ERROR",
    "LENGTH_REQUIRED",
    "MISDIRECTED_REQUEST",
    "MOVED_PERMANENTLY",
    "MULTIPLE_CHOICE",
    "MULTIPLE_CHOICES",
    "MULTI_STATUS",
    "NETWORK_AUTHENTICATION_REQUIRED",
    "NON_AUTHORITATIVE_INFORMATION",
    "NOT_ACCEPTABLE",
    "NOT_ALLOWED",
    "NOT_EXTENDED",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "NOT_MODIFIED",
    "NO_BODY_CODES",
    "NO_CONTENT",
    "OK",
    "PARTIAL_CONTENT",
    "PAYMENT_REQUIRED",
    "PERMANENT_REDIRECT",
    "PRECONDITION_FAILED",
    "PRECONDITION_REQUIRED",
    "PROCESSING",
    "PROXY_AUTH_REQUIRED",
    "REQUESTED_RANGE_NOT_SATISFIABLE",
    "REQUEST_ENTITY_TOO_LARGE",
    "REQUEST_HEADER_FIELDS_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "REQUEST_URI_TOO_LONG",
    "RESET_CONTENT",
    "RESPONSES",
    "SEE_OTHER",
    "SERVICE_UNAVAILABLE",
    "SWITCHING",
    "TEMPORARY_REDIRECT",
    "TOO_MANY_REQUESTS",
    "UNAUTHORIZED",
    "UNPROCESSABLE_ENTITY",
    "UNSUPPORTED_MEDIA_TYPE",
    "UPGRADE_REQUIRED",
    "USE_PROXY",
    "HTTPChannel",
    "HTTPFactory",
    "PotentialDataLoss",
    "Request",
    "combinedLogFormatter",
    "datetimeToLogString",
    "datetimeToString",
    "fromChunk",
    "parse_qs",
    "proxiedLogFormatter",
    "stringToDatetime",
    "timegm",
    "toChunk",
]

#: Status codes whose responses never carry a body.
NO_BODY_CODES = (NO_CONTENT, NOT_MODIFIED)


class PotentialDataLoss(Exception):
    """A body ended by connection close, with no length to check it against."""


def toChunk(data: bytes) -> tuple[bytes, ...]:
    """Return ``data`` framed as one chunk of a chunked body (RFC 9112 section 7.1)."""
    return (b"%x\r\n" % len(data), data, b"\r\n")


def fromChunk(data: bytes) -> tuple[bytes, bytes]:
    """
    Split one chunk off the front of ``data``; return ``(chunk, rest)``.

    Raises:
        ValueError: ``data`` does not start with a complete, well-formed chunk.
    """
    prefix, sep, rest = data.partition(b"\r\n")
    if not sep:
        raise ValueError("chunk size line incomplete")
    size = prefix.split(b";", 1)[0].strip()
    if not size or any(c not in b"0123456789abcdefABCDEF" for c in size):
        raise ValueError(f"bad chunk size {size!r}")
    length = int(size, 16)
    if rest[length : length + 2] != b"\r\n":
        raise ValueError("chunk not terminated by CRLF")
    return rest[:length], rest[length + 2 :]
