"""
Twisted's side of fw's AMP interoperability tests.

Run with a Python that has Twisted::

    python amp_twisted_peer.py server SOCKDIR   # prints "tcp PORT" and "unix PATH"
    python amp_twisted_peer.py client PORT PATH # runs every check, prints JSON

The server serves until its standard input closes.  The client connects to
an AMP server (fw's, in the tests) over TCP and UNIX, runs the checks of
:func:`clientChecks`, prints ``{"check": "ok" or "error text", ...}`` as one
JSON line and exits.

The commands, the responders and the checks are written once, against an
``amp`` module passed in: this script passes ``twisted.protocols.amp``, and
the fw tests import this file and pass ``fw.protocols.amp`` -- the port of a
Twisted program to fw is a change of imports.  Twisted is imported only in
:func:`main`.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import os
import sys
from types import SimpleNamespace
from typing import Any

# Commands declare their arguments as Twisted's do, in class-level lists.
# ruff: noqa: RUF012

NOTES_LIMIT = 100


class Denied(Exception):
    """A declared fatal error: the connection is closed once it is sent."""


def defineProtocol(amp: Any, deferLater: Any, reactor: Any, FilePath: Any) -> SimpleNamespace:
    """The commands and the ``Calculator`` protocol, built on ``amp``."""

    allTypes = [
        (b"integer", amp.Integer()),
        (b"big", amp.Integer()),
        (b"string", amp.String()),
        (b"unicode", amp.Unicode()),
        (b"yes", amp.Boolean()),
        (b"no", amp.Boolean()),
        (b"float", amp.Float()),
        (b"decimal", amp.Decimal()),
        (b"when", amp.DateTime()),
        (b"whenUTC", amp.DateTime()),
        (b"numbers", amp.ListOf(amp.Integer())),
        (b"words", amp.ListOf(amp.Unicode())),
        (b"rows", amp.AmpList([(b"x", amp.Integer()), (b"label", amp.Unicode(optional=True))])),
        (b"path", amp.Path()),
        (b"maybe", amp.Integer(optional=True)),
        (b"from", amp.Integer()),
        (b"dashed-name", amp.Unicode()),
    ]

    class Sum(amp.Command):
        arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
        response = [(b"total", amp.Integer())]

    class Divide(amp.Command):
        arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
        response = [(b"result", amp.Float())]
        errors = {ZeroDivisionError: b"ZERO_DIVISION"}

    class EchoAll(amp.Command):
        arguments = allTypes
        response = allTypes

    class Floats(amp.Command):
        arguments = [(b"values", amp.ListOf(amp.Float()))]
        response = [(b"values", amp.ListOf(amp.Float()))]

    class Decimals(amp.Command):
        arguments = [(b"values", amp.ListOf(amp.Decimal()))]
        response = [(b"values", amp.ListOf(amp.Decimal()))]

    class BigEcho(amp.Command):
        arguments = [(b"text", amp.Unicode())]
        response = [(b"text", amp.Unicode()), (b"length", amp.Integer())]

    class Fatal(amp.Command):
        fatalErrors = {Denied: b"DENIED"}

    class Boom(amp.Command):
        pass

    class Missing(amp.Command):
        pass

    class Note(amp.Command):
        arguments = [(b"text", amp.Unicode())]
        requiresAnswer = False

    class Noted(amp.Command):
        response = [(b"texts", amp.ListOf(amp.Unicode()))]

    class Later(amp.Command):
        arguments = [(b"delay", amp.Float())]
        response = [(b"done", amp.Boolean())]

    class CallBack(amp.Command):
        arguments = [(b"n", amp.Integer())]
        response = [(b"total", amp.Integer())]

    class ReadFD(amp.Command):
        arguments = [(b"fd", amp.Descriptor())]
        response = [(b"data", amp.String())]

    class Calculator(amp.AMP):
        def __init__(self) -> None:
            super().__init__()
            self.notes: list[str] = []
            self.lost: Any = None
            self.closed = False

        def connectionLost(self, reason: Any) -> None:
            super().connectionLost(reason)
            self.closed = True
            if self.lost is not None:
                lost, self.lost = self.lost, None
                lost.callback(None)

        @Sum.responder
        def sum(self, a: int, b: int) -> dict[str, int]:
            return {"total": a + b}

        @Divide.responder
        def divide(self, numerator: int, denominator: int) -> dict[str, float]:
            return {"result": numerator / denominator}

        @EchoAll.responder
        def echoAll(self, **kw: Any) -> dict[str, Any]:
            return kw

        @Floats.responder
        def floats(self, values: list[float]) -> dict[str, Any]:
            return {"values": values}

        @Decimals.responder
        def decimals(self, values: list[decimal.Decimal]) -> dict[str, Any]:
            return {"values": values}

        @BigEcho.responder
        def bigEcho(self, text: str) -> dict[str, Any]:
            return {"text": text, "length": len(text)}

        @Fatal.responder
        def fatal(self) -> dict[str, Any]:
            raise Denied("go away")

        @Boom.responder
        def boom(self) -> dict[str, Any]:
            raise RuntimeError("an undeclared error")

        @Note.responder
        def note(self, text: str) -> dict[str, Any]:
            if len(self.notes) < NOTES_LIMIT:
                self.notes.append(text)
            return {}

        @Noted.responder
        def noted(self) -> dict[str, Any]:
            return {"texts": self.notes}

        @Later.responder
        def later(self, delay: float) -> Any:
            return deferLater(reactor, delay, lambda: {"done": True})

        @CallBack.responder
        def callBack(self, n: int) -> Any:
            d = self.callRemote(Sum, a=n, b=n)
            return d.addCallback(lambda answer: {"total": answer["total"]})

        @ReadFD.responder
        def readFD(self, fd: int) -> dict[str, Any]:
            with os.fdopen(fd, "rb") as f:
                return {"data": f.read()}

    def allValues() -> dict[str, Any]:
        zone = datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))
        return {
            "integer": -42,
            "big": 2**80 + 1,
            "string": bytes(range(256)),
            "unicode": "h\u00e9llo \u2603 \U0001f600",
            "yes": True,
            "no": False,
            "float": 0.1,
            "decimal": decimal.Decimal("-1.2300E+5"),
            "when": datetime.datetime(2012, 1, 23, 12, 34, 56, 54321, tzinfo=zone),
            "whenUTC": datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
            "numbers": [0, -1, 2**40],
            "words": ["", "one", "tw\u00f6"],
            "rows": [{"x": 1, "label": "first"}, {"x": 2, "label": None}],
            "path": FilePath("/tmp/fw-amp-\u00e9"),
            "maybe": 7,
            "From": 3,
            "dashed_name": "dash",
        }

    return SimpleNamespace(
        Sum=Sum,
        Divide=Divide,
        EchoAll=EchoAll,
        Floats=Floats,
        Decimals=Decimals,
        BigEcho=BigEcho,
        Fatal=Fatal,
        Boom=Boom,
        Missing=Missing,
        Note=Note,
        Noted=Noted,
        Later=Later,
        CallBack=CallBack,
        ReadFD=ReadFD,
        Calculator=Calculator,
        allValues=allValues,
    )


def _same(sent: dict[str, Any], got: dict[str, Any]) -> str | None:
    # The differences between what was sent and what came back, if any.
    problems = []
    for name, value in sent.items():
        back = got.get(name)
        if name == "path":
            if back is None or back.path != value.path:
                problems.append(f"{name}: {value!r} != {back!r}")
        elif isinstance(value, datetime.datetime):
            if back != value or back.utcoffset() != value.utcoffset():
                problems.append(f"{name}: {value!r} != {back!r}")
        elif isinstance(value, decimal.Decimal):
            if str(back) != str(value):
                problems.append(f"{name}: {value!r} != {back!r}")
        elif back != value or type(back) is not type(value):
            problems.append(f"{name}: {value!r} != {back!r}")
    extra = set(got) - set(sent)
    if extra:
        problems.append(f"unexpected names {sorted(extra)}")
    return "; ".join(problems) or None


async def clientChecks(
    amp: Any, ns: SimpleNamespace, connectTCP: Any, connectUNIX: Any
) -> dict[str, str]:
    """
    Run every check against a server serving ``ns.Calculator``; return each
    check's outcome: ``"ok"`` or what went wrong.
    """
    results: dict[str, str] = {}

    async def check(name: str, body: Any) -> None:
        try:
            problem = await body()
        except Exception as e:  # reported as the check's outcome
            problem = f"raised {type(e).__name__}: {e}"
        results[name] = "ok" if problem is None else str(problem)

    proto = await connectTCP()

    async def sum_() -> str | None:
        answer = await proto.callRemote(ns.Sum, a=13, b=81)
        return None if answer == {"total": 94} else repr(answer)

    async def divide() -> str | None:
        answer = await proto.callRemote(ns.Divide, numerator=10, denominator=4)
        return None if answer == {"result": 2.5} else repr(answer)

    async def divideByZero() -> str | None:
        try:
            answer = await proto.callRemote(ns.Divide, numerator=1, denominator=0)
        except ZeroDivisionError:
            return None
        return f"no error: {answer!r}"

    async def echoAll() -> str | None:
        values = ns.allValues()
        return _same(values, await proto.callRemote(ns.EchoAll, **values))

    async def echoOptionalAbsent() -> str | None:
        values = ns.allValues()
        del values["maybe"]
        answer = await proto.callRemote(ns.EchoAll, **values)
        if answer.get("maybe", "absent") is not None:
            return f"maybe came back as {answer.get('maybe', 'absent')!r}"
        del answer["maybe"]
        return _same(values, answer)

    async def floats() -> str | None:
        sent = [float("nan"), float("inf"), float("-inf"), -0.0, 1e100, 0.1, 5e-324]
        got = (await proto.callRemote(ns.Floats, values=sent))["values"]
        if len(got) != len(sent) or not math.isnan(got[0]):
            return repr(got)
        if got[1:] != sent[1:] or math.copysign(1, got[3]) != -1:
            return repr(got)
        return None

    async def decimals() -> str | None:
        sent = [decimal.Decimal(s) for s in ("NaN", "sNaN", "Infinity", "-Infinity", "1.10", "-0")]
        got = (await proto.callRemote(ns.Decimals, values=sent))["values"]
        return None if [str(d) for d in got] == [str(d) for d in sent] else repr(got)

    async def bigEcho() -> str | None:
        text = "\u00e9" * 32000
        answer = await proto.callRemote(ns.BigEcho, text=text)
        return None if answer == {"text": text, "length": 32000} else "mismatch"

    async def unhandled() -> str | None:
        try:
            answer = await proto.callRemote(ns.Missing)
        except amp.UnhandledCommand:
            return None
        return f"no error: {answer!r}"

    async def notes() -> str | None:
        result = proto.callRemote(ns.Note, text="first")
        proto.callRemote(ns.Note, text="second")
        answer = await proto.callRemote(ns.Noted)
        if result is not None:
            return f"callRemote returned {result!r} for a command without answer"
        return None if answer == {"texts": ["first", "second"]} else repr(answer)

    async def later() -> str | None:
        answer = await proto.callRemote(ns.Later, delay=0.05)
        return None if answer == {"done": True} else repr(answer)

    async def callBack() -> str | None:
        answer = await proto.callRemote(ns.CallBack, n=21)
        return None if answer == {"total": 42} else repr(answer)

    async def callRemoteString() -> str | None:
        answer = await proto.callRemoteString(b"Sum", a=b"2", b=b"3")
        return None if answer.get(b"total") == b"5" else repr(answer)

    async def fatal() -> str | None:
        other = await connectTCP()
        other.lost = lost = _deferred(amp)
        try:
            answer = await other.callRemote(ns.Fatal)
        except Denied:
            await lost
            return None
        return f"no error: {answer!r}"

    async def boom() -> str | None:
        other = await connectTCP()
        other.lost = lost = _deferred(amp)
        try:
            answer = await other.callRemote(ns.Boom)
        except amp.UnknownRemoteError:
            await lost
            return None
        return f"no error: {answer!r}"

    async def descriptor() -> str | None:
        other = await connectUNIX()
        try:
            readEnd, writeEnd = os.pipe()
            os.write(writeEnd, b"through the pipe")
            os.close(writeEnd)
            try:
                answer = await other.callRemote(ns.ReadFD, fd=readEnd)
            finally:
                os.close(readEnd)
            return None if answer == {"data": b"through the pipe"} else repr(answer)
        finally:
            other.transport.loseConnection()

    for name, body in [
        ("sum", sum_),
        ("divide", divide),
        ("divideByZero", divideByZero),
        ("echoAll", echoAll),
        ("echoOptionalAbsent", echoOptionalAbsent),
        ("floats", floats),
        ("decimals", decimals),
        ("bigEcho", bigEcho),
        ("unhandled", unhandled),
        ("notes", notes),
        ("later", later),
        ("callBack", callBack),
        ("callRemoteString", callRemoteString),
        ("fatal", fatal),
        ("boom", boom),
        ("descriptor", descriptor),
    ]:
        await check(name, body)
    if not proto.closed:
        proto.lost = lost = _deferred(amp)
        proto.transport.loseConnection()
        await lost
    return results


#: Every check :func:`clientChecks` runs.
CHECKS = [
    "sum",
    "divide",
    "divideByZero",
    "echoAll",
    "echoOptionalAbsent",
    "floats",
    "decimals",
    "bigEcho",
    "unhandled",
    "notes",
    "later",
    "callBack",
    "callRemoteString",
    "fatal",
    "boom",
    "descriptor",
]


def _deferred(amp: Any) -> Any:
    # A new Deferred of the framework ``amp`` belongs to.
    defer = sys.modules[amp.__name__.rsplit(".", 2)[0] + ".internet.defer"]
    return defer.Deferred()


def main(argv: list[str]) -> int:
    from twisted.internet import defer, endpoints, reactor, stdio, task
    from twisted.internet.protocol import Factory, Protocol
    from twisted.protocols import amp
    from twisted.python.filepath import FilePath

    ns = defineProtocol(amp, task.deferLater, reactor, FilePath)
    mode = argv[1]
    # No run may outlive its test.
    reactor.callLater(30, reactor.stop)

    if mode == "server":
        sockPath = os.path.join(argv[2], "twisted-amp.sock")
        factory = Factory.forProtocol(ns.Calculator)

        class StopOnEOF(Protocol):
            def connectionLost(self, reason: Any) -> None:
                if reactor.running:
                    reactor.stop()

        async def serve() -> None:
            tcp = await endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
                factory
            )
            await endpoints.UNIXServerEndpoint(reactor, sockPath).listen(factory)
            print(f"tcp {tcp.getHost().port}", flush=True)
            print(f"unix {sockPath}", flush=True)

        stdio.StandardIO(StopOnEOF())
        defer.ensureDeferred(serve()).addErrback(lambda f: (f.printTraceback(), reactor.stop()))
        reactor.run()
        return 0

    port, sockPath = int(argv[2]), argv[3]

    def connectTCP() -> Any:
        endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port)
        return endpoints.connectProtocol(endpoint, ns.Calculator())

    def connectUNIX() -> Any:
        endpoint = endpoints.UNIXClientEndpoint(reactor, sockPath)
        return endpoints.connectProtocol(endpoint, ns.Calculator())

    outcome: list[int] = [1]

    def report(results: dict[str, str]) -> None:
        print(json.dumps(results), flush=True)
        outcome[0] = 0 if all(v == "ok" for v in results.values()) else 1

    d = defer.ensureDeferred(clientChecks(amp, ns, connectTCP, connectUNIX))
    d.addCallback(report)
    d.addErrback(lambda f: f.printTraceback())
    d.addBoth(lambda _: reactor.stop())
    reactor.run()
    return outcome[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
