"""The fw-web distribution as installed: version, namespace and typing marker."""

from importlib import metadata, resources

import fw.web


def test_versionMatchesMetadata() -> None:
    assert fw.web.__version__ == metadata.version("fw-web")


def test_typedMarkerInstalled() -> None:
    assert resources.files("fw.web").joinpath("py.typed").is_file()


def test_namespaceIsShared() -> None:
    import fw
    import fw.python

    assert getattr(fw, "__file__", None) is None
    assert fw.python.__version__ == metadata.version("fw-core")
