"""fw.cred: HTTP Digest authentication (RFC 7616), against curl and Python's urllib."""

from __future__ import annotations

import hashlib
import http.server
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fw.cred import checkers, credentials, error
from fw.cred.credentials import DigestCredentialFactory
from fw.internet.defer import Deferred
from fw.python.failure import Failure

ALGORITHMS = [
    b"MD5",
    b"MD5-sess",
    b"SHA-256",
    b"SHA-256-sess",
    b"SHA-512-256",
    b"SHA-512-256-sess",
]


def successResultOf(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def H(algorithm: bytes, data: str) -> str:
    name = algorithm.upper().removesuffix(b"-SESS").decode()
    table = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
    return hashlib.new(table[name], data.encode()).hexdigest()


def clientResponse(
    challenge: dict[str, bytes],
    username: str,
    password: str,
    method: str = "GET",
    uri: str = "/dir/index.html",
    cnonce: str = "0a4f113b",
    nc: str = "00000001",
) -> bytes:
    """A response computed straight from RFC 7616 section 3.4, independently of fw."""
    alg = challenge["algorithm"]
    realm = challenge["realm"].decode()
    nonce = challenge["nonce"].decode()
    ha1 = H(alg, f"{username}:{realm}:{password}")
    if alg.upper().endswith(b"-SESS"):
        ha1 = H(alg, f"{ha1}:{nonce}:{cnonce}")
    ha2 = H(alg, f"{method}:{uri}")
    response = H(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'algorithm={alg.decode()}, qop=auth, nc={nc}, cnonce="{cnonce}", '
        f'response="{response}", opaque="{challenge["opaque"].decode()}"'
    ).encode()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_roundTrip(algorithm: bytes) -> None:
    factory = DigestCredentialFactory(algorithm.lower(), b"http-auth@example.org")
    challenge = factory.getChallenge("10.0.0.1")
    assert challenge["algorithm"] == algorithm
    assert challenge["qop"] == b"auth"
    creds = factory.decode(
        clientResponse(challenge, "Mufasa", "Circle of Life"), b"GET", "10.0.0.1"
    )
    assert credentials.IUsernameDigestHash.providedBy(creds)
    assert creds.username == b"Mufasa"
    assert creds.checkPassword(b"Circle of Life")
    assert not creds.checkPassword(b"Circle of life")
    ha1 = H(algorithm, "Mufasa:http-auth@example.org:Circle of Life").encode()
    assert creds.checkHash(ha1)
    assert not creds.checkHash(b"0" * len(ha1))
    checker = checkers.InMemoryUsernamePasswordDatabase(Mufasa="Circle of Life")
    assert successResultOf(checker.requestAvatarId(creds)) == b"Mufasa"


def test_rfc7616Example() -> None:
    # RFC 7616 section 3.9.1, SHA-256, with the RFC's nonce and cnonce.
    fields = {
        "username": b"Mufasa",
        "realm": b"http-auth@example.org",
        "uri": b"/dir/index.html",
        "algorithm": b"SHA-256",
        "nonce": b"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "nc": b"00000001",
        "cnonce": b"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "qop": b"auth",
        "response": b"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    }
    creds = credentials.DigestedCredentials(b"Mufasa", b"GET", b"http-auth@example.org", fields)
    assert creds.checkPassword(b"Circle of Life")
    fields["algorithm"] = b"MD5"
    fields["response"] = b"8ca523f5e9506fed4657c9700eebdbec"
    assert creds.checkPassword(b"Circle of Life")


def goodPair() -> tuple[DigestCredentialFactory, dict[str, bytes]]:
    factory = DigestCredentialFactory(b"sha-256", b"realm")
    return factory, factory.getChallenge(b"127.0.0.1")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.replace(b'username="u", ', b""), "no username"),
        (lambda r: r.split(b", opaque=")[0], "no opaque"),
        (lambda r: r.replace(b"nonce=", b"xnonce=", 1), "no nonce"),
        (lambda r: r.replace(b"algorithm=SHA-256", b"algorithm=MD5"), "was not offered"),
        (lambda r: r.replace(b"qop=auth", b"qop=auth-int"), "qop=auth"),
        (lambda r: r + b", userhash=true", "userhash"),
        (lambda r: r + b", qop=auth", "twice"),
        (lambda r: r + b", broken", "malformed"),
        (lambda r: r + b', x="unterminated', "unterminated"),
        (lambda r: r.replace(b'opaque="', b'opaque="AA'), "invalid opaque"),
        (lambda r: r.replace(b'opaque="', b'opaque="nodash'), "invalid opaque"),
    ],
)
def test_malformedResponsesAreRefused(mutate: Callable[[bytes], bytes], message: str) -> None:
    factory, challenge = goodPair()
    response = mutate(clientResponse(challenge, "u", "p"))
    with pytest.raises(error.LoginFailed, match=message):
        factory.decode(response, b"GET", b"127.0.0.1")


def test_wrongNonceAddressOrFactory() -> None:
    factory, challenge = goodPair()
    other = dict(challenge, nonce=factory.getChallenge(b"127.0.0.1")["nonce"])
    with pytest.raises(error.LoginFailed, match="opaque/nonce"):
        factory.decode(clientResponse(other, "u", "p"), b"GET", b"127.0.0.1")
    with pytest.raises(error.LoginFailed, match="client address"):
        factory.decode(clientResponse(challenge, "u", "p"), b"GET", b"127.0.0.2")
    # Another factory (another key) did not make this opaque.
    stranger = DigestCredentialFactory(b"sha-256", b"realm")
    with pytest.raises(error.LoginFailed, match="invalid opaque"):
        stranger.decode(clientResponse(challenge, "u", "p"), b"GET", b"127.0.0.1")
    # A forged opaque: the right shape, the wrong signature.
    forged = challenge["opaque"].replace(challenge["opaque"][:4], b"0000", 1)
    with pytest.raises(error.LoginFailed, match="invalid opaque"):
        factory.decode(
            clientResponse(dict(challenge, opaque=forged), "u", "p"), b"GET", b"127.0.0.1"
        )


def test_staleChallenge(monkeypatch: pytest.MonkeyPatch) -> None:
    factory, challenge = goodPair()
    now = factory._getTime()
    monkeypatch.setattr(factory, "_getTime", lambda: now + factory.CHALLENGE_LIFETIME_SECS + 5)
    with pytest.raises(error.LoginFailed, match="too old"):
        factory.decode(clientResponse(challenge, "u", "p"), b"GET", b"127.0.0.1")


def test_oversizedHeader() -> None:
    factory, challenge = goodPair()
    response = clientResponse(challenge, "u", "p") + b', x="' + b"a" * 10000 + b'"'
    with pytest.raises(error.LoginFailed, match="longer than"):
        factory.decode(response, b"GET", b"127.0.0.1")
    many = b", ".join(b"p%d=1" % i for i in range(100))
    with pytest.raises(error.LoginFailed, match="too many"):
        factory.decode(many, b"GET", b"127.0.0.1")


def test_quotedPairsAndLineBreaks() -> None:
    factory = DigestCredentialFactory(b"md5", b"realm")
    challenge = factory.getChallenge(None)
    response = clientResponse(challenge, 'quo"te', "pw").replace(b'quo"te', b'quo\\"te')
    creds = factory.decode(response.replace(b", ", b",\r\n "), b"GET", None)
    assert creds.username == b'quo"te'
    assert creds.checkPassword(b"pw")


def test_unsupportedAlgorithm() -> None:
    with pytest.raises(ValueError):
        DigestCredentialFactory(b"sha-1", b"realm")


@given(st.binary(max_size=600))
def test_fuzzOnlyLoginFailed(data: bytes) -> None:
    factory = DigestCredentialFactory(b"md5", b"realm")
    try:
        creds = factory.decode(data, b"GET", b"127.0.0.1")
    except error.LoginFailed:
        return
    creds.checkPassword(b"x")


@given(
    st.dictionaries(
        st.sampled_from(
            ["username", "nonce", "opaque", "response", "qop", "cnonce", "nc", "algorithm", "uri"]
        ),
        st.binary(max_size=40),
    )
)
def test_fuzzStructuredOnlyLoginFailed(fields: dict[str, bytes]) -> None:
    factory = DigestCredentialFactory(b"md5", b"realm")
    text = b", ".join(
        k.encode() + b'="' + v.replace(b"\\", b"").replace(b'"', b"") + b'"'
        for k, v in fields.items()
    )
    try:
        factory.decode(text, b"GET", b"127.0.0.1")
    except error.LoginFailed:
        pass


class _DigestServer(http.server.ThreadingHTTPServer):
    factory: DigestCredentialFactory
    checker: Any


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _DigestServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme.lower() == "digest":
            try:
                creds = self.server.factory.decode(
                    rest.encode(), self.command.encode(), self.client_address[0]
                )
            except error.LoginFailed:
                creds = None
            if creds is not None and creds.fields.get("uri") == self.path.encode():
                results: list[Any] = []
                self.server.checker.requestAvatarId(creds).addBoth(results.append)
                if results and isinstance(results[0], bytes):
                    body = b"hello " + results[0]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
        challenge = self.server.factory.getChallenge(self.client_address[0])
        value = ", ".join(
            f'{k}="{v.decode()}"' if k != "algorithm" else f"{k}={v.decode()}"
            for k, v in challenge.items()
        )
        self.send_response(401)
        self.send_header("WWW-Authenticate", "Digest " + value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def digestServer() -> Iterator[Callable[[bytes], str]]:
    servers: list[_DigestServer] = []

    def start(algorithm: bytes) -> str:
        server = _DigestServer(("127.0.0.1", 0), _Handler)
        server.factory = DigestCredentialFactory(algorithm, b"fw test")
        server.checker = checkers.InMemoryUsernamePasswordDatabase(alice="s3cret")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/private?x=1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# curl learnt SHA-512-256 only in 8.8; the other algorithms are older.
@pytest.mark.parametrize("algorithm", [b"MD5", b"MD5-sess", b"SHA-256", b"SHA-256-sess"])
def test_curl(
    requirePeer: Callable[[str], str], digestServer: Callable[[bytes], str], algorithm: bytes
) -> None:
    curl = requirePeer("curl")
    url = digestServer(algorithm)
    for password, expected in [("s3cret", "hello alice\n200"), ("wrong", "\n401")]:
        out = subprocess.run(
            [curl, "-s", "--digest", "-u", f"alice:{password}", "-w", "\n%{http_code}", url],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert out.stdout == expected, out


def test_urllib(digestServer: Callable[[bytes], str]) -> None:
    url = digestServer(b"md5")
    for password, ok in [("s3cret", True), ("wrong", False)]:
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, url, "alice", password)
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
        if ok:
            with opener.open(url, timeout=10) as response:
                assert response.read() == b"hello alice"
        else:
            with pytest.raises(urllib.error.HTTPError) as info:
                opener.open(url, timeout=10)
            assert info.value.code == 401
            info.value.close()
