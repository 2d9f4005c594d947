"""Formatting of usage messages: the options table, long descriptions, program names.

Private; `fw.python.usage` re-exports `docMakeChunks`.
"""

from __future__ import annotations

import inspect
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

# Below this many columns for the description column, the options table would
# wrap every word onto its own line; keep at least this much room.
_MIN_DOC_WIDTH = 20

_DEFAULT_WIDTH = 80


def terminalWidth() -> int:
    """The width usage messages wrap to when none is given.

    Returns:
        ``$COLUMNS`` when it holds a positive integer, else 80.
    """
    try:
        width = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return _DEFAULT_WIDTH
    return width if width > 0 else _DEFAULT_WIDTH


def _moduleNameForPath(filename: str) -> str:
    """Guess the dotted module name a script path is, walking up package directories."""
    base = os.path.basename(filename.rstrip(os.sep)) or filename
    name = os.path.splitext(base)[0]
    directory = os.path.dirname(os.path.abspath(filename))
    while os.path.exists(os.path.join(directory, "__init__.py")):
        name = f"{os.path.basename(directory)}.{name}"
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return name


def programName() -> str:
    """The name the running program is invoked as, for usage synopses.

    ``python -m pkg`` shows as ``python -m pkg``; a script shows as its file name
    without extension.
    """
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "python"
    name = _moduleNameForPath(argv0)
    if name.endswith(".__main__") or name == "__main__":
        interpreter = os.path.basename(sys.executable) or "python"
        package = name.removesuffix("__main__").rstrip(".")
        return f"{interpreter} -m {package}" if package else interpreter
    return name


def commandName() -> str:
    """The file name of the running program, as a shell sees it (for completion)."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    return os.path.basename(argv0.rstrip(os.sep)) or "python"


def wrapParagraphs(text: str, width: int) -> str:
    """Dedent ``text`` and wrap each of its blank-line separated paragraphs to ``width``."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    wrapped = [textwrap.fill(p, max(width, _MIN_DOC_WIDTH)) for p in paragraphs if p.strip()]
    return "\n\n".join(wrapped)


def _sortKey(opt: Mapping[str, Any]) -> str:
    if opt.get("optType") == "command":
        return str(opt.get("long") or "")
    return str(opt.get("short") or opt.get("long") or "")


def _optionColumn(opt: Mapping[str, Any], longWidth: int) -> str:
    """The left column of one row: ``  -s, --long=`` or ``    command (alias)``."""
    optType = opt.get("optType")
    long = opt.get("long") or ""
    short = opt.get("short") or ""
    if optType == "command":
        label = f"{long} ({short})" if short else long
        return f"    {label:<{longWidth}}      "
    if optType == "parameter" and long:
        long = long + "="
    shortText = f"-{short}" if short else ""
    if long:
        comma = "," if short else " "
        return f"  {shortText:>2}{comma} --{long:<{longWidth}}  "
    return f"  {shortText:>2}    {'':<{longWidth}}  "


def _optionDoc(opt: Mapping[str, Any]) -> str:
    doc = str(opt.get("doc") or "").strip()
    if opt.get("optType") == "parameter":
        default = opt.get("default")
        if default is not None:
            doc = f"{doc} [default: {default}]".strip()
        coerceDoc = getattr(opt.get("dispatch"), "doc", "")
        if coerceDoc:
            doc = f"{doc}. {coerceDoc}" if doc else str(coerceDoc)
    return " ".join(doc.split())


def _labelLength(opt: Mapping[str, Any]) -> int:
    long = str(opt.get("long") or "")
    if opt.get("optType") == "command":
        short = opt.get("short")
        return len(f"{long} ({short})") if short else len(long)
    if opt.get("optType") == "parameter" and long:
        return len(long) + 1
    return len(long)


def docMakeChunks(optList: Sequence[Mapping[str, Any]], width: int = 80) -> list[str]:
    """Format option (or sub-command) descriptions as rows of a two-column table.

    Args:
        optList: one mapping per option, with the keys ``long`` (name without
            dashes), ``short`` (a letter, or a command's alias), ``doc``,
            ``default``, ``optType`` (``"flag"``, ``"parameter"`` or
            ``"command"``) and ``dispatch`` (a `CoerceParameter` whose ``doc``
            is appended), each optional.
        width: the total width to wrap descriptions to.

    Returns:
        One string per option, sorted by short name (else long name), each
        made of whole lines ending in a newline.  An option named twice is
        shown once.
    """
    ordered = sorted(optList, key=_sortKey)
    longWidth = max((_labelLength(o) for o in ordered), default=0)
    column1Width = longWidth + len("  -s, --  ")
    docWidth = max(width - column1Width, _MIN_DOC_WIDTH)
    filler = " " * column1Width

    chunks: list[str] = []
    seen: set[tuple[bool, str]] = set()
    for opt in ordered:
        isCommand = opt.get("optType") == "command"
        names = {(isCommand, n) for n in (opt.get("short"), opt.get("long")) if n}
        if names & seen:
            continue
        seen |= names
        column1 = _optionColumn(opt, longWidth)
        doc = _optionDoc(opt)
        lines = textwrap.wrap(doc, docWidth) if doc else [""]
        rows = [(column1 + lines[0]).rstrip()]
        rows.extend(filler + line for line in lines[1:])
        chunks.append("".join(row + "\n" for row in rows))
    return chunks


def describeArity(required: int, optional: int, variadic: bool) -> str:
    """Say in words how many positional arguments a ``parseArgs`` accepts."""
    if variadic:
        return f"at least {required}"
    if optional == 0:
        return f"exactly {required}" if required else "no arguments"
    if required == 0:
        return f"at most {optional}"
    return f"between {required} and {required + optional}"
