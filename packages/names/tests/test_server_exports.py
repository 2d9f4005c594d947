"""The server side's public surface: every exported name exists and is documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "fw.names.server",
    "fw.names.authority",
    "fw.names.secondary",
    "fw.names.cache",
    "fw.names.root",
    "fw.names.hosts",
    "fw.names.tap",
]


@pytest.mark.parametrize("name", MODULES)
def test_exportsDocumented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for export in module.__all__:
        obj = getattr(module, export)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name}.{export} has no docstring"
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if inspect.isfunction(member) and not attr.startswith("_"):
                        assert inspect.getdoc(member), f"{name}.{export}.{attr} has no docstring"


def test_twistedNames() -> None:
    """The names a Twisted program uses are there."""
    from fw.names import authority, cache, hosts, root, secondary, server

    for owner, names in [
        (
            server.DNSServerFactory,
            [
                "handleQuery", "sendReply", "gotResolverResponse", "gotResolverError",
                "messageReceived", "allowQuery", "handleInverseQuery", "handleStatus",
                "handleNotify", "handleOther", "connectionMade", "connectionLost",
                "buildProtocol", "_responseFromMessage",
            ],
        ),
        (authority.FileAuthority, ["loadFile", "lookupZone", "_lookup", "query"]),
        (authority.PySourceAuthority, ["setupConfigNamespace", "wrapRecord"]),
        (secondary.SecondaryAuthority, ["transfer", "fromServerAddressAndDomain", "_cbZone"]),
        (secondary.SecondaryAuthorityService, ["fromServerAddressAndDomains", "getAuthority"]),
        (cache.CacheResolver, ["cacheResult", "clearEntry", "lookupAllRecords"]),
        (root.Resolver, ["_lookup", "_query"]),
        (hosts.Resolver, ["lookupAddress", "lookupIPV6Address", "lookupAllRecords"]),
    ]:  # fmt: skip
        for name in names:
            assert callable(getattr(owner, name)), f"{owner.__name__}.{name}"
    assert callable(hosts.searchFileFor)
    assert callable(hosts.searchFileForAll)
    assert callable(root.bootstrap)
    assert callable(authority.getSerial)
