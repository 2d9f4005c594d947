"""Check that one fw distribution can be released alone.

Usage: python tools/release_check.py PACKAGE [--final]

PACKAGE is the short name (``web`` for fw-web).  Checks, from the package's
directory:

- the version hatch reads from the version file is a valid PEP 440 version
  (with ``--final``: and not a pre-release or development version);
- the release tag ``fw-<name>-v<version>`` is a well-formed git tag name and
  is not already used;
- CHANGELOG.md has no section for this version yet;
- towncrier drafts the section for this version from the news fragments, and
  there is at least one fragment.

docs/releasing.md describes the whole release procedure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent


def fail(message: str) -> int:
    print(f"release_check: {message}", file=sys.stderr)
    return 1


def run(*args: str, cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def main(argv: list[str]) -> int:
    package, final = argv[0], "--final" in argv[1:]
    directory = ROOT / "packages" / package
    dist = f"fw-{package}"
    raw = run(sys.executable, "-m", "hatchling", "version", cwd=directory).strip()
    try:
        version = Version(raw)
    except InvalidVersion:
        return fail(f"{dist}: {raw!r} is not a PEP 440 version")
    if str(version) != raw:
        return fail(f"{dist}: version {raw!r} is not in canonical form ({version})")
    if final and (version.is_prerelease or version.is_devrelease):
        return fail(f"{dist}: {version} is a pre-release; set the release version first")
    tag = f"{dist}-v{version}"
    if subprocess.run(["git", "check-ref-format", f"refs/tags/{tag}"], cwd=ROOT).returncode:
        return fail(f"{tag!r} is not a valid tag name")
    used = run("git", "tag", "--list", tag, cwd=ROOT).strip()
    if used:
        return fail(f"tag {tag} already exists: bump the version in the version file")
    changelog = (directory / "CHANGELOG.md").read_text()
    heading = f"## {dist} {version} "
    if heading in changelog:
        return fail(f"CHANGELOG.md already has a section for {dist} {version}")
    fragments = [p for p in (directory / "changelog.d").iterdir() if p.name != ".gitignore"]
    if not fragments:
        return fail(f"{dist}: no news fragments in changelog.d/: nothing to release")
    draft = run("towncrier", "build", "--draft", "--version", str(version), cwd=directory)
    if heading not in draft:
        return fail(f"towncrier's draft has no heading {heading.strip()!r}:\n{draft}")
    print(f"{dist} {version}: tag {tag}; draft changelog section:\n")
    print(draft)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
