from fw.python import usage


class Options(usage.Options):
    optFlags = [
        ["fast", "f", "Run quickly"],
        ["good", "g", "Don't validate input"],
        ["cheap", "c", "Use cheap resources"],
    ]

    def postOptions(self):
        if self["fast"] and self["good"] and self["cheap"]:
            raise usage.UsageError("can't have it all, brother")


# Added to run the example.
for command_line in [["--fast", "--good"], ["-fgc"]]:
    try:
        Options().parseOptions(command_line)
        print(" ".join(command_line), "is fine")
    except usage.UsageError as e:
        print(" ".join(command_line), "is refused:", e)
