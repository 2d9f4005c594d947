"""A callback that returns a Deferred: the chain waits for it, then goes on."""

from fw.internet.defer import Deferred

requests = {}


def request(what):
    """Pretend to send a request; its answer comes later."""
    print(f"requesting {what}")
    d = Deferred()
    requests[what] = d
    return d


def gotUser(user):
    print(f"got user {user}; now fetching their profile")
    # Returning a Deferred from a callback: the outer chain pauses here.
    return request(f"profile of {user}")


def gotProfile(profile):
    print(f"got profile: {profile}")
    return len(profile)


d = request("user 42")
d.addCallback(gotUser)
d.addCallback(gotProfile)

requests.pop("user 42").callback("alice")
print("outer Deferred waiting:", d.paused == 1)

requests.pop("profile of alice").callback("likes tea")
print("outer result:", d.result)

# The inner Deferred can fail too: the failure continues down the outer chain.
d = request("user 7")
d.addCallback(gotUser)
d.addCallback(gotProfile)
d.addErrback(lambda failure: print("outer chain caught:", failure.getErrorMessage()))
requests.pop("user 7").callback("bob")
requests.pop("profile of bob").errback(LookupError("no profile for bob"))
