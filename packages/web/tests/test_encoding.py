"""
Response encodings (fw.web._encoding): gzip and brotli through
EncodingResourceWrapper, checked with curl --compressed, requests and
http.client.
"""

from __future__ import annotations

import gzip
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fw.web import resource, server, static
from fw.web._encoding import BrotliEncoderFactory, GzipEncoderFactory, brotliAvailable
from fw.web.test._threadedsite import ServerThread

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


def test_brotliPreferredWhenFirst(tmp_path: Path, requireModule: Callable[[str], Any]) -> None:
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


def test_requestsDecodes(tmp_path: Path, requireModule: Callable[[str], Any]) -> None:
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
