"""fw.application.reactors: the installable reactors registered in ``fw.reactors``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from zope.interface.verify import verifyObject

from fw.application.reactors import (
    IReactorInstaller,
    NoSuchReactor,
    Reactor,
    getReactorTypes,
    installReactor,
)
from fw.plugin import iterPluginEntries

EXPECTED = {
    "default": "EPollReactor",
    "epoll": "EPollReactor",
    "poll": "PollReactor",
    "select": "SelectReactor",
    "asyncio": "AsyncioSelectorReactor",
    "uvloop": "AsyncioSelectorReactor",
    "glib": "GIReactor",
    "gi": "GIReactor",
}


def test_fwCoreRegistersItsBackends() -> None:
    installers = {r.shortName: r for r in getReactorTypes()}
    assert set(EXPECTED) <= set(installers)
    for entry in iterPluginEntries(IReactorInstaller):
        if entry.name in EXPECTED:
            assert entry.distribution == "fw-core"
    for name in EXPECTED:
        assert verifyObject(IReactorInstaller, installers[name])
        assert installers[name].description


def runInstall(name: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import sys\n"
        "from fw.application.reactors import installReactor\n"
        "r = installReactor(sys.argv[1])\n"
        "from fw.internet import reactor\n"
        "assert reactor is r\n"
        "loop = getattr(r, '_asyncioEventloop', None)\n"
        "print(type(r).__name__, type(loop).__module__ if loop is not None else '-')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, name], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_installByName(name: str, requirePeer: Callable[[str], str]) -> None:
    if name in ("glib", "gi") and importlib.util.find_spec("gi") is None:
        # No such program: this skips, or fails when FW_REQUIRE_PEERS=1.
        requirePeer("PyGObject (the gi module)")
    result = runInstall(name)
    assert result.returncode == 0, result.stderr
    className, loopModule = result.stdout.split()
    assert className == EXPECTED[name]
    if name == "uvloop":
        assert loopModule.startswith("uvloop")
    elif name == "asyncio":
        assert loopModule.startswith("asyncio")


def test_unknownNameListsTheKnownOnes() -> None:
    with pytest.raises(NoSuchReactor) as info:
        installReactor("no-such-loop")
    message = str(info.value)
    assert "'no-such-loop'" in message
    assert "epoll" in message
    assert "select" in message


def test_secondInstallIsAClearError() -> None:
    script = (
        "from fw.application.reactors import installReactor\n"
        "from fw.internet.error import ReactorAlreadyInstalledError\n"
        "installReactor('select')\n"
        "try:\n"
        "    installReactor('poll')\n"
        "except ReactorAlreadyInstalledError as e:\n"
        "    print('refused:', e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused:")


def test_reactorCallsItsModulesInstallFunction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "myloopreactor.py").write_text(
        "calls = []\n"
        "def install():\n"
        "    calls.append('install')\n"
        "    return 'the reactor'\n"
        "def installFancy():\n"
        "    calls.append('fancy')\n"
        "    return 'the fancy reactor'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plain = Reactor("myloop", "myloopreactor", "a third-party loop")
    fancy = Reactor("fancy", "myloopreactor", "the same, fancier", installFunction="installFancy")
    assert verifyObject(IReactorInstaller, plain)
    assert plain.install() == "the reactor"
    assert fancy.install() == "the fancy reactor"
    import myloopreactor  # type: ignore[import-not-found]

    assert myloopreactor.calls == ["install", "fancy"]
    monkeypatch.delitem(sys.modules, "myloopreactor")
