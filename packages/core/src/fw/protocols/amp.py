"""
AMP, the Asynchronous Messaging Protocol: typed request/response commands
over one stream connection, in both directions at once.  Wire compatible
with Twisted's ``twisted.protocols.amp``.

Declare commands, answer them with responders, call them with
:meth:`AMP.callRemote`::

    class Sum(Command):
        arguments = [(b"a", Integer()), (b"b", Integer())]
        response = [(b"total", Integer())]

    class Calculator(AMP):
        @Sum.responder
        def sum(self, a, b):
            return {"total": a + b}

    d = protocol.callRemote(Sum, a=13, b=81)   # fires with {"total": 94}

Responders may return the response dict, a Deferred of it, or be
``async def`` coroutine functions.  Errors a command declares in
``errors`` travel to the caller as the same exception class.

On the wire an AMP connection is a sequence of boxes (see :class:`AmpBox`
and :class:`BoxParser`, a sans-IO parser).  Every size the peer controls is
bounded: keys by :data:`MAX_KEY_LENGTH`, values by :data:`MAX_VALUE_LENGTH`,
boxes by :attr:`BinaryBoxProtocol.MAX_BOX_LENGTH`; a peer breaking these
rules loses its connection.
"""

from fw.protocols._amp_arguments import (
    PYTHON_KEYWORDS,
    AmpList,
    Argument,
    Boolean,
    DateTime,
    Decimal,
    Descriptor,
    Float,
    Integer,
    ListOf,
    Path,
    String,
    Unicode,
    utc,
)
from fw.protocols._amp_box import (
    DEFAULT_MAX_BOX_LENGTH,
    AmpBox,
    Box,
    BoxParser,
    QuitBox,
    parse,
    parseString,
)
from fw.protocols._amp_command import Command, ProtocolSwitchCommand, StartTLS
from fw.protocols._amp_errors import (
    ANSWER,
    ASK,
    COMMAND,
    ERROR,
    ERROR_CODE,
    ERROR_DESCRIPTION,
    MAX_KEY_LENGTH,
    MAX_VALUE_LENGTH,
    PROTOCOL_ERRORS,
    UNHANDLED_ERROR_CODE,
    UNKNOWN_ERROR_CODE,
    AmpError,
    BadLocalReturn,
    IncompatibleVersions,
    InvalidSignature,
    MalformedAmpBox,
    NoEmptyBoxes,
    OnlyOneTLS,
    ProtocolSwitched,
    RemoteAmpError,
    TooLong,
    UnhandledCommand,
    UnknownRemoteError,
)
from fw.protocols._amp_interfaces import (
    IArgumentType,
    IBoxReceiver,
    IBoxSender,
    IResponderLocator,
)
from fw.protocols._amp_protocol import (
    AMP,
    BinaryBoxProtocol,
    BoxDispatcher,
    CommandLocator,
    SimpleStringLocator,
)

__all__ = [
    "AMP",
    "ANSWER",
    "ASK",
    "COMMAND",
    "DEFAULT_MAX_BOX_LENGTH",
    "ERROR",
    "ERROR_CODE",
    "ERROR_DESCRIPTION",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "PROTOCOL_ERRORS",
    "PYTHON_KEYWORDS",
    "UNHANDLED_ERROR_CODE",
    "UNKNOWN_ERROR_CODE",
    "AmpBox",
    "AmpError",
    "AmpList",
    "Argument",
    "BadLocalReturn",
    "BinaryBoxProtocol",
    "Boolean",
    "Box",
    "BoxDispatcher",
    "BoxParser",
    "Command",
    "CommandLocator",
    "DateTime",
    "Decimal",
    "Descriptor",
    "Float",
    "IArgumentType",
    "IBoxReceiver",
    "IBoxSender",
    "IResponderLocator",
    "IncompatibleVersions",
    "Integer",
    "InvalidSignature",
    "ListOf",
    "MalformedAmpBox",
    "NoEmptyBoxes",
    "OnlyOneTLS",
    "Path",
    "ProtocolSwitchCommand",
    "ProtocolSwitched",
    "QuitBox",
    "RemoteAmpError",
    "SimpleStringLocator",
    "StartTLS",
    "String",
    "TooLong",
    "UnhandledCommand",
    "Unicode",
    "UnknownRemoteError",
    "parse",
    "parseString",
    "utc",
]
