"""inlineCallbacks: Deferred code written as a generator that yields Deferreds."""

from fw.internet.defer import Deferred, inlineCallbacks, succeed

pending = []


def slowDouble(x):
    d = Deferred()
    pending.append((d, x * 2))
    return d


def check(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return succeed(x)


@inlineCallbacks
def compute(x):
    try:
        checked = yield check(x)
    except ValueError as e:
        print("rejected:", e)
        return None
    doubled = yield slowDouble(checked)
    quadrupled = yield slowDouble(doubled)
    return quadrupled


d = compute(5)
print("waiting:", not d.called)
while pending:
    deferred, value = pending.pop(0)
    deferred.callback(value)
print("compute(5) ->", d.result)

d = compute(-1)
print("compute(-1) ->", d.result)
