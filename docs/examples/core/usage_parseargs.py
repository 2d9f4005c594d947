from fw.python import usage


class Options(usage.Options):
    optParameters = [["max_differences", "d", 1, None]]

    def parseArgs(self, origin, changed):
        self["origin"] = origin
        self["changed"] = changed


# Added to run the example: a good command line, then two wrong ones.
options = Options()
options.parseOptions(["-d", "5", "old.txt", "new.txt"])
print(options["origin"], options["changed"], options["max_differences"])
for command_line in [["old.txt"], ["old.txt", "new.txt", "extra.txt"]]:
    try:
        Options().parseOptions(command_line)
    except usage.UsageError as e:
        print("error:", e)
