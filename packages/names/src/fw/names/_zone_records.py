"""
Turn parsed zone-file entries into ``fw.names.dns`` record objects.

The parser (:mod:`fw.names._zone_parser`) knows nothing of record types; each
entry's data tokens are put back into presentation format and read by the
record class's ``fromText`` (RFC 1035 section 5 and each type's RFC).  Data
in RFC 3597's generic syntax (``\\# length hex``) is accepted for any type;
for a type fw does not know, it becomes an ``UnknownRecord``.
"""

from __future__ import annotations

from typing import Any

from fw.names._dns_constants import textToType
from fw.names._records import RECORD_TYPES, UnknownRecord
from fw.names._records_base import quoteString
from fw.names._zone_parser import ZoneEntry, ZoneSyntaxError, parseTTL

__all__ = ["recordFromEntry"]


def recordFromEntry(entry: ZoneEntry) -> tuple[bytes, Any]:
    """
    The owner name (lower-case bytes) and record object of a zone-file entry.

    Raises:
        ZoneSyntaxError: the record's data is malformed or its type unknown.
    """
    owner = entry.name.lower().encode("utf-8")
    rdata = list(entry.rdata)
    try:
        if entry.type == "SOA" and len(rdata) == 7:
            # BIND accepts TTL units (1h, 2w) in the SOA's four timers.
            for i in range(3, 7):
                value = rdata[i]
                if isinstance(value, str) and not value.isdigit():
                    rdata[i] = str(parseTTL(value))
        text = " ".join(t if isinstance(t, str) else quoteString(t) for t in rdata)
        number = textToType(entry.type)
        cls = RECORD_TYPES.get(number)
        if cls is None:
            if not entry.rdata or entry.rdata[0] != "\\#":
                raise ValueError(f"unknown type {entry.type}: use the \\# generic form")
            record: Any = UnknownRecord.fromText(text, entry.origin, entry.ttl)
            record.TYPE = number
        else:
            record = cls.fromText(text, entry.origin, entry.ttl)
    except (ValueError, TypeError, IndexError) as e:
        raise ZoneSyntaxError(f"{entry.type}: {e}", entry.filename, entry.lineno) from e
    return owner, record
