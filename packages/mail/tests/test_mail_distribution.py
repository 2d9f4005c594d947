"""The fw-mail distribution as installed: version, namespace and typing marker."""

from importlib import metadata, resources

import fw.mail


def test_versionMatchesMetadata() -> None:
    assert fw.mail.__version__ == metadata.version("fw-mail")


def test_typedMarkerInstalled() -> None:
    assert resources.files("fw.mail").joinpath("py.typed").is_file()


def test_namespaceIsShared() -> None:
    import fw
    import fw.python

    assert getattr(fw, "__file__", None) is None
    assert fw.python.__version__ == metadata.version("fw-core")
