"""The public surface of fw.web's resource modules: importable, documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "fw.web.static",
    "fw.web.twcgi",
    "fw.web.proxy",
    "fw.web.vhost",
    "fw.web.wsgi",
    "fw.web.guard",
    "fw.web.distrib",
    "fw.web.util",
]

# Twisted's names, which a ported program uses.
TWISTED_NAMES = {
    "fw.web.static": [
        "File",
        "Data",
        "DirectoryLister",
        "loadMimeTypes",
        "getTypeAndEncoding",
        "addSlash",
    ],
    "fw.web.twcgi": ["CGIScript", "CGIDirectory", "FilteredScript", "CGIProcessProtocol"],
    "fw.web.proxy": [
        "ReverseProxyResource",
        "Proxy",
        "ProxyRequest",
        "ProxyClient",
        "ProxyClientFactory",
        "ReverseProxy",
        "ReverseProxyRequest",
    ],
    "fw.web.vhost": ["NameVirtualHost", "VHostMonsterResource", "VirtualHostCollection"],
    "fw.web.wsgi": ["WSGIResource"],
    "fw.web.guard": [
        "HTTPAuthSessionWrapper",
        "BasicCredentialFactory",
        "DigestCredentialFactory",
        "UnauthorizedResource",
    ],
    "fw.web.distrib": ["ResourcePublisher", "ResourceSubscription", "UserDirectory"],
    "fw.web.util": [
        "redirectTo",
        "Redirect",
        "ChildRedirector",
        "ParentRedirect",
        "DeferredResource",
    ],
}


@pytest.mark.parametrize("name", MODULES)
def test_exportsAreDocumented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for export in module.__all__:
        obj = getattr(module, export)
        assert inspect.getdoc(obj), f"{name}.{export} has no docstring"


@pytest.mark.parametrize("name", MODULES)
def test_twistedNamesExported(name: str) -> None:
    module = importlib.import_module(name)
    assert set(TWISTED_NAMES[name]) <= set(module.__all__)
