from fw.python import usage


class Options(usage.Options):
    def __init__(self):
        usage.Options.__init__(self)
        self["verbosity"] = 0  # default

    def opt_verbose(self):
        self["verbosity"] = self["verbosity"] + 1

    def opt_quiet(self):
        self["verbosity"] = self["verbosity"] - 1

    opt_v = opt_verbose
    opt_q = opt_quiet


# Added to run the example.
for command_line in [["-v", "-v", "-v", "-v"], ["-q", "-q", "-q"], ["--verbose", "-vvq"]]:
    options = Options()
    options.parseOptions(command_line)
    print(" ".join(command_line), "->", options["verbosity"])
