"""The monorepo's promises about its seven distributions, checked on the source tree.

These are the invariants of docs/architecture.md: one PEP 420 namespace, each
distribution owning whole sub-packages, exact dependency declarations, and
per-distribution versions, changelogs and test configuration.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["core", "names", "web", "mail", "words", "conch", "trial"]
CORE_OWNED = [
    "python", "internet", "protocols", "application", "cred", "spread", "enterprise",
    "logger", "plugin",
]  # fmt: skip


def load(package: str) -> dict[str, Any]:
    with (ROOT / "packages" / package / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def owned(package: str) -> list[str]:
    targets = load(package)["tool"]["hatch"]["build"]["targets"]["wheel"]["only-include"]
    return [t.removeprefix("src/fw/") for t in targets]


def test_everyPackageDirectoryIsADistribution() -> None:
    found = sorted(p.name for p in (ROOT / "packages").iterdir() if p.is_dir())
    assert found == sorted(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_ownership(package: str) -> None:
    expected = CORE_OWNED if package == "core" else [package]
    assert owned(package) == expected
    fw = ROOT / "packages" / package / "src" / "fw"
    assert sorted(p.name for p in fw.iterdir() if p.name != "__pycache__") == sorted(expected), (
        "src/fw/ holds only the distribution's own sub-packages: no fw/__init__.py, no fw/x.py"
    )
    for sub in expected:
        assert (fw / sub / "__init__.py").is_file()
        assert (fw / sub / "py.typed").is_file()


def test_noSubPackageIsOwnedTwice() -> None:
    allOwned = [sub for p in PACKAGES for sub in owned(p)]
    assert len(allOwned) == len(set(allOwned))


@pytest.mark.parametrize("package", PACKAGES)
def test_metadata(package: str) -> None:
    project = load(package)["project"]
    assert project["name"] == f"fw-{package}"
    assert project["dynamic"] == ["version"]
    assert project["requires-python"] == ">=3.11"
    assert project["readme"] == "README.md"
    assert project["license"] == "MIT"
    for key in ("description", "classifiers", "urls", "authors", "keywords"):
        assert project[key], key
    assert "Typing :: Typed" in project["classifiers"]
    directory = ROOT / "packages" / package
    assert (directory / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert (directory / "README.md").read_text().startswith(f"# fw-{package}\n")


@pytest.mark.parametrize("package", PACKAGES)
def test_versionFileInOwnedSubPackage(package: str) -> None:
    config = load(package)
    path = config["tool"]["hatch"]["version"]["path"]
    sub = Path(path).parts[2]
    assert path.startswith("src/fw/")
    assert sub in owned(package)
    source = (ROOT / "packages" / package / path).read_text()
    [version] = re.findall(r'^__version__ = "([^"]+)"$', source, re.M)
    assert str(Version(version)) == version


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "core"])
def test_dependsOnCoreWithCompatibleRange(package: str) -> None:
    requirements = [Requirement(r) for r in load(package)["project"]["dependencies"]]
    [core] = [r for r in requirements if r.name == "fw-core"]
    lower = [s for s in core.specifier if s.operator == ">="]
    upper = [s for s in core.specifier if s.operator == "<"]
    assert len(lower) == 1, f"{core} is not a >=X,<Y range"
    assert len(upper) == 1, f"{core} is not a >=X,<Y range"
    coreVersion = Version(
        re.findall(
            r'__version__ = "(.+)"', (ROOT / "packages/core/src/fw/python/_version.py").read_text()
        )[0]
    )
    assert core.specifier.contains(coreVersion, prereleases=True), (
        f"fw-{package} does not accept the fw-core in this repository ({coreVersion})"
    )
    assert Version(upper[0].version).major > Version(lower[0].version).major or (
        Version(lower[0].version).major == 0
    )


def fwImports(path: Path) -> set[str]:
    """The ``fw.<sub>`` packages a module imports."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "fw":
                names = [f"fw.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fw" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_importsOnlyDeclaredDistributions(package: str) -> None:
    """
    Source imports only fw packages of declared distributions; tests also
    those of the distribution's ``test`` dependency group (PEP 735).
    """
    ownerOf = {sub: p for p in PACKAGES for sub in owned(p)}
    project = load(package)
    requirements = [Requirement(r).name for r in project["project"]["dependencies"]]
    testGroup = [Requirement(r).name for r in project.get("dependency-groups", {}).get("test", [])]
    allowed = {package} | {r.removeprefix("fw-") for r in requirements if r.startswith("fw-")}
    allowedInTests = allowed | {r.removeprefix("fw-") for r in testGroup if r.startswith("fw-")}
    directory = ROOT / "packages" / package
    sources = [(path, allowed) for path in directory.glob("src/**/*.py")]
    tests = [(path, allowedInTests) for path in directory.glob("tests/**/*.py")]
    for path, permitted in [*sources, *tests]:
        for sub in fwImports(path):
            assert sub in ownerOf, f"{path} imports fw.{sub}, which no distribution owns"
            assert ownerOf[sub] in permitted, (
                f"{path.relative_to(ROOT)} imports fw.{sub} from fw-{ownerOf[sub]}, "
                f"which fw-{package} does not declare"
            )


@pytest.mark.parametrize("package", PACKAGES)
def test_changelogKeptWithTowncrier(package: str) -> None:
    towncrier = load(package)["tool"]["towncrier"]
    assert towncrier["name"] == f"fw-{package}"
    directory = ROOT / "packages" / package
    assert (directory / towncrier["directory"]).is_dir()
    changelog = (directory / towncrier["filename"]).read_text()
    assert towncrier["start_string"].strip() in changelog


@pytest.mark.parametrize("package", PACKAGES)
def test_sdistShipsTests(package: str) -> None:
    sdist = load(package)["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    for part in ("/src/fw", "/tests", "/changelog.d", "/CHANGELOG.md", "/README.md", "/LICENSE"):
        assert part in sdist
    assert list((ROOT / "packages" / package / "tests").glob("test_*.py"))
    assert not (ROOT / "packages" / package / "tests" / "__init__.py").exists()


def rootPytestOptions() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "pytest.ini")
    return dict(parser["pytest"])


@pytest.mark.parametrize("package", PACKAGES)
def test_pytestConfigurationInStep(package: str) -> None:
    """A package's own pytest options (used from its sdist) match the root's."""
    mine = load(package)["tool"]["pytest"]["ini_options"]
    root = rootPytestOptions()
    assert " ".join(mine["addopts"]) == root["addopts"]
    assert str(mine["consider_namespace_packages"]).lower() == root["consider_namespace_packages"]
    assert str(mine["xfail_strict"]).lower() == root["xfail_strict"]
    assert f"packages/*/{mine['testpaths'][0]}" in root["testpaths"].split()


def test_pluginGroupsDocumented() -> None:
    """docs/plugins.md's table lists exactly fw.plugin.PLUGIN_GROUPS."""
    from fw.plugin import PLUGIN_GROUPS

    text = (ROOT / "docs" / "plugins.md").read_text()
    documented = re.findall(r"^\| `(fw\.[a-z_.]+)` \|", text, re.M)
    assert sorted(documented) == sorted(PLUGIN_GROUPS)
