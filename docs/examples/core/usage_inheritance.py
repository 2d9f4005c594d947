from fw.python import usage


class BaseOptions(usage.Options):
    optFlags = [["quiet", "q", None]]


class SpecificOptions(BaseOptions):
    optFlags = [["fast", "f", None], ["good", "g", None], ["cheap", "c", None]]


# Added to run the example: the subclass understands its base's --quiet too.
options = SpecificOptions()
options.parseOptions(["--quiet", "-fc"])
print(sorted(options.items()))
