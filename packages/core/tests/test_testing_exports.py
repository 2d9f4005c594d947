"""The public surface of the modules of task H4: every name importable and documented."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MODULES = [
    "fw.internet.address",
    "fw.internet.error",
    "fw.internet.interfaces",
    "fw.internet.protocol",
    "fw.internet.task",
    "fw.internet.testing",
]


@pytest.mark.parametrize("name", MODULES)
def test_exports(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    assert module.__doc__.strip()
    exported = module.__all__
    assert len(set(exported)) == len(exported), "duplicates in __all__"
    for attr in exported:
        obj = getattr(module, attr)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name}.{attr} is undocumented"


def test_importing_everything_installs_no_reactor() -> None:

    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "print('fw.internet.reactor' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_public_methods_documented() -> None:
    from fw.internet import protocol, task, testing

    for module in (protocol, task, testing):
        for attr in module.__all__:
            obj = getattr(module, attr)
            if not isinstance(obj, type):
                continue
            for member, value in vars(obj).items():
                if member.startswith("_") or not callable(value):
                    continue
                assert value.__doc__, f"{module.__name__}.{attr}.{member} is undocumented"
