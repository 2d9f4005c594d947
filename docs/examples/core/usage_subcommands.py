import sys

from fw.python import usage


# Added to run the example: what the two commands do, and a command line.
def doImport(options):
    print("import", options["module"], options["vendor"], options["release"])


def doCheckout(options):
    print("checkout", options["module"], "at", options["tag"])
    print("compression", options.parent["compression"])


sys.argv[1:] = ["-z", "9", "checkout", "-m", "fw", "-r", "v1.0"]


class ImportOptions(usage.Options):
    optParameters = [
        ["module", "m", None, None],
        ["vendor", "v", None, None],
        ["release", "r", None],
    ]


class CheckoutOptions(usage.Options):
    optParameters = [["module", "m", None, None], ["tag", "r", None, None]]


class Options(usage.Options):
    subCommands = [
        ["import", None, ImportOptions, "Do an Import"],
        ["checkout", None, CheckoutOptions, "Do a Checkout"],
    ]

    optParameters = [
        ["compression", "z", 0, "Use compression"],
        ["repository", "r", None, "Specify an alternate repository"],
    ]


config = Options()
config.parseOptions()
if config.subCommand == "import":
    doImport(config.subOptions)
elif config.subCommand == "checkout":
    doCheckout(config.subOptions)
