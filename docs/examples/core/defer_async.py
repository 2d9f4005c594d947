"""async/await: coroutines await Deferreds, and ensureDeferred turns them into one."""

from fw.internet.defer import Deferred, ensureDeferred, succeed

pending = []


def fetch(url):
    """Pretend network call: a Deferred fired later with the page."""
    d = Deferred()
    pending.append((d, url))
    return d


async def pageLengths(urls):
    lengths = {}
    for url in urls:
        page = await fetch(url)
        lengths[url] = len(page)
    cached = await succeed("already here")
    lengths["cache"] = len(cached)
    return lengths


async def failing():
    await succeed(None)
    raise RuntimeError("the coroutine failed")


d = ensureDeferred(pageLengths(["/a", "/bb"]))
d.addCallback(lambda lengths: print("lengths:", lengths))

while pending:
    deferred, url = pending.pop(0)
    print("serving", url)
    deferred.callback(f"<html>{url}</html>")

e = ensureDeferred(failing())
e.addErrback(lambda failure: print("failed with:", failure.getErrorMessage()))
