import sys

from fw.python import usage


class Options(usage.Options):
    optParameters = [
        ["shiny_integer", "s", 1, None, int],
        ["dummy_float", "d", 3.14159, None, float],
    ]


# Added to run the example: values are coerced, defaults are not.
options = Options()
options.parseOptions(["-s", "42"])
print(repr(options["shiny_integer"]), repr(options["dummy_float"]))
try:
    Options().parseOptions(["--dummy_float=lots"])
except usage.UsageError as e:
    print("error:", e)


def oneTwoThree(val):
    val = int(val)
    if val not in range(1, 4):
        raise ValueError("Not in range")
    return val


oneTwoThree.coerceDoc = "Must be 1, 2 or 3."


class Options(usage.Options):
    optParameters = [["one_choice", "o", 1, None, oneTwoThree]]


# Added to run the example: as if run as "python myprogram.py --help".
sys.argv = ["myprogram.py", "--help"]
Options().parseOptions()
