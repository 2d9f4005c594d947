"""Tests for fw.python.components: adapter registration, Componentized, proxyForInterface.

Every test defines its own interfaces and classes, so registrations in the
global registry never collide between tests.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any, assert_type

import pytest
from zope.interface import Attribute, Interface, implementer
from zope.interface.adapter import AdapterRegistry
from zope.interface.verify import verifyObject

from fw.python import components
from fw.python.components import (
    Adapter,
    Componentized,
    ReprableComponentized,
    _addHook,
    _removeHook,
    getAdapter,
    getAdapterFactory,
    getRegistry,
    globalRegistry,
    proxyForInterface,
    registerAdapter,
)
from fw.python.reflect import qual


def adapt(iface: Any, obj: object, *default: object) -> Any:
    """``iface(obj[, default])`` untyped: these tests' adapters are not declared to mypy."""
    return iface(obj, *default)


@pytest.fixture(autouse=True)
def forgetRegistrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo every global registration a test makes.

    zope.interface compares interfaces by module and name, so the ``IA`` of
    one test is the ``IA`` of another as far as the registry is concerned.
    """
    made: list[tuple[Any, ...]] = []
    register = globalRegistry.register

    def recordingRegister(required: Any, provided: Any, name: Any, value: Any) -> None:
        made.append((required, provided, name, value))
        register(required, provided, name, value)

    monkeypatch.setattr(globalRegistry, "register", recordingRegister)
    yield
    monkeypatch.undo()
    for required, provided, name, value in reversed(made):
        globalRegistry.unregister(required, provided, name, value)


class TestRegisterAdapter:
    def test_class_to_interface(self) -> None:
        class IVolts(Interface):
            def voltage() -> float:
                """The voltage."""

        class UKSocket:
            def voltage(self) -> int:
                return 240

        @implementer(IVolts)
        class Halver:
            def __init__(self, original: UKSocket) -> None:
                self.original = original

            def voltage(self) -> float:
                return self.original.voltage() / 2

        registerAdapter(Halver, UKSocket, IVolts)
        socket = UKSocket()
        adapted = IVolts(socket)
        assert_type(adapted, IVolts)
        assert isinstance(adapted, Halver)
        assert adapted.original is socket
        assert adapted.voltage() == 120

    def test_provider_returned_unchanged(self) -> None:
        class IThing(Interface):
            pass

        @implementer(IThing)
        class Thing:
            pass

        registerAdapter(lambda o: "adapter", Thing, IThing)
        thing = Thing()
        assert adapt(IThing, thing) is thing

    def test_unadaptable(self) -> None:
        class INothing(Interface):
            pass

        with pytest.raises(TypeError, match="Could not adapt"):
            INothing(object())
        sentinel = object()
        assert INothing(object(), sentinel) is sentinel

    def test_from_interface(self) -> None:
        class ISource(Interface):
            pass

        class ISubSource(ISource):
            pass

        class ITarget(Interface):
            pass

        @implementer(ISubSource)
        class Source:
            pass

        registerAdapter(Adapter, ISource, ITarget)
        source = Source()
        adapted = adapt(ITarget, source)
        assert isinstance(adapted, Adapter)
        assert adapted.original is source

    def test_subclass_of_registered_class(self) -> None:
        class ITarget(Interface):
            pass

        class Base:
            pass

        class Derived(Base):
            pass

        registerAdapter(Adapter, Base, ITarget)
        assert ITarget(Derived()).original.__class__ is Derived  # type: ignore[attr-defined]

    def test_several_interfaces(self) -> None:
        class IA(Interface):
            pass

        class IB(Interface):
            pass

        class Original:
            pass

        registerAdapter(Adapter, Original, IA, IB)
        assert isinstance(IA(Original()), Adapter)
        assert isinstance(IB(Original()), Adapter)

    def test_no_interface(self) -> None:
        class Original:
            pass

        with pytest.raises(TypeError, match="at least one interface"):
            registerAdapter(Adapter, Original)

    def test_factory_returning_none(self) -> None:
        class ITarget(Interface):
            pass

        class Original:
            pass

        registerAdapter(lambda o: None, Original, ITarget)
        assert adapt(ITarget, Original(), "fallback") == "fallback"

    def test_duplicate_refused(self) -> None:
        class IA(Interface):
            pass

        class IB(Interface):
            pass

        class Original:
            pass

        def first(o: object) -> str:
            return "first"

        def second(o: object) -> str:
            return "second"

        registerAdapter(first, Original, IA)
        with pytest.raises(ValueError, match="already registered") as info:
            registerAdapter(second, Original, IB, IA)
        assert qual(Original) in str(info.value)
        # A refused call registers nothing, not even the non-duplicate IB.
        assert getAdapterFactory(Original, IB, None) is None
        assert getAdapterFactory(Original, IA, None) is first

    def test_duplicate_from_interface_refused(self) -> None:
        class IA(Interface):
            pass

        class IB(Interface):
            pass

        registerAdapter(Adapter, IA, IB)
        with pytest.raises(ValueError):
            registerAdapter(Adapter, IA, IB)

    def test_allow_duplicates(self, monkeypatch: pytest.MonkeyPatch) -> None:
        class IA(Interface):
            pass

        class Original:
            pass

        registerAdapter(lambda o: "first", Original, IA)
        monkeypatch.setattr(components, "ALLOW_DUPLICATES", True)
        registerAdapter(lambda o: "second", Original, IA)
        assert adapt(IA, Original()) == "second"

    def test_allow_duplicates_default(self) -> None:
        assert not components.ALLOW_DUPLICATES


class TestLookup:
    def test_get_adapter_factory(self) -> None:
        class IA(Interface):
            pass

        class ISub(IA):
            pass

        class IB(Interface):
            pass

        class Original:
            pass

        class Child(Original):
            pass

        def factory(o: object) -> object:
            return o

        registerAdapter(factory, Original, IB)
        registerAdapter(factory, IA, IB)
        sentinel = object()
        assert getAdapterFactory(Original, IB, sentinel) is factory
        assert getAdapterFactory(Child, IB, sentinel) is factory
        assert getAdapterFactory(IA, IB, sentinel) is factory
        assert getAdapterFactory(ISub, IB, sentinel) is factory
        assert getAdapterFactory(IB, IA, sentinel) is sentinel
        assert getAdapterFactory(int, IB, None) is None

    def test_get_adapter(self) -> None:
        class IA(Interface):
            pass

        class Original:
            pass

        registerAdapter(Adapter, Original, IA)
        original = Original()
        adapted = getAdapter(original, IA)
        assert_type(adapted, IA)
        assert isinstance(adapted, Adapter)
        assert getAdapter(object(), IA, 3) == 3
        assert_type(getAdapter(object(), IA, 3), IA | int)
        with pytest.raises(TypeError):
            getAdapter(object(), IA)

    def test_get_registry(self) -> None:
        assert getRegistry() is globalRegistry
        assert isinstance(globalRegistry, AdapterRegistry)

    def test_private_registry_hook(self) -> None:
        class IA(Interface):
            pass

        class Original:
            pass

        registry = AdapterRegistry()
        registry.register([_implementedBy(Original)], IA, "", lambda o: "private")
        hook = _addHook(registry)
        try:
            assert adapt(IA, Original()) == "private"
        finally:
            _removeHook(hook)
        assert IA(Original(), None) is None


def _implementedBy(cls: type[Any]) -> Any:
    from zope.interface import implementedBy

    return implementedBy(cls)  # type: ignore[no-untyped-call]


class TestAdapter:
    def test_original(self) -> None:
        original = object()
        assert Adapter(original).original is original

    def test_flags(self) -> None:
        assert not Adapter.temporaryAdapter
        assert Adapter.multiComponent

    def test_conform_forwards(self) -> None:
        class IA(Interface):
            pass

        class Conforming:
            def __conform__(self, interface: Any) -> Any:
                return "conformed" if interface is IA else None

        adapter = Adapter(Conforming())
        assert adapt(IA, adapter) == "conformed"
        assert adapter.__conform__(Interface) is None

    def test_conform_without_original_conform(self) -> None:
        class IA(Interface):
            pass

        assert Adapter(object()).__conform__(IA) is None
        assert IA(Adapter(object()), None) is None

    def test_isuper(self) -> None:
        class Original:
            def isuper(self, iface: Any, adapter: Any) -> tuple[Any, Any]:
                return (iface, adapter)

        assert Adapter(Original()).isuper("i", "a") == ("i", "a")


class TestComponentized:
    def test_set_and_get(self) -> None:
        class IA(Interface):
            pass

        c = Componentized()
        component = object()
        c.setComponent(IA, component)
        assert c.getComponent(IA) is component
        assert adapt(IA, c) is component

    def test_get_default(self) -> None:
        class IA(Interface):
            pass

        c = Componentized()
        assert c.getComponent(IA) is None
        assert_type(c.getComponent(IA), IA | None)
        assert c.getComponent(IA, 5) == 5
        with pytest.raises(TypeError):
            IA(c)
        assert adapt(IA, c, "d") == "d"

    def test_adapter_created_once(self) -> None:
        class IA(Interface):
            pass

        class Comp(Componentized):
            pass

        created: list[object] = []

        @implementer(IA)
        class Made(Adapter):
            def __init__(self, original: Any) -> None:
                super().__init__(original)
                created.append(self)

        registerAdapter(Made, Comp, IA)
        c = Comp()
        first = adapt(IA, c)
        assert isinstance(first, Made)
        assert first.original is c
        assert adapt(IA, c) is first
        assert c.getComponent(IA) is first
        assert len(created) == 1

    def test_temporary_adapter_not_cached(self) -> None:
        class IA(Interface):
            pass

        class Comp(Componentized):
            pass

        @implementer(IA)
        class Temporary(Adapter):
            temporaryAdapter = 1

        registerAdapter(Temporary, Comp, IA)
        c = Comp()
        assert adapt(IA, c) is not adapt(IA, c)

    def test_multi_component(self) -> None:
        """An adapter providing more interfaces serves those it is registered for, too."""

        class IA(Interface):
            pass

        class IB(Interface):
            pass

        class IUnrelated(Interface):
            pass

        class Comp(Componentized):
            pass

        @implementer(IA, IB, IUnrelated)
        class Both(Adapter):
            pass

        registerAdapter(Both, Comp, IA, IB)
        c = Comp()
        a = adapt(IA, c)
        assert c._adapterCache[IB] is a
        assert adapt(IB, c) is a
        # IUnrelated was not registered for Both, so it was not added.
        assert IUnrelated not in c._adapterCache

    def test_single_component(self) -> None:
        class IA(Interface):
            pass

        class IB(Interface):
            pass

        class Comp(Componentized):
            pass

        @implementer(IA, IB)
        class Single(Adapter):
            multiComponent = 0

        registerAdapter(Single, Comp, IA, IB)
        c = Comp()
        a = adapt(IA, c)
        assert IB not in c._adapterCache
        assert adapt(IB, c) is not a

    def test_providing_itself(self) -> None:
        class IA(Interface):
            pass

        @implementer(IA)
        class Comp(Componentized):
            pass

        c = Comp()
        assert adapt(IA, c) is c
        assert c.getComponent(IA) is c

    def test_add_component_ignore_class(self) -> None:
        class IA(Interface):
            pass

        class IB(Interface):
            pass

        @implementer(IA, IB)
        class Part:
            pass

        c = Componentized()
        part = Part()
        c.addComponent(part)
        assert c._adapterCache == {}
        c.addComponent(part, ignoreClass=1)
        assert adapt(IA, c) is part
        assert adapt(IB, c) is part

    def test_set_adapter(self) -> None:
        class IA(Interface):
            pass

        c = Componentized()
        c.setAdapter(IA, Adapter)
        component: object = c.getComponent(IA)
        assert isinstance(component, Adapter)
        assert component.original is c

    def test_add_adapter(self) -> None:
        class IA(Interface):
            pass

        @implementer(IA)
        class Part(Adapter):
            pass

        c = Componentized()
        c.addAdapter(Part, ignoreClass=True)
        component = adapt(IA, c)
        assert isinstance(component, Part)
        assert component.original is c

    def test_add_adapter_registered_class(self) -> None:
        class IA(Interface):
            pass

        class Comp(Componentized):
            pass

        @implementer(IA)
        class Part(Adapter):
            pass

        registerAdapter(Part, Comp, IA)
        c = Comp()
        c.addAdapter(Part)
        assert isinstance(c._adapterCache[IA], Part)

    def test_unset_component(self) -> None:
        class IA(Interface):
            pass

        c = Componentized()
        c.setComponent(IA, "x")
        c.unsetComponent(IA)
        assert c.getComponent(IA) is None
        with pytest.raises(KeyError):
            c.unsetComponent(IA)

    def test_remove_component(self) -> None:
        class IA(Interface):
            pass

        class IB(Interface):
            pass

        class IC(Interface):
            pass

        c = Componentized()
        part = object()
        c.setComponent(IA, part)
        c.setComponent(IB, part)
        c.setComponent(IC, object())
        assert sorted(c.removeComponent(part), key=qual) == [IA, IB]
        assert IA not in c._adapterCache
        assert IC in c._adapterCache
        assert c.removeComponent(part) == []

    def test_locate_adapter_class(self) -> None:
        class IA(Interface):
            pass

        class Comp(Componentized):
            pass

        registerAdapter(Adapter, Comp, IA)
        assert Comp().locateAdapterClass(Comp, IA, None) is Adapter
        assert Componentized().locateAdapterClass(Componentized, IA, 1) == 1

    def test_reprable(self) -> None:
        class IA(Interface):
            pass

        c = ReprableComponentized()
        assert repr(c) == "{}"
        c.setComponent(IA, "part")
        assert repr(c) == f"{{'{qual(IA)}': 'part'}}"


class IGreeter(Interface):
    greeting = Attribute("What to say.")

    def greet(name: str) -> str:
        """Greet someone."""


class IPoliteGreeter(IGreeter):
    def farewell(name: str) -> str:
        """Say goodbye."""


@implementer(IPoliteGreeter)
class Greeter:
    greeting = "Hello"

    def __init__(self) -> None:
        self.other = "not proxied"

    def greet(self, name: str) -> str:
        return f"{self.greeting}, {name}"

    def farewell(self, name: str) -> str:
        return f"Bye, {name}"


class TestProxyForInterface:
    def test_methods_forwarded(self) -> None:
        greeter = Greeter()
        proxy = proxyForInterface(IGreeter)(greeter)
        assert_type(proxy, IGreeter)
        assert proxy.greet("you") == "Hello, you"
        assert proxy.original is greeter  # type: ignore[attr-defined]

    def test_provides(self) -> None:
        proxyClass = proxyForInterface(IGreeter)
        proxy = proxyClass(Greeter())
        assert IGreeter.implementedBy(proxyClass)
        assert IGreeter.providedBy(proxy)
        assert verifyObject(IGreeter, proxy)

    def test_only_interface_names(self) -> None:
        proxy: Any = proxyForInterface(IGreeter)(Greeter())
        with pytest.raises(AttributeError):
            _ = proxy.other
        with pytest.raises(AttributeError):
            _ = proxy.farewell

    def test_inherited_interface(self) -> None:
        proxy: Any = proxyForInterface(IPoliteGreeter)(Greeter())
        assert proxy.farewell("x") == "Bye, x"
        assert proxy.greet("x") == "Hello, x"

    def test_attribute_read_write_delete(self) -> None:
        greeter = Greeter()
        proxy: Any = proxyForInterface(IGreeter)(greeter)
        assert proxy.greeting == "Hello"
        proxy.greeting = "Hi"
        assert greeter.greeting == "Hi"
        assert proxy.greet("a") == "Hi, a"
        del proxy.greeting
        assert greeter.greeting == "Hello"
        assert "greeting" not in vars(greeter)

    def test_original_attribute(self) -> None:
        greeter = Greeter()
        proxy: Any = proxyForInterface(IGreeter, originalAttribute="_wrapped")(greeter)
        assert proxy._wrapped is greeter
        assert proxy.greet("b") == "Hello, b"
        assert not hasattr(proxy, "original")

    def test_subclass_override(self) -> None:
        class Loud(proxyForInterface(IGreeter)):  # type: ignore[misc]
            def greet(self, name: str) -> str:
                return str(self.original.greet(name)).upper()

        assert Loud(Greeter()).greet("c") == "HELLO, C"
        assert IGreeter.implementedBy(Loud)

    def test_class_level_method(self) -> None:
        """Looking a method up on the class gives something calling the original's."""
        proxyClass: Any = proxyForInterface(IGreeter)
        proxy = proxyClass(Greeter())
        method = proxyClass.greet
        assert method.__name__ == "greet"
        assert method(proxy, "d") == "Hello, d"

    def test_super_call_in_subclass(self) -> None:
        base: Any = proxyForInterface(IGreeter)

        class Wrapped(base):  # type: ignore[misc]
            def greet(self, name: str) -> str:
                return "[" + str(base.greet(self, name)) + "]"

        assert Wrapped(Greeter()).greet("e") == "[Hello, e]"

    def test_name(self) -> None:
        assert proxyForInterface(IGreeter).__name__ == f"(Proxy for {qual(IGreeter)})"

    def test_adaptation_of_proxy(self) -> None:
        proxy = proxyForInterface(IGreeter)(Greeter())
        assert IGreeter(proxy) is proxy


def test_public_surface() -> None:
    for name in components.__all__:
        obj = getattr(components, name)
        if isinstance(obj, type) or inspect.isfunction(obj):
            assert obj.__doc__, name
