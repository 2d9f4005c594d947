"""The fw-core distribution as installed: version, namespace and typing markers."""

import importlib
from importlib import metadata, resources

import pytest

import fw.python

OWNED = [
    "python", "internet", "protocols", "application", "cred", "spread", "enterprise",
    "logger", "plugin",
]  # fmt: skip


def test_versionMatchesMetadata() -> None:
    assert fw.python.__version__ == metadata.version("fw-core")


def test_fwIsANamespacePackage() -> None:
    import fw

    assert getattr(fw, "__file__", None) is None
    assert not hasattr(fw, "__version__")


@pytest.mark.parametrize("name", OWNED)
def test_ownedPackageImportsAndIsTyped(name: str) -> None:
    module = importlib.import_module(f"fw.{name}")
    assert module.__doc__
    assert resources.files(f"fw.{name}").joinpath("py.typed").is_file()
