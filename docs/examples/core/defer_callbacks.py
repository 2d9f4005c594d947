"""A Deferred's callbacks each take the previous result and return the next one."""

from fw.internet.defer import Deferred

pending = []


def fetchTemperature(city):
    """Pretend to ask a slow service: return a Deferred fired later."""
    print(f"asking for the temperature in {city}")
    d = Deferred()
    pending.append(d)
    return d


def toFahrenheit(celsius):
    return celsius * 9 / 5 + 32


def report(fahrenheit, city):
    print(f"{city}: {fahrenheit:.1f} F")
    return fahrenheit


d = fetchTemperature("Lisbon")
d.addCallback(toFahrenheit)
d.addCallback(report, "Lisbon")
print("callbacks added; nothing has run yet")

# Later, the answer arrives (a reactor would do this from network data):
pending.pop().callback(21.5)
print("final result:", d.result)

# Callbacks added after the Deferred has fired run at once.
d.addCallback(lambda f: print("added late, got", f))
