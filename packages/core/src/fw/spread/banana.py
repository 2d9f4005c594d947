"""
Banana: the byte encoding Perspective Broker speaks, and its protocol.

The encoding itself (:func:`encode`, :class:`BananaDecoder`) is sans-IO; the
:class:`Banana` protocol adds the dialect negotiation Twisted's Banana does
when a connection opens::

    server -> client   [b"pb", b"none"]      the dialects the server knows
    client -> server   b"pb"                 the first one the client knows too
    (both)             connectionReady()     from here, the dialect's words
                                             travel as VOCAB numbers

Bytes breaking Banana's rules or limits close the connection.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fw.internet.protocol import Protocol
from fw.python import log
from fw.spread._banana_codec import (
    DEFAULT_MAX_DEPTH,
    FLOAT,
    HIGH_BIT_SET,
    INT,
    LIST,
    LONGINT,
    LONGNEG,
    NEED_DATA,
    NEG,
    PB_VOCABULARY,
    PREFIX_LIMIT,
    SIZE_LIMIT,
    STRING,
    VOCAB,
    BananaDecoder,
    BananaError,
    b1282int,
    encode,
    int2b128,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "FLOAT",
    "HIGH_BIT_SET",
    "INT",
    "LIST",
    "LONGINT",
    "LONGNEG",
    "NEED_DATA",
    "NEG",
    "PB_VOCABULARY",
    "PREFIX_LIMIT",
    "SIZE_LIMIT",
    "STRING",
    "VOCAB",
    "Banana",
    "BananaDecoder",
    "BananaError",
    "b1282int",
    "decode",
    "encode",
    "int2b128",
]

_INCOMING_PB = {number: word for word, number in PB_VOCABULARY.items()}


def decode(data: bytes, *, dialect: bytes = b"none") -> Any:
    """
    Return the one expression ``data`` encodes.

    Raises:
        BananaError: ``data`` is not exactly one valid expression.
    """
    decoder = BananaDecoder(_INCOMING_PB if dialect == b"pb" else None)
    decoder.receiveData(data)
    result = decoder.nextExpression()
    if result is NEED_DATA:
        raise BananaError("incomplete Banana expression")
    if decoder.pending:
        raise BananaError(f"{decoder.pending} bytes after the expression")
    return result


class Banana(Protocol):
    """
    A connection exchanging Banana expressions.

    Subclasses override :meth:`expressionReceived` and call
    :meth:`sendEncoded`; :meth:`connectionReady` is called once the dialect
    is agreed.  Callback order::

        connectionMade -> [dialect negotiation] -> connectionReady
            -> expressionReceived* -> connectionLost

    Attributes:
        knownDialects: the dialects this side speaks, preferred first.
        currentDialect: the agreed dialect, or ``None`` before negotiation.
        sizeLimit: the longest string or list accepted (default 640 KiB).
        prefixLimit: the longest element header accepted (default 64 bytes).
        maxDepth: how deeply received lists may nest (default 200).

    Args:
        isClient: true on the connecting side, which waits for the server's
            dialect list.
    """

    knownDialects: ClassVar[list[bytes]] = [b"pb", b"none"]
    sizeLimit: int = SIZE_LIMIT
    prefixLimit: int = PREFIX_LIMIT
    maxDepth: int = DEFAULT_MAX_DEPTH

    def __init__(self, isClient: int | bool = 1) -> None:
        self.isClient = isClient
        self.currentDialect: bytes | None = None
        self._outgoingVocabulary: dict[bytes, int] = {}
        self._decoder = BananaDecoder(
            None,
            sizeLimit=self.sizeLimit,
            prefixLimit=self.prefixLimit,
            maxDepth=self.maxDepth,
        )
        self._broken = False

    def connectionMade(self) -> None:
        """Begin the dialect negotiation (the server offers its dialects)."""
        self.currentDialect = None
        if not self.isClient:
            self.sendEncoded(self.knownDialects)

    def connectionReady(self) -> None:
        """Called once the dialect is agreed; override to start talking."""

    def _selectDialect(self, dialect: bytes) -> None:
        self.currentDialect = dialect
        if dialect == b"pb":
            self._outgoingVocabulary = dict(PB_VOCABULARY)
            self._decoder.vocabulary = _INCOMING_PB
        else:
            self._outgoingVocabulary = {}
            self._decoder.vocabulary = {}
        self.connectionReady()

    def _negotiate(self, expression: Any) -> None:
        # The first expression each way is the negotiation.
        if self.isClient:
            if not isinstance(expression, list):
                raise BananaError("the server's first message is not a list of dialects")
            for dialect in self.knownDialects:
                if dialect in expression:
                    self.sendEncoded(dialect)
                    self._selectDialect(dialect)
                    return
            raise BananaError(f"no dialect in common with the server's {expression!r:.200}")
        if not isinstance(expression, bytes) or expression not in self.knownDialects:
            raise BananaError(f"the client chose an unknown dialect {expression!r:.200}")
        self._selectDialect(expression)

    def dataReceived(self, data: bytes) -> None:
        """Decode ``data`` and hand each complete expression on."""
        if self._broken:
            return
        decoder = self._decoder
        decoder.receiveData(data)
        try:
            while not self._broken:
                expression = decoder.nextExpression()
                if expression is NEED_DATA:
                    return
                if self.currentDialect is None:
                    self._negotiate(expression)
                else:
                    self.expressionReceived(expression)
        except BananaError as e:
            self._protocolViolation(e)

    def _protocolViolation(self, error: Exception) -> None:
        # The peer broke the protocol: say why in the log, drop the connection.
        if self._broken:
            return
        self._broken = True
        log.msg(f"{type(self).__name__}: closing the connection: {error}")
        if self.transport is not None:
            self.transport.loseConnection()

    def expressionReceived(self, lst: Any) -> None:
        """Called with each expression received; override it."""
        raise NotImplementedError(f"{type(self).__name__} must override expressionReceived")

    def sendEncoded(self, obj: object) -> None:
        """
        Encode ``obj`` and write it to the transport.

        Raises:
            BananaError: ``obj`` cannot be encoded (nothing is written).
        """
        data = encode(obj, self._outgoingVocabulary, sizeLimit=self.sizeLimit)
        if self.transport is not None:
            self.transport.write(data)
