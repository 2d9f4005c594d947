"""Componentized objects keep one component per interface; proxies forward an interface."""

from zope.interface import Interface, implementer

from fw.python.components import Adapter, Componentized, proxyForInterface, registerAdapter


class IGreeter(Interface):
    def greet(name: str) -> str:
        """Return a greeting for name."""


class ICounter(Interface):
    def count() -> int:
        """Count one more call and return the total."""


class User(Componentized):
    def __init__(self, login: str) -> None:
        super().__init__()
        self.login = login


@implementer(IGreeter, ICounter)
class Greeting(Adapter):
    """Adapts a User; made once per user, then kept as its component."""

    calls = 0

    def greet(self, name: str) -> str:
        return f"{self.original.login} says hello to {name}"

    def count(self) -> int:
        self.calls += 1
        return self.calls


registerAdapter(Greeting, User, IGreeter, ICounter)

alice = User("alice")
greeter = IGreeter(alice)
print(greeter.greet("bob"))
print("same component next time:", IGreeter(alice) is greeter)
# Greeting also provides ICounter, and is registered for it, so the same
# object serves as alice's ICounter component.
counter: object = ICounter(alice)
print("ICounter component is the greeter:", counter is greeter)
print("count:", ICounter(alice).count(), ICounter(alice).count())

# A component can also be set by hand, for this one object only.


@implementer(IGreeter)
class Shy:
    def greet(self, name: str) -> str:
        return "..."


carol = User("carol")
carol.setComponent(IGreeter, Shy())
print("carol:", IGreeter(carol).greet("bob"))
carol.unsetComponent(IGreeter)
print("carol again:", IGreeter(carol).greet("bob"))


# proxyForInterface builds a class forwarding IGreeter to a wrapped object;
# subclasses override what they need.
class Shouting(proxyForInterface(IGreeter)):  # type: ignore[misc]
    def greet(self, name: str) -> str:
        return str(self.original.greet(name)).upper()


loud = Shouting(greeter)
print(loud.greet("dave"))
print("proxy provides IGreeter:", IGreeter.providedBy(loud))
