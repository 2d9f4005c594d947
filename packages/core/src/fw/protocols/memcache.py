"""
A client for memcached's text protocol.

:class:`MemCacheProtocol` sends commands and returns a Deferred for each;
answers come back in order.  Connect it like any protocol::

    proto = await connectProtocol(endpoint, MemCacheProtocol())
    await proto.set(b"key", b"value")
    flags, value = await proto.get(b"key")

Errors the server reports fail the command's Deferred with
:class:`NoSuchCommand` (``ERROR``), :class:`ClientError`
(``CLIENT_ERROR``) or :class:`ServerError` (``SERVER_ERROR``).  Bad
arguments (a key that is not bytes, too long, or holds spaces) fail at once
with :class:`ClientError`, without sending anything.  A server that sends
something that is not a valid answer fails every pending command with
:class:`ResponseError` and the connection is closed.  If no answer comes
within :attr:`MemCacheProtocol.persistentTimeOut` seconds, every pending
command fails with :class:`~fw.internet.defer.TimeoutError` and the
connection is closed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, ClassVar, cast

from fw.internet.defer import Deferred, TimeoutError, fail
from fw.internet.protocol import connectionDone
from fw.protocols.basic import LineReceiver
from fw.python.failure import Failure

__all__ = [
    "DEFAULT_PORT",
    "ClientError",
    "MemCacheProtocol",
    "NoSuchCommand",
    "ResponseError",
    "ServerError",
]

DEFAULT_PORT = 11211


class NoSuchCommand(Exception):
    """The server answered ``ERROR``: it does not know the command."""


class ClientError(Exception):
    """The request was invalid (the server's ``CLIENT_ERROR``, or caught before sending)."""


class ServerError(Exception):
    """The server failed (``SERVER_ERROR``)."""


class ResponseError(RuntimeError):
    """The server sent something that is not a valid answer to the pending command."""


class Command:
    """
    A command waiting for its answer.

    Attributes:
        command: the command's name, such as ``b"get"``.
    """

    # What the answer parsing fills in, depending on the command.
    key: bytes
    keys: set[bytes]
    values: dict[bytes, Any]
    currentKey: bytes
    multiple: bool = False
    flags: int = 0
    cas: bytes = b""
    value: bytes | None = None

    def __init__(self, command: bytes, **kwargs: Any) -> None:
        self.command = command
        self._deferred: Deferred[Any] = Deferred()
        for name, value in kwargs.items():
            setattr(self, name, value)

    def success(self, value: Any) -> None:
        """Fire the command's Deferred with ``value``."""
        self._deferred.callback(value)

    def fail(self, error: BaseException | Failure) -> None:
        """Fail the command's Deferred."""
        self._deferred.errback(error)


class MemCacheProtocol(LineReceiver):
    """
    A memcached client connection.

    Args:
        timeOut: seconds to wait for an answer before failing all pending
            commands and closing.

    Attributes:
        MAX_KEY_LENGTH: memcached's key length limit (250 bytes).
        maxValueLength: the largest value accepted in an answer (128 MiB,
            well above memcached's 1 MiB default item size limit, and a
            bound on what a broken server can make us buffer).
        callLater: schedules the timeout; the global reactor's when
            ``None`` (tests set a ``Clock``'s).
    """

    MAX_KEY_LENGTH = 250
    maxValueLength = 128 * 1024 * 1024
    _disconnected = False
    callLater: Any = None

    def __init__(self, timeOut: float = 60) -> None:
        self._current: deque[Command] = deque()
        self._lenExpected: int | None = None
        self._getBuffer: list[bytes] | None = None
        self._bufferLength = 0
        self.persistentTimeOut = self.timeOut = timeOut
        self._timeoutCall: Any = None

    # -- timeouts

    def _setTimeout(self, period: float | None) -> None:
        if self._timeoutCall is not None and self._timeoutCall.active():
            self._timeoutCall.cancel()
        self._timeoutCall = None
        if period:
            callLater = self.callLater
            if callLater is None:
                from fw.internet import reactor

                callLater = reactor.callLater  # type: ignore[attr-defined]
            self._timeoutCall = callLater(period, self.timeoutConnection)

    def resetTimeout(self) -> None:
        """Restart the timeout, if one is running."""
        if self._timeoutCall is not None and self._timeoutCall.active():
            self._timeoutCall.reset(self.persistentTimeOut)

    def timeoutConnection(self) -> None:
        """No answer in time: fail the pending commands and close."""
        self._timeoutCall = None
        self._cancelCommands(TimeoutError("Connection timeout"))
        assert self.transport is not None
        self.transport.loseConnection()

    def _cancelCommands(self, reason: BaseException | Failure) -> None:
        while self._current:
            self._current.popleft().fail(reason)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail the pending commands."""
        self._disconnected = True
        self._setTimeout(None)
        self._cancelCommands(reason)
        super().connectionLost(reason)

    def _protocolError(self, message: str) -> None:
        self._setTimeout(None)
        self._cancelCommands(ResponseError(message))
        self.clearLineBuffer()
        assert self.transport is not None
        self.transport.loseConnection()

    # -- receiving

    def sendLine(self, line: bytes) -> None:
        """Send a command line, starting the timeout if nothing was pending."""
        if not self._current:
            self._setTimeout(self.persistentTimeOut)
        super().sendLine(line)

    def rawDataReceived(self, data: bytes) -> None:
        """Collect a value's bytes."""
        self.resetTimeout()
        assert self._getBuffer is not None
        assert self._lenExpected is not None
        self._getBuffer.append(data)
        self._bufferLength += len(data)
        if self._bufferLength < self._lenExpected + 2:
            return
        data = b"".join(self._getBuffer)
        value = data[: self._lenExpected]
        if data[self._lenExpected : self._lenExpected + 2] != b"\r\n":
            self._protocolError("value not followed by CRLF")
            return
        rest = data[self._lenExpected + 2 :]
        self._lenExpected = None
        self._getBuffer = None
        self._bufferLength = 0
        cmd = self._current[0]
        if cmd.multiple:
            flags, cas = cmd.values[cmd.currentKey]
            cmd.values[cmd.currentKey] = (flags, cas, value)
        else:
            cmd.value = value
        self.setLineMode(rest)

    def lineReceived(self, line: bytes) -> None:
        """Dispatch an answer line to the pending command."""
        self.resetTimeout()
        if not self._current:
            self._protocolError(f"answer with no command pending: {line[:100]!r}")
            return
        token, _, rest = line.partition(b" ")
        handler = self._WITH_ARGUMENT.get(token)
        if handler is not None:
            handler(self, rest)
        else:
            handler = self._NO_ARGUMENT.get(line)
            if handler is not None:
                handler(self)
            elif self._current[0].command in (b"incr", b"decr") and line.isdigit():
                # increment/decrement: the new value.
                self._current.popleft().success(int(line))
            else:
                self._protocolError(f"unexpected answer {line[:100]!r}")
                return
        if not self._current:
            self._setTimeout(None)

    def lineLengthExceeded(self, line: bytes) -> None:
        """An answer line too long: the server is broken."""
        self._protocolError("answer line too long")

    def _expect(self, *commands: bytes) -> Command | None:
        cmd = self._current[0]
        if cmd.command not in commands:
            self._protocolError(f"answer not valid for {cmd.command!r}")
            return None
        return cmd

    def cmd_STORED(self) -> None:
        """A store command succeeded."""
        if self._expect(b"set", b"add", b"replace", b"append", b"prepend", b"cas"):
            self._current.popleft().success(True)

    def cmd_NOT_STORED(self) -> None:
        """A store command's condition was not met."""
        if self._expect(b"set", b"add", b"replace", b"append", b"prepend", b"cas"):
            self._current.popleft().success(False)

    def cmd_EXISTS(self) -> None:
        """A check-and-set found the item changed."""
        if self._expect(b"cas"):
            self._current.popleft().success(False)

    def cmd_NOT_FOUND(self) -> None:
        """The item does not exist."""
        if self._expect(b"cas", b"delete", b"incr", b"decr"):
            self._current.popleft().success(False)

    def cmd_DELETED(self) -> None:
        """A delete succeeded."""
        if self._expect(b"delete"):
            self._current.popleft().success(True)

    def cmd_OK(self) -> None:
        """A flush (or another ``OK`` command) succeeded."""
        self._current.popleft().success(True)

    def cmd_VALUE(self, line: bytes) -> None:
        """A value follows."""
        cmd = self._expect(b"get", b"gets")
        if cmd is None:
            return
        parts = line.split()
        try:
            if cmd.command == b"get" and len(parts) == 3:
                key, flags, length = parts[0], int(parts[1]), int(parts[2])
                cas = b""
            elif cmd.command == b"gets" and len(parts) == 4:
                key, flags, length, cas = parts[0], int(parts[1]), int(parts[2]), parts[3]
            else:
                raise ValueError(line)
        except ValueError:
            self._protocolError(f"malformed VALUE line {line[:100]!r}")
            return
        if length < 0 or length > self.maxValueLength:
            self._protocolError(f"value of {length} bytes over the limit")
            return
        if cmd.multiple:
            if key not in cmd.keys:
                self._protocolError(f"value for a key not asked for: {key[:100]!r}")
                return
            cmd.currentKey = key
            cmd.values[key] = [flags, cas]
        else:
            if cmd.key != key:
                self._protocolError(f"value for a key not asked for: {key[:100]!r}")
                return
            cmd.flags = flags
            cmd.cas = cas
        self._lenExpected = length
        self._getBuffer = []
        self._bufferLength = 0
        self.setRawMode()

    def cmd_STAT(self, line: bytes) -> None:
        """One statistic."""
        cmd = self._expect(b"stats")
        if cmd is None:
            return
        key, _, value = line.partition(b" ")
        cmd.values[key] = value

    def cmd_VERSION(self, versionData: bytes) -> None:
        """The server's version."""
        if self._expect(b"version"):
            self._current.popleft().success(versionData)

    def cmd_ERROR(self) -> None:
        """The server does not know the command."""
        self._current.popleft().fail(NoSuchCommand())

    def cmd_CLIENT_ERROR(self, errText: bytes) -> None:
        """The server found the request invalid."""
        self._current.popleft().fail(ClientError(errText))

    def cmd_SERVER_ERROR(self, errText: bytes) -> None:
        """The server failed."""
        self._current.popleft().fail(ServerError(errText))

    def cmd_END(self) -> None:
        """The end of a get or stats answer."""
        cmd = self._expect(b"get", b"gets", b"stats")
        if cmd is None:
            return
        self._current.popleft()
        if cmd.command == b"get":
            if cmd.multiple:
                cmd.success({key: (value[0], value[-1]) for key, value in cmd.values.items()})
            else:
                cmd.success((cmd.flags, cmd.value))
        elif cmd.command == b"gets":
            if cmd.multiple:
                cmd.success({key: tuple(value) for key, value in cmd.values.items()})
            else:
                cmd.success((cmd.flags, cmd.cas, cmd.value))
        else:
            cmd.success(cmd.values)

    _NO_ARGUMENT: ClassVar[dict[bytes, Any]] = {
        b"STORED": cmd_STORED,
        b"NOT_STORED": cmd_NOT_STORED,
        b"EXISTS": cmd_EXISTS,
        b"NOT_FOUND": cmd_NOT_FOUND,
        b"DELETED": cmd_DELETED,
        b"OK": cmd_OK,
        b"END": cmd_END,
        b"ERROR": cmd_ERROR,
        b"CLIENT_ERROR": lambda self: self.cmd_CLIENT_ERROR(b""),
        b"SERVER_ERROR": lambda self: self.cmd_SERVER_ERROR(b""),
    }
    _WITH_ARGUMENT: ClassVar[dict[bytes, Any]] = {
        b"VALUE": cmd_VALUE,
        b"STAT": cmd_STAT,
        b"VERSION": cmd_VERSION,
        b"CLIENT_ERROR": cmd_CLIENT_ERROR,
        b"SERVER_ERROR": cmd_SERVER_ERROR,
    }

    # -- sending

    def _checkKey(self, key: object) -> str | None:
        if not isinstance(key, bytes):
            return f"Invalid type for key: {type(key).__name__}, expecting bytes"
        if len(key) > self.MAX_KEY_LENGTH:
            return "Key too long"
        if not key or any(c <= 0x20 or c == 0x7F for c in key):
            return "Invalid key: empty, or with spaces or control characters"
        return None

    def _send(self, line: bytes, cmd: Command) -> Deferred[Any]:
        self.sendLine(line)
        self._current.append(cmd)
        return cmd._deferred

    def _notConnected(self) -> Deferred[Any] | None:
        if self._disconnected or self.transport is None:
            return fail(RuntimeError("not connected"))
        return None

    def _sendIfConnected(self, line: bytes, cmd: Command) -> Deferred[Any]:
        notConnected = self._notConnected()
        if notConnected is not None:
            return notConnected
        return self._send(line, cmd)

    def increment(self, key: bytes, val: int = 1) -> Deferred[int | bool]:
        """
        Add ``val`` to the number stored at ``key``.

        Returns:
            A Deferred of the new value, or ``False`` if there is no such key.
        """
        return self._incrdecr(b"incr", key, val)

    def decrement(self, key: bytes, val: int = 1) -> Deferred[int | bool]:
        """
        Subtract ``val`` from the number stored at ``key`` (memcached stops
        at 0).

        Returns:
            A Deferred of the new value, or ``False`` if there is no such key.
        """
        return self._incrdecr(b"decr", key, val)

    def _incrdecr(self, cmd: bytes, key: bytes, val: int) -> Deferred[Any]:
        problem = self._checkKey(key)
        if problem is not None:
            return fail(ClientError(problem))
        if not isinstance(cast(object, val), int) or val < 0:
            return fail(ClientError("the delta must be a non-negative int"))
        return self._sendIfConnected(b"%b %b %d" % (cmd, key, val), Command(cmd, key=key))

    def replace(
        self, key: bytes, val: bytes, flags: int = 0, expireTime: int = 0
    ) -> Deferred[bool]:
        """Store ``val`` at ``key`` only if the key exists; the Deferred says if it was stored."""
        return self._set(b"replace", key, val, flags, expireTime, b"")

    def add(self, key: bytes, val: bytes, flags: int = 0, expireTime: int = 0) -> Deferred[bool]:
        """Store ``val`` at ``key`` only if the key does not exist."""
        return self._set(b"add", key, val, flags, expireTime, b"")

    def set(self, key: bytes, val: bytes, flags: int = 0, expireTime: int = 0) -> Deferred[bool]:
        """
        Store ``val`` at ``key``.

        Args:
            key: the key (at most 250 bytes, no spaces or control characters).
            val: the value.
            flags: 32 bits kept with the value, returned by :meth:`get`.
            expireTime: seconds until it expires (0: never), or a Unix time.
        """
        return self._set(b"set", key, val, flags, expireTime, b"")

    def checkAndSet(
        self, key: bytes, val: bytes, cas: bytes, flags: int = 0, expireTime: int = 0
    ) -> Deferred[bool]:
        """
        Store ``val`` at ``key`` only if it was not changed since
        ``get(key, withIdentifier=True)`` returned ``cas``.
        """
        return self._set(b"cas", key, val, flags, expireTime, cas)

    def _set(
        self, cmd: bytes, key: bytes, val: bytes, flags: int, expireTime: int, cas: bytes
    ) -> Deferred[Any]:
        problem = self._checkKey(key)
        if problem is not None:
            return fail(ClientError(problem))
        if not isinstance(cast(object, val), bytes):
            return fail(
                ClientError(f"Invalid type for value: {type(val).__name__}, expecting bytes")
            )
        if cmd == b"cas" and (not isinstance(cast(object, cas), bytes) or not cas.isdigit()):
            return fail(ClientError("the cas identifier must be digits, as bytes"))
        notConnected = self._notConnected()
        if notConnected is not None:
            return notConnected
        line = b"%b %b %d %d %d" % (cmd, key, flags, expireTime, len(val))
        if cas:
            line += b" " + cas
        self.sendLine(line)
        return self._send(val, Command(cmd, key=key, flags=flags, length=len(val)))

    def append(self, key: bytes, val: bytes) -> Deferred[bool]:
        """Add ``val`` at the end of the value at ``key`` (which must exist)."""
        return self._set(b"append", key, val, 0, 0, b"")

    def prepend(self, key: bytes, val: bytes) -> Deferred[bool]:
        """Add ``val`` at the start of the value at ``key`` (which must exist)."""
        return self._set(b"prepend", key, val, 0, 0, b"")

    def get(self, key: bytes, withIdentifier: bool = False) -> Deferred[Any]:
        """
        Fetch the value at ``key``.

        Returns:
            A Deferred of ``(flags, value)``, or ``(flags, cas, value)`` with
            ``withIdentifier``; ``value`` is ``None`` for a missing key.
        """
        return self._get([key], withIdentifier, False)

    def getMultiple(self, keys: Iterable[bytes], withIdentifier: bool = False) -> Deferred[Any]:
        """
        Fetch the values at ``keys``, in one request.

        Returns:
            A Deferred of a dict from each key to ``(flags, value)`` (or
            ``(flags, cas, value)``), with ``value`` ``None`` when missing.
        """
        return self._get(list(keys), withIdentifier, True)

    def _get(self, keys: list[bytes], withIdentifier: bool, multiple: bool) -> Deferred[Any]:
        for key in keys:
            problem = self._checkKey(key)
            if problem is not None:
                return fail(ClientError(problem))
        if not keys:
            return fail(ClientError("no keys given"))
        notConnected = self._notConnected()
        if notConnected is not None:
            return notConnected
        cmd = b"gets" if withIdentifier else b"get"
        values: dict[bytes, Any]
        if withIdentifier:
            values = dict.fromkeys(keys, (0, b"", None))
        else:
            values = dict.fromkeys(keys, (0, None))
        if multiple:
            command = Command(cmd, keys=set(keys), values=values, multiple=True)
        else:
            command = Command(cmd, key=keys[0], value=None, flags=0, cas=b"", multiple=False)
        return self._send(cmd + b" " + b" ".join(keys), command)

    def stats(self, arg: bytes | None = None) -> Deferred[dict[bytes, bytes]]:
        """
        Fetch the server's statistics (``stats``, or ``stats <arg>`` such as
        ``b"items"``), as a dict of bytes to bytes.
        """
        line = b"stats " + arg if arg else b"stats"
        return self._sendIfConnected(line, Command(b"stats", values={}))

    def version(self) -> Deferred[bytes]:
        """Fetch the server's version string."""
        return self._sendIfConnected(b"version", Command(b"version"))

    def delete(self, key: bytes) -> Deferred[bool]:
        """Delete ``key``; the Deferred says if it existed."""
        problem = self._checkKey(key)
        if problem is not None:
            return fail(ClientError(problem))
        return self._sendIfConnected(b"delete " + key, Command(b"delete", key=key))

    def flushAll(self) -> Deferred[bool]:
        """Invalidate every item on the server."""
        return self._sendIfConnected(b"flush_all", Command(b"flush_all"))
