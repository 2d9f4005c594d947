"""Callbacks and errbacks: how a result, or a failure, travels down the chain."""

from fw.internet.defer import Deferred


class NotFound(Exception):
    pass


def lookUp(name):
    print(f"looking up {name!r}")
    if name == "nobody":
        raise NotFound(name)
    return {"name": name, "uid": 1000}


def uidOf(record):
    return record["uid"]


def notFound(failure):
    # Handle NotFound; anything else goes on to the next errback.
    failure.trap(NotFound)
    print("not found:", failure.getErrorMessage())
    return -1


def show(uid):
    print("uid:", uid)


for name in ["alice", "nobody"]:
    d = Deferred()
    d.addCallback(lookUp)
    d.addCallback(uidOf)
    d.addErrback(notFound)
    d.addCallback(show)
    d.callback(name)

print()
# addCallbacks(cb, eb) is not addCallback(cb).addErrback(eb):
# with the pair, eb does not see what cb raises.


def failing(result):
    raise ValueError("cb failed")


def handler(label):
    def handle(failure):
        print(f"{label} got {failure.type.__name__}")
        return f"handled by {label}"

    return handle


pair = Deferred()
pair.addCallbacks(failing, handler("the pair's errback"))
pair.addErrback(handler("the next errback"))
pair.callback("x")
print("with addCallbacks:", pair.result)

separate = Deferred()
separate.addCallback(failing)
separate.addErrback(handler("the next errback"))
separate.callback("x")
print("with addCallback + addErrback:", separate.result)

print()
# A failure nobody handles stays in the Deferred, as its result.
d = Deferred()
d.addCallback(lookUp)
d.callback("nobody")
print("unhandled so far:", d.result.type.__name__)
d.addErrback(lambda failure: print("handled at last:", failure.getErrorMessage()))
