"""Development sessions for the fw monorepo.

``nox`` with no arguments runs what CI runs (the ``ci`` tag): the repository's
tests, lint, type checks, the builds, each distribution alone with its own
tests against its installed wheel, the docs and the release checks; every test
runs once.  ``nox -s tests`` is the whole suite in one editable environment.
``nox -l`` lists every session.  Sessions that take a distribution are
parametrized by its short name (``core``, ``web``...), so
``nox -s "isolated(web)"`` or ``nox -k web`` select it without surprises.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = ["core", "names", "web", "mail", "words", "conch", "trial"]
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
DIST = ROOT / "dist"

nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True
nox.options.tags = ["ci"]

TLS_REQUIREMENTS = ["pyOpenSSL>=24.0", "service_identity>=24.1", "idna>=3.6"]
TEST_REQUIREMENTS = [
    "pytest>=8.3",
    "hypothesis>=6.100",
    "pytest-timeout>=2.3",
    "pytest-xdist>=3.6",
    "packaging>=24",
    # The reactor conformance suite also runs the asyncio reactor on uvloop,
    # and on GLib's main loop through PyGObject (3.50 builds against Debian 12's
    # libgirepository1.0; .ci/debian-packages.txt has its build dependencies).
    "uvloop>=0.19",
    "PyGObject>=3.50,<3.51",
    # fw-core's ``tls`` extra, for the TLS tests.
    *TLS_REQUIREMENTS,
    # Independent implementations the protocol tests talk to (real peers).
    "proxy-protocol>=0.11",  # PROXY v1/v2 headers for fw.protocols.haproxy
    "crc32c>=2.4",  # proxy-protocol's CRC32C TLV
    "PySocks>=1.7",  # SOCKS clients against fw's SOCKS server
    "python-socks>=2.4",
    "pproxy>=2.7",  # a SOCKS server for fw's SOCKS client endpoints
    "telnetlib3>=2.0",  # telnet client and server against fw.protocols.telnet
    "psycopg[binary]>=3.1",  # adbapi against a real PostgreSQL server
    "bcrypt>=4.0",  # fw-core's bcrypt extra: bcrypt password files in fw.cred
    "dnspython>=2.6",  # DNS client and server against fw.names, and its wire format
    "requests>=2.31",  # HTTP clients against fw.web
    "flask>=3.0",  # a real WSGI application under fw.web.wsgi
    "brotli>=1.1",  # fw-web's brotli extra: brotli response encoding
    "aiohttp>=3.9",  # a non-fw HTTP server for fw.web.client
    "h2>=4.1",  # fw-web's http2 extra, and a raw HTTP/2 client in its tests
    "httpx[http2]>=0.27",  # an HTTP/2 client against fw.web
    "websockets>=13",  # WebSocket client and server against fw.web.websocket
    "python-subunit>=1.4",  # fw-trial's subunit reporter, read back by subunit's parser
    "coverage>=7",  # fw-trial's --coverage
]
DOCS_REQUIREMENTS = [
    "sphinx>=8",
    "myst-parser>=4",
    "furo>=2024.8.6",
    # The API reference imports every module: the TLS, GLib and pytest-plugin ones too.
    "PyGObject>=3.50,<3.51",
    "pytest>=8.3",
    *TLS_REQUIREMENTS,
]
TYPECHECK_REQUIREMENTS = [
    "mypy-zope>=1.0.9",
    "pytest>=8.3",
    "hypothesis>=6.100",
    # Typed optional dependencies that fw's source imports.
    "uvloop>=0.19",
    "h2>=4.1",
    *TLS_REQUIREMENTS,
]


def pyproject(package: str) -> dict:
    with (ROOT / "packages" / package / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def distName(package: str) -> str:
    return f"fw-{package}"


def fwDependencies(package: str) -> list[str]:
    """The fw packages that ``package`` declares, transitively, itself first."""
    order: list[str] = []

    def visit(p: str) -> None:
        if p in order:
            return
        order.append(p)
        for req in pyproject(p)["project"].get("dependencies", []):
            m = re.match(r"fw-([a-z]+)", req)
            if m:
                visit(m.group(1))

    visit(package)
    return order


def testDependencies(package: str) -> list[str]:
    """
    The fw packages that ``package``'s tests need besides its own
    dependencies (its ``test`` dependency group, PEP 735), with theirs.
    """
    extra: list[str] = []
    for req in pyproject(package).get("dependency-groups", {}).get("test", []):
        m = re.match(r"fw-([a-z]+)", req)
        if m:
            extra += [p for p in fwDependencies(m.group(1)) if p not in extra]
    return [p for p in extra if p not in fwDependencies(package)]


def ownedPackages(package: str) -> list[str]:
    """The ``fw.<name>`` sub-packages a distribution owns (from its wheel target)."""
    wheel = pyproject(package)["tool"]["hatch"]["build"]["targets"]["wheel"]
    return [p.removeprefix("src/fw/") for p in wheel["only-include"]]


def editable(packages: list[str]) -> list[str]:
    args: list[str] = []
    for p in packages:
        args += ["-e", str(ROOT / "packages" / p)]
    return args


#: pytest's options in every session that runs tests, before the session's
#: own arguments (which win: ``-- -n 0`` runs in one process).  The suite is
#: CPU-bound, so it runs on every core (pytest-xdist, work stealing); no
#: single test may take five minutes, so a hang fails that test instead of
#: the whole run.
PYTEST_DEFAULTS = ["-n", "auto", "--dist", "worksteal", "--timeout", "300"]


def pytestArgs(session: nox.Session) -> list[str]:
    return [*PYTEST_DEFAULTS, *session.posargs]


#: Twisted, as a wire-compatibility peer for AMP and PB tests.  It lives in a
#: virtualenv of its own, never beside fw: no fw distribution depends on it.
TWISTED_PEER = "twisted==26.10.0"


def twistedPeer(session: nox.Session) -> dict[str, str]:
    """Make (once) a virtualenv with Twisted; the env that points tests at it."""
    venv = ROOT / ".nox" / "_twisted-peer"
    python = venv / "bin" / "python"
    marker = venv / "installed.txt"
    if not marker.is_file() or marker.read_text() != TWISTED_PEER:
        shutil.rmtree(venv, ignore_errors=True)
        if session.venv_backend == "uv":
            session.run(
                "uv", "venv", "--quiet", "--python", sys.executable, str(venv), external=True
            )
            session.run(
                "uv",
                "pip",
                "install",
                "--quiet",
                "--python",
                str(python),
                TWISTED_PEER,
                external=True,
            )
        else:
            session.run(sys.executable, "-m", "venv", str(venv), external=True)
            session.run(
                str(python), "-m", "pip", "install", "--quiet", TWISTED_PEER, external=True
            )
        marker.write_text(TWISTED_PEER)
    return {"FW_TWISTED_PYTHON": str(python)}


def runPytest(session: nox.Session, *paths: str) -> None:
    """Run pytest on ``paths`` (its configured test paths by default).

    The tests get a short temporary directory of their own: nox's default,
    inside ``.nox/<session>``, can make a UNIX socket's path in a test's
    ``tmp_path`` longer than the 107 bytes that AF_UNIX allows.
    """
    tmp = tempfile.mkdtemp(prefix="fw-tests-")
    # Others may pass through, as through /tmp: the PostgreSQL tests run the
    # server as the postgres user in a directory of their own below it.
    os.chmod(tmp, 0o755)
    try:
        session.run(
            "python",
            "-m",
            "pytest",
            *paths,
            *pytestArgs(session),
            env={**twistedPeer(session), "TMPDIR": tmp},
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Every distribution installed (editable) and the whole test suite.

    The developer's session.  CI runs the same tests split differently, each
    once: the repository's own in ``repository``, each distribution's against
    its installed wheel in ``isolated``.
    """
    session.install(*TEST_REQUIREMENTS, *editable(PACKAGES))
    runPytest(session)


@nox.session(python=PYTHON, tags=["ci"])
def repository(session: nox.Session) -> None:
    """The repository's own tests (tests/), every distribution installed (editable).

    They check what spans distributions: the layout and its declarations, the
    docs' examples, the demo that the README runs, the benchmark driver.
    """
    session.install(*TEST_REQUIREMENTS, *editable(PACKAGES))
    runPytest(session, str(ROOT / "tests"))


@nox.session(python=PYTHON)
@nox.parametrize("package", PACKAGES, ids=PACKAGES)
def tests_package(session: nox.Session, package: str) -> None:
    """One distribution with only the fw distributions it declares, and its own tests.

    This is what catches an import of a sibling the distribution does not
    declare.
    """
    session.install(
        *TEST_REQUIREMENTS, *editable(fwDependencies(package) + testDependencies(package))
    )
    runPytest(session, str(ROOT / "packages" / package / "tests"))


@nox.session(python=PYTHON, tags=["ci"])
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON, tags=["ci"])
def typecheck(session: nox.Session) -> None:
    """mypy --strict with the mypy-zope plugin over every distribution's source."""
    session.install(*TYPECHECK_REQUIREMENTS, *editable(PACKAGES))
    session.run("mypy", *(str(ROOT / "packages" / p / "src") for p in PACKAGES))


def buildOne(session: nox.Session, package: str, outdir: Path) -> tuple[Path, Path]:
    """Build a distribution's sdist, then its wheel from that sdist, offline.

    The wheel is built the way a distribution packager builds it: from the
    unpacked sdist alone, with the declared build requirements already
    present and no network (``--no-isolation``).
    Returns the sdist and the wheel.
    """
    source = ROOT / "packages" / package
    session.run(
        "python", "-m", "build", "--sdist", "--no-isolation", "--outdir", str(outdir), str(source)
    )
    [sdist] = outdir.glob(f"fw_{package}-*.tar.gz")
    unpacked = Path(session.create_tmp()) / "unpacked" / package
    shutil.rmtree(unpacked, ignore_errors=True)
    unpacked.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    [tree] = unpacked.iterdir()
    session.run(
        "python",
        "-m",
        "build",
        "--wheel",
        "--no-isolation",
        "--outdir",
        str(outdir),
        str(tree),
        env={"PIP_NO_INDEX": "1", "UV_OFFLINE": "1"},
    )
    [wheel] = outdir.glob(f"fw_{package}-*.whl")
    return sdist, wheel


def buildRequirements() -> list[str]:
    reqs: set[str] = {"build>=1.2"}
    for p in PACKAGES:
        reqs.update(pyproject(p)["build-system"]["requires"])
    return sorted(reqs)


def checkWheel(wheel: Path, package: str) -> None:
    owned = ownedPackages(package)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    distInfo = wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info/"
    for name in names:
        if name.startswith(distInfo):
            continue
        parts = name.split("/")
        if parts[0] != "fw" or len(parts) < 3 or parts[1] not in owned:
            raise ValueError(f"{wheel.name} holds {name}, outside fw/{{{','.join(owned)}}}/")
    if "fw/__init__.py" in names:
        raise ValueError(f"{wheel.name} ships fw/__init__.py, breaking the namespace")
    for p in owned:
        if f"fw/{p}/py.typed" not in names:
            raise ValueError(f"{wheel.name} lacks fw/{p}/py.typed")


def checkSdist(sdist: Path) -> None:
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    top = names[0].split("/")[0]
    for required in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        if f"{top}/{required}" not in names:
            raise ValueError(f"{sdist.name} lacks {required}")
    if not any(n.startswith(f"{top}/tests/test_") for n in names):
        raise ValueError(f"{sdist.name} ships no tests")


@nox.session(python=PYTHON, tags=["ci"])
def build(session: nox.Session) -> None:
    """sdist and wheel for every distribution into dist/, checked."""
    session.install(*buildRequirements(), "twine>=5")
    shutil.rmtree(DIST, ignore_errors=True)
    DIST.mkdir()
    for package in PACKAGES:
        sdist, wheel = buildOne(session, package, DIST)
        checkSdist(sdist)
        checkWheel(wheel, package)
    artefacts = sorted(p.name for p in DIST.iterdir())
    session.run("twine", "check", "--strict", *(str(DIST / a) for a in artefacts))
    if len(artefacts) != 2 * len(PACKAGES):
        session.error(f"expected {2 * len(PACKAGES)} artefacts, got {artefacts}")
    session.log(f"{len(artefacts)} artefacts in {DIST}")


@nox.session(python=PYTHON, tags=["ci"])
@nox.parametrize("package", PACKAGES, ids=PACKAGES)
def isolated(session: nox.Session, package: str) -> None:
    """One distribution as a packager sees it.

    Builds it and its fw dependencies from their sdists, offline; installs only
    those wheels in a fresh environment; imports every module; loads every
    entry point it declares; and runs the tests shipped in its sdist against
    the installed wheel, from the unpacked sdist.
    """
    session.install(*buildRequirements(), *TEST_REQUIREMENTS)
    outdir = Path(session.create_tmp()) / "wheels"
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir()
    wheels = []
    for dep in fwDependencies(package):
        _, wheel = buildOne(session, dep, outdir)
        wheels.append(wheel)
    session.install(*map(str, wheels))
    session.run("python", str(ROOT / "tools" / "check_installed.py"), distName(package))
    # What its tests need besides (fw-trial for fw-core's), built the same way.
    testWheels = [buildOne(session, dep, outdir)[1] for dep in testDependencies(package)]
    if testWheels:
        session.install(*map(str, testWheels))
    [tree] = (Path(session.create_tmp()) / "unpacked" / package).iterdir()
    session.chdir(tree)
    runPytest(session, "tests")
    if package != "core":
        # Uninstalling one distribution leaves the rest of the namespace intact.
        uninstall(session, distName(package))
        session.run(
            "python",
            "-c",
            f"import importlib.util as u, fw.internet, fw.python; "
            f"assert u.find_spec('fw.{package}') is None, 'fw.{package} still importable'",
        )


def uninstall(session: nox.Session, dist: str) -> None:
    if session.venv_backend == "uv":
        session.run(
            "uv", "pip", "uninstall", "--python", session.virtualenv.location, dist, external=True
        )
    else:
        session.run("python", "-m", "pip", "uninstall", "--yes", dist)


@nox.session(python=PYTHON, tags=["ci"])
def docs(session: nox.Session) -> None:
    """Sphinx HTML docs with the API reference; warnings are errors."""
    session.install(*DOCS_REQUIREMENTS, *editable(PACKAGES))
    out = ROOT / "docs" / "_build" / "html"
    shutil.rmtree(out, ignore_errors=True)
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", str(out))


@nox.session(python=PYTHON, tags=["ci"])
@nox.parametrize("package", PACKAGES, ids=PACKAGES)
def release_check(session: nox.Session, package: str) -> None:
    """Check that a distribution is ready to release alone.

    The version in its version file and in its built metadata agree, the tag
    ``fw-<name>-v<version>`` is well formed and not yet used, the changelog
    has no section for this version yet, and towncrier drafts the section
    from the fragments.  docs/releasing.md gives the whole procedure.
    """
    session.install("towncrier>=24", "packaging>=24", "hatchling>=1.27")
    session.run("python", str(ROOT / "tools" / "release_check.py"), package, *session.posargs)


@nox.session(python=PYTHON)
def changelog_draft(session: nox.Session) -> None:
    """Print every distribution's draft changelog section."""
    session.install("towncrier>=24")
    for package in PACKAGES:
        session.chdir(ROOT / "packages" / package)
        session.run("towncrier", "build", "--draft", "--version", "NEXT")


BENCH_REQUIREMENTS = ["twisted==26.10.0", "uvloop>=0.19", "aiohttp", *TLS_REQUIREMENTS]


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """fw side by side with Twisted, asyncio, uvloop and aiohttp; not part of CI.

    Builds the C load generator with the system compiler, then runs
    benchmarks/run.py, which prints a table and writes JSON (by default to
    benchmarks/results.json).  Arguments after ``--`` go to the driver:
    ``nox -s bench -- --quick`` is a short smoke run, ``-- --help`` lists
    the rest.  The HTTP benchmarks need ``wrk`` and the DNS benchmark
    ``dnsperf`` (Debian packages of those names); without them those rows
    say "unavailable".  docs/performance.md shows the latest table.
    """
    session.install(*BENCH_REQUIREMENTS, *editable(["core", "names", "web", "trial"]))
    loadgen = ROOT / ".bench" / "echo_load"
    loadgen.parent.mkdir(exist_ok=True)
    source = ROOT / "benchmarks" / "loadgen" / "echo_load.c"
    session.run("cc", "-O2", "-Wall", "-o", str(loadgen), str(source), external=True)
    session.run(
        "python", str(ROOT / "benchmarks" / "run.py"), "--loadgen", str(loadgen), *session.posargs
    )
