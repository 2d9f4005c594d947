"""Tests for fw.internet.interfaces: the interface definitions themselves."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from zope.interface import Interface, implementer
from zope.interface.exceptions import Invalid
from zope.interface.interface import InterfaceClass, Method
from zope.interface.verify import verifyObject

from fw.internet import interfaces
from fw.plugin import pluginGroup

# Every interface the reactor issue builds on, by Twisted's name.
REQUIRED = [
    "IReactorTime",
    "IDelayedCall",
    "IReactorCore",
    "IReactorFDSet",
    "IReactorTCP",
    "IReactorUDP",
    "IReactorMulticast",
    "IReactorUNIX",
    "IReactorUNIXDatagram",
    "IReactorSSL",
    "IReactorSocket",
    "IReactorProcess",
    "IReactorThreads",
    "IReactorFromThreads",
    "IReactorInThreads",
    "IReactorPluggableNameResolver",
    "IReactorPluggableResolver",
    "IResolverSimple",
    "IHostnameResolver",
    "IHostResolution",
    "IResolutionReceiver",
    "IReactorDaemonize",
    "IFileDescriptor",
    "IReadDescriptor",
    "IWriteDescriptor",
    "IReadWriteDescriptor",
    "IHalfCloseableDescriptor",
    "ISystemHandle",
    "ILoggingContext",
    "IListeningPort",
    "IConnector",
    "IAddress",
    "ITransport",
    "ITCPTransport",
    "IUNIXTransport",
    "ITLSTransport",
    "ISSLTransport",
    "IProcessTransport",
    "IUDPTransport",
    "IUNIXDatagramTransport",
    "IProtocol",
    "IProtocolFactory",
    "IProtocolNegotiationFactory",
    "IHalfCloseableProtocol",
    "IFileDescriptorReceiver",
    "IProcessProtocol",
    "IConsumer",
    "IProducer",
    "IPushProducer",
    "IPullProducer",
    "IStreamServerEndpoint",
    "IStreamClientEndpoint",
    "IStreamServerEndpointStringParser",
    "IStreamClientEndpointStringParserWithReactor",
    "IOpenSSLClientConnectionCreator",
    "IOpenSSLServerConnectionCreator",
    "IOpenSSLContextFactory",
]


def _exported() -> list[InterfaceClass]:
    return [getattr(interfaces, name) for name in interfaces.__all__]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_interface_exported(name: str) -> None:
    assert name in interfaces.__all__
    iface = getattr(interfaces, name)
    assert isinstance(iface, InterfaceClass)
    assert iface.extends(Interface) or iface is Interface


def test_all_sorted_unique_and_interfaces() -> None:
    assert sorted(set(interfaces.__all__)) == interfaces.__all__
    for iface in _exported():
        assert isinstance(iface, InterfaceClass), iface


def test_every_interface_and_member_documented() -> None:
    for iface in _exported():
        assert (iface.__doc__ or "").strip(), iface
        for name, description in iface.namesAndDescriptions():
            doc = description.getDoc() if hasattr(description, "getDoc") else ""
            assert doc.strip(), f"{iface.__name__}.{name} has no documentation"


def test_methods_have_no_self() -> None:
    # zope.interface methods are declared without self; a stray self would
    # make every implementation fail verification.
    for iface in _exported():
        for name, description in iface.namesAndDescriptions():
            if isinstance(description, Method):
                assert "self" not in description.positional, f"{iface.__name__}.{name}"


def test_inheritance_matches_twisted() -> None:
    i = interfaces
    assert i.IReadWriteDescriptor.extends(i.IReadDescriptor)
    assert i.IReadWriteDescriptor.extends(i.IWriteDescriptor)
    assert i.IReadDescriptor.extends(i.IFileDescriptor)
    assert i.IFileDescriptor.extends(i.ILoggingContext)
    assert i.IPushProducer.extends(i.IProducer)
    assert i.IPullProducer.extends(i.IProducer)
    assert i.ITCPTransport.extends(i.ITransport)
    assert i.ITLSTransport.extends(i.ITCPTransport)
    assert i.ISSLTransport.extends(i.ITCPTransport)
    assert i.IProcessTransport.extends(i.ITransport)
    assert i.IUNIXTransport.extends(i.ITransport)
    assert i.IReactorThreads.extends(i.IReactorFromThreads)
    assert i.IReactorThreads.extends(i.IReactorInThreads)


def _method(iface: Any, name: str) -> Any:
    method = iface[name]
    assert isinstance(method, Method)
    return method


def test_signatures_of_central_methods() -> None:
    """The argument names and defaults ported code relies on."""
    i = interfaces
    call_later = _method(i.IReactorTime, "callLater")
    assert call_later.positional == ("delay", "callable")
    assert call_later.varargs == "args"
    assert call_later.kwargs == "kwargs"
    listen = _method(i.IReactorTCP, "listenTCP")
    assert listen.positional == ("port", "factory", "backlog", "interface")
    assert listen.optional == {"backlog": 50, "interface": ""}
    connect = _method(i.IReactorTCP, "connectTCP")
    assert connect.positional == ("host", "port", "factory", "timeout", "bindAddress")
    assert connect.optional == {"timeout": 30, "bindAddress": None}
    udp = _method(i.IReactorUDP, "listenUDP")
    assert udp.optional == {"interface": "", "maxPacketSize": 8192}
    spawn = _method(i.IReactorProcess, "spawnProcess")
    assert spawn.positional[:3] == ("processProtocol", "executable", "args")
    assert _method(i.IConsumer, "registerProducer").positional == ("producer", "streaming")
    assert _method(i.IProtocol, "connectionLost").positional == ("reason",)
    assert _method(i.IProtocolFactory, "buildProtocol").positional == ("addr",)


def test_endpoint_parsers_name_plugin_groups() -> None:
    assert pluginGroup(interfaces.IStreamServerEndpointStringParser) == "fw.endpoints.server"
    assert (
        pluginGroup(interfaces.IStreamClientEndpointStringParserWithReactor)
        == "fw.endpoints.client"
    )


def test_verify_object_checks_signatures() -> None:
    @implementer(interfaces.IReactorTime)
    class GoodTime:
        def seconds(self) -> float:
            return 1.0

        def callLater(self, delay: float, callable: object, /, *a: object, **k: object) -> Any:
            return None

        def getDelayedCalls(self) -> list[Any]:
            return []

    @implementer(interfaces.IReactorTime)
    class BadTime:  # type: ignore[misc]  # incomplete on purpose
        def seconds(self) -> float:
            return 1.0

    assert verifyObject(interfaces.IReactorTime, GoodTime())
    with pytest.raises(Invalid):
        verifyObject(interfaces.IReactorTime, BadTime())


def test_attributes_declared() -> None:
    assert "running" in interfaces.IReactorCore.names()
    assert "pid" in interfaces.IProcessTransport.names()
    assert "prefix" in interfaces.IStreamServerEndpointStringParser.names()
    assert "name" in interfaces.IHostResolution.names()
    assert "nameResolver" in interfaces.IReactorPluggableNameResolver.names()


def test_private_modules_reexported() -> None:
    for iface in _exported():
        module = inspect.getmodule(iface)
        assert module is not None
        assert module.__name__.startswith("fw.internet._interfaces_")
