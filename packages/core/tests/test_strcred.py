"""fw.cred.strcred: --auth descriptions, checker factory plugins, AuthOptionMixin."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from fw.cred import checkers, credentials, passwd, strcred
from fw.cred._checker_factories import (
    theAnonymousCheckerFactory,
    theFileCheckerFactory,
    theInMemoryCheckerFactory,
)
from fw.internet.defer import Deferred
from fw.plugin import pluginGroup
from fw.python import usage
from fw.python.failure import Failure


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def test_group() -> None:
    assert pluginGroup(strcred.ICheckerFactory) == "fw.cred.checkers"
    for factory in (theAnonymousCheckerFactory, theFileCheckerFactory, theInMemoryCheckerFactory):
        verifyObject(strcred.ICheckerFactory, factory)


def test_memory() -> None:
    checker = strcred.makeChecker("memory:alice:secret:bob:pw")
    assert isinstance(checker, checkers.InMemoryUsernamePasswordDatabaseDontUse)
    assert checker.users == {b"alice": b"secret", b"bob": b"pw"}
    up = credentials.UsernamePassword(b"bob", b"pw")
    assert successResultOf(checker.requestAvatarId(up)) == b"bob"
    assert strcred.makeChecker("memory").users == {}
    with pytest.raises(strcred.InvalidAuthArgumentString):
        strcred.makeChecker("memory:alice")
    with pytest.raises(strcred.InvalidAuthArgumentString):
        strcred.makeChecker("memory::pw")


def test_anonymous() -> None:
    checker = strcred.makeChecker("anonymous")
    assert isinstance(checker, checkers.AllowAnonymousAccess)
    with pytest.raises(strcred.InvalidAuthArgumentString):
        strcred.makeChecker("anonymous:x")


def test_file(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    passwd.setPassword(path, "alice", passwd.hashPassword("secret", n=16, r=1, p=1))
    checker = strcred.makeChecker(f"file:{path}")
    assert isinstance(checker, checkers.FilePasswordDB)
    assert checker.hash is checkers.HASHED
    up = credentials.UsernamePassword(b"alice", b"secret")
    assert successResultOf(checker.requestAvatarId(up)) == b"alice"
    with pytest.raises(strcred.InvalidAuthArgumentString, match="needs"):
        strcred.makeChecker("file:")
    with pytest.raises(strcred.InvalidAuthArgumentString, match="No such file"):
        strcred.makeChecker(f"file:{tmp_path / 'missing'}")
    (tmp_path / "bad").write_text("alice:plaintext\n")
    with pytest.raises(strcred.InvalidAuthArgumentString, match="bad, line 1"):
        strcred.makeChecker(f"file:{tmp_path / 'bad'}")


def test_unknownType() -> None:
    with pytest.raises(strcred.InvalidAuthType):
        strcred.makeChecker("nonesuch:x")


def test_findFactories() -> None:
    types = [f.authType for f in strcred.findCheckerFactories()]
    assert {"anonymous", "file", "memory"} <= set(types)
    assert types == sorted(types)
    assert strcred.findCheckerFactory("memory").authType == "memory"


@implementer(strcred.ICheckerFactory)
class _ReverseFactory:
    authType = "reverse"
    authHelp = "Users whose password is their name reversed."
    argStringFormat = "No argstring required."
    credentialInterfaces = (credentials.IUsernamePassword,)

    def generateChecker(self, argstring: str) -> Any:
        return ("reverse-checker", argstring)


theReverseFactory = _ReverseFactory()


@pytest.fixture
def thirdPartyPlugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution offering a checker factory by entry point."""
    module = tmp_path / "fwtest_authplugin.py"
    module.write_text("from test_strcred import theReverseFactory as factory\n")
    info = tmp_path / "fwtest_authplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fwtest-authplugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[fw.cred.checkers]\nreverse = fwtest_authplugin:factory\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "test_strcred", sys.modules[__name__])


def test_entryPointPlugin(thirdPartyPlugin: None) -> None:
    assert "reverse" in [f.authType for f in strcred.findCheckerFactories()]
    assert strcred.makeChecker("reverse:abc") == ("reverse-checker", "abc")


class ServerOptions(usage.Options, strcred.AuthOptionMixin):
    supportedInterfaces = (credentials.IUsernamePassword,)


def test_authOptionMixin(tmp_path: Path) -> None:
    options = ServerOptions()
    options.parseOptions(["--auth", "memory:alice:pw", "--auth", "memory:bob:pw2"])
    assert len(options["credCheckers"]) == 2
    assert options["credInterfaces"][credentials.IUsernamePassword] == options["credCheckers"]
    assert credentials.IUsernameHashedPassword not in options["credInterfaces"]
    with pytest.raises(usage.UsageError, match="not supported: anonymous"):
        ServerOptions().parseOptions(["--auth", "anonymous"])
    with pytest.raises(usage.UsageError, match="not recognized: nonesuch"):
        ServerOptions().parseOptions(["--auth", "nonesuch"])
    with pytest.raises(usage.UsageError, match="Invalid --auth argument"):
        ServerOptions().parseOptions(["--auth", "memory:odd"])
    assert "--auth" in str(ServerOptions())


def test_anyInterfaceByDefault() -> None:
    class AnyOptions(usage.Options, strcred.AuthOptionMixin):
        pass

    options = AnyOptions()
    options.parseOptions(["--auth", "anonymous"])
    assert list(options["credInterfaces"]) == [credentials.IAnonymous]


def test_helpAuth() -> None:
    options = ServerOptions()
    options.authOutput = io.StringIO()
    with pytest.raises(SystemExit) as info:
        options.parseOptions(["--help-auth"])
    assert info.value.code == 0
    text = options.authOutput.getvalue()
    assert "memory" in text
    assert "file" in text
    assert "anonymous" not in text  # not usable by this program


def test_helpAuthType() -> None:
    options = ServerOptions()
    options.authOutput = io.StringIO()
    with pytest.raises(SystemExit):
        options.parseOptions(["--help-auth-type", "file"])
    assert "python -m fw.cred.passwd" in options.authOutput.getvalue()
    options = ServerOptions()
    options.authOutput = io.StringIO()
    with pytest.raises(SystemExit):
        options.parseOptions(["--help-auth-type", "anonymous"])
    assert strcred.notSupportedWarning in options.authOutput.getvalue()
    with pytest.raises(usage.UsageError, match="Invalid auth type"):
        ServerOptions().parseOptions(["--help-auth-type", "nonesuch"])
