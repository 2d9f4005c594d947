import sys

from fw.python import usage


class Options(usage.Options):
    optFlags = [
        ["fast", "f", "Run quickly"],
        ["good", "g", "Don't validate input"],
        ["cheap", "c", "Use cheap resources"],
    ]
    optParameters = [["user", "u", None, "The user name"]]


# Added to run the example: as if run as "usage_parameters.py --user alice -fc".
sys.argv[1:] = ["--user", "alice", "-fc"]

config = Options()
try:
    config.parseOptions()  # When given no argument, parses sys.argv[1:]
except usage.UsageError as errortext:
    print(f"{sys.argv[0]}: {errortext}")
    print(f"{sys.argv[0]}: Try --help for usage details.")
    sys.exit(1)

if config["user"] is not None:
    print("Hello", config["user"])
print("So, you want it:")

if config["fast"]:
    print("fast", end="")
if config["good"]:
    print("good", end="")
if config["cheap"]:
    print("cheap", end="")
print()
