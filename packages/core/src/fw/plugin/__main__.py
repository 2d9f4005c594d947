"""``python -m fw.plugin``: list the installed plugins of fw's entry-point groups."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fw.plugin import PLUGIN_GROUPS, iterPluginEntries


def main(argv: Sequence[str] | None = None) -> int:
    """List plugins per group, importing none of them; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m fw.plugin",
        description="List the plugins installed in fw's entry-point groups.",
    )
    parser.add_argument(
        "groups", nargs="*", metavar="GROUP", help="groups to list (default: all of fw's)"
    )
    args = parser.parse_args(argv)
    groups = args.groups or list(PLUGIN_GROUPS)
    for group in groups:
        about = PLUGIN_GROUPS.get(group, "")
        print(f"{group}" + (f"  ({about})" if about else ""))
        entries = iterPluginEntries(group)
        if not entries:
            print("    (none installed)")
        for entry in entries:
            origin = f"{entry.distribution} {entry.version}" if entry.distribution else "?"
            print(f"    {entry.name:<16} {entry.value}  [{origin}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
