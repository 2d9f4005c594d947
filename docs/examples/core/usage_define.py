from fw.python import usage


class Options(usage.Options):
    def __init__(self):
        usage.Options.__init__(self)
        self["symbols"] = []

    def opt_define(self, symbol):
        self["symbols"].append(symbol)

    opt_D = opt_define


# Added to run the example.
options = Options()
options.parseOptions(["-DFOO", "-DBAR", "--define", "BAZ", "--define=QUUX"])
print(options["symbols"])
