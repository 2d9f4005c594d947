"""
Endpoint description strings: the syntax, fw-core's parsers for its own
prefixes, and :func:`serverFromString` / :func:`clientFromString`, which
also find parsers installed as plugins.

Private: :mod:`fw.internet.endpoints` is the public module.  The module-level
parser objects here (``tcpServerParser``...) are what fw-core's own entry
points name.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, TypeVar

from zope.interface import implementer
from zope.interface.interface import InterfaceClass

from fw.internet._endpoints_basic import (
    AdoptedStreamServerEndpoint,
    StandardIOEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    TCP6ClientEndpoint,
    TCP6ServerEndpoint,
    UNIXClientEndpoint,
    UNIXServerEndpoint,
)
from fw.internet._interfaces_protocol import (
    IStreamClientEndpoint,
    IStreamClientEndpointStringParserWithReactor,
    IStreamServerEndpoint,
    IStreamServerEndpointStringParser,
)
from fw.logger import Logger
from fw.plugin import PluginError, getPlugin, getPlugins, iterPluginEntries

__all__ = [
    "BUILTIN_CLIENT_PARSERS",
    "BUILTIN_SERVER_PARSERS",
    "clientFromString",
    "quoteStringArgument",
    "serverFromString",
]

_log = Logger(namespace="fw.internet.endpoints")

_ParserT = TypeVar("_ParserT")

# -- the syntax ------------------------------------------------------------------


def _parse(description: str) -> tuple[list[str], dict[str, str]]:
    """
    Split a description into its positional fields and its ``key=value``
    fields (the prefix is the first positional one).

    Fields are separated by ``:``; the first ``=`` of a field separates its
    key from its value (later ones are part of the value); a backslash makes
    the next character, whatever it is, part of the field.

    Raises:
        ValueError: a lone backslash at the end, or a key given twice.
    """
    args: list[str] = []
    kwargs: dict[str, str] = {}
    key: str | None = None
    current: list[str] = []

    def endField() -> None:
        value = "".join(current)
        current.clear()
        if key is None:
            args.append(value)
        elif key in kwargs:
            raise ValueError(f"parameter {key!r} is given twice")
        else:
            kwargs[key] = value

    characters = iter(description)
    for c in characters:
        if c == "\\":
            escaped = next(characters, None)
            if escaped is None:
                raise ValueError("the description ends with a lone backslash")
            current.append(escaped)
        elif c == ":":
            endField()
            key = None
        elif c == "=" and key is None:
            key = "".join(current)
            current.clear()
        else:
            current.append(c)
    endField()
    return args, kwargs


def quoteStringArgument(argument: str) -> str:
    """
    Escape ``argument`` for use as one field of an endpoint description: a
    backslash goes before every backslash, colon and equals sign in it.
    (Twisted's leaves ``=`` alone, which makes a positional field containing
    one read as ``key=value``; the escaped form parses the same in both.)

    Example::

        serverFromString(reactor, "unix:" + quoteStringArgument(path))
    """
    return argument.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")


# -- checking and converting fields ----------------------------------------------


def _bind(
    what: str,
    params: Sequence[str],
    args: Sequence[str],
    kwargs: Mapping[str, str],
    required: Iterable[str] = (),
) -> dict[str, str]:
    """
    Match positional fields to ``params`` in order and check keyword ones.

    Raises:
        ValueError: too many positional fields, an unknown or repeated
            parameter, or a required one missing.
    """
    if len(args) > len(params):
        raise ValueError(
            f"{what} takes at most {len(params)} positional field(s) "
            f"({', '.join(params)}), not {len(args)}"
        )
    bound = dict(zip(params, args, strict=False))
    for name, value in kwargs.items():
        if name not in params:
            raise ValueError(
                f"{what} has no parameter {name!r} (its parameters: {', '.join(params)})"
            )
        if name in bound:
            raise ValueError(f"{what}: {name!r} is given both by position and by name")
        bound[name] = value
    missing = [name for name in required if name not in bound]
    if missing:
        raise ValueError(f"{what} needs {' and '.join(repr(m) for m in missing)}")
    return bound


def _integer(what: str, name: str, value: str, low: int = 0, high: int | None = None) -> int:
    try:
        number = int(value, 10)
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{what}: {name} must be an integer {bounds}, not {value!r}")
    return number


def _port(what: str, value: str) -> int:
    return _integer(what, "port", value, 0, 65535)


def _seconds(what: str, name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise ValueError(f"{what}: {name} must be a number of seconds, not {value!r}")
    return number


def _flag(what: str, name: str, value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError(f"{what}: {name} must be 0 or 1, not {value!r}")
    return value == "1"


def _mode(what: str, value: str) -> int:
    if not re.fullmatch(r"[0-7]{1,4}", value):
        raise ValueError(f"{what}: mode must be octal permissions such as 660, not {value!r}")
    return int(value, 8)


# -- fw-core's server parsers ----------------------------------------------------


def _yesNo(what: str, name: str, value: str) -> bool:
    answer = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
    found = answer.get(value.lower())
    if found is None:
        raise ValueError(f"{what}: {name} must be yes or no, not {value!r}")
    return found


def _tcpServerFields(
    what: str, positional: tuple[str, ...], args: Sequence[str], kwargs: Mapping[str, str]
) -> tuple[dict[str, str], bool]:
    """Bind a TCP server string's fields, and its ``reusePort`` (by name only)."""
    others = dict(kwargs)
    reusePort = _yesNo(what, "reusePort", others.pop("reusePort", "no"))
    return _bind(what, positional, args, others, ["port"]), reusePort


@implementer(IStreamServerEndpointStringParser)
class _TCPServerParser:
    """
    ``tcp:PORT[:interface=ADDRESS][:backlog=N][:reusePort=yes]``: a
    :class:`TCP4ServerEndpoint`; ``reusePort=yes`` (an fw extension) binds
    with ``SO_REUSEPORT``.
    """

    prefix = "tcp"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the endpoint; positional fields are port, interface, backlog."""
        what = "a 'tcp' server endpoint"
        p, reusePort = _tcpServerFields(what, ("port", "interface", "backlog"), args, kwargs)
        return TCP4ServerEndpoint(
            reactor,
            _port(what, p["port"]),
            backlog=_integer(what, "backlog", p.get("backlog", "50"), 1),
            interface=p.get("interface", ""),
            reusePort=reusePort,
        )


@implementer(IStreamServerEndpointStringParser)
class _TCP6ServerParser:
    """
    ``tcp6:PORT[:backlog=N][:interface=ADDRESS][:reusePort=yes]``: a
    :class:`TCP6ServerEndpoint`; ``reusePort=yes`` (an fw extension) binds
    with ``SO_REUSEPORT``.
    """

    prefix = "tcp6"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the endpoint; positional fields are port, backlog, interface (as in Twisted)."""
        what = "a 'tcp6' server endpoint"
        p, reusePort = _tcpServerFields(what, ("port", "backlog", "interface"), args, kwargs)
        return TCP6ServerEndpoint(
            reactor,
            _port(what, p["port"]),
            backlog=_integer(what, "backlog", p.get("backlog", "50"), 1),
            interface=p.get("interface", "::"),
            reusePort=reusePort,
        )


@implementer(IStreamServerEndpointStringParser)
class _UNIXServerParser:
    """
    ``unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]``: a
    :class:`UNIXServerEndpoint`, with a lock file unless ``lockfile=0``.
    """

    prefix = "unix"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the endpoint; positional fields are address, mode, backlog, lockfile."""
        what = "a 'unix' server endpoint"
        p = _bind(what, ("address", "mode", "backlog", "lockfile"), args, kwargs, ["address"])
        if not p["address"]:
            raise ValueError(f"{what} needs a non-empty address")
        return UNIXServerEndpoint(
            reactor,
            p["address"],
            backlog=_integer(what, "backlog", p.get("backlog", "50"), 1),
            mode=_mode(what, p.get("mode", "666")),
            wantPID=_flag(what, "lockfile", p.get("lockfile", "1")),
        )


class _ListenFDs:
    """
    The listening sockets systemd passed to this process (``sd_listen_fds``):
    descriptors 3, 4... as counted by ``LISTEN_FDS`` and named by
    ``LISTEN_FDNAMES``, provided ``LISTEN_PID`` is this process.
    """

    # sd_listen_fds(3): "SD_LISTEN_FDS_START", the first passed descriptor.
    START = 3

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.descriptors: list[int] = []
        self.names: list[str] = []
        self.why = ""
        pid = environ.get("LISTEN_PID")
        if pid is None:
            self.why = "LISTEN_PID is not set: systemd passed no sockets"
            return
        if pid != str(os.getpid()):
            self.why = f"LISTEN_PID is {pid}, not this process ({os.getpid()})"
            return
        count = environ.get("LISTEN_FDS", "0")
        if not count.isdigit():
            self.why = f"LISTEN_FDS is not a number: {count!r}"
            return
        self.descriptors = list(range(self.START, self.START + int(count)))
        names = environ.get("LISTEN_FDNAMES")
        self.names = names.split(":") if names is not None else []
        # sd_listen_fds_with_names(3): descriptors without a name are "unknown".
        self.names += ["unknown"] * (len(self.descriptors) - len(self.names))
        if not self.descriptors:
            self.why = "LISTEN_FDS is 0"


_DOMAINS: Final = {
    "INET": socket.AF_INET,
    "INET6": socket.AF_INET6,
    "UNIX": socket.AF_UNIX,
}


@implementer(IStreamServerEndpointStringParser)
class _SystemdParser:
    """
    ``systemd:domain=INET|INET6|UNIX:index=N`` or ``...:name=NAME``: an
    :class:`AdoptedStreamServerEndpoint` on a socket passed by systemd
    (socket activation), chosen by its position or by its
    ``FileDescriptorName=``.  The environment is read when the description
    is parsed.
    """

    prefix = "systemd"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the endpoint; positional fields are domain, index, name."""
        what = "a 'systemd' server endpoint"
        p = _bind(what, ("domain", "index", "name"), args, kwargs, ["domain"])
        family = _DOMAINS.get(p["domain"])
        if family is None:
            raise ValueError(
                f"{what}: domain must be one of {', '.join(_DOMAINS)}, not {p['domain']!r}"
            )
        if ("index" in p) == ("name" in p):
            raise ValueError(f"{what} needs exactly one of 'index' and 'name'")
        inherited = _ListenFDs(os.environ)
        if "index" in p:
            index = _integer(what, "index", p["index"])
            if index >= len(inherited.descriptors):
                because = inherited.why or f"only {len(inherited.descriptors)} were passed"
                raise ValueError(f"{what}: no inherited socket with index {index} ({because})")
            fileno = inherited.descriptors[index]
        else:
            name = p["name"]
            if name not in inherited.names:
                because = inherited.why or f"the names passed: {', '.join(inherited.names)}"
                raise ValueError(f"{what}: no inherited socket named {name!r} ({because})")
            fileno = inherited.descriptors[inherited.names.index(name)]
        return AdoptedStreamServerEndpoint(reactor, fileno, family)


@implementer(IStreamServerEndpointStringParser)
class _StandardIOParser:
    """``stdio:``: a :class:`StandardIOEndpoint` (this process's standard I/O)."""

    prefix = "stdio"

    def parseStreamServer(self, reactor: Any, *args: str, **kwargs: str) -> IStreamServerEndpoint:
        """Build the endpoint; it takes no fields (empty ones, as in ``stdio:``, are ignored)."""
        _bind("a 'stdio' server endpoint", (), [a for a in args if a], kwargs)
        return StandardIOEndpoint(reactor)


# -- fw-core's client parsers ----------------------------------------------------


def _tcpClientFields(what: str, args: Sequence[str], kwargs: Mapping[str, str]) -> dict[str, Any]:
    params = ("host", "port", "timeout", "bindAddress")
    if len(args) == 1 and "host" in kwargs and "port" not in kwargs:
        # "tcp:host=example.com:80": the one positional field is the port.
        kwargs = {**kwargs, "port": args[0]}
        args = ()
    p = _bind(what, params, args, kwargs, ["host", "port"])
    if not p["host"]:
        raise ValueError(f"{what} needs a non-empty host")
    fields: dict[str, Any] = {"host": p["host"], "port": _port(what, p["port"])}
    if "timeout" in p:
        fields["timeout"] = _seconds(what, "timeout", p["timeout"])
    if "bindAddress" in p:
        fields["bindAddress"] = (p["bindAddress"], 0)
    return fields


@implementer(IStreamClientEndpointStringParserWithReactor)
class _TCPClientParser:
    """
    ``tcp:HOST:PORT[:timeout=SECONDS][:bindAddress=ADDRESS]`` (or
    ``host=``/``port=``): a :class:`TCP4ClientEndpoint`.
    """

    prefix = "tcp"

    def parseStreamClient(self, reactor: Any, *args: str, **kwargs: str) -> IStreamClientEndpoint:
        """Build the endpoint; positional fields are host, port, timeout, bindAddress."""
        return TCP4ClientEndpoint(
            reactor, **_tcpClientFields("a 'tcp' client endpoint", args, kwargs)
        )


@implementer(IStreamClientEndpointStringParserWithReactor)
class _TCP6ClientParser:
    """
    ``tcp6:HOST:PORT[:timeout=SECONDS][:bindAddress=ADDRESS]``: a
    :class:`TCP6ClientEndpoint` (an fw addition; Twisted has no such prefix).
    """

    prefix = "tcp6"

    def parseStreamClient(self, reactor: Any, *args: str, **kwargs: str) -> IStreamClientEndpoint:
        """Build the endpoint; positional fields are host, port, timeout, bindAddress."""
        return TCP6ClientEndpoint(
            reactor, **_tcpClientFields("a 'tcp6' client endpoint", args, kwargs)
        )


@implementer(IStreamClientEndpointStringParserWithReactor)
class _UNIXClientParser:
    """
    ``unix:PATH[:timeout=SECONDS][:lockfile=0|1]`` (or ``path=``): a
    :class:`UNIXClientEndpoint`; ``lockfile=1`` (alias ``checkPID=1``)
    checks the server's lock file.
    """

    prefix = "unix"

    def parseStreamClient(self, reactor: Any, *args: str, **kwargs: str) -> IStreamClientEndpoint:
        """Build the endpoint; positional fields are path, timeout, lockfile."""
        what = "a 'unix' client endpoint"
        params = ("path", "timeout", "lockfile", "checkPID")
        p = _bind(what, params, args, kwargs, ["path"])
        if not p["path"]:
            raise ValueError(f"{what} needs a non-empty path")
        if "lockfile" in p and "checkPID" in p:
            raise ValueError(f"{what}: give 'lockfile' or its alias 'checkPID', not both")
        checkPID = p.get("lockfile", p.get("checkPID", "0"))
        return UNIXClientEndpoint(
            reactor,
            p["path"],
            timeout=_seconds(what, "timeout", p.get("timeout", "30")),
            checkPID=_flag(what, "lockfile", checkPID),
        )


tcpServerParser: Final = _TCPServerParser()
tcp6ServerParser: Final = _TCP6ServerParser()
unixServerParser: Final = _UNIXServerParser()
systemdServerParser: Final = _SystemdParser()
stdioServerParser: Final = _StandardIOParser()
tcpClientParser: Final = _TCPClientParser()
tcp6ClientParser: Final = _TCP6ClientParser()
unixClientParser: Final = _UNIXClientParser()

#: fw-core's own server prefixes; plugins cannot replace them.
BUILTIN_SERVER_PARSERS: Final[Mapping[str, Any]] = MappingProxyType(
    {
        p.prefix: p
        for p in (
            tcpServerParser,
            tcp6ServerParser,
            unixServerParser,
            systemdServerParser,
            stdioServerParser,
        )
    }
)
#: fw-core's own client prefixes; plugins cannot replace them.
BUILTIN_CLIENT_PARSERS: Final[Mapping[str, Any]] = MappingProxyType(
    {p.prefix: p for p in (tcpClientParser, tcp6ClientParser, unixClientParser)}
)


# -- finding the parser of a prefix ----------------------------------------------

_OWN_DISTRIBUTION = "fw-core"
_warnedShadows: set[tuple[str, str, str | None]] = set()


def _normalisedDistribution(name: str | None) -> str | None:
    return None if name is None else re.sub(r"[-_.]+", "-", name).lower()


def _parserFor(
    prefix: str, builtins: Mapping[str, _ParserT], interface: InterfaceClass
) -> _ParserT:
    """
    The parser for ``prefix`` (case-insensitive): fw-core's own, else the
    plugin registered under that name, else (as Twisted finds them) a plugin
    whose ``prefix`` attribute is that name.

    Raises:
        ValueError: no parser, several plugins claiming the prefix, or a
            plugin that cannot be loaded.
    """
    key = prefix.lower()
    entries = [e for e in iterPluginEntries(interface) if e.name.lower() == key]
    builtin = builtins.get(key)
    if builtin is not None:
        for entry in entries:
            if _normalisedDistribution(entry.distribution) == _OWN_DISTRIBUTION:
                continue
            shadow = (entry.group, entry.name, entry.distribution)
            if shadow not in _warnedShadows:
                _warnedShadows.add(shadow)
                _log.warn(
                    "ignoring the endpoint plugin {name!r} ({value}) of {distribution}: "
                    "{prefix!r} is one of fw-core's own endpoint types, which plugins "
                    "cannot replace",
                    name=entry.name,
                    value=entry.value,
                    distribution=entry.distribution or "an unknown distribution",
                    prefix=key,
                )
        return builtin
    if len(entries) > 1:
        claims = "; ".join(f"{e.name} = {e.value} ({e.distribution})" for e in entries)
        raise ValueError(f"endpoint type {prefix!r} is claimed by several plugins: {claims}")
    if entries:
        try:
            plugin: _ParserT = getPlugin(interface, entries[0].name)
        except PluginError as e:
            raise ValueError(f"endpoint type {prefix!r}: {e}") from e
        return plugin
    for candidate in getPlugins(interface):
        if str(getattr(candidate, "prefix", "")).lower() == key:
            found: _ParserT = candidate
            return found
    known = sorted({*builtins, *(e.name.lower() for e in iterPluginEntries(interface))})
    raise ValueError(f"unknown endpoint type {prefix!r} (known types: {', '.join(known)})")


def _split(description: str | bytes) -> tuple[str, list[str], dict[str, str]]:
    if isinstance(description, bytes):
        description = description.decode("utf-8")
    try:
        args, kwargs = _parse(description)
    except ValueError as e:
        raise ValueError(f"invalid endpoint description {description!r}: {e}") from None
    prefix = args.pop(0)
    if not prefix:
        raise ValueError(
            f"invalid endpoint description {description!r}: it must start with an "
            "endpoint type, such as 'tcp:'"
        )
    return prefix, args, kwargs


def serverFromString(reactor: Any, description: str | bytes) -> IStreamServerEndpoint:
    """
    Make a server endpoint from a description such as ``"tcp:8080"``.

    A description is an endpoint type, then ``:``-separated fields, each a
    value (positional) or ``name=value``; a backslash escapes the next
    character (``\\:`` is a colon inside a field; see
    :func:`quoteStringArgument`).  fw-core's own types:

    - ``tcp:PORT[:interface=ADDRESS][:backlog=N]``
    - ``tcp6:PORT[:backlog=N][:interface=ADDRESS]`` (``interface=\\:\\:1``)
    - ``unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0|1]`` (the lock file
      is on unless ``lockfile=0``)
    - ``systemd:domain=INET|INET6|UNIX:index=N`` or ``...:name=NAME``: a
      socket passed by systemd socket activation (``LISTEN_FDS``,
      ``LISTEN_PID``, ``LISTEN_FDNAMES``)
    - ``stdio:``: standard input and output

    Other types come from plugins: objects providing
    :class:`~fw.internet.interfaces.IStreamServerEndpointStringParser`,
    registered in the ``fw.endpoints.server`` entry-point group under their
    type's name, and given the fields as strings.  Types are matched
    without regard to case.  The rule for clashes: **fw-core's own types
    always win** — a plugin registered under one of their names is ignored,
    and a warning naming its distribution is logged — and a type claimed
    by plugins of two distributions is an error.

    Args:
        reactor: the reactor the endpoint will use.
        description: the description.

    Returns:
        The endpoint (nothing is listened on until its ``listen``).

    Raises:
        ValueError: the description is malformed, of an unknown type, or its
            fields are wrong; the message says which and why.
    """
    prefix, args, kwargs = _split(description)
    try:
        parser = _parserFor(prefix, BUILTIN_SERVER_PARSERS, IStreamServerEndpointStringParser)
        endpoint: IStreamServerEndpoint = parser.parseStreamServer(reactor, *args, **kwargs)
    except ValueError as e:
        raise ValueError(f"invalid endpoint description {description!r}: {e}") from e
    return endpoint


def clientFromString(reactor: Any, description: str | bytes) -> IStreamClientEndpoint:
    """
    Make a client endpoint from a description such as
    ``"tcp:host=example.com:port=80"``.

    The syntax is :func:`serverFromString`'s.  fw-core's own types:

    - ``tcp:HOST:PORT[:timeout=SECONDS][:bindAddress=ADDRESS]``, host and
      port also as ``host=`` and ``port=``
    - ``tcp6:HOST:PORT[...]``: the same over IPv6 (an fw addition)
    - ``unix:PATH[:timeout=SECONDS][:lockfile=0|1]``, path also as ``path=``

    Other types come from plugins providing
    :class:`~fw.internet.interfaces.IStreamClientEndpointStringParserWithReactor`
    in the ``fw.endpoints.client`` entry-point group, under the same rules
    as servers' (fw-core's own types always win).

    Args:
        reactor: the reactor the endpoint will use.
        description: the description.

    Returns:
        The endpoint (nothing is connected until its ``connect``).

    Raises:
        ValueError: the description is malformed, of an unknown type, or its
            fields are wrong.
    """
    prefix, args, kwargs = _split(description)
    try:
        parser = _parserFor(
            prefix, BUILTIN_CLIENT_PARSERS, IStreamClientEndpointStringParserWithReactor
        )
        endpoint: IStreamClientEndpoint = parser.parseStreamClient(reactor, *args, **kwargs)
    except ValueError as e:
        raise ValueError(f"invalid endpoint description {description!r}: {e}") from e
    return endpoint
