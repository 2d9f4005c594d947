"""
TLS as a protocol wrapper, over OpenSSL memory BIOs.

:class:`TLSMemoryBIOProtocol` stands between a transport (any transport: TCP,
a UNIX socket, standard I/O, another TLS connection...) and an application
protocol.  Bytes from the transport go into OpenSSL's incoming memory BIO;
what OpenSSL decrypts goes to the application's ``dataReceived``.  What the
application writes is encrypted by OpenSSL into the outgoing memory BIO,
whose contents are written to the transport.  OpenSSL never touches a
socket, so the same code serves every transport.

Private: :mod:`fw.protocols.tls` is the public module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from OpenSSL import SSL
from zope.interface import directlyProvides, implementer, providedBy
from zope.interface.declarations import Declaration

from fw.internet import error
from fw.internet._interfaces_core import (
    IConsumer,
    ILoggingContext,
    IProducer,
    IPushProducer,
    ISystemHandle,
)
from fw.internet._interfaces_protocol import (
    IFileDescriptorReceiver,
    IHalfCloseableProtocol,
    IHandshakeListener,
    IProtocol,
    IProtocolFactory,
    IProtocolNegotiationFactory,
)
from fw.internet._interfaces_transport import (
    INegotiated,
    IOpenSSLClientConnectionCreator,
    IOpenSSLServerConnectionCreator,
    ISSLTransport,
    ITLSTransport,
)
from fw.internet._ssl_errors import TLSError, describeOpenSSLError
from fw.internet._ssl_options import installRenegotiationGuard
from fw.internet.protocol import ClientFactory, Protocol, connectionDone
from fw.python.failure import Failure

if TYPE_CHECKING:
    from fw.internet._interfaces_core import IAddress
    from fw.internet._interfaces_transport import IConnector

__all__ = ["TLSMemoryBIOFactory", "TLSMemoryBIOProtocol"]

# The most plaintext one SSL_read returns is one record: 16 KiB (RFC 8446
# section 5.1); asking for 64 KiB costs nothing more and leaves room.
_RECV_SIZE = 65536
# Decrypted bytes delivered in one dataReceived at most, and the most one
# record holds (RFC 8446 section 5.1: 2^14 bytes of plaintext).
_BATCH_SIZE = 262144
_RECORD_SIZE = 16384
# Encrypted bytes taken from the outgoing BIO per call: a 64 KiB write
# becomes four records of a little over 16 KiB, usually taken in one call.
_BIO_READ_SIZE = 131072
# Encrypted bytes read from a transport that lends its reads (a TCP
# connection) at most at once: asyncio's read size.
_RECEIVE_SIZE = 262144

# Interfaces that describe the protocol side of a connection: the wrapper
# provides these to its transport for its own reasons, never copied from it.
_PROTOCOL_SIDE = (
    IProtocol,
    IHalfCloseableProtocol,
    IFileDescriptorReceiver,
    IHandshakeListener,
    ITLSTransport,
)


class _FastBinding:
    """
    pyOpenSSL's own low-level binding, for the calls bulk transfers make
    over and over: ``SSL_read`` and ``SSL_write``, and reading and writing
    the memory BIOs, each without the public wrappers' per-call checks and
    allocations, and without an exception for "no more data yet".
    """

    def __init__(self, lib: Any, ffi: Any) -> None:
        self.lib = lib
        self.ffi = ffi
        self.wantRead: int = lib.SSL_ERROR_WANT_READ
        # Per thread: cffi lets other threads run during each OpenSSL call,
        # and reactors in two threads must not share a buffer.
        self._local = threading.local()

    def buffers(self) -> tuple[Any, Any, bytearray, Any]:
        """
        This thread's buffers: plaintext (for SSL_read), ciphertext to send
        (for BIO_read), and ciphertext received, as a ``bytearray`` the
        transport reads into and as a pointer for BIO_write.
        """
        local = self._local
        try:
            return local.buffers  # type: ignore[no-any-return]
        except AttributeError:
            received = bytearray(_RECEIVE_SIZE)
            local.buffers = (
                self.ffi.new("char[]", _BATCH_SIZE),
                self.ffi.new("char[]", _BIO_READ_SIZE),
                received,
                self.ffi.from_buffer(received),
            )
            return local.buffers  # type: ignore[no-any-return]


def _fastBinding() -> _FastBinding | None:
    """
    The :class:`_FastBinding`; ``None`` (the public, slower path) if this
    pyOpenSSL lacks what is needed.
    """
    try:
        from OpenSSL._util import ffi, lib

        needed = (
            "SSL_read",
            "SSL_write",
            "SSL_get_error",
            "BIO_read",
            "BIO_write",
            "BIO_get_mem_data",
        )
        if not (
            hasattr(SSL.Connection, "_raise_ssl_error")
            and hasattr(SSL.Connection, "_handle_bio_errors")
            and all(hasattr(lib, name) for name in needed)
        ):  # pragma: no cover - a pyOpenSSL that moved its internals
            return None
        return _FastBinding(lib, ffi)
    except Exception:  # noqa: BLE001 - any failure means: use the public API
        return None


class _State(Enum):
    """Where a TLS connection is (see the transitions in :class:`TLSMemoryBIOProtocol`)."""

    #: The handshake is in progress; application writes are buffered.
    HANDSHAKING = "handshaking"
    #: Application data flows both ways (either side may have half-closed).
    OPEN = "open"
    #: Closing: close_notify was sent (or an error or abort ended things);
    #: anything more from the peer is discarded.
    CLOSING = "closing"
    #: The transport reported the connection lost.
    CLOSED = "closed"


@implementer(IPushProducer)
class _ProducerMembrane:
    """
    Stands between the transport and the producer the application registered
    on the TLS connection.  The transport pauses and resumes it as its
    buffer fills and drains (encrypted bytes are what it buffers); until the
    handshake is done the producer is also held, since nothing it writes
    can be sent yet.
    """

    def __init__(self, producer: IProducer, streaming: bool) -> None:
        self.producer: Any = producer
        self.streaming = streaming
        self.pausedByTransport = False
        self.heldForHandshake = False
        self._pullWanted = False
        self.stopped = False

    def pauseProducing(self) -> None:
        if self.pausedByTransport or self.stopped:
            return
        self.pausedByTransport = True
        if not self.heldForHandshake:
            self.producer.pauseProducing()

    def resumeProducing(self) -> None:
        if self.stopped:
            return
        if not self.streaming:
            if self.heldForHandshake:
                self._pullWanted = True
            else:
                self.producer.resumeProducing()
            return
        if not self.pausedByTransport:
            return
        self.pausedByTransport = False
        if not self.heldForHandshake:
            self.producer.resumeProducing()

    def stopProducing(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.producer.stopProducing()

    def holdForHandshake(self) -> None:
        self.heldForHandshake = True
        if self.streaming and not self.pausedByTransport:
            self.producer.pauseProducing()

    def releaseAfterHandshake(self) -> None:
        if not self.heldForHandshake or self.stopped:
            return
        self.heldForHandshake = False
        if self.streaming:
            if not self.pausedByTransport:
                self.producer.resumeProducing()
        elif self._pullWanted:
            self._pullWanted = False
            self.producer.resumeProducing()


@implementer(ISystemHandle, INegotiated, ISSLTransport, IConsumer, IPushProducer, ILoggingContext)
class TLSMemoryBIOProtocol(Protocol):
    """
    TLS over the transport this protocol is connected to, for the protocol it
    wraps.

    To the transport it is the protocol; to the wrapped protocol it is the
    transport, providing :class:`~fw.internet.interfaces.ISSLTransport`
    (``getPeerCertificate``), :class:`~fw.internet.interfaces.INegotiated`
    (``negotiatedProtocol``, the ALPN result) and every interface of the
    transport under it.  Attributes it does not have are looked up on that
    transport (``setTcpNoDelay``...).

    The wrapped protocol sees the usual calls::

        makeConnection -> [handshakeCompleted] -> dataReceived*
            [-> readConnectionLost] [-> writeConnectionLost] -> connectionLost

    ``handshakeCompleted`` is called when the wrapped protocol provides
    :class:`~fw.internet.interfaces.IHandshakeListener`; the half-close calls
    when it provides :class:`~fw.internet.interfaces.IHalfCloseableProtocol`
    (the peer's ``close_notify`` is its end of input; ``loseWriteConnection``
    sends ours).

    The connection moves ``HANDSHAKING -> OPEN -> CLOSING -> CLOSED``, or
    straight from ``HANDSHAKING`` to ``CLOSING`` when the handshake fails.
    A failed handshake, a certificate the options refuse or a corrupt
    record ends the connection, and ``connectionLost`` gets a
    :class:`~fw.protocols.tls.TLSError` (an ``OpenSSL.SSL.Error``) saying
    why; a failed hostname check gives ``service_identity``'s
    ``VerificationError``.  A connection whose peer stops without a
    ``close_notify`` (so that what was received may be truncated) ends with
    ``ConnectionLost``.

    Args:
        factory: the :class:`TLSMemoryBIOFactory` that built it.
        wrappedProtocol: the application protocol.
        _connectWrapped: whether to call the wrapped protocol's
            ``makeConnection`` (``False`` when it is connected already, as
            after ``startTLS``).

    Attributes:
        wrappedProtocol: the application protocol.
        factory: the TLS factory.
        transport: the transport under TLS.
        disconnecting: true once the application asked to close.
    """

    transport: Any = None
    disconnecting = False
    _tlsConnection: SSL.Connection | None = None

    def __init__(
        self,
        factory: TLSMemoryBIOFactory,
        wrappedProtocol: IProtocol,
        _connectWrapped: bool = True,
    ) -> None:
        self.factory: Any = factory
        self.wrappedProtocol = wrappedProtocol
        self._connectWrapped = _connectWrapped
        self._state = _State.HANDSHAKING
        self._appSendBuffer: list[bytes] = []
        self._reason: Failure | None = None
        self._producer: _ProducerMembrane | None = None
        # Asked for while the handshake runs or a producer is registered.
        self._closeWanted = False
        self._writeShutWanted = False
        # close_notify sent by loseWriteConnection (reading goes on).
        self._writeShut = False
        # close_notify received from the peer.
        self._peerClosed = False
        self._aborted = False

    # -- interfaces, and what is looked up on the transport

    def _provideInterfaces(self) -> None:
        transportSide = [
            i for i in providedBy(self.transport).flattened() if i not in _PROTOCOL_SIDE
        ]
        # The transport calls readConnectionLost/writeConnectionLost on us
        # (we always decide what a half-close means); IHandshakeListener
        # is what the protocol *under* TLS-in-TLS would look for.
        directlyProvides(self, Declaration(IHalfCloseableProtocol, *transportSide))

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class lacks; never for special names
        # (copying, pickling and adaptation must see the wrapper itself).
        if name.startswith("__") or name in ("transport", "wrappedProtocol", "factory"):
            raise AttributeError(name)
        transport = self.__dict__.get("transport")
        if transport is None:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")
        return getattr(transport, name)

    def logPrefix(self) -> str:
        """The wrapped protocol's log prefix, or its class name."""
        wrapped = self.wrappedProtocol
        if ILoggingContext.providedBy(wrapped):
            return str(wrapped.logPrefix())
        return wrapped.__class__.__name__

    # -- what the transport calls

    def makeConnection(self, transport: Any) -> None:
        """Attach to ``transport``, connect the wrapped protocol, start the handshake."""
        self.connected = True
        self.transport = transport
        self._provideInterfaces()
        self._tlsConnection = self.factory._createConnection(self)
        if _fast is not None:
            lend = getattr(transport, "_lendReadBuffer", None)
            if lend is not None:
                lend(self, self._readBuffer, self._readInto)
        self.factory.registerProtocol(self)
        if self._connectWrapped:
            self.wrappedProtocol.makeConnection(self)
        if self._state is _State.HANDSHAKING:
            self._tryHandshake()

    def dataReceived(self, data: bytes) -> None:
        """Encrypted bytes arrived: feed OpenSSL and pass what it decrypts on."""
        state = self._state
        if state is _State.OPEN:
            conn = self._tlsConnection
            assert conn is not None
            if _fast is not None and type(data) is bytes:
                into = conn._into_ssl
                written = _fast.lib.BIO_write(into, data, len(data))
                if written <= 0 and data:
                    conn._handle_bio_errors(into, written)
                self._readBatched(conn, _fast)
                return
            conn.bio_write(data)
            self._readApplicationData(conn)
            return
        if state is not _State.HANDSHAKING:
            # Closing: whatever else the peer sends is dropped (RFC 8446
            # section 6.1: data after close_notify is ignored).
            return
        conn = self._tlsConnection
        assert conn is not None
        conn.bio_write(data)
        self._tryHandshake()
        if self._state is _State.OPEN:
            # Application data may have come in the same segments.
            self._readApplicationData(conn)

    def _readBuffer(self) -> bytearray:
        """Where the transport reads encrypted bytes into (see ``_lendReadBuffer``)."""
        assert _fast is not None
        return _fast.buffers()[2]

    def _readInto(self, count: int) -> None:
        """The transport read ``count`` bytes into :meth:`_readBuffer`."""
        assert _fast is not None
        buffers = _fast.buffers()
        conn = self._tlsConnection
        if self._state is _State.OPEN and conn is not None:
            into = conn._into_ssl
            written = _fast.lib.BIO_write(into, buffers[3], count)
            if written <= 0:
                conn._handle_bio_errors(into, written)
            self._readBatched(conn, _fast)
            return
        self.dataReceived(bytes(memoryview(buffers[2])[:count]))

    def readConnectionLost(self) -> None:
        """The transport's read side closed (end of input under TLS)."""
        if self._peerClosed or self._state is _State.CLOSING:
            # close_notify came first: the wrapped protocol was told (or
            # the connection is closing already).
            if self._state is _State.CLOSING or self._writeShut:
                self.transport.loseConnection()
            return
        if self._state is _State.HANDSHAKING:
            why = "the peer closed the connection during the TLS handshake"
        else:
            why = (
                "the peer closed the connection without a TLS close_notify, "
                "so the data received may be truncated"
            )
        self._fail(Failure(error.ConnectionLost(why)))

    def writeConnectionLost(self) -> None:
        """The transport's write side is shut (after our close_notify)."""
        wrapped: Any = self.wrappedProtocol
        if self._writeShut and IHalfCloseableProtocol.providedBy(wrapped):
            wrapped.writeConnectionLost()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """The transport is gone: tell the wrapped protocol why."""
        if self._state is _State.CLOSED:
            return
        before = self._state
        self._state = _State.CLOSED
        if self._reason is not None:
            reason = self._reason
        elif not self._aborted and reason.check(error.ConnectionDone):
            # A transport that cannot half-close reports the end of input
            # here: without close_notify, it was not a clean TLS close.
            if before is _State.HANDSHAKING:
                reason = Failure(
                    error.ConnectionLost("the connection closed during the TLS handshake")
                )
            elif before is _State.OPEN and not self._peerClosed:
                reason = Failure(
                    error.ConnectionLost(
                        "the connection closed without a TLS close_notify, "
                        "so the data received may be truncated"
                    )
                )
        if self.factory.isClient:
            # The connector tells the client factory right after this call:
            # it should hear the TLS reason, not just the transport's.
            self.factory._tlsReason = reason
        self._reason = reason
        self.connected = False
        self._appSendBuffer = []
        self.factory.unregisterProtocol(self)
        membrane, self._producer = self._producer, None
        if membrane is not None:
            membrane.stopProducing()
        self.wrappedProtocol.connectionLost(reason)

    # -- the handshake

    def _tryHandshake(self) -> None:
        conn = self._tlsConnection
        assert conn is not None
        try:
            conn.do_handshake()
        except SSL.WantReadError:
            self._flushSendBIO()
            return
        except SSL.Error as e:
            if self._state is _State.HANDSHAKING:
                detail = getattr(conn, "_fwVerifyFailure", "")
                self._fail(Failure(describeOpenSSLError(e, detail)))
            return
        if self._state is not _State.HANDSHAKING:
            # A check run during the handshake (the hostname, for one)
            # failed and closed the connection.
            return
        self._state = _State.OPEN
        self._flushSendBIO()
        wrapped: Any = self.wrappedProtocol
        if IHandshakeListener.providedBy(wrapped):
            wrapped.handshakeCompleted()
        if self._state is not _State.OPEN:
            return
        buffered, self._appSendBuffer = self._appSendBuffer, []
        if buffered:
            self._encrypt(b"".join(buffered))
        if self._producer is not None:
            self._producer.releaseAfterHandshake()
        elif self._closeWanted or self._writeShutWanted:
            self._afterProducer()

    def _afterProducer(self) -> None:
        """Go ahead with a close asked for while the handshake ran or a producer was registered."""
        if self._state is _State.OPEN:
            if self._closeWanted:
                self._shutdownTLS()
            elif self._writeShutWanted:
                self._shutdownWrite()

    # -- reading

    def _readApplicationData(self, conn: SSL.Connection) -> None:
        if _fast is not None:
            self._readBatched(conn, _fast)
            return
        recv = conn.recv
        deliver = self.wrappedProtocol.dataReceived
        while self._state is _State.OPEN:
            try:
                data = recv(_RECV_SIZE)
            except SSL.Error as e:
                self._readFailed(e)
                return
            deliver(data)

    def _readBatched(self, conn: SSL.Connection, fast: _FastBinding) -> None:
        """
        Decrypt every record available into one buffer and deliver it in one
        call: SSL_read gives one record (at most 16 KiB) per call, and the
        per-call cost of pyOpenSSL's wrapper is what bulk transfers pay most.
        """
        lib = fast.lib
        sslRead = lib.SSL_read
        buffer = fast.buffers()[0]
        ssl = conn._ssl
        size = _BATCH_SIZE
        limit = size - _RECORD_SIZE
        while self._state is _State.OPEN:
            filled = 0
            failed: SSL.Error | None = None
            wantRead = False
            while filled < limit:
                result = sslRead(ssl, buffer + filled, size - filled)
                if result > 0:
                    filled += result
                    continue
                # The reason is read now, before any protocol code can make
                # other OpenSSL calls; "no more input yet" without raising.
                if lib.SSL_get_error(ssl, result) == fast.wantRead:
                    wantRead = True
                else:
                    try:
                        conn._raise_ssl_error(ssl, result)
                    except SSL.Error as e:
                        failed = e
                    else:  # pragma: no cover - OpenSSL reported no error after all
                        wantRead = True
                break
            if filled:
                self.wrappedProtocol.dataReceived(fast.ffi.buffer(buffer, filled)[:])
            if failed is not None:
                self._readFailed(failed)
                return
            if wantRead:
                break
        if self._state is _State.OPEN:
            self._flushSendBIO()

    def _readFailed(self, e: SSL.Error) -> None:
        """SSL_read stopped: for want of input, at close_notify, or on an error."""
        if isinstance(e, SSL.WantReadError):
            if self._state is _State.OPEN:
                self._flushSendBIO()
            return
        if isinstance(e, SSL.ZeroReturnError):
            self._flushSendBIO()
            self._closeNotifyReceived()
            return
        if isinstance(e, SSL.SysCallError) and e.args and e.args[0] == -1:
            # OpenSSL's "unexpected EOF": treated as the transport's end.
            self.readConnectionLost()
            return
        self._fail(Failure(describeOpenSSLError(e, handshake=False)))

    def _closeNotifyReceived(self) -> None:
        """The peer sent close_notify: the end of its data."""
        self._peerClosed = True
        wrapped: Any = self.wrappedProtocol
        if IHalfCloseableProtocol.providedBy(wrapped) and not self.disconnecting:
            if self._writeShut:
                # Both directions are now closed.
                self._state = _State.CLOSING
                self.transport.loseConnection()
                return
            wrapped.readConnectionLost()
            return
        # RFC 8446 section 6.1: answer with our own close_notify, then close.
        self._shutdownTLS()

    # -- writing

    def _flushSendBIO(self) -> None:
        conn = self._tlsConnection
        if conn is None:
            return
        fast = _fast
        if fast is not None:
            # How much is waiting, without an exception when it is nothing.
            bio = conn._from_ssl
            pending = fast.lib.BIO_get_mem_data(bio, fast.ffi.NULL)
            if pending <= 0:
                return
            if pending <= _BIO_READ_SIZE:
                buffer = fast.buffers()[1]
                taken = fast.lib.BIO_read(bio, buffer, pending)
                if taken > 0:
                    self.transport.write(fast.ffi.buffer(buffer, taken)[:])
                    return
        bioRead = conn.bio_read
        try:
            data = bioRead(_BIO_READ_SIZE)
        except SSL.WantReadError:
            return
        if len(data) < _BIO_READ_SIZE:
            # A memory BIO gives all it holds up to the size asked: it is
            # empty now (this saves a call that would raise WantReadError).
            self.transport.write(data)
            return
        chunks = [data]
        while True:
            try:
                chunks.append(bioRead(_BIO_READ_SIZE))
            except SSL.WantReadError:
                break
        self.transport.write(b"".join(chunks))

    def _encrypt(self, data: bytes | bytearray | memoryview) -> None:
        conn = self._tlsConnection
        assert conn is not None
        send = conn.send
        total = len(data)
        try:
            if _fast is not None and type(data) is bytes:
                ssl = conn._ssl
                sent = _fast.lib.SSL_write(ssl, data, total)
                if sent <= 0:
                    conn._raise_ssl_error(ssl, sent)
                    sent = 0  # pragma: no cover - it raised
            else:
                sent = send(data)
            if sent < total:
                view = memoryview(data)
                while sent < total:
                    sent += send(view[sent:])
        except SSL.WantReadError:
            # Only a (refused) renegotiation makes OpenSSL wait for input
            # before it writes: treat it as the protocol error it is.
            self._fail(
                Failure(TLSError([], "TLS connection failed: the peer started a renegotiation"))
            )
            return
        except SSL.Error as e:
            self._fail(Failure(describeOpenSSLError(e, handshake=False)))
            return
        self._flushSendBIO()

    def write(self, data: bytes) -> None:
        """
        Encrypt and send ``data``; before the handshake is done it is kept
        and sent once it is.  Writes after ``close_notify`` was sent are
        dropped.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        if not data:
            return
        state = self._state
        if state is _State.OPEN:
            if not self._writeShut:
                self._encrypt(data)
        elif state is _State.HANDSHAKING and not self._writeShutWanted:
            self._appSendBuffer.append(bytes(data))

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        """Write the items of ``iovec`` as one write."""
        self.write(b"".join(iovec))

    # -- closing

    def _fail(self, reason: Failure) -> None:
        """End the connection for ``reason``, sending any alert OpenSSL made first."""
        if self._state in (_State.CLOSING, _State.CLOSED):
            return
        self._reason = reason
        self._state = _State.CLOSING
        self._flushSendBIO()
        self.transport.loseConnection()

    def _shutdownTLS(self) -> None:
        """Send close_notify, then close the transport once it is written."""
        if self._state in (_State.CLOSING, _State.CLOSED):
            return
        self._state = _State.CLOSING
        conn = self._tlsConnection
        assert conn is not None
        if not self._writeShut:
            try:
                conn.shutdown()
            except SSL.Error:
                pass
            self._flushSendBIO()
        # RFC 8446 section 6.1: the initiator need not wait for the peer's
        # close_notify before closing.
        self.transport.loseConnection()

    def _shutdownWrite(self) -> None:
        """Send close_notify and shut the transport's write side; reading goes on."""
        if self._writeShut or self._state is not _State.OPEN:
            return
        self._writeShut = True
        conn = self._tlsConnection
        assert conn is not None
        try:
            conn.shutdown()
        except SSL.Error:
            pass
        self._flushSendBIO()
        if self._peerClosed:
            self._state = _State.CLOSING
            self.transport.loseConnection()
            return
        loseWrite = getattr(self.transport, "loseWriteConnection", None)
        if loseWrite is not None:
            loseWrite()
        else:
            self.writeConnectionLost()

    def loseConnection(self) -> None:
        """
        Close cleanly: once the handshake is done, buffered data is sent and
        any registered producer is unregistered, send ``close_notify`` and
        close the transport.
        """
        if self.disconnecting or self._state in (_State.CLOSING, _State.CLOSED):
            return
        self.disconnecting = True
        self._closeWanted = True
        if self._state is _State.OPEN and self._producer is None:
            self._shutdownTLS()

    def loseWriteConnection(self) -> None:
        """
        Half-close: send ``close_notify`` (once the handshake is done and
        any producer is unregistered) and shut the transport's write side;
        the peer's data keeps arriving.
        """
        if self._writeShut or self._writeShutWanted:
            return
        self._writeShutWanted = True
        if self._state is _State.OPEN and self._producer is None:
            self._shutdownWrite()

    def abortConnection(self) -> None:
        """Close at once, without ``close_notify``, dropping unsent data."""
        if self._state is _State.CLOSED:
            return
        self._aborted = True
        self.disconnecting = True
        self._state = _State.CLOSING
        self._appSendBuffer = []
        self.transport.abortConnection()

    def failVerification(self, reason: Failure) -> None:
        """
        End the connection because the peer's identity is wrong: abort it,
        and give ``reason`` to the wrapped protocol's ``connectionLost``.
        (Called by connection creators' checks during the handshake.)
        """
        if self._state in (_State.CLOSING, _State.CLOSED):
            return
        self._reason = reason
        self.abortConnection()

    @property
    def _handshakeDone(self) -> bool:
        return self._state is not _State.HANDSHAKING

    def _refuseRenegotiation(self) -> None:
        """The peer asked for a renegotiation (TLS 1.2 and older): end the connection."""
        self.failVerification(
            Failure(
                TLSError(
                    [],
                    "TLS connection failed: the peer tried to renegotiate, "
                    "which fw refuses (RFC 5746 attacks, and CPU exhaustion)",
                )
            )
        )

    # -- the peer's identity and the negotiated protocol

    def getPeerCertificate(self) -> Any:
        """The peer's certificate (an ``OpenSSL.crypto.X509``), or ``None``."""
        conn = self._tlsConnection
        if conn is None:
            return None
        return conn.get_peer_certificate()

    @property
    def negotiatedProtocol(self) -> bytes | None:
        """The protocol chosen with ALPN, or ``None`` (none, or handshake not done)."""
        conn = self._tlsConnection
        if conn is None or self._state is _State.HANDSHAKING:
            return None
        return conn.get_alpn_proto_negotiated() or None

    def getHandle(self) -> Any:
        """The ``OpenSSL.SSL.Connection`` of this connection."""
        return self._tlsConnection

    # -- producers (the application's, through TLS)

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """
        Register ``producer``; it is paused while the transport's buffer of
        encrypted data is full, and while the handshake runs.

        Raises:
            RuntimeError: a producer is already registered.
        """
        if self._producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer!r}, because producer "
                f"{self._producer.producer!r} was never unregistered."
            )
        if self._state in (_State.CLOSING, _State.CLOSED):
            producer.stopProducing()
            return
        membrane = _ProducerMembrane(producer, streaming)
        self._producer = membrane
        if self._state is _State.HANDSHAKING:
            membrane.holdForHandshake()
        self.transport.registerProducer(membrane, streaming)

    def unregisterProducer(self) -> None:
        """Forget the producer; a close asked for meanwhile goes ahead."""
        if self._producer is None:
            return
        self._producer = None
        if self.transport is not None:
            self.transport.unregisterProducer()
        self._afterProducer()

    def stopConsuming(self) -> None:
        """Unregister the producer and close."""
        self.unregisterProducer()
        self.loseConnection()

    # -- this connection as a producer of what it reads

    def pauseProducing(self) -> None:
        """Stop reading from the transport."""
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        """Read from the transport again."""
        self.transport.resumeProducing()

    def stopProducing(self) -> None:
        """Close the connection."""
        self.loseConnection()

    # -- ITCPTransport, passed to the transport

    def getPeer(self) -> Any:
        """The transport's peer address."""
        return self.transport.getPeer()

    def getHost(self) -> Any:
        """The transport's own address."""
        return self.transport.getHost()

    def getTcpNoDelay(self) -> bool:
        """The transport's ``TCP_NODELAY``."""
        return bool(self.transport.getTcpNoDelay())

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Set the transport's ``TCP_NODELAY``."""
        self.transport.setTcpNoDelay(enabled)

    def getTcpKeepAlive(self) -> bool:
        """The transport's ``SO_KEEPALIVE``."""
        return bool(self.transport.getTcpKeepAlive())

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Set the transport's ``SO_KEEPALIVE``."""
        self.transport.setTcpKeepAlive(enabled)

    # -- TLS in TLS: a TLS connection under this one tells us of its handshake

    def handshakeCompleted(self) -> None:
        """The TLS connection *under* this one finished its handshake (TLS in TLS): ignored."""


class TLSMemoryBIOFactory(ClientFactory):
    """
    Wraps each protocol of another factory in TLS.

    Args:
        contextFactory: what makes the OpenSSL connections: an
            :class:`~fw.internet.interfaces.IOpenSSLClientConnectionCreator`
            (clients), an
            :class:`~fw.internet.interfaces.IOpenSSLServerConnectionCreator`
            (servers), or an
            :class:`~fw.internet.interfaces.IOpenSSLContextFactory` such as
            :class:`~fw.internet.ssl.CertificateOptions` (either).
        isClient: whether this end starts the handshake.
        wrappedFactory: the application's factory (``None`` when protocols
            are wrapped one by one, as ``startTLS`` does).

    Attributes:
        wrappedFactory: the application's factory.
        protocols: the connected TLS protocols (as keys).
    """

    protocol: Any = TLSMemoryBIOProtocol
    noisy = False
    _tlsReason: Failure | None = None

    def __init__(
        self,
        contextFactory: Any,
        isClient: bool,
        wrappedFactory: IProtocolFactory | None,
    ) -> None:
        self.wrappedFactory = wrappedFactory
        self.isClient = isClient
        self.protocols: dict[TLSMemoryBIOProtocol, int] = {}
        self._connectionCreator = _connectionCreatorFor(contextFactory, isClient)

    def logPrefix(self) -> str:
        """The wrapped factory's log prefix, followed by ``(TLS)``."""
        wrapped: Any = self.wrappedFactory
        if ILoggingContext.providedBy(wrapped):
            name = str(wrapped.logPrefix())
        else:
            name = type(wrapped).__name__
        return f"{name} (TLS)"

    def doStart(self) -> None:
        """Start the wrapped factory, then this one."""
        if self.wrappedFactory is not None:
            self.wrappedFactory.doStart()
        super().doStart()

    def doStop(self) -> None:
        """Stop the wrapped factory, then this one."""
        if self.wrappedFactory is not None:
            self.wrappedFactory.doStop()
        super().doStop()

    def startedConnecting(self, connector: IConnector) -> None:
        """Pass the news on to a wrapped client factory."""
        method = getattr(self.wrappedFactory, "startedConnecting", None)
        if method is not None:
            method(connector)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Pass the failure on to a wrapped client factory."""
        method = getattr(self.wrappedFactory, "clientConnectionFailed", None)
        if method is not None:
            method(connector, reason)

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """Pass the loss on to a wrapped client factory, with the TLS reason."""
        tlsReason, self._tlsReason = self._tlsReason, None
        if tlsReason is not None:
            reason = tlsReason
        method = getattr(self.wrappedFactory, "clientConnectionLost", None)
        if method is not None:
            method(connector, reason)

    def buildProtocol(self, addr: IAddress) -> Any:
        """Build the wrapped factory's protocol and wrap it (``None`` refuses)."""
        assert self.wrappedFactory is not None
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        return self.protocol(self, wrapped)

    def registerProtocol(self, p: TLSMemoryBIOProtocol) -> None:
        """A TLS protocol connected."""
        self.protocols[p] = 1

    def unregisterProtocol(self, p: TLSMemoryBIOProtocol) -> None:
        """A TLS protocol's connection was lost."""
        self.protocols.pop(p, None)

    def _createConnection(self, tlsProtocol: TLSMemoryBIOProtocol) -> SSL.Connection:
        """The OpenSSL connection for ``tlsProtocol``, in client or server mode."""
        creator = self._connectionCreator
        if self.isClient:
            connection = creator.clientConnectionForTLS(tlsProtocol)
            self._applyProtocolNegotiation(connection)
            connection.set_connect_state()
        else:
            connection = creator.serverConnectionForTLS(tlsProtocol)
            self._applyProtocolNegotiation(connection)
            connection.set_accept_state()
        return connection  # type: ignore[no-any-return]

    def _applyProtocolNegotiation(self, connection: SSL.Connection) -> None:
        """Offer (client) the wrapped factory's ALPN protocols, when it has some."""
        wrapped: Any = self.wrappedFactory
        if wrapped is None or not IProtocolNegotiationFactory.providedBy(wrapped):
            return
        protocols = list(wrapped.acceptableProtocols())
        if protocols and self.isClient:
            connection.set_alpn_protos(protocols)


@implementer(IOpenSSLClientConnectionCreator, IOpenSSLServerConnectionCreator)
class _ContextFactoryCreator:
    """Makes connections from an ``IOpenSSLContextFactory``'s context (Twisted's old style)."""

    def __init__(self, contextFactory: Any) -> None:
        self._contextFactory = contextFactory

    def _connection(self, tlsProtocol: Any, client: bool) -> SSL.Connection:
        context = self._contextFactory.getContext()
        connection = SSL.Connection(context, None)
        connection.set_app_data(tlsProtocol)
        if not client:
            installRenegotiationGuard(connection, tlsProtocol)
        return connection

    def clientConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        return self._connection(tlsProtocol, True)

    def serverConnectionForTLS(self, tlsProtocol: Any) -> SSL.Connection:
        return self._connection(tlsProtocol, False)


def _connectionCreatorFor(contextFactory: Any, isClient: bool) -> Any:
    """
    The connection creator for ``contextFactory``: itself when it provides
    the creator interface of this side, else an adapter over its
    ``getContext``.

    Raises:
        TypeError: it is neither.
    """
    wanted = IOpenSSLClientConnectionCreator if isClient else IOpenSSLServerConnectionCreator
    if wanted.providedBy(contextFactory):
        return contextFactory
    if hasattr(contextFactory, "getContext"):
        return _ContextFactoryCreator(contextFactory)
    side = "client" if isClient else "server"
    raise TypeError(
        f"{contextFactory!r} cannot make TLS {side} connections: it provides neither "
        f"{wanted.__name__} nor IOpenSSLContextFactory (getContext)"
    )


#: The low-level binding every connection uses when it can (its buffers are
#: per thread, and copied out before any protocol code runs).
_fast = _fastBinding()
