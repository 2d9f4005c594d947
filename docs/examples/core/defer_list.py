"""Waiting on several Deferreds: DeferredList and gatherResults."""

from fw.internet.defer import Deferred, DeferredList, FirstError, gatherResults

first, second, third = Deferred(), Deferred(), Deferred()
dl = DeferredList([first, second, third], consumeErrors=True)


def printResults(results):
    for success, value in results:
        if success:
            print("  success:", value)
        else:
            print("  failure:", value.getErrorMessage())


dl.addCallback(printResults)

# The list fires once all have fired, whatever the order.
third.callback("three")
first.errback(KeyError("one is missing"))
print("after two of three: fired =", dl.called)
second.callback("two")

# gatherResults: just the results, or the first failure.
a, b = Deferred(), Deferred()
gathered = gatherResults([a, b])
gathered.addCallback(lambda values: print("gathered:", values))
b.callback(2)
a.callback(1)

c, e = Deferred(), Deferred()
gathered = gatherResults([c, e], consumeErrors=True)


def firstError(failure):
    failure.trap(FirstError)
    error = failure.value
    print(f"Deferred #{error.index} failed:", error.subFailure.getErrorMessage())


gathered.addErrback(firstError)
e.errback(ValueError("bad value"))
c.callback("never seen")
