"""The documentation's code listings are real programs that run.

Every Python listing in docs/ is a ``literalinclude`` of a file under
docs/examples/, and every such file runs here, its output compared with the
``.out`` file beside it.  Python blocks in the distributions' README files must
be copies of an example file, so they are checked by the same run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").rglob("*.py"))
FENCE = re.compile(r"^```+[ \t]*\{?([\w-]*)\}?[ \t]*([^\n]*)$", re.M)


def docPages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)


def test_examplesExist() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: str(p.relative_to(DOCS)))
def test_exampleRunsWithExpectedOutput(example: Path) -> None:
    expected = example.with_suffix(".out")
    assert expected.is_file(), f"{example.name} needs its expected output in {expected.name}"
    result = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=example.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.read_text()


@pytest.mark.parametrize("page", docPages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_pythonListingsAreIncludedFiles(page: Path) -> None:
    text = page.read_text()
    for match in FENCE.finditer(text):
        kind, argument = match.group(1), match.group(2).strip()
        assert kind not in ("python", "py", "pycon"), (
            f"{page.name}: inline Python listing; put it in docs/examples/ and literalinclude it"
        )
        if kind == "literalinclude":
            target = (page.parent / argument).resolve()
            assert target.is_file(), f"{page.name} includes missing {argument}"
            # A listing is a tested example, or the expected output of one.
            program = target.with_suffix(".py") if target.suffix == ".out" else target
            assert program in EXAMPLES, f"{page.name} includes {argument}, not a tested example"


def test_everyExampleIsShown() -> None:
    """No example file is orphaned: each is included by a page or quoted by a README."""
    shown: set[Path] = set()
    for page in docPages():
        for match in FENCE.finditer(page.read_text()):
            if match.group(1) == "literalinclude":
                shown.add((page.parent / match.group(2).strip()).resolve())
    readmeBlocks = [block for _, block in readmePythonBlocks()]
    for example in EXAMPLES:
        if example.name == "__init__.py":
            continue  # a package marker of an example package: nothing to show
        assert example in shown or example.read_text() in readmeBlocks, (
            f"{example.relative_to(ROOT)} is shown nowhere"
        )


def readmePythonBlocks() -> list[tuple[Path, str]]:
    blocks = []
    for readme in [ROOT / "README.md", *sorted(ROOT.glob("packages/*/README.md"))]:
        found = re.findall(r"^```python\n(.*?)^```$", readme.read_text(), re.M | re.S)
        blocks.extend((readme, block) for block in found)
    return blocks


@pytest.mark.parametrize(
    ("readme", "block"), readmePythonBlocks(), ids=lambda v: getattr(v, "parent", Path()).name
)
def test_readmeListingsAreTestedExamples(readme: Path, block: str) -> None:
    contents = {p.read_text() for p in EXAMPLES}
    assert block in contents, f"{readme.relative_to(ROOT)}: a listing that is not an example file"
