# Twisted's docs/core/howto/listings/process/trueandfalse.py (the "Using
# Processes" howto), ported: "twisted" became "fw" in the imports, and the %
# formatting f-strings.

from fw.internet import reactor, utils


def printTrueValue(val):
    print(f"/bin/true exits with rc={val}")
    output = utils.getProcessValue("/bin/false")
    output.addCallback(printFalseValue)


def printFalseValue(val):
    print(f"/bin/false exits with rc={val}")
    reactor.stop()


output = utils.getProcessValue("/bin/true")
output.addCallback(printTrueValue)
reactor.run()
