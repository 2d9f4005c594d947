"""The fw-words distribution as installed: version, namespace and typing marker."""

from importlib import metadata, resources

import fw.words


def test_versionMatchesMetadata() -> None:
    assert fw.words.__version__ == metadata.version("fw-words")


def test_typedMarkerInstalled() -> None:
    assert resources.files("fw.words").joinpath("py.typed").is_file()


def test_namespaceIsShared() -> None:
    import fw
    import fw.python

    assert getattr(fw, "__file__", None) is None
    assert fw.python.__version__ == metadata.version("fw-core")
