"""
Telnet against independent implementations on 127.0.0.1: the ``telnet``
program (inetutils, driven through a pseudo-terminal) and the telnetlib3
library (as a client of an fw server, and as a server for an fw client).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import struct
import termios
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from zope.interface import implementer

from fw.internet.defer import Deferred, fail, succeed
from fw.internet.protocol import ClientFactory, Factory, ProcessProtocol
from fw.protocols.telnet import (
    ECHO,
    EDIT,
    LINEMODE,
    LINEMODE_SLC,
    MODE,
    MODE_ACK,
    NAWS,
    SGA,
    TRAPSIG,
    TTYPE,
    TTYPE_SEND,
    AuthenticatingTelnetProtocol,
    ITelnetProtocol,
    StatefulTelnetProtocol,
    TelnetProtocol,
    TelnetTransport,
)
from fw.trial.pytestplugin import requireModule

pytestmark = pytest.mark.timeout(60)


class Terminal(ProcessProtocol):
    """The ``telnet`` program in a pseudo-terminal: what it shows, and waiting for text."""

    def __init__(self) -> None:
        self.output = b""
        self.waiting: list[tuple[bytes, Deferred[None]]] = []
        self.ended: Deferred[None] = Deferred()

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self.output += data
        for marker, d in list(self.waiting):
            if marker in self.output:
                self.waiting.remove((marker, d))
                d.callback(None)

    def waitFor(self, marker: bytes) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        if marker in self.output:
            d.callback(None)
        else:
            self.waiting.append((marker, d))
        return d

    def processEnded(self, reason: Any) -> None:
        self.ended.callback(None)


def spawnTelnet(reactor: Any, path: str, port: int, columns: int = 80, rows: int = 24) -> Any:
    terminal = Terminal()
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    process = reactor.spawnProcess(
        terminal,
        path,
        ["telnet", "127.0.0.1", str(port)],
        env={"TERM": "xterm", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        usePTY=(master, slave, os.ttyname(slave)),
    )
    return terminal, process


@asynccontextmanager
async def telnetProgram(
    reactor: Any, path: str, port: Any, columns: int = 80, rows: int = 24
) -> AsyncIterator[Any]:
    """
    The telnet program connected to the listening ``port``: the block gets
    ``(terminal, process)``.  After it, the program is killed if it still
    runs, and ``port`` stops listening.
    """
    terminal, process = spawnTelnet(reactor, path, port.getHost().port, columns, rows)
    try:
        yield terminal, process
    finally:
        if not terminal.ended.called:
            process.signalProcess("KILL")
            await terminal.ended
        await port.stopListening()


def _sleep(reactor: Any, seconds: float) -> Deferred[None]:
    d: Deferred[None] = Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


class Factory1(Factory):
    """Builds ``TelnetTransport(makeProtocol)`` and remembers the transports and protocols."""

    noisy = False

    def __init__(self, makeProtocol: Callable[[], Any]) -> None:
        self.makeProtocol = makeProtocol
        self.transports: list[TelnetTransport] = []
        self.protocols: list[Any] = []

    def buildProtocol(self, addr: Any) -> Any:
        transport = TelnetTransport(self._makeProtocol)
        transport.factory = self
        self.transports.append(transport)
        return transport

    def _makeProtocol(self) -> Any:
        protocol = self.makeProtocol()
        self.protocols.append(protocol)
        return protocol

    async def firstProtocol(self, reactor: Any) -> Any:
        """The first connection's protocol, once it is made."""
        while not self.protocols:
            await _sleep(reactor, 0.01)
        return self.protocols[0]


# -- the telnet program ------------------------------------------------------


@implementer(ITelnetProtocol)
class Shell(TelnetProtocol):
    """The avatar: greets, and answers each line; ``quit`` hangs up."""

    def __init__(self) -> None:
        self.received = b""

    def connectionMade(self) -> None:
        self.transport.write(b"Welcome, alice\n> ")  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        while b"\n" in self.received:
            line, self.received = self.received.split(b"\n", 1)
            if line.strip() == b"quit":
                self.transport.loseConnection()  # type: ignore[union-attr]
                return
            self.transport.write(b"you typed: " + line.strip() + b"\n> ")  # type: ignore[union-attr]


class Portal:
    def __init__(self) -> None:
        self.logins: list[tuple[bytes, bytes]] = []
        self.loggedOut: Deferred[None] = Deferred()

    def login(self, credentials: Any, mind: Any, *interfaces: Any) -> Deferred[Any]:
        self.logins.append((credentials.username, credentials.password))
        if credentials.username == b"alice" and credentials.checkPassword(b"s3cret-pw"):
            return succeed((ITelnetProtocol, Shell(), lambda: self.loggedOut.callback(None)))
        return fail(PermissionError("no"))


class EchoWatcher(AuthenticatingTelnetProtocol):
    """Tells the test when the client has agreed to let us echo (its own echo is off)."""

    def __init__(self, portal: Any) -> None:
        super().__init__(portal)
        self.echoOn: Deferred[None] = Deferred()

    def enableLocal(self, option: bytes) -> bool:
        agreed = super().enableLocal(option)
        if option == ECHO and not self.echoOn.called:
            self.echoOn.callback(None)
        return agreed


@pytest.mark.parametrize("reactor", ["select"], indirect=True)
def test_telnetProgramLogin(reactor: Any, runReactor: Any, requirePeer: Any) -> None:
    """
    The login prompt over the real telnet client: the user name is echoed
    by the client, the password is not (WILL ECHO was agreed), and after
    login the lines reach the avatar.
    """
    path = requirePeer("telnet")
    portal = Portal()
    factory = Factory1(lambda: EchoWatcher(portal))
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    async def scenario() -> bytes:
        async with telnetProgram(reactor, path, port) as (terminal, process):
            await terminal.waitFor(b"Username: ")
            process.write(b"alice\r")
            await terminal.waitFor(b"Password: ")
            await factory.protocols[0].echoOn
            process.write(b"s3cret-pw\r")
            await terminal.waitFor(b"Welcome, alice")
            process.write(b"hello world\r")
            await terminal.waitFor(b"you typed: hello world")
            process.write(b"quit\r")
            await terminal.ended
            await portal.loggedOut
        return terminal.output

    output = runReactor(reactor, scenario)
    assert portal.logins == [(b"alice", b"s3cret-pw")]
    assert b"Username: alice" in output
    assert b"s3cret-pw" not in output
    assert b"you typed: hello world\r\n> " in output
    # The client turned its echo back on after the password (DONT ECHO answered WONT ECHO).
    transport = factory.transports[0]
    assert transport.getOptionState(ECHO).us.state == "no"
    assert b"hello world\r\n" in output.split(b"Welcome, alice")[1]


class OptionsServer(StatefulTelnetProtocol):
    """
    Offers ECHO and SGA, asks for NAWS and TTYPE and the terminal type:
    ``results`` holds each negotiation's outcome, the window size and the
    terminal type; ``typeKnown`` fires once the terminal type is known.
    """

    state = "Command"

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.typeKnown: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        transport: Any = self.transport
        for name, d in [
            ("echo", transport.will(ECHO)),
            ("sga", transport.will(SGA)),
            ("naws", transport.do(NAWS)),
            ("ttype", transport.do(TTYPE)),
        ]:
            d.addBoth(lambda result, name=name: self.results.__setitem__(name, result))

    def enableLocal(self, option: bytes) -> bool:
        return option in (ECHO, SGA)

    def enableRemote(self, option: bytes) -> bool:
        if option == TTYPE:
            self.transport.requestNegotiation(TTYPE, TTYPE_SEND)  # type: ignore[union-attr]
        return option in (NAWS, TTYPE)

    def windowSizeReceived(self, width: int, height: int) -> None:
        self.results["size"] = (width, height)

    def terminalTypeReceived(self, terminalType: bytes) -> None:
        self.results["type"] = terminalType
        self.typeKnown.callback(None)


class CharacterModeServer(OptionsServer):
    """Puts the client in character mode, asks for its window size and terminal type."""

    def __init__(self) -> None:
        super().__init__()
        self.done: Deferred[None] = Deferred()

    def connectionMade(self) -> None:
        super().connectionMade()
        transport: Any = self.transport
        transport.do(TTYPE).addErrback(lambda f: self.results.__setitem__("again", f.type))

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data.replace(b"\r", b"\r\n"))  # type: ignore[union-attr]
        super().dataReceived(data)

    def telnet_Command(self, line: bytes) -> None:
        self.results["line"] = line
        self.transport.write(b"you said " + line + b"\n")  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]
        self.done.callback(None)


@pytest.mark.parametrize("reactor", ["select"], indirect=True)
def test_telnetProgramCharacterModeNawsTtype(
    reactor: Any, runReactor: Any, requirePeer: Any
) -> None:
    """
    With ECHO and SGA on the server's side the client sends each key as it
    is typed and Enter as CR NUL; it reports its window size (NAWS) and
    terminal type (TTYPE).
    """
    path = requirePeer("telnet")
    factory = Factory1(CharacterModeServer)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    async def scenario() -> bytes:
        async with telnetProgram(reactor, path, port, columns=100, rows=30) as (terminal, process):
            await terminal.waitFor(b"Escape character")
            server = await factory.firstProtocol(reactor)
            await server.typeKnown
            process.write(b"hi")
            process.write(b"\r")
            await server.done
            await terminal.ended
        return terminal.output

    output = runReactor(reactor, scenario)
    results = factory.protocols[0].results
    assert results["echo"] is True
    assert results["sga"] is True
    assert results["naws"] is True
    assert results["ttype"] is True
    assert results["again"].__name__ == "AlreadyNegotiating"
    assert results["size"] == (100, 30)
    assert results["type"] == b"XTERM"
    assert results["line"] == b"hi"
    assert b"you said hi" in output


class LinemodeServer(StatefulTelnetProtocol):
    """Asks the client to edit lines itself (LINEMODE MODE EDIT, RFC 1184)."""

    state = "Command"

    def __init__(self) -> None:
        self.modes: list[int] = []
        self.subnegotiations: list[bytes] = []
        self.acked: Deferred[None] = Deferred()
        self.done: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.do(LINEMODE).addErrback(self.acked.errback)  # type: ignore[union-attr]

    def enableRemote(self, option: bytes) -> bool:
        if option == LINEMODE:
            self.transport.requestNegotiation(  # type: ignore[union-attr]
                LINEMODE, MODE + bytes([EDIT | TRAPSIG])
            )
        return option == LINEMODE

    def unhandledSubnegotiation(self, command: bytes, data: list[bytes]) -> None:
        self.subnegotiations.append(command + b"".join(data))
        super().unhandledSubnegotiation(command, data)

    def linemodeModeReceived(self, mask: int) -> None:
        self.modes.append(mask)
        if mask & MODE_ACK and not self.acked.called:
            self.acked.callback(None)

    def telnet_Command(self, line: bytes) -> None:
        self.transport.write(b"you said " + line + b"\n")  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]
        self.done.callback(line)


@pytest.mark.parametrize("reactor", ["select"], indirect=True)
def test_telnetProgramLinemode(reactor: Any, runReactor: Any, requirePeer: Any) -> None:
    """
    LINEMODE: the client accepts ``DO LINEMODE``, acknowledges ``MODE EDIT``
    and then edits lines itself: a backspace never reaches the server.
    """
    path = requirePeer("telnet")
    factory = Factory1(LinemodeServer)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")

    async def scenario() -> bytes:
        async with telnetProgram(reactor, path, port) as (terminal, process):
            await terminal.waitFor(b"Escape character")
            server = await factory.firstProtocol(reactor)
            await server.acked
            process.write(b"hi")
            process.write(b"\x7f")  # erase the i
            process.write(b"o\r")
            line: bytes = await server.done
            await terminal.ended
        return line

    line = runReactor(reactor, scenario)
    assert line == b"ho"
    server = factory.protocols[0]
    assert server.modes[-1] == EDIT | TRAPSIG | MODE_ACK
    # The client also sent its special characters table (SLC), passed on raw.
    assert any(sub.startswith(LINEMODE + LINEMODE_SLC) for sub in server.subnegotiations)


# -- telnetlib3 --------------------------------------------------------------


def _telnetlib3() -> Any:
    return requireModule("telnetlib3")


def _loop(reactor: Any) -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop = reactor._asyncioEventloop
    return loop


class NegotiatingServer(OptionsServer):
    """Asks for NAWS and TTYPE, offers ECHO and SGA, then answers lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[bytes] = []

    def connectionMade(self) -> None:
        super().connectionMade()
        self.transport.write(b"Hello\n")  # type: ignore[union-attr]

    def terminalTypeReceived(self, terminalType: bytes) -> None:
        self.results["type"] = terminalType
        if not self.typeKnown.called:
            self.typeKnown.callback(None)

    def telnet_Command(self, line: bytes) -> None:
        self.lines.append(line)
        self.transport.write(b"you said " + line + b"\xff\n")  # type: ignore[union-attr]


@pytest.mark.parametrize("reactor", ["asyncio"], indirect=True)
def test_telnetlib3ClientAgainstFwServer(reactor: Any, runReactor: Any) -> None:
    telnetlib3 = _telnetlib3()
    factory = Factory1(NegotiatingServer)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    servers = factory.protocols

    async def client() -> bytes:
        reader, writer = await telnetlib3.open_connection(
            "127.0.0.1",
            port.getHost().port,
            client_factory=telnetlib3.TelnetClient,
            term="xterm-256color",
            cols=120,
            rows=40,
            encoding=False,
            connect_minwait=0,
            connect_maxwait=2.0,
        )
        greeting: bytes = await reader.readuntil(b"Hello\r\n")
        await Deferred.fromFuture(asyncio.ensure_future(_wait(servers[0].typeKnown)))
        writer.write(b"hi \xff\xff there\r\n")
        answer: bytes = await reader.readuntil(b"\r\n")
        writer.close()
        return greeting + answer

    async def scenario() -> bytes:
        try:
            future = asyncio.ensure_future(client(), loop=_loop(reactor))
            return await Deferred.fromFuture(future)
        finally:
            await port.stopListening()

    received = runReactor(reactor, scenario)
    # Both sides escape IAC on the wire and unescape it on reading.
    assert received.endswith(b"you said hi \xff\xff there\xff\r\n")
    results = servers[0].results
    assert results["echo"] is True
    assert results["sga"] is True
    assert results["naws"] is True
    assert results["ttype"] is True
    assert results["size"] == (120, 40)
    assert results["type"].lower() == b"xterm-256color"
    assert servers[0].lines == [b"hi \xff\xff there"]


async def _wait(d: Deferred[Any]) -> Any:
    return await d


class NegotiatingClient(TelnetProtocol):
    """Reports a terminal type and a window size; answers the greeting."""

    def __init__(self) -> None:
        self.received = b""
        self.closed: Deferred[None] = Deferred()
        self.answered = False

    def enableLocal(self, option: bytes) -> bool:
        if option == NAWS:
            # Sent once our WILL NAWS is out (RFC 1073).
            self.transport.requestNegotiation(  # type: ignore[union-attr]
                NAWS, struct.pack("!HH", 132, 43)
            )
        return option in (TTYPE, NAWS)

    def enableRemote(self, option: bytes) -> bool:
        return option in (ECHO, SGA)

    def terminalTypeRequested(self) -> bytes:
        return b"VT220"

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if not self.answered and b"Hello" in self.received and self.received.endswith(b"\n"):
            self.answered = True
            self.transport.write(b"ping\n")  # type: ignore[union-attr]

    def connectionLost(self, reason: Any = None) -> None:
        self.closed.callback(None)


@pytest.mark.parametrize("reactor", ["asyncio"], indirect=True)
def test_fwClientAgainstTelnetlib3Server(reactor: Any, runReactor: Any) -> None:
    telnetlib3 = _telnetlib3()
    seen: dict[str, Any] = {}

    async def shell(reader: Any, writer: Any) -> None:
        seen["term"] = writer.get_extra_info("TERM")
        seen["size"] = (writer.get_extra_info("cols"), writer.get_extra_info("rows"))
        writer.write("Hello " + str(seen["term"]) + "\r\n")
        line = await reader.readline()
        seen["line"] = line
        writer.write("got " + line.strip() + "\r\nbye\r\n")
        await writer.drain()
        writer.close()

    client = NegotiatingClient()
    transports: list[TelnetTransport] = []

    async def scenario() -> bytes:
        server = await Deferred.fromFuture(
            asyncio.ensure_future(
                telnetlib3.create_server("127.0.0.1", 0, shell=shell, connect_maxwait=2.0),
                loop=_loop(reactor),
            )
        )
        try:
            factory = ClientFactory()
            factory.noisy = False

            def build(addr: Any) -> Any:
                transports.append(TelnetTransport(lambda: client))
                return transports[-1]

            factory.buildProtocol = build  # type: ignore[method-assign]
            reactor.connectTCP("127.0.0.1", server.sockets[0].getsockname()[1], factory)
            await client.closed
        finally:
            server.close()
            await Deferred.fromFuture(asyncio.ensure_future(server.wait_closed()))
        return client.received

    received = runReactor(reactor, scenario)
    assert seen["term"] == "VT220"
    assert seen["size"] == (132, 43)
    assert seen["line"].strip() == "ping"
    assert received == b"Hello VT220\ngot ping\nbye\n"
    state = transports[0].getOptionState
    assert state(TTYPE).us.state == "yes"
    assert state(NAWS).us.state == "yes"
