"""Tests for fw.plugin: discovery, laziness, broken plugins and interface checks.

Each test installs fake distributions (a ``*.dist-info`` directory and the
modules its entry points name) in a fresh directory on ``sys.path``.
"""

from __future__ import annotations

import importlib
import logging
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from zope.interface import Interface

from fw.plugin import (
    PLUGIN_GROUPS,
    BrokenPlugin,
    PluginDoesNotProvide,
    PluginError,
    PluginNotFound,
    declarePluginGroup,
    getPlugin,
    getPlugins,
    iterPluginEntries,
    pluginGroup,
)
from fw.plugin.__main__ import main

GROUP = "fwtest.widgets"

INTERFACE_MODULE = f"""
from zope.interface import Interface
from fw.plugin import declarePluginGroup

@declarePluginGroup({GROUP!r})
class IWidget(Interface):
    def frob(x):
        "Frob x."
"""

GOOD_MODULE = """
from zope.interface import implementer
from fwtest_iface import IWidget

IMPORTED = True

@implementer(IWidget)
class Widget:
    def __init__(self, name):
        self.name = name
    def frob(self, x):
        return (self.name, x)

{names}
"""


class FakeSite:
    """A directory on sys.path holding fake distributions and modules."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def module(self, name: str, source: str) -> None:
        (self.root / f"{name}.py").write_text(textwrap.dedent(source))
        self.modules.append(name)

    def distribution(
        self, name: str, version: str, entryPoints: dict[str, dict[str, str]]
    ) -> None:
        info = self.root / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        lines = []
        for group, eps in entryPoints.items():
            lines.append(f"[{group}]")
            lines.extend(f"{k} = {v}" for k, v in eps.items())
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    fake = FakeSite(tmp_path)
    fake.module("fwtest_iface", INTERFACE_MODULE)
    yield fake
    for name in [*fake.modules]:
        sys.modules.pop(name, None)
    importlib.invalidate_caches()


@pytest.fixture
def iface(site: FakeSite) -> type[Interface]:
    module: ModuleType = importlib.import_module("fwtest_iface")
    result: type[Interface] = module.IWidget
    return result


def installGood(site: FakeSite, dist: str = "fakewidgets", names: str = "alpha beta") -> None:
    assignments = "\n".join(f"{n} = Widget({n!r})" for n in names.split())
    site.module(f"{dist}_mod", GOOD_MODULE.format(names=assignments))
    site.distribution(dist, "1.0", {GROUP: {n: f"{dist}_mod:{n}" for n in names.split()}})


def test_groupFromDeclaration(iface: type[Interface]) -> None:
    assert pluginGroup(iface) == GROUP


def test_groupDefaultsToDottedName() -> None:
    class IUndeclared(Interface):
        pass

    assert pluginGroup(IUndeclared) == f"{__name__}.IUndeclared"


def test_declarePluginGroupReturnsInterface() -> None:
    class IThing(Interface):
        pass

    assert declarePluginGroup("x.y")(IThing) is IThing
    assert pluginGroup(IThing) == "x.y"


def test_discovery(site: FakeSite, iface: type[Interface]) -> None:
    installGood(site)
    plugins = list(getPlugins(iface))
    assert [p.name for p in plugins] == ["alpha", "beta"]
    assert all(iface.providedBy(p) for p in plugins)
    assert getPlugin(iface, "beta").frob(3) == ("beta", 3)


def test_entriesDescribeTheirDistribution(site: FakeSite, iface: type[Interface]) -> None:
    installGood(site)
    [alpha, beta] = iterPluginEntries(iface)
    assert (alpha.name, alpha.group, alpha.value) == ("alpha", GROUP, "fakewidgets_mod:alpha")
    assert (alpha.distribution, alpha.version) == ("fakewidgets", "1.0")
    assert beta.name == "beta"
    assert iterPluginEntries(GROUP) == [alpha, beta]


def test_listingImportsNothing(site: FakeSite, iface: type[Interface]) -> None:
    installGood(site)
    entries = iterPluginEntries(iface)
    assert len(entries) == 2
    assert "fakewidgets_mod" not in sys.modules
    plugins = getPlugins(iface)
    assert "fakewidgets_mod" not in sys.modules, "getPlugins must be a lazy iterator"
    next(plugins)
    assert "fakewidgets_mod" in sys.modules


def test_commandLineListingImportsNothing(
    site: FakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    installGood(site)
    assert main([GROUP, "fw.reactors"]) == 0
    out = capsys.readouterr().out
    assert "alpha" in out
    assert "fakewidgets_mod:beta" in out
    assert "[fakewidgets 1.0]" in out
    assert "fakewidgets_mod" not in sys.modules


def test_commandLineListsFwGroupsByDefault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for group in PLUGIN_GROUPS:
        assert group in out


def brokenCases() -> dict[str, Callable[[FakeSite], None]]:
    def importError(site: FakeSite) -> None:
        site.module("fakebroken_mod", "raise RuntimeError('kaboom at import')\n")

    def missingAttribute(site: FakeSite) -> None:
        site.module("fakebroken_mod", "x = 1\n")

    return {"importError": importError, "missingAttribute": missingAttribute}


@pytest.mark.parametrize("case", sorted(brokenCases()))
def test_brokenPluginIsLoggedAndSkipped(
    case: str, site: FakeSite, iface: type[Interface], caplog: pytest.LogCaptureFixture
) -> None:
    installGood(site)
    brokenCases()[case](site)
    site.distribution("fakebroken", "2.5", {GROUP: {"gamma": "fakebroken_mod:gamma"}})
    with caplog.at_level(logging.ERROR, logger="fw.plugin"):
        names = [p.name for p in getPlugins(iface)]
    assert names == ["alpha", "beta"]
    [record] = caplog.records
    assert "gamma" in record.getMessage()
    assert "fakebroken 2.5" in record.getMessage()
    with pytest.raises(BrokenPlugin) as excinfo:
        getPlugin(iface, "gamma")
    assert excinfo.value.__cause__ is not None


def test_objectNotProvidingInterfaceIsSkipped(
    site: FakeSite, iface: type[Interface], caplog: pytest.LogCaptureFixture
) -> None:
    installGood(site, names="alpha")
    site.module("fakeliar_mod", "notAWidget = object()\n")
    site.distribution("fakeliar", "0.1", {GROUP: {"liar": "fakeliar_mod:notAWidget"}})
    with caplog.at_level(logging.ERROR, logger="fw.plugin"):
        assert [p.name for p in getPlugins(iface)] == ["alpha"]
    assert "does not provide fwtest_iface.IWidget" in caplog.text
    assert "fakeliar 0.1" in caplog.text
    with pytest.raises(PluginDoesNotProvide):
        getPlugin(iface, "liar")


def test_declaredButIncompleteObjectIsRejected(site: FakeSite, iface: type[Interface]) -> None:
    """An object that claims the interface but lacks its methods fails verification."""
    site.module(
        "fakehollow_mod",
        """
        from zope.interface import implementer
        from fwtest_iface import IWidget

        @implementer(IWidget)
        class Hollow:
            pass

        hollow = Hollow()
        """,
    )
    site.distribution("fakehollow", "1.0", {GROUP: {"hollow": "fakehollow_mod:hollow"}})
    assert list(getPlugins(iface)) == []
    with pytest.raises(PluginDoesNotProvide, match="frob"):
        getPlugin(iface, "hollow")


def test_notFoundNamesWhatIsInstalled(site: FakeSite, iface: type[Interface]) -> None:
    installGood(site)
    with pytest.raises(PluginNotFound, match="installed: alpha, beta"):
        getPlugin(iface, "omega")
    with pytest.raises(LookupError):
        getPlugin(iface, "omega")


def test_sameNameInTwoDistributionsIsAmbiguous(site: FakeSite, iface: type[Interface]) -> None:
    installGood(site, dist="fakeone", names="alpha")
    installGood(site, dist="faketwo", names="alpha")
    assert len(list(getPlugins(iface))) == 2
    with pytest.raises(PluginError, match=r"fakeone.*faketwo"):
        getPlugin(iface, "alpha")


def test_explicitGroup(site: FakeSite, iface: type[Interface]) -> None:
    site.module("fakeother_mod", GOOD_MODULE.format(names="delta = Widget('delta')"))
    site.distribution("fakeother", "1.0", {"fwtest.other": {"delta": "fakeother_mod:delta"}})
    assert list(getPlugins(iface)) == []
    assert [p.name for p in getPlugins(iface, group="fwtest.other")] == ["delta"]
    assert getPlugin(iface, "delta", group="fwtest.other").name == "delta"
