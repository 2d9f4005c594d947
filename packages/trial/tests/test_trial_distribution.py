"""The fw-trial distribution as installed: version, namespace and typing marker."""

from importlib import metadata, resources

import fw.trial


def test_versionMatchesMetadata() -> None:
    assert fw.trial.__version__ == metadata.version("fw-trial")


def test_typedMarkerInstalled() -> None:
    assert resources.files("fw.trial").joinpath("py.typed").is_file()


def test_namespaceIsShared() -> None:
    import fw
    import fw.python

    assert getattr(fw, "__file__", None) is None
    assert fw.python.__version__ == metadata.version("fw-core")
