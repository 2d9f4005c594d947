"""Cancelling: a Deferred's canceller stops the work; waiting code is told."""

from fw.internet.defer import CancelledError, Deferred

operations = []


def startDownload(name):
    def stop(d):
        print(f"stopping the download of {name}")
        operations.remove(d)

    d = Deferred(stop)
    operations.append(d)
    return d


d = startDownload("big.iso")
d.addCallback(lambda data: print("downloaded", len(data), "bytes"))
d.addErrback(lambda failure: failure.trap(CancelledError) and print("download cancelled"))
d.cancel()
print("operations still running:", len(operations))

# Cancelling a Deferred that waits on another cancels that one.
inner = startDownload("part 2")
outer = Deferred()
outer.addCallback(lambda _: inner)
outer.callback(None)
outer.addErrback(lambda failure: print("outer saw", failure.type.__name__))
outer.cancel()
