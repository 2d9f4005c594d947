"""
The DNS wire format and its transports, with Twisted's names.

Sans-IO parts: :class:`Message`, :class:`Query`, :class:`RRHeader`,
:class:`Name`, the ``Record_*`` classes and :class:`UnknownRecord` (RFC 3597),
EDNS(0) as :class:`EDNSMessage` (``_EDNSMessage``) and :class:`OPTHeader`,
and text presentation (``record.toText()``, ``Record_X.fromText(...)``,
:func:`recordFromText`).  Adapters: :class:`DNSDatagramProtocol` (UDP) and
:class:`DNSProtocol` (TCP).

Malformed input of any kind raises :class:`~fw.names.error.DNSFormatError`.
"""

from __future__ import annotations

import secrets

from fw.names._dns_constants import *  # noqa: F403
from fw.names._dns_constants import __all__ as _constants
from fw.names._dns_constants import classToText, textToClass, textToType, typeToText
from fw.names._dns_message import Message, Query, RRHeader, lookupRecordType
from fw.names._dns_protocol import (
    DNSDatagramProtocol,
    DNSMixin,
    DNSProtocol,
    StreamFramer,
    randomID,
)
from fw.names._edns import (
    DEFAULT_UDP_PAYLOAD_SIZE,
    OPTION_CLIENT_SUBNET,
    OPTION_COOKIE,
    OPTION_PADDING,
    ClientSubnetOption,
    CookieOption,
    EDNSMessage,
    OPTHeader,
    PaddingOption,
)
from fw.names._name import MAX_LABEL, MAX_NAME, Name
from fw.names._records import *  # noqa: F403
from fw.names._records import RECORD_TYPES
from fw.names._records import __all__ as _records
from fw.names._records_base import RecordBase, str2time
from fw.names._records_svcb import OPTVariableOption
from fw.names.error import DNSQueryTimeoutError

#: Twisted's private spellings, kept so ported code runs.
_EDNSMessage = EDNSMessage
_OPTHeader = OPTHeader
_OPTVariableOption = OPTVariableOption


class _RandomSource:
    """Twisted's ``dns.randomSource``: random octets from the CSPRNG."""

    def __call__(self) -> int:
        return secrets.randbits(16)


randomSource = _RandomSource()


def recordFromText(
    type: int | str, text: str, origin: bytes | str = b"", ttl: int | None = None
) -> RecordBase:
    """
    A record of ``type`` (a number or mnemonic) from rdata in presentation
    format; unknown types take the generic ``\\# length hex`` form.

    Raises:
        ValueError: the text is not valid rdata for the type.
    """
    number = textToType(type) if isinstance(type, str) else type
    cls = RECORD_TYPES.get(number)
    if cls is None:
        from fw.names._records import UnknownRecord

        return UnknownRecord.fromText(text, origin, ttl)
    return cls.fromText(text, origin, ttl)


__all__ = [
    *_constants, *_records,
    "DEFAULT_UDP_PAYLOAD_SIZE", "OPTION_CLIENT_SUBNET", "OPTION_COOKIE", "OPTION_PADDING",
    "MAX_LABEL", "MAX_NAME",
    "ClientSubnetOption", "CookieOption", "DNSDatagramProtocol", "DNSMixin", "DNSProtocol",
    "DNSQueryTimeoutError", "EDNSMessage", "Message", "Name", "OPTHeader", "OPTVariableOption",
    "PaddingOption", "Query", "RRHeader", "RecordBase", "StreamFramer", "classToText",
    "lookupRecordType", "randomID", "randomSource", "recordFromText", "str2time",
    "textToClass", "textToType", "typeToText",
]  # fmt: skip


def _adopt() -> None:
    # Document the re-exported classes and functions as this module's own.
    from zope.interface.interface import InterfaceClass

    for name in __all__:
        obj = globals()[name]
        module = getattr(obj, "__module__", "") or ""
        if module.startswith("fw.names._") and not isinstance(obj, InterfaceClass):
            obj.__module__ = __name__


_adopt()
