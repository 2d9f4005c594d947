"""
fw.web.static.File and Data on a real Site: ranges, conditional requests,
listings, index files, and every kind of path traversal attempt; with
http.client, requests and curl as clients.
"""

from __future__ import annotations

import email.parser
import errno
import gzip
import os
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fw.logger import capturedLogs
from fw.web import resource, static
from fw.web.test._threadedsite import ServerThread

CONTENT = bytes(range(256)) * 4096  # 1 MiB, bigger than a producer chunk


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "big.bin").write_bytes(CONTENT)
    (root / "hello.txt").write_bytes(b"hello world\n")
    (root / "page.html").write_bytes(b"<p>page</p>")
    (root / "sub" / "index.html").write_bytes(b"<p>index</p>")
    (root / "about.html").write_bytes(b"<p>about</p>")
    (root / "data.tar.gz").write_bytes(gzip.compress(b"tar"))
    (root / "café & <x>.txt").write_bytes(b"unicode")
    (root / "inner").symlink_to(root / "sub")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"SECRET")
    (root / "escape").symlink_to(outside)
    (root / "secretlink.txt").symlink_to(outside / "secret.txt")
    return root


@pytest.fixture
def site(tree: Path) -> Iterator[ServerThread]:
    with ServerThread(lambda reactor: static.File(str(tree))) as s:
        yield s


def test_wholeFile(site: ServerThread) -> None:
    status, headers, body = site.get("/big.bin")
    assert status == 200
    assert body == CONTENT
    assert headers["Content-Length"] == str(len(CONTENT))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["ETag"].startswith('"')
    assert headers["Last-Modified"].endswith("GMT")


def test_contentTypes(site: ServerThread) -> None:
    assert site.get("/hello.txt")[1]["Content-Type"] == "text/plain"
    assert site.get("/page.html")[1]["Content-Type"] == "text/html"
    headers, body = site.get("/data.tar.gz")[1:]
    assert headers["Content-Type"] == "application/x-tar"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == b"tar"


def test_head(site: ServerThread) -> None:
    status, headers, body = site.get("/big.bin", method="HEAD")
    assert status == 200
    assert body == b""
    assert headers["Content-Length"] == str(len(CONTENT))


def test_postNotAllowed(site: ServerThread) -> None:
    status, headers, _ = site.get("/hello.txt", method="POST")
    assert status == 405
    assert "GET" in headers["Allow"]


def test_singleRange(site: ServerThread) -> None:
    status, headers, body = site.get("/big.bin", {"Range": "bytes=1000-300000"})
    assert status == 206
    assert body == CONTENT[1000:300001]
    assert headers["Content-Range"] == f"bytes 1000-300000/{len(CONTENT)}"


def test_suffixAndOpenRanges(site: ServerThread) -> None:
    assert site.get("/big.bin", {"Range": "bytes=-10"})[2] == CONTENT[-10:]
    assert site.get("/big.bin", {"Range": f"bytes={len(CONTENT) - 5}-"})[2] == CONTENT[-5:]
    assert site.get("/big.bin", {"Range": "bytes=0-99999999"})[2] == CONTENT


def test_multipleRanges(site: ServerThread) -> None:
    status, headers, body = site.get("/big.bin", {"Range": "bytes=0-9, 500000-799999, -3"})
    assert status == 206
    contentType = headers["Content-Type"]
    assert contentType.startswith("multipart/byteranges; boundary=")
    assert int(headers["Content-Length"]) == len(body)
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + contentType.encode() + b"\r\n\r\n" + body
    )
    parts = message.get_payload()
    assert isinstance(parts, list)
    assert [p.get_payload(decode=True) for p in parts] == [
        CONTENT[:10],
        CONTENT[500000:800000],
        CONTENT[-3:],
    ]
    assert parts[1]["Content-Range"] == f"bytes 500000-799999/{len(CONTENT)}"


def test_unsatisfiableRange(site: ServerThread) -> None:
    status, headers, body = site.get("/hello.txt", {"Range": "bytes=100-200"})
    assert status == 416
    assert headers["Content-Range"] == "bytes */12"
    assert body == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-1",
        "items=0-1",
        "bytes=" + ",".join(f"{i}-{i}" for i in range(100)),
        "bytes=0-,0-,0-",
    ],
)
def test_malformedOrAbusiveRangeServesWhole(site: ServerThread, header: str) -> None:
    status, _, body = site.get("/hello.txt", {"Range": header})
    assert status == 200
    assert body == b"hello world\n"


def test_ifRange(site: ServerThread) -> None:
    etag = site.get("/hello.txt")[1]["ETag"]
    assert site.get("/hello.txt", {"Range": "bytes=0-4", "If-Range": etag})[0] == 206
    status, _, body = site.get("/hello.txt", {"Range": "bytes=0-4", "If-Range": '"stale"'})
    assert (status, body) == (200, b"hello world\n")


def test_conditionalRequests(site: ServerThread) -> None:
    _, headers, _ = site.get("/hello.txt")
    etag, lastModified = headers["ETag"], headers["Last-Modified"]
    status, headers304, body = site.get("/hello.txt", {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers304["ETag"] == etag
    assert site.get("/hello.txt", {"If-Modified-Since": lastModified})[0] == 304
    assert site.get("/hello.txt", {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})[0] == 200
    assert site.get("/hello.txt", {"If-None-Match": '"other"'})[0] == 200
    assert site.get("/hello.txt", {"If-Match": '"other"'})[0] == 412
    assert site.get("/hello.txt", {"If-Match": etag})[0] == 200


def test_directoryRedirectAndIndex(site: ServerThread) -> None:
    status, headers, _ = site.get("/sub?x=1")
    assert status == 302
    assert headers["Location"] == "/sub/?x=1"
    assert site.get("/sub/")[2] == b"<p>index</p>"
    # A link inside the tree is followed.
    assert site.get("/inner/")[2] == b"<p>index</p>"


def test_listing(site: ServerThread) -> None:
    status, headers, body = site.get("/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode()
    assert 'href="hello.txt"' in text
    assert 'href="sub/"' in text
    # Names are escaped in text and quoted in links.
    assert "café &amp; &lt;x&gt;.txt" in text
    assert 'href="caf%C3%A9%20%26%20%3Cx%3E.txt"' in text
    # Links out of the tree are not listed.
    assert "escape" not in text
    assert "secretlink" not in text
    assert site.get("/caf%C3%A9%20%26%20%3Cx%3E.txt")[2] == b"unicode"


def test_emptyDirectoryListing(site: ServerThread) -> None:
    status, _, body = site.get("/empty/")
    assert status == 200
    assert b"Directory listing for /empty/" in body


def test_missing(site: ServerThread) -> None:
    assert site.get("/nope.txt")[0] == 404
    assert site.get("/hello.txt/child")[0] == 404


TRAVERSALS = [
    "/../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/..%2Foutside/secret.txt",
    "/sub/..%2f..%2foutside%2fsecret.txt",
    "/..%5coutside%5csecret.txt",
    "/escape/secret.txt",
    "/secretlink.txt",
    "/hello.txt%00.html",
    "/%00",
    "/./../outside/secret.txt",
    "/sub/../../outside/secret.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/%252e%252e/outside/secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversalRefused(site: ServerThread, path: str) -> None:
    status, _, body = site.get(path)
    assert status in (400, 403, 404), (path, status)
    assert b"SECRET" not in body
    assert b"root:" not in body


def test_traversalWithCurl(site: ServerThread, requirePeer: Callable[[str], str]) -> None:
    curl = requirePeer("curl")
    for path in TRAVERSALS:
        result = subprocess.run(
            [curl, "-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", site.url(path)],
            capture_output=True,
            timeout=10,
            check=False,
        )
        body, _, code = result.stdout.rpartition(b"\n")
        assert code in (b"400", b"403", b"404"), (path, code)
        assert b"SECRET" not in body


def test_followSymlinksOptIn(tree: Path) -> None:
    def makeRoot(reactor: Any) -> static.File:
        f = static.File(str(tree))
        f.followSymlinks = True
        return f

    with ServerThread(makeRoot) as s:
        assert s.get("/secretlink.txt")[2] == b"SECRET"
        assert s.get("/escape/secret.txt")[2] == b"SECRET"
        # .. stays refused even so.
        assert s.get("/%2e%2e/outside/secret.txt")[0] == 403


def test_ignoredExtsAndProcessors(tree: Path) -> None:
    (tree / "x.upper").write_bytes(b"shout")

    class Upper(resource.Resource):
        isLeaf = True

        def __init__(self, path: str, registry: Any) -> None:
            super().__init__()
            self.path = path

        def render_GET(self, request: Any) -> bytes:
            return Path(self.path).read_bytes().upper()

    def makeRoot(reactor: Any) -> static.File:
        f = static.File(str(tree), ignoredExts=(".html",))
        f.processors = {".upper": Upper}
        return f

    with ServerThread(makeRoot) as s:
        assert s.get("/about")[2] == b"<p>about</p>"
        assert s.get("/x.upper")[2] == b"SHOUT"
        assert s.get("/sub/")[2] == b"<p>index</p>"


def test_unreadableFileForbidden(tree: Path) -> None:
    # Simulated, since the tests may run as root, who reads everything.
    class Locked(static.File):
        def openForReading(self) -> Any:
            raise PermissionError(errno.EACCES, "Permission denied", self.path)

    with ServerThread(lambda reactor: Locked(str(tree))) as s:
        assert s.get("/hello.txt")[0] == 403


def test_data() -> None:
    def makeRoot(reactor: Any) -> resource.Resource:
        root = resource.Resource()
        root.putChild(b"d", static.Data(b"some data", "text/plain"))
        return root

    with ServerThread(makeRoot) as s:
        status, headers, body = s.get("/d")
        assert (status, body) == (200, b"some data")
        assert headers["Content-Type"] == "text/plain"
        assert headers["Content-Length"] == "9"
        assert s.get("/d", method="HEAD")[2] == b""


def test_curlRangesAndConditional(
    site: ServerThread, requirePeer: Callable[[str], str], tmp_path: Path
) -> None:
    curl = requirePeer("curl")
    out = subprocess.run(
        [curl, "-s", "-r", "10-19", site.url("/big.bin")],
        capture_output=True,
        timeout=10,
        check=True,
    )
    assert out.stdout == CONTENT[10:20]
    # curl -z: If-Modified-Since from a file's time; a newer file gives 304.
    stamp = tmp_path / "stamp"
    stamp.write_bytes(b"")
    out = subprocess.run(
        [
            curl,
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-z",
            str(stamp),
            site.url("/hello.txt"),
        ],
        capture_output=True,
        timeout=10,
        check=True,
    )
    assert out.stdout == b"304"
    # Resuming a download with -C.
    partial = tmp_path / "partial"
    partial.write_bytes(CONTENT[:12345])
    subprocess.run(
        [curl, "-s", "-C", "-", "-o", str(partial), site.url("/big.bin")], timeout=10, check=True
    )
    assert partial.read_bytes() == CONTENT


def test_requestsClient(site: ServerThread, requireModule: Callable[[str], Any]) -> None:
    requests = requireModule("requests")
    response = requests.get(site.url("/big.bin"), headers={"Range": "bytes=0-0,2-2"}, timeout=10)
    assert response.status_code == 206
    assert b"Content-Range: bytes 2-2/" in response.content
    response = requests.get(site.url("/hello.txt"), timeout=10)
    assert response.text == "hello world\n"


def test_clientGoneMidDownload(tree: Path) -> None:
    big = tree / "huge.bin"
    big.write_bytes(b"x" * (32 * 1024 * 1024))
    with ServerThread(lambda reactor: static.File(str(tree))) as s, capturedLogs() as events:
        sock = socket.create_connection(("127.0.0.1", s.portNumber), timeout=10)
        sock.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        # The server notices, stops producing and closes the file; it keeps
        # serving others.
        assert s.get("/hello.txt")[2] == b"hello world\n"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _openCount(big):
            time.sleep(0.02)
        assert _openCount(big) == 0
    assert not [e for e in events if e.get("log_failure") is not None]


def _openCount(path: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            pass
    return count


def test_specialFilesRefused(tree: Path) -> None:
    os.mkfifo(tree / "fifo")
    (tree / "zero").symlink_to("/dev/zero")

    def makeRoot(reactor: Any) -> static.File:
        f = static.File(str(tree))
        f.followSymlinks = True
        return f

    with ServerThread(makeRoot) as s:
        # Opening a FIFO without a writer would block the reactor thread.
        assert s.get("/fifo")[0] == 403
        assert s.get("/zero")[0] == 403
