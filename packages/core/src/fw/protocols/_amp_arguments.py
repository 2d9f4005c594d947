"""
The argument types of AMP commands: how each Python value is spelled on the wire.

Every spelling is the one Twisted's AMP uses, so the two interoperate:
``Integer`` is decimal digits, ``Float`` Python's ``repr`` (``nan``, ``inf``,
``-inf``), ``Boolean`` ``True``/``False``, ``DateTime``
``YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM``, ``ListOf`` 16-bit length-prefixed
items, ``AmpList`` whole boxes back to back.
"""

from __future__ import annotations

import datetime
import decimal
import keyword
import struct
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

from zope.interface import implementer

from fw.protocols._amp_box import AmpBox, BoxParser, serializeBox
from fw.protocols._amp_errors import MAX_VALUE_LENGTH, MalformedAmpBox, TooLong
from fw.protocols._amp_interfaces import IArgumentType
from fw.python.filepath import FilePath

__all__ = [
    "PYTHON_KEYWORDS",
    "AmpList",
    "Argument",
    "Boolean",
    "DateTime",
    "Decimal",
    "Descriptor",
    "Float",
    "Integer",
    "ListOf",
    "Path",
    "String",
    "Unicode",
    "utc",
]

#: Python's keywords: a wire name that is one becomes a title-cased Python
#: name (``from`` is passed as ``From``).
PYTHON_KEYWORDS: list[str] = list(keyword.kwlist)

#: The UTC time zone, for :class:`DateTime` values.
utc = datetime.UTC

_pack16 = struct.Struct("!H").pack


def _wireNameToPythonIdentifier(key: bytes) -> str:
    """
    The Python name of the wire name ``key``: dashes become underscores and
    a keyword is title-cased (``from`` -> ``From``).
    """
    name = key.replace(b"-", b"_").decode("ascii")
    if name in PYTHON_KEYWORDS:
        return name.title()
    return name


@implementer(IArgumentType)
class Argument:
    """
    The base of argument types: subclass and override :meth:`fromString`
    and :meth:`toString` (or the ``*Proto`` variants, which also get the
    protocol).

    Args:
        optional: whether the argument may be left out; it then reaches
            the responder as ``None``.
    """

    def __init__(self, optional: bool = False) -> None:
        self.optional = optional

    def retrieve(self, d: MutableMapping[Any, Any], name: Any, proto: Any) -> Any:
        """
        Remove ``name`` from ``d`` and return its value; for an optional
        argument, ``None`` when it is absent.

        Raises:
            KeyError: a required argument is absent.
        """
        if self.optional:
            value = d.get(name)
            if value is not None:
                del d[name]
            return value
        return d.pop(name)

    def fromBox(
        self,
        name: bytes,
        strings: MutableMapping[bytes, Any],
        objects: MutableMapping[str, Any],
        proto: Any,
    ) -> None:
        """Decode the value ``name`` of the box ``strings`` into ``objects``."""
        value = self.retrieve(strings, name, proto)
        pythonName = _wireNameToPythonIdentifier(name)
        if value is None and self.optional:
            objects[pythonName] = None
        else:
            objects[pythonName] = self.fromStringProto(value, proto)

    def toBox(
        self,
        name: bytes,
        strings: MutableMapping[bytes, Any],
        objects: MutableMapping[str, Any],
        proto: Any,
    ) -> None:
        """Encode the object for ``name`` from ``objects`` into the box ``strings``."""
        value = self.retrieve(objects, _wireNameToPythonIdentifier(name), proto)
        if value is None and self.optional:
            return
        strings[name] = self.toStringProto(value, proto)

    def fromStringProto(self, inString: bytes, proto: Any) -> Any:
        """Decode ``inString`` received on ``proto``; by default :meth:`fromString`."""
        return self.fromString(inString)

    def toStringProto(self, inObject: Any, proto: Any) -> bytes:
        """Encode ``inObject`` to send on ``proto``; by default :meth:`toString`."""
        return self.toString(inObject)

    def fromString(self, inString: bytes) -> Any:
        """Decode ``inString``; subclasses override."""
        raise NotImplementedError(f"{type(self).__name__} cannot decode values")

    def toString(self, inObject: Any) -> bytes:
        """Encode ``inObject``; subclasses override."""
        raise NotImplementedError(f"{type(self).__name__} cannot encode values")


class Integer(Argument):
    """An ``int``, in decimal."""

    def fromString(self, inString: bytes) -> int:
        """Parse decimal digits."""
        return int(inString)

    def toString(self, inObject: int) -> bytes:
        """Spell ``inObject`` in decimal."""
        return b"%d" % (inObject,)


class String(Argument):
    """A ``bytes`` value, as it is."""

    def fromString(self, inString: bytes) -> bytes:
        """Return ``inString``."""
        return inString

    def toString(self, inObject: bytes) -> bytes:
        """Return ``inObject``, which must be ``bytes``."""
        return inObject


class Unicode(String):
    """A ``str`` value, in UTF-8."""

    def fromString(self, inString: bytes) -> str:  # type: ignore[override]
        """Decode UTF-8."""
        return inString.decode("utf-8")

    def toString(self, inObject: str) -> bytes:  # type: ignore[override]
        """Encode to UTF-8."""
        return inObject.encode("utf-8")


class Path(Unicode):
    """A :class:`~fw.python.filepath.FilePath`, as its path in UTF-8."""

    def fromString(self, inString: bytes) -> FilePath[str]:  # type: ignore[override]
        """Return the :class:`FilePath` of the path ``inString``."""
        return FilePath(Unicode.fromString(self, inString))

    def toString(self, inObject: FilePath[Any]) -> bytes:  # type: ignore[override]
        """Encode ``inObject``'s path."""
        return Unicode.toString(self, inObject.asTextMode().path)


class Boolean(Argument):
    """A ``bool``, as ``True`` or ``False``."""

    def fromString(self, inString: bytes) -> bool:
        """
        Parse ``True`` or ``False``.

        Raises:
            TypeError: it is neither.
        """
        if inString == b"True":
            return True
        if inString == b"False":
            return False
        raise TypeError(f"Bad boolean value: {inString!r}")

    def toString(self, inObject: object) -> bytes:
        """Spell the truth of ``inObject``."""
        return b"True" if inObject else b"False"


class Float(Argument):
    """
    A ``float``, as Python spells it with ``repr``: ``1.5``, ``1e+100``,
    ``nan``, ``inf``, ``-inf``.
    """

    def fromString(self, inString: bytes) -> float:
        """Parse a float, including ``nan``, ``inf`` and ``-inf``."""
        return float(inString)

    def toString(self, inObject: object) -> bytes:
        """
        Spell ``inObject``, a ``float`` or an ``int``, with ``repr``.

        Raises:
            TypeError: it is not a number.
        """
        if not isinstance(inObject, (float, int)) or isinstance(inObject, bool):
            raise TypeError(f"amp.Float can only encode numbers, not {inObject!r}")
        return repr(float(inObject)).encode("ascii")


class Decimal(Argument):
    """
    A :class:`decimal.Decimal`, as its ``str`` (exponent and trailing zeros
    kept; ``NaN``, ``sNaN``, ``Infinity`` and ``-Infinity`` included).
    """

    def fromString(self, inString: bytes) -> decimal.Decimal:
        """Parse a decimal number."""
        return decimal.Decimal(inString.decode("ascii"))

    def toString(self, inObject: decimal.Decimal) -> bytes:
        """
        Spell ``inObject``.

        Raises:
            ValueError: it is not a :class:`decimal.Decimal`.
        """
        if not isinstance(inObject, decimal.Decimal):
            raise ValueError("amp.Decimal can only encode instances of decimal.Decimal")
        return str(inObject).encode("ascii")


_DATETIME_LENGTH = len(b"2012-01-23T12:34:56.054321+01:23")
# (start, end) of each number, and (position, byte) of each separator.
_DATETIME_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19), (20, 26))
_DATETIME_SEPARATORS = ((4, b"-"), (7, b"-"), (10, b"T"), (13, b":"), (16, b":"), (19, b"."))


def _digits(s: bytes, start: int, end: int) -> int:
    part = s[start:end]
    if not part.isdigit():
        raise ValueError(f"invalid date format {s!r}")
    return int(part)


class DateTime(Argument):
    """
    A time-zone-aware :class:`datetime.datetime`, as
    ``YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM``.

    The offset is spelled in whole minutes, rounded down; an offset of zero
    is written ``-00:00`` as Twisted does, and either sign is read.
    """

    def fromString(self, inString: bytes) -> datetime.datetime:
        """
        Parse a date and time with its UTC offset.

        Raises:
            ValueError: it is not in the format above.
        """
        s = bytes(inString)
        if len(s) != _DATETIME_LENGTH:
            raise ValueError(f"invalid date format {s!r}")
        for position, separator in _DATETIME_SEPARATORS:
            if s[position : position + 1] != separator:
                raise ValueError(f"invalid date format {s!r}")
        year, month, day, hour, minute, second, micro = (
            _digits(s, start, end) for start, end in _DATETIME_FIELDS
        )
        sign = s[26:27]
        if sign not in (b"+", b"-") or s[29:30] != b":":
            raise ValueError(f"Invalid sign for timezone {sign!r}")
        minutes = _digits(s, 27, 29) * 60 + _digits(s, 30, 32)
        if sign == b"-":
            minutes = -minutes
        zone = datetime.timezone(datetime.timedelta(minutes=minutes))
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=zone)

    def toString(self, inObject: datetime.datetime) -> bytes:
        """
        Spell ``inObject``.

        Raises:
            ValueError: it has no time zone.
        """
        offset = inObject.utcoffset()
        if offset is None:
            raise ValueError(
                "amp.DateTime cannot serialize naive datetime instances.  "
                "You may find amp.utc useful."
            )
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes > 0 else "-"
        hours, minutes = divmod(abs(minutes), 60)
        return (
            f"{inObject.year:04d}-{inObject.month:02d}-{inObject.day:02d}T"
            f"{inObject.hour:02d}:{inObject.minute:02d}:{inObject.second:02d}."
            f"{inObject.microsecond:06d}{sign}{hours:02d}:{minutes:02d}"
        ).encode("ascii")


class Descriptor(Integer):
    """
    An open file descriptor, passed over a UNIX socket (``SCM_RIGHTS``).

    The sender's transport must provide
    :class:`~fw.internet.interfaces.IUNIXTransport`; on the wire the value is
    the descriptor's number in the order this connection sent them (0, 1,
    ...), and the receiver gets its own new descriptor, which it then owns.
    """

    def fromStringProto(self, inString: bytes, proto: Any) -> int:
        """Return the descriptor received with number ``inString``."""
        return int(proto._getDescriptor(int(inString)))

    def toStringProto(self, inObject: int, proto: Any) -> bytes:
        """Send ``inObject`` along the connection, and spell its number."""
        return Integer.toStringProto(self, proto._sendFileDescriptor(inObject), proto)


def _int16Strings(data: bytes) -> list[bytes]:
    items = []
    pos = 0
    end = len(data)
    while pos < end:
        if end - pos < 2:
            raise MalformedAmpBox(f"a list ends partway through an item length: {data!r}")
        length = (data[pos] << 8) | data[pos + 1]
        stop = pos + 2 + length
        if stop > end:
            raise MalformedAmpBox("a list ends partway through an item")
        items.append(data[pos + 2 : stop])
        pos = stop
    return items


def _joinInt16Strings(items: Iterable[bytes]) -> bytes:
    parts = []
    for item in items:
        if len(item) > MAX_VALUE_LENGTH:
            raise TooLong(False, True, item)
        parts.append(_pack16(len(item)))
        parts.append(item)
    return b"".join(parts)


class ListOf(Argument):
    """
    A list of values of one other argument type, each spelled as that type
    does and prefixed with its 16-bit length.

    Args:
        elementType: the type of each item (not itself optional).
        optional: whether the whole list may be left out.
    """

    def __init__(self, elementType: Argument, optional: bool = False) -> None:
        super().__init__(optional)
        self.elementType = elementType

    def fromString(self, inString: bytes) -> list[Any]:
        """Decode each item."""
        return [self.elementType.fromString(item) for item in _int16Strings(inString)]

    def toString(self, inObject: Iterable[Any]) -> bytes:
        """Encode each item."""
        return _joinInt16Strings(self.elementType.toString(item) for item in inObject)

    def fromStringProto(self, inString: bytes, proto: Any) -> list[Any]:
        """Decode each item, with the protocol."""
        element = self.elementType
        return [element.fromStringProto(item, proto) for item in _int16Strings(inString)]

    def toStringProto(self, inObject: Iterable[Any], proto: Any) -> bytes:
        """Encode each item, with the protocol."""
        element = self.elementType
        return _joinInt16Strings(element.toStringProto(item, proto) for item in inObject)


class AmpList(Argument):
    """
    A list of dicts, each with the named arguments ``subargs``, spelled as a
    sequence of AMP boxes.

    Args:
        subargs: ``(name, Argument)`` pairs, as a command's ``arguments``.
        optional: whether the whole list may be left out.
    """

    def __init__(self, subargs: Sequence[tuple[bytes, Argument]], optional: bool = False) -> None:
        super().__init__(optional)
        self.subargs = _normaliseArguments(subargs)

    def fromStringProto(self, inString: bytes, proto: Any) -> list[dict[str, Any]]:
        """Decode each box into a dict."""
        parser = BoxParser(maxBoxLength=len(inString) + 4 + MAX_VALUE_LENGTH)
        parser.feed(inString)
        boxes = parser.boxes()
        if parser.incomplete:
            raise MalformedAmpBox("an AmpList value ends partway through a box")
        return [_stringsToObjects(box, self.subargs, proto) for box in boxes]

    def toStringProto(self, inObject: Iterable[dict[str, Any]], proto: Any) -> bytes:
        """Encode each dict as a box."""
        return b"".join(
            serializeBox(_objectsToStrings(objects, self.subargs, AmpBox(), proto))
            for objects in inObject
        )

    def fromString(self, inString: bytes) -> list[dict[str, Any]]:
        """Decode without a protocol (no :class:`Descriptor` inside)."""
        return self.fromStringProto(inString, None)

    def toString(self, inObject: Iterable[dict[str, Any]]) -> bytes:
        """Encode without a protocol (no :class:`Descriptor` inside)."""
        return self.toStringProto(inObject, None)


class _LocalArgument(String):
    """
    A value passed between a command and its own side's machinery, never
    sent: ``StartTLS``'s certificate and authorities.
    """

    def fromBox(
        self,
        name: bytes,
        strings: MutableMapping[bytes, Any],
        objects: MutableMapping[str, Any],
        proto: Any,
    ) -> None:
        """Nothing arrives for a local argument."""

    def toBox(
        self,
        name: bytes,
        strings: MutableMapping[bytes, Any],
        objects: MutableMapping[str, Any],
        proto: Any,
    ) -> None:
        """Put the object itself into the box being built; it is taken out before sending."""
        value = self.retrieve(objects, _wireNameToPythonIdentifier(name), proto)
        if value is not None:
            strings[name] = value


def _normaliseArguments(
    arguments: Iterable[tuple[bytes | str, Argument]],
) -> list[tuple[bytes, Argument]]:
    result = []
    for name, argument in arguments:
        if isinstance(name, str):
            raise TypeError(f"Argument names must be byte strings, got: {name!r}")
        result.append((name, argument))
    return result


def _objectsToStrings(
    objects: MutableMapping[str, Any] | dict[str, Any],
    arglist: Iterable[tuple[bytes, Argument]],
    strings: AmpBox,
    proto: Any,
) -> AmpBox:
    """Encode ``objects`` by ``arglist`` into the box ``strings``, and return it."""
    mine = dict(objects)
    for name, argument in arglist:
        argument.toBox(name, strings, mine, proto)
    return strings


def _stringsToObjects(
    strings: MutableMapping[bytes, Any],
    arglist: Iterable[tuple[bytes, Argument]],
    proto: Any,
) -> dict[str, Any]:
    """Decode the box ``strings`` by ``arglist`` into a dict of Python names to objects."""
    objects: dict[str, Any] = {}
    mine = dict(strings)
    for name, argument in arglist:
        argument.fromBox(name, mine, objects, proto)
    return objects
