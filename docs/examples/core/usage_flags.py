import sys

from fw.python import usage


class Options(usage.Options):
    optFlags = [
        ["fast", "f", "Act quickly"],
        ["good", "g", "Act well"],
        ["cheap", "c", "Act cheaply"],
    ]


command_line = ["-g", "--fast"]

options = Options()
try:
    options.parseOptions(command_line)
except usage.UsageError as errortext:
    print(f"{sys.argv[0]}: {errortext}")
    print(f"{sys.argv[0]}: Try --help for usage details.")
    sys.exit(1)
if options["fast"]:
    print("fast", end="")
if options["good"]:
    print("good", end="")
if options["cheap"]:
    print("cheap", end="")
print()
