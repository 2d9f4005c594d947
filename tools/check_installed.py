"""Check an installed fw distribution: its namespace, modules and entry points.

Usage: python tools/check_installed.py fw-web

Imports every module the distribution installed under ``fw/`` and loads every
entry point it declares, so that a missing dependency or a broken plugin
reference fails here rather than for a user.  Run by ``nox -s isolated``.
"""

from __future__ import annotations

import importlib
import sys
from importlib import metadata


def main(distName: str) -> int:
    dist = metadata.distribution(distName)
    import fw

    if getattr(fw, "__file__", None) is not None:
        print(f"fw is a regular package ({fw.__file__}); it must be a namespace", file=sys.stderr)
        return 1
    modules = []
    for f in dist.files or []:
        parts = f.parts
        if parts[0] != "fw" or f.suffix != ".py":
            continue
        name = ".".join(parts[:-1]) if parts[-1] == "__init__.py" else ".".join(parts)[:-3]
        modules.append(name)
    if not modules:
        print(f"{distName} installed no modules under fw/", file=sys.stderr)
        return 1
    for name in sorted(modules):
        if name.endswith(".__main__"):
            continue
        importlib.import_module(name)
    eps = list(dist.entry_points)
    for ep in eps:
        ep.load()
    print(
        f"{distName} {dist.version}: imported {len(modules)} modules, "
        f"loaded {len(eps)} entry points"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
