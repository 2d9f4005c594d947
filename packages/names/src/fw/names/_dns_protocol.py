"""
The transport adapters: :class:`DNSDatagramProtocol` (UDP) and
:class:`DNSProtocol` (TCP, RFC 1035 section 4.2.2 / RFC 7766 framing), both
built on :class:`DNSMixin`, which matches answers to outstanding queries by
ID and times them out.

A *controller* gets what is not an answer to one of our queries::

    connectionMade(protocol)            (TCP only)
    messageReceived(message, protocol, address=None)
    connectionLost(protocol)            (TCP only)
"""

from __future__ import annotations

import secrets
from typing import Any

from fw.internet import protocol as _protocol
from fw.internet.defer import Deferred, fail
from fw.logger import Logger
from fw.names import _dns_constants as c
from fw.names._dns_message import Message, Query
from fw.names.error import DNSFormatError, DNSQueryTimeoutError
from fw.python.failure import Failure

__all__ = ["DNSDatagramProtocol", "DNSMixin", "DNSProtocol", "StreamFramer"]

_log = Logger(namespace="fw.names.dns")


def randomID() -> int:
    """A random 16-bit message ID from the system's CSPRNG (RFC 5452 section 9.2)."""
    return secrets.randbelow(0x10000)


class StreamFramer:
    """
    The sans-IO framing of DNS over a stream: each message preceded by its
    two-octet length.  Memory is bounded by the framing itself (65,537 octets).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received octets; return each message completed by them."""
        self._buffer += data
        messages = []
        buffer = self._buffer
        while len(buffer) >= 2:
            size = (buffer[0] << 8) | buffer[1]
            if len(buffer) < 2 + size:
                break
            messages.append(bytes(buffer[2 : 2 + size]))
            del buffer[: 2 + size]
        return messages

    @staticmethod
    def frame(message: bytes) -> bytes:
        """``message`` with its length prefix."""
        if len(message) > 0xFFFF:
            raise ValueError("a DNS message over TCP holds at most 65535 octets")
        return len(message).to_bytes(2, "big") + message


class DNSMixin:
    """
    What the UDP and TCP protocols share: outstanding queries by ID
    (``liveMessages``), their timeouts, and the reactor.
    """

    transport: Any = None

    def __init__(self, controller: Any, reactor: Any = None) -> None:
        self.controller = controller
        self.id = randomID()
        if reactor is None:
            from fw.internet import reactor as _reactor

            reactor = _reactor
        self._reactor = reactor
        self.liveMessages: dict[int, tuple[Deferred[Message], Any]] = {}
        self._expected: dict[int, tuple[Any, list[Query]]] = {}

    def pickID(self) -> int:
        """A random ID not used by an outstanding query."""
        while True:
            id = randomID()
            if id not in self.liveMessages:
                return id

    def callLater(self, period: float, func: Any, *args: Any) -> Any:
        """Schedule ``func`` on this protocol's reactor."""
        return self._reactor.callLater(period, func, *args)

    def _query(
        self, queries: list[Query], timeout: float, id: int, writeMessage: Any,
        address: Any = None,
    ) -> Deferred[Message]:  # fmt: skip
        m = Message(id, recDes=1)
        m.queries = list(queries)
        try:
            writeMessage(m)
        except Exception:  # noqa: BLE001 - any failure to send is the query's failure
            return fail(Failure())
        resultDeferred: Deferred[Message] = Deferred(lambda d: self._forget(id))
        cancelCall = self.callLater(timeout, self._clearFailed, resultDeferred, id)
        self.liveMessages[id] = (resultDeferred, cancelCall)
        self._expected[id] = (address, m.queries)
        return resultDeferred

    def _forget(self, id: int) -> None:
        entry = self.liveMessages.pop(id, None)
        self._expected.pop(id, None)
        if entry is not None and entry[1].active():
            entry[1].cancel()

    def _clearFailed(self, deferred: Deferred[Message], id: int) -> None:
        self.liveMessages.pop(id, None)
        self._expected.pop(id, None)
        deferred.errback(DNSQueryTimeoutError(id))

    def _matches(self, m: Message, address: Any) -> bool:
        """Response validation (RFC 5452 section 9.1): ID, source address and question."""
        expected = self._expected.get(m.id)
        if expected is None or not m.answer:
            return False
        wantAddress, queries = expected
        if (
            address is not None
            and wantAddress is not None
            and (address[0], address[1]) != (wantAddress[0], wantAddress[1])
        ):
            return False
        # FORMERR/NOTIMP answers may come without the question (RFC 1035 4.1.1).
        return m.queries == queries or (not m.queries and m.rCode != c.OK)

    def _deliver(self, m: Message) -> None:
        d, canceller = self.liveMessages.pop(m.id)
        self._expected.pop(m.id, None)
        if canceller.active():
            canceller.cancel()
        d.callback(m)


class DNSDatagramProtocol(DNSMixin, _protocol.DatagramProtocol):
    """
    DNS over UDP.  ``query`` sends to an address and returns the answer's
    Deferred; other messages go to ``controller.messageReceived``.  Answers
    from another address, or for another question, are ignored (RFC 5452).
    """

    def __init__(self, controller: Any, reactor: Any = None) -> None:
        DNSMixin.__init__(self, controller, reactor)
        self.resends: dict[int, int] = {}

    def stopProtocol(self) -> None:
        """Forget outstanding queries; the port is gone."""
        self.liveMessages = {}
        self._expected = {}
        self.resends = {}
        self.transport = None

    def startProtocol(self) -> None:
        """Start with no outstanding queries."""
        self.liveMessages = {}
        self._expected = {}
        self.resends = {}

    def writeMessage(self, message: Any, address: Any) -> None:
        """Send ``message`` to ``address``."""
        self.transport.write(message.toStr(), address)

    def startListening(self) -> None:
        """Bind a UDP port on an ephemeral (random) port chosen by the system."""
        self._reactor.listenUDP(0, self, maxPacketSize=65535)

    def datagramReceived(self, data: bytes, addr: Any = None) -> None:
        """Parse one datagram; answer a query or hand it to the controller."""
        # A controller may answer a repeated query from its reply cache
        # (``DNSServerFactory`` does for zone answers); it is told when the
        # query is one of ours or a resend, which it must not answer.
        cached = getattr(self.controller, "_cachedReply", None)
        if cached is not None and len(data) >= 12 and not data[2] & 0x80:
            id = (data[0] << 8) | data[1]
            if id not in self.liveMessages and id not in self.resends:
                if cached(data, self, addr):
                    return
                try:
                    self._parseDatagram(data, addr)
                finally:
                    self.controller._cachedReplyDone()
                return
        self._parseDatagram(data, addr)

    def _parseDatagram(self, data: bytes, addr: Any) -> None:
        m = Message()
        try:
            m.fromStr(data)
        except DNSFormatError as e:
            live = m.id in self.liveMessages and self._expected.get(m.id, (None,))[0] in (
                None, addr,
            )  # fmt: skip
            if live and len(data) >= 12 and data[2] & 0x80:
                # A broken answer to our query: fail it rather than time out.
                d, canceller = self.liveMessages.pop(m.id)
                self._expected.pop(m.id, None)
                canceller.cancel()
                d.errback(e)
                return
            if not self._malformed(data, addr, e):
                _log.debug("dropping malformed message from {addr}: {e}", addr=addr, e=e)
            return
        if m.id in self.liveMessages:
            if self._matches(m, addr):
                self._deliver(m)
            return
        if m.id not in self.resends:
            self.controller.messageReceived(m, self, addr)

    def _malformed(self, data: bytes, addr: Any, error: DNSFormatError) -> bool:
        """Give the controller a chance to answer a malformed query (FORMERR)."""
        handler = getattr(self.controller, "malformedMessageReceived", None)
        if handler is None:
            return False
        handler(data, self, addr, error)
        return True

    def removeResend(self, id: int) -> None:
        """Stop treating ``id`` as one of our resent queries."""
        self.resends.pop(id, None)

    def query(
        self, address: Any, queries: list[Query], timeout: float = 10, id: int | None = None
    ) -> Deferred[Message]:
        """
        Send ``queries`` to ``address`` (a ``(host, port)`` pair).

        Returns:
            A Deferred firing with the answering :class:`Message`, or failing
            with :class:`DNSQueryTimeoutError` after ``timeout`` seconds.
        """
        if not self.transport:
            try:
                self.startListening()
            except Exception:  # noqa: BLE001 - a port that cannot open fails the query
                return fail(Failure())
        if id is None:
            id = self.pickID()
        else:
            self.resends[id] = 1

        def writeMessage(m: Message) -> None:
            self.writeMessage(m, address)

        return self._query(queries, timeout, id, writeMessage, address)


class DNSProtocol(DNSMixin, _protocol.Protocol):
    """DNS over TCP: two-octet length framing (RFC 1035 section 4.2.2)."""

    def __init__(self, controller: Any, reactor: Any = None) -> None:
        DNSMixin.__init__(self, controller, reactor)
        self._framer = StreamFramer()

    def writeMessage(self, message: Any) -> None:
        """Send ``message`` with its length prefix."""
        self.transport.write(StreamFramer.frame(message.toStr()))

    def connectionMade(self) -> None:
        """Tell the controller the connection is up."""
        self.liveMessages = {}
        self._expected = {}
        self.controller.connectionMade(self)

    def connectionLost(self, reason: Failure = _protocol.connectionDone) -> None:
        """Fail outstanding queries and tell the controller."""
        live, self.liveMessages = self.liveMessages, {}
        self._expected = {}
        for d, canceller in live.values():
            if canceller.active():
                canceller.cancel()
            d.errback(reason)
        self.controller.connectionLost(self)

    def dataReceived(self, data: bytes) -> None:
        """Feed the framer; handle each complete message."""
        for raw in self._framer.feed(data):
            m = Message()
            try:
                m.fromStr(raw)
            except DNSFormatError as e:
                if m.id in self.liveMessages and len(raw) >= 12 and raw[2] & 0x80:
                    d, canceller = self.liveMessages.pop(m.id)
                    self._expected.pop(m.id, None)
                    canceller.cancel()
                    d.errback(e)
                    continue
                handler = getattr(self.controller, "malformedMessageReceived", None)
                if handler is not None:
                    handler(raw, self, None, e)
                    continue
                _log.debug("closing connection after malformed message: {e}", e=e)
                self.transport.loseConnection()
                return
            if m.id in self.liveMessages:
                if self._matches(m, None):
                    self._deliver(m)
                continue
            self.controller.messageReceived(m, self)

    def query(self, queries: list[Query], timeout: float = 60) -> Deferred[Message]:
        """Send ``queries`` on this connection; the Deferred fires with the answer."""
        id = self.pickID()
        return self._query(queries, timeout, id, self.writeMessage)
