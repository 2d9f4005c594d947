"""
Response encodings (fw.web._encoding): gzip and brotli through
EncodingResourceWrapper, checked with curl --compressed, requests and
http.client.
"""

from __future__ import annotations

import gzip
import http.client
import importlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fw.internet.epollreactor import EPollReactor
from fw.web import resource, server, static
from fw.web._encoding import BrotliEncoderFactory, GzipEncoderFactory, brotliAvailable


class ServerThread:
    """A Site on 127.0.0.1 served by a reactor running in a thread."""

    def __init__(self, makeRoot: Callable[[Any], Any]) -> None:
        self.reactor = EPollReactor()
        self.makeRoot = makeRoot
        self.port: Any = None

    def __enter__(self) -> ServerThread:
        ready = threading.Event()

        def setup() -> None:
            self.site = server.Site(self.makeRoot(self.reactor))
            self.port = self.reactor.listenTCP(0, self.site, interface="127.0.0.1")
            ready.set()

        self.reactor.callWhenRunning(setup)
        self.thread = threading.Thread(
            target=self.reactor.run, kwargs={"installSignalHandlers": False}
        )
        self.thread.start()
        assert ready.wait(10), "server did not start"
        return self

    @property
    def portNumber(self) -> int:
        return int(self.port.getHost().port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.portNumber}{path}"

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            self.port.stopListening()
            self.reactor.stop()

        self.reactor.callFromThread(stop)
        self.thread.join(10)
        assert not self.thread.is_alive()
        if self.reactor.threadpool is not None:
            self.reactor.threadpool.stop()

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, Any, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.portNumber, timeout=10)
        try:
            conn.putrequest(
                method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True
            )
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()


def requireModule(name: str) -> Any:
    """Import a peer library; skip without it, fail if FW_REQUIRE_PEERS=1 (as in CI)."""
    if os.environ.get("FW_REQUIRE_PEERS") == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)


@pytest.fixture(name="requirePeer")
def requirePeerFixture() -> Callable[[str], str]:
    """As fw-core's fixture: skip without the program, fail if FW_REQUIRE_PEERS=1."""

    def require(program: str) -> str:
        path = shutil.which(program)
        if path is None:
            message = f"peer program {program!r} is not installed"
            if os.environ.get("FW_REQUIRE_PEERS") == "1":
                pytest.fail(message + " (FW_REQUIRE_PEERS=1)")
            pytest.skip(message)
        return path

    return require


TEXT = b"All work and no play makes Jack a dull boy.\n" * 2000


class Streaming(resource.Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> int:
        for i in range(0, len(TEXT), 7000):
            request.write(TEXT[i : i + 7000])
        request.finish()
        return server.NOT_DONE_YET


def makeRoot(tmp: Path, factories: list[Any]) -> Callable[[Any], Any]:
    (tmp / "text.txt").write_bytes(TEXT)
    (tmp / "pre.txt.gz").write_bytes(gzip.compress(b"already compressed"))

    def make(reactor: Any) -> Any:
        root = resource.Resource()
        root.putChild(
            b"data", resource.EncodingResourceWrapper(static.Data(TEXT, "text/plain"), factories)
        )
        root.putChild(b"stream", resource.EncodingResourceWrapper(Streaming(), factories))
        # As in Twisted, the wrapper encodes what it renders itself, not
        # the children traversal finds below it: wrap each file.
        files = resource.Resource()
        for name in ("text.txt", "pre.txt.gz"):
            wrapped = resource.EncodingResourceWrapper(static.File(str(tmp / name)), factories)
            files.putChild(name.encode(), wrapped)
        root.putChild(b"files", files)
        return root

    return make


def test_gzip(tmp_path: Path) -> None:
    with ServerThread(makeRoot(tmp_path, [GzipEncoderFactory()])) as s:
        for path in ("/data", "/stream"):
            status, headers, body = s.get(path, {"Accept-Encoding": "gzip, deflate"})
            assert status == 200
            assert headers["Content-Encoding"] == "gzip"
            assert "Accept-Encoding" in headers["Vary"]
            assert len(body) < len(TEXT) // 10
            assert gzip.decompress(body) == TEXT
        # Not accepted: identity.
        for accept in (None, "br", "gzip;q=0", "identity"):
            status, headers, body = s.get("/data", {"Accept-Encoding": accept} if accept else {})
            assert body == TEXT, accept
            assert "Content-Encoding" not in headers


def test_rangesAndPrecompressedUntouched(tmp_path: Path) -> None:
    with ServerThread(makeRoot(tmp_path, [GzipEncoderFactory()])) as s:
        status, headers, body = s.get(
            "/files/text.txt", {"Accept-Encoding": "gzip", "Range": "bytes=0-9"}
        )
        assert (status, body) == (206, TEXT[:10])
        assert "Content-Encoding" not in headers
        status, headers, body = s.get("/files/pre.txt.gz", {"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == b"already compressed"
        status, headers, body = s.get("/files/text.txt", {"Accept-Encoding": "gzip"})
        assert gzip.decompress(body) == TEXT
        assert "Content-Length" not in headers or int(headers["Content-Length"]) == len(body)


def test_brotliPreferredWhenFirst(tmp_path: Path) -> None:
    brotli = requireModule("brotli")
    assert brotliAvailable

    factories = [BrotliEncoderFactory(), GzipEncoderFactory()]
    with ServerThread(makeRoot(tmp_path, factories)) as s:
        _, headers, body = s.get("/stream", {"Accept-Encoding": "gzip, br"})
        assert headers["Content-Encoding"] == "br"
        assert brotli.decompress(body) == TEXT
        headers = s.get("/data", {"Accept-Encoding": "gzip"})[1]
        assert headers["Content-Encoding"] == "gzip"


def test_curlCompressed(tmp_path: Path, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    with ServerThread(makeRoot(tmp_path, [GzipEncoderFactory()])) as s:
        out = subprocess.run(
            [curl, "-s", "--compressed", s.url("/stream")],
            capture_output=True,
            timeout=10,
            check=True,
        )
        assert out.stdout == TEXT


def test_requestsDecodes(tmp_path: Path) -> None:
    requests = requireModule("requests")
    with ServerThread(makeRoot(tmp_path, [GzipEncoderFactory(compressLevel=1)])) as s:
        r = requests.get(s.url("/data"), timeout=10)
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.content == TEXT


def test_brotliNeedsPackage(monkeypatch: pytest.MonkeyPatch) -> None:
    from fw.web import _encoding

    monkeypatch.setattr(_encoding, "_brotli", None)
    with pytest.raises(RuntimeError, match="brotli"):
        BrotliEncoderFactory()
