"""docs/web-templates.md quotes the template its example loads: they agree."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_docsShowTheExampleTemplate() -> None:
    page = (ROOT / "docs" / "web-templates.md").read_text()
    template = (ROOT / "docs" / "examples" / "web" / "template_page.xml").read_text()
    assert f"```xml\n{template}```" in page
