"""
fw.web.guard: HTTP Basic and Digest authentication through fw.cred, with
curl and requests as clients.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from zope.interface import implementer

from fw.cred import error
from fw.cred.checkers import AllowAnonymousAccess, InMemoryUsernamePasswordDatabaseDontUse
from fw.cred.portal import IRealm, Portal
from fw.logger import capturedLogs
from fw.web import guard, resource, static
from fw.web.test._threadedsite import ServerThread

LOGOUTS: list[bytes] = []


@implementer(IRealm)
class Realm:
    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: Any) -> Any:
        if resource.IResource not in interfaces:
            raise NotImplementedError()
        if avatarId == b"denied":
            raise error.LoginDenied("no")
        name = b"anonymous" if avatarId is ANONYMOUS_ID else avatarId
        root = resource.Resource()
        root.putChild(b"", static.Data(b"hello " + name, "text/plain"))
        root.putChild(b"leaf", static.Data(b"leaf for " + name, "text/plain"))
        return resource.IResource, root, lambda: LOGOUTS.append(name)


ANONYMOUS_ID: Any = ()


def makeSite(anonymous: bool = False, factories: Any = None) -> Callable[[Any], Any]:
    def makeRoot(reactor: Any) -> Any:
        checkers: list[Any] = [
            InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret", denied=b"x")
        ]
        if anonymous:
            checkers.append(AllowAnonymousAccess())
        portal = Portal(Realm(), checkers)
        wrapper = guard.HTTPAuthSessionWrapper(
            portal,
            factories
            if factories is not None
            else [
                guard.BasicCredentialFactory("example"),
                guard.DigestCredentialFactory("md5", "example"),
            ],
        )
        root = resource.Resource()
        root.putChild(b"private", wrapper)
        return root

    return makeRoot


@pytest.fixture
def site() -> Iterator[ServerThread]:
    with ServerThread(makeSite()) as s:
        yield s


def basic(user: bytes, password: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user + b":" + password).decode()}


def test_challenges(site: ServerThread) -> None:
    status, headers, body = site.get("/private/")
    assert status == 401
    assert body == b"Unauthorized"
    challenges = headers.get_all("WWW-Authenticate")
    assert challenges[0] == 'Basic realm="example"'
    assert challenges[1].startswith("Digest ")
    assert 'realm="example"' in challenges[1]
    assert 'qop="auth"' in challenges[1]


def test_basicSuccess(site: ServerThread) -> None:
    LOGOUTS.clear()
    status, _, body = site.get("/private/", basic(b"alice", b"secret"))
    assert (status, body) == (200, b"hello alice")
    assert site.get("/private/leaf", basic(b"alice", b"secret"))[2] == b"leaf for alice"
    # Logout runs when the response finishes, in the server's thread.
    deadline = time.monotonic() + 5
    while len(LOGOUTS) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert LOGOUTS == [b"alice", b"alice"]


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"alice:wrong").decode(),
        "Basic " + base64.b64encode(b"nobody:secret").decode(),
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic !!!notbase64!!!",
        "Basic",
        "Bearer token",
        "Basic " + "A" * 10000,
        "Digest garbage",
        (
            'Digest username="alice", nonce="x", opaque="forged-Zm9v", response="00", '
            "qop=auth, nc=1, cnonce=x"
        ),
    ],
)
def test_refused(site: ServerThread, header: str) -> None:
    assert site.get("/private/", {"Authorization": header})[0] == 401


def test_loginDenied(site: ServerThread) -> None:
    assert site.get("/private/", basic(b"denied", b"x"))[0] == 401


def test_anonymous() -> None:
    with ServerThread(makeSite(anonymous=True)) as s:
        assert s.get("/private/")[2] == b"hello anonymous"


def test_curlBasicAndDigest(site: ServerThread, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    for flag in ("--basic", "--digest"):
        out = subprocess.run(
            [curl, "-s", flag, "-u", "alice:secret", site.url("/private/leaf")],
            capture_output=True,
            timeout=10,
            check=True,
        )
        assert out.stdout == b"leaf for alice", flag
        out = subprocess.run(
            [
                curl,
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                flag,
                "-u",
                "alice:bad",
                site.url("/private/"),
            ],
            capture_output=True,
            timeout=10,
            check=True,
        )
        assert out.stdout == b"401", flag


@pytest.mark.parametrize("algorithm", ["md5", "sha-256"])
def test_requestsDigest(algorithm: str, requireModule: Callable[[str], Any]) -> None:
    requests = requireModule("requests")
    from requests.auth import HTTPDigestAuth

    with ServerThread(
        makeSite(factories=[guard.DigestCredentialFactory(algorithm, "example")])
    ) as s:
        r = requests.get(s.url("/private/"), auth=HTTPDigestAuth("alice", "secret"), timeout=10)
        assert (r.status_code, r.text) == (200, "hello alice")
        r = requests.get(s.url("/private/"), auth=HTTPDigestAuth("alice", "nope"), timeout=10)
        assert r.status_code == 401


def test_factoryErrorIs500(site: ServerThread) -> None:
    class Broken(guard.BasicCredentialFactory):
        def decode(self, response: bytes, request: Any) -> Any:
            raise ZeroDivisionError()

    with ServerThread(makeSite(factories=[Broken("x")])) as s, capturedLogs():
        assert s.get("/private/", basic(b"a", b"b"))[0] == 500


def test_basicDecode() -> None:
    factory = guard.BasicCredentialFactory(b"realm")
    creds = factory.decode(base64.b64encode(b"user:pa:ss"), None)
    assert (creds.username, creds.password) == (b"user", b"pa:ss")
    # Missing padding is tolerated.
    creds = factory.decode(base64.b64encode(b"ab:c").rstrip(b"="), None)
    assert creds.username == b"ab"
    with pytest.raises(error.LoginFailed):
        factory.decode(b"###", None)
