"""
serverFromString and clientFromString: the description syntax, fw-core's own
endpoint types, their errors, and endpoint types from plugins (installed as
fake distributions).
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from fw.internet import _endpoints_parse
from fw.internet.endpoints import (
    AdoptedStreamServerEndpoint,
    StandardIOEndpoint,
    TCP4ClientEndpoint,
    TCP6ClientEndpoint,
    UNIXClientEndpoint,
    clientFromString,
    quoteStringArgument,
    serverFromString,
)
from fw.internet.interfaces import (
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpointStringParser,
)
from fw.internet.protocol import Factory
from fw.internet.testing import MemoryReactor
from fw.logger import capturedLogs


def listened(description: str) -> tuple[str, tuple[Any, ...]]:
    """Listen on ``description`` with a MemoryReactor; return what it was asked."""
    reactor = MemoryReactor()
    factory = Factory()
    serverFromString(reactor, description).listen(factory)
    for kind in ("tcpServers", "unixServers"):
        calls = getattr(reactor, kind)
        if calls:
            [call] = calls
            assert call[1] is factory
            return kind, call[:1] + call[2:]
    raise AssertionError("nothing listened")


def connected(description: str) -> tuple[str, tuple[Any, ...]]:
    """Connect to ``description`` with a MemoryReactor; return what it was asked."""
    reactor = MemoryReactor()
    clientFromString(reactor, description).connect(Factory())
    if reactor.tcpClients:
        [(host, port, _, timeout, bindAddress)] = reactor.tcpClients
        return "tcp", (host, port, timeout, bindAddress)
    [(path, _, timeout, checkPID)] = reactor.unixClients
    return "unix", (path, timeout, checkPID)


# -- servers


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("tcp:8080", ("tcpServers", (8080, 50, ""))),
        ("tcp:8080:interface=127.0.0.1", ("tcpServers", (8080, 50, "127.0.0.1"))),
        ("tcp:port=80:backlog=5", ("tcpServers", (80, 5, ""))),
        ("tcp:80:127.0.0.1:7", ("tcpServers", (80, 7, "127.0.0.1"))),
        ("TCP:0", ("tcpServers", (0, 50, ""))),
        ("tcp6:8080", ("tcpServers", (8080, 50, "::"))),
        (r"tcp6:port=80:interface=\:\:1", ("tcpServers", (80, 50, "::1"))),
        ("tcp6:80:10:fe80\\:\\:1", ("tcpServers", (80, 10, "fe80::1"))),
        ("unix:/run/x.sock", ("unixServers", ("/run/x.sock", 50, 0o666, True))),
        (
            "unix:/run/x.sock:mode=660:lockfile=1",
            ("unixServers", ("/run/x.sock", 50, 0o660, True)),
        ),
        (
            "unix:address=/x.sock:lockfile=0:backlog=3",
            ("unixServers", ("/x.sock", 3, 0o666, False)),
        ),
        (r"unix:/tmp/a\:b\\c.sock:600", ("unixServers", ("/tmp/a:b\\c.sock", 50, 0o600, True))),
    ],
)
def test_servers(description: str, expected: Any) -> None:
    assert listened(description) == expected


def test_bytesDescription() -> None:
    assert listened(b"tcp:8080")[1] == (8080, 50, "")  # type: ignore[arg-type]


def test_stdio() -> None:
    assert isinstance(serverFromString(MemoryReactor(), "stdio:"), StandardIOEndpoint)
    assert isinstance(serverFromString(MemoryReactor(), "stdio"), StandardIOEndpoint)


@pytest.fixture
def systemdEnvironment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTEN_PID", str(os.getpid()))
    monkeypatch.setenv("LISTEN_FDS", "3")
    monkeypatch.setenv("LISTEN_FDNAMES", "admin:web")


@pytest.mark.usefixtures("systemdEnvironment")
@pytest.mark.parametrize(
    ("description", "fileno", "family"),
    [
        ("systemd:domain=INET:index=0", 3, socket.AF_INET),
        ("systemd:domain=INET6:index=2", 5, socket.AF_INET6),
        ("systemd:domain=UNIX:name=web", 4, socket.AF_UNIX),
        ("systemd:INET:1", 4, socket.AF_INET),
        # Descriptors past the names given are "unknown", as sd_listen_fds_with_names says.
        ("systemd:domain=INET:name=unknown", 5, socket.AF_INET),
    ],
)
def test_systemd(description: str, fileno: int, family: int) -> None:
    endpoint = serverFromString(MemoryReactor(), description)
    assert isinstance(endpoint, AdoptedStreamServerEndpoint)
    assert (endpoint.fileno, endpoint.addressFamily) == (fileno, family)


@pytest.mark.usefixtures("systemdEnvironment")
@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("systemd:domain=INET", "exactly one of 'index' and 'name'"),
        ("systemd:domain=INET:index=0:name=web", "exactly one of 'index' and 'name'"),
        ("systemd:domain=IPX:index=0", "domain must be one of INET, INET6, UNIX, not 'IPX'"),
        ("systemd:index=0", "needs 'domain'"),
        ("systemd:domain=INET:index=3", "no inherited socket with index 3 (only 3 were passed)"),
        ("systemd:domain=INET:name=db", "no inherited socket named 'db'"),
        ("systemd:domain=INET:index=-1", "index must be an integer of at least 0, not '-1'"),
    ],
)
def test_systemdErrors(description: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid endpoint description") as e:
        serverFromString(MemoryReactor(), description)
    assert message in str(e.value)


def test_systemdWithoutSocketsSaysWhy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTEN_PID", raising=False)
    with pytest.raises(ValueError, match="LISTEN_PID is not set"):
        serverFromString(MemoryReactor(), "systemd:domain=INET:index=0")
    monkeypatch.setenv("LISTEN_PID", "1")
    monkeypatch.setenv("LISTEN_FDS", "1")
    with pytest.raises(ValueError, match=r"LISTEN_PID is 1, not this process"):
        serverFromString(MemoryReactor(), "systemd:domain=INET:index=0")


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("", "must start with an endpoint type"),
        (":80", "must start with an endpoint type"),
        ("nosuchtype:80", "unknown endpoint type 'nosuchtype' (known types: "),
        ("tcp", "a 'tcp' server endpoint needs 'port'"),
        ("tcp:http", "port must be an integer from 0 to 65535, not 'http'"),
        ("tcp:70000", "port must be an integer from 0 to 65535, not '70000'"),
        ("tcp:80:backlog=0", "backlog must be an integer of at least 1, not '0'"),
        ("tcp:80:bogus=1", "has no parameter 'bogus' (its parameters: port, interface, backlog)"),
        ("tcp:80:a:5:extra", "takes at most 3 positional field(s)"),
        ("tcp:80:port=81", "'port' is given both by position and by name"),
        ("tcp:port=80:port=81", "parameter 'port' is given twice"),
        ("tcp:80\\", "ends with a lone backslash"),
        ("unix:/x:mode=999", "mode must be octal permissions such as 660, not '999'"),
        ("unix:/x:lockfile=yes", "lockfile must be 0 or 1, not 'yes'"),
        ("unix:", "needs a non-empty address"),
        ("stdio:x", "takes at most 0 positional field(s)"),
    ],
)
def test_serverErrors(description: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        serverFromString(MemoryReactor(), description)
    text = str(e.value)
    assert text.startswith(f"invalid endpoint description {description!r}: ")
    assert message in text


def test_unknownTypeListsTheKnownOnes() -> None:
    with pytest.raises(ValueError) as e:
        serverFromString(MemoryReactor(), "quic:443")
    for known in ("stdio", "systemd", "tcp", "tcp6", "unix"):
        assert known in str(e.value)


# -- clients


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("tcp:host=example.com:port=80", ("tcp", ("example.com", 80, 30, None))),
        ("tcp:example.com:80", ("tcp", ("example.com", 80, 30, None))),
        ("tcp:host=example.com:80", ("tcp", ("example.com", 80, 30, None))),
        ("tcp:example.com:port=80", ("tcp", ("example.com", 80, 30, None))),
        (
            "tcp:example.com:80:timeout=2.5:bindAddress=192.0.2.1",
            ("tcp", ("example.com", 80, 2.5, ("192.0.2.1", 0))),
        ),
        (r"tcp6:\:\:1:22", ("tcp", ("::1", 22, 30, None))),
        ("unix:/var/run/x.sock", ("unix", ("/var/run/x.sock", 30, False))),
        ("unix:path=/x.sock:timeout=5", ("unix", ("/x.sock", 5, False))),
        ("unix:/x.sock:lockfile=1:timeout=9", ("unix", ("/x.sock", 9, True))),
        ("unix:/x.sock:checkPID=1", ("unix", ("/x.sock", 30, True))),
        ("unix:path=/a=b", ("unix", ("/a=b", 30, False))),
    ],
)
def test_clients(description: str, expected: Any) -> None:
    assert connected(description) == expected


def test_clientTypes() -> None:
    reactor = MemoryReactor()
    assert isinstance(clientFromString(reactor, "tcp:h:1"), TCP4ClientEndpoint)
    assert isinstance(clientFromString(reactor, "tcp6:h:1"), TCP6ClientEndpoint)
    assert isinstance(clientFromString(reactor, "UNIX:/x"), UNIXClientEndpoint)


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("tcp:example.com", "a 'tcp' client endpoint needs 'port'"),
        ("tcp:port=80", "a 'tcp' client endpoint needs 'host'"),
        ("tcp::80", "needs a non-empty host"),
        ("tcp:h:80:timeout=soon", "timeout must be a number of seconds, not 'soon'"),
        ("tcp:h:80:timeout=-1", "timeout must be a number of seconds, not '-1'"),
        ("tcp:h:80:interface=x", "has no parameter 'interface'"),
        ("unix:timeout=5", "a 'unix' client endpoint needs 'path'"),
        ("unix:/x:lockfile=1:checkPID=1", "give 'lockfile' or its alias 'checkPID', not both"),
    ],
)
def test_clientErrors(description: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid endpoint description") as e:
        clientFromString(MemoryReactor(), description)
    assert message in str(e.value)


# -- quoting


@given(st.text(min_size=1))
def test_quotedArgumentsSurviveParsing(path: str) -> None:
    _, (address, *_) = listened("unix:" + quoteStringArgument(path))
    assert address == path


def test_quoteStringArgument() -> None:
    assert quoteStringArgument(r"C:\key.pem") == r"C\:\\key.pem"


# -- fw-core's parser objects, as entry points name them


def test_builtinParsersProvideTheirInterfaces() -> None:
    for prefix, parser in _endpoints_parse.BUILTIN_SERVER_PARSERS.items():
        assert verifyObject(IStreamServerEndpointStringParser, parser)
        assert parser.prefix == prefix
    for prefix, parser in _endpoints_parse.BUILTIN_CLIENT_PARSERS.items():
        assert verifyObject(IStreamClientEndpointStringParserWithReactor, parser)
        assert parser.prefix == prefix
    assert sorted(_endpoints_parse.BUILTIN_SERVER_PARSERS) == [
        "stdio",
        "systemd",
        "tcp",
        "tcp6",
        "unix",
    ]
    assert sorted(_endpoints_parse.BUILTIN_CLIENT_PARSERS) == ["tcp", "tcp6", "unix"]


# -- plugins

PLUGIN_MODULE = """
from zope.interface import implementer
from fw.internet.interfaces import (
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpointStringParser,
)

@implementer(IStreamServerEndpointStringParser)
class Server:
    def __init__(self, prefix):
        self.prefix = prefix
    def parseStreamServer(self, reactor, *args, **kwargs):
        if args == ("bad",):
            raise ValueError("bad is not a good argument")
        return ("server", self.prefix, reactor, args, kwargs)

@implementer(IStreamClientEndpointStringParserWithReactor)
class Client:
    def __init__(self, prefix):
        self.prefix = prefix
    def parseStreamClient(self, reactor, *args, **kwargs):
        return ("client", self.prefix, reactor, args, kwargs)

{names}
"""


class FakeSite:
    """A directory on sys.path holding fake distributions and their modules."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def module(self, name: str, source: str) -> None:
        (self.root / f"{name}.py").write_text(textwrap.dedent(source))
        self.modules.append(name)

    def distribution(self, name: str, entryPoints: dict[str, dict[str, str]]) -> None:
        info = self.root / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = []
        for group, eps in entryPoints.items():
            lines.append(f"[{group}]")
            lines.extend(f"{k} = {v}" for k, v in eps.items())
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")

    def plugins(self, dist: str, server: dict[str, str], client: dict[str, str]) -> None:
        """A distribution whose module defines ``Server(prefix)``/``Client(prefix)`` objects."""
        module = f"{dist}_endpoints"
        names = [f"{n} = Server({p!r})" for n, p in server.items()]
        names += [f"{n} = Client({p!r})" for n, p in client.items()]
        self.module(module, PLUGIN_MODULE.format(names="\n".join(names)))
        self.distribution(
            dist,
            {
                "fw.endpoints.server": {n.split("_")[0]: f"{module}:{n}" for n in server},
                "fw.endpoints.client": {n.split("_")[0]: f"{module}:{n}" for n in client},
            },
        )


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.setattr(_endpoints_parse, "_warnedShadows", set())
    fake = FakeSite(tmp_path)
    yield fake
    for name in fake.modules:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()


def test_serverPlugin(site: FakeSite) -> None:
    site.plugins("fakeendpoints", {"fancy_s": "fancy"}, {})
    reactor = MemoryReactor()
    result = serverFromString(reactor, r"fancy:one:two\:2:key=value:other=a=b")
    assert result == (
        "server",
        "fancy",
        reactor,
        ("one", "two:2"),
        {"key": "value", "other": "a=b"},
    )
    # Types match regardless of case.
    assert serverFromString(reactor, "FANCY:x")[3] == ("x",)


def test_clientPlugin(site: FakeSite) -> None:
    site.plugins("fakeendpoints", {}, {"fancy_c": "fancy"})
    reactor = MemoryReactor()
    assert clientFromString(reactor, "fancy:host=h:9") == (
        "client",
        "fancy",
        reactor,
        ("9",),
        {"host": "h"},
    )
    with pytest.raises(ValueError, match="unknown endpoint type 'fancy'"):
        serverFromString(reactor, "fancy:9")


def test_pluginsValueErrorsNameTheDescription(site: FakeSite) -> None:
    site.plugins("fakeendpoints", {"fancy_s": "fancy"}, {})
    with pytest.raises(
        ValueError, match="invalid endpoint description 'fancy:bad': bad is not a good argument"
    ):
        serverFromString(MemoryReactor(), "fancy:bad")


def test_pluginFoundByItsPrefixAttribute(site: FakeSite) -> None:
    """A plugin registered under another name is found by ``prefix``, as Twisted finds them."""
    site.plugins("fakeendpoints", {"oddname_s": "fancy"}, {})
    assert serverFromString(MemoryReactor(), "fancy:1")[1] == "fancy"


def test_pluginsCannotReplaceBuiltinTypes(site: FakeSite) -> None:
    site.plugins("fakehijack", {"tcp_s": "tcp"}, {"unix_c": "unix"})
    with capturedLogs() as events:
        assert listened("tcp:80") == ("tcpServers", (80, 50, ""))
        assert connected("unix:/x") == ("unix", ("/x", 30, False))
        listened("tcp:81")
    warnings = [e for e in events if e.get("prefix") in ("tcp", "unix")]
    # Logged once per plugin, naming its distribution.
    assert sorted(e["prefix"] for e in warnings) == ["tcp", "unix"]
    assert all(e["distribution"] == "fakehijack" for e in warnings)
    assert "fakehijack_endpoints" not in sys.modules


def test_fwCoresOwnEntryPointsAreNotWarnedAbout(site: FakeSite) -> None:
    site.distribution(
        "fw_core",
        {"fw.endpoints.server": {"tcp": "fw.internet._endpoints_parse:tcpServerParser"}},
    )
    with capturedLogs() as events:
        assert listened("tcp:80") == ("tcpServers", (80, 50, ""))
    assert [e for e in events if e.get("prefix") == "tcp"] == []


def test_typeClaimedByTwoDistributions(site: FakeSite) -> None:
    site.plugins("fakeone", {"fancy_s": "fancy"}, {})
    site.plugins("faketwo", {"fancy_s": "fancy"}, {})
    with pytest.raises(
        ValueError, match=r"'fancy' is claimed by several plugins.*fakeone.*faketwo"
    ):
        serverFromString(MemoryReactor(), "fancy:1")


def test_brokenPlugin(site: FakeSite) -> None:
    site.module("fakebroken_endpoints", "raise RuntimeError('kaboom')\n")
    site.distribution(
        "fakebroken", {"fw.endpoints.server": {"fancy": "fakebroken_endpoints:parser"}}
    )
    with pytest.raises(ValueError, match=r"endpoint type 'fancy'.*fakebroken.*kaboom"):
        serverFromString(MemoryReactor(), "fancy:1")


def test_pluginNotProvidingTheInterface(site: FakeSite) -> None:
    site.module("fakeliar_endpoints", "parser = object()\n")
    site.distribution("fakeliar", {"fw.endpoints.client": {"fancy": "fakeliar_endpoints:parser"}})
    with pytest.raises(ValueError, match="does not provide"):
        clientFromString(MemoryReactor(), "fancy:1")
