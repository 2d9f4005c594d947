"""Interfaces and registered adapters: the hair dryer adapts whatever socket it gets."""

from zope.interface import Interface, implementer

from fw.python import components


class IAmericanSocket(Interface):
    def voltage() -> float:
        """Return the voltage produced by this socket."""


@implementer(IAmericanSocket)
class AmericanSocket:
    def voltage(self) -> float:
        return 120


class UKSocket:
    def voltage(self) -> float:
        return 240


@implementer(IAmericanSocket)
class AdaptToAmericanSocket:
    def __init__(self, original: UKSocket) -> None:
        self.original = original

    def voltage(self) -> float:
        return self.original.voltage() / 2


components.registerAdapter(AdaptToAmericanSocket, UKSocket, IAmericanSocket)

am = AmericanSocket()
uk = UKSocket()
print("implementedBy(AmericanSocket):", IAmericanSocket.implementedBy(AmericanSocket))
print("implementedBy(UKSocket):", IAmericanSocket.implementedBy(UKSocket))
print("providedBy(am):", IAmericanSocket.providedBy(am))
print("providedBy(uk):", IAmericanSocket.providedBy(uk))

# Adapting an object that already provides the interface returns it unchanged;
# anything else goes through the registered adapter.
print("IAmericanSocket(am) is am:", IAmericanSocket(am) is am)
print("IAmericanSocket(uk):", type(IAmericanSocket(uk)).__name__)
print("no adapter for a string:", IAmericanSocket("a string", None))


class HairDryer:
    def plug(self, socket: object) -> None:
        adapted = IAmericanSocket(socket)
        assert adapted.voltage() == 120, "BOOM"
        print("I was plugged in properly and am operating")


hd = HairDryer()
hd.plug(am)
hd.plug(uk)

# Registering a second adapter for the same pair is refused.
try:
    components.registerAdapter(AdaptToAmericanSocket, UKSocket, IAmericanSocket)
except ValueError:
    print("second registration refused")
