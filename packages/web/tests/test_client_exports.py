"""The public surface of fw.web.client and fw.web.treq: Twisted's names, documented."""

from __future__ import annotations

import inspect

import pytest
from zope.interface.verify import verifyClass

import fw.web.client
import fw.web.iweb
import fw.web.treq

# twisted.web.client's names that fw keeps (getPage and friends are gone: see fw.web.treq).
TWISTED_NAMES = [
    "Agent",
    "BrowserLikePolicyForHTTPS",
    "BrowserLikeRedirectAgent",
    "ContentDecoderAgent",
    "CookieAgent",
    "FileBodyProducer",
    "GzipDecoder",
    "HTTPConnectionPool",
    "PartialDownloadError",
    "ProxyAgent",
    "RedirectAgent",
    "RequestGenerationFailed",
    "RequestNotSent",
    "RequestTransmissionFailed",
    "Response",
    "ResponseDone",
    "ResponseFailed",
    "ResponseNeverReceived",
    "URI",
    "readBody",
]


@pytest.mark.parametrize("module", [fw.web.client, fw.web.treq])
def test_everyExportDocumented(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"  # type: ignore[attr-defined]


def test_twistedNames() -> None:
    missing = [name for name in TWISTED_NAMES if name not in fw.web.client.__all__]
    assert missing == []


def test_interfacesAreIwebs() -> None:
    """One set of client interfaces: fw.web.client's are fw.web.iweb's."""
    for name in ["IAgent", "IResponse", "IBodyProducer", "IPolicyForHTTPS", "UNKNOWN_LENGTH"]:
        assert getattr(fw.web.client, name) is getattr(fw.web.iweb, name)


@pytest.mark.parametrize(
    ("cls", "interface"),
    [
        (fw.web.client.Agent, fw.web.iweb.IAgent),
        (fw.web.client.ProxyAgent, fw.web.iweb.IAgent),
        (fw.web.client.RedirectAgent, fw.web.iweb.IAgent),
        (fw.web.client.ContentDecoderAgent, fw.web.iweb.IAgent),
        (fw.web.client.CookieAgent, fw.web.iweb.IAgent),
        (fw.web.client.Response, fw.web.iweb.IResponse),
        (fw.web.client.FileBodyProducer, fw.web.iweb.IBodyProducer),
        (fw.web.client.BrowserLikePolicyForHTTPS, fw.web.iweb.IPolicyForHTTPS),
    ],
)
def test_implements(cls: type, interface: object) -> None:
    assert verifyClass(interface, cls)  # type: ignore[arg-type]


def test_treqNames() -> None:
    for name in ["get", "post", "put", "patch", "delete", "head", "request", "content",
                 "text_content", "json_content", "collect"]:  # fmt: skip
        assert callable(getattr(fw.web.treq, name))


def test_sharedErrorClasses() -> None:
    """Errors are fw.web.error's and fw.web.http's, as Twisted code imports them from there."""
    import fw.web.error
    import fw.web.http

    assert fw.web.client.PotentialDataLoss is fw.web.http.PotentialDataLoss
    for name in [
        "PageRedirect",
        "InfiniteRedirection",
        "RedirectWithNoLocation",
        "SchemeNotSupported",
    ]:
        assert getattr(fw.web.client, name) is getattr(fw.web.error, name)
    assert issubclass(fw.web.client.PartialDownloadError, fw.web.error.Error)
