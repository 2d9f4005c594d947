"""Adapters by hand: a hair dryer built for 120 V, a 240 V socket, and an adapter."""


class HairDryer:
    def plug(self, socket: "AmericanSocket | UKSocket | AdaptToAmericanSocket") -> None:
        if socket.voltage() == 120:
            print("I was plugged in properly and am operating.")
        else:
            print("I was plugged in improperly and")
            print("now you have no hair dryer any more.")


class AmericanSocket:
    def voltage(self) -> int:
        return 120


class UKSocket:
    def voltage(self) -> int:
        return 240


class AdaptToAmericanSocket:
    """Wraps a UK socket and halves its voltage."""

    def __init__(self, original: UKSocket) -> None:
        self.original = original

    def voltage(self) -> float:
        return self.original.voltage() / 2


hd = HairDryer()
print("American socket:")
hd.plug(AmericanSocket())
print("UK socket:")
hd.plug(UKSocket())
print("UK socket through the adapter:")
hd.plug(AdaptToAmericanSocket(UKSocket()))
